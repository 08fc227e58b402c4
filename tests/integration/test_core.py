"""Issue 2: the core daemon against real sockets."""

import os
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import BIN, Conn, ServerTest, get, raw, scaled


class Files(ServerTest):
    """Byte-exact bodies, headers, HEAD."""

    def setUp(self):
        super().setUp()
        self.big = os.urandom(5 * 1024 * 1024)
        self.write("empty.txt", b"")
        self.write("big.bin", self.big)
        self.write("中文 文件.txt", "你好\n")
        self.write("a&b #1 %.txt", b"odd name")
        self.write("page.html", b"<h1>hi</h1>")
        self.write("small.css", b"body{}")
        self.write("movie.MKV", b"\x1a\x45\xdf\xa3")
        self.srv = self.serve(["-s", "log.access_log=off"])

    def test_zero_byte_file(self):
        r = get(self.srv.port, "/empty.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-length"), "0")
        self.assertEqual(r.body, b"")

    def test_five_mib_binary_is_byte_exact(self):
        r = get(self.srv.port, "/big.bin")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/octet-stream")
        self.assertEqual(len(r.body), len(self.big))
        self.assertTrue(r.body == self.big)

    def test_utf8_name(self):
        path = "/" + urllib.parse.quote("中文 文件.txt")
        r = get(self.srv.port, path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, "你好\n".encode())
        self.assertEqual(r.header("content-type"), "text/plain; charset=utf-8")

    def test_name_with_hash_percent_ampersand(self):
        r = get(self.srv.port, "/" + urllib.parse.quote("a&b #1 %.txt"))
        self.assertEqual((r.status, r.body), (200, b"odd name"))

    def test_required_headers(self):
        r = get(self.srv.port, "/page.html")
        for h in ("date", "server", "content-length", "content-type",
                  "last-modified", "etag"):
            self.assertIsNotNone(r.header(h), h)
        self.assertTrue(r.header("server").startswith("lanhttpd/"))
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        self.assertEqual(r.header("connection"), "close")

    def test_mime_types(self):
        self.assertEqual(get(self.srv.port, "/small.css").header("content-type"),
                         "text/css; charset=utf-8")
        self.assertEqual(get(self.srv.port, "/movie.MKV").header("content-type"),
                         "video/x-matroska")

    def test_head_has_headers_and_no_body(self):
        c = self.connect(self.srv.port)
        r = c.request("HEAD", "/big.bin")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-length"), str(len(self.big)))
        # The connection is still usable: no body bytes were sent.
        r2 = c.request("GET", "/page.html")
        self.assertEqual(r2.body, b"<h1>hi</h1>")
        c.close()


