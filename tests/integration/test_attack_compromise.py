"""SPEC 8 "Revocation and compromise", written as the attack.

An attacker steals an importer's key and the org's admin key.  With the
importer key it closes the lot's recall (so the lot looks safe again) and,
to cover its tracks, issues a recall of its own; with the admin key it
enrolls a key of its own, which closes that second recall.  The owner
notices and the root revokes both stolen keys with compromisedAt: the time
they were lost, before the attacker's statements.

Then every view must tell the same story: the consumer page, the inspector
page, the chain JSON, the recall list (the board's data) and a bundle
checked by trace-agent verify show both recalls open, the closes flagged
"signed with a key reported compromised" and counting for nothing, the
attacker's own recall in force and flagged, the attacker's enrollment
worth nothing (its key's statements flagged, new ones refused), and the
importer's statements from before the compromise untouched.  A
compromised key never makes the chain fail.  Plus the refusals of a bad
compromisedAt."""
import json
import os
import subprocess
import time
import unittest

import harness
from harness import (TYPE_EVENT, TYPE_KEY, AGENT, Key, REGISTERED,
                     enroll_payload, event_payload, now_text, revoke_payload,
                     settle, statement_id)

GTIN = "08801234567893"
LOT = "LCOMP1"
cluster = None
keys = {}


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    keys["brand"] = Key("brand")
    keys["importer"] = Key("importer")
    keys["admin"] = Key("admin")
    cluster.enroll(keys["brand"], "brand", prefixes=["880"])
    cluster.enroll(keys["importer"], "importer", prefixes=["880"])
    cluster.enroll(keys["admin"], "admin")


def tearDownModule():
    cluster.stop()


class Chain:
    def __init__(self, lot):
        self.lot, self.prev, self.seq = lot, None, 0

    def post(self, key, etype, data, expect=(200, 201)):
        env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, self.lot,
                                                 self.seq, self.prev, data))
        r = cluster.post("/api/v1/events", env)
        if expect is not None:
            assert r.status in expect, (r, etype)
        if r.status in (200, 201):
            self.prev, self.seq = statement_id(env), self.seq + 1
        return statement_id(env), r


def post_key(admin, payload):
    return cluster.post("/api/v1/keys", admin.sign(TYPE_KEY, payload))


def revoke(admin, keyid, compromised_at, when=None):
    p = revoke_payload(admin, keyid, reason="stolen", when=when)
    p["compromisedAt"] = compromised_at
    return post_key(admin, p)


