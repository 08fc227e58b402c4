"""Issue 3: the download tools people use, unchanged, against the server.

Each test runs a real client (curl, wget, aria2c, rclone, headless
Chromium) against the binary on 127.0.0.1 and compares what arrives with
the files byte for byte.  .ci/run installs every tool; a test skips only
when its tool is truly missing, and says which package provides it.
Every subprocess has a timeout.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import unittest

from harness import ServerTest, get, scaled


def tool(name, package):
    """The tool's path, or skip the test naming the package to install."""
    path = shutil.which(name)
    if path is None:
        raise unittest.SkipTest("'%s' is not installed (apt-get install %s; "
                                ".ci/run installs it)" % (name, package))
    return path


def run(cmd, timeout, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=scaled(timeout),
                          stdin=subprocess.DEVNULL, **kw)


def tree_files(root):
    """{relative path: bytes} for every regular file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


class Clients(ServerTest):
    # Names a mirror must get right: spaces, UTF-8, HTML and URL
    # metacharacters, quotes.
    ODD = ["中文 文件.pdf", "a&b #1 %.txt", "<script>.txt", "it's \"q\".txt",
           "plus+semi;colon:.txt", "~tilde (1).txt"]

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="lanhttpd-clients-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        for i, n in enumerate(self.ODD):
            self.write("tree/" + n, ("%d %s\n" % (i, n)).encode() * 50)
        self.write("tree/sub dir/nested.bin", os.urandom(200 * 1024))
        self.write("tree/sub dir/deeper/x.txt", b"deep")
        self.write("tree/文件夹/说明.txt", "你好".encode())
        self.write("tree/empty.txt", b"")
        self.write("outside.txt", b"must not be mirrored")
        self.log = os.path.join(self.tmp, "access.log")
        self.srv = self.serve(["-s", "log.access_log=" + self.log])
        self.url = "http://127.0.0.1:%d" % self.srv.port

    def statuses(self):
        with open(self.log) as f:
            return [line.split('" ')[1].split()[0] for line in f]

    def cutting_proxy(self, limit):
        """A one-shot loopback proxy to the server that drops the
        connection after forwarding limit response bytes: a download
        interrupted for real, mid-body.  Returns its port."""
        lsock = socket.socket()
        self.addCleanup(lsock.close)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(scaled(20))

        def serve():
            c, _ = lsock.accept()
            u = socket.create_connection(("127.0.0.1", self.srv.port),
                                         timeout=scaled(20))
            c.settimeout(scaled(20))
            try:
                req = b""
                while b"\r\n\r\n" not in req and len(req) < 65536:
                    chunk = c.recv(4096)
                    if not chunk:
                        return
                    req += chunk
                u.sendall(req)
                sent = 0
                while sent < limit:
                    chunk = u.recv(min(65536, limit - sent))
                    if not chunk:
                        break
                    c.sendall(chunk)
                    sent += len(chunk)
            finally:
                c.close()
                u.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.addCleanup(t.join, scaled(20))
        return lsock.getsockname()[1]

    def test_curl_resumes_an_interrupted_download(self):
        curl = tool("curl", "curl")
        data = os.urandom(8 * 1024 * 1024)
        self.write("big.bin", data)
        out = os.path.join(self.tmp, "big.bin")
        port = self.cutting_proxy(1024 * 1024)
        r = run([curl, "-s", "-o", out, "http://127.0.0.1:%d/big.bin" % port],
                60)
        # 18: "partial file", the transfer was cut short.
        self.assertEqual(r.returncode, 18, r.stderr)
        partial = os.path.getsize(out)
        self.assertGreater(partial, 0)
        self.assertLess(partial, len(data))
        r = run([curl, "-s", "-C", "-", "-o", out, "-w", "%{http_code}",
                 self.url + "/big.bin"], 60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"206")
        with open(out, "rb") as f:
            self.assertTrue(f.read() == data)
        self.srv.stop()
        self.assertIn("206", self.statuses())

    def test_wget_mirrors_the_tree_through_the_listing(self):
        wget = tool("wget", "wget")
        dest = os.path.join(self.tmp, "mirror")
        r = run([wget, "-r", "-np", "-nH", "-q", "-e", "robots=off",
                 "--restrict-file-names=nocontrol", "-R", "index.html*",
                 "--reject-regex", "[?]", "-P", dest, self.url + "/tree/"],
                120)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = tree_files(os.path.join(dest, "tree"))
        want = tree_files(os.path.join(self.root, "tree"))
        self.assertEqual(sorted(got), sorted(want))
        for k in want:
            self.assertTrue(got[k] == want[k], k)
        self.assertFalse(os.path.exists(os.path.join(dest, "outside.txt")))

    def test_aria2c_segmented_download_is_byte_exact(self):
        aria2c = tool("aria2c", "aria2")
        data = os.urandom(16 * 1024 * 1024)
        self.write("seg.bin", data)
        r = run([aria2c, "-x4", "-s4", "-k1M", "--disable-ipv6=true",
                 "--allow-overwrite=true", "--auto-file-renaming=false",
                 "--summary-interval=0", "--console-log-level=warn",
                 "-d", self.tmp, "-o", "seg.bin", self.url + "/seg.bin"], 120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(self.tmp, "seg.bin"), "rb") as f:
            self.assertTrue(f.read() == data)
        # It really came in several ranges.
        self.srv.stop()
        self.assertGreaterEqual(self.statuses().count("206"), 2)

    def test_rclone_copies_the_tree_through_the_listing(self):
        rclone = tool("rclone", "rclone")
        dest = os.path.join(self.tmp, "rclone")
        env = dict(os.environ, RCLONE_CONFIG=os.path.join(self.tmp, "none"))
        r = run([rclone, "copy", "--http-url", self.url + "/tree/", ":http:",
                 dest, "--retries", "1", "--low-level-retries", "1"], 120,
                env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = tree_files(dest)
        want = tree_files(os.path.join(self.root, "tree"))
        self.assertEqual(sorted(got), sorted(want))
        for k in want:
            self.assertTrue(got[k] == want[k], k)
        r = run([rclone, "lsf", "-R", "--http-url", self.url + "/tree/",
                 ":http:"], 60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = set(r.stdout.decode().splitlines())
        self.assertIn("sub dir/deeper/x.txt", listed)
        self.assertIn("中文 文件.pdf", listed)


class Browser(ServerTest):
    """Headless Chromium renders the listing: the DOM it builds and a
    screenshot of the page."""

    def chromium(self, *args):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if exe is None:
            raise unittest.SkipTest("'chromium' is not installed (apt-get "
                                    "install chromium; .ci/run installs it)")
        profile = tempfile.mkdtemp(prefix="lanhttpd-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        return run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--user-data-dir=" + profile] +
                   list(args), 90, cwd=profile)

    def setUp(self):
        super().setUp()
        self.write("share/<img src=x onerror=alert(1)>.txt", b"x")
        self.write("share/中文 文件.pdf", b"y" * 3000)
        self.write("share/Photos/a.jpg", b"z")
        self.srv = self.serve(["-s", "log.access_log=off"])
        self.url = "http://127.0.0.1:%d/share/" % self.srv.port

    def test_dom_has_names_as_text_not_markup(self):
        r = self.chromium("--dump-dom", self.url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        dom = r.stdout.decode()
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;.txt</a>", dom)
        # The one image is the folder's own QR code; the name made none.
        self.assertEqual(re.findall(r"<img[^>]*>", dom), [
            '<img src="?qr" width="240" height="240" loading="lazy" '
            'alt="QR code of this folder">'])
        self.assertIn(">中文 文件.pdf</a>", dom)
        self.assertIn('href="Photos/"', dom)

    def test_screenshot(self):
        shot = os.path.join(tempfile.mkdtemp(prefix="lanhttpd-shot-"),
                            "listing.png")
        self.addCleanup(shutil.rmtree, os.path.dirname(shot), True)
        r = self.chromium("--screenshot=" + shot, "--window-size=800,600",
                          self.url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        self.assertEqual((width, height), (800, 600))
        # A blank page compresses to almost nothing; a listing does not.
        self.assertGreater(len(png), 8000)


if __name__ == "__main__":
    unittest.main()