class Statuses(ServerTest):
    def setUp(self):
        super().setUp()
        self.write("dir/file.txt", b"x")
        self.write("withindex/index.html", b"INDEX")
        os.makedirs(os.path.join(self.root, "noindex"))
        os.mkfifo(os.path.join(self.root, "fifo"))
        self.srv = self.serve(["-s", "log.access_log=off"])

    def test_404_has_html_body(self):
        r = get(self.srv.port, "/missing.txt")
        self.assertEqual(r.status, 404)
        self.assertIn(b"404 Not Found", r.body)
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")

    def test_directory_without_slash_redirects_keeping_query(self):
        r = get(self.srv.port, "/dir?x=1&y=2")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "/dir/?x=1&y=2")

    def test_redirect_location_is_reencoded_not_open(self):
        os.makedirs(os.path.join(self.root, "a b"))
        r = get(self.srv.port, "/a%20b")
        self.assertEqual(r.header("location"), "/a%20b/")
        # "//host" must never become a scheme-relative redirect.
        r = get(self.srv.port, "//dir")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "/dir/")

    def test_directory_index(self):
        r = get(self.srv.port, "/withindex/")
        self.assertEqual((r.status, r.body), (200, b"INDEX"))

    def test_directory_without_index_is_403_when_listing_is_off(self):
        srv = self.serve(["-s", "log.access_log=off", "-s",
                          "directory_listing=off"])
        self.assertEqual(get(srv.port, "/noindex/").status, 403)

    def test_fifo_is_refused_without_blocking(self):
        t0 = time.monotonic()
        self.assertEqual(get(self.srv.port, "/fifo").status, 403)
        self.assertLess(time.monotonic() - t0, 2)

    def test_file_with_trailing_slash_is_404(self):
        self.assertEqual(get(self.srv.port, "/dir/file.txt/").status, 404)

    def test_post_is_405_with_allow(self):
        r = get(self.srv.port, "/dir/file.txt", method="POST")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD, OPTIONS")

    def test_unknown_method_is_501(self):
        self.assertEqual(get(self.srv.port, "/", method="BREW").status, 501)

    def test_bad_request_is_400(self):
        out = raw(self.srv.port, b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:40])

    def test_missing_host_is_400(self):
        out = raw(self.srv.port, b"GET / HTTP/1.1\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:40])

    def test_long_uri_is_414(self):
        out = raw(self.srv.port, b"GET /" + b"a" * 9000 +
                  b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 414 "), out[:40])

    def test_huge_header_is_431(self):
        out = raw(self.srv.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " +
                  b"b" * 17000 + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431 "), out[:40])

    def test_http2_version_is_505(self):
        out = raw(self.srv.port, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 505 "), out[:40])

    def test_errors_close_the_connection(self):
        out = raw(self.srv.port, b"GET / HTTP/1.1\r\n\r\nGET /dir/file.txt "
                  b"HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(out.count(b"HTTP/1.1 "), 1)
        self.assertIn(b"Connection: close", out)


class Traversal(ServerTest):
    SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"

    def setUp(self):
        super().setUp()
        share = os.path.join(self.root, "share")
        os.makedirs(os.path.join(share, "sub"))
        with open(os.path.join(self.root, "secret.txt"), "wb") as f:
            f.write(self.SECRET)
        with open(os.path.join(share, "sub", "ok.txt"), "wb") as f:
            f.write(b"ok")
        with open(os.path.join(share, ".hidden"), "wb") as f:
            f.write(self.SECRET)
        os.symlink(os.path.join(self.root, "secret.txt"),
                   os.path.join(share, "link-out"))
        os.symlink("../secret.txt", os.path.join(share, "rel-out"))
        os.symlink(self.root, os.path.join(share, "dir-out"))
        os.symlink("sub/ok.txt", os.path.join(share, "link-in"))
        self.srv = self.serve(["-s", "log.access_log=off"], root=share)

    ATTEMPTS = [
        "/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt", "/%252e%252e/secret.txt",
        "/..\\secret.txt", "/sub/..\\..\\secret.txt", "/link-out",
        "/rel-out", "/dir-out/secret.txt", "/.hidden", "/sub/../.hidden",
        "/%2e%68idden", "http://evil/../secret.txt", "/%c0%ae%c0%ae/secret.txt",
        "/..;/secret.txt", "/sub/..%00/secret.txt", "//../secret.txt",
        "/./../secret.txt", "/sub/./../../secret.txt",
    ]

    def test_nothing_outside_the_root_is_reachable(self):
        for target in self.ATTEMPTS:
            out = raw(self.srv.port, ("GET %s HTTP/1.1\r\nHost: x\r\n"
                                      "Connection: close\r\n\r\n" % target)
                      .encode())
            self.assertNotIn(self.SECRET, out, target)
            status = int(out.split(b" ", 2)[1])
            self.assertIn(status, (400, 403, 404), target)

    def test_symlink_inside_the_root_is_followed(self):
        r = get(self.srv.port, "/link-in")
        self.assertEqual((r.status, r.body), (200, b"ok"))

    def test_hidden_files_allowed_when_configured(self):
        srv = self.serve(["-s", "hidden_files=allow", "-s",
                          "log.access_log=off"],
                         root=os.path.join(self.root, "share"))
        self.assertEqual(get(srv.port, "/.hidden").status, 200)


class KeepAlive(ServerTest):
    def setUp(self):
        super().setUp()
        for i in range(10):
            self.write("f%d.txt" % i, ("file %d\n" % i) * (i + 1))
        self.srv = self.serve(["-s", "log.access_log=off"])

    def test_hundred_requests_on_one_connection(self):
        c = self.connect(self.srv.port)
        for i in range(100):
            r = c.request("GET", "/f%d.txt" % (i % 10))
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, (("file %d\n" % (i % 10)) *
                                      (i % 10 + 1)).encode())
            self.assertIsNone(r.header("connection"))
        c.close()

    def test_ten_pipelined_requests_in_one_write(self):
        c = self.connect(self.srv.port)
        c.send(b"".join(b"GET /f%d.txt HTTP/1.1\r\nHost: x\r\n\r\n" % i
                        for i in range(10)))
        for i in range(10):
            r = c.read_response()
            self.assertEqual(r.body, (("file %d\n" % i) * (i + 1)).encode())
        c.close()

    def test_http10_closes_unless_keep_alive(self):
        c = self.connect(self.srv.port)
        r = c.request("GET", "/f1.txt", version="1.0")
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.is_closed())
        c = self.connect(self.srv.port)
        r = c.request("GET", "/f1.txt", {"Connection": "keep-alive"},
                      version="1.0")
        self.assertEqual(r.header("connection"), "keep-alive")
        r = c.request("GET", "/f2.txt", {"Connection": "keep-alive"},
                      version="1.0")
        self.assertEqual(r.status, 200)
        c.close()

    def test_connection_close_is_honoured(self):
        c = self.connect(self.srv.port)
        r = c.request("GET", "/f1.txt", {"Connection": "close"})
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.is_closed())

    def test_get_with_body_does_not_desync(self):
        c = self.connect(self.srv.port)
        body = b"GET /f9.txt HTTP/1.1\r\nHost: x\r\n\r\n"   # smuggled?
        r = c.request("GET", "/f1.txt", {"Content-Length": str(len(body))},
                      body=body)
        self.assertEqual(r.body, b"file 1\nfile 1\n")
        r = c.request("GET", "/f2.txt")
        self.assertEqual(r.body, b"file 2\n" * 3)
        # Nothing else arrives: the body was not taken as a request.
        c.sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            c.read_response()
        c.close()

    def test_a_chunked_body_is_skipped_and_the_connection_stays(self):
        # Decoded to its end (issue 15), so the next request is found.
        c = self.connect(self.srv.port)
        c.send(b"GET /f1.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
               b"chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
               b"GET /f2.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.header("connection"), None)
        self.assertEqual(c.read_response().body, b"file 2\n" * 3)

    def test_content_length_with_transfer_encoding_is_400(self):
        out = raw(self.srv.port, b"GET /f1.txt HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "))


class Concurrency(ServerTest):
    def test_two_hundred_concurrent_clients_byte_exact(self):
        blobs = {}
        for i in range(20):
            blobs[i] = os.urandom(1000 * (i + 1) * 7)
            self.write("b%d.bin" % i, blobs[i])
        srv = self.serve(["-s", "log.access_log=off"])
        errors = []

        def client(n):
            try:
                c = Conn(srv.port, timeout=30)
                for k in range(3):
                    i = (n + k) % 20
                    r = c.request("GET", "/b%d.bin" % i)
                    if r.status != 200 or r.body != blobs[i]:
                        errors.append((n, i, r.status, len(r.body)))
                c.close()
            except Exception as e:       # noqa: BLE001 - report any failure
                errors.append((n, repr(e)))

        threads = [threading.Thread(target=client, args=(n,))
                   for n in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(60))
        self.assertEqual(errors, [])

    def test_idle_and_trickling_clients_do_not_block_others(self):
        """threads=2: 400 idle keep-alive connections plus a client sending
        its head one byte at a time; a normal client is still served fast."""
        self.write("x.txt", b"payload")
        srv = self.serve(["-t", "2", "-s", "log.access_log=off"])
        idle = []
        for _ in range(400):
            c = self.connect(srv.port)
            self.assertEqual(c.request("GET", "/x.txt").status, 200)
            idle.append(c)
        stop = threading.Event()
        trickled = []

        def trickle():
            c = Conn(srv.port, timeout=30)
            req = b"GET /x.txt HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 60 + \
                b"\r\n\r\n"
            for b in req:
                if stop.is_set():
                    break
                c.send(bytes([b]))
                time.sleep(0.02)
            if not stop.is_set():
                trickled.append(c.read_response().status)
            c.close()

        t = threading.Thread(target=trickle)
        t.start()
        try:
            time.sleep(0.3)
            for _ in range(20):
                t0 = time.monotonic()
                r = get(srv.port, "/x.txt")
                self.assertEqual(r.body, b"payload")
                self.assertLess(time.monotonic() - t0, scaled(0.5))
        finally:
            t.join(scaled(30))
            stop.set()
        self.assertEqual(trickled, [200])
        for c in idle:
            c.close()

    def test_stalled_download_does_not_block_others(self):
        """Clients that stop reading a large download park; with threads=2
        other clients are still served."""
        self.write("large.bin", os.urandom(32 * 1024 * 1024))
        self.write("x.txt", b"payload")
        srv = self.serve(["-t", "2", "-s", "log.access_log=off"])
        stalled = []
        for _ in range(4):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            self.addCleanup(s.close)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            stalled.append(s)
        time.sleep(0.5)
        for _ in range(20):
            t0 = time.monotonic()
            self.assertEqual(get(srv.port, "/x.txt").body, b"payload")
            self.assertLess(time.monotonic() - t0, scaled(0.5))
        for s in stalled:
            s.close()

    def test_tiny_queue_still_serves_everyone(self):
        self.write("x.txt", b"payload")
        # A long overload_timeout: this is about waiting, not shedding.
        srv = self.serve(["-t", "1", "-s", "queue_size=1", "-s",
                          "overload_timeout=1h", "-s", "log.access_log=off"])
        results = []

        def client():
            try:
                results.append(get(srv.port, "/x.txt").body)
            except Exception as e:   # noqa: BLE001
                results.append(repr(e))

        threads = [threading.Thread(target=client) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(30))
        self.assertEqual(results, [b"payload"] * 100)


class Timeouts(ServerTest):
    def test_incomplete_head_gets_408_after_header_timeout(self):
        srv = self.serve(["-s", "header_timeout=500ms", "-s",
                          "log.access_log=off"])
        c = self.connect(srv.port)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        self.assertTrue(c.is_closed(wait=5))
        self.assertGreater(time.monotonic() - t0, 0.3)
        self.assertTrue(bytes(c.buf).startswith(b"HTTP/1.1 408 "))

    def test_idle_keepalive_is_closed(self):
        self.write("x.txt", b"x")
        srv = self.serve(["-s", "keepalive_timeout=500ms", "-s",
                          "log.access_log=off"])
        c = self.connect(srv.port)
        self.assertEqual(c.request("GET", "/x.txt").status, 200)
        self.assertTrue(c.is_closed(wait=5))
        self.assertEqual(bytes(c.buf), b"")

    def test_paused_reader_is_not_cut_off_at_keepalive_timeout(self):
        """A response handed whole to the kernel while the client pauses
        reading: the idle timer must not close the connection under it
        (the client would lose the rest, and its next request would get
        a reset)."""
        data = os.urandom(40000)
        self.write("mid.bin", data)
        self.write("x.txt", b"next")
        srv = self.serve(["-s", "keepalive_timeout=300ms", "-s",
                          "log.access_log=off"])
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(1.5)     # five idle periods without reading
        s.sendall(b"GET /x.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        got = bytearray()
        while not got.endswith(b"next"):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        head, _, rest = bytes(got).partition(b"\r\n\r\n")
        self.assertTrue(rest[:len(data)] == data, len(rest))
        self.assertTrue(rest.endswith(b"next"))

    def test_silent_new_connection_is_closed(self):
        srv = self.serve(["-s", "header_timeout=500ms", "-s",
                          "log.access_log=off"])
        c = self.connect(srv.port)
        self.assertTrue(c.is_closed(wait=5))


class Shutdown(ServerTest):
    def test_sigterm_lets_a_download_finish(self):
        data = os.urandom(8 * 1024 * 1024)
        self.write("big.bin", data)
        srv = self.serve(["-s", "log.access_log=off"])
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        got = bytearray(s.recv(65536))
        srv.signal(signal.SIGTERM)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        head, _, body = bytes(got).partition(b"\r\n\r\n")
        self.assertTrue(body == data)
        self.assertEqual(srv.proc.wait(timeout=scaled(10)), 0)

    def test_sigterm_closes_idle_connections_and_exits_zero(self):
        self.write("x.txt", b"x")
        srv = self.serve(["-s", "log.access_log=off"])
        c = self.connect(srv.port)
        self.assertEqual(c.request("GET", "/x.txt").status, 200)
        srv.signal(signal.SIGTERM)
        self.assertTrue(c.is_closed(wait=5))
        self.assertEqual(srv.proc.wait(timeout=scaled(10)), 0)


class CommandLine(ServerTest):
    def run_bin(self, *args):
        return subprocess.run([BIN] + list(args), capture_output=True,
                              text=True, timeout=scaled(20))

    def test_help_and_version(self):
        r = self.run_bin("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: lanhttpd", r.stdout)
        r = self.run_bin("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^lanhttpd \d+\.\d+")

    def test_bad_option_is_usage_error(self):
        r = self.run_bin("--no-such-option")
        self.assertEqual(r.returncode, 2)

    def test_check_config_good_and_bad(self):
        ini = os.path.join(self.root, "good.ini")
        with open(ini, "w") as f:
            f.write("[server]\nport = 9000\nroot = .\n")
        r = self.run_bin("--check-config", "-c", ini)
        self.assertEqual(r.returncode, 0, r.stderr)
        bad = os.path.join(self.root, "bad.ini")
        with open(bad, "w") as f:
            f.write("[server]\nport = 9000\nthreads = lots\n[nope]\nx = 1\n")
        r = self.run_bin("--check-config", "-c", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.ini:3: [server] threads:", r.stderr)
        self.assertIn("bad.ini:5: [nope] x: unknown section", r.stderr)

    def test_missing_root_is_a_clear_error(self):
        r = self.run_bin("--check-config", "/no/such/dir")
        self.assertEqual(r.returncode, 1)
        self.assertIn("root '/no/such/dir'", r.stderr)

    def test_port_zero_prints_the_url(self):
        self.write("x.txt", b"hello")
        srv = self.serve(["-p", "0", "-l", "127.0.0.1", "-s",
                          "log.access_log=off"], activate=False)
        self.assertIn("listening on http://127.0.0.1:%d/" % srv.port,
                      srv.stderr())
        self.assertEqual(get(srv.port, "/x.txt").body, b"hello")

    def test_flags_override_the_file(self):
        self.write("x.txt", b"hello")
        ini = "[server]\nport = 1\nthreads = 3\nlisten = 127.0.0.1:1\n"
        srv = self.serve(["-p", "0", "-s", "log.access_log=off"], ini=ini,
                         activate=False)
        self.assertEqual(get(srv.port, "/x.txt").body, b"hello")
        self.assertIn("3 workers", srv.stderr())

    def test_mime_override_from_ini(self):
        self.write("notes.foo", b"foo")
        srv = self.serve(ini="[mime]\nfoo = text/x-foo\n[log]\n"
                             "access_log = off\n")
        self.assertEqual(get(srv.port, "/notes.foo").header("content-type"),
                         "text/x-foo; charset=utf-8")


class AccessLog(ServerTest):
    def test_combined_log_format_line(self):
        self.write("x.txt", b"12345")
        log = os.path.join(self.root, "..", os.path.basename(self.root) +
                           "-access.log")
        self.addCleanup(lambda: os.path.exists(log) and os.unlink(log))
        srv = self.serve(["-s", "log.access_log=" + log])
        get(srv.port, "/x.txt", {"User-Agent": 'ua "quoted"',
                                 "Referer": "http://r/"})
        get(srv.port, "/missing")
        srv.stop()
        with open(log) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 2)
        # Each worker buffers its own lines: two workers may flush in
        # either order.
        lines.sort(key=lambda line: "/missing" in line)
        self.assertRegex(lines[0], r'^127\.0\.0\.1 - - \[\d\d/\w\w\w/\d{4}:'
                         r'\d\d:\d\d:\d\d [+-]\d{4}\] "GET /x\.txt HTTP/1\.1" '
                         r'200 5 "http://r/" "ua \\x22quoted\\x22"$')
        self.assertIn('"GET /missing HTTP/1.1" 404 ', lines[1])


if __name__ == "__main__":
    unittest.main()
