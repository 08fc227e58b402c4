"""Issue 22: the defects a review of the code found, one regression test
each (the lab, log and listing ones are in test_review_small.py).

Some defects are races.  A test build (make check) compiles in hooks that
widen a race window or make one system call fail (include/testhook.h);
the tests that need one skip, saying so, against a build without them.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness import BIN, INSTRUMENTED, Conn, ServerTest, get, load_test, scaled


def hooks_built():
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    return "(test hooks)" in out.stdout


HOOKS = hooks_built()


def free_ports(n):
    """n loopback ports that were free a moment ago."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for(predicate, seconds, step=0.02):
    deadline = time.monotonic() + scaled(seconds)
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class ReviewTest(ServerTest):
    def ini(self, text):
        path = os.path.join(self.root, "..", os.path.basename(self.root)
                            + ".ini")
        with open(path, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def reload(self, srv, path, text, what="configuration reloaded"):
        """Rewrites the ini, sends SIGHUP, waits for the reload to end."""
        before = srv.stderr().count(what)
        with open(path, "w") as f:
            f.write(text)
        srv.signal(signal.SIGHUP)
        ok = wait_for(lambda: srv.stderr().count(what) > before, 10)
        self.assertTrue(ok, "the reload did not finish:\n" + srv.stderr())


class PoolShrink(ReviewTest):
    """Item 3: a worker between its quit check and its sleep must still
    see the reload that asks it to leave."""

    @unittest.skipUnless(HOOKS, "needs a build with test hooks (make check)")
    def test_shrinking_the_pool_never_hangs_a_reload(self):
        self.write("a.txt", b"x" * 100)
        conf = self.ini("[server]\nthreads = 4\n")
        # Every worker that runs out of work pauses 1.5 s right before it
        # sleeps: the window in which the old code lost the wake-up.
        srv = self.serve(["-c", conf],
                         env={"LANHTTPD_HOOK_worker_idle": "1500"})
        conns = [Conn(srv.port) for _ in range(16)]
        for c in conns:
            c.send(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n"
                   b"Connection: close\r\n\r\n")
        for c in conns:
            self.assertEqual(c.read_response().status, 200)
            c.close()
        time.sleep(0.2)
        self.reload(srv, conf, "[server]\nthreads = 1\n")
        # It still serves, and stops on SIGTERM (tearDown checks it).
        c = self.connect(srv.port)
        self.assertEqual(c.request("GET", "/a.txt").status, 200)


if __name__ == "__main__":
    unittest.main()


class StashedInput(ReviewTest):
    """Item 1: input a connection kept under a large max_header_size must
    fit the buffer of whichever worker takes it after a reload."""

    def test_input_stashed_before_a_reload_fits_new_workers(self):
        big = os.urandom(16 << 20)
        self.write("big.bin", big)
        self.write("s.txt", b"small")
        conf = self.ini("[server]\nmax_header_size = 64k\nthreads = 1\n")
        srv = self.serve(["-c", conf, "-s", "log.access_log=off"])
        one = (b"GET /s.txt HTTP/1.1\r\nHost: t\r\n"
               b"X-Pad: " + b"p" * 100 + b"\r\n\r\n")
        n_small = 70000 // len(one) + 1
        clients = []
        for _ in range(4):
            s = socket.socket()
            self.addCleanup(s.close)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(scaled(30))
            s.connect(("127.0.0.1", srv.port))
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
                      + one * n_small)
            clients.append(s)
        time.sleep(0.5)     # the big responses park, the rest is stashed
        self.reload(srv, conf, "[server]\nmax_header_size = 1k\n"
                    "threads = 1\n")
        self.reload(srv, conf, "[server]\nmax_header_size = 1k\n"
                    "threads = 8\n")
        for s in clients:
            c = Conn.__new__(Conn)
            c.sock, c.buf = s, bytearray()
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, big)
            for _ in range(n_small):
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, b"small"))


class HeaderDeadline(ReviewTest):
    """Item 4: the header deadline of a request that waited behind a long
    response counts from the end of that response."""

    def test_partial_head_behind_a_long_download_gets_its_own_time(self):
        big = os.urandom(16 << 20)
        self.write("big.bin", big)
        self.write("a.txt", b"after")
        srv = self.serve(["-s", "header_timeout=1s",
                          "-s", "log.access_log=off"])
        s = socket.socket()
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(scaled(20))
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /a.txt HTTP/1.1\r\nHo")
        # Read the download slowly, for several header_timeouts.
        got = bytearray()
        start = time.monotonic()
        head_end = -1
        while head_end < 0 or len(got) - head_end < len(big):
            chunk = s.recv(32768)
            self.assertTrue(chunk, "closed during the download")
            got += chunk
            if head_end < 0 and b"\r\n\r\n" in got:
                head_end = got.index(b"\r\n\r\n") + 4
            time.sleep(0.01)
        self.assertGreater(time.monotonic() - start, 3)
        self.assertEqual(bytes(got[head_end:head_end + len(big)]), big)
        rest = bytes(got[head_end + len(big):])
        self.assertEqual(rest, b"", "answered before the head was complete")
        # The rest of the head comes at once: well within header_timeout
        # of the moment the client finished reading the answer before.
        s.sendall(b"st: t\r\n\r\n")
        c = Conn.__new__(Conn)
        c.sock, c.buf = s, bytearray()
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b"after"))


