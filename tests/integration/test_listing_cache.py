"""Issue 10: the listing cache and its invalidation, gzip listings and
their validators, the cache's bounds, and a folder of 100,000 entries,
against the real binary.

Every invalidation test lists a folder (so the page is cached), changes
it, and lists it again at once: the change must show.  The number of
cached pages is read from the server's descriptors (each page is a
memfd called "lanhttpd-listing"), so the tests also see that the cache
is in use and stays within its bound."""

import gzip
import json
import os
import shutil
import signal
import threading
import time
import unittest

from harness import INSTRUMENTED, ServerTest, get, load_test, scaled

QUIET = ["-s", "log.access_log=off"]
GZ = {"Accept-Encoding": "gzip"}
JSON = {"Accept": "application/json"}


def cached_pages(srv):
    """How many listing pages the server holds (its memfds)."""
    n = 0
    fds = "/proc/%d/fd" % srv.pid()
    for fd in os.listdir(fds):
        try:
            if "memfd:lanhttpd-listing" in os.readlink(os.path.join(fds, fd)):
                n += 1
        except OSError:
            pass                # closed meanwhile
    return n


class Invalidation(ServerTest):
    """List, change, list again at once: the change is visible."""

    def setUp(self):
        super().setUp()
        self.write("d/a.txt", b"a")
        self.write("d/b.txt", b"bb")
        self.write("other/x.txt", b"x")
        self.srv = self.serve(QUIET)

    def entries(self, path="/d/", headers=None):
        h = dict(JSON)
        h.update(headers or {})
        r = get(self.srv.port, path, h)
        self.assertEqual(r.status, 200)
        if r.header("content-encoding") == "gzip":
            return {e["name"]: e for e in
                    json.loads(gzip.decompress(r.body))["entries"]}
        return {e["name"]: e for e in json.loads(r.body)["entries"]}

    def primed(self, path="/d/"):
        """Lists path in every form, twice, so each page is cached."""
        for _ in range(2):
            self.entries(path)
            self.entries(path, GZ)
            get(self.srv.port, path)
            get(self.srv.port, path, GZ)
        self.assertGreaterEqual(cached_pages(self.srv), 3)
        return self.entries(path)

    def html(self, path="/d/", headers=None):
        r = get(self.srv.port, path, headers)
        body = r.body
        if r.header("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode()

    def test_create(self):
        self.primed()
        self.write("d/new.txt", b"12345")
        self.assertEqual(self.entries()["new.txt"]["size"], 5)
        self.assertIn("new.txt", self.html())
        self.assertIn("new.txt", self.html(headers=GZ))

    def test_delete(self):
        self.assertIn("a.txt", self.primed())
        os.unlink(os.path.join(self.root, "d", "a.txt"))
        self.assertNotIn("a.txt", self.entries())
        self.assertNotIn("a.txt", self.html(headers=GZ))

    def test_rename_inside_and_in_and_out(self):
        self.primed()
        d = os.path.join(self.root, "d")
        os.rename(os.path.join(d, "a.txt"), os.path.join(d, "renamed.txt"))
        e = self.entries()
        self.assertIn("renamed.txt", e)
        self.assertNotIn("a.txt", e)
        self.primed()
        os.rename(os.path.join(self.root, "other", "x.txt"),
                  os.path.join(d, "moved-in.txt"))
        self.assertIn("moved-in.txt", self.entries())
        self.primed()
        os.rename(os.path.join(d, "b.txt"),
                  os.path.join(self.root, "other", "moved-out.txt"))
        self.assertNotIn("b.txt", self.entries())

    def test_grow_a_file(self):
        self.assertEqual(self.primed()["b.txt"]["size"], 2)
        with open(os.path.join(self.root, "d", "b.txt"), "ab") as f:
            f.write(b"x" * 1000)
            f.flush()
            # Still open: the write itself must show, not only the close.
            self.assertEqual(self.entries()["b.txt"]["size"], 1002)
        self.primed()
        os.truncate(os.path.join(self.root, "d", "b.txt"), 7)
        self.assertEqual(self.entries()["b.txt"]["size"], 7)

    def test_touch(self):
        self.primed()
        os.utime(os.path.join(self.root, "d", "a.txt"), (1e9, 1e9))
        self.assertEqual(self.entries()["a.txt"]["mtime"], 1000000000)
        self.assertIn("2001-09-09 01:46", self.html(headers=GZ))

    def test_subdirectory_added_and_changed(self):
        self.primed()
        os.mkdir(os.path.join(self.root, "d", "sub"))
        e = self.entries()
        self.assertEqual(e["sub"]["type"], "dir")
        # A file made inside the subfolder changes the subfolder's mtime,
        # which the parent's watch does not see: checked on each hit.
        os.utime(os.path.join(self.root, "d", "sub"), (1e9, 1e9))
        self.primed()
        self.write("d/sub/inner.txt", b"i")
        self.assertGreater(self.entries()["sub"]["mtime"], 1000000000)

    def test_links_and_hard_links_are_checked_again(self):
        os.symlink("../other/x.txt", os.path.join(self.root, "d", "link"))
        os.link(os.path.join(self.root, "d", "a.txt"),
                os.path.join(self.root, "other", "hard"))
        self.assertEqual(self.primed()["link"]["size"], 1)
        # Both files change through a name in another folder.
        with open(os.path.join(self.root, "other", "x.txt"), "ab") as f:
            f.write(b"yyy")
        with open(os.path.join(self.root, "other", "hard"), "ab") as f:
            f.write(b"zzzz")
        e = self.entries()
        self.assertEqual(e["link"]["size"], 4)
        self.assertEqual(e["a.txt"]["size"], 5)

    def test_folder_replaced_at_the_same_path(self):
        self.primed()
        d = os.path.join(self.root, "d")
        os.rename(d, os.path.join(self.root, "old"))
        os.mkdir(d)
        self.write("d/fresh.txt", b"f")
        self.assertEqual(set(self.entries()), {"fresh.txt"})
        self.assertEqual(set(self.entries("/old/")), {"a.txt", "b.txt"})
        shutil.rmtree(d)
        self.assertEqual(get(self.srv.port, "/d/", JSON).status, 404)

    def test_reload_drops_pages_that_settings_change(self):
        self.write("d/.dot", b"h")
        self.assertNotIn(".dot", self.primed())
        srv = self.serve(QUIET, ini="[server]\nhidden_files = allow\n")
        self.assertIn(".dot", self.entries_of(srv))
        self.assertIn(".dot", self.entries_of(srv))
        with open(os.path.join(srv.tmp, "httpd.ini"), "w") as f:
            f.write("[server]\nhidden_files = deny\n")
        srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + scaled(5)
        while ".dot" in self.entries_of(srv):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def entries_of(self, srv):
        r = get(srv.port, "/d/", JSON)
        return {e["name"] for e in json.loads(r.body)["entries"]}

    def test_many_changes_while_listing(self):
        """A writer adds files while clients list: every listing fetched
        after a file was made shows it."""
        self.primed()
        stop = threading.Event()
        errors = []

        def reader():
            while not stop.is_set():
                try:
                    self.entries()
                except Exception as e:      # noqa: BLE001
                    errors.append(e)
                    return

        t = threading.Thread(target=reader)
        t.start()
        try:
            for i in range(60):
                self.write("d/w%03d.txt" % i, b"w" * i)
                e = self.entries()
                self.assertIn("w%03d.txt" % i, e)
                self.assertEqual(e["w%03d.txt" % i]["size"], i)
        finally:
            stop.set()
            t.join()
        self.assertEqual(errors, [])


class GzipAndValidators(ServerTest):
    def setUp(self):
        super().setUp()
        for i in range(300):
            self.write("d/photo-%04d.jpg" % i, b"j" * i)
        self.srv = self.serve(QUIET)

    def test_gzip_decompresses_to_the_plain_page(self):
        for path, headers in (("/d/", {}), ("/d/?sort=size&order=desc", {}),
                              ("/d/", {"Accept-Language": "zh"}),
                              ("/d/", JSON)):
            for _ in range(2):          # built, then from the cache
                plain = get(self.srv.port, path, headers)
                h = dict(headers)
                h.update(GZ)
                gz = get(self.srv.port, path, h)
                self.assertEqual(plain.status, 200)
                self.assertEqual(gz.status, 200)
                self.assertIsNone(plain.header("content-encoding"))
                self.assertEqual(gz.header("content-encoding"), "gzip")
                self.assertEqual(gzip.decompress(gz.body), plain.body)
                self.assertLess(len(gz.body), len(plain.body) / 4)
                self.assertEqual(gz.header("content-type"),
                                 plain.header("content-type"))
                for r in (plain, gz):
                    vary = [v.strip() for v in r.header("vary").split(",")]
                    self.assertIn("Accept-Encoding", vary)
                    self.assertIn("Accept-Language", vary)
                    self.assertEqual(r.header("cache-control"), "no-cache")
                self.assertNotEqual(gz.header("etag"), plain.header("etag"))

    def test_gzip_follows_the_q_values(self):
        r = get(self.srv.port, "/d/", {"Accept-Encoding": "gzip;q=0, br"})
        self.assertIsNone(r.header("content-encoding"))
        r = get(self.srv.port, "/d/", {"Accept-Encoding": "br, x-gzip;q=0.5"})
        self.assertEqual(r.header("content-encoding"), "gzip")

    def test_etag_gives_304_and_changes_with_the_folder(self):
        for headers in ({}, GZ):
            r = get(self.srv.port, "/d/", headers)
            tag = r.header("etag")
            self.assertRegex(tag, r'^"[0-9a-f]{16}(-gz)?"$')
            h = dict(headers)
            h["If-None-Match"] = tag
            nm = get(self.srv.port, "/d/", h)
            self.assertEqual(nm.status, 304)
            self.assertEqual(nm.body, b"")
            self.assertEqual(nm.header("etag"), tag)
            self.assertIn("Accept-Encoding", nm.header("vary"))
            # A date is no validator of a listing: ignored.
            h2 = dict(headers)
            h2["If-Modified-Since"] = "Sun, 06 Nov 2050 08:49:37 GMT"
            self.assertEqual(get(self.srv.port, "/d/", h2).status, 200)
            h3 = dict(headers)
            h3["If-Match"] = '"nope"'
            self.assertEqual(get(self.srv.port, "/d/", h3).status, 412)
        tag = get(self.srv.port, "/d/").header("etag")
        self.write("d/photo-0001.jpg", b"changed!")
        r = get(self.srv.port, "/d/", {"If-None-Match": tag})
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.header("etag"), tag)

    def test_same_page_same_etag_after_a_restart(self):
        tag = get(self.srv.port, "/d/", GZ).header("etag")
        srv = self.serve(QUIET + ["-s", "listing_cache_entries=0"])
        self.assertEqual(get(srv.port, "/d/", GZ).header("etag"), tag)

    def test_head_matches_get(self):
        for headers in ({}, GZ):
            g = get(self.srv.port, "/d/", headers)
            h = get(self.srv.port, "/d/", headers, method="HEAD")
            self.assertEqual(h.status, 200)
            self.assertEqual(h.header("content-length"),
                             g.header("content-length"))
            self.assertEqual(h.header("etag"), g.header("etag"))

    def test_without_the_cache_the_same(self):
        srv = self.serve(QUIET + ["-s", "listing_cache_entries=0"])
        for headers in ({}, GZ, JSON):
            a = get(self.srv.port, "/d/", headers)
            b = get(srv.port, "/d/", headers)
            self.assertEqual(a.body, b.body)
            self.assertEqual(a.header("etag"), b.header("etag"))
        self.assertEqual(cached_pages(srv), 0)


