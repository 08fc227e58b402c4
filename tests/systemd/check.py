#!/usr/bin/env python3
"""The service under a real systemd: `make check-systemd`.

Boots systemd 252 as PID 1 of a systemd-nspawn container (container.py),
installs `make install DESTDIR=<the container's root>` into it, follows the
README's "Install as a service" commands, and checks against the real
manager:

  1. socket activation: the service stays inactive until the first
     connection, which it serves with the socket unit's fd;
  7. systemd-analyze security on the live, shipped unit: exposure <= 2.0;
  2. `systemctl enable --now lanhttpd.service` is active only after
     READY=1, and `systemctl status` shows the STATUS= text;
  3. the main process runs as a DynamicUser, reads the shipped root, and
     cannot write to /etc or /usr (ProtectSystem=strict);
  4. five reloads under a download load: no failed or truncated response,
     same MainPID, new values in effect; a broken config is refused and
     the journal says why;
  5. WatchdogSec=2s: pings arrive, no restart over three periods;
  6. `systemctl stop` during a download: it completes, Result=success;
  W. systemd logged no warning about our units in the whole run;
  0. every README command was run by this harness, and only those.

Usage: check.py [--if-possible] [--only N,N...]
  --if-possible   print "skipped: <reason>" and exit 0 when this machine
                  cannot boot a container (not root, no nspawn, ...)
  --only 2,6      run only these checks (the setup steps always run; a
                  check may rely on the state an earlier one left)

Each check prints one line; the run ends with "N passed, N failed".  The
container is always powered off and removed, also on failure or Ctrl-C.
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import container  # noqa: E402
from container import Error  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PREFIX = "/usr/local"
INI = "/etc/lanhttpd/httpd.ini"
SHARE = "/srv/share"
PORT = 8080
UNIT = "lanhttpd.service"
BIG_SIZE = 20 * 1024 * 1024
WATCHDOG_S = 2
START_DELAY_S = 2
SHUTDOWN_TIMEOUT_S = 10     # the shipped default of shutdown_timeout

# The test's own drop-in: a start that takes a moment (the shell execs the
# daemon, so the PID stays), and a short watchdog.  The journal would name
# the daemon's lines after the shell without SyslogIdentifier=.
DROPIN = """\
[Service]
ExecStart=
ExecStart=/bin/sh -c 'sleep %d; exec %s/bin/lanhttpd -c %s'
SyslogIdentifier=lanhttpd
WatchdogSec=%ds
""" % (START_DELAY_S, PREFIX, INI, WATCHDOG_S)

T0 = time.monotonic()


def log(msg):
    print("[%5.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


class Failed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failed(msg)


# The README's "Install as a service" commands.

def readme_commands():
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    m = re.search(r"^## Install as a service\n(.*?)(?=^## |\Z)", text,
                  re.M | re.S)
    if m is None:
        raise Failed("README.md has no '## Install as a service' section")
    cmds = []
    for block in re.findall(r"^```\n(.*?)^```", m.group(1), re.M | re.S):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("sudo "):
                line = line[len("sudo "):]
            if line:
                cmds.append(line)
    return cmds


class Readme:
    """Runs the README's commands; knows which ones were used."""

    def __init__(self, ct):
        self.ct = ct
        self.cmds = readme_commands()
        self.used = set()

    def take(self, cmd):
        if cmd not in self.cmds:
            raise Failed("the README's 'Install as a service' does not say "
                         "%r (it says %r)" % (cmd, self.cmds))
        self.used.add(cmd)
        log("README: %s" % cmd)
        return cmd

    def systemctl(self, cmd, **kw):
        return self.ct.run(self.take(cmd).split(), **kw)


# Talking to systemd and the daemon in the container.

def show(ct, unit, *props):
    argv = ["systemctl", "show", unit]
    for p in props:
        argv += ["-p", p]
    out = ct.run(argv).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def journal(ct, *matches):
    """Message lines of the journal for the matches, e.g. -u UNIT."""
    return ct.run(["journalctl", "--no-pager", "-q", "-o", "cat"] +
                  list(matches)).stdout.splitlines()


