"""WebDAV peers for test_webdav.py and bench/propfind.

Lighttpd runs lighttpd 1.4 with mod_webdav (locks and dead properties in
an SQLite file) on a folder, on a loopback socket it is handed as
socket-activation fd 3, the way harness.Server hands one to lanhttpd: no
port race, and the same start and stop discipline (a deadline on the
start, SIGTERM then SIGKILL by PID on the stop).  It is the reference the
tests are debugged against and the peer the benchmark compares with.

The rest are small helpers both sides share: the httpd.ini that turns
lanhttpd's WebDAV on, the probe that tells whether a server speaks
WebDAV at all (the lanhttpd tests skip on it, and only on it), a
multistatus parser, and peak RSS from /proc.

Debian packages: lighttpd, lighttpd-mod-webdav.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from harness import LAUNCH, scaled

LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
LIGHTTPD_MODULES = "/usr/lib/lighttpd"
DAV_NS = "{DAV:}"


def lighttpd_missing():
    """Why lighttpd with mod_webdav cannot run here, or None when it can."""
    if not os.access(LIGHTTPD, os.X_OK):
        return "lighttpd is not installed (apt-get install lighttpd)"
    if not os.path.exists(os.path.join(LIGHTTPD_MODULES, "mod_webdav.so")):
        return ("lighttpd's mod_webdav is not installed "
                "(apt-get install lighttpd-mod-webdav)")
    return None


def lanhttpd_ini(paths="/", upload=True, webdav=True, extra=""):
    """The httpd.ini of a lanhttpd with WebDAV: writes below paths (a
    space-separated list of URL prefixes), replacing allowed, since every
    WebDAV client saves a changed file with a PUT over the old one."""
    ini = ("[upload]\nenable = %s\npaths = %s\noverwrite = on\n"
           "[webdav]\nenable = %s\n"
           % ("on" if upload else "off", paths, "on" if webdav else "off"))
    return ini + extra


def dav_classes(port, path="/", timeout=5.0):
    """(status, DAV header or None) of an OPTIONS on path."""
    s = socket.create_connection(("127.0.0.1", port), timeout=scaled(timeout))
    try:
        s.sendall(("OPTIONS %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n" % path).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    try:
        status = int(head[0].split()[1])
    except (IndexError, ValueError):
        return None, None
    for line in head[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "dav":
            return status, v.strip()
    return status, None


def no_dav_reason(port):
    """None when the server on port answers OPTIONS with a DAV header
    naming class 1; else the reason to skip, saying what it answered."""
    status, dav = dav_classes(port)
    if dav is not None and "1" in [c.strip() for c in dav.split(",")]:
        return None
    return ("lanhttpd has no WebDAV yet: OPTIONS / answered %s with %s"
            % (status, "DAV: " + dav if dav else "no DAV header"))


def peak_rss_kib(pid):
    """VmHWM of pid in KiB (0 when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def multistatus(body):
    """{href: {prop tag: element}} of the propstats with a 200 status in
    a 207 body; raises ET.ParseError when the body is not well-formed and
    ValueError when it is no multistatus or names an href twice."""
    root = ET.fromstring(body)
    if root.tag != DAV_NS + "multistatus":
        raise ValueError("root element is %s, not DAV:multistatus" % root.tag)
    out = {}
    for resp in root.findall(DAV_NS + "response"):
        href = resp.findtext(DAV_NS + "href")
        if href in out:
            raise ValueError("href %r answered twice" % href)
        props = out.setdefault(href, {})
        for ps in resp.findall(DAV_NS + "propstat"):
            status = ps.findtext(DAV_NS + "status") or ""
            if " 200 " not in status + " ":
                continue
            prop = ps.find(DAV_NS + "prop")
            for el in (prop if prop is not None else ()):
                props[el.tag] = el
    return out


class Lighttpd:
    """lighttpd with mod_webdav serving root on a loopback socket.

    Writes are allowed everywhere except below the URL prefixes in
    readonly (mod_webdav answers those 403).  The server's files
    (config, error log, SQLite locks and properties) live in a temp dir
    of their own, removed by stop()."""

    def __init__(self, root, readonly=(), access_log=False):
        self.root = os.path.abspath(root)
        self.readonly = list(readonly)
        self.access_log = access_log
        self.tmp = tempfile.mkdtemp(prefix="davpeer-lighttpd-")
        self.proc = None
        self.port = None

    def config(self):
        d = self.tmp
        lines = [
            'server.document-root = "%s"' % self.root,
            'server.bind = "127.0.0.1"',
            "server.port = %d" % self.port,
            'server.systemd-socket-activation = "enable"',
            'server.errorlog = "%s/error.log"' % d,
            'server.upload-dirs = ( "%s" )' % d,
            "server.max-keep-alive-requests = 1000000",
            "server.max-fds = 16384",
            "server.max-connections = 8192",
            'server.modules += ( "mod_webdav" )',
            'webdav.activate = "enable"',
            'webdav.is-readonly = "disable"',
            'webdav.sqlite-db-name = "%s/webdav.db"' % d,
        ]
        if self.access_log:
            lines += ['server.modules += ( "mod_accesslog" )',
                      'accesslog.filename = "%s/access.log"' % d]
        for prefix in self.readonly:
            lines += ['$HTTP["url"] =^ "%s" {' % prefix,
                      '    webdav.is-readonly = "enable"', "}"]
        return "\n".join(lines) + "\n"

    def start(self, timeout=10.0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        conf = os.path.join(self.tmp, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        env = dict(os.environ, LISTEN_FDS="1")
        env.pop("LISTEN_FDNAMES", None)
        cmd = [sys.executable, "-c", LAUNCH, str(sock.fileno()),
               LIGHTTPD, "-D", "-f", conf, "-m", LIGHTTPD_MODULES]
        with open(os.path.join(self.tmp, "stderr"), "wb") as err:
            self.proc = subprocess.Popen(
                cmd, env=env, pass_fds=(sock.fileno(),),
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        sock.close()
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("lighttpd exited early (%d): %s" % (
                    self.proc.returncode, self.log()))
            if "server started" in self.log():
                return self
            time.sleep(0.02)
        self.stop()
        raise AssertionError("lighttpd did not start: " + self.log())

    def log(self):
        out = ""
        for name in ("stderr", "error.log"):
            try:
                with open(os.path.join(self.tmp, name),
                          errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def pid(self):
        return self.proc.pid

    def peak_rss_kib(self):
        return peak_rss_kib(self.proc.pid)

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self, timeout=10.0):
        """SIGTERM, wait, SIGKILL; removes the temp dir."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=scaled(timeout))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        shutil.rmtree(self.tmp, ignore_errors=True)
