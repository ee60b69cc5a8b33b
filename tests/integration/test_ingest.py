"""Ingest and the key registry against a real redis-server and trace-server:
every event type and role, every way a write can be refused (each with its
documented status and a store left byte-for-byte unchanged), idempotent
resubmission, batches, corrections, and two processes racing appends."""
import base64
import json
import multiprocessing
import os
import unittest

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, enroll_payload,
                     event_payload, revoke_payload, settle, statement_id)

GTIN = "08801234567893"
L = 2**252 + 27742317777372353535851937790883648493
cluster = None
keys = {}


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    for role in ("brand", "inspector", "logistics", "customs", "warehouse",
                 "importer", "regulator"):
        keys[role] = Key(role)
        cluster.enroll(keys[role], role, org="Org " + role, prefixes=["880"])


def tearDownModule():
    cluster.stop()


def post_event(key, etype, lot, seq, prev, data, **kw):
    env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, lot, seq, prev, data, **kw))
    return env, cluster.post("/api/v1/events", env)


def new_chain(lot):
    env, r = post_event(keys["brand"], "product.registered", lot, 0, None, REGISTERED)
    assert r.status == 201, r
    return statement_id(env)


class StoreUnchanged:
    """Context manager: the store must be byte-for-byte the same after."""

    def __init__(self, test):
        self.test = test

    def __enter__(self):
        settle(cluster)
        self.before = cluster.snapshot()

    def __exit__(self, *exc):
        if exc[0] is None:
            settle(cluster)
            after = cluster.snapshot()
            changed = sorted(k for k in set(self.before) | set(after)
                             if self.before.get(k) != after.get(k))
            self.test.assertEqual(changed, [], "a rejected write changed the store")