class PortZero(ReviewTest):
    """Item 6: each port-0 listener keeps its own socket across reloads."""

    def test_two_port_zero_listeners_survive_a_reload(self):
        self.write("a.txt", b"a")
        srv = self.serve(["-l", "127.0.0.1:0", "-l", "127.0.0.1:0"],
                         activate=False)
        wait_for(lambda: len(self.ports(srv)) == 2, 5)
        ports = self.ports(srv)
        self.assertEqual(len(ports), 2, srv.stderr())
        for _ in range(2):
            before = srv.stderr().count("configuration reloaded")
            srv.signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: srv.stderr().count(
                "configuration reloaded") > before, 10), srv.stderr())
            for p in ports:
                c = Conn(p)
                try:
                    self.assertEqual(c.request("GET", "/a.txt").status, 200,
                                     "port %d" % p)
                finally:
                    c.close()
        self.assertNotIn("stopped listening", srv.stderr())

    @staticmethod
    def ports(srv):
        import re
        return sorted(set(int(p) for p in re.findall(
            r"listening on http://127\.0\.0\.1:(\d+)/", srv.stderr())))


class ListenerRewatch(ReviewTest):
    """Item 7: a kept listener that epoll cannot re-point after a reload
    is added again (or dropped), never left pointing at freed memory."""

    @unittest.skipUnless(HOOKS, "needs a build with test hooks (make check)")
    def test_a_listener_epoll_cannot_modify_keeps_working(self):
        self.write("a.txt", b"a")
        ports = free_ports(2)
        srv = self.serve(["-l", "127.0.0.1:%d" % ports[0],
                          "-l", "127.0.0.1:%d" % ports[1]], activate=False,
                         env={"LANHTTPD_HOOK_listener_mod": "fail"})
        before = srv.stderr().count("configuration reloaded")
        srv.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: srv.stderr().count(
            "configuration reloaded") > before, 10), srv.stderr())
        for _ in range(3):
            for p in ports:
                c = Conn(p)
                try:
                    self.assertEqual(c.request("GET", "/a.txt").status, 200)
                finally:
                    c.close()


class IfRangeDate(ReviewTest):
    """Item 12: a date in If-Range resumes only when it names one version."""

    def test_a_rewrite_within_the_same_second_is_sent_whole(self):
        path = os.path.join(self.root, "doc.txt")
        srv = self.serve(["-s", "file_cache_valid=0"])
        for _ in range(20):
            self.write("doc.txt", b"A" * 4096)
            first = os.stat(path).st_mtime_ns
            conn = Conn(srv.port)
            lm = conn.request("GET", "/doc.txt").header("last-modified")
            conn.close()
            self.write("doc.txt", b"B" * 4096)
            if os.stat(path).st_mtime_ns // 10**9 == first // 10**9:
                break       # both versions carry the same date
        else:
            self.skipTest("could not write twice within one second")
        c = self.connect(srv.port)
        r = c.request("GET", "/doc.txt", {"Range": "bytes=2048-",
                                          "If-Range": lm})
        self.assertEqual((r.status, r.body), (200, b"B" * 4096))

    def test_a_stamped_whole_second_still_resumes(self):
        self.write("old.txt", b"0123456789")
        os.utime(os.path.join(self.root, "old.txt"), (1600000000,) * 2)
        srv = self.serve()
        c = self.connect(srv.port)
        lm = c.request("GET", "/old.txt").header("last-modified")
        r = c.request("GET", "/old.txt", {"Range": "bytes=5-",
                                          "If-Range": lm})
        self.assertEqual((r.status, r.body), (206, b"56789"))


class OpenCounter:
    """Counts IN_OPEN events on one file with inotify (through ctypes), to
    see whether the server opens it again.  Closes are watched too: the
    kernel merges an event with an identical one still unread before it,
    and an open followed by a close is never identical to the next open."""

    IN_OPEN = 0x20
    IN_CLOSE_NOWRITE = 0x10

    def __init__(self, path):
        import ctypes
        import ctypes.util
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"),
                                use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        wd = self.libc.inotify_add_watch(
            self.fd, path.encode(), self.IN_OPEN | self.IN_CLOSE_NOWRITE)
        if wd < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), "inotify_add_watch")

    def count(self):
        n = 0
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return n
            off = 0
            while off < len(buf):
                mask = int.from_bytes(buf[off + 4:off + 8], "little")
                length = int.from_bytes(buf[off + 12:off + 16], "little")
                n += bool(mask & self.IN_OPEN)
                off += 16 + length

    def close(self):
        os.close(self.fd)


