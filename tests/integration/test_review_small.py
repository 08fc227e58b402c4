"""Review items 10, 11, 13 and 15 against the real binaries on loopback.

- 10: the ping responder does not answer datagrams from well-known ports
  (below 1024), so a spoofed datagram "from" daytime, qotd or chargen
  cannot make it bounce with that service.
- 11: C1 control characters (U+0080-U+009F in UTF-8, and raw bytes
  0x80-0x9F) from a client never reach the access log unescaped.
- 13: on a listing cut into pages by size, "Previous page" leads to the
  page before, not 10,000 entries back.
- 15: lanhttpd-ping finds localhost without /etc/hosts (RFC 6761 §6.3).

Every socket has a timeout, every wait is bounded, servers are stopped by
the harness, and traffic stays on loopback.
"""

import html
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import Conn, ServerTest, get, scaled

HERE = os.path.dirname(os.path.abspath(__file__))
PING_BIN = os.environ.get("LANHTTPD_PING_BIN",
                          os.path.join(HERE, "..", "..", "build",
                                       "lanhttpd-ping"))


def tcp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    return s


def udp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


class PingServer(ServerTest):
    """The daemon with its ping responder on a UDP socket bound here."""

    def ping_server(self):
        ping = udp_listener()
        port = ping.getsockname()[1]
        self.serve(["-s", "log.access_log=off"],
                   ini="[ping]\nenable = on\n",
                   sockets=[("http", tcp_listener()), ("ping", ping)])
        return port