class Bounds(ServerTest):
    def test_more_folders_than_pages(self):
        for i in range(8):
            for j in range(i + 1):
                self.write("d%d/f%d.txt" % (i, j), b"x" * j)
        srv = self.serve(QUIET + ["-s", "listing_cache_entries=3"])
        for _ in range(3):
            for i in range(8):
                r = get(srv.port, "/d%d/" % i, JSON)
                names = [e["name"] for e in json.loads(r.body)["entries"]]
                self.assertEqual(sorted(names),
                                 sorted("f%d.txt" % j for j in range(i + 1)))
                self.assertLessEqual(cached_pages(srv), 3)
        self.assertEqual(cached_pages(srv), 3)
        # Evicted folders still change correctly.
        self.write("d0/late.txt", b"l")
        r = get(srv.port, "/d0/", JSON)
        self.assertIn("late.txt", r.body.decode())

    def test_a_page_over_a_quarter_of_the_bytes_is_not_kept(self):
        for i in range(1000):
            self.write("big/f%04d.bin" % i, b"")
        self.write("small/a", b"")
        srv = self.serve(QUIET + ["-s", "listing_cache_size=256k"])
        for _ in range(2):
            r = get(srv.port, "/big/")
            self.assertEqual(r.body.count(b"<tr><td"), 1000)
            self.assertGreater(len(r.body), 64 * 1024)
            self.assertEqual(get(srv.port, "/small/").status, 200)
        self.assertEqual(cached_pages(srv), 1)      # small only


