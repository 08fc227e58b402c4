"""Replicas behind a real load balancer, on shared storage (issue 21).

Two lanhttpd replicas, each in a network namespace of its own (r1
10.200.0.11, r2 10.200.0.12), and HAProxy in a third (lb 10.200.0.1,
where the test's client threads run too), joined by veth pairs to a
bridge in a fourth: no packet leaves the namespaces the test makes.
HAProxy runs the configuration block of docs/scaling.md as written (only
its stats socket moves into the test's folder).

Both replicas serve one shared folder, each through a mount of its own,
as NFS clients do: an export of the kernel NFS server (in a fifth
namespace) where the kernel has nfsd, else a FUSE mount (bindfs, without
attribute or entry caching, like NFS with actimeo=0) per replica.
lanhttpd finds its root on a network or FUSE file system, whose changes
inotify does not see, and checks a cached file with a stat on every use
(file_cache_valid = 0).  Each test starts the whole set (about 0.3 s)
and prints one line of figures:

  a) a file PUT to r1 is served at once, byte for byte, by r2, which had
     answered 404 for it; so is a replacement of a file r2 had cached;
  b) ETags agree (etag_inode = off) across replicas and across a cp -a
     copy with other inodes; If-Range with r1's ETag resumes on r2 (206);
  c) a download through HAProxy, cut because its replica is stopped
     (SIGTERM: the drain lets it run for shutdown_timeout, then cuts it),
     resumes with Range + If-Range through HAProxy on the other replica,
     and the assembled file has the original's SHA-256;
  d) a rolling restart (SIGTERM, exit, start, HAProxy sees it UP; then
     the other) under ~6 s of client load through HAProxy: no request
     fails, for the client and in HAProxy's counters;
  e) a tus upload through HAProxy stays on the replica that created it
     (stick table on the upload id): the other answers 404 for it;
  x, y) uploads to new names, and a replica's start beside uploads in
     progress, on shared storage without O_TMPFILE.
"""

import base64
import ctypes
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import SKIP_FIGURES, BIN, WRAPPER, Conn, Server, scaled

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "..", "docs", "scaling.md")
DOC_SOCK = "/run/haproxy/admin.sock"
HEALTH = "/.well-known/lanhttpd/health"
PORT = 8080
LB = "10.200.0.1"
ADDRS = {"r1": "10.200.0.11", "r2": "10.200.0.12", "nfs": "10.200.0.20"}
SHUTDOWN = 2.0          # the replicas' shutdown_timeout, seconds

INI = """[server]
listen = {addr}:%d
etag_inode = off
file_cache_valid = 0
shutdown_timeout = %gs
[log]
access_log = off
[upload]
enable = on
paths = /up
overwrite = on
""" % (PORT, SHUTDOWN)

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