def low_port_socket():
    """A UDP socket on 127.0.0.1 at a well-known port (13, 17, 19 or any
    free one below 1024), or None with the reason it cannot be had."""
    for port in [13, 17, 19] + list(range(1023, 600, -1)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return s, None
        except PermissionError:
            s.close()
            return None, ("binding a UDP port below 1024 needs root "
                          "(or CAP_NET_BIND_SERVICE)")
        except OSError:
            s.close()
    return None, "no free UDP port below 1024 on 127.0.0.1"


class PingFromWellKnownPorts(PingServer):
    """Item 10."""

    def test_datagram_from_a_port_below_1024_gets_no_reply(self):
        low, why = low_port_socket()
        if low is None:
            self.skipTest(why)
        self.addCleanup(low.close)
        port = self.ping_server()
        # The same datagram from a high port is answered: the responder
        # is up, and the payload is one it answers.
        high = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(high.close)
        high.settimeout(scaled(2))
        high.bind(("127.0.0.1", 0))
        high.sendto(b"Ping 1 spoofed", ("127.0.0.1", port))
        self.assertEqual(high.recvfrom(2048),
                         (b"PING 1 SPOOFED", ("127.0.0.1", port)))
        # From a well-known port (a daytime, qotd or chargen service that
        # would answer the answer): nothing, within a bounded wait.
        low.settimeout(scaled(0.5))
        low.sendto(b"Ping 1 spoofed", ("127.0.0.1", port))
        try:
            got = low.recvfrom(2048)
        except socket.timeout:
            got = None
        self.assertIsNone(got, "a datagram from port %d was answered"
                          % low.getsockname()[1])
        # The responder is still fine afterwards.
        high.sendto(b"Ping 2 after", ("127.0.0.1", port))
        self.assertEqual(high.recvfrom(2048)[0], b"PING 2 AFTER")


def utf8_len(b, i):
    """Length of the well-formed UTF-8 sequence at b[i:], or 0."""
    c = b[i]
    if c < 0x80:
        return 1
    for n in (2, 3, 4):
        try:
            b[i:i + n].decode("utf-8")
            return n
        except UnicodeDecodeError:
            pass
    return 0


def c1_problems(data):
    """Offsets and descriptions of what a terminal could take for a C1
    control: a byte >= 0x80 outside well-formed UTF-8, or U+0080-U+009F."""
    bad, i = [], 0
    while i < len(data):
        n = utf8_len(data, i)
        if n == 0:
            bad.append((i, "raw byte 0x%02x" % data[i]))
            n = 1
        elif n == 2 and data[i] == 0xc2 and data[i + 1] <= 0x9f:
            bad.append((i, "U+%04X" % data[i + 1]))
        i += n
    return bad


class AccessLogC1(ServerTest):
    """Item 11."""

    def test_c1_controls_reach_the_access_log_escaped(self):
        log = os.path.join(self.root, "..", os.path.basename(self.root)
                           + "-access.log")
        self.addCleanup(lambda: os.path.exists(log) and os.unlink(log))
        self.write("a.txt", b"x")
        srv = self.serve(["-s", "log.access_log=" + log])
        # Targets hold only percent-encoded and well-formed UTF-8 forms
        # (a raw 0x9b there may be refused); the header values carry the
        # raw byte too.
        targets = [b"/%C2%9B%9B/a.txt", b"/\xc2\x9b[31m/a.txt",
                   b"/a.txt?\xc2\x9b2J"]
        answered = []
        for target in targets:
            c = Conn(srv.port)
            try:
                c.send(b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n"
                       b"Referer: http://x/\xc2\x9b[31m\x9b[32m\r\n"
                       b"User-Agent: ua\x9b]0;pwned-\xc2\x9b2J "
                       + "€ 中文".encode() + b"\r\n"
                       b"Connection: close\r\n\r\n")
                r = c.read_response()
            finally:
                c.close()
            self.assertIn(r.status, (200, 400, 404), target)
            answered.append(r.status != 400)
        # The access log is written when a worker goes idle.
        deadline = time.monotonic() + scaled(10)
        data = b""
        while time.monotonic() < deadline:
            with open(log, "rb") as f:
                data = f.read()
            if data.count(b"\n") >= len(targets):
                break
            time.sleep(0.05)
        self.assertEqual(data.count(b"\n"), len(targets), data)
        self.assertEqual(c1_problems(data), [], data)
        # Escaped, not dropped: a reader of the log still sees the bytes.
        self.assertIn(b"\\xc2\\x9b[31m\\x9b[32m", data)
        self.assertIn(b"ua\\x9b]0;pwned-\\xc2\\x9b2J " + "€ 中文".encode(),
                      data)
        if answered[1]:
            self.assertIn(b'"GET /\\xc2\\x9b[31m/a.txt HTTP/1.1"', data)


FILES = 9000
NAME_BYTES = 250
LINK = re.compile(r'<a href="(\?[^"]*)">(Previous page|Next page)</a>')
FIRST_ROW = re.compile(r'<tr><td class="n"><a href="([^"]*)">')


class ListingPagesCutBySize(ServerTest):
    """Item 13."""

    def page(self, port, query):
        r = get(port, "/big/" + query)
        self.assertEqual(r.status, 200, query)
        text = r.body.decode("utf-8")
        links = {name: html.unescape(href)
                 for href, name in LINK.findall(text)}
        first = FIRST_ROW.search(text)
        self.assertIsNotNone(first, query)
        return links, urllib.parse.unquote(first.group(1))

    def test_previous_page_leads_to_the_page_before(self):
        # 250-byte names of a character that grows sevenfold in a row
        # ("&lt;" in the text, "%3C" in the link): about 1.9 KiB a row,
        # so 8 MiB pages of about 4,400 rows, three pages in all.
        big = os.path.join(self.root, "big")
        os.mkdir(big)
        for i in range(FILES):
            name = "%05d" % i + "<" * (NAME_BYTES - 5)
            os.close(os.open(os.path.join(big, name),
                             os.O_CREAT | os.O_WRONLY, 0o644))
        srv = self.serve(["-s", "log.access_log=off"])
        links1, first1 = self.page(srv.port, "")
        self.assertNotIn("Previous page", links1)
        links2, first2 = self.page(srv.port, links1["Next page"])
        links3, first3 = self.page(srv.port, links2["Next page"])
        start = [0] + [int(urllib.parse.parse_qs(links[1:])["start"][0])
                       for links in (links1["Next page"],
                                     links2["Next page"])]
        print("\npages start at entries %s (0-based)" % start)
        # Cut by size, not by LISTING_PAGE_ENTRIES (10,000).
        self.assertTrue(0 < start[1] < start[2] < FILES, start)
        self.assertEqual((first1[:5], first2[:5], first3[:5]),
                         tuple("%05d" % s for s in start))
        self.assertEqual(links2["Previous page"].split("start=")[1], "0")
        back, first_back = self.page(srv.port, links3["Previous page"])
        self.assertEqual(first_back, first2)
        self.assertEqual(back.get("Next page"), links2["Next page"])


class PingLocalhostWithoutHostsFile(PingServer):
    """Item 15."""

    def test_localhost_resolves_without_etc_hosts(self):
        if os.geteuid() != 0:
            self.skipTest("needs root for unshare -m and mount --bind")
        if shutil.which("unshare") is None:
            self.skipTest("unshare(1) is not installed")
        tmp = tempfile.mkdtemp(prefix="lanhttpd-hosts-")
        self.addCleanup(shutil.rmtree, tmp, True)
        files = {
            "/etc/hosts": "",
            "/etc/nsswitch.conf": "hosts: files dns\n",
            # Any DNS query goes to a port where nobody listens, so it
            # fails at once instead of waiting for a real server.
            "/etc/resolv.conf": "nameserver 127.0.0.1\n"
                                "options timeout:1 attempts:1\n",
        }
        binds = []
        for target, content in files.items():
            src = os.path.join(tmp, os.path.basename(target))
            with open(src, "w") as f:
                f.write(content)
            # A missing file is as good as an empty one here.
            if os.path.exists(target):
                binds.append("mount --bind %s %s" % (src, target))
        script = " && ".join(binds + ['exec "$@"'])
        probe = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh",
                                "getent", "hosts", "localhost"],
                               capture_output=True, text=True,
                               timeout=scaled(20))
        if probe.returncode not in (0, 2):
            self.skipTest("cannot make a private mount namespace: "
                          + probe.stderr.strip())
        port = self.ping_server()
        r = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh",
                            PING_BIN, "-p", str(port), "-c", "1", "-W",
                            str(scaled(2)), "localhost"],
                           capture_output=True, text=True,
                           timeout=scaled(20))
        print("\ngetent hosts localhost in the namespace: exit %d; "
              "lanhttpd-ping: exit %d" % (probe.returncode, r.returncode))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("PING localhost (127.0.0.1) port %d" % port, r.stdout)
        self.assertRegex(r.stdout, r"(?m)^reply from 127\.0\.0\.1: seq=1 ")


if __name__ == "__main__":
    unittest.main()
