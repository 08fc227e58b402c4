"""Issue 17: writes into the share.  PUT (Content-Length and chunked),
form uploads, new folders, renames and deletes, each checked against a
real server and the files it leaves on disk: a final name holds a complete
file or nothing, and every refusal is a clear status with its reason.
"""

import hashlib
import os
import random
import signal
import socket
import subprocess
import threading
import time
import unicodedata
import unittest

from harness import Conn, ServerTest, raw, scaled

UP = ["-s", "upload.enable=on", "-s", "upload.paths=/up /drop"]


def req(port, path, method="GET", headers=None, body=b"", version="1.1"):
    """One request on its own connection, with a body."""
    c = Conn(port)
    try:
        h = {"Connection": "close"} if version == "1.1" else {}
        h.update(headers or {})
        return c.request(method, path, h, body=body, version=version)
    finally:
        c.close()


WORK = ".lanhttpd-upload"


def leftovers(folder):
    """Temporary files an upload could have left below folder: hidden
    names in the folders, and tmp-* files in a work folder."""
    out = []
    for dirpath, _, files in os.walk(folder):
        work = os.path.basename(dirpath) == WORK
        out += [os.path.join(dirpath, f) for f in files
                if f.startswith(".lanhttpd-") or
                (work and f.startswith("tmp-"))]
    return out


def names(folder):
    """What a listing of folder shows: every name but the work folder."""
    return sorted(n for n in os.listdir(folder) if n != WORK)


def multipart(parts, boundary="----lanhttpdTestBoundary7MA4YWxk"):
    """A multipart/form-data body from [(name, filename|None, bytes)]."""
    out = b""
    for name, filename, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disp = b'Content-Disposition: form-data; name="' + name.encode() + b'"'
        if filename is not None:
            if isinstance(filename, str):
                filename = filename.encode()
            disp += b'; filename="' + filename + b'"'
        out += disp + b"\r\n"
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


class Base(ServerTest):
    args = []

    def setUp(self):
        super().setUp()
        os.makedirs(os.path.join(self.root, "up", "sub"))
        os.makedirs(os.path.join(self.root, "drop"))
        self.write("ro/old.txt", b"read only")
        self.srv = self.serve(UP + self.args)

    def put(self, path, body, headers=None, version="1.1"):
        h = {"Content-Length": str(len(body))}
        h.update(headers or {})
        return req(self.srv.port, path, headers=h, method="PUT", body=body,
                   version=version)

    def disk(self, rel):
        with open(os.path.join(self.root, rel), "rb") as f:
            return f.read()


class WritesOff(ServerTest):
    def test_every_write_method_is_405_with_allow(self):
        os.makedirs(os.path.join(self.root, "up"))
        srv = self.serve()
        for method in ("PUT", "POST", "DELETE"):
            r = req(srv.port, "/up/x.txt", method=method,
                    headers={"Content-Length": "1"}, body=b"x")
            self.assertEqual(r.status, 405, method)
            self.assertIn("GET", r.header("Allow"))
        self.assertFalse(os.path.exists(os.path.join(self.root, "up",
                                                     "x.txt")))


