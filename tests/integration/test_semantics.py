"""Issue 3: ranges, conditional requests, listings, precompressed files,
OPTIONS, downloads and error pages, against the real binary."""

import email.utils
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import BIN, Conn, ServerTest, get, scaled

QUIET = ["-s", "log.access_log=off"]


def quote(name):
    return "/" + urllib.parse.quote(name)


def parse_multipart(resp):
    """The parts of a multipart/byteranges body: [(headers, body)]."""
    ctype = resp.header("content-type")
    m = re.match(r"multipart/byteranges; boundary=(\S+)$", ctype)
    assert m, ctype
    delim = b"--" + m.group(1).encode()
    body = resp.body
    assert body.startswith(delim + b"\r\n"), body[:80]
    assert body.endswith(b"\r\n" + delim + b"--\r\n"), body[-80:]
    chunks = body[:-len(b"\r\n" + delim + b"--\r\n")].split(b"\r\n" + delim)
    chunks[0] = chunks[0][len(delim):]
    parts = []
    for c in chunks:
        assert c.startswith(b"\r\n"), c[:40]
        head, _, data = c[2:].partition(b"\r\n\r\n")
        hdrs = dict(line.split(": ", 1) for line in
                    head.decode("latin-1").split("\r\n"))
        parts.append(({k.lower(): v for k, v in hdrs.items()}, data))
    return m.group(1), parts


