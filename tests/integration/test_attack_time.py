"""Attacks on time (SPEC 8 "Receipt time", issue 17 item 3), each written as
the attacker would send it, with a valid key, to a real redis-server and
trace-server run with the defaults --max-age 30d and --grace 7d:

  a key whose window ended (it expired; nobody revoked it) signs a new
  statement dated inside its old window;
  an admin whose window ended keeps enrolling keys the same way;
  an importer dates a recall to 1900, or 40 days back, so that it sinks
  below every `?since=` poll, or to next week (refused; and one dated back
  inside --max-age is accepted but listed by its receipt time, so it
  still comes first and matches today's poll);
  someone who can insert statements slips a recall dated 40 days back
  into the log past ingest: the bundle's receipt shows it, and
  `trace-agent verify` refuses it;

Each refusal is checked for its status and code and for a store left byte
for byte as it was; the controls show the same key or time accepted just
inside the bounds, so the tests can fail."""
import base64
import hashlib
import json
import os
import subprocess
import unittest

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, enroll_payload,
                     event_payload, now_text, settle, statement_id)

GTIN = "08801234567893"
DAY = 86400
cluster = None
keys = {}


def setUpModule():
    global cluster
    # The harness allows 100 years for dated fixtures; these tests run
    # with the shipped defaults (a later option wins).
    cluster = harness.Cluster.start(["--max-age", "30d", "--grace", "7d"])
    for role in ("brand", "importer"):
        keys[role] = Key(role)
        cluster.enroll(keys[role], role, prefixes=["880"])


def tearDownModule():
    cluster.stop()


def refused_unchanged(test, path, body, status, code):
    settle(cluster)
    before = cluster.snapshot()
    r = cluster.post(path, body)
    if r.status == 200 and isinstance(r.json().get("results"), list):
        r = r.json()["results"][0]
        got, err = r["status"], r.get("error", {})
    else:
        got, err = r.status, r.json().get("error", {})
    test.assertEqual((got, err.get("code")), (status, code), r)
    settle(cluster)
    test.assertEqual(cluster.snapshot(), before, "a refused statement changed the store")


def register(lot):
    env = keys["brand"].sign(TYPE_EVENT, event_payload(
        keys["brand"], "product.registered", GTIN, lot, 0, None, REGISTERED))
    r = cluster.post("/api/v1/events", env)
    assert r.status == 201, r
    return statement_id(env)


class ExpiredKeys(unittest.TestCase):
    def test_an_expired_inspector_backdates_a_pass(self):
        """Window [60 days ago, 10 days ago): the pass is dated 15 days ago,
        inside it, but arrives 10 days after the window closed (grace 7)."""
        old = Key("expired-inspector")
        cluster.enroll(old, "inspector", prefixes=["880"],
                       not_before=now_text(-60 * DAY), not_after=now_text(-10 * DAY))
        head = register("EXPIRED-1")
        env = old.sign(TYPE_EVENT, event_payload(
            old, "inspection.completed", GTIN, "EXPIRED-1", 1, head,
            {"certificate": "C-OLD", "result": "pass"}, when=now_text(-15 * DAY)))
        refused_unchanged(self, "/api/v1/events", env, 403, "outside_window")

    def test_inside_the_grace_a_late_upload_is_accepted(self):
        """Control: window closed 3 days ago, a statement dated 4 days ago
        (work recorded offline, sent late): within the grace."""
        late = Key("late-inspector")
        cluster.enroll(late, "inspector", prefixes=["880"],
                       not_before=now_text(-60 * DAY), not_after=now_text(-3 * DAY))
        head = register("EXPIRED-2")
        env = late.sign(TYPE_EVENT, event_payload(
            late, "inspection.completed", GTIN, "EXPIRED-2", 1, head,
            {"certificate": "C-LATE", "result": "pass"}, when=now_text(-4 * DAY)))
        self.assertEqual(cluster.post("/api/v1/events", env).status, 201)

    def test_an_expired_admin_keeps_enrolling(self):
        admin = Key("expired-admin")
        cluster.enroll(admin, "admin", not_before=now_text(-60 * DAY),
                       not_after=now_text(-10 * DAY))
        newcomer = Key("newcomer")
        # Dated inside the admin's window, for a window inside its own
        # (admin scope), so only the time it arrives is wrong.
        entry = admin.sign(TYPE_KEY, enroll_payload(
            admin, newcomer, "inspector", not_before=now_text(-50 * DAY),
            not_after=now_text(-20 * DAY), when=now_text(-12 * DAY)))
        refused_unchanged(self, "/api/v1/keys", entry, 403, "outside_window")


