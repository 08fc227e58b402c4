"""Accounts and per-path rules: [auth] users and [access] (issue 19).

A real lanhttpd serves a tree with four kinds of path (read-only,
read-write, hidden from guests, a drop box) to four kinds of requester
(a guest, a reader, a writer, an admin); every cell of the matrix of
methods (GET, a listing, PUT, a form upload, tus, WebDAV) must get the
status the rules give.  The users file is written by `lanhttpd passwd`
(yescrypt) and by apache's `htpasswd -B` (bcrypt), both of which must
work as they are.  Then the brute-force hold: wrong guesses from one
source are held back, another source is not.
"""

import base64
import http.client
import os
import shutil
import subprocess
import time
import unittest

from harness import ServerTest, load_test, scaled

BIN = os.environ.get("LANHTTPD_BIN", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
    "lanhttpd"))

PASSWORDS = {"reader": "r34d-only", "writer": "wr1te-me",
             "admin": "4dm1n pass \u00e9"}
RULES = {
    "/": {"@guest": "r"},
    "/ro": {"@guest": "r", "@users": "r"},
    "/rw": {"@guest": "r", "reader": "r", "writer": "rw", "admin": "rw"},
    "/hidden": {"reader": "r", "writer": "rw", "admin": "rw"},
    "/drop": {"@guest": "w", "writer": "rw", "admin": "rw"},
}
UPLOAD_PATHS = "/rw /hidden /drop"
WHO = (None, "reader", "writer", "admin")


def rights(user, prefix):
    """What the rules say user (None: a guest) may do below prefix."""
    line = RULES[prefix]
    if user is not None and user in line:
        return line[user]
    if user is not None and "@users" in line:
        return line["@users"]
    return line.get("@guest", "-")


def auth_header(user):
    if user is None:
        return {}
    raw = ("%s:%s" % (user, PASSWORDS[user])).encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def request(port, method, path, headers=None, body=b"", source="127.0.0.1"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(20),
                                   source_address=(source, 0))
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r
    finally:
        c.close()


def passwd(users, user, password):
    """Adds user with `lanhttpd passwd FILE USER`, the password on stdin."""
    r = subprocess.run([BIN, "passwd", users, user],
                       input=(password + "\n").encode(), capture_output=True,
                       timeout=scaled(30))
    assert r.returncode == 0, r.stderr


class AccessBase(ServerTest):
    extra = ""

    def setUp(self):
        super().setUp()
        for prefix in RULES:
            if prefix != "/":
                self.write(prefix[1:] + "/file.txt", b"data " + prefix.encode())
        self.users = os.path.join(self.tmp_dir(), "users")
        for user, pw in PASSWORDS.items():
            passwd(self.users, user, pw)
        lines = "\n".join("%s = %s" % (p, " ".join("%s:%s" % kv for kv in
                                                     who.items()))
                          for p, who in RULES.items())
        ini = ("[upload]\nenable = on\npaths = %s\n[webdav]\nenable = on\n"
               "[auth]\nusers = %s\n%s[access]\n%s\n"
               % (UPLOAD_PATHS, self.users, self.extra, lines))
        self.srv = self.serve(ini=ini)
        self.port = self.srv.port

    def tmp_dir(self):
        d = self.root + "-etc"
        os.makedirs(d, exist_ok=True)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def req(self, method, path, user=None, headers=None, body=b"",
            source="127.0.0.1"):
        h = dict(headers or {})
        h.update(auth_header(user))
        return request(self.port, method, path, h, body, source)


def expect(user, prefix, need, ok):
    """The status a request needing need ("r" or "w") should get."""
    if need in rights(user, prefix):
        return ok
    return 401 if user is None else 403