class Put(Base):
    def test_create_then_read_back(self):
        data = os.urandom(200000)
        r = self.put("/up/a.bin", data)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.disk("up/a.bin"), data)
        self.assertEqual(req(self.srv.port, "/up/a.bin").body, data)
        self.assertEqual(leftovers(self.root), [])

    def test_overwrite_off_keeps_the_old_file(self):
        self.assertEqual(self.put("/up/a.txt", b"one").status, 201)
        r = self.put("/up/a.txt", b"two")
        self.assertEqual(r.status, 409)
        self.assertIn(b"overwrite is off", r.body)
        self.assertEqual(self.disk("up/a.txt"), b"one")

    def test_outside_the_upload_paths_is_403(self):
        r = self.put("/ro/new.txt", b"x")
        self.assertEqual(r.status, 403)
        self.assertFalse(os.path.exists(os.path.join(self.root, "ro",
                                                     "new.txt")))

    def test_missing_parent_and_folder_target_are_409(self):
        self.assertEqual(self.put("/up/nope/a.txt", b"x").status, 409)
        self.assertEqual(self.put("/up/sub", b"x").status, 409)

    def test_bad_names_are_400_with_the_reason(self):
        for path, why in (("/up/a%00b", b""), ("/up/" + "n" * 300,
                                               b"255"),
                          ("/up/a%01b", b"control")):
            r = self.put(path, b"x")
            self.assertEqual(r.status, 400, path)
            self.assertIn(why, r.body)
        self.assertEqual(self.put("/up/../../etc/passwd", b"x").status, 400)
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])

    def test_if_none_match_star_on_existing_is_412(self):
        self.put("/up/a.txt", b"one")
        r = self.put("/up/a.txt", b"two", {"If-None-Match": "*"})
        self.assertEqual(r.status, 412)
        r = self.put("/up/b.txt", b"new", {"If-None-Match": "*"})
        self.assertEqual(r.status, 201)

    def test_if_match_on_missing_is_412(self):
        r = self.put("/up/none.txt", b"x", {"If-Match": '"abc"'})
        self.assertEqual(r.status, 412)
        self.assertFalse(os.path.exists(os.path.join(self.root, "up",
                                                     "none.txt")))

    def test_chunked_body_without_length(self):
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p)
                        for p in (b"hello ", b"chunked ", b"world"))
        r = req(self.srv.port, "/up/c.txt", method="PUT",
                headers={"Transfer-Encoding": "chunked"},
                body=body + b"0\r\n\r\n")
        self.assertEqual(r.status, 201)
        self.assertEqual(self.disk("up/c.txt"), b"hello chunked world")

    def test_keep_alive_after_a_put(self):
        c = self.connect(self.srv.port)
        r = c.request("PUT", "/up/k.txt", {"Content-Length": "3"}, b"abc")
        self.assertEqual(r.status, 201)
        r = c.request("GET", "/up/k.txt")
        self.assertEqual((r.status, r.body), (200, b"abc"))

    def test_pipelined_puts_and_gets_answer_in_order(self):
        # Each PUT's fsyncs run on a sync thread; the requests after it,
        # already read, must wait for its answer and keep their order.
        c = self.connect(self.srv.port)
        batch = b""
        for i in range(5):
            body = b"%d" % i * (1000 * (i + 1))
            batch += (b"PUT /up/p%d.txt HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: %d\r\n\r\n" % (i, len(body)) + body +
                      b"GET /up/p%d.txt HTTP/1.1\r\nHost: x\r\n\r\n" % i)
        c.send(batch)
        for i in range(5):
            self.assertEqual(c.read_response().status, 201, i)
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"%d" % i *
                                                  (1000 * (i + 1))), i)

    def test_a_stop_amid_uploads_is_clean(self):
        data = os.urandom(300000)
        results = []

        def one(i):
            try:
                results.append(self.put("/up/s%d.bin" % i, data).status)
            except (OSError, EOFError):
                results.append("cut")
        ts = [threading.Thread(target=one, args=(i,)) for i in range(20)]
        for t in ts:
            t.start()
        time.sleep(0.05)
        self.srv.stop()          # asserts exit 0 and a clean stderr
        for t in ts:
            t.join(scaled(10))
        for i in range(20):
            p = os.path.join(self.root, "up", "s%d.bin" % i)
            if os.path.exists(p):
                self.assertEqual(self.disk("up/s%d.bin" % i), data)
        self.assertEqual(leftovers(self.root), [])
        self.srv = self.serve(UP)

    def test_fsync_off_still_names_only_whole_files(self):
        self.srv.stop()
        self.srv = self.serve(UP + ["-s", "upload.fsync=off"])
        data = os.urandom(100000)
        self.assertEqual(self.put("/up/f.bin", data).status, 201)
        self.assertEqual(self.disk("up/f.bin"), data)
        self.assertEqual(leftovers(self.root), [])

    def test_oc_mtime_is_kept(self):
        r = self.put("/up/m.txt", b"m", {"X-OC-Mtime": "1500000000"})
        self.assertEqual(r.status, 201)
        self.assertEqual(r.header("X-OC-MTime"), "accepted")
        st = os.stat(os.path.join(self.root, "up", "m.txt"))
        self.assertEqual(int(st.st_mtime), 1500000000)

    def test_nfd_name_is_stored_nfc(self):
        nfd = unicodedata.normalize("NFD", "café.txt")
        from urllib.parse import quote
        r = self.put("/up/" + quote(nfd.encode()), b"x")
        self.assertEqual(r.status, 201)
        self.assertEqual(sorted(names(os.path.join(self.root, "up"))),
                         sorted(["sub", unicodedata.normalize("NFC",
                                                              "café.txt")]))

    def test_the_cache_sees_a_new_version_at_once(self):
        self.write("up/v.txt", b"old")
        self.assertEqual(req(self.srv.port, "/up/v.txt").body, b"old")
        self.assertEqual(req(self.srv.port, "/up/").status, 200)
        self.assertNotIn(b"w.txt", req(self.srv.port, "/up/").body)
        self.assertEqual(self.put("/up/w.txt", b"new").status, 201)
        self.assertIn(b"w.txt", req(self.srv.port, "/up/").body)
        self.assertEqual(req(self.srv.port, "/up/w.txt").body, b"new")


class Overwrite(Base):
    args = ["-s", "upload.overwrite=on"]

    def test_replace_is_204_and_atomic(self):
        self.assertEqual(self.put("/up/a.txt", b"one").status, 201)
        r = self.put("/up/a.txt", b"second version")
        self.assertEqual(r.status, 204)
        self.assertEqual(self.disk("up/a.txt"), b"second version")
        self.assertEqual(req(self.srv.port, "/up/a.txt").body,
                         b"second version")
        self.assertEqual(leftovers(self.root), [])

    def test_if_match_with_the_current_etag(self):
        self.put("/up/a.txt", b"one")
        etag = req(self.srv.port, "/up/a.txt").header("ETag")
        r = self.put("/up/a.txt", b"two", {"If-Match": '"nope"'})
        self.assertEqual(r.status, 412)
        r = self.put("/up/a.txt", b"two", {"If-Match": etag})
        self.assertEqual(r.status, 204)
        self.assertEqual(self.disk("up/a.txt"), b"two")


class WorkFolder(Base):
    args = ["-s", "hidden_files=allow"]

    def test_the_work_folder_takes_no_writes(self):
        self.assertEqual(self.put("/up/a.txt", b"a").status, 201)
        for path in ("/up/.lanhttpd-upload/x", "/up/.lanhttpd-upload"):
            self.assertEqual(self.put(path, b"x").status, 403, path)
        self.assertEqual(req(self.srv.port, "/up/.lanhttpd-upload",
                             method="DELETE").status, 403)
        self.assertEqual(self.put("/up/.visible-dotfile", b"d").status, 201)


