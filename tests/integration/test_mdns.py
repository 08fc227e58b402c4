"""DNS-SD announcements through avahi-daemon ([mdns]; issue 20).

Each test re-runs this file inside namespaces of its own (unshare: network,
mount and PID), where it brings up a veth pair (or a dummy interface) with
192.0.2.10, mounts a tmpfs over /run so that the machine's D-Bus and Avahi
are neither seen nor touched, and starts a dbus-daemon and an avahi-daemon
of its own.  The server listens on 0.0.0.0 (announced) and on 127.0.0.1
(not announced), under its default sandbox, and `avahi-browse -rpt` must
see the services with the port and the TXT record path=/; a reload renames
them to a name avahi-publish holds (so the server takes "NAME #2") and
drops _webdav._tcp, and stopping the server withdraws them.
Without avahi-daemon the server says so once and serves.

The PID namespace ends everything the inner run started if it dies; the
inner run itself stops each process by PID, with time limits.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import INSTRUMENTED, Server, get, scaled  # noqa: E402

TOOLS = ("unshare", "ip", "mount", "dbus-daemon", "avahi-daemon",
         "avahi-browse", "avahi-publish")
# The inner run's exit status when the namespace lacks what it needs.
EXIT_SKIP = 77
UNSHARE = ["unshare", "--net", "--mount", "--pid", "--fork",
           "--kill-child", "--mount-proc"]

DBUS_CONF = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=mdns0
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
"""

_why_not = None


def why_not():
    """Why these tests cannot run here, or None."""
    global _why_not
    if _why_not is not None:
        return _why_not or None
    _why_not = ""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if os.geteuid() != 0:
        _why_not = "needs root (namespaces, a tmpfs over /run)"
    elif missing:
        _why_not = ("needs %s (apt-get install avahi-daemon avahi-utils "
                    "dbus util-linux iproute2)" % ", ".join(missing))
    else:
        r = subprocess.run(UNSHARE + ["true"], capture_output=True,
                           timeout=30)
        if r.returncode != 0:
            _why_not = "cannot make namespaces here: %s" % (
                r.stderr.decode(errors="replace").strip())
    return _why_not or None


class Mdns(unittest.TestCase):
    def inner(self, scenario):
        """Runs scenario in fresh namespaces; returns its RESULT line."""
        why = why_not()
        if why:
            self.skipTest(why)
        cmd = UNSHARE + [sys.executable, os.path.abspath(__file__),
                         scenario]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        try:
            out, _ = p.communicate(timeout=scaled(60))
        except subprocess.TimeoutExpired:
            # unshare --kill-child takes the whole namespace with it.
            p.kill()
            out, _ = p.communicate()
            self.fail("inner run timed out:\n" + out.decode(errors="replace"))
        out = out.decode(errors="replace")
        if p.returncode == EXIT_SKIP:
            self.skipTest(out.strip().splitlines()[-1])
        self.assertEqual(p.returncode, 0, out)
        result = [ln for ln in out.splitlines() if ln.startswith("mdns:")]
        self.assertTrue(result, out)
        print("\n" + result[-1], file=sys.stderr)
        return result[-1]

    def test_announced_renamed_and_withdrawn(self):
        self.inner("announce")

    def test_without_avahi_the_server_serves_and_says_so_once(self):
        self.inner("absent")


# Everything below runs inside the namespaces.

def run(cmd, timeout=10.0):
    return subprocess.run(cmd, capture_output=True, timeout=scaled(timeout))


def must(cmd):
    r = run(cmd)
    if r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(cmd), r.stderr.decode()))


def wait_for(what, cond, timeout):
    """Polls cond() until it is true; returns the seconds it took."""
    t0 = time.monotonic()
    deadline = t0 + scaled(timeout)
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)
    return time.monotonic() - t0


