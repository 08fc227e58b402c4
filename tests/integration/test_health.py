"""GET /.well-known/lanhttpd/health, for load balancers (issue 21).

A real lanhttpd answers 200 with its queue depth while it serves, asks no
credentials even where every path needs them, and answers 503 (closing
the connection) from the moment a stop begins, while a download that was
running goes on to its end: what HAProxy needs to move new requests away
from a replica that is being stopped without cutting anyone off.
"""

import json
import os
import signal
import socket
import subprocess
import time

from harness import Conn, ServerTest, scaled

HEALTH = "/.well-known/lanhttpd/health"


class Health(ServerTest):
    def test_serving_then_stopping(self):
        big = os.urandom(8 << 20)
        self.write("big.bin", big)
        srv = self.serve(["-s", "log.access_log=off",
                          "-s", "shutdown_timeout=20s"])
        c = self.connect(srv.port)
        r = c.request("GET", HEALTH)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("x-queue-depth"), "0")
        self.assertEqual(json.loads(r.body)["status"], "serving")
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertEqual(c.request("HEAD", HEALTH).status, 200)
        self.assertEqual(c.request("POST", HEALTH).status, 405)
        # A download the stop must not cut (read slowly), with a health
        # check pipelined behind it: that one is answered in the drain.
        dl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(dl.close)
        # A small window, set before connecting: most of the file waits
        # in the server, not in socket buffers.
        dl.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 10)
        dl.settimeout(scaled(10))
        dl.connect(("127.0.0.1", srv.port))
        dl.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET " + HEALTH.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        got = dl.recv(65536)
        self.assertTrue(got.startswith(b"HTTP/1.1 200"))
        srv.signal(signal.SIGTERM)
        # An idle keep-alive connection is closed at once, and new ones
        # are refused: a load balancer's next check fails either way.
        self.assertTrue(c.is_closed())
        deadline = time.monotonic() + scaled(5)
        while True:
            try:
                socket.create_connection(("127.0.0.1", srv.port),
                                         timeout=2).close()
            except OSError:
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        rest = b""
        while True:
            chunk = dl.recv(1 << 20)
            if not chunk:
                break
            rest += chunk
        data = got + rest
        head, _, tail = data.partition(b"\r\n\r\n")
        self.assertEqual(tail[:len(big)], big)
        second = tail[len(big):]
        self.assertTrue(second.startswith(b"HTTP/1.1 503"), second[:200])
        self.assertIn(b"Connection: close", second)
        self.assertIn(b'"status":"stopping"', second)
        self.assertEqual(srv.proc.wait(timeout=scaled(20)), 0)

    def test_no_credentials_asked(self):
        users = os.path.join(self.root + "-etc", "users")
        os.makedirs(os.path.dirname(users))
        self.addCleanup(__import__("shutil").rmtree, os.path.dirname(users),
                        True)
        from harness import BIN
        subprocess.run([BIN, "passwd", users, "u"], input=b"pw\n",
                       check=True, capture_output=True)
        srv = self.serve(ini="[auth]\nusers = %s\nalways_ask = on\n"
                         "[access]\n/ = @users:r\n" % users)
        c = Conn(srv.port)
        self.addCleanup(c.close)
        self.assertEqual(c.request("GET", "/").status, 401)
        self.assertEqual(c.request("GET", HEALTH).status, 200)
