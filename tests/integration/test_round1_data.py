"""Round-1 data (docs/PROTOCOL.md 5.1 "Round 1 data", 7): what the previous
version of trace-server stored and this one must still read and serve.

Round 1 accepted an envelope with 1 to 4 signatures and stored all of them,
and it enrolled public keys that are refused today (weak_public_key).  The
tests put such data into Redis the way round 1 did, then restart
trace-server on it, as an upgrade would:

  * multi-signature envelopes: a statement is posted through the API (one
    valid signature), then its stored record "<id> <logIndex> <envelope>"
    in c:{<chain>}:ev or k:entries is rewritten to carry a second, junk
    signature in its signatures list, which is what round 1 stored for a
    client that sent two.  The id, the ids hash and the log leaf do not
    depend on signatures and stay as they are.
  * a weak enrollment and an event signed by that key: appended through
    the store's own Functions (trace_append_key, trace_append_event) with
    the arguments round 1's server passed after accepting them.

Every answer that carries stored envelopes must be 200 (not 503) and
carry exactly one signature, the one that verifies; the bundle must pass
`trace-agent verify`, and a weak enrollment must read as "never
enrolled" (401 unknown_key) while the bundle still shows it, so that its
verifier reports it (bad_key_entry)."""
import base64
import hashlib
import json
import os
import subprocess
import time
import unittest

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, b64, enroll_payload,
                     event_payload, pae, settle, statement_id)

GTIN = "08801234567893"
LOT = "R1-SIGS"
WEAK_LOT = "R1-WEAK"
cluster = None


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()


def tearDownModule():
    cluster.stop()


def canonical(env):
    """The stored form (PROTOCOL 5.1): members in order, compact JSON."""
    return json.dumps(env, separators=(",", ":"))


def junk_signature(keyid):
    return {"keyid": keyid, "sig": b64(os.urandom(64))}


def rewrite_record(list_key, env, signatures):
    """Give the stored record of env (in list list_key) these signatures,
    keeping its id and log index: round 1's form of the same statement."""
    sid = statement_id(env)
    for i, rec in enumerate(cluster.redis.lrange(list_key, 0, -1)):
        rid, index, _ = rec.decode().split(" ", 2)
        if rid == sid:
            round1 = dict(env, signatures=signatures)
            cluster.redis.lset(list_key, i, "%s %s %s" % (rid, index, canonical(round1)))
            return int(index)
    raise AssertionError("no stored record %s in %s" % (sid, list_key))


def restart():
    """trace-server starts on data the previous version wrote (no cache
    holds what it read before)."""
    cluster.stop_server()
    cluster.start_server()


def vkey():
    return cluster.get("/api/v1/log").json()["vkey"]


def agent_verify(bundle, name):
    path = os.path.join(cluster.dir, name)
    with open(path, "w") as f:
        json.dump(bundle, f)
    # --server: the agent remembers the largest checkpoint it verified
    # (SPEC 10) and asks this server to prove a later one consistent.
    return subprocess.run([harness.AGENT, "verify", path, "--root", cluster.root_pub,
                           "--log-vkey", vkey(), "--server", cluster.public_url],
                          capture_output=True, text=True, timeout=120)


def chain_key(lot):
    return "c:{01/%s/10/%s}:ev" % (GTIN, lot)


