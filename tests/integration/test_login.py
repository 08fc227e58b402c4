"""Log-in pages, session cookies, per-file read links and share links
(issue 19).

A real lanhttpd with a users file written by `lanhttpd passwd` and rules
that keep /priv to alice (and bob, who may only read), /pub open to
guests and /drop an upload folder.  A browser logs in through the page's
script (the same Basic check, pool and backoff as any client) and gets
an HttpOnly, SameSite=Lax cookie; its listings give each file a read
token that works without the cookie (a phone's download manager); a
logged-in user makes share links (read below a folder, or a drop box)
that never grant more than the maker holds, and revokes them.  Logging
out revokes the session and every file token the pages handed out, and
all of it survives a restart (the key and the revoked list live in
[auth] state_dir, mode 0600).  Chromium drives the page itself where it
is installed.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import stat
import subprocess
import unittest
import urllib.parse

from harness import ServerTest, scaled

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("LANHTTPD_BIN", os.path.join(HERE, "..", "..",
                                                  "build", "lanhttpd"))
JS = os.path.join(HERE, "..", "js")
PREFIX = "/.well-known/lanhttpd/"
PASSWORDS = {"alice": "al1ce pw \u00e9", "bob": "b0b-reads"}


def basic(user, password=None):
    raw = ("%s:%s" % (user, PASSWORDS[user] if password is None
                      else password)).encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


class Base(ServerTest):
    SESSION = "2h"

    def setUp(self):
        super().setUp()
        self.write("pub/a.txt", b"public\n")
        self.write("priv/s.txt", b"secret\n")
        self.write("priv/deeper/d.txt", b"deeper\n")
        self.write("priv/alice-only/x.txt", b"x\n")
        self.write("other/o.txt", b"other\n")
        os.makedirs(os.path.join(self.root, "drop"))
        self.etc = self.root + "-etc"
        os.makedirs(self.etc)
        self.addCleanup(__import__("shutil").rmtree, self.etc, True)
        self.users = os.path.join(self.etc, "users")
        for user, pw in PASSWORDS.items():
            r = subprocess.run([BIN, "passwd", self.users, user],
                               input=(pw + "\n").encode(),
                               capture_output=True, timeout=scaled(30))
            self.assertEqual(r.returncode, 0, r.stderr)
        self.state = os.path.join(self.etc, "state")
        self.start()

    def ini(self):
        return ("[upload]\nenable = on\npaths = /drop\n"
                "[auth]\nusers = %s\nstate_dir = %s\nsession = %s\n"
                "backoff = 2s\nmax_backoff = 2s\n"
                "[access]\n/ = @guest:r\n/priv = alice:rw bob:r\n"
                "/priv/alice-only = alice:rw\n/other = alice:r\n"
                "/drop = alice:rw\n"
                % (self.users, self.state, self.SESSION))

    def start(self):
        self.srv = self.serve(ini=self.ini())
        self.port = self.srv.port

    def req(self, method, path, headers=None, body=b""):
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=scaled(20))
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            r.body = r.read()
            return r
        finally:
            c.close()

    def login(self, user="alice", password=None):
        r = self.req("POST", PREFIX + "login", basic(user, password))
        self.assertEqual(r.status, 200, r.body)
        m = re.match(r"lanhttpd_session=([^;]+);", r.getheader("Set-Cookie"))
        return "lanhttpd_session=" + m.group(1)

    def share(self, cookie, path, kind, status=200):
        r = self.req("POST", PREFIX + "share?" + urllib.parse.urlencode(
            {"path": path, "kind": kind}),
            {"Cookie": cookie, "Accept": "application/json"})
        self.assertEqual(r.status, status, r.body)
        return json.loads(r.body) if status == 200 else None

    def listing_links(self, path, headers):
        h = dict(headers)
        h["Accept"] = "text/html"
        r = self.req("GET", path, h)
        self.assertEqual(r.status, 200, r.body)
        return r, re.findall(rb'<td class="n"><a href="([^"]+)"', r.body)


class Login(Base):
    def test_page_and_its_script_hash(self):
        r = self.req("GET", PREFIX + "login?next=/priv/")
        self.assertEqual(r.status, 200)
        csp = r.getheader("Content-Security-Policy")
        script = re.search(rb"<script>(.*?)</script>", r.body, re.S).group(1)
        want = base64.b64encode(hashlib.sha256(script).digest()).decode()
        # A browser runs the script only if the policy names its hash.
        self.assertIn("script-src 'sha256-%s'" % want, csp)
        self.assertIn(b'type="password"', r.body)
        self.assertEqual(r.getheader("Cache-Control"), "no-store")

    def test_cookie_attributes_and_what_it_opens(self):
        self.assertEqual(self.req("GET", "/priv/s.txt").status, 401)
        r = self.req("POST", PREFIX + "login", basic("alice"))
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body), {"user": "alice"})
        sc = r.getheader("Set-Cookie")
        attrs = [a.strip() for a in sc.split(";")]
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Lax", attrs)
        self.assertIn("Path=/", attrs)
        self.assertIn("Max-Age=7200", attrs)      # [auth] session = 2h
        cookie = sc.split(";")[0]
        r = self.req("GET", "/priv/s.txt", {"Cookie": cookie})
        self.assertEqual((r.status, r.body), (200, b"secret\n"))
        # One byte changed: a guest again.
        bad = cookie[:-3] + ("A" if cookie[-3] != "A" else "B") + cookie[-2:]
        self.assertEqual(self.req("GET", "/priv/s.txt",
                                  {"Cookie": bad}).status, 401)
        # The key is the daemon's alone.
        st = os.stat(os.path.join(self.state, "key"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.state).st_mode), 0o700)

    def test_wrong_password_is_403_without_a_cookie_or_dialog(self):
        for hdr in (basic("alice", "nope"), basic("mallory", "x"), {}):
            r = self.req("POST", PREFIX + "login", hdr)
            self.assertEqual(r.status, 403, hdr)
            self.assertIsNone(r.getheader("Set-Cookie"))
            # 401 would make a browser open its own password dialog.
            self.assertIsNone(r.getheader("WWW-Authenticate"))

    def test_wrong_guesses_through_the_page_are_held(self):
        statuses = [self.req("POST", PREFIX + "login",
                             basic("alice", "guess%d" % i)).status
                    for i in range(30)]
        self.assertIn(429, statuses)
        self.assertEqual(set(statuses) - {403, 429}, set())

    def test_listing_shows_who_and_file_links_carry_a_token(self):
        r, links = self.listing_links("/", {})
        self.assertIn(b"/.well-known/lanhttpd/login?next=/", r.body)
        cookie = self.login()
        r, links = self.listing_links("/priv/", {"Cookie": cookie})
        self.assertIn(b"Signed in as <b>alice</b>", r.body)
        self.assertIn(b"/.well-known/lanhttpd/logout", r.body)
        files = [l for l in links if not l.endswith(b"/")]
        self.assertEqual(len(files), 1, links)
        self.assertTrue(files[0].startswith(b"s.txt?t="), files)
        # A download manager: no cookie, just the link.
        r = self.req("GET", "/priv/" + files[0].decode())
        self.assertEqual((r.status, r.body), (200, b"secret\n"))
        # The token is for that file alone, and only for reading.
        tok = files[0].decode().split("?t=")[1]
        self.assertEqual(self.req("GET", "/priv/deeper/d.txt?t=" +
                                  tok).status, 401)
        self.assertEqual(self.req("PUT", "/priv/s.txt?t=" + tok, {},
                                  b"x").status, 401)
        # Bob may read, not write: his page has no drop box button.
        r, _ = self.listing_links("/priv/", {"Cookie": self.login("bob")})
        self.assertIn(b"Signed in as <b>bob</b>", r.body)
        self.assertNotIn(b"kind=drop", r.body)

    def test_logout_revokes_the_session_and_its_file_links(self):
        cookie = self.login()
        _, links = self.listing_links("/priv/", {"Cookie": cookie})
        link = "/priv/" + links[-1].decode()
        self.assertEqual(self.req("GET", link).status, 200)
        r = self.req("POST", PREFIX + "logout", {"Cookie": cookie})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.getheader("Location"), "/")
        self.assertIn("Max-Age=0", r.getheader("Set-Cookie"))
        self.assertEqual(self.req("GET", "/priv/s.txt",
                                  {"Cookie": cookie}).status, 401)
        self.assertEqual(self.req("GET", link).status, 401)
        # A restart keeps the key and the revocation.
        other = self.login()
        self.srv.stop()
        self.start()
        self.assertEqual(self.req("GET", "/priv/s.txt",
                                  {"Cookie": other}).status, 200)
        self.assertEqual(self.req("GET", "/priv/s.txt",
                                  {"Cookie": cookie}).status, 401)
        self.assertEqual(self.req("GET", link).status, 401)

    def test_a_removed_user_is_logged_out(self):
        cookie = self.login("bob")
        self.assertEqual(self.req("GET", "/priv/s.txt",
                                  {"Cookie": cookie}).status, 200)
        with open(self.users) as f:
            lines = [l for l in f if not l.startswith("bob:")]
        with open(self.users, "w") as f:
            f.writelines(lines)
        self.srv.stop()
        self.start()
        self.assertEqual(self.req("GET", "/priv/s.txt",
                                  {"Cookie": cookie}).status, 401)

    def test_other_pages(self):
        self.assertEqual(self.req("GET", PREFIX + "nothing").status, 404)
        r = self.req("GET", PREFIX + "logout")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.getheader("Allow"), "POST")
        self.assertEqual(self.req("DELETE", PREFIX + "login").status, 405)


class Share(Base):
    def test_read_link_opens_the_folder_and_nothing_else(self):
        cookie = self.login()
        link = self.share(cookie, "/priv/", "read")
        url = urllib.parse.urlsplit(link["url"])
        self.assertEqual(url.path, "/priv/")
        self.assertEqual(url.netloc, "127.0.0.1:%d" % self.port)
        # In a browser: a cookie for the folder, then the plain URL.
        r = self.req("GET", url.path + "?" + url.query)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.getheader("Location"), "/priv/")
        sc = [a.strip() for a in r.getheader("Set-Cookie").split(";")]
        self.assertIn("Path=/priv/", sc)
        self.assertIn("HttpOnly", sc)
        share = sc[0]
        r, links = self.listing_links("/priv/", {"Cookie": share})
        self.assertIn(b"deeper/", links)
        self.assertNotIn(b"Signed in", r.body)
        # Files below, with the cookie or with the link's token alone.
        t = link["token"]
        for path, hdr in (("/priv/s.txt", {"Cookie": share}),
                          ("/priv/deeper/d.txt?t=" + t, {}),
                          ("/priv/s.txt?t=" + t, {})):
            self.assertEqual(self.req("GET", path, hdr).status, 200, path)
        # Not outside the folder, not writing.
        for method, path in (("GET", "/other/o.txt?t=" + t),
                             ("PUT", "/priv/new.txt?t=" + t),
                             ("DELETE", "/priv/s.txt?t=" + t)):
            self.assertEqual(self.req(method, path, {}, b"x").status, 401,
                             path)

    def test_a_link_never_grants_more_than_its_maker(self):
        bob = self.login("bob")
        # Bob may not write /drop nor read /other: no link for him.
        self.share(bob, "/drop/", "drop", 403)
        self.share(bob, "/other/", "read", 403)
        # His read link of /priv does not reach alice's own folder.
        t = self.share(bob, "/priv/", "read")["token"]
        self.assertEqual(self.req("GET", "/priv/s.txt?t=" + t).status, 200)
        self.assertEqual(self.req("GET", "/priv/alice-only/x.txt?t=" +
                                  t).status, 401)
        # A guest makes none.
        r = self.req("POST", PREFIX + "share?path=/pub/&kind=read")
        self.assertEqual(r.status, 403)
        # Once the maker is gone, so is the link.
        with open(self.users) as f:
            lines = [l for l in f if not l.startswith("bob:")]
        with open(self.users, "w") as f:
            f.writelines(lines)
        self.srv.stop()
        self.start()
        self.assertEqual(self.req("GET", "/priv/s.txt?t=" + t).status, 401)

    def test_drop_box_link_uploads_but_reads_nothing(self):
        cookie = self.login()
        self.write("drop/old.txt", b"old\n")
        t = self.share(cookie, "/drop/", "drop")["token"]
        r = self.req("GET", "/drop/?t=" + t)
        self.assertEqual(r.status, 303)
        share = r.getheader("Set-Cookie").split(";")[0]
        r, links = self.listing_links("/drop/", {"Cookie": share})
        self.assertEqual(links, [])             # no names shown
        self.assertIn(b'enctype="multipart/form-data"', r.body)
        r = self.req("PUT", "/drop/new.txt", {"Cookie": share}, b"dropped\n")
        self.assertEqual(r.status, 201)
        with open(os.path.join(self.root, "drop", "new.txt"), "rb") as f:
            self.assertEqual(f.read(), b"dropped\n")
        for path in ("/drop/old.txt", "/drop/new.txt"):
            self.assertEqual(self.req("GET", path, {"Cookie": share}).status,
                             401, path)
        # A drop box only where uploads go.
        self.share(cookie, "/priv/", "drop", 403)

    def test_revoke_by_its_maker_only(self):
        alice, bob = self.login(), self.login("bob")
        t = self.share(alice, "/priv/", "read")["token"]
        r = self.req("POST", PREFIX + "revoke?t=" + t, {"Cookie": bob})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.req("GET", "/priv/s.txt?t=" + t).status, 200)
        r = self.req("POST", PREFIX + "revoke?t=" + t, {"Cookie": alice})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.req("GET", "/priv/s.txt?t=" + t).status, 401)
        self.srv.stop()
        self.start()
        self.assertEqual(self.req("GET", "/priv/s.txt?t=" + t).status, 401)

    def test_share_page_for_a_browser(self):
        cookie = self.login()
        r = self.req("POST", PREFIX + "share?path=/priv/&kind=read",
                     {"Cookie": cookie, "Accept": "text/html",
                      "Host": "files.example:8080"})
        self.assertEqual(r.status, 200)
        self.assertIn(b'value="http://files.example:8080/priv/?t=', r.body)
        self.assertIn(b'action="revoke?t=', r.body)
        # Its QR code, inline, decodes to the link itself.
        import test_qr
        link = re.search(rb'value="([^"]+)"', r.body).group(1).decode()
        svg = re.search(rb"<svg.*?</svg>", r.body, re.S).group(0)
        if test_qr.ZBARIMG:
            self.assertEqual(test_qr.decode(test_qr.svg_rows(svg)), link)
        # A Host with anything odd in it gives a relative link.
        r = self.req("POST", PREFIX + "share?path=/priv/&kind=read",
                     {"Cookie": cookie, "Accept": "application/json",
                      "Host": "odd_host.example!"})
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(json.loads(r.body)["url"].startswith("/priv/?t="))


class Review(Base):
    """What a review of the first version found, each fixed."""

    def drop_cookie(self):
        t = self.share(self.login(), "/drop/", "drop")["token"]
        r = self.req("GET", "/drop/?t=" + t)
        self.assertEqual(r.status, 303)
        return r.getheader("Set-Cookie").split(";")[0], t

    def test_a_drop_link_only_adds_files(self):
        self.write("drop/old.txt", b"old\n")
        self.write("drop/sub/index.html", b"INDEX")
        share, t = self.drop_cookie()
        h = {"Cookie": share}
        # Nothing of what is there may be changed, moved or locked.
        for method, path, hdr, body in (
                ("DELETE", "/drop/old.txt", {}, b""),
                ("PUT", "/drop/old.txt", {}, b"over"),
                ("MOVE", "/drop/old.txt", {"Destination": "/drop/x.txt"},
                 b""),
                ("COPY", "/drop/old.txt", {"Destination": "/drop/y.txt"},
                 b""),
                ("MKCOL", "/drop/newdir", {}, b""),
                ("LOCK", "/drop/old.txt", {}, b""),
                ("PROPPATCH", "/drop/old.txt", {}, b"")):
            hh = dict(h)
            hh.update(hdr)
            r = self.req(method, path, hh, body)
            self.assertIn(r.status, (401, 403, 409), (method, r.status))
        with open(os.path.join(self.root, "drop", "old.txt"), "rb") as f:
            self.assertEqual(f.read(), b"old\n")
        # A new file goes in; a folder's index is never shown.
        self.assertEqual(self.req("PUT", "/drop/new.txt", h, b"n").status,
                         201)
        r = self.req("GET", "/drop/sub/", dict(h, Accept="text/html"))
        self.assertEqual(r.status, 200)
        self.assertNotIn(b"INDEX", r.body)

    def test_share_redirect_stays_on_this_server(self):
        t = self.share(self.login(), "/", "read")["token"]
        for path in ("//evil.example/", "/./evil.example/", "/priv/../"):
            r = self.req("GET", path + "?t=" + t)
            self.assertEqual(r.status, 303, path)
            loc = r.getheader("Location")
            self.assertTrue(loc.startswith("/") and not loc.startswith("//"),
                            (path, loc))

    def test_state_changes_only_from_this_servers_pages(self):
        cookie = self.login()
        for hdr in ({"Origin": "http://evil.example"},
                    {"Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "same-site"}):
            h = dict(hdr, Cookie=cookie, Accept="application/json")
            r = self.req("POST", PREFIX + "share?path=/priv/&kind=read", h)
            self.assertEqual(r.status, 403, hdr)
        h = {"Cookie": cookie, "Accept": "application/json",
             "Origin": "http://127.0.0.1:%d" % self.port,
             "Host": "127.0.0.1:%d" % self.port,
             "Sec-Fetch-Site": "same-origin"}
        self.assertEqual(self.req("POST", PREFIX +
                                  "share?path=/priv/&kind=read", h).status,
                         200)

    def test_uploaded_pages_run_in_a_sandbox(self):
        cookie = self.login()
        r = self.req("PUT", "/drop/page.html", {"Cookie": cookie},
                     b"<script>fetch('/')</script>")
        self.assertEqual(r.status, 201)
        r = self.req("GET", "/drop/page.html", {"Cookie": cookie})
        self.assertEqual(r.getheader("Content-Security-Policy"), "sandbox")
        # Not the files outside the upload paths (a site may be served).
        self.write("pub/site.html", b"<p>site")
        r = self.req("GET", "/pub/site.html")
        self.assertIsNone(r.getheader("Content-Security-Policy"))

    def test_another_unicode_form_is_the_same_path(self):
        self.write("caf\u00e9/secret.txt", b"CAFE")
        # /café is alice's; the rules are NFC, so is the name on disk.
        self.srv.stop()
        self.srv = self.serve(ini=self.ini() + "/caf\u00e9 = alice:rw\n")
        self.port = self.srv.port
        for path in ("/caf%C3%A9/secret.txt", "/cafe%CC%81/secret.txt",
                     "/cafe%CC%81/"):
            self.assertEqual(self.req("GET", path).status, 401, path)
        r = self.req("GET", "/cafe%CC%81/secret.txt", basic("alice"))
        self.assertEqual((r.status, r.body), (200, b"CAFE"))

    def test_search_shows_nothing_inside_a_drop_box(self):
        self.write("drop/hidden-name.txt", b"x")
        r = self.req("GET", "/?q=hidden-name&format=json")
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body)["results"], [])


def have_browser():
    return (os.path.isdir(os.path.join(JS, "node_modules", "puppeteer-core"))
            and os.path.exists("/usr/bin/chromium")
            and not os.environ.get("LANHTTPD_SKIP_LOAD"))


@unittest.skipUnless(have_browser(), "needs chromium and tests/js/"
                     "node_modules (make deps-js); skipped under TSan")
class Browser(Base):
    def test_log_in_share_and_log_out_in_chromium(self):
        shot = os.path.join(self.srv.tmp, "login.png")
        out = subprocess.run(
            ["node", os.path.join(JS, "page_login.mjs"),
             "http://127.0.0.1:%d" % self.port, "alice",
             PASSWORDS["alice"], shot],
            capture_output=True, text=True, timeout=scaled(120))
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        self.assertEqual(seen["errors"], [], out.stderr)
        self.assertIn("Wrong", seen["wrongMsg"])
        self.assertEqual(seen["afterLogin"], "/priv/")
        self.assertIn("alice", seen["signedIn"])
        cookie = [c for c in seen["cookies"]
                  if c["name"] == "lanhttpd_session"][0]
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie["sameSite"], "Lax")
        self.assertFalse(seen["scriptSeesCookie"])
        # The share page's link works for someone else.
        link = urllib.parse.urlsplit(seen["shareLink"])
        r = self.req("GET", "/priv/s.txt?" + link.query)
        self.assertEqual((r.status, r.body), (200, b"secret\n"))
        self.assertTrue(seen["loginLinkAfterLogout"])
        self.assertEqual(self.req("GET", "/priv/s.txt", {
            "Cookie": "lanhttpd_session=" + cookie["value"]}).status, 401)
        self.assertGreater(os.path.getsize(shot), 3000)


if __name__ == "__main__":
    unittest.main()
