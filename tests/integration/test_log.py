"""The transparency log (docs/PROTOCOL.md section 9, issue 5) against a real redis-server
and trace-server, checked with code written here independently of libtrace:
C2SP signed-note verification with PyNaCl, RFC 9162 inclusion and
consistency verification in Python.

- checkpoints appear within about a second of appends and verify;
- an inclusion proof for every statement verifies against the checkpoint;
- checkpoints taken before and after more appends are consistent;
- a server bundle verifies offline with libtrace (build/tests/test_bundle
  --verify, a thin driver of bundle_parse/bundle_verify), and changing a
  stored byte in Redis (a payload, the order of two records, a removed
  record) makes it fail with a reason;
- proofs for a large log are served from stored hashes with one Redis
  command each (INFO commandstats: one FCALL_RO per proof, its GETRANGEs
  bounded by 2 log2 n); the size is 10,000 leaves by default, 100,000
  with TRACE_SLOW=1 (about a minute of signature checks on two cores),
  or TRACE_LOG_LEAVES (tests/faults/valgrind.sh: 1,000);
- kill -9 of trace-server while it integrates leaves the log consistent
  with every checkpoint handed out before.

Run: make build/trace-server build/tests/test_bundle &&
     cd tests/integration && /usr/bin/python3 -m unittest test_log -v
"""
import base64
import hashlib
import json
import os
import random
import signal
import subprocess
import time
import unittest

import nacl.signing

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, enroll_payload,
                     event_payload, pae, revoke_payload, statement_id)

GTIN = "08801234567893"
LOT = "LOG1"
VERIFY = os.path.join(harness.BUILD, "tests", "test_bundle")
LARGE = int(os.environ.get("TRACE_LOG_LEAVES") or
            (100000 if os.environ.get("TRACE_SLOW") == "1" else 10000))

cluster = None


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()


def tearDownModule():
    cluster.stop()


# ---- an independent RFC 9162 / C2SP implementation --------------------------

def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_of(envelope):
    payload = base64.b64decode(envelope["payload"])
    return hashlib.sha256(b"\x00" + pae(envelope["payloadType"], payload)).digest()


def shift_while_even(fn, sn):
    """Right-shift both until LSB(fn) is set or fn is 0 (RFC 9162 2.1.3.2)."""
    while fn != 0 and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != 32 or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(n1, n2, root1, root2, proof):
    """RFC 9162 2.1.4.2."""
    if n1 == n2:
        return not proof and root1 == root2
    if n1 == 0 or n1 > n2 or not proof:
        return False
    if n1 & (n1 - 1) == 0:
        proof = [root1] + proof
    fn, sn = n1 - 1, n2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


def open_checkpoint(note, vkey):
    """Verify a C2SP signed note under vkey and parse the tlog-checkpoint
    body; returns (origin, size, root) or raises AssertionError."""
    name, hexhash, b64key = vkey.split("+", 2)
    key = base64.b64decode(b64key)
    assert key[0] == 1 and len(key) == 33, "not an Ed25519 verifier key"
    keyhash = hashlib.sha256(name.encode() + b"\n\x01" + key[1:]).digest()[:4]
    assert keyhash.hex() == hexhash, "verifier key hash mismatch"
    text, sep, sigs = note.partition("\n\n")
    assert sep and note.endswith("\n"), "not a signed note"
    text += "\n"
    good = 0
    for line in sigs.rstrip("\n").split("\n"):
        assert line.startswith("\u2014 "), "bad signature line %r" % line
        who, sig = line[2:].split(" ")
        raw = base64.b64decode(sig)
        if who == name and raw[:4] == keyhash:
            nacl.signing.VerifyKey(key[1:]).verify(text.encode(), raw[4:])
            good += 1
    assert good >= 1, "no signature by the log key"
    origin, size, root = text.rstrip("\n").split("\n")[:3]
    assert origin == name
    assert str(int(size)) == size
    root = base64.b64decode(root)
    assert len(root) == 32
    return origin, int(size), root


# ---- helpers ---------------------------------------------------------------------

def vkey():
    return cluster.get("/api/v1/log").json()["vkey"]