class MultiSignatureEnvelopes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.brand, cls.insp, cls.reg = Key("r1brand"), Key("r1insp"), Key("r1reg")
        cluster.enroll(cls.brand, "brand", prefixes=["880"])
        cluster.enroll(cls.reg, "regulator")
        # The inspector's enrollment becomes a round-1 one with two
        # signatures: the root's and a junk one hinted as the regulator.
        cls.enroll_env = cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, cls.insp, "inspector", prefixes=["880"]))
        r = cluster.post("/api/v1/keys", cls.enroll_env)
        assert r.status == 201, r
        cls.envs = [cls.brand.sign(TYPE_EVENT, event_payload(
            cls.brand, "product.registered", GTIN, LOT, 0, None, REGISTERED))]
        cls.envs.append(cls.insp.sign(TYPE_EVENT, event_payload(
            cls.insp, "inspection.completed", GTIN, LOT, 1, statement_id(cls.envs[0]),
            {"certificate": "C-R1", "result": "pass"})))
        for env in cls.envs:
            r = cluster.post("/api/v1/events", env)
            assert r.status == 201, r
        settle(cluster)
        real = [env["signatures"][0] for env in cls.envs]
        # Appended after the real one, as a relay padding it would have;
        # and in front of it, hinted as the signer, so the one kept must be
        # the one that verifies, not the first nor the first hinted.
        cls.indexes = [
            rewrite_record(chain_key(LOT), cls.envs[0],
                           [real[0], junk_signature(cls.reg.keyid)]),
            rewrite_record(chain_key(LOT), cls.envs[1],
                           [junk_signature(cls.insp.keyid), real[1]]),
        ]
        cls.enroll_index = rewrite_record(
            "k:entries", cls.enroll_env,
            [cls.enroll_env["signatures"][0], junk_signature(cls.reg.keyid)])
        restart()

    def assertServed(self, served, env):
        """served is env exactly: its one valid signature and nothing else."""
        self.assertEqual(len(served["signatures"]), 1, served)
        self.assertEqual(served, env)

    def test_the_store_holds_round1_data(self):
        # The server reads the old form; it does not rewrite it.
        for rec in cluster.redis.lrange(chain_key(LOT), 0, -1):
            env = json.loads(rec.decode().split(" ", 2)[2])
            self.assertEqual(len(env["signatures"]), 2)

    def test_chain(self):
        r = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, LOT))
        self.assertEqual(r.status, 200, r)
        events = r.json()["events"]
        self.assertEqual(len(events), 2)
        for i, (ev, env) in enumerate(zip(events, self.envs)):
            self.assertEqual(ev["id"], statement_id(env))
            self.assertEqual(ev["logIndex"], self.indexes[i])
            self.assertServed(ev["envelope"], env)
            self.assertEqual(ev["payload"], json.loads(base64.b64decode(env["payload"])))
        self.assertEqual(r.json()["head"]["id"], statement_id(self.envs[1]))

    def test_events_by_id(self):
        for i, env in enumerate(self.envs):
            r = cluster.get("/api/v1/events/" + statement_id(env))
            self.assertEqual(r.status, 200, r)
            doc = r.json()
            self.assertEqual((doc["id"], doc["seq"], doc["logIndex"]),
                             (statement_id(env), i, self.indexes[i]))
            self.assertServed(doc["envelope"], env)
        r = cluster.get("/api/v1/events/" + statement_id(self.enroll_env))
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual((doc["kind"], doc["id"], doc["logIndex"]),
                         ("key", statement_id(self.enroll_env), self.enroll_index))
        self.assertServed(doc["envelope"], self.enroll_env)

    def test_key_registry(self):
        r = cluster.get("/api/v1/keys/" + self.insp.keyid)
        self.assertEqual(r.status, 200, r)
        entries = r.json()["entries"]
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["id"], statement_id(self.enroll_env))
        self.assertServed(entries[0]["envelope"], self.enroll_env)
        r = cluster.get("/api/v1/keys")
        self.assertEqual(r.status, 200, r)
        listed = [e for e in r.json()["entries"]
                  if e["id"] == statement_id(self.enroll_env)]
        self.assertEqual(len(listed), 1)
        self.assertServed(listed[0]["envelope"], self.enroll_env)
        for e in r.json()["entries"]:
            self.assertEqual(len(e["envelope"]["signatures"]), 1, e)

    def test_bundle_verifies(self):
        r = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, LOT))
        self.assertEqual(r.status, 200, r)
        bundle = r.json()
        self.assertEqual([statement_id(e["envelope"]) for e in bundle["events"]],
                         [statement_id(env) for env in self.envs])
        for item, env in zip(bundle["events"], self.envs):
            self.assertServed(item["envelope"], env)
        enrolls = [k for k in bundle["keys"]
                   if statement_id(k["envelope"]) == statement_id(self.enroll_env)]
        self.assertEqual(len(enrolls), 1)
        self.assertServed(enrolls[0]["envelope"], self.enroll_env)
        for item in bundle["keys"]:
            self.assertEqual(len(item["envelope"]["signatures"]), 1, item)
        res = agent_verify(bundle, "round1.json")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("verified: ", res.stdout)
        self.assertEqual(res.stdout.count("\nok    event "), 2, res.stdout)

    def test_pages(self):
        path = "/01/%s/10/%s" % (GTIN, LOT)
        r = cluster.get(path)
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.headers["content-type"])
        r = cluster.request("GET", path, headers={"Accept": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["verdict"]["status"], "genuine", r)
        self.assertEqual(cluster.get("/inspect" + path).status, 200)

    def test_a_round1_enrolled_key_still_signs(self):
        # The key cache reads the two-signature enrollment (keycache.c):
        # a new statement by that key is accepted (another lot, so the
        # chain above stays as it is).
        lot = LOT + "-NEW"
        first = self.brand.sign(TYPE_EVENT, event_payload(
            self.brand, "product.registered", GTIN, lot, 0, None, REGISTERED))
        self.assertEqual(cluster.post("/api/v1/events", first).status, 201)
        env = self.insp.sign(TYPE_EVENT, event_payload(
            self.insp, "inspection.completed", GTIN, lot, 1, statement_id(first),
            {"certificate": "C-R1-2", "result": "pass"}))
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 201, r)


