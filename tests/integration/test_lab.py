"""Issues 7 and 9: the lab's services against the real binary on loopback.

The UDP ping responder and its client lanhttpd-ping, the daytime service,
and the file transfer (JSON with base64) read by a client written like the
lab's: read to EOF, parse the JSON, decode, save.  Sockets are bound here
and passed by socket activation with their FileDescriptorName=, except
where a test needs the daemon to bind them itself (port 0, "listening on"
lines).  Every socket has a timeout and every loop is bounded.
"""

import base64
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import BIN, Conn, Server, ServerTest, get, scaled

HERE = os.path.dirname(os.path.abspath(__file__))
PING_BIN = os.environ.get("LANHTTPD_PING_BIN",
                          os.path.join(HERE, "..", "..", "build",
                                       "lanhttpd-ping"))


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


HAVE_IPV6 = have_ipv6()


def tcp_listener(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(128)
    return s


def udp_socket(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6 and host == "::":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((host, 0))
    return s


def udp_client(host="127.0.0.1", bind=None, timeout=1.0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(scaled(timeout))
    if bind is not None:
        s.bind((bind, 0))
    return s


def ask(port, payload, host="127.0.0.1", timeout=1.0, bind=None):
    """Sends one datagram; returns (reply, source) or None on timeout."""
    s = udp_client(host, bind, timeout)
    try:
        s.sendto(payload, (host, port))
        return s.recvfrom(65536)
    except socket.timeout:
        return None
    finally:
        s.close()


def collect(s, quiet=0.5, limit=10.0):
    """Datagrams that arrive on s until quiet seconds pass with none, and
    when the last one came (None if none did)."""
    got, last = [], None
    deadline = time.monotonic() + scaled(limit)
    s.settimeout(scaled(quiet))
    while time.monotonic() < deadline:
        try:
            got.append(s.recv(65536))
            last = time.monotonic()
        except socket.timeout:
            break
    return got, last


def lab_client(port, host="127.0.0.1", timeout=20.0, rcvbuf=None):
    """The lab's client: read until EOF, parse the JSON. Returns (obj, raw)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(scaled(timeout))
    s.connect((host, port))
    raw = bytearray()
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            raw += chunk
    finally:
        s.close()
    return json.loads(raw.decode("utf-8")), bytes(raw)


def lab_save(obj, folder):
    """The lab client's last step: decode and save under the name given."""
    path = os.path.join(folder, obj["filename"])
    with open(path, "wb") as f:
        f.write(base64.b64decode(obj["filedata"], validate=True))
    return path


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for(pred, timeout=5.0, what="condition"):
    deadline = time.monotonic() + scaled(timeout)
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def ping_cmd(port, host="127.0.0.1", *args):
    return [PING_BIN, "-p", str(port)] + list(args) + [host]


def run_ping(port, *args, host="127.0.0.1", timeout=30):
    return subprocess.run(ping_cmd(port, host, *args), capture_output=True,
                          text=True, timeout=scaled(timeout))


SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received"
                     r"(?:, \+(\d+) late)?(?:, \+(\d+) duplicates)?, "
                     r"([\d.e+-]+)% packet loss, time (\d+)ms")
RTT = re.compile(r"rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/"
                 r"([\d.]+) ms")
REPLY = re.compile(r"^reply from \S+: seq=(\d+) time=([\d.]+) ms$", re.M)


class LabTest(ServerTest):
    """Starts the daemon with the lab's services on sockets bound here."""

    def lab(self, services=("ping", "daytime", "transfer"), ini="",
            args=(), ping_host="127.0.0.1", **kw):
        socks = [("http", tcp_listener())]
        ports = {}
        for name in services:
            s = udp_socket(ping_host) if name == "ping" else tcp_listener()
            socks.append((name, s))
            ports[name] = s.getsockname()[1]
        enable = "".join("[%s]\nenable = on\n" % n for n in services)
        srv = self.serve(list(args), ini=enable + ini, sockets=socks, **kw)
        srv.lab = ports
        return srv


class Ping(LabTest):
    def test_reply_is_the_payload_upper_cased_from_the_port_asked(self):
        srv = self.lab(("ping",))
        port = srv.lab["ping"]
        reply, src = ask(port, b"Ping 1 hello, World 42 \xc3\xa9t\xc3\xa9")
        self.assertEqual(reply, b"PING 1 HELLO, WORLD 42 \xc3\xa9T\xc3\xa9")
        self.assertEqual(src, ("127.0.0.1", port))
        # Not the lab's format: still answered, byte for byte.
        reply, _ = ask(port, b"\x00abc\xffxyz")
        self.assertEqual(reply, b"\x00ABC\xffXYZ")

    def test_payloads_over_1_kib_get_no_reply(self):
        srv = self.lab(("ping",))
        port = srv.lab["ping"]
        reply, _ = ask(port, b"p" * 1024)
        self.assertEqual(reply, b"P" * 1024)
        self.assertIsNone(ask(port, b"p" * 1025, timeout=0.5))
        self.assertIsNone(ask(port, b"p" * 9000, timeout=0.5))
        # Still alive.
        self.assertEqual(ask(port, b"ok")[0], b"OK")

    def test_nothing_to_upper_case_gets_no_reply(self):
        """A reply equal to its request could bounce between two
        responders for ever; such datagrams are not answered."""
        srv = self.lab(("ping",))
        port = srv.lab["ping"]
        self.assertIsNone(ask(port, b"PING 1 ALREADY UPPER", timeout=0.5))
        self.assertIsNone(ask(port, b"", timeout=0.5))
        self.assertIsNotNone(ask(port, b"Ping 2 x"))

    def burst(self, port, n, bind="127.0.0.1"):
        """n datagrams as fast as possible; returns the replies and the
        seconds from the first datagram to the last reply, the longest
        the buckets could have been refilling while answering."""
        s = udp_client(bind=bind)
        self.addCleanup(s.close)
        t0 = time.monotonic()
        for i in range(n):
            s.sendto(b"Ping %d burst" % i, ("127.0.0.1", port))
        got, last = collect(s)
        return got, (last or time.monotonic()) - t0

    def test_rate_limit_per_source_holds(self):
        srv = self.lab(("ping",))
        port = srv.lab["ping"]
        got, secs = self.burst(port, 500)
        # A full bucket (50) plus what 50/s refills while the burst lasts.
        print("\nping burst: 500 datagrams, %d replies within %.3f s"
              % (len(got), secs))
        self.assertGreaterEqual(len(got), 45)
        self.assertLessEqual(len(got), 50 + 50 * secs + 5)
        for r in got:
            self.assertTrue(r.startswith(b"PING ") and r.endswith(b"BURST"))
        # Another source has a bucket of its own.
        reply = ask(port, b"Ping 1 other", bind="127.0.0.2")
        self.assertIsNotNone(reply)
        self.assertEqual(reply[0], b"PING 1 OTHER")

    def test_total_rate_limit_holds(self):
        srv = self.lab(("ping",), ini="[ping]\nrate_per_source = 1000\n"
                       "rate_total = 30\n")
        got, secs = self.burst(srv.lab["ping"], 300)
        self.assertGreaterEqual(len(got), 25)
        self.assertLessEqual(len(got), 30 + 30 * secs + 3)

    def check_reply_addresses(self, port):
        # Asked on 127.0.0.2, the answer comes from 127.0.0.2, not from
        # the address the routing table would pick.
        reply, src = ask(port, b"Ping 1 v4", host="127.0.0.2",
                         bind="127.0.0.1")
        self.assertEqual((reply, src), (b"PING 1 V4", ("127.0.0.2", port)))
        reply, src = ask(port, b"Ping 2 v4", host="127.0.0.1")
        self.assertEqual(src, ("127.0.0.1", port))
        if HAVE_IPV6:
            reply, src = ask(port, b"Ping 3 v6", host="::1")
            self.assertEqual(reply, b"PING 3 V6")
            self.assertEqual(src[:2], ("::1", port))

    @unittest.skipUnless(HAVE_IPV6, "no IPv6")
    def test_dual_stack_socket_answers_from_the_address_asked(self):
        srv = self.lab(("ping",), ping_host="::")
        self.check_reply_addresses(srv.lab["ping"])

    def test_daemon_bound_wildcard_answers_from_the_address_asked(self):
        srv = self.serve(ini="[server]\nlisten = 127.0.0.1:0\n"
                         "[ping]\nenable = on\nlisten = *:0\n",
                         activate=False)
        m = re.search(r"listening on ping://(\[::\]|0\.0\.0\.0):(\d+)/",
                      srv.stderr())
        self.assertIsNotNone(m, srv.stderr())
        self.check_reply_addresses(int(m.group(2)))

    def test_answers_while_accepting_pauses(self):
        """A datagram holds no connection: max_connections reached does
        not silence the responder."""
        srv = self.lab(("ping",), ini="[server]\nmax_connections = 1\n")
        c = self.connect(srv.port)
        self.assertEqual(c.request("GET", "/none").status, 404)
        self.assertEqual(ask(srv.lab["ping"], b"Ping 1 busy")[0],
                         b"PING 1 BUSY")

    def test_reload_keeps_it_and_shutdown_closes_it(self):
        ini_path = os.path.join(self.root, "..", os.path.basename(self.root)
                                + ".ini")
        self.addCleanup(lambda: os.path.exists(ini_path)
                        and os.unlink(ini_path))

        def write_ini(ping_on):
            with open(ini_path + ".new", "w") as f:
                f.write("[server]\nlisten = 127.0.0.1:0\n[ping]\n"
                        "enable = %s\nlisten = 127.0.0.1:0\n"
                        % ("on" if ping_on else "off"))
            os.replace(ini_path + ".new", ini_path)

        write_ini(True)
        srv = self.serve(["-c", ini_path], activate=False)
        m = re.search(r"listening on ping://127\.0\.0\.1:(\d+)/",
                      srv.stderr())
        port = int(m.group(1))
        self.assertIsNotNone(ask(port, b"Ping 1 before"))
        srv.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in srv.stderr(),
                 what="reload")
        # The same socket, still answering.
        self.assertEqual(ask(port, b"Ping 2 after")[0], b"PING 2 AFTER")
        self.assertNotIn("stopped listening on ping", srv.stderr())
        # Turned off by a reload: closed.
        write_ini(False)
        srv.signal(signal.SIGHUP)
        wait_for(lambda: "stopped listening on ping://" in srv.stderr(),
                 what="the ping listener to close")
        self.assertIsNone(ask(port, b"Ping 3 off", timeout=0.5))
        # On again, then a shutdown closes it.
        write_ini(True)
        srv.signal(signal.SIGHUP)
        # The event thread applies the new listeners after the reload.
        listening = re.compile(r"\[info\] listening on ping://"
                               r"127\.0\.0\.1:(\d+)/")
        wait_for(lambda: len(listening.findall(srv.stderr())) == 2,
                 what="the ping listener to reopen")
        port = int(listening.findall(srv.stderr())[-1])
        self.assertIsNotNone(ask(port, b"Ping 4 on"))
        srv.stop()
        self.servers.remove(srv)
        self.assertIsNone(ask(port, b"Ping 5 stopped", timeout=0.5))


class PingClient(LabTest):
    def test_replies_are_matched_and_summed_up(self):
        srv = self.lab(("ping",))
        r = run_ping(srv.lab["ping"], "-c", "3", "-i", "0.05")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([int(m.group(1)) for m in REPLY.finditer(r.stdout)],
                         [1, 2, 3])
        m = SUMMARY.search(r.stdout)
        self.assertEqual(m.group(1, 2, 5), ("3", "3", "0"))
        self.assertIsNotNone(RTT.search(r.stdout))
        self.assertTrue(r.stdout.startswith("PING 127.0.0.1 (127.0.0.1) port"))

    def test_names_and_ipv6(self):
        srv = self.lab(("ping",), ping_host="::" if HAVE_IPV6 else
                       "127.0.0.1")
        hosts = ["localhost", "127.0.0.1"] + (["::1"] if HAVE_IPV6 else [])
        for host in hosts:
            r = run_ping(srv.lab["ping"], "-c", "2", "-i", "0.05", host=host)
            self.assertEqual(r.returncode, 0, host + r.stdout + r.stderr)
            self.assertEqual(len(REPLY.findall(r.stdout)), 2, host)

    def test_summary_when_the_responder_stops_mid_run(self):
        srv = self.lab(("ping",))
        p = subprocess.Popen(ping_cmd(srv.lab["ping"], "127.0.0.1", "-c",
                                      "10", "-i", "0.25", "-W", "0.2"),
                             stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        lines = []
        while len(REPLY.findall("".join(lines))) < 3:
            line = p.stdout.readline()
            self.assertTrue(line, "the client ended early: %r" % lines)
            lines.append(line)
        srv.stop()
        self.servers.remove(srv)
        out, _ = p.communicate(timeout=scaled(20))
        out = "".join(lines) + out
        self.assertEqual(p.returncode, 0, out)
        times = [float(t) for _, t in REPLY.findall(out)]
        n = len(times)
        self.assertGreaterEqual(n, 3)
        self.assertLess(n, 10)
        self.assertEqual(len(re.findall(r"^seq=\d+ Request timed out",
                                        out, re.M)), 10 - n)
        m = SUMMARY.search(out)
        self.assertEqual((int(m.group(1)), int(m.group(2))), (10, n))
        self.assertAlmostEqual(float(m.group(5)), (10 - n) * 10.0)
        mn, avg, mx, _ = (float(x) for x in RTT.search(out).groups())
        self.assertAlmostEqual(mn, min(times), delta=0.0011)
        self.assertAlmostEqual(mx, max(times), delta=0.0011)
        self.assertAlmostEqual(avg, sum(times) / n, delta=0.0011)
        print("\nresponder stopped after %d of 10 replies: %s"
              % (n, m.group(0)))

    def test_no_responder_means_exit_1(self):
        s = udp_socket()
        port = s.getsockname()[1]
        s.close()
        r = run_ping(port, "-c", "2", "-i", "0.1", "-W", "0.2")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("2 packets transmitted, 0 received, 100% packet loss",
                      r.stdout)
        self.assertEqual(len(re.findall("Request timed out", r.stdout)), 2)
        self.assertIsNone(RTT.search(r.stdout))

    def test_late_and_duplicate_replies_are_not_taken_for_the_current(self):
        """A fake responder: seq 2 answered late, seq 3 twice and after a
        wrong reply, seq 1 and 4 normally."""
        s = udp_socket()
        self.addCleanup(s.close)
        s.settimeout(scaled(10))
        delay = scaled(0.35)

        def responder():
            try:
                for _ in range(4):
                    data, peer = s.recvfrom(4096)
                    seq = int(data.split()[1])
                    if seq == 2:
                        time.sleep(delay)
                    if seq == 3:
                        s.sendto(b"PING 3 not what was sent", peer)
                        s.sendto(data.upper(), peer)
                    s.sendto(data.upper(), peer)
            except (OSError, ValueError, IndexError):
                pass

        t = threading.Thread(target=responder)
        t.start()
        r = run_ping(s.getsockname()[1], "-c", "4", "-i", str(scaled(0.8)),
                     "-W", str(scaled(0.15)))
        t.join(scaled(10))
        out = r.stdout
        self.assertEqual(r.returncode, 0, out)
        self.assertEqual([int(m.group(1)) for m in REPLY.finditer(out)],
                         [1, 3, 4])
        self.assertRegex(out, r"(?m)^seq=2 Request timed out$")
        self.assertRegex(out, r"(?m)^reply from 127\.0\.0\.1: seq=2 time="
                         r"[\d.]+ ms \(late\)$")
        self.assertRegex(out, r"(?m)^reply from 127\.0\.0\.1: seq=3 "
                         r"\(DUP!\)$")
        self.assertIn("not a reply to this ping", out)
        m = SUMMARY.search(out)
        self.assertEqual(m.group(1, 2, 3, 4, 5), ("4", "3", "1", "1", "25"))

    def test_ctrl_c_prints_the_summary(self):
        srv = self.lab(("ping",))
        p = subprocess.Popen(ping_cmd(srv.lab["ping"], "127.0.0.1", "-c",
                                      "0", "-i", "0.1"),
                             stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        got = 0
        while got < 2:
            line = p.stdout.readline()
            self.assertTrue(line)
            got += bool(REPLY.match(line.strip()))
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=scaled(10))
        self.assertEqual(p.returncode, 0)
        m = SUMMARY.search(out)
        self.assertIsNotNone(m, out)
        self.assertGreaterEqual(int(m.group(2)), 2)

    def test_usage_errors_exit_2(self):
        for args in ([], ["-c", "x", "h"], ["-c", "-1", "h"],
                     ["-p", "0", "h"], ["-p", "70000", "h"],
                     ["-i", "0", "h"], ["-W", "abc", "h"],
                     ["-s", "70000", "h"], ["-q", "h"], ["a", "b"],
                     ["no-such-host.invalid"]):
            r = subprocess.run([PING_BIN] + args, capture_output=True,
                               text=True, timeout=scaled(20))
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr, args)
        r = subprocess.run([PING_BIN, "-h"], capture_output=True, text=True,
                           timeout=scaled(10))
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: lanhttpd-ping", r.stdout)


DAYTIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) "
                     r"([+-]\d{4})\r\n$")