def daemon_log(ct, invocation):
    """What one run of the daemon wrote (its stderr, in the journal)."""
    return journal(ct, "_SYSTEMD_INVOCATION_ID=" + invocation)


def wait_for(what, cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failed("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(step)


class Response:
    def __init__(self, rc, head, body, err, t_start, t_end):
        self.rc = rc
        self.body = body
        self.err = err
        self.t_start = t_start
        self.t_end = t_end
        self.status = None
        self.headers = {}
        for line in head.splitlines():
            m = re.match(r"HTTP/[\d.]+ (\d{3})", line)
            if m:
                self.status = int(m.group(1))
                self.headers = {}
            elif ":" in line:
                k, v = line.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()

    def __repr__(self):
        return "<curl exit %d, HTTP %s, %d bytes%s>" % (
            self.rc, self.status, len(self.body),
            ", " + self.err.strip() if self.err.strip() else "")


class Fetch:
    """curl, from the host, in the container's network namespace."""

    def __init__(self, ct, path, rate=None, timeout=30):
        argv = ["curl", "-sS", "--max-time", str(timeout), "-D",
                "/dev/stderr", "-o", "-", "http://127.0.0.1:%d%s" % (PORT, path)]
        if rate:
            argv[1:1] = ["--limit-rate", rate]
        self.t_start = time.monotonic()
        self.p = ct.net_popen(argv, timeout=timeout + 5,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Read as it comes: a full pipe would stop curl, and so the download.
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        self.out, self.err = container.reap(self.p, None)
        self.t_end = time.monotonic()

    def done(self):
        return not self.reader.is_alive()

    def result(self):
        self.reader.join()
        out, err = self.out, self.err.decode(errors="replace")
        head = "\n".join(l for l in err.splitlines() if not l.startswith("curl:"))
        msgs = "\n".join(l for l in err.splitlines() if l.startswith("curl:"))
        return Response(self.p.returncode, head, out, msgs, self.t_start,
                        self.t_end)


def get(ct, path, **kw):
    return Fetch(ct, path, **kw).result()


# Setup.

def install(ct, readme):
    """`make install` with DESTDIR at the container's root."""
    readme.take("make install")
    # As a person would type it: no variables of a make that runs us
    # (make check-asan's BUILD= would install a sanitizer build).
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    r = container.run(["make", "-s", "-C", REPO, "install",
                       "DESTDIR=" + ct.path(""), "PREFIX=" + PREFIX],
                      timeout=300, check=False, env=env)
    if r.returncode != 0:
        raise Failed("make install failed:\n" + r.stdout + r.stderr)
    r = ct.run([PREFIX + "/bin/lanhttpd", "--version"], check=False)
    expect(r.returncode == 0, "the installed binary does not run in the "
           "container: %s" % (r.stdout + r.stderr).strip())
    readme.systemctl("systemctl daemon-reload")


def config_text(ct, index="index.html", mime=None, broken=False):
    """The installed httpd.ini after the README's edit, with test values."""
    text = re.sub(r"^;index = index.html$", "index = " + index, ct.ini,
                  flags=re.M)
    if broken:
        text = re.sub(r"^;threads = 0$", "threads = lots", text, flags=re.M)
    if mime:
        text += "\n[mime]\nlhtest = %s\n" % mime
    return text


class Files:
    """What the test shares in /srv/share, and what it expects back."""

    def __init__(self, ct):
        self.big = os.urandom(BIG_SIZE)
        self.big_sha = hashlib.sha256(self.big).hexdigest()
        self.small = b"small file for the reload test\n" * 8
        self.index = b"<p>index.html</p>\n"
        self.alt = b"<p>alt.html</p>\n"
        for name, data in (("big.bin", self.big), ("small.txt", self.small),
                           ("index.html", self.index), ("alt.html", self.alt),
                           ("probe.lhtest", b"probe\n")):
            ct.write(SHARE + "/" + name, data)

    def big_ok(self, r):
        return (r.rc == 0 and r.status == 200 and len(r.body) == BIG_SIZE
                and hashlib.sha256(r.body).hexdigest() == self.big_sha)


def configure(ct, readme):
    """The README's edit (root = /srv/share) and the test drop-in."""
    readme.take("sudoedit " + INI)
    ct.files = Files(ct)
    with open(ct.path(INI)) as f:
        installed = f.read()
    # "set root = /srv/share (readable by everyone)"
    ct.ini, n = re.subn(r"^root = .*$", "root = " + SHARE, installed,
                        flags=re.M)
    expect(n == 1, "no 'root =' line in the installed %s" % INI)
    ct.write(INI, config_text(ct))
    ct.write("/etc/systemd/system/%s.d/50-test.conf" % UNIT, DROPIN)
    readme.systemctl("systemctl daemon-reload")


# The checks.

def check_socket_activation(ct, readme):
    readme.systemctl("systemctl enable --now lanhttpd.socket")
    s = show(ct, "lanhttpd.socket", "ActiveState")
    expect(s["ActiveState"] == "active", "lanhttpd.socket: %s" % s)
    time.sleep(0.5)
    s = show(ct, UNIT, "ActiveState")
    expect(s["ActiveState"] == "inactive",
           "the service started before any connection: %s" % s)
    with open(os.path.join(REPO, "conf", "www", "hello.txt"), "rb") as f:
        want = f.read()
    r = get(ct, "/hello.txt")
    expect(r.rc == 0 and r.status == 200 and r.body == want,
           "GET /hello.txt from the shipped root: %r %r" % (r, r.body[:80]))
    s = show(ct, UNIT, "ActiveState", "SubState", "InvocationID", "MainPID")
    expect((s["ActiveState"], s["SubState"]) == ("active", "running"),
           "after the first connection: %s" % s)
    lines = daemon_log(ct, s["InvocationID"])
    adopted = [l for l in lines if "(socket activation)" in l]
    expect(adopted, "the daemon did not adopt the socket unit's fd:\n"
           + "\n".join(lines))
    return "inactive until the first connection, then 200 with %d bytes; " \
        "daemon: %r" % (len(r.body), adopted[0])


def check_security(ct, readme):
    s = show(ct, UNIT, "ActiveState")
    expect(s["ActiveState"] == "active", "the unit is not live: %s" % s)
    r = ct.run(["systemd-analyze", "security", "--no-pager", UNIT], timeout=60)
    m = re.search(r"Overall exposure level for %s: ([\d.]+) (\S+)"
                  % re.escape(UNIT), r.stdout)
    expect(m, "no exposure level in:\n" + r.stdout)
    expect(float(m.group(1)) <= 2.0, r.stdout)
    return "live exposure %s %s (limit 2.0)" % (m.group(1), m.group(2))


def stop_socket_activation(ct, readme):
    ct.run(["systemctl", "disable", "--now", "lanhttpd.socket"])
    ct.run(["systemctl", "stop", UNIT])


def check_start(ct, readme):
    cmd = readme.take("systemctl enable --now lanhttpd.service")
    t_start = time.monotonic()
    p = ct.popen(cmd.split(), timeout=30, stdout=subprocess.PIPE,
                 stderr=subprocess.STDOUT)
    activating = []         # (time, MainPID) seen while not yet ready
    refused = None
    while p.poll() is None and time.monotonic() - t_start < 30:
        s = show(ct, UNIT, "ActiveState", "SubState", "MainPID")
        if s["ActiveState"] == "activating" and s["MainPID"] != "0":
            activating.append((time.monotonic() - t_start, s["MainPID"]))
            if refused is None:
                # Before READY=1 the daemon has not bound the port yet.
                refused = get(ct, "/small.txt", timeout=2)
        time.sleep(0.1)
    out, _ = container.reap(p, 5)
    expect(p.returncode == 0, "%s: exit %s\n%s" % (cmd, p.returncode, out))
    s = show(ct, UNIT, "ActiveState", "SubState", "MainPID", "InvocationID",
             "ExecMainStartTimestampMonotonic",
             "ActiveEnterTimestampMonotonic")
    expect((s["ActiveState"], s["SubState"]) == ("active", "running"), s)
    expect(activating and activating[-1][0] >= START_DELAY_S - 0.5,
           "not seen 'activating' during the %d s start: %s"
           % (START_DELAY_S, activating))
    expect(all(pid == s["MainPID"] for _, pid in activating),
           "MainPID changed between activating and running: %s, now %s"
           % (activating, s["MainPID"]))
    expect(refused is not None and refused.rc != 0,
           "the port answered while activating: %r" % refused)
    ready_after = (int(s["ActiveEnterTimestampMonotonic"]) -
                   int(s["ExecMainStartTimestampMonotonic"])) / 1e6
    expect(ready_after >= START_DELAY_S,
           "active %.2f s after exec, before the daemon could be ready"
           % ready_after)
    r = get(ct, "/small.txt")
    expect(r.status == 200 and r.body == ct.files.small,
           "GET right after start: %r" % r)
    lines = daemon_log(ct, s["InvocationID"])
    expect(any(re.search(r"listening on http://\S+/$", l) for l in lines),
           "the daemon did not bind its own listener:\n" + "\n".join(lines))
    st = readme.systemctl("systemctl status lanhttpd", check=False).stdout
    expect("Active: active (running)" in st, st)
    m = re.search(r'Status: "(Serving: \d+ connections? open, \d+ queued, '
                  r'\d+ requests? served; (sandbox: [^"]*))"', st)
    expect(m, "no STATUS= text in systemctl status:\n" + st)
    # The daemon's own sandbox is in force inside the unit's.
    expect("Landlock ABI" in m.group(2) and "seccomp" in m.group(2),
           "the daemon's sandbox is not in force:\n" + st)
    return "activating for %.1f s (port closed, same PID %s), active %.2f s " \
        "after exec; status: %r" % (activating[-1][0], s["MainPID"],
                                     ready_after, m.group(1))


def check_sandbox(ct, readme):
    s = show(ct, UNIT, "MainPID", "DynamicUser", "ActiveState")
    expect(s["ActiveState"] == "active", "not running: %s" % s)
    pid = s["MainPID"]
    status = ct.run(["cat", "/proc/%s/status" % pid]).stdout
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
    gids = re.search(r"^Gid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
    expect(uids and gids, status)
    expect("0" not in uids.groups() and "0" not in gids.groups(),
           "the main process has a root id: %s %s"
           % (uids.group(0), gids.group(0)))
    uid, gid = uids.group(1), gids.group(1)
    user = ct.run(["getent", "passwd", uid], check=False).stdout.split(":")[0]
    expect(s["DynamicUser"] == "yes" and user == "lanhttpd",
           "DynamicUser=%s, uid %s is %r" % (s["DynamicUser"], uid, user))

    # In the service's own mount namespace, as root and as its user.
    def inside(argv, as_service=True):
        ids = ["-S", uid, "-G", gid] if as_service else []
        return ct.run(["nsenter", "-t", pid, "-m"] + ids + argv, check=False)

    shipped = "%s/share/lanhttpd/www/hello.txt" % PREFIX
    r = inside(["cat", shipped])
    with open(os.path.join(REPO, "conf", "www", "hello.txt")) as f:
        expect(r.returncode == 0 and r.stdout == f.read(),
               "the service user cannot read %s: %s" % (shipped, r.stderr))
    for d in ("/etc", "/etc/lanhttpd", "/usr", PREFIX + "/share/lanhttpd"):
        probe = d + "/lanhttpd-write-probe"
        r = inside(["touch", probe])
        expect(r.returncode != 0, "the service could write %s" % probe)
        # Even root may not: the mount is read-only, not just the mode.
        r = inside(["touch", probe], as_service=False)
        expect(r.returncode != 0 and "Read-only file system" in r.stderr,
               "%s is not read-only in the service's namespace: %s"
               % (d, r.stderr))
        expect(not os.path.exists(ct.path(probe)), "%s exists" % probe)
    # The same probe where the unit allows writing proves it can write.
    r = inside(["sh", "-c", "touch /var/log/lanhttpd/probe && "
                "rm /var/log/lanhttpd/probe"])
    expect(r.returncode == 0, "cannot write even the LogsDirectory: %s"
           % r.stderr)
    return "uid %s (%s, DynamicUser), reads %s; /etc and /usr read-only " \
        "(writes fail, LogsDirectory writes)" % (uid, user, shipped)


class Load:
    """Bounded download loops: big files (staggered) and a small one."""

    def __init__(self, ct, files, bigs=2, rate="8M", max_each=40):
        self.ct = ct
        self.files = files
        self.stop = threading.Event()
        self.big = []               # Responses
        self.small = []
        self.bad = []
        self.lock = threading.Lock()
        self.threads = []
        for i in range(bigs):
            self.threads.append(threading.Thread(
                target=self._loop, daemon=True,
                args=("/big.bin", rate, self.big, files.big_ok, 1.2 * i,
                      max_each)))
        self.threads.append(threading.Thread(
            target=self._loop, daemon=True,
            args=("/small.txt", None, self.small,
                  lambda r: r.rc == 0 and r.status == 200 and
                  r.body == files.small, 0, 40 * max_each)))
        for t in self.threads:
            t.start()

    def _loop(self, path, rate, into, ok, delay, max_n):
        time.sleep(delay)
        for _ in range(max_n):
            if self.stop.is_set():
                break
            try:
                r = get(self.ct, path, rate=rate, timeout=20)
            except Exception as e:     # noqa: BLE001 - counted as a failure
                r = Response(-1, "", b"", repr(e), 0, 0)
            with self.lock:
                into.append(r)
                if not ok(r):
                    self.bad.append((path, r))

    def in_flight(self, t0, t1):
        """Big downloads that ran across [t0, t1]."""
        with self.lock:
            return [r for r in self.big if r.t_start <= t0 and r.t_end >= t1]

    def finish(self, timeout=30):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
            if t.is_alive():
                raise Failed("a download loop did not end in %d s" % timeout)


def wait_reload(ct, invocation, marker, before, timeout=15):
    """systemd 252 returns from reload before the daemon is done."""
    def done():
        n = sum(marker in l for l in daemon_log(ct, invocation))
        return n > before and show(ct, UNIT, "ActiveState")[
            "ActiveState"] == "active"
    wait_for("%r in the journal" % marker, done, timeout, step=0.05)


def check_reload_under_load(ct, readme):
    files = ct.files
    s = show(ct, UNIT, "MainPID", "InvocationID", "NRestarts", "ActiveState")
    expect(s["ActiveState"] == "active", "not running: %s" % s)
    pid, inv = s["MainPID"], s["InvocationID"]
    ok_mark = "configuration reloaded"
    bad_mark = "reload failed: keeping the running configuration"
    load = Load(ct, files)
    reloads = []                # (t0, t1) of each reload
    try:
        time.sleep(1.5)         # both big downloads under way
        for i in range(1, 6):
            mime = "application/x-lanhttpd-reload-%d" % i
            index = "alt.html" if i % 2 else "index.html"
            ct.write(INI, config_text(ct, index=index, mime=mime))
            before = sum(ok_mark in l for l in daemon_log(ct, inv))
            t0 = time.monotonic()
            readme.systemctl("systemctl reload lanhttpd")
            wait_reload(ct, inv, ok_mark, before)
            reloads.append((t0, time.monotonic()))
            r = get(ct, "/probe.lhtest")
            expect(r.headers.get("content-type") == mime,
                   "reload %d: [mime] not in effect: %r" % (i, r.headers))
            r = get(ct, "/")
            want = files.alt if i % 2 else files.index
            expect(r.status == 200 and r.body == want,
                   "reload %d: index = %s not in effect: %r" % (i, index,
                                                                 r.body))
            time.sleep(0.2)
        # A broken file: refused, the old one stays, the journal says why.
        ct.write(INI, config_text(ct, index="index.html", broken=True,
                                  mime="text/x-broken"))
        before = sum(bad_mark in l for l in daemon_log(ct, inv))
        t0 = time.monotonic()
        readme.systemctl("systemctl reload lanhttpd")
        wait_reload(ct, inv, bad_mark, before)
        reloads.append((t0, time.monotonic()))
        why = [l for l in daemon_log(ct, inv) if "threads" in l]
        expect(why and "httpd.ini:" in why[-1],
               "the journal does not say why the reload failed:\n"
               + "\n".join(daemon_log(ct, inv)[-10:]))
        r = get(ct, "/probe.lhtest")
        expect(r.headers.get("content-type") ==
               "application/x-lanhttpd-reload-5",
               "after a broken reload the old config is gone: %r" % r.headers)
        ct.write(INI, config_text(ct, index="alt.html",
                                  mime="application/x-lanhttpd-reload-5"))
        time.sleep(0.5)
    finally:
        load.finish()
    s2 = show(ct, UNIT, "MainPID", "NRestarts", "ActiveState")
    expect(s2["MainPID"] == pid, "MainPID changed: %s -> %s"
           % (pid, s2["MainPID"]))
    expect(s2["NRestarts"] == s["NRestarts"] and s2["ActiveState"] == "active",
           "restarted or not active: %s" % s2)
    expect(not load.bad, "%d failed or truncated downloads: %s"
           % (len(load.bad), load.bad[:5]))
    covered = sum(bool(load.in_flight(t0, t1)) for t0, t1 in reloads)
    expect(covered == len(reloads), "only %d of %d reloads ran while a big "
           "download was in flight" % (covered, len(reloads)))
    return "5 reloads + 1 broken (refused: %r), each during a 20 MiB " \
        "download; %d big and %d small downloads, 0 failed or truncated; " \
        "MainPID %s kept" % (why[-1], len(load.big), len(load.small), pid)


def check_watchdog(ct, readme):
    props = ("MainPID", "NRestarts", "ActiveState", "WatchdogUSec",
             "WatchdogTimestampMonotonic", "InvocationID")
    s = show(ct, UNIT, *props)
    expect(s["WatchdogUSec"] == "%ds" % WATCHDOG_S,
           "WatchdogUSec=%s" % s["WatchdogUSec"])
    pings = {int(s["WatchdogTimestampMonotonic"])}
    t_end = time.monotonic() + 3 * WATCHDOG_S
    while time.monotonic() < t_end:
        time.sleep(0.2)
        now = show(ct, UNIT, *props)
        expect(now["ActiveState"] == "active" and
               now["MainPID"] == s["MainPID"], "during the watchdog wait: %s"
               % now)
        pings.add(int(now["WatchdogTimestampMonotonic"]))
    expect(now["NRestarts"] == s["NRestarts"] == "0",
           "NRestarts %s -> %s" % (s["NRestarts"], now["NRestarts"]))
    ts = sorted(pings)
    gaps = [(b - a) / 1e6 for a, b in zip(ts, ts[1:])]
    expect(len(ts) >= 4 and max(gaps) < WATCHDOG_S,
           "watchdog pings seen at %s (gaps %s)" % (ts, gaps))
    timeouts = [l for l in journal(ct, "-u", UNIT) if "atchdog timeout" in l]
    expect(not timeouts, "\n".join(timeouts))
    # The daemon holds a ping back when its event loop or a worker seems
    # stuck, and says so: not once since this run started (the load and
    # reloads of check 4 included).
    start = int(show(ct, UNIT, "ExecMainStartTimestampMonotonic")[
        "ExecMainStartTimestampMonotonic"]) / 1e6
    held = []
    for l in journal(ct, "-o", "short-monotonic",
                     "_SYSTEMD_INVOCATION_ID=" + s["InvocationID"]):
        m = re.match(r"\[\s*([\d.]+)\] \S+ [^:]+: (watchdog:.*)", l)
        if m:
            held.append("%.3f s after the start: %s"
                        % (float(m.group(1)) - start, m.group(2)))
    expect(not held, "pings held back: %s" % held)
    return "WatchdogSec=%ds: %d pings in %d s (largest gap %.2f s), none " \
        "held back; NRestarts 0, MainPID %s kept" % (
            WATCHDOG_S, len(ts) - 1, 3 * WATCHDOG_S, max(gaps), s["MainPID"])


def check_stop(ct, readme):
    files = ct.files
    s = show(ct, UNIT, "MainPID", "InvocationID", "ActiveState")
    expect(s["ActiveState"] == "active", "not running: %s" % s)
    # Slow enough that the kernel's socket buffers (several MiB on
    # loopback) cannot take the rest: the daemon is still sending.
    dl = Fetch(ct, "/big.bin", rate="4M", timeout=SHUTDOWN_TIMEOUT_S + 10)
    time.sleep(0.7)
    if dl.done():
        raise Failed("the download ended before the stop: %r" % dl.result())
    t_stop = time.monotonic()
    ct.run(["systemctl", "stop", UNIT], timeout=SHUTDOWN_TIMEOUT_S + 20)
    t_stopped = time.monotonic()
    r = dl.result()
    expect(files.big_ok(r), "the download did not complete: %r" % r)
    expect(r.t_end - t_stop > 0.5, "the download was not in flight at the "
           "stop (it ended %.2f s after)" % (r.t_end - t_stop))
    expect(t_stopped - t_stop < SHUTDOWN_TIMEOUT_S,
           "stop took %.1f s" % (t_stopped - t_stop))
    s2 = show(ct, UNIT, "Result", "ActiveState", "ExecMainStatus",
              "ExecMainCode")
    expect((s2["Result"], s2["ActiveState"], s2["ExecMainStatus"]) ==
           ("success", "inactive", "0"), "after stop: %s" % s2)
    lines = daemon_log(ct, s["InvocationID"])
    # The daemon's view: the response was still going when the drain began.
    drain = [l for l in lines if l.startswith("shutting down:")]
    expect(drain and re.match(r"shutting down: [1-9]", drain[0]),
           "no response in flight at the stop: %s" % drain)
    expect(any(l.startswith("stopped after") for l in lines),
           "\n".join(lines[-10:]))
    return "%r; the 20 MiB download completed byte-exact %.2f s after the " \
        "stop (limit %d s); Result=success, exit 0" % (
            drain[0], r.t_end - t_stop, SHUTDOWN_TIMEOUT_S)


def check_manager_warnings(ct, readme):
    """Whatever systemd itself said about our units at warning or worse."""
    said = [l for l in ct.run(["journalctl", "--no-pager", "-q", "-b",
                               "_PID=1", "-p", "warning", "-o", "cat"]
                              ).stdout.splitlines() if "lanhttpd" in l]
    expect(not said, "\n".join(said))
    return "none in this boot (unit loading, starts, reloads, stops)"


def check_readme_used(ct, readme):
    unused = [c for c in readme.cmds if c not in readme.used]
    expect(not unused, "README commands this run did not use: %s" % unused)
    return "all %d commands of 'Install as a service' used: %s" % (
        len(readme.cmds), "; ".join(readme.cmds))


CHECKS = [
    ("1", "socket activation", check_socket_activation),
    ("7", "systemd-analyze security (live)", check_security),
    (None, "stop socket activation", stop_socket_activation),
    (None, "README edit and the test drop-in", configure),
    ("2", "start: active only after READY=1", check_start),
    ("3", "user and sandbox of the live process", check_sandbox),
    ("4", "reload under load", check_reload_under_load),
    ("5", "watchdog", check_watchdog),
    ("6", "stop during a download", check_stop),
    ("W", "systemd's warnings about our units", check_manager_warnings),
    ("0", "README commands", check_readme_used),
]


# Running.

def cannot_run():
    """Why this machine cannot boot the container, or None."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if os.geteuid() != 0:
        return "not root (systemd-nspawn needs root)"
    for tool in ("systemd-nspawn", "nsenter", "curl", "timeout"):
        if shutil.which(tool) is None:
            return "%s is not installed (make deps-systemd)" % tool
    suite = container.os_release().get("VERSION_CODENAME", "")
    if (shutil.which("debootstrap") is None and
            not os.path.isdir(container.tree_dir(suite))):
        return "debootstrap is not installed (make deps-systemd)"
    hs = container.cgroup_hierarchies()
    if not any(os.access(h, os.W_OK) for h in hs):
        return "no writable cgroup hierarchy under /sys/fs/cgroup"
    r = subprocess.run(["timeout", "10", "unshare", "--mount", "--pid",
                        "--net", "--fork", "true"], capture_output=True)
    if r.returncode != 0:
        return "cannot create namespaces here (%s)" % r.stderr.decode().strip()
    return None


def main():
    args = sys.argv[1:]
    if_possible = "--if-possible" in args
    only = None
    if "--only" in args:
        only = args[args.index("--only") + 1].split(",")
    why = cannot_run()
    if why is not None:
        if if_possible:
            print("check-systemd skipped: %s" % why)
            return 0
        print("check-systemd cannot run: %s" % why)
        return 1

    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # A shell without job control has its background jobs ignore INT.
        if signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, interrupted)

    passed = failed = 0
    work = container.workdir()
    ct = None
    try:
        container.remove_stale(log)
        tree = container.ensure_tree(log)
        ct = container.Container(tree, work, log)
        log("booting %s" % ct.name)
        state = ct.boot()
        log("systemd is %s (container PID 1 is host PID %d)"
            % (state, ct.pid1))
        readme = Readme(ct)
        install(ct, readme)
        for num, title, fn in CHECKS:
            if only is not None and num is not None and num not in only:
                continue
            t = time.monotonic()
            try:
                what = fn(ct, readme)
            except Exception as e:      # noqa: BLE001 - reported, then on
                failed += 1
                if not isinstance(e, (Failed, Error)):
                    e = traceback.format_exc()
                log("FAIL %s %s: %s" % (num or "-", title, e))
                tail = ct.run(["journalctl", "--no-pager", "-n", "25"],
                              check=False).stdout
                print("  journal tail:\n    " + "\n    ".join(
                    tail.splitlines()), flush=True)
                continue
            if num is None:
                continue
            passed += 1
            log("ok   %s %s (%.1f s): %s" % (num, title,
                                             time.monotonic() - t, what))
    except KeyboardInterrupt as e:
        log("interrupted (%s): powering off" % (e or "Ctrl-C"))
        failed += 1
    except (Failed, Error, OSError) as e:
        log("FAIL setup: %s" % e)
        if ct is not None and ct.pid1 is not None:
            print(ct.console_tail(), flush=True)
        failed += 1
    finally:
        # Nothing may stop the power-off now.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT,
                                                  signal.SIGTERM,
                                                  signal.SIGHUP})
        container.kill_all()
        if ct is not None:
            t = time.monotonic()
            if ct.poweroff():
                failed += 1
            log("powered off and removed (%.1f s)" % (time.monotonic() - t))
        shutil.rmtree(work, ignore_errors=True)
    print("check-systemd: %d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
