#!/usr/bin/python3
"""post.py - send pre-signed bodies (presign.py) to POST /api/v1/events,
one keep-alive connection per lane file, lanes in parallel, and report

    <accepted> <rejected> <seconds> <accepted per second>

Timing covers the requests only (the files are read before).  Exit 1 if
anything was rejected or a request failed: the bench then says so instead
of printing a rate made of errors.
"""
import http.client
import json
import sys
import threading
import time


def lane(host, port, bodies, out):
    conn = http.client.HTTPConnection(host, port, timeout=120)
    accepted = rejected = 0
    first_error = None
    for body in bodies:
        conn.request("POST", "/api/v1/events", body,
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if body.startswith(b"["):
            if r.status != 200:
                rejected += body.count(b'"payloadType"')
                first_error = first_error or data[:300]
                continue
            for item in json.loads(data)["results"]:
                if item.get("status") == 201:
                    accepted += 1
                else:
                    rejected += 1
                    first_error = first_error or json.dumps(item)[:300]
        elif r.status == 201:
            accepted += 1
        else:
            rejected += 1
            first_error = first_error or data[:300]
    conn.close()
    out.append((accepted, rejected, first_error))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: post.py HOST:PORT FILE...")
    host, port = sys.argv[1].rsplit(":", 1)
    lanes = []
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            lanes.append([line.rstrip(b"\n") for line in f if line.strip()])
    results = []
    threads = [threading.Thread(target=lane, args=(host, int(port), b, results))
               for b in lanes]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    accepted = sum(r[0] for r in results)
    rejected = sum(r[1] for r in results)
    print("%d %d %.3f %.1f" % (accepted, rejected, elapsed, accepted / elapsed))
    for r in results:
        if r[2]:
            print("post.py: first rejection: %s" % r[2], file=sys.stderr)
            break
    sys.exit(0 if rejected == 0 and len(results) == len(lanes) else 1)


if __name__ == "__main__":
    main()