class Limits(Base):
    args = ["-s", "upload.max_size=1k", "-s", "upload.body_timeout=1",
            "-s", "upload.max_active=1"]

    def test_too_large_is_413_before_the_body(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        s.sendall(b"PUT /up/big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000"
                  b"\r\nExpect: 100-continue\r\n\r\n")
        head = s.recv(4096)
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), head)
        self.assertNotIn(b"100 Continue", head)
        self.assertFalse(os.path.exists(os.path.join(self.root, "up",
                                                     "big")))

    def test_chunked_over_max_size_is_413_and_leaves_nothing(self):
        body = b"800\r\n" + b"x" * 0x800 + b"\r\n0\r\n\r\n"
        r = req(self.srv.port, "/up/c.bin", method="PUT",
                headers={"Transfer-Encoding": "chunked"}, body=body)
        self.assertEqual(r.status, 413)
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])

    def test_no_room_on_disk_is_507(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        s.sendall(b"POST /up/ HTTP/1.1\r\nHost: x\r\nContent-Length: "
                  b"1125899906842624\r\nContent-Type: multipart/form-data; "
                  b"boundary=b\r\n\r\n")
        head = s.recv(4096)
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 507"), head)

    def test_expect_100_continue_then_201(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        s.sendall(b"PUT /up/e.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5"
                  b"\r\nExpect: 100-continue\r\n\r\n")
        self.assertEqual(s.recv(4096), b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"hello")
        head = s.recv(4096)
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 201"), head)
        self.assertEqual(self.disk("up/e.txt"), b"hello")

    def test_slow_body_is_408_and_leaves_nothing(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(10))
        s.sendall(b"PUT /up/slow.txt HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 100\r\n\r\nabc")
        t0 = time.monotonic()
        head = s.recv(4096)
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 408"), head)
        self.assertLess(time.monotonic() - t0, scaled(5))
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])
        self.assertEqual(leftovers(self.root), [])

    def test_too_many_at_once_is_503_with_retry_after(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        s.sendall(b"PUT /up/one.txt HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 10\r\n\r\nab")
        time.sleep(0.2)
        r = self.put("/up/two.txt", b"x")
        self.assertEqual(r.status, 503)
        self.assertIsNotNone(r.header("Retry-After"))
        s.sendall(b"cdefghij")
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 201"))
        s.close()
        self.assertEqual(self.put("/up/two.txt", b"x").status, 201)

    def test_a_cut_connection_leaves_nothing(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        s.sendall(b"PUT /up/cut.txt HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1000\r\n\r\n" + b"x" * 500)
        time.sleep(0.2)
        s.close()
        time.sleep(0.3)
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])
        self.assertEqual(self.put("/up/after.txt", b"x").status, 201)


