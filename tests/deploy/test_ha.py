"""Failover, durability and backup of the production topology
(tests/deploy/hacluster.py): events go in through nginx over TLS from
several writers while the Redis primary is killed with SIGKILL.

Checked, each as one numbered check:
  - the ACL of deploy/redis-users.acl allows every command the code sends
    (check_acl.py), and bad --redis URLs are refused without echoing them;
  - nginx: TLS, the 4 MiB body limit, /metrics hidden, QR images cached;
  - writes resume after the kill within the failover window, no
    acknowledged statement is lost, no chain forks, reads fail for no
    longer than writes do, and the log's checkpoints before and after the
    failover are consistent (trace-agent verify --previous);
  - a backup taken from a replica (deploy/backup.sh) restores
    (deploy/restore.sh) into a new redis-server, and a trace-server on it
    serves the same chains, which trace-agent verify accepts.
FIGURE lines report the failover time and counts.
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import traceback

import hacluster
from harness import (ALL_PREFIXES, TEST_ORG, TYPE_EVENT, TYPE_KEY, Key, REGISTERED,
                     enroll_payload, org_payload,
                     event_payload, free_port, free_ports, statement_id, wait_port)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CHAINS = 6
WRITERS_PER_CHAIN = 2
GTIN = "08801234567893"


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("  ok    %s" % name)
        else:
            self.failed += 1
            print("  FAIL  %s %s" % (name, detail))
        sys.stdout.flush()
        return ok


class Client:
    """HTTPS through nginx (or plain HTTP to one instance), one connection
    per thread, reconnecting after any error."""

    def __init__(self, port, context=None, timeout=10):
        self.port, self.context, self.timeout = port, context, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for _ in range(2):
            try:
                if self.conn is None:
                    if self.context is not None:
                        self.conn = http.client.HTTPSConnection(
                            "127.0.0.1", self.port, context=self.context, timeout=self.timeout)
                    else:
                        self.conn = http.client.HTTPConnection(
                            "127.0.0.1", self.port, timeout=self.timeout)
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return 0, {}, b""


def chain_path(lot):
    return "/api/v1/chains/01/%s/10/%s" % (GTIN, lot)


def chain_events(client, lot):
    """(status, events) of the whole chain, following next through its
    pages (docs/PROTOCOL.md 11.6): the first status other than 200, or
    200 and every event."""
    events, query = [], "?limit=1000"
    while True:
        status, _, body = client.request("GET", chain_path(lot) + query)
        if status != 200:
            print("      %s: %d %r" % (lot, status, body[:200]))
            return status, None
        doc = json.loads(body)
        events += doc["events"]
        if doc.get("next") is None:
            return status, events
        query = "?limit=1000&cursor=" + doc["next"]


class Load:
    """Writers append to shared chains (two per chain, so heads move under
    them and they rebase on 409); readers read chains.  Every outcome is
    timestamped."""

    def __init__(self, cluster, brand, carrier, lots):
        self.cluster, self.brand, self.carrier, self.lots = cluster, brand, carrier, lots
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}            # id -> (lot, seq)
        self.write_ok = []         # times of acknowledged writes
        self.write_fail = []       # times of 5xx / connection failures
        self.read_ok = []
        self.read_fail = []
        self.read_statuses = {}    # (status, body start) -> count
        self.write_statuses = {}
        self.conflicts = 0
        self.errors = []           # unexpected answers

    def writer(self, lot, head):
        client = Client(self.cluster.https_port, self.cluster.ssl_context())
        seq, prev = head
        n = 0
        while not self.stop.is_set():
            p = event_payload(self.carrier, "shipment.departed", GTIN, lot, seq, prev,
                              {"port": "KRPUS", "carrier": "HMM", "vessel": "V%d" % n})
            env = self.carrier.sign(TYPE_EVENT, p)
            n += 1
            while not self.stop.is_set():
                status, _, body = client.request("POST", "/api/v1/events", env)
                now = time.time()
                if status in (200, 201):
                    doc = json.loads(body)
                    with self.lock:
                        self.acked[doc["id"]] = (lot, doc["seq"])
                        self.write_ok.append(now)
                    seq, prev = doc["seq"] + 1, doc["id"]
                    break
                if status == 409:
                    head = json.loads(body)["head"]
                    with self.lock:
                        self.conflicts += 1
                    seq, prev = head["seq"] + 1, head["id"]
                    break
                if status in (0, 502, 503, 504):
                    with self.lock:
                        self.write_fail.append(now)
                        key = (status, body[:80])
                        self.write_statuses[key] = self.write_statuses.get(key, 0) + 1
                    time.sleep(0.05)
                    continue        # resubmit the same envelope
                with self.lock:
                    self.errors.append((status, body[:200]))
                time.sleep(0.1)
                break

    def reader(self):
        client = Client(self.cluster.https_port, self.cluster.ssl_context())
        i = 0
        while not self.stop.is_set():
            status, _, body = client.request("GET", chain_path(self.lots[i % len(self.lots)]))
            i += 1
            with self.lock:
                if status == 200:
                    self.read_ok.append(time.time())
                else:
                    self.read_fail.append(time.time())
                    self.read_statuses[(status, body[:80])] = \
                        self.read_statuses.get((status, body[:80]), 0) + 1
            time.sleep(0.01)


def longest_outage(ok_times, fail_times, end):
    """The longest span from the first failure of a run of failures to the
    success that ends it (or to end, when the run was still going)."""
    events = sorted([(t, True) for t in ok_times] + [(t, False) for t in fail_times])
    worst, start = 0.0, None
    for t, ok in events:
        if not ok and start is None:
            start = t
        elif ok and start is not None:
            worst = max(worst, t - start)
            start = None
    if start is not None:
        worst = max(worst, end - start)
    return worst


def agent_verify(cluster, server_port, lot, vkey, previous=None):
    argv = [os.path.join(BUILD, "trace-agent"), "verify", "--gtin", GTIN, "--lot", lot,
            "--root", cluster.root_pub, "--log-vkey", vkey,
            "--server", "http://127.0.0.1:%d" % server_port]
    if previous:
        argv += ["--previous", previous]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    # The lines that say what failed, not the hundreds that passed.
    bad = [l for l in out.splitlines() if not l.startswith("ok ")]
    return r.returncode, "\n".join(bad)[-1200:]


def run():
    c = Checks()
    print("acl and options")
    acl = subprocess.run([sys.executable, os.path.join(hacluster.HERE, "check_acl.py")],
                         capture_output=True, text=True, timeout=60)
    c.check("every command the code sends is allowed to the trace ACL user",
            acl.returncode == 0, acl.stdout + acl.stderr)
    bad_ok = True
    for url in ("sentinel://s3cret@127.0.0.1/", "sentinel://u:s3cret@/trace",
                "sentinel://u:s3cret@h1,,h2/trace", "sentinel://u:s3cret@h:99999/trace",
                "redis://u:s3cret@", "mysql://u:s3cret@h"):
        r = subprocess.run([os.path.join(BUILD, "trace-server"), "--redis", url,
                            "--root-key", "x", "--log-key", "y"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 2 or "s3cret" in r.stderr or "--redis must be" not in r.stderr:
            bad_ok = False
            print("      %s -> %d %s" % (url, r.returncode, r.stderr.strip()))
    c.check("malformed --redis URLs exit 2 without echoing the password", bad_ok)

    cluster = hacluster.HACluster(BUILD)
    try:
        t0 = time.time()
        cluster.start()
        print("cluster up in %.1f s: redis %s, sentinels %s, servers %s, nginx https %d"
              % (time.time() - t0, cluster.redis_ports, cluster.sentinel_ports,
                 cluster.server_ports, cluster.https_port))
        log0 = open(cluster.path("server0.log")).read()
        c.check("trace-server logs the Sentinel URL without the password",
                "sentinel://trace:***@" in log0 and cluster.passwords["trace"] not in log0)
        run_cluster(c, cluster)
    except Exception:
        traceback.print_exc()
        c.check("the test ran to the end", False)
    finally:
        cluster.stop()
    print("deploy: %d passed, %d failed" % (c.passed, c.failed))
    return c.failed == 0


def run_cluster(c, cluster):
    ctx = cluster.ssl_context()
    api = Client(cluster.https_port, ctx)

    print("nginx")
    status, headers, _ = api.request("GET", "/readyz")
    c.check("GET /readyz over TLS through nginx", status == 200, status)
    c.check("HSTS added by nginx", "max-age" in headers.get("strict-transport-security", ""))
    status, _, _ = api.request("GET", "/metrics")
    c.check("/metrics is not served to the internet", status == 404, status)
    plain = Client(cluster.http_port)
    status, headers, _ = plain.request("GET", "/readyz")
    c.check("plain HTTP redirects to HTTPS", status == 301 and
            headers.get("location", "").startswith("https://"), (status, headers))
    big = b"[" + b" " * (4 * 1024 * 1024 + 10) + b"]"
    status, _, _ = Client(cluster.https_port, ctx, timeout=30).request(
        "POST", "/api/v1/events", big, {"Content-Type": "application/json"})
    c.check("a body over 4 MiB is refused with 413", status == 413, status)

    # Keys and chains.
    brand, carrier = Key("brand"), Key("carrier")
    # The test org first (SPEC 8: enrollments name a registered org).
    status, _, body = api.request("POST", "/api/v1/keys", cluster.root.sign(
        TYPE_KEY, org_payload(cluster.root, TEST_ORG, prefixes=ALL_PREFIXES)))
    if status not in (200, 201):
        raise RuntimeError("org: %d %s" % (status, body[:200]))
    for key, role in ((brand, "brand"), (carrier, "logistics")):
        env = cluster.root.sign(TYPE_KEY, enroll_payload(cluster.root, key, role))
        status, _, body = api.request("POST", "/api/v1/keys", env)
        if status not in (200, 201):
            raise RuntimeError("enroll: %d %s" % (status, body[:200]))
    lots = ["HA%02d" % i for i in range(CHAINS)]
    heads = {}
    for lot in lots:
        env = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN, lot,
                                                   0, None, REGISTERED))
        status, _, body = api.request("POST", "/api/v1/events", env)
        if status not in (200, 201):
            raise RuntimeError("register: %d %s" % (status, body[:200]))
        heads[lot] = (1, json.loads(body)["id"])

    lot0 = lots[0]
    qr = "/qr/01/%s/10/%s.svg" % (GTIN, lot0)
    s1, h1, b1 = api.request("GET", qr)
    s2, h2, b2 = api.request("GET", qr)
    if s1 == 404 and s2 == 404:
        print("  note  no /qr/ route in this build yet: cache not exercised")
    else:
        c.check("QR images are cached by nginx (second fetch is a HIT)",
                s2 == 200 and h2.get("x-cache-status") == "HIT" and b1 == b2,
                (s1, s2, h2.get("x-cache-status")))

    print("failover under load")
    load = Load(cluster, brand, carrier, lots)
    threads = [threading.Thread(target=load.writer, args=(lot, heads[lot]))
               for lot in lots for _ in range(WRITERS_PER_CHAIN)]
    threads += [threading.Thread(target=load.reader) for _ in range(2)]
    for t in threads:
        t.daemon = True
        t.start()
    time.sleep(3)
    # A checkpoint from before the failover, to prove the log only grew.
    server0 = Client(cluster.server_ports[0], timeout=30)
    deadline = time.time() + 20
    status, note = 0, b""
    while time.time() < deadline:
        status, _, note = server0.request("GET", "/api/v1/checkpoint")
        if status == 200 and note.endswith(b"\n"):
            break
        time.sleep(0.2)
    if not c.check("a checkpoint was served before the kill",
                   status == 200 and note.endswith(b"\n"), (status, note[:120])):
        note = b""
    before_cp = cluster.path("checkpoint-before.txt") if note else None
    if before_cp:
        with open(before_cp, "wb") as f:
            f.write(note)
    old_primary = cluster.primary_port()
    old_index = cluster.redis_ports.index(old_primary)
    acked_before = len(load.acked)
    kill_time = time.time()
    cluster.kill("redis%d" % old_index)
    # Writes resume when the Sentinels have promoted a replica, trace-server
    # has found it and a replica acknowledges writes again.
    resumed = None
    deadline = kill_time + 30
    while time.time() < deadline and resumed is None:
        with load.lock:
            later = [t for t in load.write_ok if t > kill_time + 0.2]
        if later:
            resumed = min(later)
        time.sleep(0.05)
    time.sleep(3)
    load.stop.set()
    for t in threads:
        t.join(20)
    new_primary = cluster.primary_port()
    failover = (resumed - kill_time) if resumed else float("inf")
    end = time.time()
    write_outage = longest_outage(load.write_ok, load.write_fail, end)
    read_outage = longest_outage(load.read_ok, load.read_fail, end)
    for (status, body), n in sorted(load.write_statuses.items()):
        print("      write answer %d x%d %r" % (status, n, body))
    for (status, body), n in sorted(load.read_statuses.items()):
        print("      read answer %d x%d %r" % (status, n, body))
    if not c.check("Sentinel promoted a replica", new_primary not in (None, old_primary),
                   (old_primary, new_primary)):
        for j in range(3):
            lines = open(cluster.path("sentinel%d.log" % j)).read().splitlines()
            print("\n".join("      " + l for l in lines if " # " in l)[-1500:])
    c.check("writes resumed within 15 s of the kill", failover < 15, failover)
    c.check("reads failed for no longer than writes (+1 s)",
            read_outage <= write_outage + 1.0,
            (read_outage, write_outage, load.read_statuses))
    c.check("no unexpected answers to writes", not load.errors, load.errors[:3])
    c.check("writes were acknowledged after the failover",
            len(load.acked) > acked_before, (acked_before, len(load.acked)))

    # Every acknowledged statement is there, at its seq; chains are linked.
    found, missing, forks = 0, [], []
    chains = {}
    for lot in lots:
        status, events = chain_events(api, lot)
        if status != 200:
            forks.append((lot, "status %d" % status))
            continue
        chains[lot] = events
        for i, e in enumerate(events):
            p = e["payload"]
            if e["seq"] != i or p["seq"] != i or (i > 0 and p["prev"] != events[i - 1]["id"]) \
                    or statement_id(e["envelope"]) != e["id"]:
                forks.append((lot, i))
        by_seq = {e["seq"]: e["id"] for e in events}
        for id_, (alot, seq) in load.acked.items():
            if alot == lot:
                if by_seq.get(seq) == id_:
                    found += 1
                else:
                    missing.append((lot, seq, id_[:12]))
    print("FIGURE deploy.failover failover_s=%.2f write_outage_s=%.2f read_outage_s=%.2f "
          "acked_before_kill=%d acked=%d found=%d conflicts_rebased=%d "
          "write_failures_retried=%d" %
          (failover, write_outage, read_outage, acked_before, len(load.acked), found,
           load.conflicts, len(load.write_fail)))
    c.check("every acknowledged statement is in its chain at its seq",
            not missing and found == len(load.acked), missing[:5])
    c.check("no chain forked: seq contiguous, prev links, ids match", not forks, forks[:5])
    # The same through the other instance and by id.
    other = Client(cluster.server_ports[1])
    sample = list(load.acked)[::max(1, len(load.acked) // 20)]
    by_id = all(other.request("GET", "/api/v1/events/" + i)[0] == 200 for i in sample)
    c.check("acknowledged statements are found by id on the other instance", by_id)

    # The log: checkpoint before the kill is consistent with the one after.
    status, _, body = server0.request("GET", "/api/v1/log")
    vkey = json.loads(body)["vkey"] if status == 200 else None
    deadline = time.time() + 10
    size_wanted = len(load.acked) + 2 + CHAINS
    while time.time() < deadline and status == 200:
        status, _, body = server0.request("GET", "/api/v1/log")
        if json.loads(body).get("integrated", 0) >= size_wanted:
            break
        time.sleep(0.2)
    verified = []
    for lot in lots:
        rc, out = agent_verify(cluster, cluster.server_ports[0], lot, vkey, before_cp)
        verified.append(rc == 0)
        if rc != 0:
            print("      verify %s: %s" % (lot, out))
    c.check("trace-agent verify --previous <checkpoint before the kill> passes on every chain",
            all(verified), verified)

    backup_and_restore(c, cluster, lots, chains, vkey)


def backup_and_restore(c, cluster, lots, chains, vkey):
    print("backup and restore")
    primary = cluster.primary_port()
    replicas = [p for i, p in enumerate(cluster.redis_ports)
                if p != primary and "redis%d" % i in cluster.procs]
    source = replicas[0] if replicas else primary
    # The chains were read from the primary: the backup must be of a
    # replica that has all of it.  After the failover the remaining one
    # may still be (re)syncing with the new primary; backup.sh refuses it
    # then, so wait (bounded) until the primary counts it online.
    c.check("the replica is in sync with the new primary within 20 s",
            not replicas or cluster.wait_replication(primary, len(replicas)),
            cluster.redis_cli(primary, "INFO", "replication")[-400:])
    # What the source says of itself, for a mismatch below.
    source_info = " ".join(l for l in cluster.redis_cli(source, "INFO", "replication").split()
                           if l.startswith(("role", "master_host", "master_port", "master_link",
                                            "master_sync", "master_repl_offset", "slave_repl")))
    pass_file = cluster.path("backup-password")
    with open(pass_file, "w") as f:
        f.write(cluster.passwords["backup"] + "\n")
    out = cluster.path("backups")
    r = subprocess.run([os.path.join(hacluster.DEPLOY, "backup.sh"), "-h", "127.0.0.1",
                        "-p", str(source), "--user", "backup", "--pass-file", pass_file, out],
                       capture_output=True, text=True, timeout=120)
    c.check("backup.sh copied an RDB from a replica", r.returncode == 0, r.stderr[-400:])
    if r.returncode != 0:
        return
    rdb = r.stdout.strip().splitlines()[-1]
    data = cluster.path("restored")
    r = subprocess.run([os.path.join(hacluster.DEPLOY, "restore.sh"), rdb, data],
                       capture_output=True, text=True, timeout=120)
    c.check("restore.sh rebuilt an AOF data directory",
            r.returncode == 0 and os.path.exists(os.path.join(
                data, "appendonlydir", "appendonly.aof.manifest")), r.stderr[-400:])
    r2 = subprocess.run([os.path.join(hacluster.DEPLOY, "restore.sh"), rdb, data],
                        capture_output=True, text=True, timeout=60)
    c.check("restore.sh refuses a data directory that holds data", r2.returncode != 0)

    # A replica whose primary is gone serves what it last had: backup.sh
    # refuses it rather than write a stale backup.
    orphan = cluster.path("orphan")
    os.mkdir(orphan)
    oport, dead = free_ports(2)
    conf = hacluster.derive(os.path.join(hacluster.DEPLOY, "redis.conf"),
                            [("bind",), ("port",), ("unixsocket",), ("aclfile",), ("include",),
                             ("supervised",), ("dir",), ("logfile",), ("pidfile",),
                             ("replicaof",), ("min-replicas-to-write",)],
                            ["bind 127.0.0.1", "port %d" % oport, "dir " + orphan,
                             "aclfile " + cluster.path("users.acl"), "supervised no",
                             "logfile " + cluster.path("orphan-redis.log"),
                             "replicaof 127.0.0.1 %d" % dead])
    with open(cluster.path("orphan.conf"), "w") as f:
        f.write(conf)
    p = cluster.spawn("orphan-redis", ["redis-server", cluster.path("orphan.conf")])
    wait_port(oport, proc=p)
    r3 = subprocess.run([os.path.join(hacluster.DEPLOY, "backup.sh"), "-h", "127.0.0.1",
                         "-p", str(oport), "--user", "backup", "--pass-file", pass_file,
                         cluster.path("orphan-backups")],
                        capture_output=True, text=True, timeout=60)
    c.check("backup.sh refuses a replica cut off from its primary",
            r3.returncode == 1 and "out of sync" in r3.stderr and
            not os.listdir(cluster.path("orphan-backups")), (r3.returncode, r3.stderr[-300:]))
    cluster.kill("orphan-redis")

    # A standalone Redis on the restored data, production config (no replicaof).
    port = free_port()
    conf = hacluster.derive(os.path.join(hacluster.DEPLOY, "redis.conf"),
                            [("bind",), ("port",), ("unixsocket",), ("aclfile",), ("include",),
                             ("supervised",), ("dir",), ("logfile",), ("pidfile",),
                             ("replicaof",), ("min-replicas-to-write",)],
                            ["bind 127.0.0.1", "port %d" % port, "dir " + data,
                             "aclfile " + cluster.path("users.acl"), "supervised no",
                             "logfile " + cluster.path("restored-redis.log")])
    with open(cluster.path("restored.conf"), "w") as f:
        f.write(conf)
    cluster.redis_ports.append(port)
    p = cluster.spawn("restored-redis", ["redis-server", cluster.path("restored.conf")])
    wait_port(port, proc=p)
    sport = free_port()
    cluster.server_ports.append(sport)
    k = len(cluster.server_ports) - 1
    cluster.wait_replicas = 0
    # The restored store's signer is a new host with an empty state
    # directory: it adopts the restored checkpoint (DEPLOY.md section 9).
    cluster.start_server(k, "redis://trace:%s@127.0.0.1:%d" % (cluster.passwords["trace"], port),
                         extra=["--log-state-init"], signer=True)
    client = Client(sport)
    same, lengths = [], []
    for lot in lots:
        status, events = chain_events(client, lot)
        same.append(status == 200 and events == chains[lot])
        lengths.append((lot, len(events or []), len(chains[lot])))
    c.check("the restored store serves every chain exactly as before", all(same),
            (same, "restored/read before:", lengths, "primary", primary, "source", source,
             source_info))
    verified = []
    for lot in lots:
        rc, out = agent_verify(cluster, sport, lot, vkey)
        verified.append(rc == 0)
        if rc != 0:
            print("      verify %s: %s" % (lot, out))
    c.check("trace-agent verify passes on every chain after the restore", all(verified),
            verified)
    # And the restored store still takes writes.
    status, _, body = client.request("GET", chain_path(lots[0]))
    head = json.loads(body)["head"]
    key = Key("late")
    env = cluster.root.sign(TYPE_KEY, enroll_payload(cluster.root, key, "logistics"))
    s1, _, _ = client.request("POST", "/api/v1/keys", env)
    env = key.sign(TYPE_EVENT, event_payload(key, "shipment.arrived", GTIN, lots[0],
                                             head["seq"] + 1, head["id"], {"port": "CNSHA"}))
    s2, _, _ = client.request("POST", "/api/v1/events", env)
    c.check("the restored store accepts new statements", s1 == 201 and s2 == 201, (s1, s2))


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
