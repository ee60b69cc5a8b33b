#!/usr/bin/python3
"""abuse.py HOST:PORT PAGE_PATH ENVELOPES SECONDS - SPEC 7 "Abuse" as a
bench figure: while 16 idle keep-alive connections, 8 open recall streams
and a flood of unit pages with invented serials (and invented lots) hold
the server, probe /healthz, a unit page and an ingest (one pre-signed
envelope of a new chain per probe, from ENVELOPES, one per line) every
0.1 s for SECONDS, each on a fresh connection, and print

  BENCH probes=N healthz_p50=MS healthz_max=MS page_p50=MS page_max=MS
        ingest_p50=MS ingest_max=MS failed=N flood=N streams=N idle=N

The abusers connect from 127.0.0.2 and up (loopback is 127.0.0.0/8):
trace-server treats 127.0.0.1 as the proxy beside it and exempts it from
its per-address rules, so the probes come from there and the abuse does
not.  Exit status 0 unless the bench itself broke.
"""
import http.client
import random
import socket
import sys
import threading
import time


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    port = int(port)
    page, envelopes, seconds = sys.argv[2], sys.argv[3], float(sys.argv[4])
    bodies = open(envelopes, "rb").read().splitlines()
    stop = threading.Event()
    held = []

    # 16 idle keep-alive connections: one request each, then silence.
    idle = 0
    for _ in range(16):
        s = socket.create_connection((host, port), timeout=10, source_address=("127.0.0.2", 0))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n")
        s.recv(4096)
        held.append(s)
        idle += 1
    # 8 recall streams, from 8 addresses.
    streams = 0
    for i in range(8):
        s = socket.create_connection((host, port), timeout=10,
                                     source_address=("127.0.0.%d" % (3 + i), 0))
        s.sendall(b"GET /api/v1/recalls/stream HTTP/1.1\r\nHost: b\r\n\r\n")
        if s.recv(64).startswith(b"HTTP/1.1 200"):
            streams += 1
        held.append(s)
    flood = [0]

    def flooder(source):
        while not stop.is_set():
            try:
                c = http.client.HTTPConnection(host, port, timeout=10, source_address=(source, 0))
                for _ in range(100):
                    if stop.is_set():
                        break
                    lot = page if random.random() < 0.8 else page + "X%d" % random.randrange(10 ** 6)
                    c.request("GET", "%s/21/I%d" % (lot, random.randrange(10 ** 12)))
                    c.getresponse().read()
                    flood[0] += 1
                c.close()
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)

    threads = [threading.Thread(target=flooder, args=("127.0.0.%d" % (20 + i),)) for i in range(2)]
    for t in threads:
        t.start()
    times = {"healthz": [], "page": [], "ingest": []}
    failed, n, end = 0, 0, time.monotonic() + seconds
    time.sleep(0.5)
    while time.monotonic() < end and n < len(bodies):
        for name, method, path, body, want in (
                ("healthz", "GET", "/healthz", None, 200),
                ("page", "GET", "%s/21/PROBE%d" % (page, n), None, 200),
                ("ingest", "POST", "/api/v1/events", bodies[n], 201)):
            start = time.monotonic()
            try:
                c = http.client.HTTPConnection(host, port, timeout=30)
                c.request(method, path, body=body,
                          headers={"Content-Type": "application/json"} if body else {})
                status = c.getresponse().status
                c.close()
            except (OSError, http.client.HTTPException):
                status = 0
            times[name].append((time.monotonic() - start) * 1000)
            if status != want:
                failed += 1
        n += 1
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(15)
    for s in held:
        s.close()

    def p50(v):
        v = sorted(v)
        return v[len(v) // 2] if v else float("nan")

    print("BENCH probes=%d %s failed=%d flood=%d streams=%d idle=%d" % (
        n, " ".join("%s_p50=%.2f %s_max=%.2f" % (k, p50(v), k, max(v) if v else float("nan"))
                    for k, v in times.items()), failed, flood[0], streams, idle))


if __name__ == "__main__":
    main()
