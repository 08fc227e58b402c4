"""WebDAV rules beyond what litmus and the clients check: locks on trees,
entity tags in If, properties that follow COPY and MOVE, the cached
PROPFIND page staying true, Finder's metadata files, bounds on bodies.

Each test runs a real lanhttpd (harness.Server) with [upload] and [webdav]
on over a temporary root, and talks to it on loopback with time limits.
"""

import os
import shutil
import subprocess
import unittest

from davpeer import lanhttpd_ini
from harness import ServerTest
from test_webdav import (LOCKINFO, PROPFIND_ALLPROP, dav, href_path,
                         lanhttpd_without_dav, multistatus)

PROPPATCH_TMPL = ('<?xml version="1.0" encoding="utf-8"?>\n'
                  '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:t">'
                  '<D:set><D:prop><Z:note>%s</Z:note></D:prop></D:set>'
                  '</D:propertyupdate>')
NOTE_BODY = ('<?xml version="1.0" encoding="utf-8"?>\n'
             '<D:propfind xmlns:D="DAV:" xmlns:Z="urn:t"><D:prop>'
             '<Z:note/><D:lockdiscovery/></D:prop></D:propfind>').encode()
SHARED_LOCKINFO = LOCKINFO.replace(b"<D:exclusive/>", b"<D:shared/>")


class RulesBase(ServerTest):
    """A lanhttpd with WebDAV on a small tree; extra adds ini lines."""
    extra = ""

    def setUp(self):
        super().setUp()
        why = lanhttpd_without_dav()
        if why:
            self.skipTest(why)
        self.write("dir/a.txt", b"alpha")
        self.write("dir/sub/b.txt", b"beta")
        self.write("file.txt", b"one")
        self.srv = self.serve(ini=lanhttpd_ini("/", extra=self.extra))
        self.port = self.srv.port

    def req(self, method, path, headers=None, body=b""):
        return dav(self.port, method, path, headers, body)

    def lock(self, path, body=LOCKINFO, depth="infinity"):
        r = self.req("LOCK", path, {"Depth": depth, "Timeout": "Second-60"},
                     body)
        self.assertIn(r.status, (200, 201), r.body)
        token = r.header("Lock-Token")
        self.assertTrue(token and token.startswith("<urn:uuid:"), token)
        return token

    def note(self, path, depth="0"):
        """{decoded href: (note text or None, lockdiscovery element)}."""
        r = self.req("PROPFIND", path, {"Depth": depth}, NOTE_BODY)
        self.assertEqual(r.status, 207, r.body[:300])
        out = {}
        for href, props in multistatus(r.body).items():
            n = props.get("{urn:t}note")
            out[href_path(href)] = (n.text if n is not None else None,
                                    props.get("{DAV:}lockdiscovery"))
        return out

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def disk(self, rel):
        with open(os.path.join(self.root, rel), "rb") as f:
            return f.read()