class Namespace:
    """The network, /run, and the processes started in them."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="lanhttpd-mdns-")
        self.procs = []         # [(name, Popen)], stopped in reverse
        self.servers = []       # harness Servers, stopped first

    def net(self, with_link):
        must(["ip", "link", "set", "lo", "up"])
        if not with_link:
            return
        # dummy where the kernel has it, else a veth pair (both ends here).
        r = run(["ip", "link", "add", "mdns0", "type", "dummy"])
        if r.returncode != 0:
            r = run(["ip", "link", "add", "mdns0", "type", "veth", "peer",
                     "name", "mdns1"])
            if r.returncode != 0:
                print("no dummy or veth interface: %s" % r.stderr.decode())
                sys.exit(EXIT_SKIP)
            must(["ip", "link", "set", "mdns1", "up"])
        must(["ip", "link", "set", "mdns0", "multicast", "on", "up"])
        must(["ip", "addr", "add", "192.0.2.10/24", "dev", "mdns0"])

    def private_run(self):
        # Private mounts (unshare's default): the host's /run is untouched.
        must(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"])
        os.makedirs("/run/dbus")
        os.makedirs("/run/avahi-daemon")

    def spawn(self, name, cmd, pipe=False):
        log = open(os.path.join(self.tmp, name + ".log"), "wb")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=(
            subprocess.PIPE if pipe else log), stderr=log)
        log.close()
        self.procs.append((name, p))
        return p

    def log(self, name):
        with open(os.path.join(self.tmp, name + ".log"), "rb") as f:
            return f.read().decode(errors="replace")

    def dbus(self):
        conf = os.path.join(self.tmp, "dbus.conf")
        with open(conf, "w") as f:
            f.write(DBUS_CONF)
        self.spawn("dbus", ["dbus-daemon", "--config-file=" + conf,
                            "--nofork", "--nopidfile"])
        wait_for("the D-Bus socket", lambda: os.path.exists(
            "/run/dbus/system_bus_socket"), 5)

    def avahi(self):
        conf = os.path.join(self.tmp, "avahi.conf")
        with open(conf, "w") as f:
            f.write(AVAHI_CONF)
        self.spawn("avahi", ["avahi-daemon", "--no-drop-root",
                             "--no-chroot", "--no-rlimits", "-f", conf])

    def server(self, root, **kw):
        srv = Server(root, **kw)
        self.servers.append(srv)
        return srv

    def dump(self):
        """What each process said, for a failure."""
        for srv in self.servers:
            if srv.proc is not None:
                print("--- lanhttpd:\n" + srv.stderr()[-3000:])
        for name, _ in self.procs:
            print("--- %s:\n%s" % (name, self.log(name)[-3000:]))

    def stop_all(self):
        for srv in self.servers:
            srv.stop(check=False)
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=scaled(5))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        shutil.rmtree(self.tmp, ignore_errors=True)


def unescape(s):
    """avahi-browse -p escapes: \\DDD (decimal) and \\X."""
    return re.sub(r"\\(\d{3}|.)", lambda m: chr(int(m.group(1)))
                  if len(m.group(1)) == 3 else m.group(1), s)


def parse(lines, found):
    """Applies avahi-browse -p lines to found, {name: (port, txt)}."""
    for line in lines:
        f = line.split(";")
        if f[0] == "=" and len(f) >= 10:
            found[unescape(f[3])] = (int(f[8]), f[9])
        elif f[0] == "-" and len(f) >= 4:
            found.pop(unescape(f[3]), None)
    return found


def browse_once(*stypes):
    """What `avahi-browse -rpt` lists for each of stypes, side by side
    (each run waits a second for Avahi's "all for now")."""
    ps = [subprocess.Popen(["avahi-browse", "-rpt", t], stdin=subprocess.
                           DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL) for t in stypes]
    return [parse(p.communicate(timeout=scaled(10))[0].decode(
        errors="replace").splitlines(), {}) for p in ps]


class Browser:
    """A running `avahi-browse -rp TYPE`: what it sees, as it happens."""

    def __init__(self, ns, stype):
        self.ns, self.stype = ns, stype
        self.found, self.buf = {}, b""
        # avahi-browse gives up when the daemon is not on the bus yet.
        t0 = time.monotonic()
        while True:
            self.p = ns.spawn("browse" + stype, ["avahi-browse", "-rp",
                                                 stype], pipe=True)
            time.sleep(0.1)
            if self.p.poll() is None:
                break
            assert time.monotonic() < t0 + scaled(10), "avahi-browse fails"
        os.set_blocking(self.p.stdout.fileno(), False)

    def now(self):
        """{name: (port, txt)} of what is resolved and not removed."""
        try:
            self.buf += os.read(self.p.stdout.fileno(), 65536) or b""
        except BlockingIOError:
            pass
        *lines, self.buf = self.buf.split(b"\n")
        return parse([ln.decode(errors="replace") for ln in lines],
                     self.found)


def label(name):
    """name as the server cuts it: the 63 bytes of a DNS label."""
    b = name.encode()[:63]
    return b.decode(errors="ignore")


def listening(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 0))
    s.listen(64)
    return s


def seccomp_on(srv):
    with open("/proc/%d/status" % srv.pid()) as f:
        return "Seccomp:\t2\n" in f.read()


def write_ini(srv, text):
    with open(os.path.join(srv.tmp, "httpd.ini"), "w") as f:
        f.write(text)


def reload(srv):
    before = srv.stderr().count("configuration reloaded")
    srv.signal(signal.SIGHUP)
    wait_for("the reload", lambda: srv.stderr().count(
        "configuration reloaded") > before, 10)


def announced(browser, port, name, gone=None):
    """Whether browser sees name on port, with path=/, and not gone."""
    b = browser.now()
    return b.get(name) == (port, '"path=/"') and gone not in b


def stop_and_read(srv):
    """SIGTERM, then the server's log, then the harness's checks."""
    srv.signal(signal.SIGTERM)
    srv.proc.wait(timeout=scaled(15))
    err = srv.stderr()
    srv.stop()
    return err