class StaleTimes(unittest.TestCase):
    def recall(self, lot, head, when):
        return keys["importer"].sign(TYPE_EVENT, event_payload(
            keys["importer"], "recall.issued", GTIN, lot, 1, head,
            {"reason": "mould", "severity": 1, "action": "Stop using it"}, when=when))

    def test_a_recall_dated_1900(self):
        head = register("STALE-1")
        refused_unchanged(self, "/api/v1/events",
                          self.recall("STALE-1", head, "1900-01-01T00:00:00Z"),
                          422, "stale_time")

    def test_a_recall_dated_40_days_back_or_next_week(self):
        head = register("STALE-2")
        for when in (now_text(-40 * DAY), now_text(7 * DAY), now_text(600)):
            with self.subTest(when=when):
                refused_unchanged(self, "/api/v1/events",
                                  self.recall("STALE-2", head, when), 422, "stale_time")
        # Control: 29 days back is inside --max-age.
        env = self.recall("STALE-2", head, now_text(-29 * DAY))
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 201, r)
        # Accepted, it still does not sink: recalls are listed and filtered
        # by receipt time (SPEC 8), so it is the newest and today's.
        settle(cluster)
        today = now_text(0)[:10]
        for query in ("?limit=1", "?limit=1&since=" + today):
            got = cluster.get("/api/v1/recalls" + query).json()["recalls"]
            self.assertEqual([x["id"] for x in got], [statement_id(env)], query)
            self.assertTrue(got[0]["received"].startswith(today), got[0])

    def test_an_org_entry_dated_1900(self):
        entry = cluster.root.sign(TYPE_KEY, harness.org_payload(
            cluster.root, "old-org", when="1900-01-01T00:00:00Z"))
        refused_unchanged(self, "/api/v1/keys", entry, 422, "stale_time")


class SlippedPastIngest(unittest.TestCase):
    """The same rules checked offline (SPEC 8 "Every rule below is checkable
    by a verifier from a bundle"): someone who can insert statements into
    the log appends a recall dated 40 days back with the store's own
    Function, past ingest's --max-age.  The bundle carries its receipt (the
    first index statement after it, which says maxAge 30d), so `trace-agent
    verify` refuses it; the control, 20 days back, verifies."""

    def slip(self, lot, when):
        head = register(lot)
        env = StaleTimes.recall(None, lot, head, when)
        chain = "01/%s/10/%s" % (GTIN, lot)
        leaf = hashlib.sha256(b"\x00" + harness.pae(
            env["payloadType"], base64.b64decode(env["payload"]))).digest()
        res = cluster.redis.fcall(
            "trace_append_event", 5, "c:{%s}:ev" % chain, "ids", "k:revoke",
            "log:{log}:size", "log:{log}:pending", statement_id(env), 1, head,
            keys["importer"].keyid, leaf, json.dumps(env, separators=(",", ":")), chain)
        self.assertEqual(res[0], b"ok", res)
        settle(cluster)
        bundle = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, lot)).json()
        self.assertIn("receipts", bundle)
        path = os.path.join(cluster.dir, lot + ".json")
        with open(path, "w") as f:
            json.dump(bundle, f)
        vkey = cluster.get("/api/v1/log").json()["vkey"]
        return subprocess.run([harness.AGENT, "verify", path, "--root", cluster.root_pub,
                               "--log-vkey", vkey, "--server", cluster.public_url],
                              capture_output=True, text=True, timeout=60)

    def test_a_recall_dated_40_days_back_slipped_into_the_log(self):
        out = self.slip("SLIP-40", now_text(-40 * DAY))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("FAIL  event 1 (seq 1, recall.issued): received at log index",
                      out.stdout)
        self.assertIn("more than 30 days before it was received", out.stdout)
        self.assertIn("status  unknown: the bundle did not verify", out.stdout)

    def test_control_20_days_back_verifies(self):
        out = self.slip("SLIP-20", now_text(-20 * DAY))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("status  recall: open", out.stdout)


if __name__ == "__main__":
    unittest.main()
