"""Integration-test harness: runs the real lanhttpd binary on loopback.

The test binds 127.0.0.1:0 itself and hands the socket to the server as
systemd socket-activation fd 3 (LISTEN_FDS=1, LISTEN_FDNAMES=http, and
LISTEN_PID set by a small launcher that execs the server), so there is no
port race and the activation path is exercised on every run.  A test may
pass more sockets, each with its FileDescriptorName= (Server(sockets=...)).
Every socket has a timeout and every server is stopped by PID: SIGTERM,
wait with a deadline, SIGKILL as a last resort.
A server that logs a sanitizer report or exits non-zero fails the test.

Environment:
  LANHTTPD_BIN      the binary under test (default: ../../build/lanhttpd)
  LANHTTPD_PING_BIN lanhttpd-ping, for test_lab.py (default: beside it)
  LANHTTPD_WRAPPER  a command prefix, e.g. "valgrind --error-exitcode=99"
  LANHTTPD_SLOW     a factor for time limits (sanitizer and valgrind runs)
  LANHTTPD_SKIP_LOAD=1
                    skip the load tests whose point is memory or latency
                    figures, the WebDAV clients and the browsers (make
                    check-tsan)
  LANHTTPD_SKIP_FIGURES=1
                    skip the load tests only (make check-asan: they run
                    plain)
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("LANHTTPD_BIN",
                     os.path.join(HERE, "..", "..", "build", "lanhttpd"))
WRAPPER = shlex.split(os.environ.get("LANHTTPD_WRAPPER", ""))
SLOW = float(os.environ.get("LANHTTPD_SLOW", "1"))
# Sanitizer and valgrind runs are slowed down; their memory figures (shadow
# memory, quarantines) say nothing about the server's own use.
INSTRUMENTED = SLOW > 1
# A test of memory or latency under load: its figures mean nothing under
# a sanitizer, and its code paths run there in the other tests.
SKIP_FIGURES = (os.environ.get("LANHTTPD_SKIP_LOAD") == "1" or
                os.environ.get("LANHTTPD_SKIP_FIGURES") == "1")
load_test = unittest.skipIf(
    SKIP_FIGURES,
    "a memory or latency load test (LANHTTPD_SKIP_LOAD or "
    "LANHTTPD_SKIP_FIGURES): make check runs it plain")

# Lines in the server's stderr that mean a memory or UB error.
BAD_STDERR = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
              "ThreadSanitizer", "ERROR SUMMARY: [1-9]", "Invalid read",
              "Invalid write", "definitely lost: [1-9]")


def scaled(seconds):
    return seconds * SLOW


# Runs in the child: moves the passed sockets to fds 3, 4, ... (through
# fds above 100, so no move overwrites a socket still to be moved), sets
# LISTEN_PID to its own pid, which exec keeps, and execs the server.
LAUNCH = (
    "import fcntl, os, sys\n"
    "src = [int(x) for x in sys.argv[1].split(',')]\n"
    "tmp = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in src]\n"
    "for i, fd in enumerate(tmp):\n"
    "    os.dup2(fd, 3 + i)\n"
    "for fd in set(src + tmp) - set(range(3, 3 + len(src))):\n"
    "    os.close(fd)\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n")


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers      # list of (name, value), names lowercase
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def __repr__(self):
        return "<Response %d %s, %d body bytes>" % (self.status, self.reason,
                                                    len(self.body))


class Conn:
    """One client connection with its own receive buffer (pipelining)."""

    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port),
                                             timeout=scaled(timeout))
        self.buf = bytearray()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def read_response(self, head=False):
        """Reads one response; head=True for a HEAD request (no body)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n")
        raw_head = bytes(self.buf[:end])
        del self.buf[:end + 4]
        lines = raw_head.split(b"\r\n")
        version, status, reason = (lines[0].decode("latin-1").split(" ", 2)
                                   + [""])[:3]
        assert version == "HTTP/1.1", lines[0]
        status = int(status)
        headers = []
        for line in lines[1:]:
            k, _, v = line.decode("latin-1").partition(":")
            headers.append((k.strip().lower(), v.strip()))
        resp = Response(status, reason, headers, b"", raw_head)
        if head or status in (204, 304) or 100 <= status < 200:
            return resp
        n = resp.header("content-length")
        assert n is not None, "response without Content-Length: %r" % raw_head
        n = int(n)
        while len(self.buf) < n:
            self._fill()
        resp.body = bytes(self.buf[:n])
        del self.buf[:n]
        return resp

    def request(self, method, path, headers=None, body=b"", version="1.1"):
        hdrs = {"Host": "test"} if version == "1.1" else {}
        hdrs.update(headers or {})
        lines = ["%s %s HTTP/%s" % (method, path, version)]
        lines += ["%s: %s" % kv for kv in hdrs.items()]
        self.send("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        return self.read_response(head=(method == "HEAD"))

    def is_closed(self, wait=2.0):
        """True when the server closed its side (EOF) within wait seconds."""
        self.sock.settimeout(scaled(wait))
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def get(port, path, headers=None, method="GET", version="1.1",
        host="127.0.0.1"):
    c = Conn(port, host=host)
    try:
        h = {"Connection": "close"} if version == "1.1" else {}
        h.update(headers or {})
        return c.request(method, path, h, version=version)
    finally:
        c.close()


def raw(port, data, timeout=5.0):
    """Sends data, reads until the server closes, returns the bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=scaled(timeout))
    try:
        s.sendall(data)
        out = bytearray()
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)
    finally:
        s.close()


class Server:
    """A lanhttpd process serving root, on a loopback socket it is handed."""

    def __init__(self, root, args=(), ini=None, activate=True, env=None,
                 as_root=True, sockets=None):
        self.root = root
        self.tmp = tempfile.mkdtemp(prefix="lanhttpd-it-")
        self.stderr_path = os.path.join(self.tmp, "stderr")
        self.stdout_path = os.path.join(self.tmp, "stdout")
        self.args = list(args)
        # Tests run as root in CI; the daemon refuses that unless allowed.
        if as_root and os.geteuid() == 0:
            self.args = ["-s", "allow_root=on"] + self.args
        if ini is not None:
            path = os.path.join(self.tmp, "httpd.ini")
            with open(path, "w") as f:
                f.write(ini)
            self.args += ["-c", path]
        self.activate = activate
        # [(FileDescriptorName, socket)], passed as fds 3, 4, ...
        self.sockets = sockets
        self.env = env or {}
        self.proc = None
        self.port = None
        self.preexec = None     # run in the child before exec (limits)

    def start(self):
        env = dict(os.environ)
        # Log-in keys and revocations ([auth] state_dir) stay in the test's
        # own folder unless the test says where.
        env.pop("STATE_DIRECTORY", None)
        env["XDG_STATE_HOME"] = os.path.join(self.tmp, "state")
        env.update(self.env)
        pass_fds = ()
        cmd = WRAPPER + [BIN] + self.args
        if self.root is not None:
            cmd.append(self.root)
        if self.activate:
            if self.sockets is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", 0))
                sock.listen(1024)
                self.sockets = [("http", sock)]
            for name, sock in self.sockets:
                if name == "http" and self.port is None:
                    self.port = sock.getsockname()[1]
            env["LISTEN_FDS"] = str(len(self.sockets))
            env["LISTEN_FDNAMES"] = ":".join(n for n, _ in self.sockets)
            pass_fds = tuple(sock.fileno() for _, sock in self.sockets)
            cmd = [sys.executable, "-c", LAUNCH,
                   ",".join(str(fd) for fd in pass_fds)] + cmd
        with open(self.stdout_path, "wb") as out, \
                open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                cmd, env=env, pass_fds=pass_fds, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, preexec_fn=self.preexec)
        for _, sock in self.sockets or ():
            sock.close()           # the server holds its own copy now
        self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("server exited early (%d): %s" % (
                    self.proc.returncode, self.stderr()))
            if self.port is None:
                self.port = self._port_from_stdout()
            if self.port is not None and "started" in self.stderr():
                return
            time.sleep(0.02)
        raise AssertionError("server did not start: " + self.stderr())

    def _port_from_stdout(self):
        """The port of the first 127.0.0.1 listener the server logged."""
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/",
                      self.stderr())
        return int(m.group(1)) if m else None

    def stdout(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, check=True, timeout=15.0):
        """SIGTERM, wait, SIGKILL; asserts a clean exit when check."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            if check:
                raise AssertionError("server did not stop on SIGTERM")
        self.proc = None
        err = self.stderr()
        if check:
            for pat in BAD_STDERR:
                if re.search(pat, err):
                    raise AssertionError("server stderr reports %r:\n%s"
                                         % (pat, err[-4000:]))
            if rc != 0:
                raise AssertionError("server exited with %d:\n%s"
                                     % (rc, err[-4000:]))
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc

    def pid(self):
        return self.proc.pid

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


class ServerTest(unittest.TestCase):
    """Base class: a temporary root per test class, servers stopped after."""

    def setUp(self):
        self.servers = []
        self.root = tempfile.mkdtemp(prefix="lanhttpd-root-")
        self.addCleanup(shutil.rmtree, self.root, True)

    def tearDown(self):
        # Stop every server; a failure to stop cleanly fails the test.
        errors = []
        for s in self.servers:
            try:
                s.stop()
            except AssertionError as e:
                errors.append(str(e))
        if errors:
            self.fail("\n".join(errors))

    def connect(self, port, timeout=10.0):
        """A client connection closed when the test ends."""
        c = Conn(port, timeout=timeout)
        self.addCleanup(c.close)
        return c

    NO_ROOT = object()      # serve(root=NO_ROOT): the file names the root

    def serve(self, args=(), ini=None, root=None, **kw):
        if root is ServerTest.NO_ROOT:
            root = None
        elif root is None:
            root = self.root
        s = Server(root, args=args, ini=ini, **kw)
        self.servers.append(s)
        return s.start()

    def write(self, rel, data=b"", mode=None):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        with open(path, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(path, mode)
        return path
