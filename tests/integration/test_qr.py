"""Issue 20: the start-up QR code of the best LAN URL.

The server runs on a pseudo-terminal (stdout and stderr), listening on
every address with a free port.  Its output is read until the start-up
is complete, the half blocks of the QR code are turned back into modules
(a drawn block is a light module, a blank a dark one: see qr.h), written
as a PBM image eight pixels a module, with a light page around it (a
light theme) or a dark one (a dark theme), and decoded with zbarimg
(zbar-tools), as a phone would read the screen.
"""

import errno
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BAD_STDERR, BIN, WRAPPER, Conn, ServerTest, scaled

ZBARIMG = shutil.which("zbarimg")
need_zbar = unittest.skipIf(
    ZBARIMG is None, "zbarimg is missing (install it with "
    "`sh .ci/deps zbar-tools`): cannot decode the QR code")

COLOURS = "\x1b[40;37;97m"
RESET = "\x1b[0m"
SCALE = 8           # pixels a module
MARGIN = 4          # modules of page around the drawn code
UPPER, LOWER, FULL = "\u2580", "\u2584", "\u2588"


class Run:
    """lanhttpd with stderr (and stdout unless told) on a pseudo-terminal."""

    def __init__(self, root, args, stdout_tty=True):
        self.master, slave = pty.openpty()
        self.pipe_r = None
        out = slave
        if not stdout_tty:
            self.pipe_r, out = os.pipe()
        env = {k: v for k, v in os.environ.items()
               if k not in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                            "NOTIFY_SOCKET")}
        self.tmp = tempfile.mkdtemp(prefix="lanhttpd-qr-")
        env["XDG_STATE_HOME"] = os.path.join(self.tmp, "state")
        cmd = WRAPPER + [BIN, "-p", "0", "-s", "log.access_log=off"]
        if os.geteuid() == 0:
            cmd += ["-s", "allow_root=on"]
        self.proc = subprocess.Popen(cmd + list(args) + [root], env=env,
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=slave, close_fds=True)
        os.close(slave)
        if out != slave:
            os.close(out)
        self.text = ""

    def read_until(self, pattern, timeout=5.0):
        """Reads the terminal until pattern matches; returns the match."""
        deadline = time.monotonic() + scaled(timeout)
        data = b""
        while True:
            m = re.search(pattern, data.decode(errors="replace"))
            if m:
                break
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError("no %r in the output:\n%s" % (
                    pattern, data.decode(errors="replace")))
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError as e:        # EIO: every slave end is closed
                if e.errno != errno.EIO:
                    raise
                chunk = b""
            if not chunk:
                time.sleep(0.01)
            data += chunk
        # The terminal turns each "\n" into "\r\n".
        self.text = data.decode(errors="replace").replace("\r\n", "\n")
        return m

    def stop(self):
        """SIGTERM by PID, a bounded wait, SIGKILL; returns stdout if piped.
        A second call does nothing."""
        piped = ""
        if self.master is None:
            return piped
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=scaled(10))
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError("lanhttpd did not stop on SIGTERM")
        finally:
            if self.pipe_r is not None:
                with os.fdopen(self.pipe_r, "rb") as f:
                    piped = f.read().decode(errors="replace")
                self.pipe_r = None
            os.close(self.master)
            self.master = None
            shutil.rmtree(self.tmp, ignore_errors=True)
        if rc != 0:
            raise AssertionError("lanhttpd exited with %d:\n%s"
                                 % (rc, self.text))
        for pat in BAD_STDERR:
            if re.search(pat, self.text):
                raise AssertionError("output reports %r:\n%s"
                                     % (pat, self.text))
        return piped


def qr_lines(text):
    """The URL the output says the code encodes, and the code's lines."""
    m = re.search(r"^  QR code of (\S+):\n((?:  %s.*%s\n)+)"
                  % (re.escape(COLOURS), re.escape(RESET)), text, re.M)
    if m is None:
        raise AssertionError("no QR code in the output:\n" + text)
    return m.group(1), [line[len("  " + COLOURS):-len(RESET)]
                        for line in m.group(2).splitlines()]


def modules(lines):
    """The half-block lines as rows of modules, True for dark."""
    rows = []
    for line in lines:
        top, bottom = [], []
        for ch in line:
            if ch not in (" ", UPPER, LOWER, FULL):
                raise AssertionError("unexpected %r in %r" % (ch, line))
            # Drawn halves are light modules, blank ones dark.
            top.append(ch not in (UPPER, FULL))
            bottom.append(ch not in (LOWER, FULL))
        rows += [top, bottom]
    if len({len(r) for r in rows}) != 1:
        raise AssertionError("lines of unequal width")
    return rows


def write_pbm(rows, path, around_dark=False):
    """rows as a PBM image (1 = black), SCALE pixels a module, with MARGIN
    modules around: light as on a light theme, or dark as on a dark one
    (the drawn quiet zone of 2 modules is then all there is)."""
    side = len(rows[0]) + 2 * MARGIN
    edge = [around_dark] * MARGIN
    grid = ([[around_dark] * side] * MARGIN +
            [edge + r + edge for r in rows] +
            [[around_dark] * side] * MARGIN)
    with open(path, "w") as f:
        f.write("P1\n%d %d\n" % (side * SCALE, len(grid) * SCALE))
        for r in grid:
            line = " ".join("1" if dark else "0" for dark in r
                            for _ in range(SCALE))
            for _ in range(SCALE):
                f.write(line + "\n")