def run(*cmd, timeout=10.0, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=scaled(timeout))
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode,
                                                r.stderr.strip()))
    return r


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def machine_reason():
    """Why this machine cannot run the test at all, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, mounts)"
    for tool, pkg in (("ip", "iproute2"), ("unshare", "util-linux"),
                      ("haproxy", "haproxy")):
        if shutil.which(tool) is None:
            return "%s is not installed (sh .ci/deps %s)" % (tool, pkg)
    return None


def fuse_reason():
    if shutil.which("bindfs") is None:
        return "bindfs is not installed (sh .ci/deps bindfs)"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse on this machine"
    return None


def nfs_reason():
    """Why the kernel NFS server cannot be used here, or None."""
    for tool in ("exportfs", "rpc.nfsd", "rpc.mountd", "mount.nfs"):
        if shutil.which(tool) is None:
            return "%s is not installed (sh .ci/deps nfs-kernel-server)" % tool

    def has_fs(name):
        with open("/proc/filesystems") as f:
            return any(line.split()[-1] == name for line in f if line.strip())

    for fs, mod in (("nfsd", "nfsd"), ("nfs4", "nfsv4")):
        if not has_fs(fs) and shutil.which("modprobe") is not None:
            subprocess.run(["modprobe", mod], capture_output=True,
                           timeout=10)
        if not has_fs(fs):
            return ("the kernel has no %s file system (not built in, and "
                    "no module loaded with modprobe %s)" % (fs, mod))
    return None


def stat_socket(path, command):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(scaled(5))
    try:
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk
    finally:
        s.close()


class Replica(Server):
    """A lanhttpd on its own address in a network namespace."""

    def __init__(self, name, netns, root):
        super().__init__(root, ini=INI.format(addr=ADDRS[name]),
                         activate=False)
        self.name = name
        self.netns = netns
        self.port = PORT

    def start(self):
        env = dict(os.environ)
        env.pop("STATE_DIRECTORY", None)
        for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
            env.pop(k, None)
        env["XDG_STATE_HOME"] = os.path.join(self.tmp, "state")
        # ip netns exec execs the command: the pid is lanhttpd's own.
        cmd = ["ip", "netns", "exec", self.netns] + WRAPPER + [BIN] + \
            self.args + [self.root]
        with open(self.stdout_path, "wb") as out, \
                open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, env=env,
                                         stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        self.wait_ready()
        return self


def http(host, path, method="GET", headers=None, body=b"", timeout=10.0):
    c = Conn(PORT, timeout=timeout, host=host)
    try:
        h = {"Connection": "close"}
        if body or method in ("PUT", "PATCH", "POST"):
            h["Content-Length"] = str(len(body))
        h.update(headers or {})
        return c.request(method, path, h, body=body)
    finally:
        c.close()


class Replicas:
    """The checks; a subclass says how the replicas share their folder."""

    STORAGE = None

    def setUp(self):
        reason = machine_reason()
        if reason:
            self.skipTest(reason)
        # Processes, namespaces and HAProxy more than the server's code:
        # the plain run has it; the sanitizer runs leave it out.
        if SKIP_FIGURES:
            self.skipTest("a load test (LANHTTPD_SKIP_LOAD or "
                          "LANHTTPD_SKIP_FIGURES): make check runs it plain")
        self.t0 = time.monotonic()
        self.tmp = tempfile.mkdtemp(prefix="lanhttpd-replicas-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.prefix = "lhr%d" % os.getpid()
        self.netns = {}
        self.make_network()
        self.shared = os.path.join(self.tmp, "shared")   # what is exported
        os.makedirs(os.path.join(self.shared, "up"))
        self.roots = self.make_storage()    # replica name -> its mount
        self.replicas = {}
        self.addCleanup(self.stop_replicas)
        # The client runs in lb, beside HAProxy: this thread, and the
        # threads it starts, open their sockets there.
        self.home_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        self.addCleanup(os.close, self.home_ns)
        lb_fd = os.open("/run/netns/" + self.netns["lb"], os.O_RDONLY)
        try:
            setns(lb_fd)
        finally:
            os.close(lb_fd)
        self.addCleanup(setns, self.home_ns)
        self.haproxy = None
        self.addCleanup(self.stop_haproxy)
        self.setup_seconds = None

    # ---- network namespaces ----

    def make_network(self):
        """lb, r1, r2 (and nfs) on a bridge in a namespace of its own."""
        roles = ["sw", "lb", "r1", "r2"] + (["nfs"] if self.STORAGE == "nfs"
                                            else [])
        for role in roles:
            name = "%s-%s" % (self.prefix, role)
            r = run("ip", "netns", "add", name, check=False)
            if r.returncode != 0:
                self.skipTest("network namespaces refused here: "
                              + r.stderr.strip())
            self.netns[role] = name
            self.addCleanup(run, "ip", "netns", "del", name, check=False)
        sw = self.netns["sw"]
        run("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", sw, "link", "set", "br0", "up")
        for role in roles[1:]:
            ns = self.netns[role]
            addr = LB if role == "lb" else ADDRS[role]
            run("ip", "-n", sw, "link", "add", "v-" + role, "type", "veth",
                "peer", "name", "eth0", "netns", ns)
            run("ip", "-n", sw, "link", "set", "v-" + role, "master", "br0",
                "up")
            run("ip", "-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")

    # ---- processes ----

    def start_replica(self, name):
        r = Replica(name, self.netns[name], self.roots[name])
        self.replicas[name] = r
        return r.start()

    def stop_replica(self, name, timeout=15.0):
        """SIGTERM, wait; asserts a clean exit (the harness's checks)."""
        r = self.replicas.pop(name)
        try:
            return r.stop(timeout=timeout)
        finally:
            shutil.rmtree(r.tmp, ignore_errors=True)

    def stop_replicas(self):
        errors = []
        for name in list(self.replicas):
            try:
                self.stop_replica(name)
            except AssertionError as e:
                errors.append(str(e))
        if errors:
            raise AssertionError("\n".join(errors))

    def haproxy_config(self):
        with open(DOC) as f:
            doc = f.read()
        m = re.search(r"<!-- haproxy\.cfg:[^>]*-->\n```\n(.*?)```", doc,
                      re.S)
        self.assertIsNotNone(m, "no haproxy.cfg block in docs/scaling.md")
        cfg = m.group(1)
        self.assertIn(DOC_SOCK, cfg)
        self.assertIn("option httpchk GET " + HEALTH, cfg)
        self.sock = os.path.join(self.tmp, "haproxy.sock")
        return cfg.replace(DOC_SOCK, self.sock)

    def start_haproxy(self):
        path = os.path.join(self.tmp, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(self.haproxy_config())
        run("haproxy", "-c", "-q", "-f", path)
        self.haproxy_log = os.path.join(self.tmp, "haproxy.log")
        with open(self.haproxy_log, "wb") as log:
            self.haproxy = subprocess.Popen(
                ["ip", "netns", "exec", self.netns["lb"], "haproxy", "-db",
                 "-f", path], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        wait_for(lambda: all(self.server_status(n) == "UP"
                             for n in ("r1", "r2")), 10, "HAProxy: both UP")

    def stop_haproxy(self):
        if self.haproxy is None:
            return
        if self.haproxy.poll() is None:
            self.haproxy.send_signal(signal.SIGTERM)
        try:
            self.haproxy.wait(timeout=scaled(5))
        except subprocess.TimeoutExpired:
            self.haproxy.kill()
            self.haproxy.wait()
        self.haproxy = None

    def stats(self):
        """show stat: {(proxy, server): {field: value}}."""
        try:
            text = stat_socket(self.sock, "show stat")
        except OSError:
            return {}
        lines = text.splitlines()
        if not lines or not lines[0].startswith("# "):
            return {}
        names = lines[0][2:].split(",")
        out = {}
        for line in lines[1:]:
            if line:
                row = dict(zip(names, line.split(",")))
                out[(row["pxname"], row["svname"])] = row
        return out

    def server_status(self, name):
        row = self.stats().get(("lanhttpd", name))
        return row and row["status"].split()[0]

    # ---- the storage ----

    def make_storage(self):
        raise NotImplementedError

    # ---- the checks ----

    def start_all(self):
        for name in ("r1", "r2"):
            self.start_replica(name)
            self.assertRegex(self.replicas[name].stderr(),
                             r"root '[^']*' is on \w+, whose changes inotify "
                             "does not see")
        self.start_haproxy()
        self.setup_seconds = time.monotonic() - self.t0

    def report(self, line):
        print("\nreplicas [%s] %s (setup %.1f s, test %.1f s)"
              % (self.STORAGE, line, self.setup_seconds,
                 time.monotonic() - self.t0))
        sys.stdout.flush()

    def put_shared(self, rel, data):
        path = os.path.join(self.shared, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_a_written_through_one_served_by_the_other(self):
        self.start_all()
        r1, r2 = ADDRS["r1"], ADDRS["r2"]
        data = os.urandom(1 << 20)
        self.assertEqual(http(r2, "/up/a.bin").status, 404)
        r = http(r1, "/up/a.bin", "PUT", body=data)
        self.assertEqual(r.status, 201, r.body)
        t = time.monotonic()
        r = http(r2, "/up/a.bin")
        ms = (time.monotonic() - t) * 1000
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body == data, "replica 2 sent other bytes")
        # A small file, which r2 keeps in memory, replaced through r1.
        small = [os.urandom(4000), os.urandom(4100)]
        self.assertEqual(http(r1, "/up/s.txt", "PUT", body=small[0]).status,
                         201)
        for _ in range(2):
            self.assertEqual(http(r2, "/up/s.txt").body, small[0])
        self.assertEqual(http(r1, "/up/s.txt", "PUT", body=small[1]).status,
                         204)
        r = http(r2, "/up/s.txt")
        self.assertEqual((r.status, r.body == small[1]), (200, True),
                         "replica 2 served the old version")
        self.report("a) PUT to r1, GET from r2: 404 before, then 200 and "
                    "1 MiB identical (%.0f ms); a cached 4 KB file replaced "
                    "through r1: r2 sends the new bytes at once" % ms)

    def test_b_etags_agree_and_if_range_resumes_elsewhere(self):
        self.start_all()
        r1, r2 = ADDRS["r1"], ADDRS["r2"]
        big = os.urandom(4 << 20)
        self.put_shared("tree/big.bin", big)
        self.put_shared("tree/sub/small.txt", b"small\n" * 100)
        run("cp", "-a", os.path.join(self.shared, "tree"),
            os.path.join(self.shared, "tree-copy"))
        e1 = http(r1, "/tree/big.bin", "HEAD").header("etag")
        e2 = http(r2, "/tree/big.bin", "HEAD").header("etag")
        self.assertTrue(e1 and e1 == e2, (e1, e2))
        for rel in ("big.bin", "sub/small.txt"):
            a = os.stat(os.path.join(self.shared, "tree", rel))
            b = os.stat(os.path.join(self.shared, "tree-copy", rel))
            self.assertNotEqual(a.st_ino, b.st_ino)
            ea = http(r1, "/tree/" + rel, "HEAD").header("etag")
            eb = http(r2, "/tree-copy/" + rel, "HEAD").header("etag")
            self.assertTrue(ea and ea == eb, (rel, ea, eb))
        cut = 3 << 20
        r = http(r2, "/tree-copy/big.bin",
                 headers={"Range": "bytes=%d-" % cut, "If-Range": e1})
        self.assertEqual(r.status, 206)
        self.assertTrue(r.body == big[cut:])
        r = http(r2, "/tree/big.bin",
                 headers={"Range": "bytes=%d-" % cut, "If-Range": '"0-0"'})
        self.assertEqual((r.status, len(r.body)), (200, len(big)))
        self.report("b) ETag %s on r1 and r2, and for a cp -a copy with "
                    "other inodes; If-Range with r1's ETag on r2's copy: "
                    "206, 1 MiB identical; a stale If-Range: 200" % e1)

    def serving(self):
        """The one replica with a request in progress, per HAProxy."""
        st = self.stats()
        busy = [n for n in ("r1", "r2")
                if int(st.get(("lanhttpd", n), {}).get("scur") or 0) > 0]
        return busy[0] if len(busy) == 1 else None

    def test_c_cut_download_resumes_through_the_other(self):
        self.start_all()
        big = os.urandom(32 << 20)
        self.put_shared("big.bin", big)
        size = len(big)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        s.settimeout(scaled(20))
        s.connect((LB, PORT))
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: lb\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            self.assertTrue(chunk, "HAProxy closed the download")
            got += chunk
        head, _, body = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        etag = re.search(rb"(?im)^etag: *(.+?)\r?$", head).group(1).decode()
        # The client stops reading: the rest waits in buffers and in the
        # replica, which is stopped the way systemctl stop does it.
        victim = wait_for(self.serving, 5, "the download's replica")
        other = "r2" if victim == "r1" else "r1"
        t = time.monotonic()
        rc = self.stop_replica(victim, timeout=SHUTDOWN + 10)
        stopped = time.monotonic() - t
        self.assertEqual(rc, 0)
        self.assertGreaterEqual(stopped, SHUTDOWN * 0.9,
                                "the replica did not drain the download")
        wait_for(lambda: self.server_status(victim) == "DOWN", 5,
                 "HAProxy: %s DOWN" % victim)
        # What made it out before the cut.
        while True:
            try:
                chunk = s.recv(1 << 20)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            body += chunk
        s.close()
        cut = len(body)
        self.assertLess(cut, size, "the download was not cut")
        self.assertTrue(body == big[:cut], "the bytes before the cut differ")
        r = http(LB, "/big.bin", headers={
            "Range": "bytes=%d-" % cut, "If-Range": etag}, timeout=20)
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.header("content-range"),
                         "bytes %d-%d/%d" % (cut, size - 1, size))
        whole = body + r.body
        digest = hashlib.sha256(whole).hexdigest()
        self.assertEqual(digest, hashlib.sha256(big).hexdigest())
        self.report("c) 32 MiB download through HAProxy from %s, stopped "
                    "with SIGTERM: drained %.1f s, cut at %d bytes; Range + "
                    "If-Range through HAProxy -> %s: 206, SHA-256 of the "
                    "assembled file identical (%s...)"
                    % (victim, stopped, cut, other, digest[:16]))

    def test_d_rolling_restart_loses_no_request(self):
        self.start_all()
        files = {}
        for i in range(16):
            data = os.urandom(500 + 300 * i)
            self.put_shared("small/f%d.txt" % i, data)
            files["/small/f%d.txt" % i] = data
        rss_idle = max(r.rss_kib() for r in self.replicas.values())
        stop = threading.Event()
        lock = threading.Lock()
        counts = {"requests": 0, "max_ms": 0.0}
        failures = []

        def client(k):
            deadline = time.monotonic() + scaled(40)
            conn = None
            i = k
            while not stop.is_set() and time.monotonic() < deadline:
                path = "/small/f%d.txt" % (i % len(files))
                i += 1
                t = time.monotonic()
                try:
                    if conn is None:
                        conn = Conn(PORT, timeout=10, host=LB)
                    r = conn.request("GET", path)
                    if r.status != 200 or r.body != files[path]:
                        failures.append("%s: %d" % (path, r.status))
                    if r.header("connection", "").lower() == "close":
                        conn.close()
                        conn = None
                except (OSError, EOFError, AssertionError) as e:
                    failures.append("%s: %r" % (path, e))
                    if conn is not None:
                        conn.close()
                    conn = None
                ms = (time.monotonic() - t) * 1000
                with lock:
                    counts["requests"] += 1
                    counts["max_ms"] = max(counts["max_ms"], ms)
            if conn is not None:
                conn.close()

        before = self.stats()
        threads = [threading.Thread(target=client, args=(k,))
                   for k in range(4)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        timings = []
        rss_load = 0
        try:
            time.sleep(1.0)
            for name in ("r1", "r2"):
                for _ in range(5):      # a replica's RSS under this load
                    rss_load = max(rss_load, self.replicas[name].rss_kib())
                    time.sleep(0.05)
                t = time.monotonic()
                rc = self.stop_replica(name)
                self.assertEqual(rc, 0)
                t_exit = time.monotonic() - t
                wait_for(lambda: self.server_status(name) == "DOWN", 5,
                         "HAProxy: %s DOWN" % name)
                self.start_replica(name)
                wait_for(lambda: self.server_status(name) == "UP", 10,
                         "HAProxy: %s UP" % name)
                timings.append("%s: exit %.2f s, UP %.2f s after SIGTERM"
                               % (name, t_exit, time.monotonic() - t))
                time.sleep(1.0)
            # About 6 s of load in all, at least 1 s after the last restart.
            time.sleep(max(0.0, 6.0 - (time.monotonic() - t0)))
        finally:
            stop.set()
            for th in threads:
                th.join(timeout=scaled(20))
        seconds = time.monotonic() - t0
        after = self.stats()

        def delta(key, field):
            a = after.get(key, {}).get(field) or "0"
            b = before.get(key, {}).get(field) or "0"
            return int(a) - int(b)

        fe, be = ("files", "FRONTEND"), ("lanhttpd", "BACKEND")
        ha = {f: delta(fe, f) for f in ("req_tot", "hrsp_2xx", "hrsp_4xx",
                                        "hrsp_5xx", "ereq")}
        ha.update({f: delta(be, f) for f in ("econ", "eresp", "dresp",
                                             "srv_abrt", "wretr", "wredis")})
        # HAProxy counts as econ and eresp the attempts it then retried; a
        # request that failed is one not answered 2xx (a 502/503/504 HAProxy
        # made, or a cut response, which srv_abrt counts).
        failed_ha = (ha["req_tot"] - ha["hrsp_2xx"] + ha["ereq"]
                     + ha["dresp"] + ha["srv_abrt"])
        self.assertEqual(failures, [], "the client saw failures")
        self.assertEqual(failed_ha, 0, "HAProxy counted failures: %r" % ha)
        self.assertEqual(ha["req_tot"], counts["requests"], ha)
        self.assertGreater(counts["requests"], 100)
        self.report(
            "d) rolling restart under load (4 threads, %.1f s): %d requests, "
            "%d failed; HAProxy: %d requests, %d answered 2xx, %d failed "
            "(4xx %d, 5xx %d, ereq %d, dresp %d, srv_abrt %d); retried: econ "
            "%d, eresp %d, retries %d, redispatches %d; slowest %.0f ms; %s; "
            "replica VmRSS %d KiB idle, %d KiB under load"
            % (seconds, counts["requests"], len(failures), ha["req_tot"],
               ha["hrsp_2xx"], failed_ha, ha["hrsp_4xx"], ha["hrsp_5xx"],
               ha["ereq"], ha["dresp"], ha["srv_abrt"], ha["econ"],
               ha["eresp"], ha["wretr"], ha["wredis"], counts["max_ms"],
               "; ".join(timings), rss_idle, rss_load))

    def tus_create(self, host, length, name):
        r = http(host, "/up/", "POST", {
            "Tus-Resumable": "1.0.0", "Upload-Length": str(length),
            "Upload-Metadata": "filename "
            + base64.b64encode(name.encode()).decode()})
        self.assertEqual(r.status, 201, r.body)
        loc = r.header("location")
        self.assertTrue(loc.startswith("?tus="), loc)
        return "/up/" + loc

    @staticmethod
    def tus_patch(host, url, offset, part):
        return http(host, url, "PATCH", {
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"}, body=part)

    def test_e_tus_upload_stays_on_its_replica(self):
        self.start_all()
        self.put_shared("small/f.txt", b"x")
        data = os.urandom(3 << 20)
        url = self.tus_create(LB, len(data), "tus.bin")
        heads = {n: http(ADDRS[n], url, "HEAD",
                         {"Tus-Resumable": "1.0.0"}).status
                 for n in ("r1", "r2")}
        self.assertEqual(sorted(heads.values()), [200, 404], heads)
        home = [n for n, s in heads.items() if s == 200][0]
        off = 0
        for _ in range(2):
            # Requests in between move round robin on to the other one.
            self.assertEqual(http(LB, "/small/f.txt").status, 200)
            part = data[off:off + (1 << 20)]
            r = self.tus_patch(LB, url, off, part)
            self.assertEqual(r.status, 204, r.body)
            off += len(part)
            self.assertEqual(r.header("upload-offset"), str(off))
        self.assertEqual(http(LB, "/small/f.txt").status, 200)
        r = http(LB, url, "HEAD", {"Tus-Resumable": "1.0.0"})
        self.assertEqual((r.status, r.header("upload-offset")),
                         (200, str(off)))
        table = stat_socket(self.sock, "show table lanhttpd")
        used = re.search(r"used:(\d+)", table).group(1)
        self.report("e) tus upload created through HAProxy on %s (HEAD: %s); "
                    "2 PATCHes of 1 MiB and a HEAD through HAProxy, with GETs "
                    "between them, all reached %s (stick table: %s entry)"
                    % (home, heads, home, used))

    def link_errors(self, name):
        return sorted(set(re.findall(r"upload: link: [^\n]*",
                                     self.replicas[name].stderr())))

    def test_x_new_names_on_shared_storage(self):
        """Where the file system has neither O_TMPFILE nor
        renameat2(RENAME_NOREPLACE) (NFS, FUSE), an upload that must not
        replace a file (tus, a browser form, PUT with If-None-Match: * or
        with overwrite = off) is put in place by a hard link (found by
        this test: it was a 500 'cannot write the file')."""
        self.start_all()
        r1 = ADDRS["r1"]
        put = http(r1, "/up/new.txt", "PUT", {"If-None-Match": "*"},
                   body=b"new").status
        form = http(r1, "/up/", "POST", {
            "Content-Type": "multipart/form-data; boundary=BB"},
            body=b"--BB\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"form.txt\"\r\n\r\nform\r\n--BB--\r\n").status
        data = os.urandom(1 << 20)
        url = self.tus_create(r1, len(data), "done.bin")
        last = self.tus_patch(r1, url, 0, data).status
        self.report("x) new names without O_TMPFILE: PUT with "
                    "If-None-Match: * -> %d, form upload -> %d, last tus "
                    "PATCH -> %d; r1 logs %s"
                    % (put, form, last, self.link_errors("r1")))
        self.assertEqual(put, 201)
        self.assertIn(form, (200, 201, 303))
        self.assertEqual(last, 204)
        self.assertEqual(http(ADDRS["r2"], "/up/done.bin").body, data)

    def test_y_upload_survives_the_start_of_another_replica(self):
        """A starting replica leaves fresh tmp-* names in the shared work
        folder alone: where the file system has no O_TMPFILE (NFS, FUSE)
        they are the bodies of uploads in progress on the other replicas
        (found by this test: the start removed them, the PUT got 500)."""
        self.start_all()
        c = Conn(PORT, host=ADDRS["r1"])
        self.addCleanup(c.close)
        c.send(b"PUT /up/slow.bin HTTP/1.1\r\nHost: r1\r\n"
               b"Content-Length: 2000\r\n\r\n" + b"a" * 1000)
        work = os.path.join(self.shared, "up", ".lanhttpd-upload")
        wait_for(lambda: os.path.isdir(work) and os.listdir(work), 5,
                 "the upload's file")
        before = os.listdir(work)
        self.assertEqual(self.stop_replica("r2"), 0)
        self.start_replica("r2")
        after = os.listdir(work)
        c.send(b"b" * 1000)
        status = c.read_response().status
        self.report("y) r2 restarted while a PUT to r1 was "
                    "half sent: work folder %s -> %s, the PUT -> %d; r1 logs "
                    "%s" % (before, after, status, self.link_errors("r1")))
        self.assertEqual(status, 201)


class FuseReplicas(Replicas, unittest.TestCase):
    """The shared folder through one FUSE mount per replica."""

    STORAGE = "fuse"

    def make_storage(self):
        reason = fuse_reason()
        if reason:
            self.skipTest(reason)
        roots = {}
        for name in ("r1", "r2"):
            mnt = os.path.join(self.tmp, "mnt-" + name)
            os.mkdir(mnt)
            r = run("bindfs", "-o", "attr_timeout=0,entry_timeout=0",
                    self.shared, mnt, check=False)
            if r.returncode != 0:
                self.skipTest("bindfs cannot mount here: " + r.stderr.strip())
            self.addCleanup(self.unmount, mnt)
            roots[name] = mnt
        return roots

    @staticmethod
    def unmount(mnt):
        if run("umount", mnt, check=False).returncode != 0:
            run("umount", "-l", mnt, check=False)


class NfsReplicas(Replicas, unittest.TestCase):
    """The shared folder exported by the kernel NFS server (NFSv4) from a
    namespace of its own, mounted once per replica through the replica's
    namespace.  Not run where the kernel has no nfsd (containers, and
    the CI machine at the time of writing)."""

    STORAGE = "nfs"

    @classmethod
    def setUpClass(cls):
        reason = machine_reason() or nfs_reason()
        if reason:
            print("\nreplicas [nfs]: skipped: " + reason)
            raise unittest.SkipTest(reason)

    def make_storage(self):
        ns = self.netns["nfs"]
        etc = os.path.join(self.tmp, "nfs-state")
        os.makedirs(os.path.join(etc, "lib"))
        # The server's own mount namespace: nfsd's file system, and the
        # export tables in the test's folder instead of /var/lib/nfs.
        # SIGTERM stops the threads and mountd.
        script = (
            "set -e\n"
            "mount -t nfsd nfsd /proc/fs/nfsd\n"
            "mount --bind %(etc)s/lib /var/lib/nfs\n"
            "exportfs -o rw,sync,no_root_squash,no_subtree_check,fsid=0 "
            "10.200.0.0/24:%(shared)s\n"
            "rpc.nfsd -N 3 -V 4 --no-udp 4\n"
            "rpc.mountd -N 2 -N 3 -V 4 --no-udp -F & mp=$!\n"
            "trap 'rpc.nfsd 0; kill $mp; exit 0' TERM\n"
            "echo ready > %(etc)s/ready\n"
            "wait\n") % {"etc": etc, "shared": self.shared}
        log_path = os.path.join(etc, "server.log")
        with open(log_path, "wb") as log:
            self.nfs_server = subprocess.Popen(
                ["ip", "netns", "exec", ns, "unshare", "--mount",
                 "--propagation", "private", "sh", "-c", script],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_nfs_server)
        ready = os.path.join(etc, "ready")
        deadline = time.monotonic() + scaled(10)
        while (not os.path.exists(ready) and self.nfs_server.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.05)
        if not os.path.exists(ready):
            with open(log_path) as f:
                self.skipTest("the NFS server does not start here: "
                              + f.read().strip()[-300:])
        roots = {}
        for name in ("r1", "r2"):
            mnt = os.path.join(self.tmp, "mnt-" + name)
            os.mkdir(mnt)
            # nsenter keeps the test's mount namespace (the replica sees
            # the mount) and takes r1's network namespace (NFS traffic
            # goes from r1's address).  actimeo=0: see docs/scaling.md.
            r = run("nsenter", "--net=/run/netns/" + self.netns[name],
                    "mount", "-t", "nfs4", "-o", "vers=4.2,actimeo=0",
                    ADDRS["nfs"] + ":/", mnt, timeout=20, check=False)
            if r.returncode != 0:
                self.skipTest("NFS mount refused here: " + r.stderr.strip())
            self.addCleanup(run, "umount", "-f", "-l", mnt, check=False)
            roots[name] = mnt
        return roots

    def stop_nfs_server(self):
        if self.nfs_server.poll() is None:
            self.nfs_server.send_signal(signal.SIGTERM)
        try:
            self.nfs_server.wait(timeout=scaled(10))
        except subprocess.TimeoutExpired:
            self.nfs_server.kill()
            self.nfs_server.wait()


if __name__ == "__main__":
    unittest.main()