@load_test
class HundredThousand(ServerTest):
    """A folder of 100,000 entries: pages of 10,000, bounded memory, and
    other clients served while it is read."""
    N = 100000
    RSS_LIMIT_KIB = 64 * 1024       # documented in docs/performance.md

    def setUp(self):
        super().setUp()
        d = os.path.join(self.root, "many")
        os.makedirs(d)
        for i in range(self.N):
            os.close(os.open(os.path.join(d, "photo-%06d.jpg" % i),
                             os.O_CREAT | os.O_WRONLY, 0o644))
        self.write("small.txt", b"small")

    def test_pages_and_json_for_the_rest(self):
        srv = self.serve(QUIET)
        r = get(srv.port, "/many/")
        self.assertEqual(r.status, 200)
        html = r.body.decode()
        self.assertEqual(html.count("<tr><td"), 10000)
        self.assertIn("Showing entries 1&ndash;10000 of 100000.", html)
        self.assertIn('href="?sort=name&amp;order=asc&amp;start=10000">'
                      'Next page</a>', html)
        names, query, pages = [], "?format=json", 0
        while query is not None:
            doc = json.loads(get(srv.port, "/many/" + query).body)
            self.assertEqual(doc["total"], self.N)
            self.assertFalse(doc["truncated"])
            names += [e["name"] for e in doc["entries"]]
            query = doc["next"]
            pages += 1
        self.assertEqual(pages, 10)
        self.assertEqual(names, ["photo-%06d.jpg" % i for i in range(self.N)])

    def others_while_listing(self, listers):
        """Slowest answer to another client while listers threads read
        the folder over and over (the cache is off, so every request
        reads all 100,000 entries), the peak RSS, and pages listed."""
        srv = self.serve(QUIET + ["-s", "listing_cache_entries=0"])
        stop = threading.Event()
        done = [0]

        def lister(i):
            while not stop.is_set():
                r = get(srv.port, "/many/?sort=size&start=%d" % (i * 10000),
                        GZ)
                assert r.status == 200, r
                done[0] += 1

        threads = [threading.Thread(target=lister, args=(i,))
                   for i in range(listers)]
        for t in threads:
            t.start()
        worst = 0.0
        try:
            time.sleep(0.1)
            t_end = time.monotonic() + scaled(3)
            while time.monotonic() < t_end:
                t0 = time.monotonic()
                self.assertEqual(get(srv.port, "/small.txt").body, b"small")
                worst = max(worst, time.monotonic() - t0)
                time.sleep(0.02)
        finally:
            stop.set()
            for t in threads:
                t.join()
        with open("/proc/%d/status" % srv.pid()) as f:
            hwm = int([ln for ln in f
                       if ln.startswith("VmHWM:")][0].split()[1])
        print("\n  100,000 entries, %d lister(s): %d pages, VmHWM %d KiB, "
              "slowest other request %.0f ms" % (listers, done[0], hwm,
                                                  worst * 1000))
        self.assertGreater(done[0], 0)
        return worst, hwm

    def test_others_served_while_it_lists(self):
        worst, hwm = self.others_while_listing(1)
        self.assertLess(worst, scaled(0.5))
        if not INSTRUMENTED:
            self.assertLess(hwm, self.RSS_LIMIT_KIB)

    def test_two_listings_at_once_stall_nobody_for_long(self):
        """Both workers reading it (2 CPUs): others wait for one read."""
        worst, hwm = self.others_while_listing(2)
        self.assertLess(worst, scaled(1.5))
        if not INSTRUMENTED:
            self.assertLess(hwm, self.RSS_LIMIT_KIB)


if __name__ == "__main__":
    unittest.main()