def checkpoint():
    r = cluster.get("/api/v1/checkpoint")
    assert r.status == 200, r
    note = r.body.decode()
    return (note,) + open_checkpoint(note, vkey())


def wait_checkpoint(size, timeout=3.0):
    """The first checkpoint of at least size leaves, and the seconds it
    took to appear."""
    start = time.time()
    while time.time() - start < timeout:
        cp = checkpoint()
        if cp[2] >= size:
            return cp, time.time() - start
        time.sleep(0.05)
    raise AssertionError("no checkpoint of size %d within %.1f s" % (size, timeout))


def log_size():
    return int(cluster.redis.get("log:{log}:size") or 0)


def proof_hashes(doc):
    return [base64.b64decode(h) for h in doc["hashes"]]


class Chain:
    """A lot whose events are signed by one brand key."""

    def __init__(self, key, lot):
        self.key, self.lot, self.prev, self.seq = key, lot, None, 0

    def next(self):
        if self.seq == 0:
            etype, data = "product.registered", REGISTERED
        else:
            etype, data = "warehouse.received", {"warehouse": "W-%d" % self.seq}
        env = self.key.sign(TYPE_EVENT, event_payload(
            self.key, etype, GTIN, self.lot, self.seq, self.prev, data))
        self.prev, self.seq = statement_id(env), self.seq + 1
        return env


def post_all(envs):
    """Post in batches; the log index of each, in order."""
    indexes = []
    for i in range(0, len(envs), 1000):
        r = cluster.post("/api/v1/events", envs[i:i + 1000])
        assert r.status == 200, r
        for item in r.json()["results"]:
            assert item.get("status") in (200, 201), item
            indexes.append(item["logIndex"])
    return indexes


def commandstats():
    stats = cluster.redis.info("commandstats")
    return {k: v["calls"] for k, v in stats.items()}


