"""Issue 6: a long mixed load; afterwards nothing has leaked.

Keep-alive and new-connection requests, ranges, 404s, pipelined bursts and
aborted downloads run for LANHTTPD_SOAK_SECONDS (default 60; make check
runs 30, make soak 300; 0 skips).
The open descriptor count and RSS are measured at rest after a warm-up
and again at rest after the load; they must be back within 5%.
"""

import os
import random
import socket
import threading
import time
import unittest

from harness import Conn, ServerTest, scaled

SOAK_SECONDS = int(os.environ.get("LANHTTPD_SOAK_SECONDS", "60"))


@unittest.skipIf(SOAK_SECONDS <= 0, "LANHTTPD_SOAK_SECONDS=0")
class Soak(ServerTest):
    def setUp(self):
        super().setUp()
        for i in range(50):
            self.write("small/%02d.txt" % i, os.urandom(100 + 97 * i))
        self.big = os.urandom(8 * 1024 * 1024)
        self.write("big.bin", self.big)
        self.srv = self.serve(["-t", "2", "-s", "log.access_log=off"])

    def load(self, seconds):
        stop = threading.Event()
        stats = {"ok": 0, "errors": []}
        lock = threading.Lock()
        port = self.srv.port

        def count(ok, what=None):
            with lock:
                if ok:
                    stats["ok"] += 1
                else:
                    stats["errors"].append(what)

        def keepalive():
            c = Conn(port)
            try:
                while not stop.is_set():
                    i = random.randrange(50)
                    r = c.request("GET", "/small/%02d.txt" % i)
                    count(r.status == 200 and len(r.body) == 100 + 97 * i,
                          ("keepalive", r.status))
            finally:
                c.close()

        def fresh():
            while not stop.is_set():
                c = Conn(port)
                try:
                    r = c.request("GET", "/small/07.txt",
                                  {"Connection": "close"})
                    count(r.status == 200, ("fresh", r.status))
                finally:
                    c.close()

        def ranges_and_404():
            c = Conn(port)
            try:
                while not stop.is_set():
                    a = random.randrange(len(self.big) - 70000)
                    r = c.request("GET", "/big.bin",
                                  {"Range": "bytes=%d-%d" % (a, a + 65535)})
                    if r.status == 206:
                        good = r.body == self.big[a:a + 65536]
                    else:
                        good = r.status == 200 and r.body == self.big
                    count(good, ("range", r.status))
                    r = c.request("GET", "/missing-%d" % a)
                    count(r.status == 404, ("404", r.status))
            finally:
                c.close()

        def pipelined():
            while not stop.is_set():
                c = Conn(port)
                try:
                    c.send(b"".join(b"GET /small/%02d.txt HTTP/1.1\r\n"
                                    b"Host: x\r\n\r\n" % i
                                    for i in range(10)))
                    for i in range(10):
                        r = c.read_response()
                        count(len(r.body) == 100 + 97 * i, ("pipe", i))
                finally:
                    c.close()

        def aborted():
            while not stop.is_set():
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                try:
                    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                    got = 0
                    while got < 200000:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += len(chunk)
                    count(got >= 200000, ("aborted", got))
                finally:
                    s.close()
                time.sleep(0.01)

        def guard(fn):
            def run():
                while not stop.is_set():
                    try:
                        fn()
                    except Exception as e:      # noqa: BLE001
                        count(False, (fn.__name__, repr(e)))
            return run

        threads = [threading.Thread(target=guard(f)) for f in
                   (keepalive, keepalive, fresh, ranges_and_404, pipelined,
                    aborted)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(scaled(30))
        return stats

    def at_rest(self):
        """Descriptors and RSS once the server has closed everything."""
        deadline = time.monotonic() + scaled(10)
        fds = self.srv.fd_count()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.srv.fd_count()
            if now == fds:
                break
            fds = now
        return self.srv.fd_count(), self.srv.rss_kib()

    def test_mixed_load_leaks_nothing(self):
        warm = self.load(min(15, SOAK_SECONDS))
        self.assertEqual(warm["errors"], [])
        fds0, rss0 = self.at_rest()
        t0 = time.monotonic()
        stats = self.load(SOAK_SECONDS)
        fds1, rss1 = self.at_rest()
        print("\nsoak: %d s, %d responses, %d errors; fds %d -> %d, "
              "RSS %d -> %d KiB (%+.1f%%)" % (
                  time.monotonic() - t0, stats["ok"], len(stats["errors"]),
                  fds0, fds1, rss0, rss1, 100.0 * (rss1 - rss0) / rss0))
        self.assertEqual(stats["errors"][:10], [])
        self.assertGreater(stats["ok"], SOAK_SECONDS * 100)
        self.assertLessEqual(abs(fds1 - fds0), max(1, fds0 // 20))
        self.assertLessEqual(rss1, rss0 * 1.05)


if __name__ == "__main__":
    unittest.main()
