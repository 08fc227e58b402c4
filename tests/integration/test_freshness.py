"""Issue 15: never stale at default settings.

A file that changed before a request arrived is always answered with its
new bytes, length and validators: the caches learn of changes from
inotify (no stat on a hit), and where notification cannot see a change
(a FUSE or network root, or when inotify is refused) they check with a
stat on every use.  Every change here is made with no pause before the
request that must see it.
"""

import email.utils
import gzip
import os
import random
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BIN, INSTRUMENTED, Conn, ServerTest, scaled


def hooks_built():
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    return "(test hooks)" in out.stdout


HOOKS = hooks_built()
ITERATIONS = 300 if INSTRUMENTED else 1000


def etag_of(st, variant=""):
    tag = "%x-%x-%x" % (st.st_ino, st.st_size, st.st_mtime_ns)
    return '"%s%s"' % (tag, "-" + variant if variant else "")


class Churn:
    """Random changes to a small tree, and what the server must answer."""

    NAMES = ["a.txt", "big.bin", "d1/b.txt", "d1/d2/c.html", "d3/e.bin"]

    def __init__(self, root, rng, view=None):
        self.root = root
        self.view = view or root    # where the server's view is stat'ed
        self.rng = rng
        for n in self.NAMES:
            self.put(n, self.content(n))

    def path(self, name):
        return os.path.join(self.root, name)

    def content(self, name):
        # Some small (kept in memory), some over file_cache_max_body.
        size = self.rng.choice([0, 1, 100, 5000, 20000, 70000])
        if name == "big.bin":
            size = self.rng.choice([17000, 100000, 300000])
        return os.urandom(size)

    def put(self, name, data):
        os.makedirs(os.path.dirname(self.path(name)), exist_ok=True)
        with open(self.path(name), "wb") as f:
            f.write(data)

    def change(self):
        """Makes one random change; returns a description."""
        name = self.rng.choice(self.NAMES)
        p = self.path(name)
        op = self.rng.choice(["rewrite", "rename", "truncate", "grow",
                              "delete", "recreate", "gz_add", "gz_remove",
                              "dir_rename"])
        exists = os.path.exists(p)
        if op == "rewrite" and exists:
            data = self.content(name)
            with open(p, "r+b") as f:
                f.truncate(0)
                f.write(data)
        elif op == "rename" and exists:
            tmp = p + ".tmp~"
            with open(tmp, "wb") as f:
                f.write(self.content(name))
            os.rename(tmp, p)
        elif op == "truncate" and exists:
            os.truncate(p, os.path.getsize(p) // 2)
        elif op == "grow" and exists:
            with open(p, "ab") as f:
                f.write(os.urandom(self.rng.choice([1, 999, 30000])))
        elif op == "delete" and exists:
            os.unlink(p)
        elif op == "gz_add" and exists:
            with open(p, "rb") as f:
                body = f.read()
            with open(p + ".gz", "wb") as f:
                f.write(gzip.compress(body))
        elif op == "gz_remove" and os.path.exists(p + ".gz"):
            os.unlink(p + ".gz")
        elif op == "dir_rename" and "/" in name:
            # A folder on the path moves away and back, or is replaced.
            top = name.split("/")[0]
            os.rename(self.path(top), self.path(top + ".away"))
            if self.rng.random() < 0.5:
                shutil.rmtree(self.path(top + ".away"))
                self.put(name, self.content(name))
            else:
                os.rename(self.path(top + ".away"), self.path(top))
        else:
            self.put(name, self.content(name))
            op = "recreate"
        return name, op

    def expect(self, name, gz):
        """(status, body, etag, last_modified, encoding) to expect."""
        p = os.path.join(self.view, name)
        try:
            st = os.stat(p)
        except FileNotFoundError:
            return 404, None, None, None, None
        try:
            gst = os.stat(p + ".gz") if gz else None
        except FileNotFoundError:
            gst = None
        if gst is not None and gst.st_mtime_ns >= st.st_mtime_ns:
            with open(p + ".gz", "rb") as f:
                body = f.read()
            return (200, body, etag_of(gst, "gz"),
                    email.utils.formatdate(gst.st_mtime, usegmt=True),
                    "gzip")
        with open(p, "rb") as f:
            body = f.read()
        return (200, body, etag_of(st),
                email.utils.formatdate(st.st_mtime, usegmt=True), None)


class Freshness(ServerTest):
    def run_churn(self, srv, root, label, iterations=ITERATIONS, view=None):
        rng = random.Random(15)
        churn = Churn(root, rng, view)
        keep = self.connect(srv.port)
        ops = {}
        start = time.monotonic()
        for i in range(iterations):
            name, op = churn.change()
            ops[op] = ops.get(op, 0) + 1
            gz = rng.random() < 0.4
            hdr = {"Accept-Encoding": "gzip"} if gz else {}
            # The answer is read before the next change, but no pause
            # separates a change from the request that must see it.
            status, body, etag, lm, enc = churn.expect(name, gz)
            if i % 2 == 0:
                r = keep.request("GET", "/" + name, hdr)
            else:
                c = Conn(srv.port)
                try:
                    r = c.request("GET", "/" + name,
                                  dict(hdr, Connection="close"))
                finally:
                    c.close()
            what = "iteration %d, %s of %s (%s)" % (i, op, name, label)
            self.assertEqual(r.status, status, what)
            if status != 200:
                continue
            self.assertEqual(r.header("content-length"), str(len(body)),
                             what)
            self.assertTrue(r.body == body, what + ": stale bytes")
            self.assertEqual(r.header("etag"), etag, what)
            self.assertEqual(r.header("last-modified"), lm, what)
            self.assertEqual(r.header("content-encoding"), enc, what)
        print("\n%s: %d changes, each answered fresh at once (%.1f s): %s"
              % (label, iterations, time.monotonic() - start,
                 ", ".join("%s %d" % kv for kv in sorted(ops.items()))))

    def test_every_change_is_seen_at_once_with_inotify(self):
        srv = self.serve(["-s", "log.access_log=off"])
        self.assertIn("changes are learnt from inotify", srv.stderr())
        self.run_churn(srv, self.root, "inotify")

    @unittest.skipUnless(HOOKS, "needs a build with test hooks (make check)")
    def test_every_change_is_seen_at_once_without_inotify(self):
        # The hook refuses every watch, as a full watch table would.
        srv = self.serve(["-s", "log.access_log=off"],
                         env={"LANHTTPD_HOOK_dirwatch_get": "fail"})
        self.run_churn(srv, self.root, "stat on every use")


def bindfs_reason():
    if os.geteuid() != 0:
        return "needs root to mount"
    if shutil.which("bindfs") is None:
        return "bindfs is not installed"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse on this machine"
    return None


@unittest.skipIf(bindfs_reason() is not None, bindfs_reason() or "")
class FuseRoot(ServerTest):
    """The root served through a FUSE mount (bindfs) of a folder that the
    test changes directly: inotify on the mount sees none of it."""

    def setUp(self):
        super().setUp()
        self.backing = tempfile.mkdtemp(prefix="lanhttpd-backing-")
        self.addCleanup(shutil.rmtree, self.backing, True)
        r = subprocess.run(["bindfs", "-o", "attr_timeout=0,entry_timeout=0",
                            self.backing, self.root],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("bindfs cannot mount here: " + r.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.root])

    def test_changes_under_a_fuse_root_are_seen_at_once(self):
        srv = self.serve(["-s", "log.access_log=off"])
        self.assertIn("is on fuse", srv.stderr())
        Freshness.run_churn(self, srv, self.backing, "FUSE root",
                            iterations=ITERATIONS // 2, view=self.root)


if __name__ == "__main__":
    unittest.main()


@unittest.skipIf(shutil.which("strace") is None, "strace is not installed")
class NoStatOnHits(ServerTest):
    """A cached file costs no stat: strace counts the server's stat-family
    calls over 10,000 requests answered from the cache."""

    HITS = 2000 if INSTRUMENTED else 10000

    def test_ten_thousand_cached_hits_make_no_stat_call(self):
        self.write("small.txt", b"s" * 500)
        self.write("big.bin", os.urandom(100000))
        self.write("dir/index.html", b"<p>index</p>")
        srv = self.serve(["-s", "log.access_log=off"])
        c = self.connect(srv.port)
        paths = ["/small.txt", "/big.bin", "/dir/"]
        for p in paths:                     # the misses fill the cache
            self.assertEqual(c.request("GET", p).status, 200)
        out = os.path.join(srv.tmp, "strace.out")
        tracer = subprocess.Popen(
            ["strace", "-f", "-c", "-o", out, "-e", "trace=%%stat",
             "-p", str(srv.pid())], stderr=subprocess.PIPE, text=True)
        try:
            # Every thread of the server is attached before we go on:
            # "Process N attached with T threads", or a line per thread.
            deadline = time.monotonic() + scaled(10)
            threads = len(os.listdir("/proc/%d/task" % srv.pid()))
            attached = 0
            while attached < threads and time.monotonic() < deadline:
                ready, _, _ = select.select([tracer.stderr], [], [], 0.5)
                if not ready:
                    continue
                line = tracer.stderr.readline()
                m = re.search(r"attached with (\d+) threads", line)
                attached = int(m.group(1)) if m else \
                    attached + ("attached" in line)
            self.assertEqual(attached, threads, "strace did not attach")
            start = time.monotonic()
            batch = 50
            for i in range(0, self.HITS, batch):
                reqs = [paths[(i + k) % 3] for k in range(batch)]
                c.send(b"".join(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"
                                % p.encode() for p in reqs))
                for p in reqs:
                    r = c.read_response()
                    self.assertEqual(r.status, 200, p)
            took = time.monotonic() - start
        finally:
            tracer.send_signal(2)
            tracer.wait(timeout=scaled(20))
            tracer.stderr.close()
        with open(out) as f:
            summary = f.read()
        calls = {m.group(2): int(m.group(1)) for m in re.finditer(
            r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$",
            summary, re.M) if m.group(2) != "total"}
        print("\n%d cached hits in %.1f s under strace: stat-family calls %s"
              % (self.HITS, took, calls or "none"))
        self.assertEqual(calls, {}, summary)


class ChangedWhileSent(ServerTest):
    """A file that changes while it is being sent never makes a response
    hang, spin or mix two versions."""

    def test_a_file_cut_short_under_sendfile_closes_the_connection(self):
        import socket
        self.write("big.bin", os.urandom(32 << 20))
        srv = self.serve()
        s = socket.socket()
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.settimeout(scaled(10))
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        got = s.recv(65536)
        self.assertTrue(got.startswith(b"HTTP/1.1 200 "))
        os.truncate(os.path.join(self.root, "big.bin"), 1 << 20)
        start = time.monotonic()
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        took = time.monotonic() - start
        body = len(got) - got.index(b"\r\n\r\n") - 4
        print("\ncut from 32 MiB to 1 MiB while sent: %d body bytes, "
              "closed %.2f s after the cut" % (body, took))
        self.assertLess(body, 32 << 20)
        self.assertLess(took, scaled(5))
        self.assertTrue(wait_log(srv, "shrank while it was sent"))
        self.assertEqual(srv.stderr().count("shrank while it was sent"), 1)
        # The server is well and answers the next client.
        c = self.connect(srv.port)
        self.assertEqual(len(c.request("GET", "/big.bin").body), 1 << 20)

    def test_a_small_file_rewritten_in_place_is_never_mixed(self):
        # Rewritten in place 2000 times a second, with no lock: a read may
        # meet a write; the body kept in memory never mixes the two.
        import threading
        size = 3000
        a, b = b"A" * size, b"B" * size
        path = self.write("doc.txt", a)
        srv = self.serve(["-s", "log.access_log=off"])
        stop = threading.Event()

        def writer():
            fd = os.open(path, os.O_WRONLY)
            try:
                n = 0
                while not stop.is_set():
                    os.pwrite(fd, b if n % 2 else a, 0)
                    n += 1
                    time.sleep(0.0005)
            finally:
                os.close(fd)

        t = threading.Thread(target=writer)
        t.start()
        seen = {}
        try:
            c = self.connect(srv.port)
            deadline = time.monotonic() + scaled(3)
            while time.monotonic() < deadline:
                body = c.request("GET", "/doc.txt").body
                seen[body[:1] if body in (a, b) else b"mixed"] = \
                    seen.get(body[:1] if body in (a, b) else b"mixed", 0) + 1
        finally:
            stop.set()
            t.join()
        print("\nsmall file rewritten in place while served: %s" % seen)
        self.assertNotIn(b"mixed", seen)


def wait_log(srv, text, seconds=5):
    deadline = time.monotonic() + scaled(seconds)
    while time.monotonic() < deadline:
        if text in srv.stderr():
            return True
        time.sleep(0.05)
    return False