class SmallOrderKey:
    """A key round 1 could enroll: the identity point, of order 1, for which
    R = identity, S = 0 is a signature of every message."""

    def __init__(self, name):
        self.name = name
        self.public = bytes([1]) + bytes(31)
        self.keyid = hashlib.sha256(self.public).hexdigest()[:32]

    def sign(self, payload_type, payload):
        payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return {"payloadType": payload_type, "payload": b64(payload),
                "signatures": [{"keyid": self.keyid, "sig": b64(self.public + bytes(32))}]}


def leaf_hash(env):
    """RFC 6962 leaf hash of a statement: SHA-256(0x00 || PAE)."""
    return hashlib.sha256(b"\x00" + pae(env["payloadType"],
                                        base64.b64decode(env["payload"]))).digest()


def round1_append_key(env, op, keyid, signer, signer_is_root):
    """What round 1's POST /api/v1/keys did once it accepted env."""
    reply = cluster.redis.execute_command(
        "FCALL", "trace_append_key", 6, "k:entries", "ids", "k:enroll", "k:revoke",
        "log:{log}:size", "log:{log}:pending", statement_id(env), op, keyid, signer,
        leaf_hash(env), canonical(env), "1" if signer_is_root else "0")
    assert reply[0] == b"ok", reply


def round1_append_event(env, lot, seq, prev, signer):
    """What round 1's POST /api/v1/events did once it accepted env."""
    chain = "01/%s/10/%s" % (GTIN, lot)
    reply = cluster.redis.execute_command(
        "FCALL", "trace_append_event", 5, "c:{%s}:ev" % chain, "ids", "k:revoke",
        "log:{log}:size", "log:{log}:pending", statement_id(env), seq, prev or "",
        signer, leaf_hash(env), canonical(env), chain)
    assert reply[0] == b"ok", reply


