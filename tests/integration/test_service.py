"""Issue 4: systemd protocols, reload, privileges, install, man pages."""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BIN, Conn, ServerTest, get, scaled

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def read_text(path):
    with open(path) as f:
        return f.read()


class NotifySocket:
    """The manager's side of sd_notify: a datagram socket we listen on."""

    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "lanhttpd-test-%d-%d" % (os.getpid(), id(self))
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="lanhttpd-notify-")
            self.env = os.path.join(self.dir, "notify")
            self.sock.bind(self.env)
        self.messages = []

    def wait_for(self, key, timeout=10.0):
        """Collects datagrams until one holds key (e.g. "READY=1")."""
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.messages.append((time.monotonic(), msg))
            if key in msg.split("\n"):
                return msg
        raise AssertionError("no %s in %r" % (key, self.messages))

    def close(self):
        self.sock.close()
        if hasattr(self, "dir"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Notify(ServerTest):
    def notify_server(self, abstract=False, env=None, args=()):
        ns = NotifySocket(abstract)
        self.addCleanup(ns.close)
        e = {"NOTIFY_SOCKET": ns.env}
        e.update(env or {})
        self.write("x.txt", b"x")
        srv = self.serve(["-p", "0", "-l", "127.0.0.1", "-s",
                          "log.access_log=off"] + list(args),
                         activate=False, env=e)
        return ns, srv

    def test_ready_only_once_the_port_answers(self):
        ns, srv = self.notify_server()
        msg = ns.wait_for("READY=1")
        self.assertRegex(msg, r"STATUS=Serving: \d+ connections? open")
        # The instant READY=1 arrives the port must already serve.
        self.assertEqual(get(srv.port, "/x.txt").body, b"x")
        self.assertLess(ns.messages.index(
            next(m for m in ns.messages if "READY=1" in m[1])), 1)

    def test_abstract_namespace_socket(self):
        ns, srv = self.notify_server(abstract=True)
        ns.wait_for("READY=1")

    def test_reloading_then_ready_around_sighup(self):
        ns, srv = self.notify_server()
        ns.wait_for("READY=1")
        srv.signal(signal.SIGHUP)
        msg = ns.wait_for("RELOADING=1")
        m = re.search(r"MONOTONIC_USEC=(\d+)", msg)
        self.assertIsNotNone(m, msg)
        # CLOCK_MONOTONIC of this machine, in microseconds.
        now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        self.assertLess(abs(int(m.group(1)) - now), 10e6)
        ns.wait_for("READY=1")

    def test_stopping_on_sigterm(self):
        ns, srv = self.notify_server()
        ns.wait_for("READY=1")
        srv.signal(signal.SIGTERM)
        ns.wait_for("STOPPING=1")
        self.assertEqual(srv.proc.wait(timeout=scaled(10)), 0)

    def test_watchdog_pings_at_half_the_interval(self):
        ns, srv = self.notify_server(env={"WATCHDOG_USEC": "400000"})
        ns.wait_for("READY=1")
        t0 = time.monotonic()
        pings = 0
        while time.monotonic() - t0 < 1.5:
            ns.wait_for("WATCHDOG=1", timeout=1.0)
            pings += 1
        # Half of 400 ms is one ping per 200 ms: about 7 in 1.5 s.
        self.assertGreaterEqual(pings, 5)
        self.assertLessEqual(pings, 10)

    def test_watchdog_for_another_pid_is_ignored(self):
        ns, srv = self.notify_server(env={"WATCHDOG_USEC": "200000",
                                          "WATCHDOG_PID": "1"})
        ns.wait_for("READY=1")
        with self.assertRaises(AssertionError):
            ns.wait_for("WATCHDOG=1", timeout=0.8)


class SocketActivation(ServerTest):
    def test_systemd_socket_activate(self):
        tool = shutil.which("systemd-socket-activate")
        if tool is None:
            self.skipTest("systemd-socket-activate is not installed")
        self.write("x.txt", b"activated")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        args = [tool, "-l", "127.0.0.1:%d" % port, BIN, "-s",
                "log.access_log=off", self.root]
        if os.geteuid() == 0:
            args[4:4] = ["-s", "allow_root=on"]
        log = tempfile.TemporaryFile()
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + scaled(10)
            while True:
                try:
                    r = get(port, "/x.txt")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            self.assertEqual(r.body, b"activated")
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=scaled(10)), 0)
            log.seek(0)
            err = log.read().decode(errors="replace")
            log.close()
        self.assertIn("(socket activation)", err)


