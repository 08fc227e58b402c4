"""A folder as one download that can resume (issue 20): ?zip and ?tar.

A real lanhttpd serves a tree with nested and empty folders, UTF-8 and
long names, a megabyte of random bytes, a dotfile and a link out of the
root (neither of which may be in the archive).  The ZIP must pass four
independent readers (Python's zipfile, `unzip -t`, `bsdtar`, `7z t`) and
extract to exactly the tree; its Content-Length is known before the
first byte; a download cut anywhere resumes with `curl -C -` (Range) to
the same bytes, and If-Range with another ETag gets the whole archive
again.  The tar extracts with GNU tar to the same tree.  A file that
changes while the archive is sent ends the response short, never mixed.
A 100,000-file folder (ZIP64 for its entry count) starts within 1 s.
"""

import hashlib
import http.client
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import unittest
import zipfile

from harness import Conn, ServerTest, load_test, scaled

TOOLS = {t: shutil.which(t) for t in ("unzip", "bsdtar", "7z", "tar",
                                      "curl")}


def tree_files(top):
    """{relative path: bytes} of the regular files below top, and the set
    of folders."""
    files, dirs = {}, set()
    for d, subdirs, names in os.walk(top):
        rel = os.path.relpath(d, top)
        if rel != ".":
            dirs.add(rel)
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                files[os.path.normpath(os.path.join(rel, n))] = f.read()
    return files, dirs


class Base(ServerTest):
    def setUp(self):
        super().setUp()
        self.big = os.urandom(1 << 20)
        self.write("Trip/big.bin", self.big)
        self.write("Trip/notes.txt", b"notes\n")
        self.write("Trip/\u65c5\u884c/\u5199\u771f 1.jpg", os.urandom(3000))
        self.write("Trip/sub/deeper/" + "n" * 120 + ".txt", b"long name")
        self.write("Trip/.secret", b"hidden")
        os.makedirs(os.path.join(self.root, "Trip", "empty"))
        outside = self.root + "-outside"
        os.makedirs(outside)
        self.addCleanup(shutil.rmtree, outside, True)
        with open(os.path.join(outside, "leak.txt"), "wb") as f:
            f.write(b"outside")
        os.symlink(os.path.join(outside, "leak.txt"),
                   os.path.join(self.root, "Trip", "link-out"))
        self.srv = self.serve(["-s", "log.access_log=off"])
        self.tmp = tempfile.mkdtemp(prefix="lanhttpd-archive-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # What the archive must hold: the tree as a listing shows it.
        self.want_files = {k: v for k, v in tree_files(
            os.path.join(self.root, "Trip"))[0].items()
            if not k.startswith(".") and k != "link-out"}

    def fetch(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port,
                                       timeout=scaled(60))
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            r.body = r.read()
            return r
        finally:
            c.close()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.srv.port, path)

    def extracted(self, d):
        files, dirs = tree_files(d)
        return files, dirs