class HappyPath(unittest.TestCase):
    def test_every_type_and_role(self):
        lot = "HAPPY1"
        steps = [
            ("brand", "product.registered", REGISTERED),
            ("inspector", "inspection.sampled", {"samples": 3, "sampleIds": ["S1", "S2", "S3"]}),
            ("inspector", "inspection.completed", {"certificate": "CCIC-KR-2026-00123",
                                                   "result": "pass", "body": "CCIC Korea"}),
            ("logistics", "shipment.departed", {"port": "KRINC", "vessel": "HMM Dream"}),
            ("logistics", "shipment.arrived", {"port": "CNWEI"}),
            ("importer", "customs.declared", {"declaration": "D-1", "mode": "1210"}),
            ("customs", "customs.released", {"declaration": "D-1"}),
            ("warehouse", "warehouse.received", {"warehouse": "Weihai bonded", "quantity": 1200}),
            ("warehouse", "warehouse.dispatched", {"warehouse": "Weihai bonded",
                                                   "destination": "Shanghai"}),
            ("importer", "recall.issued", {"reason": "test", "severity": 2,
                                           "action": "Stop using it"}),
            # A regulator may close any recall; it names the one it closes.
            ("regulator", "recall.closed", lambda ids: {
                "recall": ids[9], "outcome": "destroyed", "recovered": 10}),
        ]
        prev = None
        ids = []
        for seq, (role, etype, data) in enumerate(steps):
            if callable(data):
                data = data(ids)
            env, r = post_event(keys[role], etype, lot, seq, prev, data)
            self.assertEqual(r.status, 201, (etype, r))
            body = r.json()
            self.assertEqual(body["id"], statement_id(env))
            self.assertEqual(body["seq"], seq)
            self.assertIsInstance(body["logIndex"], int)
            prev = body["id"]
            ids.append(prev)
        # The importer also may declare customs; a correction by its signer.
        env, r = post_event(keys["warehouse"], "correction", lot, len(steps), prev,
                            {"corrects": ids[7], "reason": "quantity was 1100"})
        self.assertEqual(r.status, 201, r)
        chain = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, lot)).json()
        self.assertEqual(chain["chain"], "01/%s/10/%s" % (GTIN, lot))
        self.assertEqual(chain["head"], {"seq": len(steps), "id": r.json()["id"]})
        self.assertEqual([e["seq"] for e in chain["events"]], list(range(len(steps) + 1)))
        self.assertEqual(chain["events"][2]["payload"]["data"]["certificate"],
                         "CCIC-KR-2026-00123")
        for e in chain["events"]:
            self.assertEqual(e["id"], statement_id(e["envelope"]))
        one = cluster.get("/api/v1/events/" + ids[3]).json()
        self.assertEqual(one["id"], ids[3])
        self.assertEqual(one["seq"], 3)
        self.assertEqual(one["chain"], chain["chain"])

    def test_resubmission_is_idempotent(self):
        lot = "IDEM1"
        env, r = post_event(keys["brand"], "product.registered", lot, 0, None, REGISTERED)
        self.assertEqual(r.status, 201)
        with StoreUnchanged(self):
            again = cluster.post("/api/v1/events", env)
        self.assertEqual(again.status, 200)
        self.assertEqual(again.json(), r.json())

    def test_gtin13_path_and_unknown_chain(self):
        new_chain("G13")
        r = cluster.get("/api/v1/chains/01/8801234567893/10/G13")
        self.assertEqual(r.status, 200)
        self.assertEqual(cluster.get("/api/v1/chains/01/%s/10/NOPE" % GTIN).status, 404)
        self.assertEqual(cluster.get("/api/v1/chains/01/08801234567890/10/G13").status, 400)
        self.assertEqual(cluster.get("/api/v1/events/" + "0" * 64).status, 404)
        self.assertEqual(cluster.get("/api/v1/events/xyz").status, 400)

    def test_metrics_label_each_route(self):
        """Every row of the route table (router.c) is its own metrics label,
        a wrong method is 405 with Allow, and an unknown path is "other"."""
        def count(route, status):
            pattern = 'trace_http_requests_total{route="%s",status="%s"} ' % (route, status)
            for line in cluster.get("/metrics").body.decode().splitlines():
                if line.startswith(pattern):
                    return int(line[len(pattern):])
            return 0

        new_chain("MET1")
        asked = [("log", "/api/v1/log", 200),
                 ("checkpoint", "/api/v1/checkpoint", 200),
                 ("bundle", "/api/v1/bundles/01/%s/10/MET1" % GTIN, 200),
                 ("chain", "/api/v1/chains/01/%s/10/MET1" % GTIN, 200),
                 ("other", "/no/such/path", 404)]
        before = {(n, st): count(n, st) for n, _, st in asked}
        for name, path, status in asked:
            self.assertEqual(cluster.get(path).status, status, path)
        for name, path, status in asked:
            self.assertEqual(count(name, status), before[(name, status)] + 1, name)
        r = cluster.request("DELETE", "/api/v1/checkpoint")
        self.assertEqual(r.status, 405)
        self.assertIn("GET", r.headers.get("allow", ""))
        self.assertGreaterEqual(count("checkpoint", 405), 1)

    def test_batch(self):
        lot = "BATCH1"
        reg = keys["brand"].sign(TYPE_EVENT, event_payload(
            keys["brand"], "product.registered", GTIN, lot, 0, None, REGISTERED))
        s1 = keys["inspector"].sign(TYPE_EVENT, event_payload(
            keys["inspector"], "inspection.sampled", GTIN, lot, 1, statement_id(reg), {}))
        bad = keys["customs"].sign(TYPE_EVENT, event_payload(
            keys["customs"], "inspection.sampled", GTIN, lot, 2, statement_id(s1), {}))
        r = cluster.post("/api/v1/events", [reg, s1, bad])
        self.assertEqual(r.status, 200)
        res = r.json()["results"]
        self.assertEqual([x["status"] for x in res], [201, 201, 403])
        self.assertEqual(res[2]["error"]["code"], "role_not_allowed")
        self.assertEqual(res[1]["seq"], 1)
        r = cluster.post("/api/v1/events", [reg, s1])
        self.assertEqual([x["status"] for x in r.json()["results"]], [200, 200])
        self.assertEqual(cluster.post("/api/v1/events", []).status, 400)


