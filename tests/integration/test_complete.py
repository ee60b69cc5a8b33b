"""Complete-as-of proofs (SPEC 11, docs/PROTOCOL.md 9.10 and 10.5) against a
real redis-server and trace-server, with PyNaCl keys and an independent
Python implementation of the lot index (lotindex_py.py):

- every signed checkpoint ends with a log-key-signed index statement whose
  root is the root of the index rebuilt here from every leaf in Redis;
  an idle log appends none;
- a bundle's index proof verifies here and in `trace-agent verify`, which
  says "complete as of checkpoint N";
- an unknown lot's bundle is a 404 carrying an absence proof;
- each attack by someone with the Redis password is caught by
  trace-agent verify (bundle_verify) and, where the log itself is wrong,
  by `trace-agent monitor`:
    truncation (LTRIM of a chain's events), a hidden recall (ZREM from
    every recall index and the recall trimmed), a stale index root (the
    index statement of an older checkpoint served), a forged absence
    proof (the chain deleted and its index leaf removed), and an index
    root that disagrees with the log (an index record edited, then signed
    over by the integrator).
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
import lotindex_py
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id

GTIN = "08801234567893"
AGENT = harness.AGENT
cluster = None


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()


def tearDownModule():
    cluster.stop()


class Chain:
    """Registered by the brand, received by the warehouse, recalled by the
    brand."""

    def __init__(self, owner, lot):
        self.owner, self.lot, self.prev, self.seq = owner, lot, None, 0

    def post(self, etype=None, data=None):
        key = self.owner
        if self.seq == 0:
            etype, data = "product.registered", REGISTERED
        elif etype is None:
            key = Complete.warehouse
        elif etype == "recall.issued":
            key = Complete.regulator
        env = key.sign(TYPE_EVENT, event_payload(
            key, etype or "warehouse.received", GTIN, self.lot, self.seq,
            self.prev, data or {"warehouse": "W-%d" % self.seq}))
        r = cluster.post("/api/v1/events", env)
        assert r.status in (200, 201), r
        self.prev, self.seq = statement_id(env), self.seq + 1
        return env


def vkey():
    return cluster.get("/api/v1/log").json()["vkey"]


def checkpoint_size():
    return int(cluster.redis.get("log:{log}:checkpoint").split(b"\n")[1])


def all_leaves():
    """log index -> envelope of every statement in Redis."""
    out = {}
    for key in cluster.redis.scan_iter("c:*:ev"):
        for rec in cluster.redis.lrange(key, 0, -1):
            _, index, env = rec.decode().split(" ", 2)
            out[int(index)] = json.loads(env)
    for rec in cluster.redis.lrange("k:entries", 0, -1):
        _, index, env = rec.decode().split(" ", 2)
        out[int(index)] = json.loads(env)
    out.update(harness.index_statements(cluster))
    return out


def position(key, depth, flip=None):
    """The Redis field of the index node at depth on key's path (PROTOCOL
    9.10.6): uint16be depth || the first depth bits, in whole bytes."""
    bits = bytearray(key[:(depth + 7) // 8])
    if depth % 8:
        bits[-1] &= (0xff << (8 - depth % 8)) & 0xff
    if flip is not None:
        bits[flip // 8] ^= 0x80 >> (flip % 8)
    return depth.to_bytes(2, "big") + bytes(bits)


def record_hash(rec):
    if rec is None:
        return lotindex_py.EMPTY
    if rec[:1] == b"N":
        return rec[1:]
    c, h, i = int.from_bytes(rec[33:41], "big"), rec[41:73], int.from_bytes(rec[73:81], "big")
    return lotindex_py.leaf(rec[1:33], lotindex_py.value(c, h, i))


def rehash_above(key, depth):
    r = cluster.redis
    for d in reversed(range(depth)):
        kid = position(key, d + 1)
        other = position(key, d + 1, flip=d)
        mine, theirs = (record_hash(r.hget("log:{log}:lx:nodes", kid)),
                        record_hash(r.hget("log:{log}:lx:nodes", other)))
        h = lotindex_py.node(mine, theirs) if lotindex_py.bit(key, d) == 0 \
            else lotindex_py.node(theirs, mine)
        r.hset("log:{log}:lx:nodes", position(key, d), b"N" + h)


class Complete(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.brand = Key("cbrand")
        cluster.enroll(cls.brand, "brand", prefixes=["880"])
        Complete.warehouse = Key("cwarehouse")
        cluster.enroll(Complete.warehouse, "warehouse", prefixes=["880"])
        Complete.regulator = Key("cregulator")
        cluster.enroll(Complete.regulator, "regulator")
        cls.dir = tempfile.mkdtemp(prefix="trace-complete-")
        cls.state = os.path.join(cls.dir, "monitor")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def bundle(self, lot, status=200):
        r = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, lot))
        self.assertEqual(r.status, status, r)
        return r.json()

    def verify(self, lot):
        return subprocess.run([AGENT, "--server", cluster.public_url, "verify",
                               "--gtin", GTIN, "--lot", lot, "--root", cluster.root_pub,
                               "--log-vkey", vkey()],
                              capture_output=True, text=True, timeout=60)

    def monitor(self, state=None):
        return subprocess.run([AGENT, "monitor", "--server", cluster.public_url,
                               "--state", state or self.state, "--log-vkey", vkey()],
                              capture_output=True, text=True, timeout=120)

    def assertMonitorCaught(self, pattern):
        """The monitor, from a fresh state (leaf 0) and from the kept one,
        exits 1 and says why; the kept state does not move."""
        for state in (os.path.join(self.dir, "fresh-%f" % time.time()), None):
            m = self.monitor(state)
            self.assertEqual(m.returncode, 1, m.stdout + m.stderr)
            self.assertRegex(m.stdout, pattern)

    def assertCaught(self, lot, pattern, status=200):
        r = self.verify(lot)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, pattern)
        return r

    def test_1_statements_roots_and_idle(self):
        c = Chain(self.brand, "CA1")
        for _ in range(3):
            c.post()
        harness.settle(cluster)
        size = checkpoint_size()
        leaves = all_leaves()
        self.assertEqual(sorted(leaves), list(range(size)))
        statements = harness.index_statements(cluster)
        self.assertIn(size - 1, statements)
        # Every statement: signed by the log key, its root the index over
        # the leaves before it, rebuilt here.
        log_pub = cluster.log.public
        import nacl.signing
        ix = lotindex_py.Index()
        for i in range(size):
            env = leaves[i]
            if i in statements:
                payload = base64.b64decode(env["payload"])
                nacl.signing.VerifyKey(log_pub).verify(
                    harness.pae(lotindex_py.TYPE_INDEX, payload),
                    base64.b64decode(env["signatures"][0]["sig"]))
                doc = json.loads(payload)
                self.assertEqual(doc["size"], i)
                self.assertEqual(doc["root"], ix.root().hex(), i)
                self.assertEqual(doc["entries"], len(ix.entries))
                self.assertRegex(doc["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            else:
                ix.apply(env, i)
        # An idle log stays still.
        time.sleep(1.5)
        self.assertEqual(checkpoint_size(), size)
        self.assertEqual(int(cluster.redis.get("log:{log}:size")), size)

        b = self.bundle("CA1")
        st = b["index"]["statement"]
        self.assertEqual(st["logIndex"], size - 1)
        root = bytes.fromhex(json.loads(base64.b64decode(st["envelope"]["payload"]))["root"])
        kind, entry = lotindex_py.verify_proof(
            base64.b64decode(b["index"]["lot"]),
            lotindex_py.chain_key("01/%s/10/CA1" % GTIN), root)
        self.assertEqual(kind, 0)
        self.assertEqual(entry[0], 3)
        self.assertEqual(entry[1].hex(), statement_id(b["events"][-1]["envelope"]))
        self.assertEqual(entry[2], b["events"][-1]["logIndex"])
        self.assertEqual(sorted(k["keyid"] for k in b["index"]["keys"]),
                         sorted([self.brand.keyid, self.warehouse.keyid]))
        r = self.verify("CA1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok    complete: as of checkpoint %d" % size, r.stdout)
        m = self.monitor()
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        self.assertIn("checked to checkpoint %d" % size, m.stdout)
        # A tree that does not extend the one checked before (here: the
        # kept compact range of the old tree altered, as if the log had
        # shown another history then) is a fork.
        forked = os.path.join(self.dir, "forked")
        shutil.copytree(self.state, forked)
        Chain(self.brand, "CA1-GROW").post()
        harness.settle(cluster)
        with open(os.path.join(forked, "monitor.state")) as f:
            lines = f.read().split("\n")
        at = [i for i, l in enumerate(lines) if l.startswith("range ")][0]
        lines[at] = lines[at][:-1] + ("0" if lines[at][-1] != "0" else "1")
        with open(os.path.join(forked, "monitor.state"), "w") as f:
            f.write("\n".join(lines))
        m = self.monitor(forked)
        self.assertEqual(m.returncode, 1, m.stdout + m.stderr)
        self.assertIn("not an extension of the tree checked before (a fork)", m.stdout)
        # The server's own page says it too (its verdict is bundle_verify's).
        page = cluster.get("/01/%s/10/CA1?lang=en" % GTIN).body.decode()
        self.assertRegex(page, r'id="complete-server">The log&#39;s lot index shows every '
                         r'event of this lot as of checkpoint \d+\.|id="complete-server">The '
                         r"log's lot index shows every event of this lot as of checkpoint \d+\.")

    def test_1b_older_checkpoints_are_provable(self):
        """The index as of each earlier checkpoint can still be read (the
        witnessed checkpoint lags the signed one): its root record is the
        root its index statement signed."""
        c = Chain(self.brand, "CA1B")
        for _ in range(3):
            c.post()
            harness.settle(cluster)
        versions = {int(v) for v in cluster.redis.zrange("log:{log}:lx:versions", 0, -1)}
        checked = 0
        for index, env in sorted(harness.index_statements(cluster).items()):
            if index + 1 not in versions:
                continue
            root = json.loads(base64.b64decode(env["payload"]))["root"]
            status, values = cluster.redis.execute_command(
                "FCALL_RO", "trace_index_nodes", 3, "log:{log}:lx:nodes",
                "log:{log}:lx:meta", "log:{log}:lx:versions", index + 1, b"\x00\x00")
            self.assertEqual(status, b"ok")
            self.assertEqual(record_hash(values[0] or None).hex(), root, index)
            checked += 1
        self.assertGreaterEqual(checked, 3)
        self.assertIn(checkpoint_size(), versions)

    def test_2_unknown_lot_has_an_absence_proof(self):
        harness.settle(cluster)
        b = self.bundle("NO-SUCH-LOT", status=404)
        self.assertEqual(b["error"]["code"], "not_found")
        self.assertEqual(b["events"], [])
        root = bytes.fromhex(json.loads(base64.b64decode(
            b["index"]["statement"]["envelope"]["payload"]))["root"])
        kind, _ = lotindex_py.verify_proof(
            base64.b64decode(b["index"]["lot"]),
            lotindex_py.chain_key("01/%s/10/NO-SUCH-LOT" % GTIN), root)
        self.assertIn(kind, (1, 2))
        r = self.verify("NO-SUCH-LOT")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("proves this lot unknown as of checkpoint", r.stdout)

    def test_3_truncation(self):
        c = Chain(self.brand, "CA3")
        for _ in range(4):
            c.post()
        harness.settle(cluster)
        key = "c:{01/%s/10/CA3}:ev" % GTIN
        records = cluster.redis.lrange(key, 0, -1)
        cluster.redis.ltrim(key, 0, 1)
        try:
            self.assertCaught("CA3", r"commits to 4 events .* shows 2.*\(truncated\)")
            page = cluster.get("/01/%s/10/CA3?lang=en" % GTIN).body.decode()
            self.assertIn('data-verdict="not_verifiable"', page)
            self.assertIn("the index commits to 4 events of this lot", page)
            self.assertMonitorCaught(r"DIVERGENCE: the server cannot serve .*removed or edited")
        finally:
            cluster.redis.delete(key)
            cluster.redis.rpush(key, *records)
        self.assertEqual(self.verify("CA3").returncode, 0)
        self.assertEqual(self.monitor().returncode, 0)

    def test_4_hidden_recall(self):
        c = Chain(self.brand, "CA4")
        c.post()
        c.post()
        c.post("recall.issued", {"reason": "contaminated", "severity": 1,
                                 "action": "stop using it"})
        harness.settle(cluster)
        self.assertIn("recall: open", self.verify("CA4").stdout)
        key = "c:{01/%s/10/CA4}:ev" % GTIN
        records = cluster.redis.lrange(key, 0, -1)
        cluster.redis.ltrim(key, 0, 1)
        for k in cluster.redis.scan_iter("recalls*"):
            if cluster.redis.type(k) == b"zset":
                for m in cluster.redis.zrange(k, 0, -1):
                    cluster.redis.zrem(k, m)
        cluster.redis.delete("c:{01/%s/10/CA4}:recalls" % GTIN)
        r = self.assertCaught("CA4", r"index commits to 3 events .* shows 2.*truncated")
        self.assertNotIn("status  recall: none", r.stdout)
        self.assertIn("status  unknown", r.stdout)
        self.assertMonitorCaught(r"DIVERGENCE: the server cannot serve")
        # The records come back (the recall indexes stay emptied: the
        # monitor reads the log, not them).
        cluster.redis.delete(key)
        cluster.redis.rpush(key, *records)
        self.assertEqual(self.monitor().returncode, 0)

    def test_5_stale_index_root(self):
        c = Chain(self.brand, "CA5")
        c.post()
        harness.settle(cluster)
        old = checkpoint_size() - 1
        c.post()
        harness.settle(cluster)
        new = checkpoint_size() - 1
        st = cluster.redis.hget("log:{log}:lx:st", new)
        cluster.redis.hset("log:{log}:lx:st", new, cluster.redis.hget("log:{log}:lx:st", old))
        try:
            self.assertCaught("CA5", r"bad_index_proof|stale_index")
            self.assertMonitorCaught(r"DIVERGENCE: the server cannot serve")
        finally:
            cluster.redis.hset("log:{log}:lx:st", new, st)
        self.assertEqual(self.verify("CA5").returncode, 0)

    def index_field(self, chain):
        """The Redis field of chain's leaf record in the index."""
        key = lotindex_py.chain_key(chain)
        for field, rec in cluster.redis.hgetall("log:{log}:lx:nodes").items():
            if rec[:1] == b"L" and rec[1:33] == key:
                return field, rec
        raise AssertionError("no index leaf for " + chain)

    def test_6_forged_absence_proof(self):
        c = Chain(self.brand, "CA6")
        c.post()
        c.post()
        harness.settle(cluster)
        chain = "01/%s/10/CA6" % GTIN
        field, rec = self.index_field(chain)
        events = cluster.redis.lrange("c:{%s}:ev" % chain, 0, -1)
        cluster.redis.delete("c:{%s}:ev" % chain)
        cluster.redis.hdel("log:{log}:lx:nodes", field)
        try:
            b = self.bundle("CA6", status=404)
            self.assertIn("index", b)
            self.assertCaught("CA6", r"index_proof_mismatch")
            self.assertMonitorCaught(r"DIVERGENCE: the server cannot serve")
        finally:
            cluster.redis.rpush("c:{%s}:ev" % chain, *events)
            cluster.redis.hset("log:{log}:lx:nodes", field, rec)
        self.assertEqual(self.verify("CA6").returncode, 0)

    def test_7_index_root_that_disagrees_with_the_log(self):
        m = self.monitor()
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        c = Chain(self.brand, "CA7")
        for _ in range(3):
            c.post()
        harness.settle(cluster)
        chain = "01/%s/10/CA7" % GTIN
        field, rec = self.index_field(chain)
        # The record now says 2 events, and every node above it is
        # rehashed to match (so every proof is consistent); the
        # integrator then signs a root over it at the next checkpoint.
        forged = rec[:33] + (2).to_bytes(8, "big") + rec[41:]
        cluster.redis.hset("log:{log}:lx:nodes", field, forged)
        rehash_above(lotindex_py.chain_key(chain), int.from_bytes(field[:2], "big"))
        Chain(self.brand, "CA7-OTHER").post()
        harness.settle(cluster)
        self.assertCaught("CA7", r"index commits to 2 events .*\(index_mismatch\)")
        m = self.monitor()
        self.assertEqual(m.returncode, 1, m.stdout + m.stderr)
        self.assertRegex(m.stdout, r"DIVERGENCE at leaf \d+: the index statement's root "
                         r"\w+ is not the root \w+ of the index rebuilt")
        # Said again on the next run: the state did not move past it.
        self.assertEqual(self.monitor().returncode, 1)
        # A fresh monitor, from leaf 0, says the same.
        m = self.monitor(os.path.join(self.dir, "fresh"))
        self.assertEqual(m.returncode, 1, m.stdout)


    def test_8_a_log_from_before_the_index_is_indexed(self):
        """Redis without the index (as a log from before SPEC 11 is): the
        integrator indexes the integrated leaves from their stored ids
        before the next checkpoint, whose statement's root is the index
        rebuilt here from every leaf."""
        harness.settle(cluster)
        for k in list(cluster.redis.scan_iter("log:{log}:lx:*")):
            if k != b"log:{log}:lx:st":
                cluster.redis.delete(k)
        c = Chain(self.brand, "CA8")
        c.post()
        c.post()
        harness.settle(cluster)
        size = checkpoint_size()
        leaves = all_leaves()
        statements = harness.index_statements(cluster)
        self.assertIn(size - 1, statements)
        ix = lotindex_py.Index()
        for i in range(size - 1):
            if i not in statements:
                ix.apply(leaves[i], i)
        doc = json.loads(base64.b64decode(statements[size - 1]["payload"]))
        self.assertEqual(doc["root"], ix.root().hex())
        self.assertEqual(doc["entries"], len(ix.entries))
        r = self.verify("CA8")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok    complete: as of checkpoint %d" % size, r.stdout)


