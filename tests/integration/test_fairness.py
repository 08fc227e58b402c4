"""Issue 16: a worker busy with one long job does not hold its other
clients hostage.

One client fetches an uncached listing of a 100,000-entry folder in a
loop (each takes a worker a few hundred milliseconds) while 50 keep-alive
clients fetch a 1 KiB file: before the long job starts, its worker hands
its other connections to the queue, where the others take them.  The
small-file clients' p99 must stay under 20 ms and none may wait over
100 ms.  wrk drives them (a C client, so the measurement is not the
client's own scheduling); the figures are printed.
"""

import os
import re
import shutil
import subprocess
import threading
import time
import unittest

from harness import INSTRUMENTED, ServerTest, get, scaled

N = 100000


def wrk_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@unittest.skipIf(shutil.which("wrk") is None, "wrk is not installed")
class Fairness(ServerTest):
    def setUp(self):
        super().setUp()
        d = os.path.join(self.root, "many")
        os.makedirs(d)
        for i in range(N):
            os.close(os.open(os.path.join(d, "photo-%06d.jpg" % i),
                             os.O_CREAT | os.O_WRONLY, 0o644))
        self.write("1k.bin", os.urandom(1024))

    def test_small_files_stay_fast_while_a_big_folder_is_listed(self):
        srv = self.serve(["-s", "log.access_log=off", "-s",
                          "listing_cache_entries=0"])
        stop = threading.Event()
        listed = [0]
        worst_listing = [0.0]

        def lister():
            while not stop.is_set():
                t0 = time.monotonic()
                r = get(srv.port, "/many/?sort=size")
                assert r.status == 200, r
                worst_listing[0] = max(worst_listing[0],
                                       time.monotonic() - t0)
                listed[0] += 1

        t = threading.Thread(target=lister)
        t.start()
        try:
            time.sleep(0.5)
            out = subprocess.run(
                # 8 s of load in every run: an instrumented server serves
                # fewer requests in it, and the listings still overlap.
                ["wrk", "-t2", "-c50", "-d8", "--latency",
                 "--timeout", "5s", "http://127.0.0.1:%d/1k.bin" % srv.port],
                capture_output=True, text=True, timeout=scaled(60)).stdout
        finally:
            stop.set()
            t.join(scaled(30))
        p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        mx = re.search(r"^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out,
                       re.M)
        reqs = re.search(r"^\s*(\d+) requests in", out, re.M)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)|"
                           r"Socket errors: (.*)", out)
        self.assertTrue(p99 and mx and reqs, out)
        p99_ms, max_ms = wrk_ms(*p99.groups()), wrk_ms(*mx.groups())
        print("\n%d listings of 100,000 entries (slowest %.0f ms) while 50 "
              "keep-alive clients fetched %s small files: p99 %.2f ms, "
              "max %.1f ms" % (listed[0], worst_listing[0] * 1000,
                               reqs.group(1), p99_ms, max_ms))
        self.assertIsNone(errors, out)
        # Listings ran all along (an instrumented one takes seconds).
        self.assertGreater(listed[0], 0 if INSTRUMENTED else 2)
        if not INSTRUMENTED:
            self.assertLess(p99_ms, 20.0, out)
            self.assertLess(max_ms, 100.0, out)


if __name__ == "__main__":
    unittest.main()