class Ranges(ServerTest):
    def setUp(self):
        super().setUp()
        self.data = bytes(range(256)) * 40          # 10240 bytes
        self.write("f.bin", self.data)
        self.big = os.urandom(6 * 1024 * 1024)
        self.write("big.bin", self.big)
        self.write("empty", b"")
        self.srv = self.serve(QUIET)

    def rng(self, value, path="/f.bin", method="GET", extra=None):
        h = {"Range": value}
        h.update(extra or {})
        return get(self.srv.port, path, h, method=method)

    def test_accept_ranges_on_files(self):
        self.assertEqual(get(self.srv.port, "/f.bin").header("accept-ranges"),
                         "bytes")

    def test_single_ranges(self):
        n = len(self.data)
        for value, lo, hi in (("bytes=0-99", 0, 99), ("bytes=100-", 100, n - 1),
                              ("bytes=-10", n - 10, n - 1),
                              ("bytes=10000-99999", 10000, n - 1)):
            r = self.rng(value)
            self.assertEqual(r.status, 206, value)
            self.assertEqual(r.header("content-range"),
                             "bytes %d-%d/%d" % (lo, hi, n), value)
            self.assertEqual(r.body, self.data[lo:hi + 1], value)
            self.assertEqual(r.header("content-length"), str(hi - lo + 1))

    def test_range_deep_in_a_large_file_uses_the_offset(self):
        lo, hi = 3 * 1024 * 1024 + 7, 5 * 1024 * 1024 + 99
        r = self.rng("bytes=%d-%d" % (lo, hi), "/big.bin")
        self.assertEqual(r.status, 206)
        self.assertTrue(r.body == self.big[lo:hi + 1])

    def test_head_with_range_has_the_headers_and_no_body(self):
        c = self.connect(self.srv.port)
        r = c.request("HEAD", "/f.bin", {"Range": "bytes=5-9"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("content-range"), "bytes 5-9/10240")
        self.assertEqual(r.header("content-length"), "5")
        r = c.request("HEAD", "/f.bin", {"Range": "bytes=0-1,5-6"})
        self.assertEqual(r.status, 206)
        self.assertTrue(r.header("content-type").startswith(
            "multipart/byteranges"))
        # No body bytes were sent: the next response parses cleanly.
        r = c.request("GET", "/f.bin", {"Range": "bytes=0-3"})
        self.assertEqual(r.body, self.data[:4])

    def test_multipart_byteranges(self):
        r = self.rng("bytes=0-9,100-109,-5")
        self.assertEqual(r.status, 206)
        self.assertIsNone(r.header("content-range"))
        boundary, parts = parse_multipart(r)
        self.assertEqual(len(parts), 3)
        n = len(self.data)
        for (h, body), (lo, hi) in zip(parts, ((0, 9), (100, 109),
                                               (n - 5, n - 1))):
            self.assertEqual(h["content-range"], "bytes %d-%d/%d" % (lo, hi, n))
            self.assertEqual(h["content-type"], "application/octet-stream")
            self.assertEqual(body, self.data[lo:hi + 1])
        self.assertEqual(int(r.header("content-length")), len(r.body))
        # The boundary is random, not a constant someone could put in a file.
        b2, _ = parse_multipart(self.rng("bytes=0-9,100-109"))
        self.assertNotEqual(boundary, b2)
        self.assertGreaterEqual(len(boundary), 20)

    def test_multipart_from_a_large_file(self):
        spans = [(i * 500000, i * 500000 + 65535) for i in range(12)]
        r = self.rng("bytes=" + ",".join("%d-%d" % s for s in spans),
                     "/big.bin")
        _, parts = parse_multipart(r)
        self.assertEqual([p[1] for p in parts],
                         [self.big[lo:hi + 1] for lo, hi in spans])

    def test_overlapping_ranges_are_coalesced(self):
        r = self.rng("bytes=0-99,50-149")
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("content-range"), "bytes 0-149/10240")
        self.assertEqual(r.body, self.data[:150])

    def test_too_many_ranges_get_the_whole_file(self):
        value = "bytes=" + ",".join("%d-%d" % (i * 100, i * 100 + 1)
                                    for i in range(17))
        r = self.rng(value)
        self.assertEqual((r.status, r.body), (200, self.data))

    def test_amplifying_ranges_get_the_whole_file(self):
        r = self.rng("bytes=0-,0-,0-")
        self.assertEqual((r.status, len(r.body)), (200, len(self.data)))

    def test_unsatisfiable_is_416(self):
        r = self.rng("bytes=20000-")
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("content-range"), "bytes */10240")
        r = self.rng("bytes=0-0", "/empty")
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("content-range"), "bytes */0")

    def test_malformed_range_is_ignored(self):
        for value in ("bytes=5-1", "bytes=abc", "pages=1-2", "bytes 1-2",
                      "bytes=1-2,x", "bytes=--1"):
            r = self.rng(value)
            self.assertEqual((r.status, r.body), (200, self.data), value)

    def test_if_range_with_etag(self):
        etag = get(self.srv.port, "/f.bin").header("etag")
        r = self.rng("bytes=0-9", extra={"If-Range": etag})
        self.assertEqual((r.status, r.body), (206, self.data[:10]))
        r = self.rng("bytes=0-9", extra={"If-Range": '"stale"'})
        self.assertEqual((r.status, r.body), (200, self.data))
        # A weak validator never satisfies If-Range.
        r = self.rng("bytes=0-9", extra={"If-Range": "W/" + etag})
        self.assertEqual(r.status, 200)

    def test_if_range_with_date(self):
        # A whole second stamped on the file later (as tar or rsync do) is
        # a strong date; one written in place is not (test_review.IfRange).
        path = os.path.join(self.root, "f.bin")
        os.utime(path, (1700000000, 1700000000))
        lm = get(self.srv.port, "/f.bin").header("last-modified")
        self.assertEqual(lm, "Tue, 14 Nov 2023 22:13:20 GMT")
        r = self.rng("bytes=0-9", extra={"If-Range": lm})
        self.assertEqual(r.status, 206)
        old = email.utils.formatdate(
            email.utils.parsedate_to_datetime(lm).timestamp() - 60,
            usegmt=True)
        r = self.rng("bytes=0-9", extra={"If-Range": old})
        self.assertEqual((r.status, r.body), (200, self.data))