class Refused(unittest.TestCase):
    """Each refusal: its status, its error code, and no change in Redis."""

    @classmethod
    def setUpClass(cls):
        cls.lot = "REFUSE1"
        cls.head = new_chain(cls.lot)
        cls.env, r = post_event(keys["inspector"], "inspection.sampled", cls.lot, 1,
                                cls.head, {"samples": 1})
        assert r.status == 201, r
        cls.head = statement_id(cls.env)

    def refused(self, body, status, code, raw=False, headers=None, path="/api/v1/events"):
        with StoreUnchanged(self):
            r = cluster.post(path, body, raw=raw, headers=headers)
        self.assertEqual(r.status, status, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], code, r)
        self.assertTrue(err["message"])
        return r

    def next_event(self, key=None, data=None, seq=2, prev="head", **kw):
        key = key or keys["inspector"]
        return event_payload(key, "inspection.completed", kw.pop("gtin", GTIN),
                             kw.pop("lot", self.lot), seq,
                             self.head if prev == "head" else prev,
                             data or {"certificate": "C-1", "result": "pass"}, **kw)

    def test_forged_signature(self):
        env = keys["inspector"].sign(TYPE_EVENT, self.next_event())
        env["signatures"][0]["sig"] = base64.b64encode(os.urandom(64)).decode()
        self.refused(env, 401, "bad_signature")

    def test_s_plus_l_signature(self):
        env = keys["inspector"].sign(TYPE_EVENT, self.next_event())
        sig = base64.b64decode(env["signatures"][0]["sig"])
        s = int.from_bytes(sig[32:], "little") + L
        env["signatures"][0]["sig"] = base64.b64encode(sig[:32] + s.to_bytes(32, "little")).decode()
        self.refused(env, 401, "bad_signature")

    def test_wrong_signer_field(self):
        # Names the importer as signer but is signed by the inspector.
        payload = self.next_event()
        payload["signer"] = keys["importer"].keyid
        self.refused(keys["inspector"].sign(TYPE_EVENT, payload), 401, "bad_signature")

    def test_signature_moved_between_payloads(self):
        a = keys["inspector"].sign(TYPE_EVENT, self.next_event())
        b = keys["inspector"].sign(TYPE_EVENT, self.next_event(data={"certificate": "C-2", "result": "fail"}))
        a["signatures"] = b["signatures"]
        self.refused(a, 401, "bad_signature")

    def test_unknown_key(self):
        stranger = Key("stranger")
        self.refused(stranger.sign(TYPE_EVENT, self.next_event(key=stranger)), 401, "unknown_key")

    def test_revoked_key(self):
        k = Key("soon-revoked")
        cluster.enroll(k, "inspector")
        r = cluster.post("/api/v1/keys", cluster.root.sign(TYPE_KEY, revoke_payload(cluster.root, k.keyid)))
        self.assertEqual(r.status, 201, r)
        self.refused(k.sign(TYPE_EVENT, self.next_event(key=k)), 403, "key_revoked")

    def test_expired_key(self):
        k = Key("expired")
        cluster.enroll(k, "inspector", not_before="2025-01-01T00:00:00Z",
                       not_after="2026-01-01T00:00:00Z")
        self.refused(k.sign(TYPE_EVENT, self.next_event(key=k)), 403, "outside_window")

    def test_wrong_role(self):
        k = keys["logistics"]
        self.refused(k.sign(TYPE_EVENT, self.next_event(key=k)), 403, "role_not_allowed")

    def test_gtin_outside_scope(self):
        other_gtin = "0490123456789" + harness.gtin_check("0490123456789")
        self.refused(keys["brand"].sign(TYPE_EVENT, event_payload(
            keys["brand"], "product.registered", other_gtin, "X1", 0, None, REGISTERED)),
            403, "gtin_not_covered")

    def test_bad_check_digit(self):
        self.refused(keys["inspector"].sign(TYPE_EVENT, self.next_event(gtin="08801234567890")),
                     400, "invalid_gtin")

    def test_seq_gap(self):
        r = self.refused(keys["inspector"].sign(TYPE_EVENT, self.next_event(seq=5)), 422, "seq_gap")
        self.assertEqual(r.json()["head"], {"seq": 1, "id": self.head})

    def test_wrong_prev(self):
        self.refused(keys["inspector"].sign(TYPE_EVENT, self.next_event(prev="ab" * 32)),
                     422, "wrong_prev")

    def test_head_moved(self):
        r = self.refused(keys["inspector"].sign(TYPE_EVENT, self.next_event(seq=1)), 409, "head_moved")
        self.assertEqual(r.json()["head"], {"seq": 1, "id": self.head})

    def test_duplicate_keys_in_payload(self):
        text = json.dumps(self.next_event())[:-1] + ', "seq": 2}'
        self.refused(keys["inspector"].sign(TYPE_EVENT, text.encode()), 400, "duplicate_key")

    def test_float_in_payload(self):
        text = json.dumps(self.next_event()).replace('"seq": 2', '"seq": 2.0')
        self.refused(keys["inspector"].sign(TYPE_EVENT, text.encode()), 400, "float_not_allowed")

    def test_unknown_field_named(self):
        p = self.next_event(data={"certificate": "C", "result": "pass", "colour": "red"})
        r = self.refused(keys["inspector"].sign(TYPE_EVENT, p), 400, "unknown_field")
        self.assertEqual(r.json()["error"]["field"], "payload.data.colour")

    def test_oversized_body(self):
        self.refused(b"[" + b" " * (5 * 1024 * 1024) + b"]", 413, "too_large", raw=True)

    def test_oversized_single_envelope(self):
        p = self.next_event(data={"certificate": "C" * 150, "result": "pass",
                                  "items": [{"name": "x" * 190, "value": "y" * 190}] * 100})
        self.refused(keys["inspector"].sign(TYPE_EVENT, p), 413, "string_too_long")

    def test_truncated_body(self):
        body = json.dumps(keys["inspector"].sign(TYPE_EVENT, self.next_event())).encode()
        self.refused(body[: len(body) // 2], 400, "invalid_json", raw=True)

    def test_invalid_utf8(self):
        text = json.dumps(self.next_event(), ensure_ascii=False).encode()
        text = text.replace(b"C-1", b"C-\xff")
        self.refused(keys["inspector"].sign(TYPE_EVENT, text), 400, "invalid_text")

    def test_invalid_utf8_in_body(self):
        self.refused(b'{"payloadType": "\xc0\xaf"}', 400, "invalid_text", raw=True)

    def test_key_entry_to_events(self):
        self.refused(cluster.root.sign(TYPE_KEY, enroll_payload(cluster.root, Key("x"), "brand")),
                     400, "bad_payload_type")

    def test_correction_by_another_signer(self):
        p = event_payload(keys["importer"], "correction", GTIN, self.lot, 2, self.head,
                          {"corrects": self.head, "reason": "not mine"})
        self.refused(keys["importer"].sign(TYPE_EVENT, p), 403, "role_not_allowed")

    def test_future_time(self):
        p = self.next_event(when="2099-01-01T00:00:00Z")
        self.refused(keys["inspector"].sign(TYPE_EVENT, p), 422, "stale_time")

    def test_enroll_by_non_admin(self):
        self.refused(keys["importer"].sign(TYPE_KEY, enroll_payload(keys["importer"], Key("y"), "brand")),
                     403, "role_not_allowed", path="/api/v1/keys")

    def test_enroll_twice(self):
        self.refused(cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, keys["importer"], "importer", when="2026-11-22T08:00:00Z")),
            422, "key_exists", path="/api/v1/keys")


