"""trace-agent verify: bundles built here independently (PyNaCl signatures,
an RFC 6962 tree and a C2SP signed checkpoint written in Python) must
verify, and each single tampering must fail with its reason named: a
payload byte, a signature, a removed event, reordered events, a key revoked
before an event, a bad inclusion proof, a checkpoint by another key, the
wrong trust anchor.  With a server that serves bundles (issue 5), the same
for `verify --gtin --lot`.  --previous: a checkpoint seen before must be
consistent with the bundle's (a fork fails, offline and with the server's
real consistency proof) and the file keeps the newer one.
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

import nacl.signing

import harness
import lotindex_py
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, enroll_payload,
                     event_payload, pae, revoke_payload, statement_id)

AGENT = harness.AGENT
GTIN = "08801234567893"
LOT = "L2311A"
ORIGIN = "trace.test/log"


# ---- an independent RFC 6962 / C2SP implementation ------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def inclusion(m, leaves):
    """RFC 6962 2.1.1 PATH(m, D[n])."""
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if m < k:
        return inclusion(m, leaves[:k]) + [mth(leaves[k:])]
    return inclusion(m - k, leaves[k:]) + [mth(leaves[:k])]


class LogKey:
    def __init__(self, name="trace.test/log", signing=None):
        self.name = name
        self.signing = signing or nacl.signing.SigningKey(os.urandom(32))
        pub = bytes(self.signing.verify_key)
        self.hash = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
        self.vkey = "%s+%s+%s" % (name, self.hash.hex(),
                                   base64.b64encode(b"\x01" + pub).decode())

    def sign(self, text):
        sig = self.signing.sign(text.encode()).signature
        return text + "\n\u2014 %s %s\n" % (self.name,
                                           base64.b64encode(self.hash + sig).decode())


class Log:
    """Statements in log order and a bundle for one chain."""

    def __init__(self, log_key):
        self.log_key = log_key
        self.entries = []          # (kind, envelope)

    def add(self, kind, envelope):
        self.entries.append((kind, envelope))
        return len(self.entries) - 1

    def leaves(self):
        return [leaf_hash(pae(e["payloadType"], base64.b64decode(e["payload"])))
                for _, e in self.entries]

    def checkpoint(self, size=None):
        """The signed checkpoint of the first size entries (default all)."""
        leaves = self.leaves()[:size]
        return self.log_key.sign("%s\n%d\n%s\n" % (
            ORIGIN, len(leaves), base64.b64encode(mth(leaves)).decode()))

    def bundle(self, chain="01/%s/10/%s" % (GTIN, LOT), index=True):
        """The bundle of chain.  With index (SPEC 11), as the server's
        integrator does: the lot index over every entry, an index
        statement signed by the log key as the last leaf, and the index
        proofs of the lot and of every key named or signing (lotindex_py,
        written from docs/PROTOCOL.md 9.10)."""
        entries = list(self.entries)
        if index:
            ix = lotindex_py.Index()
            for i, (_, env) in enumerate(entries):
                ix.apply(env, i)
            payload = lotindex_py.statement_payload(
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), len(entries),
                ix.root(), len(ix.entries))
            sig = self.log_key.signing.sign(pae(lotindex_py.TYPE_INDEX, payload)).signature
            statement = {"payloadType": lotindex_py.TYPE_INDEX,
                         "payload": base64.b64encode(payload).decode(),
                         "signatures": [{"sig": base64.b64encode(sig).decode()}]}
            entries.append(("index", statement))
        leaves = [leaf_hash(pae(e["payloadType"], base64.b64decode(e["payload"])))
                  for _, e in entries]
        checkpoint = self.log_key.sign("%s\n%d\n%s\n" % (
            ORIGIN, len(leaves), base64.b64encode(mth(leaves)).decode()))
        items = {"event": [], "key": [], "index": []}
        for i, (kind, env) in enumerate(entries):
            items[kind].append({"envelope": env, "logIndex": i,
                                "proof": [base64.b64encode(h).decode()
                                          for h in inclusion(i, leaves)]})
        b = {"chain": chain, "checkpoint": checkpoint,
             "events": items["event"], "keys": items["key"]}
        if index:
            keyids = []
            for kind, env in self.entries:
                p = json.loads(base64.b64decode(env["payload"]))
                for k in ([p["keyid"]] if kind == "key" else []) + [p["signer"]]:
                    if k not in keyids:
                        keyids.append(k)
            b["index"] = {
                "statement": items["index"][0],
                "lot": base64.b64encode(ix.prove(lotindex_py.chain_key(chain))).decode(),
                "keys": [{"keyid": k, "proof": base64.b64encode(
                    ix.prove(lotindex_py.keyid_key(k))).decode()} for k in keyids]}
        return b


class Verify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="trace-verify-")
        cls.root = Key("root")
        cls.root_key, cls.root_pub = cls.root.write(cls.dir)
        cls.log_key = LogKey()
        cls.brand, cls.insp = Key("brand"), Key("insp")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def chain_log(self, revoke_before_last=False, revoke_after=False):
        """root enrolls brand and inspector; brand registers; the inspector
        signs three events (optionally revoked before the third)."""
        log = Log(self.log_key)
        log.add("key", self.root.sign(TYPE_KEY, enroll_payload(
            self.root, self.brand, "brand", prefixes=["880"])))
        log.add("key", self.root.sign(TYPE_KEY, enroll_payload(
            self.root, self.insp, "inspector", prefixes=["880"])))
        prev, seq = None, 0
        steps = [(self.brand, "product.registered", REGISTERED)] + [
            (self.insp, "inspection.completed", {"certificate": "C-%d" % i, "result": "pass"})
            for i in range(3)]
        for key, etype, data in steps:
            if revoke_before_last and seq == 3:
                log.add("key", self.root.sign(TYPE_KEY, revoke_payload(
                    self.root, self.insp.keyid, "laptop stolen")))
            env = key.sign(TYPE_EVENT, event_payload(
                key, etype, GTIN, LOT, seq, prev, data, when="2026-11-20T08:30:00+09:00"))
            log.add("event", env)
            prev, seq = statement_id(env), seq + 1
        if revoke_after:
            log.add("key", self.root.sign(TYPE_KEY, revoke_payload(
                self.root, self.insp.keyid, "retired")))
        return log

    def verify(self, bundle, root_pub=None, vkey=None, extra=(), env=None):
        path = os.path.join(self.dir, "bundle.json")
        with open(path, "w") as f:
            json.dump(bundle, f)
        # These logs are made up per test under one log key, so they fork
        # one another: each run gets a log memory of its own (test_memory
        # tests the memory).
        if "--state" not in extra and "--no-state" not in extra:
            extra = list(extra) + ["--state", tempfile.mkdtemp(dir=self.dir)]
        return subprocess.run([AGENT, "verify", path, "--root", root_pub or self.root_pub,
                               "--log-vkey", vkey or self.log_key.vkey] + list(extra),
                              capture_output=True, text=True, timeout=60, env=env)

    def assertFails(self, bundle, *reasons, **kw):
        r = self.verify(bundle, **kw)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("NOT VERIFIED", r.stdout)
        for reason in reasons:
            self.assertRegex(r.stdout, reason)
        return r

    # ---- passing ------------------------------------------------------------
    def test_valid_bundle_verifies(self):
        r = self.verify(self.chain_log().bundle())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Six statements and the index statement (SPEC 11).
        self.assertIn("ok    checkpoint: %s, size 7" % ORIGIN, r.stdout)
        self.assertIn("ok    complete: as of checkpoint 7 of %s" % ORIGIN, r.stdout)
        self.assertEqual(r.stdout.count("\nok    event "), 4)
        self.assertEqual(r.stdout.count("\nok    key entry "), 2)
        self.assertNotIn("FAIL", r.stdout)
        self.assertRegex(r.stdout, r"verified: \d+ checks passed")

    def test_vkey_from_file_and_stdin_bundle(self):
        vkey = os.path.join(self.dir, "log.vkey")
        with open(vkey, "w") as f:
            f.write(self.log_key.vkey + "\n")
        r = subprocess.run([AGENT, "verify", "-", "--root", self.root_pub, "--log-vkey", vkey],
                           input=json.dumps(self.chain_log().bundle()),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_revocation_after_the_events_does_not_affect_them(self):
        r = self.verify(self.chain_log(revoke_after=True).bundle())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("revoke %s" % self.insp.keyid, r.stdout)

    # ---- each single tampering fails, with its reason --------------------------
    def test_payload_byte(self):
        b = self.chain_log().bundle()
        env = b["events"][2]["envelope"]
        payload = base64.b64decode(env["payload"]).replace(b"C-1", b"C-7")
        env["payload"] = base64.b64encode(payload).decode()
        self.assertFails(b, r"FAIL  event 2 .*signature", r"FAIL  event 2 .*inclusion proof",
                         r"FAIL  event 3 .*prev does not link")

    def test_signature_byte(self):
        b = self.chain_log().bundle()
        sig = bytearray(base64.b64decode(b["events"][1]["envelope"]["signatures"][0]["sig"]))
        sig[10] ^= 0x01
        b["events"][1]["envelope"]["signatures"][0]["sig"] = base64.b64encode(sig).decode()
        r = self.assertFails(b, r"FAIL  event 1 .*signature")
        self.assertEqual(r.stdout.count("FAIL"), 1)    # the id is not the signature's

    def test_removed_event(self):
        b = self.chain_log().bundle()
        del b["events"][2]
        self.assertFails(b, r"FAIL  event 2 \(seq 3.*missing or out of order",
                         r"FAIL  event 2 .*prev does not link")

    def test_removed_first_event(self):
        b = self.chain_log().bundle()
        del b["events"][0]
        self.assertFails(b, r"FAIL  event 0 \(seq 1.*missing or out of order")

    def test_reordered_events(self):
        b = self.chain_log().bundle()
        b["events"][1], b["events"][2] = b["events"][2], b["events"][1]
        self.assertFails(b, r"FAIL  event 1 \(seq 2.*out of order",
                         r"FAIL  event 2 \(seq 1.*out of order")

    def test_revoked_key(self):
        b = self.chain_log(revoke_before_last=True).bundle()
        r = self.assertFails(b, r"FAIL  event 3 .*revoked")
        self.assertIn("ok    event 2", r.stdout)    # before the revocation: fine

    def test_proof_element(self):
        b = self.chain_log().bundle()
        h = bytearray(base64.b64decode(b["events"][0]["proof"][0]))
        h[0] ^= 0x80
        b["events"][0]["proof"][0] = base64.b64encode(h).decode()
        self.assertFails(b, r"FAIL  event 0 .*inclusion proof")

    def recall_log(self, inspection=None):
        """brand registers, then the importer issues a recall (or, with
        inspection, the inspector signs that result)."""
        log = Log(self.log_key)
        importer = Key("importer")
        log.add("key", self.root.sign(TYPE_KEY, enroll_payload(
            self.root, self.brand, "brand", prefixes=["880"])))
        log.add("key", self.root.sign(TYPE_KEY, enroll_payload(
            self.root, importer, "importer", prefixes=["880"])))
        log.add("key", self.root.sign(TYPE_KEY, enroll_payload(
            self.root, self.insp, "inspector", prefixes=["880"])))
        env = self.brand.sign(TYPE_EVENT, event_payload(
            self.brand, "product.registered", GTIN, LOT, 0, None, REGISTERED,
            when="2026-11-20T08:30:00+09:00"))
        log.add("event", env)
        if inspection is None:
            key, etype, data = importer, "recall.issued", {
                "reason": "test", "severity": 1, "action": "Stop using it"}
        else:
            key, etype, data = self.insp, "inspection.completed", {
                "certificate": "C-F", "result": inspection}
        log.add("event", key.sign(TYPE_EVENT, event_payload(
            key, etype, GTIN, LOT, 1, statement_id(env), data,
            when="2026-11-21T08:30:00+09:00")))
        return log

    def test_failed_bundle_prints_no_reassuring_status(self):
        """The fold leaves out events that failed a check; a recall whose
        proof is broken must not turn into "recall: none", nor a failed
        inspection into "inspection: pass"."""
        r = self.verify(self.recall_log().bundle())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("status  recall: open", r.stdout)
        for inspection, line in ((None, "recall: none"), ("fail", "inspection: pass")):
            b = self.recall_log(inspection).bundle()
            h = bytearray(base64.b64decode(b["events"][1]["proof"][0]))
            h[0] ^= 0x80
            b["events"][1]["proof"][0] = base64.b64encode(h).decode()
            r = self.assertFails(b, r"FAIL  event 1 .*inclusion proof")
            self.assertNotIn(line, r.stdout)
            self.assertNotIn("status  recall", r.stdout)
            self.assertNotIn("status  inspection", r.stdout)
            self.assertIn("status  unknown: the bundle did not verify", r.stdout)

    def test_log_index(self):
        b = self.chain_log().bundle()
        b["events"][1]["logIndex"] += 1
        self.assertFails(b, r"FAIL  event 1 .*inclusion proof")

    def test_checkpoint_by_another_key(self):
        b = self.chain_log().bundle()
        self.assertFails(b, r"FAIL  checkpoint", r"FAIL  event 0 .*no valid checkpoint",
                         vkey=LogKey().vkey)

    def test_checkpoint_text(self):
        b = self.chain_log().bundle()
        # Size 7: six statements and the index statement.
        b["checkpoint"] = b["checkpoint"].replace("\n7\n", "\n8\n")
        self.assertFails(b, r"FAIL  checkpoint")

    def test_wrong_trust_anchor(self):
        other = Key("other")
        _, other_pub = other.write(self.dir)
        self.assertFails(self.chain_log().bundle(), r"FAIL  key entry .*not an admin key",
                         r"FAIL  event 0 .*no valid key entry", root_pub=other_pub)

    def test_missing_key_entry(self):
        b = self.chain_log().bundle()
        del b["keys"][1]
        self.assertFails(b, r"FAIL  event 1 .*signer %s has no valid key entry" % self.insp.keyid)

    def test_wrong_chain(self):
        b = self.chain_log().bundle(chain="01/%s/10/OTHER" % GTIN)
        self.assertFails(b, r"belongs to chain")

    # ---- complete as of the checkpoint (SPEC 11) -------------------------------
    def test_no_index_is_not_complete(self):
        r = self.assertFails(self.chain_log().bundle(index=False),
                             r"FAIL  complete: not shown: .*no lot index")
        self.assertEqual(r.stdout.count("FAIL"), 1)

    def test_truncated_chain(self):
        b = self.chain_log().bundle()
        del b["events"][3]
        r = self.assertFails(b, r"FAIL  complete: NOT complete as of checkpoint 7: the "
                             r"index commits to 4 events .* shows 3.*\(truncated\)")
        self.assertEqual(r.stdout.count("\nok    event "), 3)

    def test_hidden_revocation(self):
        b = self.chain_log(revoke_after=True).bundle()
        del b["keys"][2]
        self.assertFails(b, r"counts 2 entries naming key %s.*a revocation may be hidden"
                         % self.insp.keyid)

    def test_stale_index(self):
        log = self.chain_log()
        old = log.bundle()
        log.add("event", self.insp.sign(TYPE_EVENT, event_payload(
            self.insp, "inspection.completed", GTIN, LOT, 4,
            statement_id(old["events"][3]["envelope"]),
            {"certificate": "C-9", "result": "pass"}, when="2026-11-20T09:00:00Z")))
        b = log.bundle()
        b["index"] = old["index"]
        self.assertFails(b, r"\(stale_index\)")

    def test_forged_absence_proof(self):
        b = self.chain_log().bundle()
        empty = lotindex_py.Index()
        b["index"]["lot"] = base64.b64encode(
            empty.prove(lotindex_py.chain_key(b["chain"]))).decode()
        self.assertFails(b, r"FAIL  complete: NOT complete.*index_proof_mismatch")

    def test_index_root_that_disagrees_with_the_log(self):
        # The log key signs a root over a history with one event fewer:
        # the bundle's events contradict it.
        log = self.chain_log()
        full = log.entries
        log.entries = full[:-1]
        short = log.bundle()
        log.entries = full
        b = log.bundle()
        statement = short["index"]["statement"]["envelope"]
        payload = json.loads(base64.b64decode(statement["payload"]))
        payload["size"] = len(full)
        ix = lotindex_py.Index()
        for i, (_, env) in enumerate(full[:-1]):
            ix.apply(env, i)
        raw = lotindex_py.statement_payload(payload["time"], len(full), ix.root(),
                                           len(ix.entries))
        sig = self.log_key.signing.sign(pae(lotindex_py.TYPE_INDEX, raw)).signature
        forged = {"payloadType": lotindex_py.TYPE_INDEX, "payload": base64.b64encode(raw).decode(),
                  "signatures": [{"sig": base64.b64encode(sig).decode()}]}
        entries = full + [("index", forged)]
        leaves = [leaf_hash(pae(e["payloadType"], base64.b64decode(e["payload"])))
                  for _, e in entries]
        b["checkpoint"] = self.log_key.sign("%s\n%d\n%s\n" % (
            ORIGIN, len(leaves), base64.b64encode(mth(leaves)).decode()))
        for item in b["events"] + b["keys"]:
            item["proof"] = [base64.b64encode(h).decode()
                             for h in inclusion(item["logIndex"], leaves)]
        b["index"]["statement"] = {"envelope": forged, "logIndex": len(full), "proof": [
            base64.b64encode(h).decode() for h in inclusion(len(full), leaves)]}
        b["index"]["lot"] = base64.b64encode(ix.prove(lotindex_py.chain_key(b["chain"]))).decode()
        b["index"]["keys"] = [{"keyid": k["keyid"], "proof": base64.b64encode(
            ix.prove(lotindex_py.keyid_key(k["keyid"]))).decode()} for k in b["index"]["keys"]]
        self.assertFails(b, r"index commits to 3 events ending at log index 4; the "
                         r"bundle shows 4 events.*\(index_mismatch\)")

    def test_unknown_lot_is_proven_absent(self):
        b = self.chain_log().bundle(chain="01/%s/10/NOSUCHLOT" % GTIN)
        b["events"], b["keys"] = [], []
        r = self.verify(b)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("FAIL  complete: the log's lot index proves this lot unknown "
                      "as of checkpoint 7", r.stdout)

    # ---- --previous ------------------------------------------------------------
    def previous_file(self, text=None):
        path = os.path.join(self.dir, "seen.checkpoint")
        if os.path.exists(path):
            os.unlink(path)
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        return path

    def read(self, path):
        with open(path) as f:
            return f.read()

    def test_previous_first_use_creates_the_file(self):
        b = self.chain_log().bundle()
        prev = self.previous_file()
        r = self.verify(b, extra=["--previous", prev])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok    previous checkpoint: %s did not exist" % prev, r.stdout)
        self.assertEqual(self.read(prev), b["checkpoint"])

    def test_previous_same_checkpoint(self):
        b = self.chain_log().bundle()
        prev = self.previous_file(b["checkpoint"])
        r = self.verify(b, extra=["--previous", prev])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok    previous checkpoint: size 7, the same tree", r.stdout)
        self.assertEqual(self.read(prev), b["checkpoint"])

    def test_previous_fork_of_the_same_size(self):
        b = self.chain_log().bundle()
        forked = self.log_key.sign("%s\n7\n%s\n" % (ORIGIN, base64.b64encode(os.urandom(32)).decode()))
        prev = self.previous_file(forked)
        r = self.assertFails(b, r"FAIL  previous checkpoint: .*forked", extra=["--previous", prev])
        self.assertEqual(r.stdout.count("FAIL"), 1)     # the bundle itself is fine
        self.assertEqual(self.read(prev), forked)       # the evidence is kept

    def test_previous_by_another_log_key(self):
        log = self.chain_log()
        other = Log(LogKey())
        other.entries = log.entries
        prev = self.previous_file(other.checkpoint(3))
        self.assertFails(log.bundle(), r"FAIL  previous checkpoint: .*does not verify",
                         extra=["--previous", prev])
        self.assertEqual(self.read(prev), other.checkpoint(3))

    def test_previous_smaller_needs_a_proof_from_the_server(self):
        log = self.chain_log()
        prev = self.previous_file(log.checkpoint(3))
        env = {k: v for k, v in os.environ.items() if k != "TRACE_SERVER"}
        self.assertFails(log.bundle(), r"FAIL  previous checkpoint: no consistency proof",
                         extra=["--previous", prev], env=env)
        self.assertEqual(self.read(prev), log.checkpoint(3))

    def test_not_json(self):
        path = os.path.join(self.dir, "junk.json")
        with open(path, "w") as f:
            f.write("{not json")
        r = subprocess.run([AGENT, "verify", path, "--root", self.root_pub,
                            "--log-vkey", self.log_key.vkey], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL", r.stdout)

    def test_usage(self):
        for args in ([], ["--root", self.root_pub, "--log-vkey", self.log_key.vkey],
                     ["b.json", "--gtin", GTIN, "--lot", LOT, "--root", self.root_pub,
                      "--log-vkey", self.log_key.vkey],
                     ["b.json", "--root", self.root_pub],
                     ["b.json", "--root", self.root_pub, "--log-vkey", "nonsense"]):
            with self.subTest(args=args):
                r = subprocess.run([AGENT, "verify"] + args, capture_output=True, text=True)
                self.assertEqual(r.returncode, 2, r.stderr)


class VerifyFromServer(unittest.TestCase):
    """verify --gtin --lot against trace-server's bundle endpoint."""

    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster.start()

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def test_real_chain(self):
        c = self.c
        brand, insp = Key("vbrand"), Key("vinsp")
        c.enroll(brand, "brand", prefixes=["880"])
        c.enroll(insp, "inspector", prefixes=["880"])
        prev = None
        for seq, (key, etype, data) in enumerate([
                (brand, "product.registered", REGISTERED),
                (insp, "inspection.completed", {"certificate": "C-1", "result": "pass"})]):
            env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, LOT, seq, prev, data))
            self.assertIn(c.post("/api/v1/events", env).status, (200, 201))
            prev = statement_id(env)
        log = c.get("/api/v1/log")
        bundle = c.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, LOT))
        self.assertEqual(log.status, 200)
        self.assertEqual(bundle.status, 200)
        vkey = log.json()["vkey"]
        argv = [AGENT, "verify", "--gtin", GTIN, "--lot", LOT, "--root", c.root_pub,
                "--log-vkey", vkey, "--server", c.public_url]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count("\nok    event "), 2)
        # The same bundle from a file, with one byte of a payload changed.
        b = bundle.json()
        env = b["events"][1]["envelope"]
        env["payload"] = base64.b64encode(base64.b64decode(env["payload"]).replace(
            b"C-1", b"C-2")).decode()
        path = os.path.join(c.dir, "tampered.json")
        with open(path, "w") as f:
            json.dump(b, f)
        r = subprocess.run([AGENT, "verify", path, "--root", c.root_pub, "--log-vkey", vkey],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stdout, r"FAIL  event 1 .*signature")

    def test_previous_checkpoint(self):
        """An earlier bundle's checkpoint is a prefix of a later one's and the
        file then holds the later; the earlier bundle checked after that
        passes and keeps it; a checkpoint the log's own key signed for another
        tree of the earlier size fails against the server's real proof."""
        c, lot = self.c, "LPREV"
        log = c.get("/api/v1/log")
        self.assertEqual(log.status, 200)
        vkey = log.json()["vkey"]
        brand, insp = Key("pbrand"), Key("pinsp")
        c.enroll(brand, "brand", prefixes=["880"])
        c.enroll(insp, "inspector", prefixes=["880"])
        path = "/api/v1/bundles/01/%s/10/%s" % (GTIN, lot)
        env = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN, lot, 0,
                                                   None, REGISTERED))
        self.assertIn(c.post("/api/v1/events", env).status, (200, 201))
        old = c.get(path).json()
        old_size = int(old["checkpoint"].split("\n")[1])
        env = insp.sign(TYPE_EVENT, event_payload(insp, "inspection.completed", GTIN, lot, 1,
                                                  statement_id(env),
                                                  {"certificate": "C-9", "result": "pass"}))
        self.assertIn(c.post("/api/v1/events", env).status, (200, 201))
        seen = os.path.join(c.dir, "seen.checkpoint")
        with open(seen, "w") as f:
            f.write(old["checkpoint"])
        argv = [AGENT, "verify", "--gtin", GTIN, "--lot", lot, "--root", c.root_pub,
                "--log-vkey", vkey, "--server", c.public_url, "--previous", seen]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"ok    previous checkpoint: size %d is a prefix of size \d+"
                         % old_size)
        with open(seen) as f:
            newer = f.read()
        self.assertGreater(int(newer.split("\n")[1]), old_size)
        # The earlier bundle, checked after the newer checkpoint was seen.
        old_path = os.path.join(c.dir, "old-bundle.json")
        with open(old_path, "w") as f:
            json.dump(old, f)
        r = subprocess.run([AGENT, "verify", old_path, "--root", c.root_pub, "--log-vkey", vkey,
                            "--server", c.public_url, "--previous", seen],
                           capture_output=True, text=True, timeout=60)
        # Everything checks, and the memory (--state) saw the newer tree:
        # STALE (exit 5), not verified (SPEC 9).
        self.assertEqual(r.returncode, 5, r.stdout + r.stderr)
        self.assertIn("is newer; this bundle's size %d is a prefix of it" % old_size, r.stdout)
        self.assertIn("stale log memory: this bundle's size %d is a prefix" % old_size, r.stdout)
        with open(seen) as f:
            self.assertEqual(f.read(), newer)
        # A fork: the log's own key signs another tree of the earlier size.
        forger = LogKey(signing=c.log.signing)
        self.assertEqual(forger.vkey, vkey)
        forged = forger.sign("%s\n%d\n%s\n" % (ORIGIN, old_size,
                                                base64.b64encode(os.urandom(32)).decode()))
        with open(seen, "w") as f:
            f.write(forged)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"FAIL  previous checkpoint: .*not a prefix")
        with open(seen) as f:
            self.assertEqual(f.read(), forged)


if __name__ == "__main__":
    unittest.main()