class Rules(RulesBase):
    def test_a_locked_member_stops_deleting_its_folder(self):
        token = self.lock("/dir/sub/b.txt", depth="0")
        r = self.req("DELETE", "/dir/")
        self.assertEqual(r.status, 423, r.body)
        self.assertIn(b"lock-token-submitted", r.body)
        self.assertTrue(os.path.exists(os.path.join(self.root,
                                                    "dir/sub/b.txt")))
        r = self.req("DELETE", "/dir/", {"If": "</dir/sub/b.txt> (%s)"
                                         % token})
        self.assertEqual(r.status, 204, r.body)
        self.assertFalse(os.path.exists(os.path.join(self.root, "dir")))
        # The lock went with the file: the name can be locked again.
        self.write("dir/sub/b.txt", b"again")
        self.lock("/dir/sub/b.txt", depth="0")

    def test_if_with_entity_tags(self):
        etag = dav(self.port, "HEAD", "/file.txt").header("ETag")
        self.assertTrue(etag)
        r = self.req("PUT", "/file.txt", {"If": '(["not-the-tag"])'}, b"x")
        self.assertEqual(r.status, 412)
        self.assertEqual(self.disk("file.txt"), b"one")
        r = self.req("PUT", "/file.txt", {"If": "([%s])" % etag}, b"two")
        self.assertIn(r.status, (200, 204), r.body)
        self.assertEqual(self.disk("file.txt"), b"two")
        # The old tag no longer matches; Not of it does.
        r = self.req("PUT", "/file.txt", {"If": "([%s])" % etag}, b"x")
        self.assertEqual(r.status, 412)
        r = self.req("PUT", "/file.txt", {"If": "(Not [%s])" % etag}, b"3")
        self.assertIn(r.status, (200, 204), r.body)
        r = self.req("PUT", "/file.txt", {"If": "(<broken"}, b"x")
        self.assertEqual(r.status, 400)

    def test_dead_properties_follow_copy_and_move(self):
        r = self.req("PROPPATCH", "/file.txt", None,
                     PROPPATCH_TMPL % "caf\u00e9 &amp; <b>")
        self.assertEqual(r.status, 400)     # not well-formed: nothing set
        r = self.req("PROPPATCH", "/file.txt", None,
                     (PROPPATCH_TMPL % "caf\u00e9 &amp; co").encode())
        self.assertEqual(r.status, 207, r.body)
        r = self.req("COPY", "/file.txt", {"Destination":
                                           self.url("/copy.txt")})
        self.assertEqual(r.status, 201, r.body)
        r = self.req("MOVE", "/copy.txt", {"Destination":
                                           self.url("/dir/moved.txt")})
        self.assertEqual(r.status, 201, r.body)
        got = self.note("/dir/moved.txt")
        self.assertEqual(got["/dir/moved.txt"][0], "caf\u00e9 & co")
        self.assertEqual(self.note("/file.txt")["/file.txt"][0],
                         "caf\u00e9 & co")

    def test_a_cached_depth_1_answer_sees_changes(self):
        before = self.note("/dir/", "1")
        self.assertIsNone(before["/dir/a.txt"][0])
        again = self.note("/dir/", "1")     # from the cache
        self.assertEqual({k: v[0] for k, v in again.items()},
                         {k: v[0] for k, v in before.items()})
        r = self.req("PROPPATCH", "/dir/a.txt", None,
                     (PROPPATCH_TMPL % "set").encode())
        self.assertEqual(r.status, 207, r.body)
        self.assertEqual(self.note("/dir/", "1")["/dir/a.txt"][0], "set")
        # A lock changes lockdiscovery without any file system event.
        self.lock("/dir/a.txt", depth="0")
        disc = self.note("/dir/", "1")["/dir/a.txt"][1]
        self.assertIsNotNone(disc.find("{DAV:}activelock"))
        self.write("dir/new.txt", b"n")
        self.assertIn("/dir/new.txt", self.note("/dir/", "1"))

    def test_shared_and_exclusive_locks(self):
        self.lock("/file.txt", SHARED_LOCKINFO, "0")
        self.lock("/file.txt", SHARED_LOCKINFO, "0")
        r = self.req("LOCK", "/file.txt", {"Depth": "0"}, LOCKINFO)
        self.assertEqual(r.status, 423)
        r = self.req("LOCK", "/dir/", {"Depth": "infinity"}, LOCKINFO)
        self.assertIn(r.status, (200, 201))
        # A LOCK that fails below a locked folder leaves no empty file.
        r = self.req("LOCK", "/dir/fresh.txt", {"Depth": "0"}, LOCKINFO)
        self.assertEqual(r.status, 423)
        self.assertFalse(os.path.exists(os.path.join(self.root,
                                                     "dir/fresh.txt")))

    def test_destination_elsewhere_and_overwrite(self):
        r = self.req("COPY", "/file.txt", {"Destination":
                                           "http://elsewhere.example/x"})
        self.assertEqual(r.status, 502)
        self.write("dir/a.txt", b"old")
        r = self.req("MOVE", "/file.txt", {"Destination":
                                           self.url("/dir/a.txt"),
                                           "Overwrite": "F"})
        self.assertEqual(r.status, 412)
        r = self.req("MOVE", "/file.txt", {"Destination":
                                           self.url("/dir/a.txt")})
        self.assertEqual(r.status, 204, r.body)
        self.assertEqual(self.disk("dir/a.txt"), b"one")
        self.assertFalse(os.path.exists(os.path.join(self.root, "file.txt")))
        r = self.req("MOVE", "/dir/", {"Destination": self.url("/dir/sub/x")})
        self.assertEqual(r.status, 403)

    def test_bodies_are_bounded(self):
        big = b"<D:propfind xmlns:D='DAV:'>" + b" " * (1 << 20) + b"</D:propfind>"
        r = self.req("PROPFIND", "/", {"Depth": "0"}, big)
        self.assertEqual(r.status, 413)
        r = self.req("PROPFIND", "/", {"Depth": "0"},
                     b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'
                     b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')
        self.assertEqual(r.status, 400)
        r = self.req("PROPFIND", "/", {"Depth": "2"}, PROPFIND_ALLPROP)
        self.assertEqual(r.status, 400)


class MacFiles(RulesBase):
    """Finder's ._ and .DS_Store files are refused even where hidden
    names may be written, unless mac_files = allow."""
    extra = "[server]\nhidden_files = allow\n"

    def test_mac_files_refused(self):
        for name in ("._photo.jpg", ".DS_Store"):
            r = self.req("PUT", "/dir/" + name, None, b"meta")
            self.assertEqual(r.status, 403, (name, r.body))
            self.assertFalse(os.path.exists(os.path.join(self.root, "dir",
                                                         name)))
        r = self.req("PUT", "/dir/.hidden", None, b"ok")
        self.assertEqual(r.status, 201, r.body)
        r = self.req("MOVE", "/file.txt", {"Destination":
                                           self.url("/._file.txt")})
        self.assertEqual(r.status, 403)


class MacFilesAllowed(RulesBase):
    extra = "[server]\nhidden_files = allow\n[webdav]\nmac_files = allow\n"

    def test_mac_files_stored(self):
        r = self.req("PUT", "/dir/._photo.jpg", None, b"meta")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.disk("dir/._photo.jpg"), b"meta")


