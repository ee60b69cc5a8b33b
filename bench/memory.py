#!/usr/bin/python3
"""memory.py - where Trace's Redis memory goes, per stored event (SPEC 7).

    memory.py report --port PORT [--host H]
        Sums MEMORY USAGE (SAMPLES 0: every element counted) per key family
        of the Redis at PORT and prints one table: keys, elements, bytes and
        bytes per event of each family, then INFO used_memory,
        used_memory_dataset and mem_fragmentation_ratio.  "Per event" divides
        by the events stored (the `e` entries of the `ids` hash).

    memory.py bounded --port PORT [--host H]
        Prints the bytes of the bounded families alone (bench/run.sh
        reports them apart from the per-event figure).

    memory.py fill --build BUILD --leaves N [--keep DIR]
        Starts a private redis-server and trace-server like bench/run.sh
        (same flags, no witness policy), enrolls the bench keys, pre-signs
        N events as run.sh's fill does (bench/presign.py: 2 lanes of
        10-event chains, batches of 1,000 or --batch), posts them
        (bench/post.py),
        waits until the checkpoint covers every leaf, then prints the report
        above, and again after --settle seconds idle (70: past the grace
        of the lot index's undo records, log.c).  About 4 minutes at
        100,000 leaves on 2 cores.

Families split what grows with the events from what a bound keeps fixed:
the lot index's undo hashes (lx:nodes:undo:*) hold at most
INDEX_UNDO_RECORDS_MAX records (store.lua), whatever the log's size.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"

# (family, pattern): first match wins.  Bounded families say so.
FAMILIES = [
    ("chain lists c:{..}:ev", r"^c:\{.*\}:ev$"),
    ("scan counters c:{..}:scans (bounded)", r"^c:\{.*\}:scans$"),
    ("other chain keys c:{..}:*", r"^c:\{"),
    ("unit keys u:*", r"^u:"),
    ("ids hash", r"^ids$"),
    ("key log k:*", r"^k:"),
    ("log tree chunks t:*", r"^log:\{log\}:t:"),
    ("log id chunks ids:*", r"^log:\{log\}:ids:"),
    ("log pending", r"^log:\{log\}:pending$"),
    ("checkpoints hash", r"^log:\{log\}:checkpoints$"),
    ("lx:nodes", r"^log:\{log\}:lx:nodes$"),
    ("lx:nodes:undo:* (bounded)", r"^log:\{log\}:lx:nodes:undo:"),
    ("lx:versions (bounded)", r"^log:\{log\}:lx:versions$"),
    ("lx:st index statements", r"^log:\{log\}:lx:st$"),
    ("lx:times", r"^log:\{log\}:lx:times$"),
    ("other log keys", r"^log:"),
    ("recalls*", r"^recalls"),
    ("documents b:*, blobs:*", r"^(b:|blobs:)"),
    ("other", r""),
]
COMPILED = [(name, re.compile(p)) for name, p in FAMILIES]


def family(key):
    for name, rx in COMPILED:
        if rx.search(key):
            return name
    return "other"


def elements(r, key, kind):
    if kind == "hash":
        return r.hlen(key)
    if kind == "list":
        return r.llen(key)
    if kind == "zset":
        return r.zcard(key)
    if kind == "set":
        return r.scard(key)
    if kind == "stream":
        return r.xlen(key)
    return 1


def report(r, out=sys.stdout):
    sums = {}
    keys = list(r.scan_iter(count=1000))
    pipe = r.pipeline(transaction=False)
    for k in keys:
        pipe.execute_command("MEMORY", "USAGE", k, "SAMPLES", "0")
        pipe.type(k)
    res = pipe.execute()
    total = 0
    for i, k in enumerate(keys):
        usage, kind = res[2 * i] or 0, res[2 * i + 1].decode()
        name = family(k.decode("latin-1"))
        s = sums.setdefault(name, [0, 0, 0])
        s[0] += 1
        s[1] += elements(r, k, kind)
        s[2] += usage
        total += usage
    events = 0
    for _, v in r.hscan_iter("ids", count=10000):
        if v.startswith(b"e "):
            events += 1
    leaves = int(r.get("log:{log}:size") or 0)
    info = r.info("memory")
    per = max(events, 1)
    print("events %d, log leaves %d" % (events, leaves), file=out)
    print(file=out)
    print("| family | keys | elements | bytes | bytes per event |", file=out)
    print("|---|---|---|---|---|", file=out)
    for name, _ in FAMILIES:
        if name in sums:
            k, e, b = sums[name]
            print("| %s | %d | %d | %d | %.1f |" % (name, k, e, b, b / per), file=out)
    print("| **all keys (MEMORY USAGE)** | %d | | %d | %.1f |"
          % (len(keys), total, total / per), file=out)
    print(file=out)
    for f in ("used_memory", "used_memory_dataset", "used_memory_overhead"):
        print("%s %d (%.1f per event)" % (f, info[f], info[f] / per), file=out)
    print("mem_fragmentation_ratio %s, allocator_frag_ratio %s"
          % (info.get("mem_fragmentation_ratio"), info.get("allocator_frag_ratio")),
          file=out)
    return {"events": events, "leaves": leaves, "families": sums, "total": total,
            "used_memory": info["used_memory"]}


def summary(rep, env_avg):
    per = max(rep["events"], 1)
    bounded = sum(b for name, (_, _, b) in rep["families"].items() if "bounded" in name)
    print()
    print("envelope %.1f bytes; per event: all keys %.1f (%.2f x), without the bounded "
          "families (undo records, scan counters) %.1f (%.2f x); bounded part %d bytes"
          % (env_avg, rep["total"] / per, rep["total"] / per / env_avg,
             (rep["total"] - bounded) / per, (rep["total"] - bounded) / per / env_avg,
             bounded))


def bounded_bytes(r):
    """MEMORY USAGE of the bounded families, whatever the log's size: the
    lot index's undo hashes and their versions (store.lua, log.c
    index_prune), and the scan counters (per serial viewed, at most
    SCANS_SERIALS_MAX per lot: they grow with views, not with events)."""
    total = 0
    for pattern in (b"log:{log}:lx:nodes:undo:*", b"log:{log}:lx:versions",
                    b"c:{*}:scans"):
        for k in r.scan_iter(match=pattern, count=1000):
            total += r.execute_command("MEMORY", "USAGE", k, "SAMPLES", "0") or 0
    return total


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if cond():
                return
        except Exception:
            pass
        time.sleep(0.1)
    sys.exit("memory.py: %s did not happen within %d s" % (what, seconds))


def fill(args):
    build = os.path.abspath(args.build)
    work = args.keep or tempfile.mkdtemp(prefix="trace-memory.")
    os.makedirs(work, exist_ok=True)
    for d in ("redis", "keys", "queue", "data"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    procs = []
    try:
        rport = free_port()
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always",
             "--dir", os.path.join(work, "redis"),
             "--logfile", os.path.join(work, "redis.log")]))
        r = redis.Redis(port=rport)
        wait_for(r.ping, 10, "redis-server start")
        agent = [os.path.join(build, "trace-agent"), "--queue", os.path.join(work, "queue")]
        keys = os.path.join(work, "keys")
        for name in ("root", "log", "brand", "inspector", "logistics", "customs", "warehouse"):
            subprocess.run(agent + ["key", "gen", "--name", name, "--out", keys],
                           check=True, stdout=subprocess.DEVNULL)
        sport = free_port()
        url = "http://127.0.0.1:%d" % sport
        log = open(os.path.join(work, "server.log"), "w")
        procs.append(subprocess.Popen(
            [os.path.join(build, "trace-server"), "--listen", "127.0.0.1:%d" % sport,
             "--redis", "redis://127.0.0.1:%d" % rport,
             "--root-key", os.path.join(keys, "root.pub"),
             "--log-key", os.path.join(keys, "log.key"),
             "--log-state", os.path.join(work, "log-state"),
             "--log-origin", "bench/log", "--public-url", url], stderr=log))
        wait_for(lambda: urllib.request.urlopen(url + "/readyz").status == 200, 20,
                 "trace-server start")
        prefixes = []
        for d in "0123456789":
            prefixes += ["--gtin-prefix", d]
        roles = ["brand", "inspector", "logistics", "customs", "warehouse"]
        subprocess.run(agent + ["--server", url, "key", "org", "--admin",
                                os.path.join(keys, "root.key"), "--org", "bench",
                                "--name-zh", "基准测试", "--name-en", "Bench"]
                       + [a for role in roles for a in ("--role", role)] + prefixes,
                       check=True, stdout=subprocess.DEVNULL)
        for role in roles:
            subprocess.run(agent + ["--server", url, "key", "enroll", "--admin",
                                    os.path.join(keys, "root.key"), "--pub",
                                    os.path.join(keys, role + ".pub"), "--role", role,
                                    "--org", "bench"] + prefixes,
                           check=True, stdout=subprocess.DEVNULL)
        # as run.sh's fill: 2 lanes, 10-event chains, batches of 1,000
        chains = max(1, args.leaves // 20)
        data = os.path.join(work, "data")
        signers = [subprocess.Popen(
            [PY, os.path.join(HERE, "presign.py"), "--keys", keys, "--prefix", "F%d" % lane,
             "--lanes", "1", "--chains", str(chains), "--length", "10", "--batch", str(args.batch),
             "--out", os.path.join(data, "fill%d" % lane)], stdout=subprocess.PIPE)
            for lane in (0, 1)]
        sizes = [float(p.communicate()[0]) for p in signers]
        if any(p.returncode for p in signers):
            sys.exit("memory.py: presign failed")
        env_avg = sum(sizes) / len(sizes)
        before = r.info("memory")["used_memory"]
        ev_before = r.hlen("ids")
        out = subprocess.run([PY, os.path.join(HERE, "post.py"), "127.0.0.1:%d" % sport,
                              os.path.join(data, "fill0.0"), os.path.join(data, "fill1.0")],
                             capture_output=True, text=True)
        if out.returncode:
            sys.exit("memory.py: ingest rejected statements: %s %s" % (out.stdout, out.stderr))
        want = int(r.get("log:{log}:size"))

        def integrated():
            with urllib.request.urlopen(url + "/api/v1/checkpoint") as f:
                return int(f.read().decode().split("\n")[1]) >= want
        wait_for(integrated, 600, "integration of %d leaves" % want)
        time.sleep(1.5)    # the index statement of the last batch, if any
        wait_for(lambda: int(r.get("log:{log}:size")) == int(r.get("log:{log}:integrated")),
                 60, "integration of the last index statement")
        after = r.info("memory")["used_memory"]
        ev_after = r.hlen("ids")
        print("fill: %s events posted, average envelope %.1f bytes" % (out.stdout.split()[0],
                                                                     env_avg))
        print("used_memory delta over the fill: %d bytes per statement (%.2f x envelope)"
              % ((after - before) / (ev_after - ev_before),
                 (after - before) / (ev_after - ev_before) / env_avg))
        print()
        print("## right after the fill")
        print()
        summary(report(r), env_avg)
        if args.settle > 0:
            # the integrator drops the undo records no proof can ask for
            # once they are older than the grace (log.c index_prune)
            time.sleep(args.settle)
            print()
            print("## %d s later, idle" % args.settle)
            print()
            summary(report(r), env_avg)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rp = sub.add_parser("report")
    rp.add_argument("--port", type=int, required=True)
    rp.add_argument("--host", default="127.0.0.1")
    bp = sub.add_parser("bounded")
    bp.add_argument("--port", type=int, required=True)
    bp.add_argument("--host", default="127.0.0.1")
    fp = sub.add_parser("fill")
    fp.add_argument("--build", default="build")
    fp.add_argument("--leaves", type=int, default=100000)
    fp.add_argument("--batch", type=int, default=1000,
                    help="events per request (1: single posts, one connection per lane)")
    fp.add_argument("--settle", type=int, default=70,
                    help="seconds to wait idle before the second report (0: none)")
    fp.add_argument("--keep", help="work directory to keep (default: a temporary one)")
    args = ap.parse_args()
    if args.cmd == "report":
        report(redis.Redis(host=args.host, port=args.port))
    elif args.cmd == "bounded":
        print(bounded_bytes(redis.Redis(host=args.host, port=args.port)))
    else:
        fill(args)


if __name__ == "__main__":
    main()