def daytime(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=scaled(timeout))
    data = bytearray()
    try:
        for _ in range(100):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data.decode()


class Daytime(LabTest):
    def check_line(self, line, offset=None):
        m = DAYTIME.match(line)
        self.assertIsNotNone(m, repr(line))
        when = datetime.datetime.strptime(m.group(1) + " " + m.group(2),
                                          "%Y-%m-%d %H:%M:%S.%f %z")
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - when).total_seconds()), 2.0, line)
        if offset is not None:
            self.assertEqual(m.group(2), offset)

    def test_one_line_of_local_time_then_close(self):
        srv = self.lab(("daytime",))
        self.check_line(daytime(srv.lab["daytime"]))

    def test_time_zone_offset(self):
        srv = self.lab(("daytime",), env={"TZ": "Asia/Shanghai"})
        self.check_line(daytime(srv.lab["daytime"]), "+0800")

    def test_counts_toward_max_connections(self):
        srv = self.lab(("daytime",), ini="[server]\nmax_connections = 1\n")
        held = self.connect(srv.port)
        self.assertEqual(held.request("GET", "/none").status, 404)
        s = socket.create_connection(("127.0.0.1", srv.lab["daytime"]),
                                     timeout=scaled(5))
        self.addCleanup(s.close)
        # Not answered while the one connection allowed is open (well
        # before the server would start refusing connections outright).
        s.settimeout(0.4)
        with self.assertRaises(socket.timeout):
            s.recv(100)
        held.close()
        s.settimeout(scaled(5))
        self.check_line(s.recv(100).decode())