class DepthInfinity(RulesBase):
    extra = "[webdav]\ndepth_infinity = on\n"

    def test_depth_infinity_lists_the_tree(self):
        r = self.req("PROPFIND", "/", {"Depth": "infinity"}, PROPFIND_ALLPROP)
        self.assertEqual(r.status, 207, r.body[:300])
        hrefs = {href_path(h) for h in multistatus(r.body)}
        self.assertTrue({"/", "/dir/", "/dir/sub/", "/dir/sub/b.txt",
                         "/file.txt"} <= hrefs, hrefs)


class ReviewFindings(RulesBase):
    """One regression test per defect a review of the WebDAV code found."""

    def test_copy_or_move_onto_an_ancestor_is_refused(self):
        for method in ("COPY", "MOVE"):
            r = self.req(method, "/dir/sub/", {"Destination":
                                               self.url("/dir/")})
            self.assertEqual(r.status, 403, (method, r.body))
            self.assertEqual(self.disk("dir/sub/b.txt"), b"beta")
        r = self.req("COPY", "/dir/a.txt", {"Destination": self.url("/")})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.disk("dir/a.txt"), b"alpha")

    def test_proppatch_does_not_follow_links(self):
        outside = os.path.join(self.root, "..", os.path.basename(self.root) +
                               "-outside")
        os.makedirs(outside, exist_ok=True)
        self.addCleanup(shutil.rmtree, outside, True)
        target = os.path.join(outside, "f")
        with open(target, "wb") as f:
            f.write(b"x")
        os.symlink(target, os.path.join(self.root, "dir", "link"))
        os.symlink(os.path.join(self.root, "file.txt"),
                   os.path.join(self.root, "dir", "inlink"))
        for path in ("/dir/link", "/dir/inlink"):
            r = self.req("PROPPATCH", path, None,
                         (PROPPATCH_TMPL % "owned").encode())
            self.assertIn(r.status, (403, 404), (path, r.body))
        for f in (target, os.path.join(self.root, "file.txt")):
            self.assertNotIn("user.dav:{urn:t}note", os.listxattr(f))
        r = self.req("COPY", "/dir/inlink", {"Destination":
                                             self.url("/dir/copied")})
        self.assertEqual(r.status, 403, r.body)
        self.assertFalse(os.path.lexists(os.path.join(self.root, "dir",
                                                      "copied")))

    def test_upload_writes_respect_locks(self):
        token = self.lock("/file.txt", depth="0")
        r = dav(self.port, "POST", "/file.txt?rename=other.txt")
        self.assertEqual(r.status, 423, r.body)
        self.assertTrue(os.path.exists(os.path.join(self.root, "file.txt")))
        r = dav(self.port, "POST", "/file.txt?rename=other.txt",
                {"If": "(%s)" % token})
        self.assertIn(r.status, (200, 204, 303), r.body)

    def test_a_depth_0_lock_on_a_folder_guards_its_members_list(self):
        token = self.lock("/dir/", depth="0")
        for method, path, body in (("MKCOL", "/dir/new", b""),
                                   ("PUT", "/dir/new.txt", b"n"),
                                   ("DELETE", "/dir/a.txt", b""),
                                   ("POST", "/dir/?mkdir=x", b"")):
            r = self.req(method, path, None, body)
            self.assertEqual(r.status, 423, (method, path, r.body))
        self.assertTrue(os.path.exists(os.path.join(self.root, "dir/a.txt")))
        # A file already there may change: its name stays a member.
        r = self.req("PUT", "/dir/a.txt", None, b"changed")
        self.assertIn(r.status, (200, 204), r.body)
        r = self.req("PUT", "/dir/new.txt", {"If": "</dir/> (%s)" % token},
                     b"n")
        self.assertEqual(r.status, 201, r.body)

    def test_mid_sized_multistatus_is_sent(self):
        for i in range(80):
            self.write("mid/file-%03d.txt" % i, b"m")
        self.lock("/file.txt", depth="0")    # no cached page then
        r = self.req("PROPFIND", "/mid/", {"Depth": "1"}, PROPFIND_ALLPROP)
        self.assertEqual(r.status, 207, r.body[:200])
        self.assertGreater(len(r.body), 32 * 1024)
        self.assertEqual(len(multistatus(r.body)), 81)

    def test_proppatch_is_all_or_nothing(self):
        big = "v" * 60000           # more than ext4 keeps in one inode
        body = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" '
                'xmlns:Z="urn:t"><D:set><D:prop><Z:first>one</Z:first>'
                '<Z:second>%s</Z:second></D:prop></D:set>'
                '</D:propertyupdate>' % big).encode()
        r = self.req("PROPPATCH", "/file.txt", None, body)
        self.assertEqual(r.status, 207, r.body[:300])
        if b"507" not in r.body:
            self.skipTest("this file system keeps a 60 kB value")
        self.assertIn(b"424 Failed Dependency", r.body)
        self.assertNotIn("user.dav:{urn:t}first",
                         os.listxattr(os.path.join(self.root, "file.txt")))

    def test_nfd_folder_url_serves_its_index(self):
        self.write("caf\u00e9/index.html", b"INDEX")
        self.write("caf\u00e9/secret.txt", b"s")
        for url in ("/caf%C3%A9/", "/cafe%CC%81/"):
            r = dav(self.port, "GET", url)
            self.assertEqual((r.status, r.body), (200, b"INDEX"), url)

    def test_stored_values_that_are_not_xml_are_left_out(self):
        path = os.path.join(self.root, "file.txt")
        os.setxattr(path, "user.dav:{urn:t}v",
                    b"</P:v></D:prop><D:href>/fake</D:href>")
        os.setxattr(path, "user.dav:{urn:t}bad name", b"x")
        os.setxattr(path, "user.dav:{urn:t}good", b"fine")
        r = self.req("PROPFIND", "/file.txt", {"Depth": "0"},
                     PROPFIND_ALLPROP)
        self.assertEqual(r.status, 207)
        props = multistatus(r.body)["/file.txt"]
        self.assertNotIn(b"/fake", r.body)
        self.assertEqual(props["{urn:t}good"].text, "fine")


class CrossDevice(RulesBase):
    """A folder never moves to another file system by copy and delete."""
    extra = "[upload]\nreserve = 0\n"    # the 4 MiB tmpfs is all free

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        super().setUp()
        self.mnt = os.path.join(self.root, "other")
        os.mkdir(self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                            self.mnt], capture_output=True, timeout=30)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: %s" % r.stderr.decode())
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt],
                        timeout=30)

    def test_folder_move_across_file_systems_is_refused(self):
        self.write("dir/.env", b"secret")
        r = self.req("MOVE", "/dir/", {"Destination": self.url("/other/d/")})
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(self.disk("dir/.env"), b"secret")
        self.assertEqual(self.disk("dir/sub/b.txt"), b"beta")
        # One file moves by copy and delete.
        r = self.req("MOVE", "/file.txt", {"Destination":
                                           self.url("/other/file.txt")})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.disk("other/file.txt"), b"one")
        self.assertFalse(os.path.exists(os.path.join(self.root, "file.txt")))


if __name__ == "__main__":
    unittest.main()
