#!/usr/bin/env python3
"""Measures the lab's services on loopback (not a test: prints figures).

  python3 tests/bench/lab_bench.py [--seconds 10] [--clients 50]
      [--size-kib 300] [--threads 0] [--pings 100] [--interval 0.05]

Starts build/lanhttpd with the transfer service serving a random file of
--size-kib and the ping responder, then:
  - runs build/lanhttpd-ping -c --pings -i --interval and prints its
    summary (RTT on loopback);
  - keeps --clients transfer clients busy for --seconds (each connects,
    reads to EOF and checks the length; every 50th reply is decoded and
    compared), and prints transfers per second, MB/s of JSON, and the
    daemon's peak RSS (VmHWM) before and after.
Clients run in 5 processes, so the Python side is not one core.  All
traffic is on 127.0.0.1.
"""

import argparse
import base64
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("LANHTTPD_BIN", os.path.join(REPO, "build", "lanhttpd"))
PING = os.environ.get("LANHTTPD_PING_BIN",
                      os.path.join(REPO, "build", "lanhttpd-ping"))


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def client_proc(port, nthreads, seconds, want_len, data_path, out):
    with open(data_path, "rb") as f:
        data = f.read()
    counts = [0] * nthreads
    errors = []
    stop = time.monotonic() + seconds

    def loop(i):
        n = 0
        while time.monotonic() < stop:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                buf = bytearray()
                while True:
                    chunk = s.recv(1 << 18)
                    if not chunk:
                        break
                    buf += chunk
                s.close()
                if len(buf) != want_len:
                    errors.append("length %d" % len(buf))
                elif n % 50 == 0 and base64.b64decode(
                        json.loads(buf)["filedata"]) != data:
                    errors.append("content")
                n += 1
            except OSError as e:
                errors.append(repr(e))
        counts[i] = n

    threads = [threading.Thread(target=loop, args=(i,))
               for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((sum(counts), errors[:5]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--size-kib", type=int, default=300)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--pings", type=int, default=100)
    ap.add_argument("--interval", type=float, default=0.05)
    a = ap.parse_args()

    root = tempfile.mkdtemp(prefix="lanhttpd-bench-")
    data = os.urandom(a.size_kib * 1024)
    path = os.path.join(root, "guido.jpg")
    with open(path, "wb") as f:
        f.write(data)
    want = len(json.dumps({"filename": "guido.jpg",
                           "filedata": base64.b64encode(data).decode()}))
    args = [BIN, "-t", str(a.threads), "-l", "127.0.0.1:0",
            "-s", "log.access_log=off", "-s", "ping.enable=on",
            "-s", "ping.listen=127.0.0.1:0", "-s", "transfer.enable=on",
            "-s", "transfer.listen=127.0.0.1:0",
            "-s", "transfer.file=guido.jpg", root]
    if os.geteuid() == 0:
        args[1:1] = ["-s", "allow_root=on"]
    err = tempfile.TemporaryFile()
    srv = subprocess.Popen(args, stderr=err, stdout=subprocess.DEVNULL)
    try:
        ports = {}
        for _ in range(500):
            err.seek(0)
            text = err.read().decode()
            ports = dict(re.findall(r"listening on (\w+)://127\.0\.0\.1:"
                                    r"(\d+)/", text))
            if "started" in text:
                break
            time.sleep(0.01)
        r = subprocess.run([PING, "-p", ports["ping"], "-c", str(a.pings),
                            "-i", str(a.interval), "-W", "1", "127.0.0.1"],
                           capture_output=True, text=True, timeout=600)
        print("$ lanhttpd-ping -c %d -i %g -W 1 127.0.0.1" % (a.pings,
                                                              a.interval))
        print("\n".join(r.stdout.strip().splitlines()[-3:]))

        print("\nidle daemon: VmRSS %d KiB, VmHWM %d KiB"
              % (vm(srv.pid, "VmRSS"), vm(srv.pid, "VmHWM")))
        nproc = 5
        per = [a.clients // nproc + (i < a.clients % nproc)
               for i in range(nproc)]
        q = multiprocessing.Queue()
        procs = [multiprocessing.Process(
            target=client_proc, args=(int(ports["transfer"]), n, a.seconds,
                                      want, path, q)) for n in per if n]
        t0 = time.monotonic()
        for p in procs:
            p.start()
        peak = 0
        while any(p.is_alive() for p in procs):
            peak = max(peak, vm(srv.pid, "VmRSS"))
            time.sleep(0.1)
        secs = time.monotonic() - t0
        total, errors = 0, []
        for _ in procs:
            n, e = q.get(timeout=10)
            total += n
            errors += e
        for p in procs:
            p.join()
        print("%d clients, %d KiB file (%d bytes of JSON), %.1f s: "
              "%d transfers, %.0f transfers/s, %.0f MB/s, errors: %s"
              % (a.clients, a.size_kib, want, secs, total, total / secs,
                 total * want / secs / 1e6, errors or "none"))
        print("daemon under load: VmRSS peak seen %d KiB, VmHWM %d KiB"
              % (peak, vm(srv.pid, "VmHWM")))
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=30)
        shutil.rmtree(root, True)


if __name__ == "__main__":
    main()