def scenario_announce(ns, root):
    host = socket.gethostname()
    # Short enough for " #2" (the server cuts names to a DNS label).
    first, second = label("lanhttpd test " + host), label("renamed " + host)
    assert len(second.encode()) <= 60, "host name too long for this test"
    ns.net(True)
    ns.private_run()
    ns.dbus()
    lan, lo = listening("0.0.0.0"), listening("127.0.0.1")
    port, lo_port = lan.getsockname()[1], lo.getsockname()[1]
    srv = ns.server(root, sockets=[("http", lan), ("http", lo)], ini=(
        "[mdns]\nname = lanhttpd test %h\n[webdav]\nenable = on\n"))
    srv.start()
    # On the bus before avahi-daemon: it must register once that comes.
    wait_for("the 'not running' line", lambda: "avahi-daemon is not "
             "running" in srv.stderr(), 10)
    t0 = time.monotonic()
    ns.avahi()
    http, dav = Browser(ns, "_http._tcp"), Browser(ns, "_webdav._tcp")
    # The name the reload asks for, held by another service here.
    ns.spawn("publish", ["avahi-publish", "-s", second, "_http._tcp", "9"])
    wait_for("_http._tcp", lambda: announced(http, port, first), 15)
    wait_for("_webdav._tcp", lambda: announced(dav, port, first), 5)
    took_announce = time.monotonic() - t0
    # What the issue asks for, word for word; the loopback port is not
    # there.  (The host's /etc/avahi/services may add services of its own.)
    for b in browse_once("_http._tcp", "_webdav._tcp"):
        ours = {k: v for k, v in b.items() if v[0] in (port, lo_port)}
        assert ours == {first: (port, '"path=/"')}, (b, lo_port)
    assert ('mdns: announced "%s" (_http._tcp port %d, _webdav._tcp)'
            % (first, port)) in srv.stderr(), srv.stderr()
    assert INSTRUMENTED or seccomp_on(srv), "no seccomp filter"
    assert get(port, "/").status == 200
    # A reload: a new name, which is taken, and no WebDAV.
    wait_for("avahi-publish", lambda: http.now().get(second, (0,))[0] == 9,
             10)
    write_ini(srv, "[mdns]\nname = renamed %h\n")
    reload(srv)
    took_rename = wait_for("the new name", lambda: announced(
        http, port, second + " #2", first), 10)
    assert 'mdns: "%s" is taken; trying "%s #2"' % (second, second) in \
        srv.stderr(), srv.stderr()
    wait_for("_webdav._tcp to go", lambda: not [
        v for v in dav.now().values() if v[0] == port], 10)
    t0 = time.monotonic()
    err = stop_and_read(srv)
    wait_for("the withdrawal", lambda: second + " #2" not in http.now(),
             10)
    took_withdraw = time.monotonic() - t0
    assert err.count("avahi-daemon is not running") == 1, err
    assert "mdns: withdrawn" in err, err
    print("mdns: announced %.2f s after avahi-daemon started, renamed %.2f "
          "s after the reload, withdrawn %.2f s after SIGTERM (sandbox "
          "on%s)" % (took_announce, took_rename, took_withdraw,
                     ", no seccomp under sanitizers" if INSTRUMENTED else ""))


def scenario_absent(ns, root):
    ns.net(False)
    ns.private_run()
    lan = listening("0.0.0.0")
    port = lan.getsockname()[1]
    srv = ns.server(root, sockets=[("http", lan)],
                    ini="[webdav]\nenable = on\n")
    srv.start()
    t0 = time.monotonic()
    wait_for("the 'not running' line", lambda: "avahi-daemon is not "
             "running" in srv.stderr(), 10)
    assert get(port, "/").status == 200
    assert INSTRUMENTED or seccomp_on(srv), "no seccomp filter"
    # A retry of the missing bus (after 1 s), and a reload that changes
    # nothing: still one line.
    reload(srv)
    time.sleep(max(0.0, t0 + scaled(1.5) - time.monotonic()))
    assert get(port, "/").status == 200
    # A server on loopback only does not even look for avahi-daemon.
    local = ns.server(root)
    local.start()
    assert get(local.port, "/").status == 200
    err = stop_and_read(srv)
    local_err = stop_and_read(local)
    assert err.count("avahi-daemon is not running") == 1, err
    assert "mdns: avahi-daemon is not running; not announced " \
        "(no D-Bus system bus)" in err, err
    assert "mdns: announced" not in err, err
    assert "mdns:" not in local_err, local_err
    print("mdns: without avahi-daemon: one line, served, %.2f s watched"
          % (time.monotonic() - t0))


def inner_main(scenario):
    ns = Namespace()
    root = tempfile.mkdtemp(prefix="lanhttpd-root-")
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("hello\n")
    try:
        {"announce": scenario_announce, "absent": scenario_absent}[
            scenario](ns, root)
    except BaseException:
        ns.dump()
        raise
    finally:
        ns.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        inner_main(sys.argv[1])
    else:
        unittest.main()