class TestCompromise(unittest.TestCase):

    def test_stolen_keys(self):
        brand, importer, admin = keys["brand"], keys["importer"], keys["admin"]
        c = Chain(LOT)
        c.post(brand, "product.registered", REGISTERED)
        recall1, _ = c.post(importer, "recall.issued", {
            "reason": "contamination", "severity": 1, "action": "return"})
        # A pass by the importer's org before the theft: never flagged.
        settle(cluster)
        lost_at = now_text()
        # Index statements carry whole seconds: whatever is received from
        # now on has a receipt time after lost_at.
        time.sleep(1.2)
        # The attacker, with the stolen importer key: closes the recall,
        # then issues one of its own.
        close1, _ = c.post(importer, "recall.closed", {
            "recall": recall1, "outcome": "released"})
        recall2, _ = c.post(importer, "recall.issued", {
            "reason": "decoy", "severity": 3, "action": "none"})
        # With the stolen admin key: a key of its own, which closes it.
        mole = Key("mole")
        r = post_key(admin, enroll_payload(admin, mole, "importer",
                                           org=harness.org_id("Test Org"),
                                           prefixes=["880"]))
        self.assertEqual(r.status, 201, r)
        close2, _ = c.post(mole, "recall.closed", {
            "recall": recall2, "outcome": "released"})
        settle(cluster)
        chain_path = "/api/v1/chains/01/%s/10/%s" % (GTIN, LOT)
        before = cluster.get(chain_path).json()
        self.assertEqual(before["status"]["recall"]["status"], "closed")
        self.assertEqual(before["recalls"]["status"], "closed")

        # The owner reports both keys lost at lost_at.
        self.assertEqual(revoke(cluster.root, importer.keyid, lost_at).status, 201)
        self.assertEqual(revoke(cluster.root, admin.keyid, lost_at).status, 201)
        settle(cluster)

        # The chain JSON: the fold and the recall indexes agree.
        chain = cluster.get(chain_path).json()
        st = chain["status"]["recall"]
        self.assertEqual((st["status"], st["open"], st["total"]), ("open", 2, 2))
        self.assertEqual(chain["status"]["compromised"], 3)
        self.assertEqual(chain["recalls"]["status"], "open")
        self.assertEqual(chain["recalls"]["open"], 2)
        by_id = {e["id"]: e for e in chain["events"]}
        for closer in (close1, close2):
            self.assertTrue(by_id[closer].get("compromised"), by_id[closer])
            self.assertTrue(by_id[closer].get("ignored"), by_id[closer])
            self.assertEqual(by_id[closer]["flag"],
                             "signed with a key reported compromised")
        self.assertTrue(by_id[recall2].get("compromised"))
        self.assertFalse(by_id[recall2].get("ignored", False))
        # Before the theft: the importer's recall is not flagged.
        self.assertNotIn("compromised", by_id[recall1])

        # The recall list (the board's data): both open.
        listed = cluster.get("/api/v1/recalls?gtin=%s&lot=%s" % (GTIN, LOT)).json()
        self.assertEqual(sorted((x["id"], x["status"]) for x in listed["recalls"]),
                         sorted([(recall1, "open"), (recall2, "open")]))
        board = cluster.get("/recalls?lang=en")
        self.assertEqual(board.status, 200)

        # The pages flag the statements.
        for page in ("/01/%s/10/%s?lang=en" % (GTIN, LOT),
                     "/inspect/01/%s/10/%s?lang=en" % (GTIN, LOT)):
            body = cluster.get(page).body.decode()
            self.assertEqual(body.count("Signed with a key reported compromised"), 3, page)

        # The attacker's key is worth nothing from now on.
        _, r = c.post(mole, "recall.closed", {"recall": recall1,
                                              "outcome": "released"}, expect=None)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"]["code"], "key_revoked")

        # The bundle, checked offline, says the same, and verifies.
        b = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, LOT))
        self.assertEqual(b.status, 200)
        bundle = b.json()
        self.assertIn("receipts", bundle)
        path = os.path.join(cluster.dir, "compromise.json")
        with open(path, "w") as f:
            json.dump(bundle, f)
        vkey = cluster.get("/api/v1/log").json()["vkey"]
        out = subprocess.run([AGENT, "verify", path, "--root", cluster.root_pub,
                              "--log-vkey", vkey], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("status  recall: open (2 of 2 recalls open)", out.stdout)
        self.assertEqual(out.stdout.count("signed with a key reported compromised: "
                                          "it counts for nothing"), 3, out.stdout)
        self.assertEqual(out.stdout.count("signed with a key reported compromised: "
                                          "still in force"), 1, out.stdout)
        self.assertIn("compromised at " + lost_at, out.stdout)
        # Without its receipts nothing shows when anything was received:
        # the log's index statement promises one for every event (SPEC 8
        # "Receipt time"), so the bundle does not verify at all.
        del bundle["receipts"]
        with open(path, "w") as f:
            json.dump(bundle, f)
        out = subprocess.run([AGENT, "verify", path, "--root", cluster.root_pub,
                              "--log-vkey", vkey], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("no receipt (the first index statement after it) is shown",
                      out.stdout)
        self.assertIn("status  unknown: the bundle did not verify", out.stdout)

        # The real importer, with a new key, can close its recall again:
        # the recall indexes took the compromised close back too.
        renewed = Key("importer-renewed")
        cluster.enroll(renewed, "importer", prefixes=["880"])
        close3, r = c.post(renewed, "recall.closed", {"recall": recall1,
                                                      "outcome": "released"})
        self.assertEqual(r.status, 201, r)
        settle(cluster)
        chain = cluster.get(chain_path).json()
        self.assertEqual(chain["status"]["recall"]["open"], 1)
        self.assertEqual(chain["recalls"]["open"], 1)
        self.assertNotIn("compromised", {e["id"]: e for e in chain["events"]}[close3])


class TestRefusals(unittest.TestCase):

    def setUp(self):
        self.key = Key("victim%d" % time.time_ns())
        cluster.enroll(self.key, "inspector", prefixes=["880"])

    def refused(self, r, status, code):
        self.assertEqual(r.status, status, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], code)
        self.assertTrue(err["field"].endswith("compromisedAt"), err)

    def test_before_enrollment(self):
        self.refused(revoke(cluster.root, self.key.keyid, now_text(-3600)),
                     422, "bad_window")

    def test_after_the_revoke(self):
        self.refused(revoke(cluster.root, self.key.keyid, now_text(600)),
                     422, "bad_window")

    def test_not_a_time(self):
        self.refused(revoke(cluster.root, self.key.keyid, "yesterday"),
                     400, "bad_time")

    def test_within_bounds(self):
        self.assertEqual(revoke(cluster.root, self.key.keyid, now_text(60)).status, 201)


if __name__ == "__main__":
    unittest.main()