class Registry(unittest.TestCase):
    def test_admin_chain_and_listing(self):
        admin = Key("sub-admin")
        cluster.enroll(admin, "admin")
        k = Key("via-admin")
        r = cluster.post("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(admin, k, "warehouse")))
        self.assertEqual(r.status, 201, r)
        got = cluster.get("/api/v1/keys/" + k.keyid).json()
        self.assertFalse(got["revoked"])
        self.assertEqual(got["entries"][0]["payload"]["role"], "warehouse")
        listing = cluster.get("/api/v1/keys").json()["entries"]
        self.assertIn(k.keyid, [e["payload"].get("keyid") for e in listing])
        # The org entries are part of the registry's listing too.
        self.assertIn(("org", "test-org"), [(e["payload"]["op"], e["payload"].get("org"))
                                           for e in listing])
        # Revoke the sub-admin: it can no longer enroll.
        r = cluster.post("/api/v1/keys", cluster.root.sign(TYPE_KEY, revoke_payload(cluster.root, admin.keyid)))
        self.assertEqual(r.status, 201)
        r = cluster.post("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(admin, Key("late"), "warehouse")))
        self.assertEqual(r.status, 403, r)
        self.assertEqual(cluster.get("/api/v1/keys/" + "0" * 32).status, 404)


def racer(port, seed, count, lot, out):
    """Append count events to lot, rebasing on 409 until each is in."""
    import http.client
    key = Key("racer", seed=seed)
    done = 0
    conflicts = 0
    while done < count:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/v1/chains/01/%s/10/%s" % (GTIN, lot))
        head = json.loads(conn.getresponse().read())["head"]
        p = event_payload(key, "inspection.sampled", GTIN, lot, head["seq"] + 1, head["id"],
                          {"samples": done})
        conn.request("POST", "/api/v1/events", body=json.dumps(key.sign(TYPE_EVENT, p)),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        conn.close()
        if r.status == 201:
            done += 1
        elif r.status == 409:
            conflicts += 1
        else:
            raise RuntimeError("unexpected %d" % r.status)
    out.put(conflicts)


# Appends per racing process: 500 (1,000 in all); tests/faults/valgrind.sh
# lowers it, as every append there reads the whole chain under memcheck.
RACE_APPENDS = int(os.environ.get("TRACE_RACE_APPENDS", "500"))


class TargetBatches(unittest.TestCase):
    def test_batch_of_closes_reads_the_chain_once(self):
        """200 recall.closed in one batch against one chain of 200 open
        recalls: each judged against the history before it (the last one
        closes a recall the batch already closed: bad_target), and the
        chain read from the store once for the batch, not once per item."""
        lot, imp = "TBATCH", keys["importer"]
        envs = [keys["brand"].sign(TYPE_EVENT, event_payload(
            keys["brand"], "product.registered", GTIN, lot, 0, None, REGISTERED))]
        prev = statement_id(envs[0])
        issued = []
        for seq in range(1, 201):
            env = imp.sign(TYPE_EVENT, event_payload(
                imp, "recall.issued", GTIN, lot, seq, prev,
                {"reason": "r%d" % seq, "severity": 2, "action": "Stop using it"}))
            envs.append(env)
            prev = statement_id(env)
            issued.append(prev)
        r = cluster.post("/api/v1/events", envs)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["status"] for x in r.json()["results"]], [201] * 201)
        closes = []
        for k in range(200):
            target = issued[k] if k < 199 else issued[0]
            env = imp.sign(TYPE_EVENT, event_payload(
                imp, "recall.closed", GTIN, lot, 201 + k, prev,
                {"recall": target, "outcome": "destroyed", "recovered": 1}))
            closes.append(env)
            prev = statement_id(env)
        settle(cluster)
        with harness.ChainCommands(cluster, "c:{01/%s/10/%s}:ev" % (GTIN, lot)) as monitor:
            r = cluster.post("/api/v1/events", closes)
        reads = monitor.count("lrange")
        self.assertEqual(r.status, 200, r)
        results = r.json()["results"]
        self.assertEqual([x["status"] for x in results[:199]], [201] * 199)
        self.assertEqual(results[199]["status"], 422, results[199])
        self.assertEqual(results[199]["error"]["code"], "bad_target", results[199])
        self.assertGreaterEqual(reads, 1, "the monitor saw no read of the chain")
        self.assertLess(reads, 5, "the chain was read %d times for one batch" % reads)
        events = cluster.chain_events("/api/v1/chains/01/%s/10/%s" % (GTIN, lot))
        self.assertEqual(len(events), 400)


    def test_unreadable_chain_rejects_only_its_items(self):
        """A stored record of one chain that does not parse (Redis edited
        by hand) rejects that chain's corrections and closes with their own
        503 store_corrupt; the batch's items for another chain go in."""
        imp, heads, recalls = keys["importer"], {}, {}
        for lot in ("TCORRUPT", "TSOUND"):
            head = new_chain(lot)
            env, r = post_event(imp, "recall.issued", lot, 1, head,
                                {"reason": "r", "severity": 2, "action": "Stop using it"})
            self.assertEqual(r.status, 201, r)
            heads[lot] = recalls[lot] = statement_id(env)
        key = "c:{01/%s/10/TCORRUPT}:ev" % GTIN
        settle(cluster)
        record = cluster.redis.lindex(key, 0)
        rid, index, _ = record.decode().split(" ", 2)
        cluster.redis.lset(key, 0, "%s %s {\"payload\":" % (rid, index))
        try:
            batch = [imp.sign(TYPE_EVENT, event_payload(
                imp, "recall.closed", GTIN, lot, 2, heads[lot],
                {"recall": recalls[lot], "outcome": "destroyed", "recovered": 1}))
                for lot in ("TCORRUPT", "TSOUND")]
            r = cluster.post("/api/v1/events", batch)
            self.assertEqual(r.status, 200, r)
            bad, good = r.json()["results"]
            self.assertEqual(bad["status"], 503, bad)
            self.assertEqual(bad["error"]["code"], "store_corrupt", bad)
            self.assertEqual(good["status"], 201, good)
            self.assertEqual(good["id"], statement_id(batch[1]))
            # Every reader of the stored chain answers the same error
            # (statement_read_event), naming the record that does not parse.
            self.assertIn(rid, bad["error"]["message"])
            for path in ("/api/v1/chains/01/%s/10/TCORRUPT",
                         "/api/v1/bundles/01/%s/10/TCORRUPT"):
                r = cluster.get(path % GTIN)
                self.assertEqual(r.status, 503, (path, r))
                self.assertEqual(r.json()["error"]["code"], "store_corrupt", r)
                self.assertIn(rid, r.json()["error"]["message"], r)
        finally:
            cluster.redis.lset(key, 0, record)


class Race(unittest.TestCase):
    def test_two_processes_race_appends(self):
        """Two processes append RACE_APPENDS events each to one chain,
        rebasing on 409: the chain ends contiguous, with every event."""
        lot = "RACE1"
        new_chain(lot)
        seeds = [os.urandom(32), os.urandom(32)]
        for i, seed in enumerate(seeds):
            cluster.enroll(Key("racer", seed=seed), "inspector")
        out = multiprocessing.Queue()
        procs = [multiprocessing.Process(target=racer, args=(cluster.port, s, RACE_APPENDS, lot, out))
                 for s in seeds]
        for p in procs:
            p.start()
        for p in procs:
            p.join(300)
            self.assertEqual(p.exitcode, 0)
        conflicts = out.get() + out.get()
        events = cluster.chain_events("/api/v1/chains/01/%s/10/%s" % (GTIN, lot))
        self.assertEqual(len(events), 2 * RACE_APPENDS + 1)
        self.assertEqual([e["seq"] for e in events], list(range(2 * RACE_APPENDS + 1)))
        for prev, e in zip(events, events[1:]):
            self.assertEqual(e["payload"]["prev"], prev["id"])
            self.assertEqual(e["payload"]["seq"], e["seq"])
        print("race: %d head-moved answers rebased" % conflicts)


if __name__ == "__main__":
    unittest.main()