class IgnoredSibling(ReviewTest):
    """Item 14: a precompressed sibling that is ignored (older than its
    file) does not make the cached entry look stale on every request."""

    def test_an_older_gz_sibling_does_not_defeat_the_cache(self):
        path = self.write("page.html", b"<p>new</p>" * 50)
        self.write("page.html.gz", b"stale gzip bytes")
        os.utime(path + ".gz", (1600000000, 1600000000))
        srv = self.serve(["-s", "file_cache_valid=0"])
        c = self.connect(srv.port)
        hdr = {"Accept-Encoding": "gzip"}
        r = c.request("GET", "/page.html", hdr)
        self.assertEqual((r.status, r.header("content-encoding")),
                         (200, None))
        opens = OpenCounter(path)
        self.addCleanup(opens.close)
        for _ in range(20):
            r = c.request("GET", "/page.html", hdr)
            self.assertEqual(r.body, b"<p>new</p>" * 50)
        n = opens.count()
        self.assertEqual(n, 0, "the file was opened again on %d of 20 "
                         "cached requests" % n)
        # The refused sibling is brought up to date: it is served now.
        import gzip
        with open(path + ".gz", "wb") as f:
            f.write(gzip.compress(b"<p>new</p>" * 50))
        os.utime(path, (1600000000, 1600000000))
        r = c.request("GET", "/page.html", hdr)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(r.body), b"<p>new</p>" * 50)


def rss_and_shmem_kib(pid):
    """The process's resident memory plus the memfds it holds (listing
    pages live there: shared memory that VmRSS does not show)."""
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    seen, shm = set(), 0
    fd_dir = "/proc/%d/fd" % pid
    for name in os.listdir(fd_dir):
        try:
            if "memfd:" not in os.readlink(os.path.join(fd_dir, name)):
                continue
            st = os.stat(os.path.join(fd_dir, name))
        except OSError:
            continue
        if st.st_ino not in seen:
            seen.add(st.st_ino)
            shm += st.st_blocks * 512 // 1024
    return rss, shm