class WeakLegacyEnrollment(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.weak = SmallOrderKey("r1weak")
        # Round 1 knew no org registry: a free-text org.
        cls.enroll_env = cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, cls.weak, "brand", org="Round One Brand", prefixes=["880"]))
        # Refused today ...
        r = cluster.post("/api/v1/keys", cls.enroll_env)
        assert r.status == 422 and r.json()["error"]["code"] == "weak_public_key", r
        # ... accepted and stored by round 1, with a statement by that key.
        round1_append_key(cls.enroll_env, "enroll", cls.weak.keyid, cluster.root.keyid, True)
        cls.event_env = cls.weak.sign(TYPE_EVENT, event_payload(
            cls.weak, "product.registered", GTIN, WEAK_LOT, 0, None, REGISTERED))
        round1_append_event(cls.event_env, WEAK_LOT, 0, None, cls.weak.keyid)
        # And one that round 1 stored with two signatures (a relay's
        # padding): no signature can be kept as "the one that verifies"
        # under a key that is not enrolled today.
        env = cls.weak.sign(TYPE_EVENT, event_payload(
            cls.weak, "product.registered", GTIN, WEAK_LOT + "-M", 0, None, REGISTERED))
        cls.multi_env = dict(env, signatures=env["signatures"] + [
            junk_signature(cls.weak.keyid)])
        round1_append_event(cls.multi_env, WEAK_LOT + "-M", 0, None, cls.weak.keyid)
        # A pass inspection by that key: it would clear, so it counts for
        # nothing (fold.h signer_unenrolled).
        reg = cls.weak.sign(TYPE_EVENT, event_payload(
            cls.weak, "product.registered", GTIN, WEAK_LOT + "-P", 0, None, REGISTERED))
        round1_append_event(reg, WEAK_LOT + "-P", 0, None, cls.weak.keyid)
        cls.pass_env = cls.weak.sign(TYPE_EVENT, event_payload(
            cls.weak, "inspection.completed", GTIN, WEAK_LOT + "-P", 1, statement_id(reg),
            {"certificate": "C-W", "result": "pass"}))
        round1_append_event(cls.pass_env, WEAK_LOT + "-P", 1, statement_id(reg),
                            cls.weak.keyid)
        settle(cluster)
        restart()

    def test_the_key_is_not_enrolled(self):
        # 401 unknown_key, as for a key never enrolled: not 503.
        env = self.weak.sign(TYPE_EVENT, event_payload(
            self.weak, "product.registered", GTIN, WEAK_LOT + "-2", 0, None, REGISTERED))
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["error"]["code"], "unknown_key")
        self.assertEqual(r.json()["error"]["field"], "payload.signer")

    def test_the_stored_data_is_served(self):
        r = cluster.get("/api/v1/keys/" + self.weak.keyid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["entries"][0]["envelope"], self.enroll_env)
        self.assertEqual(cluster.get("/api/v1/keys").status, 200)
        r = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, WEAK_LOT))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["events"][0]["envelope"], self.event_env)

    def test_a_multi_signature_envelope_is_served_as_stored(self):
        """It cannot be cut to a verified signature (its key is not
        enrolled): the chain, the statement and the bundle serve it as
        stored (not 503), and the bundle's verifier reports it."""
        chain = "01/%s/10/%s-M" % (GTIN, WEAK_LOT)
        r = cluster.get("/api/v1/chains/" + chain)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["events"][0]["envelope"], self.multi_env)
        r = cluster.get("/api/v1/events/" + statement_id(self.multi_env))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["envelope"], self.multi_env)
        r = cluster.get("/api/v1/bundles/" + chain)
        self.assertEqual(r.status, 200, r)
        res = agent_verify(r.json(), "weak-multi.json")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("NOT VERIFIED", res.stdout)

    def test_a_pass_by_the_key_counts_for_nothing(self):
        """The server's fold reads the key's statements as bundle_verify
        can vouch for none of them: its pass is ignored, the inspection
        status stays none, and the bundle does not verify."""
        chain = "01/%s/10/%s-P" % (GTIN, WEAK_LOT)
        r = cluster.get("/api/v1/chains/" + chain)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"]["inspection"]["status"], "none", doc["status"])
        self.assertTrue(doc["events"][1].get("ignored"), doc["events"][1])
        res = agent_verify(cluster.get("/api/v1/bundles/" + chain).json(), "weak-pass.json")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertNotIn("inspection: pass", res.stdout)

    def test_the_bundle_shows_the_entry_and_fails_on_it(self):
        r = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, WEAK_LOT))
        self.assertEqual(r.status, 200, r)
        bundle = r.json()
        self.assertEqual([k["envelope"] for k in bundle["keys"]], [self.enroll_env])
        res = agent_verify(bundle, "weak.json")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"FAIL  key entry .*not a valid key entry: .*small order")
        self.assertIn("NOT VERIFIED", res.stdout)

    def test_pages_say_not_verifiable(self):
        path = "/01/%s/10/%s" % (GTIN, WEAK_LOT)
        r = cluster.request("GET", path, headers={"Accept": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["verdict"]["status"], "not_verifiable")
        self.assertEqual(r.json()["verdict"]["code"], "bad_key_entry")
        self.assertEqual(cluster.get(path).status, 200)


FREE_LOT = "R1-FREE"


class FreeTextOrg(unittest.TestCase):
    """Round 1 had no org registry (SPEC 8 "Data from round 1"): keys were
    enrolled with a free-text org, an admin among them enrolled others (an
    importer here, which registers lots and issues recalls).
    Such a Redis keeps serving, and what those keys signed before the log's
    first index statement (where round 2 began) stays genuine; what they
    sign from then on follows the new rules (PROTOCOL 7.1), at ingest and
    in every verifier, even where no org entry exists yet.  A cluster of
    its own, swapped in for this class: round 1's data must lie before the
    first index statement, and the module's log has had index statements
    since its first enrollment."""

    @classmethod
    def setUpClass(cls):
        global cluster
        cls.saved = cluster
        cluster = harness.Cluster()
        cluster.start_redis()
        cluster.make_log_key()
        cluster.start_round1_server()
        root = cluster.root
        cls.admin, cls.brand = Key("r1admin"), Key("r1importer")
        cls.admin_env = root.sign(TYPE_KEY, enroll_payload(
            root, cls.admin, "admin", org="Round One Cosmetics"))
        cls.brand_env = cls.admin.sign(TYPE_KEY, enroll_payload(
            cls.admin, cls.brand, "importer", org="Round One Cosmetics", prefixes=["880"]))
        # Refused today: the org is not registered ...
        r = cluster.post("/api/v1/keys", cls.admin_env)
        assert r.status == 422 and r.json()["error"]["code"] == "unknown_org", r
        # ... stored by round 1, with a lot the brand registered.
        round1_append_key(cls.admin_env, "enroll", cls.admin.keyid, root.keyid, True)
        round1_append_key(cls.brand_env, "enroll", cls.brand.keyid, cls.admin.keyid, False)
        cls.reg_env = cls.brand.sign(TYPE_EVENT, event_payload(
            cls.brand, "product.registered", GTIN, FREE_LOT, 0, None, REGISTERED))
        round1_append_event(cls.reg_env, FREE_LOT, 0, None, cls.brand.keyid)
        cls.round1_last = int(cluster.redis.get("log:{log}:size")) - 1
        assert harness.index_statements(cluster) == {}
        # The upgraded server starts on that store: its first index
        # statement follows all of it.
        cluster.stop_server()
        cluster.start_server()
        settle(cluster)
        cls.first = min(harness.index_statements(cluster))
        assert cls.first > cls.round1_last, (cls.first, cls.round1_last)
        # The attacks, by whoever can append to the log without ingest's
        # checks (the store's own Functions, as round 1 called them), after
        # round 2 began and before any org entry exists: the round-1
        # importer registers a new lot, and the round-1 admin enrolls a
        # key of its free-text org, which registers another.
        cls.late_reg = cls.brand.sign(TYPE_EVENT, event_payload(
            cls.brand, "product.registered", GTIN, FREE_LOT + "-LATE", 0, None,
            REGISTERED))
        round1_append_event(cls.late_reg, FREE_LOT + "-LATE", 0, None, cls.brand.keyid)
        cls.mole = Key("r1mole")
        cls.mole_env = cls.admin.sign(TYPE_KEY, enroll_payload(
            cls.admin, cls.mole, "brand", org="Round One Cosmetics", prefixes=["880"]))
        round1_append_key(cls.mole_env, "enroll", cls.mole.keyid, cls.admin.keyid, False)
        cls.mole_reg = cls.mole.sign(TYPE_EVENT, event_payload(
            cls.mole, "product.registered", GTIN, FREE_LOT + "-MOLE", 0, None,
            REGISTERED))
        round1_append_event(cls.mole_reg, FREE_LOT + "-MOLE", 0, None, cls.mole.keyid)
        settle(cluster)
        assert not cluster.redis.exists("k:org"), "an org entry exists"

    @classmethod
    def tearDownClass(cls):
        global cluster
        cluster.stop()
        cluster = cls.saved

    def refused(self, path, env, status, code):
        settle(cluster)
        before = cluster.snapshot()
        r = cluster.post(path, env)
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()["error"]["code"], code, r)
        settle(cluster)
        self.assertEqual(cluster.snapshot(), before)

    def bundle(self, lot):
        r = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, lot))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_the_lot_is_served_and_genuine(self):
        path = "/01/%s/10/%s" % (GTIN, FREE_LOT)
        # A page never waits for the integrator (SPEC 7): "genuine" once a
        # signed checkpoint covers the lot.
        settle(cluster)
        deadline = time.time() + 10
        while 'data-verdict="pending"' in cluster.get(path).body.decode():
            self.assertLess(time.time(), deadline, "the verdict stays pending")
            time.sleep(0.1)
        r = cluster.get(path + "?lang=en", headers={"Accept": "text/html"})
        self.assertEqual(r.status, 200, r)
        self.assertIn('data-verdict="genuine"', r.body.decode())
        r = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, FREE_LOT))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["events"][0]["envelope"], self.reg_env)
        r = cluster.get("/api/v1/keys/" + self.brand.keyid)
        self.assertEqual(r.json()["entries"][0]["payload"]["org"], "Round One Cosmetics")

    def test_the_bundle_verifies_by_round_1_rules(self):
        bundle = self.bundle(FREE_LOT)
        # No org entry: the free-text org names none.  The index statement
        # names where round 2 began: after all of it.
        self.assertEqual([k["envelope"] for k in bundle["keys"]],
                         [self.admin_env, self.brand_env])
        st = json.loads(base64.b64decode(bundle["index"]["statement"]["envelope"]["payload"]))
        self.assertEqual(st["first"], self.first)
        res = agent_verify(bundle, "free-text.json")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def assertNotGenuine(self, lot, code):
        """The page's verdict (the server's own bundle_verify) says what
        trace-agent verify says."""
        r = cluster.request("GET", "/01/%s/10/%s" % (GTIN, lot),
                            headers={"Accept": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["verdict"]["status"], r.json()["verdict"]["code"]),
                         ("not_verifiable", code), r.json()["verdict"])

    def test_a_registration_after_round_2_began_does_not_verify(self):
        """The round-1 importer's registration logged after the first index
        statement is judged by today's rule: a key with no registered org
        registers no lot (gtin_outside_org), as ingest would have said."""
        bundle = self.bundle(FREE_LOT + "-LATE")
        self.assertEqual([k["envelope"] for k in bundle["keys"]],
                         [self.admin_env, self.brand_env])
        res = agent_verify(bundle, "free-text-late.json")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"FAIL  event 0 \(seq 0, product.registered\): signer %s: "
                         r"key %s's org Round One Cosmetics has no GTIN prefix" %
                         (self.brand.keyid, self.brand.keyid))
        self.assertIn("NOT VERIFIED", res.stdout)
        self.assertNotGenuine(FREE_LOT + "-LATE", "gtin_outside_org")

    def test_an_enrollment_after_round_2_began_does_not_verify(self):
        """The round-1 admin's enrollment logged after the first index
        statement is judged by today's rules: its org is not registered
        (unknown_org), so the key it enrolled signs nothing."""
        bundle = self.bundle(FREE_LOT + "-MOLE")
        self.assertEqual([k["envelope"] for k in bundle["keys"]],
                         [self.admin_env, self.mole_env])
        res = agent_verify(bundle, "free-text-mole.json")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"FAIL  key entry .*org \"Round One Cosmetics\" "
                         r"is not registered")
        self.assertRegex(res.stdout, r"FAIL  event 0 \(seq 0, product.registered\)")
        self.assertIn("NOT VERIFIED", res.stdout)
        self.assertNotGenuine(FREE_LOT + "-MOLE", "unknown_org")

    def test_the_key_keeps_signing_but_registers_no_new_lot(self):
        env = self.brand.sign(TYPE_EVENT, event_payload(
            self.brand, "product.registered", GTIN, FREE_LOT + "-2", 0, None, REGISTERED))
        self.refused("/api/v1/events", env, 403, "gtin_outside_org")
        # A recall of its own lot it still issues (a warning always counts).
        env = self.brand.sign(TYPE_EVENT, event_payload(
            self.brand, "recall.issued", GTIN, FREE_LOT, 1, statement_id(self.reg_env),
            {"reason": "Microbial limit exceeded", "severity": 1, "action": "Stop"}))
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 201, r)

    def test_the_round_1_admin_enrolls_and_revokes_nothing_new(self):
        k = Key("r1late")
        # Before any org entry exists, as after.
        self.refused("/api/v1/keys", self.admin.sign(TYPE_KEY, enroll_payload(
            self.admin, k, "brand", org="Round One Cosmetics", prefixes=["880"])),
            422, "unknown_org")
        cluster.ensure_org()
        self.refused("/api/v1/keys", self.admin.sign(TYPE_KEY, enroll_payload(
            self.admin, k, "brand")), 403, "wrong_org")
        self.refused("/api/v1/keys", self.admin.sign(TYPE_KEY, enroll_payload(
            self.admin, k, "brand", org="Round One Cosmetics", prefixes=["880"])),
            422, "unknown_org")
        self.refused("/api/v1/keys", self.admin.sign(TYPE_KEY, harness.revoke_payload(
            self.admin, self.brand.keyid)), 403, "wrong_org")