class Reload(ServerTest):
    def ini(self, body):
        path = os.path.join(self.tmpdir, "httpd.ini")
        with open(path + ".new", "w") as f:
            f.write(body)
        os.replace(path + ".new", path)
        return path

    def setUp(self):
        super().setUp()
        self.tmpdir = tempfile.mkdtemp(prefix="lanhttpd-reload-")
        self.addCleanup(shutil.rmtree, self.tmpdir, True)

    def test_reload_under_load(self):
        """20 SIGHUPs alternating valid and broken configs while clients
        download a large file and small files: nothing fails or is cut
        short, valid changes take effect, broken ones are refused."""
        big = os.urandom(20 * 1024 * 1024)
        self.write("big.bin", big)
        self.write("small.foo", b"small")
        path = self.ini("[mime]\nfoo = text/x-v0\n[log]\naccess_log = off\n")
        srv = self.serve(["-c", path])
        stop = threading.Event()
        failures, counts = [], {"big": 0, "small": 0}

        def downloader(kind):
            c = None
            while not stop.is_set():
                try:
                    if c is None:
                        c = Conn(srv.port, timeout=30)
                    if kind == "big":
                        r = c.request("GET", "/big.bin")
                        ok = r.status == 200 and r.body == big
                    else:
                        r = c.request("GET", "/small.foo")
                        ok = r.status == 200 and r.body == b"small"
                    if not ok:
                        failures.append((kind, r.status, len(r.body)))
                    counts[kind] += 1
                except Exception as e:      # noqa: BLE001
                    failures.append((kind, repr(e)))
                    c = None
            if c is not None:
                c.close()

        threads = [threading.Thread(target=downloader, args=(k,))
                   for k in ("big", "small", "small")]
        for t in threads:
            t.start()
        try:
            for i in range(1, 21):
                if i % 2:
                    self.ini("[mime]\nfoo = text/x-v%d\n[log]\n"
                             "access_log = off\n" % i)
                else:
                    self.ini("[server]\nthreads = many\n")
                srv.signal(signal.SIGHUP)
                time.sleep(0.25)
                if i % 2:
                    want = "text/x-v%d; charset=utf-8" % i
                    deadline = time.monotonic() + scaled(5)
                    while get(srv.port, "/small.foo").header(
                            "content-type") != want:
                        self.assertLess(time.monotonic(), deadline, want)
                        time.sleep(0.05)
        finally:
            stop.set()
            for t in threads:
                t.join(scaled(60))
        self.assertEqual(failures, [])
        self.assertGreater(counts["big"], 0)
        self.assertGreater(counts["small"], 20)
        err = srv.stderr()
        self.assertEqual(err.count("configuration reloaded"), 10)
        self.assertEqual(err.count("reload failed: keeping the running "
                                   "configuration"), 10)
        self.assertIn("[server] threads:", err)
        print("\nreload under load: %d large and %d small downloads, "
              "0 failures, 20 reloads" % (counts["big"], counts["small"]))

    def test_reload_changes_root_threads_and_listeners(self):
        other = tempfile.mkdtemp(prefix="lanhttpd-root2-")
        self.addCleanup(shutil.rmtree, other, True)
        with open(os.path.join(other, "x.txt"), "wb") as f:
            f.write(b"second root")
        self.write("x.txt", b"first root")
        # A new root needs a restart under the sandbox (test_sandbox):
        # this is what a reload does without one.
        path = self.ini("[server]\nroot = %s\nthreads = 1\nlisten = "
                        "127.0.0.1:0\nsandbox = off\n[log]\n"
                        "access_log = off\n" % self.root)
        srv = self.serve(["-c", path], activate=False, root=self.NO_ROOT)
        self.assertEqual(get(srv.port, "/x.txt").body, b"first root")
        keep = self.connect(srv.port)
        self.assertEqual(keep.request("GET", "/x.txt").status, 200)
        # A second listener appears; the first one stays open.
        self.ini("[server]\nroot = %s\nthreads = 3\nlisten = 127.0.0.1:0 "
                 "127.0.0.2:0\nsandbox = off\n[log]\naccess_log = off\n"
                 % other)
        srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + scaled(5)
        while "configuration reloaded" not in srv.stderr():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(get(srv.port, "/x.txt").body, b"second root")
        self.assertEqual(keep.request("GET", "/x.txt").body, b"second root")
        m = re.search(r"listening on http://127\.0\.0\.2:(\d+)/",
                      srv.stderr())
        self.assertIsNotNone(m, srv.stderr())
        self.assertEqual(get(int(m.group(1)), "/x.txt",
                             host="127.0.0.2").body, b"second root")

    def test_sigusr1_reopens_the_access_log(self):
        self.write("x.txt", b"x")
        log = os.path.join(self.tmpdir, "access.log")
        srv = self.serve(["-s", "log.access_log=" + log])
        get(srv.port, "/x.txt?one")
        # The line is written when its worker goes idle: wait for it.
        deadline = time.monotonic() + scaled(5)
        while "?one" not in read_text(log):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        os.rename(log, log + ".1")
        srv.signal(signal.SIGUSR1)
        deadline = time.monotonic() + scaled(5)
        while "log files reopened" not in srv.stderr():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        get(srv.port, "/x.txt?two")
        srv.stop()
        with open(log + ".1") as f:
            self.assertIn("?one", f.read())
        with open(log) as f:
            text = f.read()
        self.assertIn("?two", text)
        self.assertNotIn("?one", text)


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class Privileges(ServerTest):
    def test_drops_to_the_configured_user(self):
        os.chmod(self.root, 0o755)
        self.write("x.txt", b"as nobody", mode=0o644)
        nobody = pwd.getpwnam("nobody")
        srv = self.serve(["-s", "user=nobody", "-s", "log.access_log=off"],
                         as_root=False)
        with open("/proc/%d/status" % srv.pid()) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
        self.assertEqual(set(map(int, uids)), {nobody.pw_uid})
        self.assertEqual(set(map(int, gids)), {nobody.pw_gid})
        groups = re.search(r"^Groups:\s*(.*)$", status, re.M).group(1)
        self.assertNotIn("0", groups.split())
        self.assertEqual(get(srv.port, "/x.txt").body, b"as nobody")

    def test_refuses_root_without_user(self):
        r = subprocess.run([BIN, "-p", "0", "-l", "127.0.0.1", self.root],
                           capture_output=True, text=True,
                           timeout=scaled(20))
        self.assertEqual(r.returncode, 1)
        self.assertIn("refusing to serve as root", r.stderr)

    def test_unknown_user_is_a_config_error(self):
        r = subprocess.run([BIN, "--check-config", "-s",
                            "user=no-such-user-here", self.root],
                           capture_output=True, text=True,
                           timeout=scaled(20))
        self.assertEqual(r.returncode, 1)
        self.assertIn("no user 'no-such-user-here'", r.stderr)


