"""The daemon's own sandbox ([server] sandbox = on; issue 19).

A real lanhttpd runs confined (Landlock, and a seccomp filter outside
sanitizer builds) and must still do everything a share does: read, take
uploads, answer WebDAV, reload, reopen its logs and stop; its
/proc/PID/status shows the filter (Seccomp: 2).  What the sandbox
refuses is checked by tests/unit/check_sandbox.c, which applies the same
function in a child and tries the forbidden things.
"""

import os
import signal
import time
import unittest

from harness import INSTRUMENTED, Conn, ServerTest, get


class Confined(ServerTest):
    def setUp(self):
        super().setUp()
        self.write("a.txt", b"alpha")
        os.makedirs(os.path.join(self.root, "up"))
        self.log = os.path.join(self.root + "-log")
        os.makedirs(self.log)
        ini = ("[server]\nsandbox = on\n[upload]\nenable = on\n"
               "paths = /up\n[webdav]\nenable = on\n[log]\n"
               "access_log = %s/access.log\n" % self.log)
        self.srv = self.serve(ini=ini)

    def tearDown(self):
        super().tearDown()
        for name in os.listdir(self.log):
            os.unlink(os.path.join(self.log, name))
        os.rmdir(self.log)

    def req(self, method, path, headers=None, body=b""):
        c = Conn(self.srv.port)
        try:
            h = {"Connection": "close"}
            h.update(headers or {})
            return c.request(method, path, h, body=body)
        finally:
            c.close()

    def status(self, field):
        with open("/proc/%d/status" % self.srv.pid()) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
        return None

    def test_a_confined_daemon_still_serves(self):
        self.assertEqual(self.status("NoNewPrivs"), "1")
        if not INSTRUMENTED:
            self.assertEqual(self.status("Seccomp"), "2")
        port = self.srv.port
        self.assertEqual(get(port, "/a.txt").body, b"alpha")
        self.assertEqual(self.req("PUT", "/up/new.txt", body=b"new").status,
                         201)
        self.assertEqual(self.req("PROPFIND", "/up/", {"Depth": "1"}).status,
                         207)
        self.assertEqual(self.req("MKCOL", "/up/dir").status, 201)
        self.assertEqual(self.req("MOVE", "/up/dir", {
            "Destination": "/up/moved"}).status, 201)
        self.srv.signal(signal.SIGHUP)
        os.rename(os.path.join(self.log, "access.log"),
                  os.path.join(self.log, "access.log.1"))
        self.srv.signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(self.log, "access.log")):
            self.assertLess(time.monotonic(), deadline, "log not reopened")
            get(port, "/a.txt")
            time.sleep(0.1)
        self.assertEqual(get(port, "/a.txt").body, b"alpha")
        self.assertIn("sandbox: landlock", self.srv.stderr())
        self.assertTrue(os.path.isdir(os.path.join(self.root, "up/moved")))

    def test_a_reload_that_needs_a_restart_says_so(self):
        os.makedirs(os.path.join(self.root, "up2"))
        path = os.path.join(self.srv.tmp, "httpd.ini")
        with open(path) as f:
            ini = f.read()
        with open(path, "w") as f:
            f.write(ini.replace("paths = /up\n", "paths = /up /up2\n"))
        self.srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload failed: [upload] paths changed" not in \
                self.srv.stderr():
            self.assertLess(time.monotonic(), deadline, self.srv.stderr())
            time.sleep(0.05)
        self.assertIn("restart", self.srv.stderr())
        # The running configuration stays: /up takes writes, /up2 not.
        self.assertEqual(self.req("PUT", "/up/a", body=b"a").status, 201)
        self.assertEqual(self.req("PUT", "/up2/a", body=b"a").status, 403)


class ConfinedAccounts(ServerTest):
    """Log-in keys and the revoked list live in [auth] state_dir, which
    the sandbox must leave writable."""

    def test_log_in_and_out_under_the_sandbox(self):
        import base64
        import subprocess
        from harness import BIN
        etc = self.root + "-etc"
        os.makedirs(etc)
        self.addCleanup(__import__("shutil").rmtree, etc, True)
        users = os.path.join(etc, "users")
        subprocess.run([BIN, "passwd", users, "ann"], input=b"pw\n",
                       check=True, capture_output=True)
        self.write("p/s.txt", b"secret")
        state = os.path.join(etc, "state")
        srv = self.serve(ini="[server]\nsandbox = on\n[auth]\nusers = %s\n"
                         "state_dir = %s\n[access]\n/ = @guest:r\n"
                         "/p = ann:r\n" % (users, state))
        c = Conn(srv.port)
        self.addCleanup(c.close)
        r = c.request("POST", "/.well-known/lanhttpd/login", {
            "Authorization": "Basic " + base64.b64encode(b"ann:pw").decode()})
        self.assertEqual(r.status, 200)
        cookie = r.header("set-cookie").split(";")[0]
        self.assertEqual(c.request("GET", "/p/s.txt", {
            "Cookie": cookie}).status, 200)
        r = c.request("POST", "/.well-known/lanhttpd/logout",
                      {"Cookie": cookie})
        self.assertEqual(r.status, 303)
        # The revocation was written down, inside the sandbox.
        with open(os.path.join(state, "revoked")) as f:
            self.assertEqual(len(f.read().splitlines()), 1)
        self.assertEqual(c.request("GET", "/p/s.txt", {
            "Cookie": cookie}).status, 401)


if __name__ == "__main__":
    unittest.main()
