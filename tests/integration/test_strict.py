"""Issue 15: strict where HTTP/1.1 says MUST (RFC 9112 §3, §3.2, §6.1, §6.3,
§7; RFC 9110 §4.2.4, §7.2).  Every rule is checked with the raw bytes a
client would send, against the real server.
"""

import socket
import time
import unittest

from harness import Conn, ServerTest, scaled


class Strict(ServerTest):
    def setUp(self):
        super().setUp()
        self.write("a.txt", b"alpha")
        self.write("b.txt", b"beta")
        self.srv = self.serve(["-s", "log.access_log=off"])

    def exchange(self, data, pause=None, pieces=None):
        """Sends data (in pieces with pauses, if asked), reads until the
        server closes or goes quiet; returns the status codes and whether
        it closed."""
        s = socket.create_connection(("127.0.0.1", self.srv.port),
                                     timeout=scaled(5))
        try:
            for piece in pieces or [data]:
                s.sendall(piece)
                if pause:
                    time.sleep(pause)
            out, closed = b"", False
            s.settimeout(scaled(0.5))
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        closed = True
                        break
                    out += chunk
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
        finally:
            s.close()
        codes = [int(p[:3]) for p in out.split(b"HTTP/1.1 ")[1:]
                 if p[:3].isdigit()]
        return codes, closed, out

    def status(self, data):
        return self.exchange(data)[0]

    # -- Host (RFC 9110 §7.2, §4.2.4) --

    def test_host_rules(self):
        cases = {
            b"user@example.org": 400,
            b"u:pw@example.org": 400,
            b"example.org:80a": 400,
            b"example.org:": 200,
            b"exa mple.org": 400,
            b"example.org/x": 400,
            b"caf\xc3\xa9.org": 400,
            b"[::1]:8080": 200,
            b"[::1": 400,
            b"127.0.0.1:8080": 200,
            b"": 200,
        }
        for host, want in cases.items():
            got = self.status(b"GET /a.txt HTTP/1.1\r\nHost: " + host +
                              b"\r\nConnection: close\r\n\r\n")
            self.assertEqual(got, [want], host)

    # -- request-target (RFC 9112 §3.2) --

    def test_target_rules(self):
        cases = {
            b"/a.txt#frag": 400,
            b"/a.txt?x=1#frag": 400,
            b"http://user@h/a.txt": 400,
            b"http://h/a.txt": 200,
            b"/caf\xc3\xa9": 400,
            b"/a\x80": 400,
            b"/a%C3%A9": 404,
            b"/a\x01.txt": 400,
            b"/a\x7f.txt": 400,
        }
        for target, want in cases.items():
            got = self.status(b"GET " + target + b" HTTP/1.1\r\nHost: h\r\n"
                              b"Connection: close\r\n\r\n")
            self.assertEqual(got, [want], target)

    def test_request_line_of_8000_octets_is_accepted(self):
        target = b"/a.txt?" + b"q" * (8000 - len(b"GET /a.txt? HTTP/1.1"))
        line = b"GET " + target + b" HTTP/1.1"
        self.assertEqual(len(line), 8000)
        self.assertEqual(self.status(line + b"\r\nHost: h\r\n"
                                     b"Connection: close\r\n\r\n"), [200])

    # -- Transfer-Encoding (RFC 9112 §6.1) --

    def test_transfer_coding_names_ignore_case_and_ows(self):
        codes, closed, out = self.exchange(
            b"GET /a.txt HTTP/1.1\r\nHost: h\r\n"
            b"Transfer-Encoding:  ChUnKeD\t \r\n\r\n0\r\n\r\n"
            b"GET /b.txt HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(codes, [200, 200])
        self.assertTrue(out.endswith(b"beta"))

    def test_chunked_not_last_is_400_and_closes(self):
        for te in (b"chunked, gzip", b"gzip", b"chunked, chunked"):
            codes, closed, _ = self.exchange(
                b"POST /a.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " +
                te + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                b"GET /b.txt HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertEqual(codes, [400], te)
            self.assertTrue(closed, te)

    def test_an_unknown_coding_before_chunked_is_501(self):
        codes, closed, _ = self.exchange(
            b"POST /a.txt HTTP/1.1\r\nHost: h\r\n"
            b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        self.assertEqual(codes, [501])
        self.assertTrue(closed)

    def test_transfer_encoding_in_http10_is_400(self):
        codes, closed, _ = self.exchange(
            b"GET /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\n")
        self.assertEqual(codes, [400])
        self.assertTrue(closed)

    # -- chunked request bodies (RFC 9112 §7.1) --

    BODY = (b"5;name=value;q=\"quoted \\\" str\"\r\nhello\r\n"
            b"6 ; ext \t= tok\r\n world\r\n"
            b"0\r\nX-Trailer: dropped\r\nOther: x\r\n\r\n")

    def test_a_get_with_a_chunked_body_is_answered_and_the_connection_stays(
            self):
        codes, closed, out = self.exchange(
            b"GET /a.txt HTTP/1.1\r\nHost: h\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + self.BODY +
            b"GET /b.txt HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(codes, [200, 200])
        self.assertFalse(closed)
        self.assertTrue(out.endswith(b"beta"))

    def test_a_chunked_body_split_across_many_reads(self):
        data = (b"GET /a.txt HTTP/1.1\r\nHost: h\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + self.BODY +
                b"GET /b.txt HTTP/1.1\r\nHost: h\r\n\r\n")
        # A split inside every part of the grammar.
        cuts = [len(data) - len(self.BODY) - 33 + i for i in
                (0, 3, 9, 30, 34, 37, 44, 49, 55, 60, 62, 70)]
        pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [None])]
        codes, closed, out = self.exchange(None, pause=0.05, pieces=pieces)
        self.assertEqual(codes, [200, 200])
        self.assertTrue(out.endswith(b"beta"))

    def test_chunked_bodies_are_bounded(self):
        for size_line in (b"FFFFFFFF", b"100001", b"1" + b"0" * 16):
            codes, closed, _ = self.exchange(
                b"GET /a.txt HTTP/1.1\r\nHost: h\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\n")
            self.assertEqual(codes, [413], size_line)
            self.assertTrue(closed, size_line)

    def test_malformed_chunked_bodies_are_400(self):
        for body in (b"5\nhello\r\n0\r\n\r\n", b"5 \r\nhello\r\n0\r\n\r\n",
                     b"x\r\n", b"5\r\nhelloXX0\r\n\r\n",
                     b"0\r\n bad: fold\r\n\r\n"):
            codes, closed, _ = self.exchange(
                b"GET /a.txt HTTP/1.1\r\nHost: h\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + body)
            self.assertEqual(codes, [400], body)
            self.assertTrue(closed, body)

    def test_a_body_that_breaks_after_the_answer_closes(self):
        # The answer went out with the part that was there; the rest is
        # malformed: the connection ends instead of guessing.
        codes, closed, _ = self.exchange(
            None, pause=0.2, pieces=[
                b"GET /a.txt HTTP/1.1\r\nHost: h\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n5\r\nhel",
                b"lo\r\nzz\r\n"])
        self.assertEqual(codes, [200])
        self.assertTrue(closed)

    def test_a_content_length_body_over_the_limit_is_413(self):
        codes, closed, _ = self.exchange(
            b"GET /a.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000"
            b"\r\n\r\n")
        self.assertEqual(codes, [413])
        self.assertTrue(closed)


if __name__ == "__main__":
    unittest.main()