class Journal(ServerTest):
    def test_priority_prefixes_when_stderr_is_the_journal(self):
        self.write("x.txt", b"x")
        srv = Server_with_journal(self)
        err = srv.stderr()
        lines = [l for l in err.splitlines() if l]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3-7]>[^<]")
            self.assertNotRegex(line, r"^<\d>\d{4}-\d\d-\d\d ")


def Server_with_journal(test):
    """Starts a server whose stderr file is named by JOURNAL_STREAM."""
    from harness import Server
    srv = Server(test.root, args=["-s", "log.access_log=off"])
    # JOURNAL_STREAM names the stderr file by device and inode; create the
    # file first so its identity is known before the server starts.
    open(srv.stderr_path, "wb").close()
    st = os.stat(srv.stderr_path)
    srv.env = {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}
    test.servers.append(srv)
    # Popen would truncate the file, keeping its inode: fine.
    srv.start()
    return srv


class Units(unittest.TestCase):
    def test_units_verify_without_warnings(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            self.skipTest("systemd-analyze is not installed")
        d = tempfile.mkdtemp(prefix="lanhttpd-units-")
        self.addCleanup(shutil.rmtree, d, True)
        subprocess.run(["make", "-s", "-C", REPO, "install",
                        "DESTDIR=" + d, "PREFIX=/usr"], check=True,
                       capture_output=True, timeout=120)
        unitdir = os.path.join(d, "usr/lib/systemd/system")
        # verify checks that ExecStart exists: point it at the staged one.
        svc = os.path.join(d, "lanhttpd.service")
        with open(os.path.join(unitdir, "lanhttpd.service")) as f:
            text = f.read().replace("/usr/bin/lanhttpd",
                                    os.path.join(d, "usr/bin/lanhttpd"))
        with open(svc, "w") as f:
            f.write(text)
        sock = os.path.join(d, "lanhttpd.socket")
        shutil.copy(os.path.join(unitdir, "lanhttpd.socket"), sock)
        r = subprocess.run([tool, "verify", "--man=no", svc, sock],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_security_exposure_at_most_2(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            self.skipTest("systemd-analyze is not installed")
        r = subprocess.run([tool, "security", "--offline=yes",
                            os.path.join(REPO, "systemd/lanhttpd.service")],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for lanhttpd.service: "
                      r"([\d.]+)", r.stdout + r.stderr)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        print("\nsystemd-analyze security --offline=yes: exposure %s"
              % m.group(1))
        self.assertLessEqual(float(m.group(1)), 2.0)


class Install(unittest.TestCase):
    def make(self, *args):
        return subprocess.run(["make", "-s", "-C", REPO] + list(args),
                              capture_output=True, text=True, timeout=120)

    def test_install_and_uninstall(self):
        d = tempfile.mkdtemp(prefix="lanhttpd-dest-")
        self.addCleanup(shutil.rmtree, d, True)
        r = self.make("install", "DESTDIR=" + d, "PREFIX=/usr/local")
        self.assertEqual(r.returncode, 0, r.stderr)
        want = ["usr/local/bin/lanhttpd", "usr/local/bin/lanhttpd-ping",
                "usr/local/share/man/man1/lanhttpd-ping.1",
                "etc/lanhttpd/httpd.ini",
                "usr/local/lib/systemd/system/lanhttpd.service",
                "usr/local/lib/systemd/system/lanhttpd.socket",
                "usr/local/share/man/man8/lanhttpd.8",
                "usr/local/share/man/man5/httpd.ini.5",
                "usr/local/share/lanhttpd/www/index.html",
                "etc/logrotate.d/lanhttpd"]
        for rel in want:
            self.assertTrue(os.path.exists(os.path.join(d, rel)), rel)
        ini = os.path.join(d, "etc/lanhttpd/httpd.ini")
        with open(ini) as f:
            self.assertIn("root = /usr/local/share/lanhttpd/www\n", f.read())
        r = subprocess.run([os.path.join(d, "usr/local/bin/lanhttpd"),
                            "--check-config", "-c", ini, "-r",
                            os.path.join(d, "usr/local/share/lanhttpd/www")],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        # An edited httpd.ini survives both a reinstall and an uninstall.
        with open(ini, "a") as f:
            f.write("; edited by the admin\n")
        self.assertEqual(self.make("install", "DESTDIR=" + d).returncode, 0)
        with open(ini) as f:
            self.assertIn("edited by the admin", f.read())
        r = self.make("uninstall", "DESTDIR=" + d, "PREFIX=/usr/local")
        self.assertEqual(r.returncode, 0, r.stderr)
        for rel in want:
            if rel != "etc/lanhttpd/httpd.ini":
                self.assertFalse(os.path.exists(os.path.join(d, rel)), rel)
        self.assertTrue(os.path.exists(ini))

    def test_man_pages_render_cleanly(self):
        for page in ("docs/lanhttpd.8", "docs/httpd.ini.5",
                     "docs/lanhttpd-ping.1"):
            r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z",
                                os.path.join(REPO, page)],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual((r.returncode, r.stderr), (0, ""), page)
            r = subprocess.run(["man", "--warnings", "-l",
                                os.path.join(REPO, page)],
                               capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, MANPAGER="cat",
                                        PAGER="cat"))
            self.assertEqual(r.stderr, "", page)
            self.assertIn("NAME", r.stdout)


if __name__ == "__main__":
    unittest.main()