class Matrix(AccessBase):
    def check(self, results):
        bad = [r for r in results if r[-2] != r[-1]]
        self.assertEqual(bad, [], "\n".join(
            "%s %s as %s: got %d, want %d" % r for r in bad))

    def test_reads(self):
        out = []
        for user in WHO:
            for prefix in RULES:
                if prefix == "/":
                    continue
                for method, path, need, ok, hdr in (
                        ("GET", prefix + "/file.txt", "r", 200, {}),
                        ("GET", prefix + "/", "r", 200, {}),
                        ("PROPFIND", prefix + "/", "r", 207,
                         {"Depth": "1"})):
                    r = self.req(method, path, user, hdr)
                    out.append((method, path, user or "guest", r.status,
                                expect(user, prefix, need, ok)))
        self.check(out)

    def test_writes(self):
        out = []
        n = 0
        for user in WHO:
            for prefix in ("/ro", "/rw", "/hidden", "/drop"):
                n += 1
                name = "%s/new-%d.txt" % (prefix, n)
                cases = [("PUT", name, {}, b"x", 201),
                         ("MKCOL", "%s/col-%d" % (prefix, n), {}, b"", 201),
                         ("POST", prefix + "/", {
                             "Content-Type": "multipart/form-data; "
                                             "boundary=BB"},
                          b"--BB\r\nContent-Disposition: form-data; "
                          b"name=\"file\"; filename=\"form-%d.txt\"\r\n\r\n"
                          b"f\r\n--BB--\r\n" % n, 201),
                         ("POST", prefix + "/", {
                             "Tus-Resumable": "1.0.0", "Upload-Length": "1",
                             "Upload-Metadata": "filename " + base64.b64encode(
                                 b"tus-%d.txt" % n).decode()},
                          b"", 201)]
                for method, path, hdr, body, ok in cases:
                    r = self.req(method, path, user, hdr, body)
                    want = expect(user, prefix, "w", ok)
                    # Writable by the rules but outside [upload] paths: 403.
                    if want == ok and prefix == "/ro":
                        want = 403
                    got = r.status
                    if want == 201 and got in (200, 204, 303):
                        got = 201
                    out.append((method, path, user or "guest", got, want))
        self.check(out)

    def listing(self, path, user, html=False):
        h = dict(auth_header(user))
        h["Accept"] = "text/html" if html else "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=scaled(20))
        try:
            c.request("GET", path, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def test_listings_show_only_what_the_user_may_use(self):
        import json
        for user, want in ((None, {"ro", "rw", "drop"}),
                           ("reader", {"ro", "rw", "hidden", "drop"}),
                           ("writer", {"ro", "rw", "hidden", "drop"})):
            for _ in range(2):      # the second from any cache
                status, body = self.listing("/", user)
                self.assertEqual(status, 200)
                names = {e["name"] for e in json.loads(body)["entries"]}
                self.assertEqual(names, want, user)
        # Upload controls for those who may write only.
        for user, form in (("reader", False), ("writer", True),
                           (None, False)):
            status, body = self.listing("/rw/", user, html=True)
            self.assertEqual(status, 200)
            self.assertEqual(b'enctype="multipart/form-data"' in body, form,
                             user)
        r = self.req("PROPFIND", "/", None, {"Depth": "1"})
        self.assertEqual(r.status, 207)

    def test_webdav_writes(self):
        """DELETE, PROPPATCH, LOCK, MOVE and COPY (which reads its source
        and writes its Destination) by every requester on every path."""
        proppatch = (b'<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:"'
                     b' xmlns:x="urn:x"><d:set><d:prop><x:k>v</x:k></d:prop>'
                     b'</d:set></d:propertyupdate>')
        lock = (b'<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope>'
                b'<d:exclusive/></d:lockscope><d:locktype><d:write/>'
                b'</d:locktype></d:lockinfo>')
        out = []
        n = 0
        for user in WHO:
            for prefix in ("/ro", "/rw", "/hidden", "/drop"):
                n += 1
                d = prefix[1:]
                for name in ("del", "pp", "mv", "cp"):
                    self.write("%s/%s-%d.txt" % (d, name, n), b"w")
                cases = [
                    ("DELETE", "%s/del-%d.txt" % (prefix, n), {}, b"",
                     "w", 204),
                    ("PROPPATCH", "%s/pp-%d.txt" % (prefix, n), {}, proppatch,
                     "w", 207),
                    ("LOCK", "%s/lock-%d.txt" % (prefix, n), {}, lock,
                     "w", 201),
                    # Moving reads too (into a place others may read).
                    ("MOVE", "%s/mv-%d.txt" % (prefix, n), {
                        "Destination": "%s/mv-%d-b.txt" % (prefix, n)}, b"",
                     "rw", 201),
                    ("COPY", "%s/cp-%d.txt" % (prefix, n), {
                        "Destination": "%s/cp-%d-b.txt" % (prefix, n)}, b"",
                     "rw", 201)]
                for method, path, hdr, body, need, ok in cases:
                    r = self.req(method, path, user, hdr, body)
                    out.append((method, path, user or "guest", r.status,
                                expect(user, prefix, need, ok)))
        # Across paths: read the source, write the Destination.
        self.write("hidden/src.txt", b"s")
        for user, dest, want in ((None, "/drop/x1", 401),
                                 ("reader", "/rw/x2", 403),
                                 ("writer", "/rw/x3", 201),
                                 ("writer", "/ro/x4", 403)):
            r = self.req("COPY", "/hidden/src.txt", user,
                         {"Destination": dest})
            out.append(("COPY", "/hidden/src.txt -> " + dest,
                        user or "guest", r.status, want))
        self.check(out)

    def test_delete_and_options(self):
        r = self.req("OPTIONS", "/hidden/")
        self.assertIn(r.status, (200, 204))
        for user in WHO:
            self.write("rw/del-%s.txt" % user, b"d")
            r = self.req("DELETE", "/rw/del-%s.txt" % user, user)
            self.assertEqual(r.status, expect(user, "/rw", "w", 204), user)

    def test_challenge_and_wrong_password(self):
        r = self.req("GET", "/hidden/file.txt")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.getheader("WWW-Authenticate"),
                         'Basic realm="lanhttpd", charset="UTF-8"')
        r = request(self.port, "GET", "/hidden/file.txt",
                    {"Authorization": "Basic " + base64.b64encode(
                        b"writer:wrong").decode()})
        self.assertEqual(r.status, 401)
        r = request(self.port, "GET", "/hidden/file.txt",
                    {"Authorization": "Basic " + base64.b64encode(
                        b"nobody:wrong").decode()})
        self.assertEqual(r.status, 401)

    def test_htpasswd_bcrypt_file_works_as_it_is(self):
        if shutil.which("htpasswd") is None:
            self.skipTest("htpasswd (apache2-utils) is not installed")
        r = subprocess.run(["htpasswd", "-bB", self.users, "writer",
                            "bcrypt-pw"], capture_output=True,
                           timeout=scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.srv.signal(1)      # SIGHUP: the users file is read again
        deadline = time.monotonic() + scaled(10)
        h = {"Authorization": "Basic " + base64.b64encode(
            b"writer:bcrypt-pw").decode()}
        while True:
            r = request(self.port, "GET", "/hidden/file.txt", h)
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(r.status, 200)


@load_test
class BruteForce(AccessBase):
    """Guesses at a bcrypt (cost 4) password, so that 1,000 checks take
    little time of their own: what they take is the hold."""
    extra = "backoff = 2ms\nmax_backoff = 4ms\n"
    GUESSES = 1000

    def setUp(self):
        if shutil.which("htpasswd") is None:
            self.skipTest("htpasswd (apache2-utils) is not installed")
        super().setUp()
        r = subprocess.run(["htpasswd", "-bB", "-C", "4", self.users,
                            "writer", PASSWORDS["writer"]],
                           capture_output=True, timeout=scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.srv.signal(1)
        time.sleep(0.5)

    def test_guesses_are_held_back_per_source(self):
        t0 = time.monotonic()
        checked = held = 0
        while checked < self.GUESSES:
            bad = {"Authorization": "Basic " + base64.b64encode(
                b"writer:guess-%d" % (checked + held)).decode()}
            r = request(self.port, "GET", "/hidden/file.txt", bad)
            if r.status == 429:
                held += 1
                self.assertTrue(r.getheader("Retry-After"))
                if held == 1:
                    # Meanwhile another source logs in at once.
                    ok = self.req("GET", "/hidden/file.txt", "writer",
                                  source="127.0.0.2")
                    self.assertEqual(ok.status, 200)
            else:
                self.assertEqual(r.status, 401)
                checked += 1
        spent = time.monotonic() - t0
        floor = (self.GUESSES - 5) * 0.004 - 0.1
        print("\n  %d wrong guesses checked in %.2f s (%d answered 429); "
              "held back for at least %.2f s" % (checked, spent, held,
                                                  floor))
        self.assertGreaterEqual(spent, floor)
        self.assertGreater(held, 0)
        log = self.srv.stderr()
        self.assertEqual(log.count("held back"), 1, log[-2000:])


if __name__ == "__main__":
    unittest.main()