def decode(rows, around_dark=False):
    """The text zbarimg reads in the code drawn as rows."""
    with tempfile.TemporaryDirectory(prefix="lanhttpd-qr-") as d:
        path = os.path.join(d, "code.pbm")
        write_pbm(rows, path, around_dark)
        r = subprocess.run([ZBARIMG, "--raw", "-q", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=scaled(10))
        if r.returncode != 0:
            raise AssertionError("zbarimg could not read the code (%d): %s"
                                 % (r.returncode, r.stderr.decode()))
        return r.stdout.decode().rstrip("\n")


class StartupQR(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="lanhttpd-root-")
        self.addCleanup(shutil.rmtree, self.root, True)
        with open(os.path.join(self.root, "hello.txt"), "w") as f:
            f.write("hello\n")

    def start(self, args=(), stdout_tty=True):
        run = Run(self.root, args, stdout_tty)
        self.addCleanup(run.stop)
        # "started" is logged right after the announcement.
        run.read_until(r"\[info\] lanhttpd \S+ started")
        return run

    def listed(self, text):
        """The URLs listed under "lanhttpd: serving", and the port."""
        urls = re.findall(r"^  (http://\S+/)$", text, re.M)
        port = re.search(r"^  http://localhost:(\d+)/$", text, re.M)
        self.assertIsNotNone(port, text)
        return urls, int(port.group(1))

    @need_zbar
    def test_code_is_the_best_lan_url(self):
        run = self.start()
        text = run.text
        if "(no LAN address for a QR code)" in text:
            run.stop()
            self.skipTest("this machine has no address but loopback")
        urls, port = self.listed(text)
        url, lines = qr_lines(text)
        got = decode(modules(lines))
        on_dark = decode(modules(lines), around_dark=True)
        run.stop()
        self.assertEqual(got, url)
        self.assertEqual(on_dark, url)
        self.assertIn(got, urls)
        self.assertRegex(got, r"^http://\d{1,3}(\.\d{1,3}){3}:%d/$" % port)
        self.assertFalse(got.startswith("http://127."), got)

    @need_zbar
    def test_lan_address_chooses_the_address(self):
        run = self.start(["-s", "lan_address=127.0.0.1"])
        _, port = self.listed(run.text)
        url, lines = qr_lines(run.text)
        got = decode(modules(lines))
        run.stop()
        self.assertEqual(url, "http://127.0.0.1:%d/" % port)
        self.assertEqual(got, url)

    @need_zbar
    def test_lan_address_names_an_interface(self):
        run = self.start(["-s", "lan_address=lo"])
        _, port = self.listed(run.text)
        url, lines = qr_lines(run.text)
        got = decode(modules(lines))
        run.stop()
        self.assertEqual(got, "http://127.0.0.1:%d/" % port)

    def test_unknown_lan_address_is_said_and_passed_over(self):
        run = self.start(["-s", "lan_address=nosuch0"])
        run.stop()
        self.assertIn("[server] lan_address: 'nosuch0' is neither", run.text)
        self.assertTrue("QR code of http://" in run.text or
                        "(no LAN address for a QR code)" in run.text,
                        run.text)

    def test_no_code_when_stdout_is_not_a_terminal(self):
        run = self.start(stdout_tty=False)
        out = run.stop()
        # The list still goes to stdout (stderr is a terminal) ...
        self.assertIn("lanhttpd: serving ", out)
        self.listed(out)
        # ... but no code, and nothing of it on the terminal either.
        for text in (out, run.text):
            self.assertNotIn("QR code", text)
            self.assertNotIn("\x1b[", text)
            self.assertNotIn(FULL, text)


def svg_rows(svg):
    """The modules of qr_svg()'s image: its view box, less nothing (the
    quiet zone is part of it), True for dark."""
    side = int(re.search(rb'viewBox="0 0 (\d+) \1"', svg).group(1))
    rows = [[False] * side for _ in range(side)]
    for x, y, w in re.findall(rb"M(\d+) (\d+)h(\d+)v1H\d+z", svg):
        for i in range(int(w)):
            rows[int(y)][int(x) + i] = True
    return rows


class FolderQR(ServerTest):
    """GET /folder/?qr: the listing page's QR code of its own URL."""

    def test_svg_encodes_the_folder_url(self):
        os.makedirs(os.path.join(self.root, "sub dir"))
        srv = self.serve(["-s", "log.access_log=off"])
        c = Conn(srv.port)
        self.addCleanup(c.close)
        r = c.request("GET", "/sub%20dir/?qr", {"Host": "192.0.2.5:8080"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "image/svg+xml")
        self.assertEqual(r.header("vary"), "Host")
        self.assertEqual(decode(svg_rows(r.body)),
                         "http://192.0.2.5:8080/sub%20dir/")
        # The page shows it; its policy lets the page load it.
        r = c.request("GET", "/sub%20dir/", {"Accept": "text/html"})
        self.assertIn(b'<img src="?qr"', r.body)
        self.assertIn("img-src 'self'", r.header("content-security-policy"))
        # No absolute URL from a Host that is not plain.
        r = c.request("GET", "/sub%20dir/?qr", {"Host": "a_b"})
        self.assertEqual(r.status, 400)


if __name__ == "__main__":
    unittest.main()