class SmallDisk(ServerTest):
    """The share on a 16 MiB file system of its own (a tmpfs mounted by
    the test, as root): a body that cannot fit is 507 before a byte."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small file system")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m",
                            "lanhttpd-test", self.root],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + r.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.root])
        os.makedirs(os.path.join(self.root, "up"))
        self.srv = self.serve(UP + ["-s", "upload.reserve=1M"])

    def test_ten_gib_is_507_before_the_first_body_byte(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        s.sendall(b"PUT /up/huge.bin HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 10737418240\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        head = s.recv(4096)
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 507 "), head)
        self.assertNotIn(b"100 Continue", head)
        self.assertEqual(names(os.path.join(self.root, "up")), [])

    def test_a_disk_that_fills_up_is_507_and_leaves_nothing(self):
        body = b"".join(b"%x\r\n%s\r\n" % (1 << 20, b"z" * (1 << 20))
                        for _ in range(24)) + b"0\r\n\r\n"
        r = req(self.srv.port, "/up/fill.bin", method="PUT", body=body,
                headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(r.status, 507)
        self.assertEqual(names(os.path.join(self.root, "up")), [])
        self.assertEqual(leftovers(self.root), [])
        self.assertEqual(self.put_small(), 201)

    def put_small(self):
        return req(self.srv.port, "/up/small.txt", method="PUT", body=b"ok",
                   headers={"Content-Length": "2"}).status


class Form(Base):
    def post(self, path, parts, accept=None):
        body, ctype = multipart(parts)
        h = {"Content-Type": ctype, "Content-Length": str(len(body))}
        if accept:
            h["Accept"] = accept
        return req(self.srv.port, path, method="POST", headers=h, body=body)

    def test_three_files_and_a_free_name(self):
        self.write("up/image.jpg", b"first photo")
        r = self.post("/up/", [("file", "image.jpg", b"second"),
                               ("file", "b.txt", b"bee"),
                               ("file", "c.bin", os.urandom(70000))])
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.disk("up/image.jpg"), b"first photo")
        self.assertEqual(self.disk("up/image (1).jpg"), b"second")
        self.assertEqual(self.disk("up/b.txt"), b"bee")
        self.assertIn(b"image (1).jpg\n", r.body)

    def test_a_quote_as_browsers_send_it(self):
        r = self.post("/up/", [("file", b'say %22hi%22.txt', b"q")])
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.disk('up/say "hi".txt'), b"q")

    def test_browser_gets_303_back_to_the_folder(self):
        r = self.post("/up/sub/", [("file", "x.txt", b"x")],
                      accept="text/html,application/xhtml+xml,*/*;q=0.8")
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/up/sub/")
        self.assertEqual(self.disk("up/sub/x.txt"), b"x")

    def test_bad_names_are_400_and_leave_nothing(self):
        for name, why in ((b"../../etc/passwd", b"'/'"), (b"a/b", b"'/'"),
                          (b"a\x00b", b""), (b"n" * 300, b"255"),
                          (b"a\x01b", b"")):
            r = self.post("/up/", [("file", name, b"x")])
            self.assertEqual(r.status, 400, name)
            self.assertIn(why, r.body)
        # The same names in RFC 8187 form, as some clients send them.
        for enc, why in ((b"a%00b", b"NUL"), (b"..", b".."),
                         (b"a%2Fb", b"'/'"), (b"a%0Ab", b"control")):
            body = (b"--b\r\nContent-Disposition: form-data; name=\"f\"; "
                    b"filename*=UTF-8''" + enc + b"\r\n\r\nx\r\n--b--\r\n")
            r = req(self.srv.port, "/up/", method="POST", body=body,
                    headers={"Content-Type":
                             "multipart/form-data; boundary=b",
                             "Content-Length": str(len(body))})
            self.assertEqual(r.status, 400, enc)
            self.assertIn(why, r.body)
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])
        self.assertEqual(leftovers(self.root), [])

    def test_mtime_field_and_pasted_text(self):
        r = self.post("/up/", [("mtime", None, b"1600000000123"),
                               ("file", "t.txt", b"t"),
                               ("text", None, "a note \u4e2d".encode())])
        self.assertEqual(r.status, 201, r.body)
        st = os.stat(os.path.join(self.root, "up", "t.txt"))
        self.assertEqual(int(st.st_mtime), 1600000000)
        notes = [f for f in names(os.path.join(self.root, "up"))
                 if f.startswith("note ") and f.endswith(".txt")]
        self.assertEqual(len(notes), 1)
        self.assertEqual(self.disk("up/" + notes[0]),
                         "a note \u4e2d".encode())

    def test_ten_thousand_parts_is_refused_cleanly(self):
        r = self.post("/up/", [("f", None, b"")] * 10000)
        self.assertEqual(r.status, 413)
        self.assertIn(b"parts", r.body)

    def test_a_boundary_that_never_ends_is_400(self):
        body = b"--b\r\nContent-Disposition: form-data; name=\"f\"; " \
            b"filename=\"x.txt\"\r\n\r\n" + b"y" * 5000
        r = req(self.srv.port, "/up/", method="POST", body=body, headers={
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(len(body))})
        self.assertEqual(r.status, 400)
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])
        self.assertEqual(leftovers(self.root), [])


class Changes(Base):
    def test_mkdir_rename_delete(self):
        r = req(self.srv.port, "/up/?mkdir=new%20folder", method="POST")
        self.assertEqual(r.status, 201)
        self.assertTrue(os.path.isdir(os.path.join(self.root, "up",
                                                   "new folder")))
        self.assertEqual(req(self.srv.port, "/up/?mkdir=sub",
                             method="POST").status, 409)
        self.write("up/a.txt", b"a")
        r = req(self.srv.port, "/up/a.txt?rename=b.txt", method="POST")
        self.assertEqual(r.status, 204)
        self.assertEqual(self.disk("up/b.txt"), b"a")
        self.assertEqual(req(self.srv.port, "/up/b.txt?rename=..%2Fx",
                             method="POST").status, 400)
        self.assertEqual(req(self.srv.port, "/up/b.txt",
                             method="DELETE").status, 204)
        self.assertFalse(os.path.exists(os.path.join(self.root, "up",
                                                     "b.txt")))
        self.write("up/full/f.txt", b"f")
        self.assertEqual(req(self.srv.port, "/up/full",
                             method="DELETE").status, 409)
        self.assertEqual(req(self.srv.port, "/up/new%20folder",
                             method="DELETE").status, 204)
        self.assertEqual(req(self.srv.port, "/up",
                             method="DELETE").status, 403)
        self.assertEqual(req(self.srv.port, "/ro/old.txt",
                             method="DELETE").status, 403)


class Clients(Base):
    def test_curl_upload_file_and_chunked(self):
        src = os.path.join(self.srv.tmp, "src.bin")
        want = os.urandom(3 << 20)
        with open(src, "wb") as f:
            f.write(want)
        url = "http://127.0.0.1:%d/up/" % self.srv.port
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w",
                              "%{http_code}", "-T", src, url],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout, "201", out.stderr)
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w",
                              "%{http_code}", "-T", "-", "-H",
                              "Transfer-Encoding: chunked",
                              url + "piped.bin"],
                             input=want, capture_output=True, timeout=60)
        self.assertEqual(out.stdout, b"201", out.stderr)
        self.assertEqual(self.disk("up/src.bin"), want)
        self.assertEqual(self.disk("up/piped.bin"), want)

    def test_wget_put(self):
        src = os.path.join(self.srv.tmp, "w.bin")
        want = os.urandom(100000)
        with open(src, "wb") as f:
            f.write(want)
        out = subprocess.run(["wget", "-q", "-O", "/dev/null",
                              "--method=PUT", "--body-file=" + src,
                              "http://127.0.0.1:%d/up/w.bin" % self.srv.port],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.disk("up/w.bin"), want)

    def test_access_log_counts_bytes_in(self):
        self.put("/up/log.txt", b"x" * 1234)
        deadline = time.monotonic() + scaled(3)
        while time.monotonic() < deadline and "in=1234" not in \
                self.srv.stderr():
            time.sleep(0.05)
        self.assertIn('"PUT /up/log.txt HTTP/1.1" 201', self.srv.stderr())
        self.assertIn("in=1234", self.srv.stderr())


if __name__ == "__main__":
    unittest.main()


JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "js")


def have_js():
    return os.path.isdir(os.path.join(JS, "node_modules", "tus-js-client"))


class CuttingProxy:
    """A loopback TCP proxy that cuts the connection it is forwarding each
    time the bytes sent to the server pass the next of the cut points."""

    def __init__(self, port, cuts):
        self.port, self.cuts, self.sent, self.cut = port, sorted(cuts), 0, 0
        self.lock = threading.Lock()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while not self.stop:
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            s = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self.pipe, args=(c, s, True),
                             daemon=True).start()
            threading.Thread(target=self.pipe, args=(s, c, False),
                             daemon=True).start()

    def pipe(self, src, dst, upstream):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upstream:
                    with self.lock:
                        self.sent += len(data)
                        due = self.cut < len(self.cuts) and \
                            self.sent >= self.cuts[self.cut]
                        if due:
                            self.cut += 1
                    if due:
                        # Half of this piece goes, then the link drops.
                        dst.sendall(data[:len(data) // 2])
                        break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self):
        self.stop = True
        self.thread.join()
        self.lsock.close()


@unittest.skipUnless(have_js(), "tests/js/node_modules missing: make deps-js")
class TusClient(Base):
    def test_tus_js_client_resumes_after_five_cuts(self):
        size = 8 << 20
        data = os.urandom(size)
        src = os.path.join(self.srv.tmp, "big.bin")
        with open(src, "wb") as f:
            f.write(data)
        rng = random.Random(17)
        cuts = [rng.randrange(size // 20, size) for _ in range(5)]
        proxy = CuttingProxy(self.srv.port, cuts)
        try:
            out = subprocess.run(
                ["node", os.path.join(JS, "tus_upload.mjs"),
                 "http://127.0.0.1:%d/up/" % proxy.lsock.getsockname()[1],
                 src, "big.bin"], capture_output=True, text=True,
                timeout=scaled(120))
        finally:
            proxy.close()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn('"ok":true', out.stdout)
        self.assertEqual(proxy.cut, 5, "the proxy cut fewer times")
        got = self.disk("up/big.bin")
        self.assertEqual(hashlib.sha256(got).hexdigest(),
                         hashlib.sha256(data).hexdigest())
        self.assertEqual(leftovers(self.root), [])
        work = os.path.join(self.root, "up", WORK)
        self.assertEqual(os.listdir(work), [])


class Tus(Base):
    def tus(self, method, path, headers=None, body=b""):
        h = {"Tus-Resumable": "1.0.0"}
        h.update(headers or {})
        if body or method in ("PATCH", "POST"):
            h["Content-Length"] = str(len(body))
        return req(self.srv.port, path, method=method, headers=h, body=body)

    def create(self, name, length):
        import base64
        r = self.tus("POST", "/up/", {
            "Upload-Length": str(length),
            "Upload-Metadata": "filename " +
            base64.b64encode(name.encode()).decode()})
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(r.header("Location").startswith("?tus="))
        return "/up/" + r.header("Location")

    def test_offsets_that_do_not_match_are_409(self):
        url = self.create("t.bin", 10)
        octet = {"Content-Type": "application/offset+octet-stream"}
        r = self.tus("PATCH", url, dict(octet, **{"Upload-Offset": "0"}),
                     b"01234")
        self.assertEqual((r.status, r.header("Upload-Offset")), (204, "5"))
        for off in ("0", "4", "6", "99"):
            r = self.tus("PATCH", url, dict(octet, **{"Upload-Offset": off}),
                         b"x")
            self.assertEqual(r.status, 409, off)
        r = self.tus("PATCH", url, dict(octet, **{"Upload-Offset": "5"}),
                     b"567890")
        self.assertEqual(r.status, 413)
        self.assertFalse(os.path.exists(os.path.join(self.root, "up",
                                                     "t.bin")))
        r = self.tus("HEAD", url)
        self.assertEqual((r.status, r.header("Upload-Offset"),
                          r.header("Upload-Length")), (200, "5", "10"))
        r = self.tus("PATCH", url, dict(octet, **{"Upload-Offset": "5"}),
                     b"56789")
        self.assertEqual(r.status, 204)
        self.assertEqual(self.disk("up/t.bin"), b"0123456789")
        self.assertEqual(self.tus("HEAD", url).status, 404)

    def test_bad_requests(self):
        r = self.tus("POST", "/up/", {"Upload-Length": "5",
                                      "Upload-Metadata": "filename !!"})
        self.assertEqual(r.status, 400)
        r = self.tus("POST", "/up/", {"Upload-Length": "-1"})
        self.assertEqual(r.status, 400)
        r = self.tus("POST", "/up/", {"Upload-Length": "5",
                                      "Tus-Resumable": "0.2.2"})
        self.assertEqual(r.status, 412)
        self.assertEqual(r.header("Tus-Version"), "1.0.0")
        r = self.tus("HEAD", "/up/?tus=" + "0" * 32)
        self.assertEqual(r.status, 404)
        r = self.tus("HEAD", "/up/?tus=../../x")
        self.assertEqual(r.status, 404)
        url = self.create("d.bin", 3)
        r = self.tus("PATCH", url, {"Upload-Offset": "0",
                                    "Content-Type": "text/plain"}, b"abc")
        self.assertEqual(r.status, 415)

    def test_termination_and_free_name(self):
        url = self.create("gone.bin", 3)
        self.assertEqual(self.tus("DELETE", url).status, 204)
        self.assertEqual(self.tus("HEAD", url).status, 404)
        self.assertEqual(os.listdir(os.path.join(self.root, "up", WORK)), [])
        self.write("up/same.txt", b"old")
        url = self.create("same.txt", 3)
        r = self.tus("PATCH", url, {"Upload-Offset": "0", "Content-Type":
                                    "application/offset+octet-stream"},
                     b"new")
        self.assertEqual(r.status, 204)
        self.assertEqual(self.disk("up/same.txt"), b"old")
        self.assertEqual(self.disk("up/same (1).txt"), b"new")

    def test_expired_uploads_are_gone(self):
        self.srv.stop()
        self.srv = self.serve(UP + ["-s", "upload.tus_expire=1s"])
        url = self.create("late.bin", 10)
        time.sleep(2.2)
        self.assertEqual(self.tus("HEAD", url).status, 410)
        self.assertEqual(self.tus("HEAD", url).status, 404)
        self.assertEqual(os.listdir(os.path.join(self.root, "up", WORK)), [])

    def test_a_start_sweeps_what_a_crash_left(self):
        url = self.create("kept.bin", 10)
        work = os.path.join(self.root, "up", WORK)
        old = time.time() - 3600
        for name in ("tmp-0123456789abcdef", "tus-" + "a" * 32 + ".part"):
            with open(os.path.join(work, name), "wb") as f:
                f.write(b"left by a crash")
            os.utime(os.path.join(work, name), (old, old))
        # A fresh one may be another server's upload on shared storage.
        with open(os.path.join(work, "tmp-fedcba9876543210"), "wb") as f:
            f.write(b"being written")
        self.srv.stop()
        self.srv = self.serve(UP)
        self.assertEqual(sorted(os.listdir(work)),
                         sorted(["tus-%s.info" % url[-32:],
                                 "tus-%s.part" % url[-32:],
                                 "tmp-fedcba9876543210"]))
        self.assertEqual(self.tus("HEAD", url).status, 200)

    def test_creation_with_upload(self):
        import base64
        r = self.tus("POST", "/up/sub/", {
            "Upload-Length": "4", "Upload-Metadata": "filename " +
            base64.b64encode(b"cw.txt").decode(),
            "Content-Type": "application/offset+octet-stream"}, b"data")
        self.assertEqual(r.status, 201)
        self.assertEqual(r.header("Upload-Offset"), "4")
        self.assertEqual(self.disk("up/sub/cw.txt"), b"data")


def tus_headers(length, name, extra=None):
    """The headers of a tus creation of name with length bytes."""
    import base64
    h = {"Tus-Resumable": "1.0.0", "Upload-Length": str(length),
         "Upload-Metadata": "filename " +
         base64.b64encode(name.encode()).decode()}
    h.update(extra or {})
    return h


class Hostile(Base):
    """What a code review found a hostile client could do, each kept
    from coming back."""

    OCTET = {"Content-Type": "application/offset+octet-stream"}

    def tus_create(self, path, length, name, body=b"", extra=None):
        h = tus_headers(length, name, extra)
        h["Content-Length"] = str(len(body))
        if body:
            h.update(self.OCTET)
        return req(self.srv.port, path, method="POST", headers=h, body=body)

    def restart(self, *args):
        self.srv.stop()
        self.srv = self.serve(UP + list(args))

    def test_a_damaged_tus_name_cannot_leave_the_folder(self):
        r = self.tus_create("/up/", 3, "t.bin")
        self.assertEqual(r.status, 201)
        tid = r.header("Location")[len("?tus="):]
        info = os.path.join(self.root, "up", WORK, "tus-%s.info" % tid)
        escaped = "escaped-%d-%d.txt" % (os.getpid(), time.monotonic_ns())
        outside = os.path.join(os.path.dirname(self.root), escaped)
        self.addCleanup(lambda: os.path.exists(outside) and
                        os.unlink(outside))
        with open(info) as f:
            text = f.read().replace("name=t.bin", "name=../../" + escaped)
        with open(info, "w") as f:
            f.write(text)
        h = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
             "Content-Length": "3"}
        h.update(self.OCTET)
        r = req(self.srv.port, "/up/?tus=" + tid, method="PATCH", headers=h,
                body=b"abc")
        self.assertEqual(r.status, 404)
        self.assertFalse(os.path.exists(outside))

    def test_the_work_folder_name_is_reserved(self):
        self.restart("-s", "hidden_files=allow")
        for name in (WORK, ".LANHTTPD-Upload"):
            r = req(self.srv.port, "/up/sub/?mkdir=" + name, method="POST")
            self.assertEqual(r.status, 400, name)
            self.assertIn(b"reserved", r.body)
        self.write("up/a.txt", b"a")
        r = req(self.srv.port, "/up/a.txt?rename=" + WORK, method="POST")
        self.assertEqual(r.status, 400)
        r = self.tus_create("/up/sub/", 1, WORK)
        self.assertEqual(r.status, 400)
        self.assertEqual(names(os.path.join(self.root, "up", "sub")), [])

    def test_hidden_names_are_refused_where_dotfiles_are(self):
        self.write("up/a.txt", b"a")
        r = req(self.srv.port, "/up/a.txt?rename=.hidden", method="POST")
        self.assertEqual(r.status, 400)
        self.assertIn(b"hidden", r.body)
        self.assertEqual(req(self.srv.port, "/up/?mkdir=.x",
                             method="POST").status, 400)
        self.assertEqual(self.tus_create("/up/", 1, ".profile").status, 400)
        self.assertEqual(self.disk("up/a.txt"), b"a")

    def test_a_work_folder_others_can_enter_is_not_used(self):
        work = os.path.join(self.root, "up", WORK)
        os.makedirs(work)
        os.chmod(work, 0o777)
        r = self.tus_create("/up/", 1, "x.bin")
        self.assertEqual(r.status, 500)
        self.assertEqual(os.listdir(work), [])
        self.assertEqual(self.put("/up/p.txt", b"p").status, 201)
        self.assertEqual(os.listdir(work), [])

    def test_upload_folders_and_their_parents_do_not_move(self):
        os.makedirs(os.path.join(self.root, "up", "sub", "deep"))
        self.restart("-s", "upload.paths=/up /up/sub/deep")
        for path in ("/up", "/up/sub", "/up/sub/deep"):
            r = req(self.srv.port, path + "?rename=moved", method="POST")
            self.assertEqual(r.status, 403, path)
        for path in ("/up/sub", "/up/sub/deep"):
            r = req(self.srv.port, path, method="DELETE")
            self.assertEqual(r.status, 403, path)
        self.assertTrue(os.path.isdir(os.path.join(self.root, "up", "sub",
                                                   "deep")))

    def test_a_failed_body_is_never_read_as_a_request(self):
        self.restart("-s", "upload.max_size=8")
        inner = b"GET /ro/old.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        c = Conn(self.srv.port)
        try:
            c.send(b"PUT /up/s.txt HTTP/1.1\r\nHost: x\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n" +
                   b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n")
            self.assertEqual(c.read_response().status, 413)
            c.is_closed(wait=1.0)
            self.assertNotIn(b"HTTP/1.1", bytes(c.buf))
        finally:
            c.close()
        self.assertFalse(os.path.exists(os.path.join(self.root, "up",
                                                     "s.txt")))

    def test_upload_length_zero_takes_no_bytes(self):
        r = self.tus_create("/up/", 0, "big.bin", body=b"x" * 1000)
        self.assertEqual(r.status, 413)
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])
        r = self.tus_create("/up/", 0, "empty.bin")
        self.assertEqual(r.status, 201)
        self.assertEqual(self.disk("up/empty.bin"), b"")

    def test_an_upload_being_written_does_not_expire(self):
        self.restart("-s", "upload.tus_expire=1s")
        r = self.tus_create("/up/", 10, "slow.bin")
        tid = r.header("Location")[len("?tus="):]
        c = Conn(self.srv.port)
        try:
            c.send(b"PATCH /up/?tus=%s HTTP/1.1\r\nHost: x\r\n"
                   b"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                   b"Content-Type: application/offset+octet-stream\r\n"
                   b"Content-Length: 10\r\n\r\n01234" % tid.encode())
            time.sleep(2.2)
            r = req(self.srv.port, "/up/?tus=" + tid, method="HEAD",
                    headers={"Tus-Resumable": "1.0.0"})
            self.assertEqual(r.status, 423)
            c.send(b"56789")
            self.assertEqual(c.read_response().status, 204)
        finally:
            c.close()
        self.assertEqual(self.disk("up/slow.bin"), b"0123456789")

    def test_if_none_match_holds_until_the_name_is_taken(self):
        self.restart("-s", "upload.overwrite=on")
        c = Conn(self.srv.port)
        try:
            c.send(b"PUT /up/race.txt HTTP/1.1\r\nHost: x\r\n"
                   b"If-None-Match: *\r\nContent-Length: 6\r\n\r\nnew")
            time.sleep(0.3)
            self.write("up/race.txt", b"theirs")
            c.send(b"new")
            self.assertEqual(c.read_response().status, 412)
        finally:
            c.close()
        self.assertEqual(self.disk("up/race.txt"), b"theirs")

    def test_if_modified_since_does_not_stop_a_put(self):
        self.restart("-s", "upload.overwrite=on")
        self.write("up/m.txt", b"old")
        r = self.put("/up/m.txt", b"new", {
            "If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"})
        self.assertEqual(r.status, 204)
        self.assertEqual(self.disk("up/m.txt"), b"new")

    def test_a_tus_head_has_no_body(self):
        out = raw(self.srv.port, b"HEAD /up/?tus=" + b"0" * 32 +
                  b" HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n"
                  b"Connection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 404 "), out)
        self.assertTrue(out.endswith(b"\r\n\r\n"), out)

    def test_links_below_an_upload_folder_are_not_followed(self):
        os.symlink("../ro", os.path.join(self.root, "up", "link"))
        self.assertEqual(self.put("/up/link/x.txt", b"x").status, 403)
        body, ctype = multipart([("f", "y.txt", b"y")])
        r = req(self.srv.port, "/up/link/", method="POST", body=body,
                headers={"Content-Type": ctype,
                         "Content-Length": str(len(body))})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.tus_create("/up/link/", 1, "z.txt").status,
                         403)
        self.assertEqual(sorted(os.listdir(os.path.join(self.root, "ro"))),
                         ["old.txt"])

    def test_a_client_that_closes_mid_body_is_answered_at_once(self):
        self.restart("-s", "upload.body_timeout=30s")
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        try:
            s.sendall(b"PUT /up/half.txt HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 10\r\n\r\n")
            time.sleep(0.3)
            # Corked, the last bytes and the FIN leave in one segment:
            # one edge for both.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            s.sendall(b"01234")
            s.shutdown(socket.SHUT_WR)
            t0 = time.monotonic()
            head = s.recv(4096)
            self.assertLess(time.monotonic() - t0, scaled(3))
            self.assertTrue(head.startswith(b"HTTP/1.1 400 "), head)
        finally:
            s.close()
        self.assertEqual(names(os.path.join(self.root, "up")), ["sub"])

    def test_a_tus_patch_counts_as_an_upload_at_once(self):
        self.restart("-s", "upload.max_active=1")
        r = self.tus_create("/up/", 4, "t.bin")
        tid = r.header("Location")[len("?tus="):]
        c = Conn(self.srv.port)
        try:
            c.send(b"PUT /up/busy.txt HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 4\r\n\r\nab")
            time.sleep(0.3)
            h = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                 "Content-Length": "4"}
            h.update(self.OCTET)
            r = req(self.srv.port, "/up/?tus=" + tid, method="PATCH",
                    headers=h, body=b"abcd")
            self.assertEqual(r.status, 503)
            self.assertIsNotNone(r.header("Retry-After"))
            c.send(b"cd")
            self.assertEqual(c.read_response().status, 201)
        finally:
            c.close()

    def test_the_303_goes_to_a_path_on_this_host(self):
        body, ctype = multipart([("f", "r.txt", b"r")])
        r = req(self.srv.port, "//up/", method="POST", body=body,
                headers={"Content-Type": ctype, "Accept": "text/html",
                         "Content-Length": str(len(body))})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header("Location"), "/up/")
        r = req(self.srv.port, "/up/sub", method="POST", body=body,
                headers={"Content-Type": ctype, "Accept": "text/html",
                         "Content-Length": str(len(body))})
        self.assertEqual((r.status, r.header("Location")), (303, "/up/sub/"))


class TusOtherDisk(ServerTest):
    """A tus upload into a folder on another file system than its upload
    path is refused at creation: its part could never be renamed there."""

    def test_refused_at_creation(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a file system")
        mnt = os.path.join(self.root, "up", "mnt")
        os.makedirs(mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m",
                            "lanhttpd-test", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + r.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        srv = self.serve(UP + ["-s", "upload.reserve=0"])
        h = tus_headers(1, "x.bin", {"Content-Length": "0"})
        r = req(srv.port, "/up/mnt/", method="POST", headers=h)
        self.assertEqual(r.status, 409)
        self.assertEqual(os.listdir(mnt), [])
        r = req(srv.port, "/up/mnt/p.txt", method="PUT", body=b"p",
                headers={"Content-Length": "1"})
        self.assertEqual(r.status, 201)


class CrashSafety(Base):
    args = ["-s", "upload.overwrite=on", "-s", "upload.max_active=200"]

    def upload(self, path, body, started):
        """PUTs body in pieces; returns when sent, or when the server
        died (which is the point)."""
        try:
            with socket.create_connection(("127.0.0.1", self.srv.port),
                                          timeout=scaled(10)) as s:
                s.sendall(b"PUT %s HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: %d\r\n\r\n"
                          % (path.encode(), len(body)))
                for i in range(0, len(body), 65536):
                    s.sendall(body[i:i + 65536])
                    if i == 0:
                        started.release()
                    time.sleep(0.01)
                s.recv(4096)
        except OSError:
            pass

    def test_sigkill_amid_100_uploads(self):
        up = os.path.join(self.root, "up")
        old, new = {}, {}
        for i in range(50):
            old["o%d" % i] = os.urandom(1000 + i)
            self.write("up/o%d" % i, old["o%d" % i])
        rng = random.Random(5)
        for i in range(50):
            # 1 to 32 pieces of 64 KiB, 10 ms apart: some are done at the
            # kill, most are not.
            new["o%d" % i] = os.urandom(rng.randrange(1, 33) << 16)
            new["n%d" % i] = os.urandom(rng.randrange(1, 33) << 16)
        started = threading.Semaphore(0)
        threads = [threading.Thread(target=self.upload, daemon=True,
                                    args=("/up/" + name, body, started))
                   for name, body in new.items()]
        for t in threads:
            t.start()
        for _ in threads:
            started.acquire(timeout=scaled(10))
        time.sleep(0.15)
        self.srv.proc.kill()
        self.srv.stop(check=False)
        for t in threads:
            t.join(timeout=scaled(10))
        complete = 0
        for name, body in new.items():
            path = os.path.join(up, name)
            if not os.path.exists(path):
                self.assertTrue(name.startswith("n"), name)
                continue
            with open(path, "rb") as f:
                got = f.read()
            self.assertIn(got, (old.get(name), body), name)
            complete += got == body
        print("\ncrash: %d of 100 uploads complete at the kill" % complete)
        # A restart clears whatever a crash left in the work folders.
        self.srv = self.serve(UP + self.args)
        self.assertEqual(leftovers(self.root), [])
        self.assertEqual(req(self.srv.port, "/up/o1").status, 200)


@unittest.skipUnless(have_js() and os.path.exists("/usr/bin/chromium"),
                     "needs chromium and tests/js/node_modules (make deps-js)")
class Browser(Base):
    def test_form_tus_and_drop_from_a_phone_sized_page(self):
        src = os.path.join(self.srv.tmp, "src")
        os.makedirs(os.path.join(src, "dropped", "inner"))
        files = {"one.txt": b"one\n", "two.bin": os.urandom(70000),
                 "three.jpg": os.urandom(300000),
                 "big.bin": os.urandom(12 << 20),
                 "loose.txt": b"loose\n",
                 "dropped/a.txt": b"a\n",
                 "dropped/inner/b.txt": b"b\n"}
        for name, data in files.items():
            with open(os.path.join(src, name), "wb") as f:
                f.write(data)
        shot = os.path.join(self.srv.tmp, "phone.png")
        out = subprocess.run(
            ["node", os.path.join(JS, "page_upload.mjs"),
             "http://127.0.0.1:%d/up/" % self.srv.port, src, shot],
            capture_output=True, text=True, timeout=scaled(120))
        import json
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        self.assertEqual(seen["errors"], [], out.stderr)
        self.assertTrue(seen["hasForm"])
        self.assertTrue(seen.get("form") and seen.get("drop"), seen)
        for name, data in files.items():
            self.assertEqual(self.disk("up/" + name), data, name)
        # The bar moved: some value strictly between empty and full.
        self.assertTrue(any(0 < v < 1 for v in seen["progress"]),
                        seen["progress"][:20])
        self.assertGreater(os.path.getsize(shot), 5000)
        self.assertEqual(leftovers(self.root), [])