class PreviousVersionRecalls(unittest.TestCase):
    """What the version before receipt times (SPEC 8, issue 17) wrote: the
    recall index sets keyed "<issue time + 10^11>-<id>", no
    log:{log}:lx:times and no recalls:order.  The server restarted on it rewrites both at
    start-up, once, and serves recalls in receipt order with "received"."""

    def recall(self, lot, when, data=None):
        reg = self.brand.sign(TYPE_EVENT, event_payload(
            self.brand, "product.registered", GTIN, lot, 0, None, REGISTERED))
        self.assertEqual(cluster.post("/api/v1/events", reg).status, 201)
        head = statement_id(reg)
        env = self.importer.sign(TYPE_EVENT, event_payload(
            self.importer, "recall.issued", GTIN, lot, 1, head,
            data or {"reason": "previous " + lot, "severity": 2, "action": "a"},
            when=when))
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 201, r)
        return statement_id(env), r.json()["logIndex"]

    @staticmethod
    def index_sets():
        r = cluster.redis
        return sorted(k for k in r.keys("recalls:*") + r.keys("c:{*}:recalls")
                      if r.type(k) == b"zset")

    def test_restart_upgrades_old_recall_indexes(self):
        self.importer, self.brand = Key("prev-importer"), Key("prev-brand")
        cluster.enroll(self.importer, "importer", prefixes=["880"])
        cluster.enroll(self.brand, "brand", prefixes=["880"])
        now = int(time.time())
        # Signed times in the opposite order of receipt.
        first, i1 = self.recall("PV-1", harness.now_text(-3600))
        settle(cluster)
        second, i2 = self.recall("PV-2", harness.now_text(-7200))
        settle(cluster)
        issued = {first: now - 3600, second: now - 7200}
        # Back to the previous version's form.
        r = cluster.redis
        for key in self.index_sets():
            for m in r.zrange(key, 0, -1):
                m = m.decode()
                rid = m[13:]
                if rid in issued:
                    r.zrem(key, m)
                    r.zadd(key, {"%012d-%s" % (issued[rid] + 10 ** 11, rid): 0})
        r.delete("log:{log}:lx:times", "recalls:order")
        self.assertTrue(any(m.decode().startswith("1")
                            for m in r.zrange("recalls:all", 0, -1)))
        restart()
        statements = harness.index_statements(cluster)
        self.assertEqual(r.zcard("log:{log}:lx:times"), len(statements))
        for key in self.index_sets():
            for m in r.zrange(key, 0, -1):
                rid = m.decode()[13:]
                where = r.hget("ids", rid).decode().split(" ")
                self.assertEqual(m.decode(), "%012d-%s" % (int(where[1]), rid), key)
        got = cluster.get("/api/v1/recalls?lot=PV-1").json()["recalls"]
        self.assertEqual([x["id"] for x in got], [first])
        times = {i: json.loads(base64.b64decode(e["payload"]))["time"]
                 for i, e in statements.items()}
        self.assertEqual(got[0]["received"], times[min(i for i in times if i > i1)])
        both = [x["id"] for x in cluster.get("/api/v1/recalls?gtin=%s&limit=500" % GTIN)
                .json()["recalls"] if x["id"] in issued]
        self.assertEqual(both, [second, first])
        # An upgraded recall can still be closed (its member is found from
        # its log index).
        env = self.importer.sign(TYPE_EVENT, event_payload(
            self.importer, "recall.closed", GTIN, "PV-1", 2, first,
            {"recall": first, "outcome": "destroyed"}))
        self.assertEqual(cluster.post("/api/v1/events", env).status, 201)
        settle(cluster)
        self.assertEqual(cluster.get("/api/v1/recalls?lot=PV-1&status=closed")
                         .json()["recalls"][0]["id"], first)
        # Once is enough: a second start changes no recall index.
        before = {k: r.zrange(k, 0, -1) for k in self.index_sets()}
        before_times = r.zrange("log:{log}:lx:times", 0, -1)
        restart()
        self.assertEqual({k: r.zrange(k, 0, -1) for k in self.index_sets()}, before)
        self.assertEqual(r.zrange("log:{log}:lx:times", 0, -1), before_times)
        self.assertEqual(r.get("recalls:order"), b"log")


if __name__ == "__main__":
    unittest.main()