class Transfer(LabTest):
    def transfer(self, name="guido.jpg", ini="", args=(), **kw):
        return self.lab(("transfer",), ini="[transfer]\nfile = %s\n" % name
                        + ini, args=args, **kw)

    def replace(self, name, data):
        path = os.path.join(self.root, name)
        with open(path + ".new", "wb") as f:
            f.write(data)
        os.replace(path + ".new", path)

    def test_lab_client_gets_identical_files_of_any_size(self):
        """0, 1, 2, 3 bytes and 5 MiB; the file is opened per client, so
        replacing it on disk takes effect for the next one."""
        out = os.path.join(self.root, "..", os.path.basename(self.root)
                           + "-out")
        os.makedirs(out)
        self.addCleanup(shutil.rmtree, out, True)
        self.replace("guido.jpg", b"")
        srv = self.transfer()
        for data in (b"", b"\x00", b"\xff\xfe", b"abc",
                     os.urandom(5 * 1024 * 1024)):
            self.replace("guido.jpg", data)
            obj, raw = lab_client(srv.lab["transfer"])
            self.assertEqual(set(obj), {"filename", "filedata"})
            self.assertEqual(obj["filename"], "guido.jpg")
            self.assertEqual(obj["filedata"],
                             base64.b64encode(data).decode())
            self.assertNotIn(b"\n", raw)
            self.assertTrue(raw.startswith(b'{"filename": "guido.jpg", '
                                           b'"filedata": "'))
            self.assertTrue(raw.endswith(b'"}'))
            self.assertEqual(read_file(lab_save(obj, out)), data)

    def test_fifty_concurrent_clients_with_two_threads(self):
        data = os.urandom(300 * 1024)
        self.replace("guido.jpg", data)
        srv = self.transfer(args=["-t", "2", "-s", "log.access_log=off"])
        results, errors = [], []

        def client():
            try:
                obj, _ = lab_client(srv.lab["transfer"])
                results.append(base64.b64decode(obj["filedata"]) == data)
            except Exception as e:      # noqa: BLE001
                errors.append(repr(e))

        t0 = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(60))
        secs = time.monotonic() - t0
        self.assertEqual(errors, [])
        self.assertEqual(results, [True] * 50)
        print("\n50 concurrent 300 KiB transfers, 2 threads: %.2f s" % secs)

    def stalled_client(self, port):
        """Connects with a tiny receive buffer and never reads."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(scaled(10))
        s.connect(("127.0.0.1", port))
        self.addCleanup(s.close)
        return s

    def test_client_that_never_reads_does_not_stop_the_others(self):
        data = os.urandom(5 * 1024 * 1024)
        self.replace("guido.jpg", data)
        srv = self.transfer(args=["-t", "1"])
        stalled = [self.stalled_client(srv.lab["transfer"])
                   for _ in range(3)]
        time.sleep(0.3)
        # One worker, three stalled clients: each must have been parked.
        for _ in range(3):
            obj, _ = lab_client(srv.lab["transfer"], timeout=10)
            self.assertEqual(base64.b64decode(obj["filedata"]), data)
        # The stalled ones still get everything once they read.
        for s in stalled:
            raw = bytearray()
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                raw += chunk
            self.assertEqual(base64.b64decode(json.loads(raw)["filedata"]),
                             data)

    def test_send_timeout_drops_a_stalled_client(self):
        data = os.urandom(5 * 1024 * 1024)
        self.replace("guido.jpg", data)
        srv = self.transfer(ini="[server]\nsend_timeout = 1s\n")
        self.stalled_client(srv.lab["transfer"])
        line = re.compile(r'^127\.0\.0\.1 - - \[[^]]+\] "TRANSFER /guido\.jpg"'
                          r' 200 (\d+) "-" "-"$', re.M)
        wait_for(lambda: line.search(srv.stderr()), timeout=10,
                 what="the aborted transfer's log line")
        sent = int(line.search(srv.stderr()).group(1))
        self.assertGreater(sent, 0)
        self.assertLess(sent, len(base64.b64encode(data)))

    def test_missing_file_gives_a_json_error(self):
        srv = self.transfer()
        obj, raw = lab_client(srv.lab["transfer"])
        self.assertEqual(obj, {"error": "file not found"})
        self.assertEqual(raw, b'{"error": "file not found"}')
        err = srv.stderr()
        self.assertIn("transfer: cannot send 'guido.jpg': file not found",
                      err)
        wait_for(lambda: re.search(r'"TRANSFER /guido\.jpg" 404 27 ',
                                   srv.stderr()), what="access log")
        # Put in place, the next client gets it.
        self.replace("guido.jpg", b"now here")
        obj, _ = lab_client(srv.lab["transfer"])
        self.assertEqual(base64.b64decode(obj["filedata"]), b"now here")

    def test_file_over_max_size_gives_a_json_error(self):
        self.replace("guido.jpg", b"x" * 2048)
        srv = self.transfer(ini="max_size = 1k\n")
        obj, _ = lab_client(srv.lab["transfer"])
        self.assertEqual(obj, {"error": "file too large"})
        self.assertIn("file too large (2048 bytes, max_size 1024)",
                      srv.stderr())

    def test_directory_gives_a_json_error(self):
        os.makedirs(os.path.join(self.root, "guido.jpg"))
        srv = self.transfer()
        obj, _ = lab_client(srv.lab["transfer"])
        self.assertEqual(obj, {"error": "not a regular file"})

    def test_name_with_quotes_and_chinese_round_trips(self):
        name = 'say "你好" \\ 文件\t1.bin'
        data = os.urandom(1000)
        self.replace(name, data)
        srv = self.lab(("transfer",), args=["-s", "transfer.file=" + name])
        obj, raw = lab_client(srv.lab["transfer"])
        self.assertEqual(obj["filename"], name)
        # UTF-8 as UTF-8; quote, backslash and tab escaped.
        self.assertIn('"filename": "say \\"你好\\" \\\\ 文件\\t1.bin"'
                      .encode(), raw)
        self.assertEqual(base64.b64decode(obj["filedata"]), data)

    def test_access_log_has_client_status_and_bytes(self):
        os.makedirs(os.path.join(self.root, "pics"))
        self.replace("pics/guido.jpg", os.urandom(100000))
        srv = self.transfer("/pics/guido.jpg")
        obj, raw = lab_client(srv.lab["transfer"])
        self.assertEqual(obj["filename"], "guido.jpg")
        line = re.compile(r'^127\.0\.0\.1 - - \[[^]]+\] "TRANSFER '
                          r'/pics/guido\.jpg" 200 (\d+) "-" "-"$', re.M)
        wait_for(lambda: line.search(srv.stderr()), what="access log")
        self.assertEqual(int(line.search(srv.stderr()).group(1)), len(raw))

    def test_symlink_out_of_the_root_is_refused(self):
        os.symlink("/etc/passwd", os.path.join(self.root, "guido.jpg"))
        srv = self.transfer()
        obj, _ = lab_client(srv.lab["transfer"])
        self.assertEqual(obj, {"error": "permission denied"})

    def test_reload_keeps_the_listener(self):
        self.replace("guido.jpg", b"one")
        srv = self.transfer()
        srv.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in srv.stderr(),
                 what="reload")
        obj, _ = lab_client(srv.lab["transfer"])
        self.assertEqual(base64.b64decode(obj["filedata"]), b"one")


class CheckConfig(LabTest):
    def check(self, ini, *args):
        path = os.path.join(self.root, "..", os.path.basename(self.root)
                            + ".ini")
        with open(path, "w") as f:
            f.write(ini)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return subprocess.run([BIN, "--check-config", "-c", path, "-r",
                               self.root] + list(args), capture_output=True,
                              text=True, timeout=scaled(20))

    def test_transfer_file_is_checked(self):
        ini = "[transfer]\nenable = on\nfile = guido.jpg\nmax_size = 1k\n"
        r = self.check(ini)
        self.assertEqual(r.returncode, 1)
        self.assertIn("[transfer] file 'guido.jpg': file not found", r.stderr)
        os.makedirs(os.path.join(self.root, "guido.jpg"))
        r = self.check(ini)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a regular file", r.stderr)
        os.rmdir(os.path.join(self.root, "guido.jpg"))
        with open(os.path.join(self.root, "guido.jpg"), "wb") as f:
            f.write(b"x" * 1025)
        r = self.check(ini)
        self.assertEqual(r.returncode, 1)
        self.assertIn("file too large (1025 bytes, max_size 1024)", r.stderr)
        r = self.check(ini.replace("1k", "2k"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_values_name_file_and_line(self):
        r = self.check("[transfer]\nenable = on\nfile = ../x\n"
                       "[ping]\nrate_total = none\n")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"\.ini:3: \[transfer\] file: leads out "
                         r"of the root \(got '\.\./x'\)")
        self.assertRegex(r.stderr, r"\.ini:5: \[ping\] rate_total: expected")


class Activation(LabTest):
    def test_socket_type_must_match_its_name(self):
        s = Server(self.root, sockets=[("http", tcp_listener()),
                                       ("transfer", udp_socket())],
                   ini="[transfer]\nenable = on\nfile = x\n")
        with self.assertRaises(AssertionError):
            s.start()
        self.assertIn("is not a listening socket, as its name 'transfer' "
                      "asks", s.stderr())
        s.stop(check=False)

    def test_socket_of_a_service_that_is_off_is_closed(self):
        u = udp_socket()
        port = u.getsockname()[1]
        srv = self.serve(sockets=[("http", tcp_listener()), ("ping", u)])
        self.assertIn("closing the 'ping' socket", srv.stderr())
        self.assertIsNone(ask(port, b"Ping 1 off", timeout=0.3))
        self.assertEqual(get(srv.port, "/none").status, 404)

    def test_every_service_on_its_named_socket(self):
        self.write("guido.jpg", b"lab")
        srv = self.lab(ini="[transfer]\nfile = guido.jpg\n")
        err = srv.stderr()
        for name in ("http", "ping", "daytime", "transfer"):
            self.assertRegex(err, r"listening on %s://127\.0\.0\.1:\d+/ "
                             r"\(socket activation\)" % name)
        self.assertEqual(get(srv.port, "/guido.jpg").body, b"lab")
        self.assertEqual(ask(srv.lab["ping"], b"Ping 1 x")[0], b"PING 1 X")
        self.assertRegex(daytime(srv.lab["daytime"]), DAYTIME)
        obj, _ = lab_client(srv.lab["transfer"])
        self.assertEqual(base64.b64decode(obj["filedata"]), b"lab")


class Shedding(LabTest):
    def test_overload_refusal_speaks_each_protocol(self):
        """Past a second at max_connections, new clients are refused at
        once: HTTP with a 503, a transfer with its JSON error, daytime by
        closing."""
        self.write("guido.jpg", b"lab")
        srv = self.lab(("daytime", "transfer"),
                       ini="[server]\nmax_connections = 1\n"
                       "[transfer]\nfile = guido.jpg\n")
        held = self.connect(srv.port)
        self.assertEqual(held.request("GET", "/none").status, 404)
        time.sleep(1.2)
        obj, _ = lab_client(srv.lab["transfer"], timeout=10)
        self.assertEqual(obj, {"error": "server busy"})
        self.assertEqual(daytime(srv.lab["daytime"], timeout=10), "")
        r = get(srv.port, "/")
        self.assertEqual(r.status, 503)
        wait_for(lambda: re.search(r'"TRANSFER" 503 0 ', srv.stderr()),
                 what="access log")


if __name__ == "__main__":
    unittest.main()