class FalseFirst(unittest.TestCase):
    """An index statement's "first" names the log's first index statement,
    where round 2 began (SPEC 8 "Data from round 1", PROTOCOL 9.10.2): a
    later "first" would let round-1-form statements slipped in after it be
    read by the round-1 rules.  The attack, by the operator, who holds the
    log key: a round-1-form close (naming no recall) appended with the
    store's own Function after the first index statement F1, then F1
    dropped from log:{log}:lx:times, where the integrator (and the
    bundles' receipts) read where round 2 began; the next index statement,
    signed with the log key, says first = F2, the one after the close.
    `trace-agent monitor` catches the false "first" (PROTOCOL 9.10.7), and
    `trace-agent verify` still reads round 2 from F1: F2, which the bundle
    carries as a receipt, says first = F1.  A cluster of its own: the log
    it leaves diverges for good."""

    @classmethod
    def setUpClass(cls):
        global cluster
        cls.saved = cluster
        cluster = harness.Cluster.start()
        cls.dir = tempfile.mkdtemp(prefix="trace-first-")
        cls.state = os.path.join(cls.dir, "monitor")

    @classmethod
    def tearDownClass(cls):
        global cluster
        cluster.stop()
        cluster = cls.saved
        shutil.rmtree(cls.dir, ignore_errors=True)

    def monitor(self, state):
        return subprocess.run([AGENT, "monitor", "--server", cluster.public_url,
                               "--state", state, "--log-vkey", vkey()],
                              capture_output=True, text=True, timeout=120)

    def test_a_false_first_is_caught(self):
        brand, importer = Key("fbrand"), Key("fimporter")
        cluster.enroll(brand, "brand", prefixes=["880"])
        cluster.enroll(importer, "importer", prefixes=["880"])
        harness.settle(cluster)
        f1 = min(harness.index_statements(cluster))
        m = self.monitor(self.state)
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        # The lot, a recall, and the slipped-in round-1-form close.
        lot, chain = "FF1", "01/%s/10/FF1" % GTIN
        reg = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN,
                                                   lot, 0, None, REGISTERED))
        recall = importer.sign(TYPE_EVENT, event_payload(
            importer, "recall.issued", GTIN, lot, 1, statement_id(reg),
            {"reason": "contaminated", "severity": 1, "action": "stop using it"}))
        for env in (reg, recall):
            self.assertEqual(cluster.post("/api/v1/events", env).status, 201)
        close = importer.sign(TYPE_EVENT, event_payload(
            importer, "recall.closed", GTIN, lot, 2, statement_id(recall),
            {"outcome": "released"}))
        leaf = hashlib.sha256(b"\x00" + harness.pae(
            close["payloadType"], base64.b64decode(close["payload"]))).digest()
        res = cluster.redis.fcall(
            "trace_append_event", 5, "c:{%s}:ev" % chain, "ids", "k:revoke",
            "log:{log}:size", "log:{log}:pending", statement_id(close), 2,
            statement_id(recall), importer.keyid, leaf,
            json.dumps(close, separators=(",", ":")), chain)
        self.assertEqual(res[0], b"ok", res)
        at = int(res[1])
        self.assertGreater(at, f1)
        harness.settle(cluster)
        f2 = min(i for i in harness.index_statements(cluster) if i > at)
        self.assertEqual(self.payload(f2)["first"], f1)
        # F1 dropped from where the integrator reads round 2's start.
        times = cluster.redis.zrangebyscore("log:{log}:lx:times", f1, f1)
        self.assertEqual(len(times), 1, times)
        cluster.redis.zrem("log:{log}:lx:times", times[0])
        other = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN,
                                                     "FF2", 0, None, REGISTERED))
        self.assertEqual(cluster.post("/api/v1/events", other).status, 201)
        harness.settle(cluster)
        s3 = checkpoint_size() - 1
        self.assertEqual(self.payload(s3)["first"], f2)
        want = (r"DIVERGENCE at leaf %d: the index statement says the log's first index "
                r"statement is at log index %d; it is at %d" % (s3, f2, f1))
        # From the kept state, again on the next run (the state does not
        # move past it), and from leaf 0.
        for state in (self.state, self.state, os.path.join(self.dir, "fresh")):
            m = self.monitor(state)
            self.assertEqual(m.returncode, 1, m.stdout + m.stderr)
            self.assertRegex(m.stdout, want)
        # The bundle carries F2 (the receipt of every statement of the lot
        # now) and S3, its index statement: the lowest "first" counts, so
        # the close is judged by today's rules and the recall stays open,
        # and the false one is reported.
        bundle = cluster.get("/api/v1/bundles/" + chain).json()
        self.assertEqual([x["logIndex"] for x in bundle["receipts"]], [f2])
        self.assertEqual(bundle["index"]["statement"]["logIndex"], s3)
        r = subprocess.run([AGENT, "verify", "--gtin", GTIN, "--lot", lot,
                            "--root", cluster.root_pub, "--log-vkey", vkey(),
                            "--server", cluster.public_url],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("the index statement at log index %d says the log's first index "
                      "statement is at log index %d; the bundle proves one at or before %d"
                      % (s3, f2, f1), r.stdout)
        self.assertIn("FAIL  event 2 (seq 2, recall.closed): a recall.closed names "
                      "the recall it closes", r.stdout)
        self.assertNotIn("round-1 close", r.stdout)
        self.assertIn("NOT VERIFIED", r.stdout)
        # The page's verdict is the server's own bundle_verify: the same.
        r = cluster.request("GET", "/01/%s/10/%s" % (GTIN, lot),
                            headers={"Accept": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["verdict"]["status"], r.json()["verdict"]["code"]),
                         ("not_verifiable", "first_mismatch"), r.json()["verdict"])

    def payload(self, index):
        env = harness.index_statements(cluster)[index]
        return json.loads(base64.b64decode(env["payload"]))


if __name__ == "__main__":
    unittest.main()