@load_test
class ResponseMemory(ReviewTest):
    """Item 2: what slow readers make the daemon hold is bounded.  The
    folder is the review's: 300 subfolders (each checked again on every
    hit of a cached page) and 10,000 long names, a 6 MB page."""

    READERS = 200 if INSTRUMENTED else 1000
    LIMIT_KIB = 64 * 1024

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.tree = tempfile.mkdtemp(prefix="lanhttpd-mem-")
        big = os.path.join(cls.tree, "big")
        os.mkdir(big)
        for i in range(300):
            os.mkdir(os.path.join(big, "sub%03d" % i))
        for i in range(10000):
            open(os.path.join(big, "%05d-" % i + "n" * 200), "wb").close()
        with open(os.path.join(cls.tree, "small.txt"), "wb") as f:
            f.write(b"s" * 100)

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.tree, ignore_errors=True)

    def setUp(self):
        super().setUp()
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, self.READERS + 512)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                            (soft, hard))
        if want < self.READERS + 64:
            self.skipTest("descriptor limit %d too low" % hard)

    def slow_readers(self, port, n):
        socks = []
        for _ in range(n):
            s = socket.socket()
            self.addCleanup(s.close)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.settimeout(scaled(30))
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /big/ HTTP/1.1\r\nHost: t\r\n\r\n")
            socks.append(s)
        return socks

    def probe(self, port, count=200):
        c = self.connect(port)
        lat = []
        for _ in range(count):
            t = time.monotonic()
            r = c.request("GET", "/small.txt")
            lat.append(time.monotonic() - t)
            self.assertEqual(r.status, 200)
        lat.sort()
        return lat[int(len(lat) * 0.99) - 1], lat[-1]

    def run_readers(self, args, readers, label):
        srv = self.serve(["-s", "log.access_log=off"] + args, root=self.tree)
        socks = self.slow_readers(srv.port, readers)
        # Every reader has its answer under way (or refused) before we look.
        statuses = {}
        for s in socks:
            head = b""
            while b"\r\n" not in head:
                chunk = s.recv(64)
                self.assertTrue(chunk, "a reader was cut off")
                head += chunk
            st = int(head.split(b" ", 2)[1])
            statuses[st] = statuses.get(st, 0) + 1
        time.sleep(0.5)
        rss, shm = rss_and_shmem_kib(srv.pid())
        p99, worst = self.probe(srv.port)
        print("\n%s: %d slow readers of a listing page %s: RSS %d KiB + "
              "memfds %d KiB = %.1f MiB (bound %d MiB); a small file "
              "meanwhile: p99 %.1f ms, max %.1f ms"
              % (label, readers, statuses, rss, shm, (rss + shm) / 1024.0,
                 self.LIMIT_KIB // 1024, p99 * 1000, worst * 1000))
        if not INSTRUMENTED:    # shadow memory says nothing of ours
            self.assertLessEqual(rss + shm, self.LIMIT_KIB)
            self.assertLess(p99, 0.050)
        return statuses

    def test_slow_readers_of_a_big_listing_share_one_page(self):
        st = self.run_readers([], self.READERS, "cached page")
        self.assertEqual(st, {200: self.READERS})

    def test_pages_that_cannot_be_cached_are_bounded_by_the_budget(self):
        # A 1 MiB listing cache keeps no 6 MB page: each is built for its
        # request, held against max_response_memory, refused past it.
        st = self.run_readers(["-s", "listing_cache_size=1M"], 50,
                              "pages built per request")
        self.assertGreater(st.get(200, 0), 0)
        self.assertGreater(st.get(503, 0), 0)


class DotfileThroughLink(ReviewTest):
    """Item 5: the dotfile rule applies to what a name resolves to."""

    def setUp(self):
        super().setUp()
        self.write(".secret", b"hidden")
        self.write(".conf/key.txt", b"key")
        self.write("plain.txt", b"plain")
        os.symlink(".secret", os.path.join(self.root, "visible"))
        os.symlink(".conf", os.path.join(self.root, "vis_dir"))

    def test_a_link_to_a_dotfile_is_hidden_like_it(self):
        srv = self.serve()
        c = self.connect(srv.port)
        self.assertEqual(c.request("GET", "/visible").status, 404)
        self.assertEqual(c.request("GET", "/vis_dir/key.txt").status, 404)
        self.assertEqual(c.request("GET", "/vis_dir/").status, 404)
        r = c.request("GET", "/?format=json")
        names = [e["name"] for e in json.loads(r.body)["entries"]]
        self.assertEqual(names, ["plain.txt"])
        r = c.request("GET", "/")
        self.assertNotIn(b"visible", r.body)
        self.assertNotIn(b"vis_dir", r.body)

    def test_allowed_dotfiles_are_reachable_through_links(self):
        srv = self.serve(["-s", "hidden_files=allow"])
        c = self.connect(srv.port)
        r = c.request("GET", "/visible")
        self.assertEqual((r.status, r.body), (200, b"hidden"))
        r = c.request("GET", "/vis_dir/key.txt")
        self.assertEqual((r.status, r.body), (200, b"key"))


@unittest.skipUnless(os.geteuid() == 0, "needs root to become another user")
class LogFilesAfterPrivilegeDrop(ReviewTest):
    """Item 9: started as root with user=, the log files stay usable by
    that user: reload works, and SIGUSR1 after a rotation reopens."""

    def test_reload_and_reopen_after_dropping_root(self):
        import pwd
        nobody = pwd.getpwnam("nobody")
        os.chmod(self.root, 0o755)
        self.write("a.txt", b"a", mode=0o644)
        logdir = os.path.join(self.root, "..", os.path.basename(self.root)
                              + "-logs")
        os.mkdir(logdir, 0o755)          # root's: nobody cannot create here
        self.addCleanup(shutil.rmtree, logdir, True)
        log = os.path.join(logdir, "access.log")
        srv = self.serve(["-s", "user=nobody", "-s",
                          "log.access_log=" + log], as_root=False)
        self.assertEqual(get(srv.port, "/a.txt").status, 200)
        before = srv.stderr().count("configuration reloaded")
        srv.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "configuration reloaded" in
                                 srv.stderr()[-2000:] or "reload failed" in
                                 srv.stderr(), 10))
        self.assertNotIn("reload failed", srv.stderr())
        self.assertGreater(srv.stderr().count("configuration reloaded"),
                           before)
        self.assertEqual(os.stat(log).st_uid, nobody.pw_uid)
        # What logrotate does with 'create': move, then a new file with
        # the old one's owner and mode.
        st = os.stat(log)
        os.rename(log, log + ".1")
        fd = os.open(log, os.O_CREAT | os.O_WRONLY, st.st_mode & 0o777)
        os.fchown(fd, st.st_uid, st.st_gid)
        os.close(fd)
        srv.signal(signal.SIGUSR1)
        self.assertTrue(wait_for(lambda: "log files reopened" in
                                 srv.stderr() or "cannot reopen" in
                                 srv.stderr(), 10))
        self.assertNotIn("cannot reopen", srv.stderr())
        self.assertEqual(get(srv.port, "/a.txt?after").status, 200)
        self.assertTrue(wait_for(lambda: b"?after" in slurp(log), 5))
        self.assertNotIn(b"?after", slurp(log + ".1"))
