"""Issue 5: the cache of resolved files (fcache) stays correct.

An entry is trusted for file_cache_valid (default 1 s) and then checked
with one fstatat(); these tests change files under a running server and
check when the change shows, that responses in flight keep a consistent
file, and that the cache's bounds hold.
"""

import os
import socket
import time

from harness import ServerTest, get, scaled

QUIET = ["-s", "log.access_log=off"]


class FileCache(ServerTest):
    def until(self, port, path, check, limit):
        """Polls path until check(response) holds; returns the seconds."""
        t0 = time.monotonic()
        while True:
            r = get(port, path)
            if check(r):
                return time.monotonic() - t0
            self.assertLess(time.monotonic() - t0, scaled(limit), path)
            time.sleep(0.05)

    def test_a_change_shows_within_the_validity_interval(self):
        self.write("a.txt", b"one")
        srv = self.serve(QUIET)
        self.assertEqual(get(srv.port, "/a.txt").body, b"one")
        self.write("a.txt", b"two, longer")
        took = self.until(srv.port, "/a.txt", lambda r: r.body ==
                          b"two, longer", 1.5)
        self.assertLessEqual(took, scaled(1.2))

    def test_valid_zero_checks_every_request(self):
        self.write("a.txt", b"one")
        srv = self.serve(QUIET + ["-s", "file_cache_valid=0"])
        self.assertEqual(get(srv.port, "/a.txt").body, b"one")
        # Same size, new time: only the metadata check can tell.
        self.write("a.txt", b"two")
        os.utime(os.path.join(self.root, "a.txt"), (1, 1))
        self.assertEqual(get(srv.port, "/a.txt").body, b"two")

    def test_rename_over_a_cached_file(self):
        self.write("a.txt", b"old")
        srv = self.serve(QUIET + ["-s", "file_cache_valid=0"])
        self.assertEqual(get(srv.port, "/a.txt").body, b"old")
        tmp = self.write("a.txt.tmp", b"new")
        os.rename(tmp, os.path.join(self.root, "a.txt"))
        self.assertEqual(get(srv.port, "/a.txt").body, b"new")

    def test_missing_then_created_then_deleted(self):
        srv = self.serve(QUIET)
        self.assertEqual(get(srv.port, "/late.txt").status, 404)
        self.write("late.txt", b"here")
        self.until(srv.port, "/late.txt", lambda r: r.status == 200, 1.5)
        os.unlink(os.path.join(self.root, "late.txt"))
        self.until(srv.port, "/late.txt", lambda r: r.status == 404, 1.5)

    def test_index_removed_gives_the_listing(self):
        self.write("d/index.html", b"INDEX")
        self.write("d/other.txt", b"x")
        srv = self.serve(QUIET)
        self.assertEqual(get(srv.port, "/d/").body, b"INDEX")
        os.unlink(os.path.join(self.root, "d/index.html"))
        self.until(srv.port, "/d/", lambda r: b"other.txt" in r.body, 1.5)

    def test_sibling_that_appears_is_found(self):
        self.write("s.txt", b"plain text " * 50)
        srv = self.serve(QUIET + ["-s", "file_cache_valid=0"])
        gz = {"Accept-Encoding": "gzip"}
        self.assertIsNone(get(srv.port, "/s.txt", gz).header(
            "content-encoding"))
        import gzip
        self.write("s.txt.gz", gzip.compress(b"plain text " * 50))
        r = get(srv.port, "/s.txt", gz)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(r.body), b"plain text " * 50)

    def test_download_in_flight_keeps_its_file(self):
        """A large file is sent from the cached descriptor; replacing the
        file meanwhile must not mix two versions into one response."""
        old = os.urandom(8 * 1024 * 1024)
        self.write("big.bin", old)
        srv = self.serve(QUIET + ["-s", "file_cache_valid=0"])
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        got = bytearray(s.recv(65536))
        tmp = self.write("big.bin.tmp", os.urandom(8 * 1024 * 1024))
        os.rename(tmp, os.path.join(self.root, "big.bin"))
        # A second client gets the new file while the first still reads.
        self.assertNotEqual(get(srv.port, "/big.bin").body, old)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        body = bytes(got).partition(b"\r\n\r\n")[2]
        self.assertTrue(body == old)

    def test_bounded_cache_serves_more_files_than_it_holds(self):
        files = {}
        for i in range(40):
            files[i] = os.urandom(100 + 1000 * i)
            self.write("f%02d.bin" % i, files[i])
        srv = self.serve(QUIET + ["-s", "file_cache_entries=4", "-s",
                                  "file_cache_size=64k"])
        for rnd in range(3):
            for i in range(40):
                r = get(srv.port, "/f%02d.bin" % i)
                self.assertEqual((r.status, r.body), (200, files[i]))

    def test_cache_off(self):
        self.write("a.txt", b"0123456789")
        srv = self.serve(QUIET + ["-s", "file_cache_entries=0"])
        self.assertEqual(get(srv.port, "/a.txt").body, b"0123456789")
        r = get(srv.port, "/a.txt", {"Range": "bytes=2-4"})
        self.assertEqual((r.status, r.body), (206, b"234"))
        self.write("a.txt", b"changed")
        self.assertEqual(get(srv.port, "/a.txt").body, b"changed")

    def test_ranges_of_a_small_file_kept_in_memory(self):
        data = bytes(range(256)) * 20          # 5120 bytes: in memory
        self.write("m.bin", data)
        srv = self.serve(QUIET)
        get(srv.port, "/m.bin")
        r = get(srv.port, "/m.bin", {"Range": "bytes=10-19,100-109"})
        self.assertEqual(r.status, 206)
        self.assertIn(data[10:20], r.body)
        self.assertIn(data[100:110], r.body)
        r = get(srv.port, "/m.bin", {"Range": "bytes=-5"})
        self.assertEqual(r.body, data[-5:])