class Zip(Base):
    def test_four_readers_and_the_exact_tree(self):
        r = self.fetch("/Trip/?zip")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/zip")
        self.assertEqual(int(r.getheader("Content-Length")), len(r.body))
        self.assertEqual(r.getheader("Accept-Ranges"), "bytes")
        self.assertIn('filename="Trip.zip"',
                      r.getheader("Content-Disposition"))
        etag = r.getheader("ETag")
        self.assertTrue(etag.startswith('"'), etag)
        path = os.path.join(self.tmp, "Trip.zip")
        with open(path, "wb") as f:
            f.write(r.body)
        z = zipfile.ZipFile(path)
        self.assertIsNone(z.testzip())
        names = z.namelist()
        self.assertIn("empty/", names)
        for info in z.infolist():
            self.assertEqual(info.compress_type, zipfile.ZIP_STORED)
            self.assertTrue(info.flag_bits & 0x800, info.filename)  # UTF-8
        got = {n: z.read(n) for n in names if not n.endswith("/")}
        self.assertEqual(got, self.want_files)
        self.assertFalse(any(".secret" in n or "link-out" in n
                             for n in names))
        checked = ["zipfile"]
        if TOOLS["unzip"]:
            out = subprocess.run([TOOLS["unzip"], "-t", path],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("No errors detected", out.stdout)
            checked.append("unzip -t")
        if TOOLS["7z"]:
            out = subprocess.run([TOOLS["7z"], "t", path],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("Everything is Ok", out.stdout)
            checked.append("7z t")
        if TOOLS["bsdtar"]:
            d = os.path.join(self.tmp, "bsdtar")
            os.makedirs(d)
            out = subprocess.run([TOOLS["bsdtar"], "-xf", path, "-C", d],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            files, dirs = self.extracted(d)
            self.assertEqual(files, self.want_files)
            self.assertIn("empty", dirs)
            checked.append("bsdtar -x")
        print("\nzip of %d entries, %d bytes: %s" % (
            len(names), len(r.body), ", ".join(checked)))

    def test_cut_anywhere_resumes_to_the_same_bytes(self):
        full = self.fetch("/Trip/?zip")
        etag = full.getheader("ETag")
        n = len(full.body)
        for cut in (1, 29, n // 3, n - 100, n - 1):
            r = self.fetch("/Trip/?zip", {"Range": "bytes=%d-" % cut,
                                          "If-Range": etag})
            self.assertEqual(r.status, 206)
            self.assertEqual(r.getheader("Content-Range"),
                             "bytes %d-%d/%d" % (cut, n - 1, n))
            self.assertEqual(full.body[:cut] + r.body, full.body, cut)
        # Another version's ETag: the whole archive again.
        r = self.fetch("/Trip/?zip", {"Range": "bytes=10-",
                                      "If-Range": '"z-0000"'})
        self.assertEqual((r.status, r.body), (200, full.body))
        r = self.fetch("/Trip/?zip", {"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        # A real client: curl -C - continues a cut file.
        if TOOLS["curl"]:
            out = os.path.join(self.tmp, "cut.zip")
            with open(out, "wb") as f:
                f.write(full.body[:n // 2])
            p = subprocess.run([TOOLS["curl"], "-sS", "-C", "-", "-o", out,
                                self.url("/Trip/?zip")],
                               capture_output=True, text=True,
                               timeout=scaled(60))
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), full.body)
        # Changing a file changes the ETag.
        self.write("Trip/notes.txt", b"other notes\n")
        self.assertNotEqual(self.fetch("/Trip/?zip").getheader("ETag"), etag)

    def test_a_file_changing_while_sent_cuts_the_answer(self):
        self.write("Trip/zz-last.bin", os.urandom(4 << 20))
        c = Conn(self.srv.port, timeout=scaled(20))
        self.addCleanup(c.close)
        c.sock.setsockopt(__import__("socket").SOL_SOCKET,
                          __import__("socket").SO_RCVBUF, 32 << 10)
        c.send(b"GET /Trip/?zip HTTP/1.1\r\nHost: x\r\n\r\n")
        while b"\r\n\r\n" not in c.buf:
            c._fill()
        head = bytes(c.buf[:c.buf.index(b"\r\n\r\n")])
        length = int([l.split(b":")[1] for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length")][0])
        time.sleep(0.3)
        # Rewritten with other bytes and another size while it waits.
        self.write("Trip/zz-last.bin", os.urandom(3 << 20))
        got = len(c.buf) - len(head) - 4
        while True:
            try:
                c._fill()
            except (EOFError, ConnectionError):
                break
            got = len(c.buf) - len(head) - 4
        self.assertLess(got, length)
        print("\narchive cut at %d of %d bytes when a file changed" % (
            got, length))


class Tar(Base):
    def test_tar_extracts_to_the_tree_and_resumes(self):
        r = self.fetch("/Trip/?tar")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/x-tar")
        self.assertEqual(int(r.getheader("Content-Length")), len(r.body))
        self.assertEqual(len(r.body) % 512, 0)
        with tarfile.open(fileobj=io.BytesIO(r.body)) as t:
            got = {m.name: t.extractfile(m).read() for m in t.getmembers()
                   if m.isfile()}
        self.assertEqual(got, self.want_files)
        if TOOLS["tar"]:
            path = os.path.join(self.tmp, "Trip.tar")
            with open(path, "wb") as f:
                f.write(r.body)
            d = os.path.join(self.tmp, "gnutar")
            os.makedirs(d)
            p = subprocess.run([TOOLS["tar"], "-xf", path, "-C", d],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(self.extracted(d)[0], self.want_files)
        n = len(r.body)
        part = self.fetch("/Trip/?tar", {"Range": "bytes=%d-" % (n // 2),
                                         "If-Range": r.getheader("ETag")})
        self.assertEqual(part.status, 206)
        self.assertEqual(r.body[:n // 2] + part.body, r.body)


class Big(ServerTest):
    @load_test
    def test_a_hundred_thousand_files_start_within_a_second(self):
        top = os.path.join(self.root, "many")
        for d in range(100):
            os.makedirs(os.path.join(top, "d%02d" % d))
            for f in range(1000):
                open(os.path.join(top, "d%02d" % d, "f%03d" % f),
                     "wb").close()
        srv = self.serve(["-s", "log.access_log=off"])
        c = Conn(srv.port, timeout=scaled(60))
        self.addCleanup(c.close)
        t0 = time.monotonic()
        c.send(b"GET /many/?zip HTTP/1.1\r\nHost: x\r\n\r\n")
        c._fill()
        first = time.monotonic() - t0
        r = c.read_response()
        self.assertEqual(r.status, 200)
        z = zipfile.ZipFile(io.BytesIO(r.body))
        self.assertEqual(len(z.infolist()), 100 + 100000)  # ZIP64 count
        self.assertIsNone(z.testzip())
        print("\n?zip of 100,000 files: first byte after %.2f s, %d bytes "
              "in %.2f s" % (first, len(r.body), time.monotonic() - t0))
        self.assertLess(first, scaled(1.0))


if __name__ == "__main__":
    unittest.main()