class Conditional(ServerTest):
    def setUp(self):
        super().setUp()
        self.path = self.write("page.html", b"<p>hello</p>")
        os.utime(self.path, (1700000000, 1700000000))
        self.srv = self.serve(QUIET)
        r = get(self.srv.port, "/page.html")
        self.etag, self.lm = r.header("etag"), r.header("last-modified")

    def cond(self, headers, method="GET"):
        return get(self.srv.port, "/page.html", headers, method=method)

    def test_validators_are_sent(self):
        self.assertRegex(self.etag, r'^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$')
        self.assertEqual(self.lm, "Tue, 14 Nov 2023 22:13:20 GMT")
        self.assertIsNone(self.cond({}).header("cache-control"))

    def test_if_none_match_gives_304_without_body(self):
        c = self.connect(self.srv.port)
        r = c.request("GET", "/page.html", {"If-None-Match": self.etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.header("etag"), self.etag)
        self.assertEqual(r.header("last-modified"), self.lm)
        self.assertIsNotNone(r.header("date"))
        self.assertIsNone(r.header("content-length"))
        # Keep-alive goes on: no body was sent after the 304.
        r = c.request("GET", "/page.html")
        self.assertEqual(r.body, b"<p>hello</p>")

    def test_if_none_match_forms(self):
        for v in ('"x", ' + self.etag, "*", "W/" + self.etag,
                  '"a,b",' + self.etag):
            self.assertEqual(self.cond({"If-None-Match": v}).status, 304, v)
        self.assertEqual(self.cond({"If-None-Match": '"x"'}).status, 200)
        self.assertEqual(self.cond({"If-None-Match": self.etag},
                                   "HEAD").status, 304)

    def test_if_modified_since(self):
        self.assertEqual(self.cond({"If-Modified-Since": self.lm}).status, 304)
        self.assertEqual(self.cond({"If-Modified-Since":
                                    "Tue, 14 Nov 2023 22:13:19 GMT"}).status,
                         200)
        self.assertEqual(self.cond({"If-Modified-Since": "garbage"}).status,
                         200)

    def test_if_none_match_takes_precedence(self):
        r = self.cond({"If-None-Match": '"other"',
                       "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
        self.assertEqual(r.status, 200)

    def test_if_match_and_if_unmodified_since(self):
        self.assertEqual(self.cond({"If-Match": self.etag}).status, 200)
        self.assertEqual(self.cond({"If-Match": "*"}).status, 200)
        r = self.cond({"If-Match": '"other"'})
        self.assertEqual(r.status, 412)
        self.assertEqual(self.cond({"If-Unmodified-Since":
                                    "Tue, 14 Nov 2023 22:13:19 GMT"}).status,
                         412)
        self.assertEqual(self.cond({"If-Unmodified-Since": self.lm}).status,
                         200)
        # If-Match is evaluated before If-None-Match.
        self.assertEqual(self.cond({"If-Match": '"other"',
                                    "If-None-Match": self.etag}).status, 412)

    def test_future_mtime_is_sent_as_now(self):
        """RFC 9110 §8.8.2.1: Last-Modified is never later than Date."""
        p = self.write("future.txt", b"from the future")
        os.utime(p, (4102444800, 4102444800))          # 2100
        r = get(self.srv.port, "/future.txt")
        lm = email.utils.parsedate_to_datetime(r.header("last-modified"))
        date = email.utils.parsedate_to_datetime(r.header("date"))
        self.assertLessEqual(lm, date)
        self.assertEqual(get(self.srv.port, "/future.txt", {
            "If-Modified-Since": r.header("last-modified")}).status, 304)

    def test_etag_changes_with_the_file(self):
        # A file cache that checks on every request sees the change at once
        # (the default trusts an entry for a second; see test_cache.py).
        srv = self.serve(QUIET + ["-s", "file_cache_valid=0"])
        etag = get(srv.port, "/page.html").header("etag")
        with open(self.path, "ab") as f:
            f.write(b"more")
        r = get(srv.port, "/page.html", {"If-None-Match": etag})
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.header("etag"), etag)

    def test_cache_max_age(self):
        srv = self.serve(QUIET + ["-s", "cache_max_age=1h"])
        r = get(srv.port, "/page.html")
        self.assertEqual(r.header("cache-control"), "max-age=3600")
        r = get(srv.port, "/page.html", {"If-None-Match": r.header("etag")})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.header("cache-control"), "max-age=3600")

    def test_etag_inode_switch(self):
        """Two copies with the same size and mtime (replicas): their ETags
        agree only with etag_inode = off."""
        other = os.path.join(self.root, "copy")
        os.makedirs(other)
        with open(os.path.join(other, "page.html"), "wb") as f:
            f.write(b"<p>hello</p>")
        st = os.stat(self.path)
        os.utime(os.path.join(other, "page.html"), ns=(st.st_atime_ns,
                                                       st.st_mtime_ns))
        on = self.serve(QUIET, root=other)
        self.assertNotEqual(get(on.port, "/page.html").header("etag"),
                            self.etag)
        a = self.serve(QUIET + ["-s", "etag_inode=off"])
        b = self.serve(QUIET + ["-s", "etag_inode=off"], root=other)
        ea = get(a.port, "/page.html").header("etag")
        self.assertEqual(ea, get(b.port, "/page.html").header("etag"))
        self.assertEqual(get(b.port, "/page.html",
                             {"If-None-Match": ea}).status, 304)


class Precompressed(ServerTest):
    def setUp(self):
        super().setUp()
        self.plain = b"function hello() { return 42; }\n" * 50
        self.write("app.js", self.plain)
        self.write("app.js.gz", b"GZIP-BYTES" * 10)
        self.write("app.js.br", b"BROTLI-BYTES" * 5)
        self.write("only-gz.css", b"body{}")
        self.write("only-gz.css.gz", b"GZ-CSS")
        self.write("stale.txt", b"new text")
        self.write("stale.txt.gz", b"OLD-GZ")
        os.utime(os.path.join(self.root, "stale.txt.gz"), (1000, 1000))
        self.srv = self.serve(QUIET)

    def ae(self, value, path="/app.js", extra=None):
        h = {} if value is None else {"Accept-Encoding": value}
        h.update(extra or {})
        return get(self.srv.port, path, h)

    def test_br_preferred_over_gzip(self):
        r = self.ae("gzip, deflate, br")
        self.assertEqual(r.header("content-encoding"), "br")
        self.assertEqual(r.body, b"BROTLI-BYTES" * 5)
        self.assertEqual(r.header("content-type"),
                         "text/javascript; charset=utf-8")
        self.assertEqual(r.header("vary"), "Accept-Encoding")

    def test_gzip_when_br_is_excluded(self):
        r = self.ae("br;q=0, gzip")
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(r.body, b"GZIP-BYTES" * 10)
        r = self.ae("gzip", "/only-gz.css")
        self.assertEqual((r.header("content-encoding"), r.body),
                         ("gzip", b"GZ-CSS"))
        self.assertEqual(r.header("content-type"), "text/css; charset=utf-8")

    def test_identity_without_accept_encoding_still_varies(self):
        for v in (None, "identity", "gzip;q=0, br;q=0", "deflate"):
            r = self.ae(v)
            self.assertIsNone(r.header("content-encoding"), v)
            self.assertEqual(r.body, self.plain, v)
            self.assertEqual(r.header("vary"), "Accept-Encoding", v)

    def test_each_encoding_has_its_own_etag(self):
        tags = {self.ae(v).header("etag") for v in (None, "gzip", "br")}
        self.assertEqual(len(tags), 3)
        br_tag = self.ae("br").header("etag")
        r = self.ae("br", extra={"If-None-Match": br_tag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.header("vary"), "Accept-Encoding")
        # The identity client's cached copy is not the br one.
        self.assertEqual(self.ae(None, extra={"If-None-Match": br_tag}).status,
                         200)

    def test_ranges_apply_to_the_compressed_bytes(self):
        r = self.ae("gzip", extra={"Range": "bytes=4-9"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(r.header("content-range"), "bytes 4-9/100")
        self.assertEqual(r.body, (b"GZIP-BYTES" * 10)[4:10])

    def test_stale_sibling_is_not_served(self):
        r = self.ae("gzip", "/stale.txt")
        self.assertIsNone(r.header("content-encoding"))
        self.assertEqual(r.body, b"new text")

    def test_off_serves_the_file_as_is(self):
        srv = self.serve(QUIET + ["-s", "precompressed=off"])
        r = get(srv.port, "/app.js", {"Accept-Encoding": "gzip, br"})
        self.assertIsNone(r.header("content-encoding"))
        self.assertIsNone(r.header("vary"))
        self.assertEqual(r.body, self.plain)


class Listing(ServerTest):
    NAMES = ["<script>.txt", "a&b #1 %.txt", "中文 文件.pdf", "plain.txt",
             "javascript:alert(1).txt", "it's \"quoted\".txt"]

    def setUp(self):
        super().setUp()
        for i, n in enumerate(self.NAMES):
            self.write("d/" + n, ("file %d: %s" % (i, n)).encode())
        self.write("d/sub/inner.txt", b"inner")
        self.write("d/big.bin", b"x" * 5000)
        self.write("d/.secret", b"hidden")
        os.makedirs(os.path.join(self.root, "d", "Zeta"))
        os.symlink("/etc/passwd", os.path.join(self.root, "d", "escape"))
        self.srv = self.serve(QUIET)

    def links(self, html):
        return re.findall(r'<a href="([^"]*)">([^<]*)</a>', html)

    def test_html_listing(self):
        r = get(self.srv.port, "/d/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        self.assertEqual(r.header("cache-control"), "no-cache")
        html = r.body.decode()
        self.assertIn('<meta name="viewport"', html)
        self.assertIn("prefers-color-scheme:dark", html)
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;.txt", html)
        self.assertIn("a&amp;b #1 %.txt", html)
        self.assertIn("中文 文件.pdf", html)
        self.assertNotIn(".secret", html)
        self.assertNotIn("escape", html)        # a link out of the root
        self.assertIn('href="../"', html)

    def test_every_link_downloads_its_file(self):
        html = get(self.srv.port, "/d/").body.decode()
        hrefs = {urllib.parse.unquote(h): h for h, _ in self.links(html)}
        for i, n in enumerate(self.NAMES):
            self.assertIn(n, hrefs, n)
            self.assertNotIn(":", hrefs[n].split("/")[0], n)
            r = get(self.srv.port, "/d/" + hrefs[n])
            self.assertEqual(r.status, 200, n)
            self.assertEqual(r.body, ("file %d: %s" % (i, n)).encode(), n)

    def rows(self, path):
        html = get(self.srv.port, path).body.decode()
        return html, [urllib.parse.unquote(h) for h in re.findall(
            r'<tr(?: class="d")?><td class="n"><a href="([^"]*)">', html)]

    def test_folders_first_and_sorting(self):
        html, rows = self.rows("/d/")
        self.assertEqual(rows[:3], ["sub/", "Zeta/", "<script>.txt"])
        self.assertEqual(len(rows), 9)
        html, rows = self.rows("/d/?sort=size&order=desc")
        self.assertEqual(rows[:3], ["Zeta/", "sub/", "big.bin"])
        # The active column's link flips the order; the others ascend.
        self.assertIn('href="?sort=size&amp;order=asc"', html)
        self.assertIn('href="?sort=name&amp;order=asc"', html)
        self.assertIn('href="?sort=mtime&amp;order=asc"', html)
        html, rows = self.rows("/d/?sort=name&order=desc")
        self.assertEqual(rows[:2], ["Zeta/", "sub/"])
        self.assertEqual(rows[-1], "<script>.txt")
        self.assertIn('href="?sort=name&amp;order=asc"', html)

    def test_json_listing(self):
        for headers, path in (({"Accept": "application/json"}, "/d/"),
                              ({}, "/d/?format=json")):
            r = get(self.srv.port, path, headers)
            self.assertEqual(r.header("content-type"), "application/json")
            doc = json.loads(r.body)
            self.assertEqual(doc["path"], "/d/")
            names = {e["name"]: e for e in doc["entries"]}
            self.assertEqual(set(names), set(self.NAMES) |
                             {"sub", "Zeta", "big.bin"})
            self.assertEqual(names["big.bin"]["size"], 5000)
            self.assertEqual(names["sub"]["type"], "dir")
            self.assertEqual(names["sub"]["href"], "sub/")
            body = get(self.srv.port, "/d/" +
                       names["中文 文件.pdf"]["href"]).body
            self.assertEqual(body, "file 2: 中文 文件.pdf".encode())
        # A browser's Accept gets HTML.
        r = get(self.srv.port, "/d/", {"Accept": "text/html,application/"
                                       "xhtml+xml,*/*;q=0.8"})
        self.assertTrue(r.header("content-type").startswith("text/html"))

    def test_invalid_utf8_name(self):
        raw = os.path.join(os.fsencode(self.root), b"d", b"bad\xffname.txt")
        with open(raw, "wb") as f:
            f.write(b"raw bytes")
        doc = json.loads(get(self.srv.port, "/d/?format=json").body)
        e = [e for e in doc["entries"] if e["name"].startswith("bad")][0]
        self.assertEqual(e["name"], "bad\ufffdname.txt")
        self.assertEqual(e["href"], "bad%FFname.txt")
        self.assertEqual(get(self.srv.port, "/d/" + e["href"]).body,
                         b"raw bytes")
        html = get(self.srv.port, "/d/").body
        html.decode("utf-8")            # the page itself stays valid UTF-8
        self.assertIn(b'href="bad%FFname.txt">bad\xef\xbf\xbdname.txt<', html)

    def test_chinese_when_preferred(self):
        r = get(self.srv.port, "/d/",
                {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
        html = r.body.decode()
        self.assertIn('<html lang="zh-CN">', html)
        self.assertIn("名称", html)
        self.assertIn("Accept-Language", r.header("vary"))
        r = get(self.srv.port, "/d/", {"Accept-Language": "en-US,zh;q=0.5"})
        self.assertIn('<html lang="en">', r.body.decode())

    def test_hidden_files_when_allowed(self):
        srv = self.serve(QUIET + ["-s", "hidden_files=allow"])
        self.assertIn(".secret", get(srv.port, "/d/").body.decode())

    def test_listing_off_is_403(self):
        srv = self.serve(QUIET + ["-s", "directory_listing=off"])
        self.assertEqual(get(srv.port, "/d/").status, 403)

    def test_index_wins_over_listing(self):
        self.write("d/sub/index.html", b"INDEX")
        self.assertEqual(get(self.srv.port, "/d/sub/").body, b"INDEX")

    def test_head_listing(self):
        c = self.connect(self.srv.port)
        g = c.request("GET", "/d/")
        h = c.request("HEAD", "/d/")
        self.assertEqual(h.status, 200)
        self.assertEqual(h.header("content-length"),
                         g.header("content-length"))
        self.assertEqual(c.request("GET", "/d/plain.txt").body,
                         b"file 3: plain.txt")


class BigListing(ServerTest):
    N = 10000

    def setUp(self):
        super().setUp()
        d = os.path.join(self.root, "many")
        os.makedirs(d)
        for i in range(self.N):
            with open(os.path.join(d, "file-%05d-名字.txt" % i), "wb") as f:
                f.write(b"x" * (i % 97))

    def test_ten_thousand_files_list_fast(self):
        srv = self.serve(QUIET)
        c = self.connect(srv.port)
        times = []
        for _ in range(7):
            t0 = time.monotonic()
            r = c.request("GET", "/many/")
            times.append(time.monotonic() - t0)
            self.assertEqual(r.status, 200)
        self.assertEqual(r.body.count(b"<tr><td"), self.N)
        times.sort()
        median = times[len(times) // 2]
        print("\n  listing of %d files: median %.1f ms, best %.1f ms, "
              "%d bytes" % (self.N, median * 1000, times[0] * 1000,
                            len(r.body)))
        self.assertLess(median, scaled(0.1))

    def test_slow_reader_does_not_hold_the_worker(self):
        """threads=1: a listing bigger than a job's 4 MiB send budget
        must be parked (copied into the connection); a client that reads
        it slowly does not hold the only worker, and gets every byte."""
        d = os.path.join(self.root, "long")
        os.makedirs(d)
        for i in range(4000):
            with open(os.path.join(d, "%04d-" % i + "长" * 80), "wb"):
                pass
        self.write("x.txt", b"payload")
        srv = self.serve(QUIET + ["-t", "1"])
        want = get(srv.port, "/long/").body
        self.assertGreater(len(want), 4 * 1024 * 1024)
        s = socket.create_connection(("127.0.0.1", srv.port),
                                     timeout=scaled(20))
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /long/ HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        for _ in range(10):
            t0 = time.monotonic()
            self.assertEqual(get(srv.port, "/x.txt").body, b"payload")
            self.assertLess(time.monotonic() - t0, scaled(0.5))
        got = bytearray()
        need = None
        deadline = time.monotonic() + scaled(30)
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if need is None and b"\r\n\r\n" in got:
                head = bytes(got).partition(b"\r\n\r\n")[0]
                need = len(head) + 4 + int(re.search(
                    rb"Content-Length: (\d+)", head).group(1))
            if need is not None and len(got) >= need:
                break
        self.assertTrue(bytes(got).partition(b"\r\n\r\n")[2] == want)


class Other(ServerTest):
    def setUp(self):
        super().setUp()
        self.write("中文 文件.pdf", b"%PDF-1.4")
        self.write("a b.txt", b"ab")
        self.write("404.html", b"<h1>custom not found</h1>")
        self.write("403.html", b"<h1>custom forbidden</h1>")
        os.makedirs(os.path.join(self.root, "noindex"))

    def test_options(self):
        srv = self.serve(QUIET)
        c = self.connect(srv.port)
        for target in ("/a%20b.txt", "*", "/"):
            r = c.request("OPTIONS", target)
            self.assertEqual(r.status, 204, target)
            self.assertEqual(r.header("allow"), "GET, HEAD, OPTIONS")
            self.assertIsNone(r.header("content-length"))
        self.assertEqual(c.request("GET", "/a%20b.txt").body, b"ab")
        self.assertEqual(get(srv.port, "/missing", method="OPTIONS").status,
                         404)

    def test_download_adds_content_disposition(self):
        srv = self.serve(QUIET)
        r = get(srv.port, quote("中文 文件.pdf") + "?download")
        self.assertEqual(r.body, b"%PDF-1.4")
        self.assertEqual(r.header("content-disposition"),
                         "attachment; filename=\"__ __.pdf\"; filename*="
                         "UTF-8''%E4%B8%AD%E6%96%87%20%E6%96%87%E4%BB%B6.pdf")
        self.assertIsNone(get(srv.port, quote("中文 文件.pdf"))
                          .header("content-disposition"))

    def test_custom_error_pages(self):
        srv = self.serve(QUIET + ["-s", "error_page_404=/404.html", "-s",
                                  "error_page_403=/403.html", "-s",
                                  "directory_listing=off"])
        r = get(srv.port, "/missing")
        self.assertEqual((r.status, r.body),
                         (404, b"<h1>custom not found</h1>"))
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        r = get(srv.port, "/noindex/")
        self.assertEqual((r.status, r.body),
                         (403, b"<h1>custom forbidden</h1>"))
        c = self.connect(srv.port)
        r = c.request("HEAD", "/missing")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("content-length"), "25")
        self.assertEqual(c.request("GET", "/a%20b.txt").body, b"ab")

    def test_error_page_name_is_taken_literally(self):
        """The configured name is a file name, not a URL: '%' and spaces
        are bytes of the name, and a leading '/' is optional."""
        self.write("errors/not found 100%.html", b"<p>literal</p>")
        srv = self.serve(QUIET + ["-s", "error_page_404=errors/not found "
                                  "100%.html"])
        r = get(srv.port, "/missing")
        self.assertEqual((r.status, r.body), (404, b"<p>literal</p>"))

    def test_missing_error_page_falls_back(self):
        srv = self.serve(QUIET + ["-s", "error_page_404=/nope.html"])
        r = get(srv.port, "/missing")
        self.assertEqual(r.status, 404)
        self.assertIn(b"404 Not Found", r.body)

    def test_config_checks_new_keys(self):
        ini = os.path.join(self.root, "bad.ini")
        with open(ini, "w") as f:
            f.write("[server]\nerror_page_404 = ../404.html\ncache_max_age "
                    "= soon\nprecompressed = maybe\n")
        r = subprocess.run([BIN, "--check-config", "-c", ini],
                           capture_output=True, text=True,
                           timeout=scaled(20))
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.ini:2: [server] error_page_404:", r.stderr)
        self.assertIn("bad.ini:3: [server] cache_max_age:", r.stderr)
        self.assertIn("bad.ini:4: [server] precompressed:", r.stderr)


if __name__ == "__main__":
    unittest.main()