class Log(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.warehouse = Key("logwarehouse")
        cluster.enroll(cls.warehouse, "warehouse", prefixes=["880"])
        cls.owner = Key("logowner")
        cluster.enroll(cls.owner, "brand", prefixes=["880"])

    def events_for(self, lot, n):
        """n events of a new chain: registered by the brand owner, then
        received by the warehouse key."""
        c = Chain(self.owner, lot)
        envs = [c.next()]
        c.key = self.warehouse
        envs += [c.next() for _ in range(n - 1)]
        return envs

    # ---- checkpoints, inclusion, consistency --------------------------------
    def test_1_checkpoint_appears_and_verifies(self):
        envs = self.events_for("CP1", 3)
        post_all(envs)
        (note, origin, size, root), took = wait_checkpoint(log_size())
        self.assertEqual(origin, "trace.test/log")
        self.assertLess(took, 1.5)
        log = cluster.get("/api/v1/log").json()
        self.assertEqual(log["origin"], "trace.test/log")
        self.assertGreaterEqual(log["size"], size)
        # Another key's verifier must not accept it.
        other = Key("x")
        h = hashlib.sha256(b"trace.test/log\n\x01" + other.public).digest()[:4]
        with self.assertRaises(Exception):
            open_checkpoint(note, "trace.test/log+%s+%s" % (
                h.hex(), base64.b64encode(b"\x01" + other.public).decode()))

    def test_2_inclusion_of_every_statement(self):
        post_all(self.events_for("INC", 5))
        (note, _, size, root), _ = wait_checkpoint(log_size())
        leaves = {}
        for entry in cluster.get("/api/v1/keys").json()["entries"]:
            leaves[entry["logIndex"]] = leaf_of(entry["envelope"])
        for key in cluster.redis.scan_iter("c:*:ev"):
            for rec in cluster.redis.lrange(key, 0, -1):
                _, index, env = rec.decode().split(" ", 2)
                leaves[int(index)] = leaf_of(json.loads(env))
        # The integrator's index statements are leaves too (SPEC 11), one
        # at the end of every checkpoint; none of them is a key or event.
        statements = harness.index_statements(cluster)
        self.assertTrue(statements)
        self.assertFalse(set(statements) & set(leaves))
        self.assertIn(size - 1, statements)
        for index, env in statements.items():
            leaves[index] = leaf_of(env)
        self.assertEqual(sorted(leaves), list(range(log_size())))
        for index in range(size):
            r = cluster.get("/api/v1/proofs/inclusion?index=%d&size=%d" % (index, size))
            self.assertEqual(r.status, 200, r)
            doc = r.json()
            self.assertEqual((doc["index"], doc["size"]), (index, size))
            self.assertTrue(verify_inclusion(index, size, leaves[index],
                                             proof_hashes(doc), root), index)
            # The same proof must not verify for a neighbour's leaf.
            other = leaves[(index + 1) % size]
            if size > 1:
                self.assertFalse(verify_inclusion(index, size, other,
                                                  proof_hashes(doc), root))

    def test_3_consistency_before_and_after(self):
        post_all(self.events_for("CON", 2))
        (_, _, n1, r1), _ = wait_checkpoint(log_size())
        post_all(self.events_for("CON2", 7))
        (_, _, n2, r2), _ = wait_checkpoint(log_size())
        self.assertGreater(n2, n1)
        r = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d" % (n1, n2))
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual((doc["from"], doc["to"]), (n1, n2))
        self.assertTrue(verify_consistency(n1, n2, r1, r2, proof_hashes(doc)))
        self.assertFalse(verify_consistency(n1, n2, r2, r2, proof_hashes(doc)))
        # Every checkpoint ever handed out is kept and consistent.
        history = cluster.redis.hgetall("log:{log}:checkpoints")
        self.assertIn(str(n1).encode(), history)
        for size, note in history.items():
            _, s, root = open_checkpoint(note.decode(), vkey())
            if 0 < s < n2:
                p = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d" % (s, n2)).json()
                self.assertTrue(verify_consistency(s, n2, root, r2, proof_hashes(p)), s)

    def test_4_query_parsing_is_strict(self):
        (_, _, size, _), _ = wait_checkpoint(log_size())
        for q, status in [("index=0&size=%d" % size, 200),
                          ("index=+0&size=%d" % size, 400),
                          ("index=-1&size=%d" % size, 400),
                          ("index=00&size=%d" % size, 400),
                          ("index=0x1&size=%d" % size, 400),
                          ("index=1e3&size=%d" % size, 400),
                          ("index=0&size=9223372036854775808", 400),
                          ("index=0&size=9223372036854775807", 404),
                          ("index=0", 400),
                          ("index=%d&size=%d" % (size, size), 422),
                          ("index=0&size=%d" % (size + 1000000), 404)]:
            with self.subTest(q=q):
                r = cluster.get("/api/v1/proofs/inclusion?" + q)
                self.assertEqual(r.status, status, r)
                if status != 200:
                    self.assertIn("error", r.json())
        for q, status in [("from=0&to=%d" % size, 422), ("from=2&to=1", 422),
                          ("from=%d&to=%d" % (size, size), 200)]:
            with self.subTest(q=q):
                r = cluster.get("/api/v1/proofs/consistency?" + q)
                self.assertEqual(r.status, status, r)
        # parse.c reads the query: a parameter given twice or with a bad
        # escape is refused naming it (not the first of two taken), an
        # empty one is not canonical, others are ignored.
        for q, code, field in [("index=0&size=%d&index=0" % size, "bad_parameter", "index"),
                               ("index=0&size=%d&size=%d" % (size, size), "bad_parameter", "size"),
                               ("index=%%zz&size=%d" % size, "bad_parameter", "index"),
                               ("index=0&size=1%%00", "bad_parameter", "size"),
                               ("index=&size=%d" % size, "bad_field", "index"),
                               ("size=%d" % size, "missing_field", "index")]:
            with self.subTest(q=q):
                r = cluster.get("/api/v1/proofs/inclusion?" + q)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"]["code"], code)
                self.assertEqual(r.json()["error"]["field"], field)
        r = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d&utm_source=x&from" % (size, size))
        self.assertEqual((r.status, r.json()["error"]["field"]), (400, "from"))
        r = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d&utm_source=x" % (size, size))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(cluster.get("/api/v1/proofs/other").status, 404)

    # ---- bundles ----------------------------------------------------------------
    def verify_bundle(self, bundle):
        path = os.path.join(cluster.dir, "bundle.json")
        with open(path, "w") as f:
            json.dump(bundle, f)
        return subprocess.run([VERIFY, "--verify", path, cluster.root_pub, vkey()],
                              capture_output=True, text=True, timeout=120)

    def bundle(self, lot):
        r = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, lot))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_5_bundle_verifies_and_tampering_fails(self):
        admin, insp = Key("logadmin"), Key("loginsp")
        cluster.enroll(admin, "admin")
        r = cluster.post("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(
            admin, insp, "inspector", prefixes=["880"])))
        self.assertIn(r.status, (200, 201), r)
        c = Chain(self.owner, "BUN")
        envs = [c.next()]
        c.key = insp
        for i in range(4):
            env = insp.sign(TYPE_EVENT, event_payload(
                insp, "inspection.completed", GTIN, "BUN", c.seq, c.prev,
                {"certificate": "C-%d" % c.seq, "result": "pass"}))
            c.prev, c.seq = statement_id(env), c.seq + 1
            envs.append(env)
        post_all(envs)
        b = self.bundle("BUN")
        self.assertEqual(b["chain"], "01/%s/10/BUN" % GTIN)
        self.assertEqual(len(b["events"]), 5)
        # The owner (enrolled by root), the admin, the inspector (by the
        # admin), and the org entry of the test org they all belong to.
        self.assertEqual(len(b["keys"]), 4)
        ops = [json.loads(base64.b64decode(k["envelope"]["payload"]))["op"]
               for k in b["keys"]]
        self.assertEqual(sorted(ops), ["enroll", "enroll", "enroll", "org"])
        res = self.verify_bundle(b)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        # 9 statements' proofs, the index statement's (SPEC 11) and one per
        # receipt (SPEC 8: the index statement after the events; one batch,
        # so one receipt).
        self.assertEqual(len(b["receipts"]), 1, b["receipts"])
        self.assertIn("VERIFIED: 5 events, 4 key entries, 9 signatures, 11 proofs",
                      res.stdout)

        key = "c:{01/%s/10/BUN}:ev" % GTIN
        records = cluster.redis.lrange(key, 0, -1)
        try:
            # A payload byte inside a stored record.
            rid, index, env = records[2].decode().split(" ", 2)
            env = json.loads(env)
            payload = base64.b64decode(env["payload"]).replace(b'"C-2"', b'"C-7"')
            env["payload"] = base64.b64encode(payload).decode()
            cluster.redis.lset(key, 2, "%s %s %s" % (rid, index, json.dumps(
                env, separators=(",", ":"))))
            res = self.verify_bundle(self.bundle("BUN"))
            self.assertEqual(res.returncode, 1, res.stdout)
            self.assertRegex(res.stdout, r"FAIL  event 2 .* bad_signature")
            self.assertRegex(res.stdout, r"FAIL  event 2 .* bad_proof")
            self.assertRegex(res.stdout, r"FAIL  event 3 .* wrong_prev")
            cluster.redis.lset(key, 2, records[2])
            self.assertEqual(self.verify_bundle(self.bundle("BUN")).returncode, 0)

            # Two records swapped.
            cluster.redis.lset(key, 1, records[3])
            cluster.redis.lset(key, 3, records[1])
            res = self.verify_bundle(self.bundle("BUN"))
            self.assertEqual(res.returncode, 1, res.stdout)
            self.assertRegex(res.stdout, r"FAIL  event 1 \(seq 3.* seq_order")
            self.assertRegex(res.stdout, r"FAIL  event 3 \(seq 1.* seq_order")
            cluster.redis.lset(key, 1, records[1])
            cluster.redis.lset(key, 3, records[3])

            # A record removed.
            cluster.redis.lrem(key, 1, records[2])
            res = self.verify_bundle(self.bundle("BUN"))
            self.assertEqual(res.returncode, 1, res.stdout)
            self.assertRegex(res.stdout, r"FAIL  event 2 \(seq 3.* seq_order")
            self.assertRegex(res.stdout, r"FAIL  event 2 .* wrong_prev")
        finally:
            cluster.redis.delete(key)
            cluster.redis.rpush(key, *records)
        self.assertEqual(self.verify_bundle(self.bundle("BUN")).returncode, 0)

        # A revocation after the events is in the bundle and harmless.
        r = cluster.post("/api/v1/keys", admin.sign(TYPE_KEY, revoke_payload(
            admin, insp.keyid, "retired", when=time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime()))))
        self.assertIn(r.status, (200, 201), r)
        b = self.bundle("BUN")
        self.assertEqual(len(b["keys"]), 5)
        res = self.verify_bundle(b)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertEqual(cluster.get("/api/v1/bundles/01/%s/10/NONE" % GTIN).status, 404)

    # ---- a large log ---------------------------------------------------------------
    def test_6_large_log_proofs_from_stored_hashes(self):
        start = log_size()
        envs = []
        key = self.owner
        for i in range(LARGE):
            envs.append(key.sign(TYPE_EVENT, event_payload(
                key, "product.registered", GTIN, "BIG%d" % i, 0, None, REGISTERED)))
        t0 = time.time()
        assigned = post_all(envs)
        ingest = time.time() - t0
        # Index statements may fall between the batches: the leaves are
        # where the server said it put them.
        (_, _, size, root), _ = wait_checkpoint(assigned[-1] + 1, timeout=60)
        harness.settle(cluster, timeout=60)
        self.assertGreaterEqual(size, start + LARGE)
        leaves = {index: leaf_of(e) for index, e in zip(assigned, envs)}
        indexes = random.sample(sorted(leaves), 50) + [assigned[0], assigned[-1]]
        before = commandstats()
        for index in indexes:
            doc = cluster.get("/api/v1/proofs/inclusion?index=%d&size=%d" % (index, size)).json()
            self.assertTrue(verify_inclusion(index, size, leaves[index], proof_hashes(doc), root))
        after = commandstats()
        proofs = len(indexes)
        fcall_ro = after.get("cmdstat_fcall_ro", 0) - before.get("cmdstat_fcall_ro", 0)
        getrange = after.get("cmdstat_getrange", 0) - before.get("cmdstat_getrange", 0)
        # One round trip and one command per proof; inside it one GETRANGE
        # per stored node (at most 2 log2 n), never a walk over the leaves.
        self.assertEqual(fcall_ro, proofs)
        self.assertLessEqual(getrange, proofs * 2 * size.bit_length())
        # Inside each call one GET of the integrated size; every other
        # command in the window is an idle poll of the integrator.
        gets = after.get("cmdstat_get", 0) - before.get("cmdstat_get", 0)
        others = sum(after.values()) - sum(before.values()) - fcall_ro - getrange - gets
        print("\n%d leaves (ingest %.1f s): %d proofs took %d FCALL_RO (1 command and "
              "1 round trip per proof), inside each 1 GET and %.1f GETRANGE on "
              "average; %d other commands meanwhile (integrator polls)" % (
                  size, ingest, proofs, fcall_ro, getrange / proofs, others))
        # A consistency proof across the whole growth, too.
        doc = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d" % (start or 1, size))
        self.assertEqual(doc.status, 200)

    # ---- crash safety -------------------------------------------------------------------
    def test_7_kill_during_integration(self):
        handed_out = [checkpoint()]
        for round_ in range(3):
            envs = [self.owner.sign(TYPE_EVENT, event_payload(
                self.owner, "product.registered", GTIN, "K%d-%d" % (round_, i), 0, None,
                REGISTERED)) for i in range(3000)]
            post_all(envs)
            handed_out.append(checkpoint())
            time.sleep(random.uniform(0.0, 0.3))
            cluster.stop_server(signal.SIGKILL)
            cluster.start_server()
            handed_out.append(checkpoint())
        harness.settle(cluster, timeout=30)
        (_, _, n2, r2), _ = wait_checkpoint(log_size())
        self.assertEqual(n2, log_size())
        for note, _, n1, r1 in handed_out:
            if n1 == 0:
                continue
            doc = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d" % (n1, n2)).json()
            self.assertTrue(verify_consistency(n1, n2, r1, r2, proof_hashes(doc)), n1)
        # The integrated tree holds exactly the logged leaves.
        self.assertEqual(int(cluster.redis.get("log:{log}:integrated")), n2)
        self.assertEqual(cluster.redis.llen("log:{log}:pending"), 0)


if __name__ == "__main__":
    unittest.main()
