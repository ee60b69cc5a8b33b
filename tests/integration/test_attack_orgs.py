"""Issue 17's attacks on the org registry (SPEC 8 "Organisations", "GTIN
prefixes", "Admin scope", "Registration"), written as the attacks: each
test sends, with valid signatures only, what an admin or a key acting
inside its role would send to widen its own power, and asserts the
refusal (status and code), that the store is byte for byte unchanged and
that the views still tell the same story.

  (1) an admin scoped to prefix 880 enrolls an unscoped importer
  (2) an admin enrolls a new admin
  (3) an admin revokes another org's key
  (4) an importer registers a lot outside its org's prefixes (lot
      squatting); the real brand can still register it
  (5) an org entry signed by a non-root admin
  (6) an enrollment naming an unknown org
and what the root itself may not do either (a role or a prefix outside
the org), then that the bundle carries the org entries and `trace-agent
verify` re-checks them, and that pages show the registered org name.
"""
import json
import os
import subprocess
import unittest

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, enroll_payload,
                     event_payload, org_payload, revoke_payload, settle,
                     statement_id)

GTIN_KR = "08801234567893"     # covered by 880
GTIN_JP = "04901234567894"     # covered by 490
cluster = None
keys = {}


def post_key(signer, payload):
    return cluster.post("/api/v1/keys", signer.sign(TYPE_KEY, payload))


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    root = cluster.root
    # The brand's org owns 880; the importer's org owns 490 only; the
    # logistics org has no prefix (it registers no lot).
    for org, zh, en, roles, prefixes in (
            ("amore", "爱茉莉太平洋", "Amorepacific", ["brand", "inspector", "admin"],
             ["880"]),
            ("haiyue", "海悦贸易", "Haiyue Trading", ["importer", "admin"], ["490"]),
            ("hmm", "现代商船", "HMM", ["logistics", "importer", "admin"], None)):
        r = post_key(root, org_payload(root, org, roles=roles, prefixes=prefixes,
                                       name=(zh, en)))
        assert r.status == 201, r
    for name, role, org, prefixes in (("amore-admin", "admin", "amore", ["880"]),
                                      ("brand", "brand", "amore", ["880"]),
                                      ("haiyue-admin", "admin", "haiyue", ["490"]),
                                      ("importer", "importer", "haiyue", ["490"]),
                                      ("hmm-admin", "admin", "hmm", ["880"]),
                                      ("carrier", "logistics", "hmm", None),
                                      ("hmm-importer", "importer", "hmm", None)):
        keys[name] = Key(name)
        r = post_key(root, enroll_payload(root, keys[name], role, org=org,
                                          prefixes=prefixes))
        assert r.status == 201, (name, r)


def tearDownModule():
    cluster.stop()


class StoreUnchanged:
    """The store must be byte-for-byte the same after a refused write."""

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
            self.test.assertEqual(changed, [], "a refused write changed the store")


class Attacks(unittest.TestCase):
    def refused(self, path, env, status, code):
        with StoreUnchanged(self):
            r = cluster.post(path, env)
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()["error"]["code"], code, r)
        return r

    def enrolled(self, key):
        return cluster.get("/api/v1/keys/" + key.keyid).status == 200

    def test_1_scoped_admin_enrolls_an_unscoped_importer(self):
        admin = keys["amore-admin"]
        k = Key("wide-importer")
        # The org has prefixes: a key for any GTIN lies outside them.
        self.refused("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(
            admin, k, "brand", org="amore", prefixes=None)), 403, "prefix_outside_org")
        # An org without prefixes: the admin's own 880 still binds.
        admin = keys["hmm-admin"]
        self.refused("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(
            admin, k, "importer", org="hmm", prefixes=None)), 403, "prefix_outside_scope")
        self.refused("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(
            admin, k, "importer", org="hmm", prefixes=["4"])), 403, "prefix_outside_scope")
        self.assertFalse(self.enrolled(k))
        # Inside its scope it may.
        r = cluster.post("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(
            admin, k, "importer", org="hmm", prefixes=["8801"])))
        self.assertEqual(r.status, 201, r)
        self.assertTrue(self.enrolled(k))

    def test_2_admin_enrolls_an_admin(self):
        admin = keys["amore-admin"]
        k = Key("second-admin")
        self.refused("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(
            admin, k, "admin", org="amore", prefixes=["880"])), 403, "root_only")
        self.assertFalse(self.enrolled(k))

    def test_2b_admin_enrolls_into_another_org_or_outside_its_window(self):
        admin = keys["amore-admin"]
        k = Key("foreign")
        self.refused("/api/v1/keys", admin.sign(TYPE_KEY, enroll_payload(
            admin, k, "importer", org="haiyue", prefixes=["490"])), 403, "wrong_org")
        # A windowed admin (the root's) gives no key a longer life.
        windowed = Key("windowed-admin")
        r = post_key(cluster.root, enroll_payload(
            cluster.root, windowed, "admin", org="amore", prefixes=["880"],
            not_before="2026-01-01T00:00:00Z", not_after="2099-01-01T00:00:00Z"))
        self.assertEqual(r.status, 201, r)
        self.refused("/api/v1/keys", windowed.sign(TYPE_KEY, enroll_payload(
            windowed, k, "brand", org="amore", prefixes=["880"],
            not_before="2026-01-01T00:00:00Z")), 403, "window_outside_scope")
        self.assertFalse(self.enrolled(k))

    def test_3_admin_revokes_another_orgs_key(self):
        admin = keys["haiyue-admin"]
        self.refused("/api/v1/keys", admin.sign(TYPE_KEY, revoke_payload(
            admin, keys["brand"].keyid, reason="competitor")), 403, "wrong_org")
        self.assertFalse(cluster.get("/api/v1/keys/" + keys["brand"].keyid).json()["revoked"])
        # Its own org's key it may revoke; the root any key.
        k = Key("haiyue-temp")
        self.assertEqual(post_key(cluster.root, enroll_payload(
            cluster.root, k, "importer", org="haiyue", prefixes=["490"])).status, 201)
        r = post_key(admin, revoke_payload(admin, k.keyid))
        self.assertEqual(r.status, 201, r)
        k2 = Key("amore-temp")
        self.assertEqual(post_key(cluster.root, enroll_payload(
            cluster.root, k2, "brand", org="amore", prefixes=["880"])).status, 201)
        self.assertEqual(post_key(cluster.root, revoke_payload(cluster.root, k2.keyid)).status,
                         201)

    def test_4_lot_squatting(self):
        lot = "SQUAT-1"
        chain = "/api/v1/chains/01/%s/10/%s" % (GTIN_KR, lot)
        page = "/01/%s/10/%s" % (GTIN_KR, lot)
        self.assertEqual(cluster.get(chain).status, 404)
        # The importer's key covers only 490: the key check refuses.
        imp = keys["importer"]
        self.refused("/api/v1/events", imp.sign(TYPE_EVENT, event_payload(
            imp, "product.registered", GTIN_KR, lot, 0, None, REGISTERED)),
            403, "gtin_not_covered")
        # A key for any GTIN in an org without prefixes: the org rule.
        imp = keys["hmm-importer"]
        self.refused("/api/v1/events", imp.sign(TYPE_EVENT, event_payload(
            imp, "product.registered", GTIN_KR, lot, 0, None, REGISTERED)),
            403, "gtin_outside_org")
        self.refused("/api/v1/events", imp.sign(TYPE_EVENT, event_payload(
            imp, "product.registered", GTIN_JP, lot, 0, None, REGISTERED)),
            403, "gtin_outside_org")
        self.assertEqual(cluster.get(chain).status, 404)
        self.assertEqual(cluster.get(page, headers={"Accept": "text/html"}).status, 404)
        # The real brand still registers the lot.
        brand = keys["brand"]
        env = brand.sign(TYPE_EVENT, event_payload(
            brand, "product.registered", GTIN_KR, lot, 0, None, REGISTERED))
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 201, r)
        doc = cluster.get(chain).json()
        self.assertEqual([e["id"] for e in doc["events"]], [statement_id(env)])

    def test_5_org_entry_by_a_non_root_admin(self):
        for name in ("amore-admin", "haiyue-admin"):
            admin = keys[name]
            # Widening its own org, or making a new one.
            for org, prefixes in (("amore", ["8", "4"]), ("haiyue", ["880"]), ("rogue", ["880"])):
                self.refused("/api/v1/keys", admin.sign(TYPE_KEY, org_payload(
                    admin, org, roles=["brand", "importer"], prefixes=prefixes)),
                    403, "root_only")
        # A key of no admin role at all.
        brand = keys["brand"]
        self.refused("/api/v1/keys", brand.sign(TYPE_KEY, org_payload(
            brand, "amore", prefixes=["8"])), 403, "role_not_allowed")

    def test_6_enrollment_naming_an_unknown_org(self):
        k = Key("nobody")
        for org in ("unknown-org", "Amorepacific", "AMORE"):
            self.refused("/api/v1/keys", cluster.root.sign(TYPE_KEY, enroll_payload(
                cluster.root, k, "brand", org=org, prefixes=["880"])), 422, "unknown_org")
        self.assertFalse(self.enrolled(k))

    def test_7_the_root_too_stays_inside_the_org(self):
        k = Key("odd")
        self.refused("/api/v1/keys", cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, k, "customs", org="amore", prefixes=["880"])), 403, "role_not_in_org")
        self.refused("/api/v1/keys", cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, k, "brand", org="amore", prefixes=["490"])), 403, "prefix_outside_org")
        self.refused("/api/v1/keys", cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, k, "brand", org="amore", prefixes=None)), 403, "prefix_outside_org")
        # Malformed org entries: 400 before any rule.
        self.refused("/api/v1/keys", cluster.root.sign(TYPE_KEY, org_payload(
            cluster.root, "Bad Id")), 400, "bad_org")
        self.refused("/api/v1/keys", cluster.root.sign(TYPE_KEY, dict(org_payload(
            cluster.root, "x"), gtinPrefixes=[])), 400, "bad_prefixes")
        self.assertFalse(self.enrolled(k))

    def test_8_the_root_replaces_an_org(self):
        """A later org entry with the same id replaces the org at once
        (this server forgets its cached copy), and is a statement like any
        other."""
        root, imp, lot = cluster.root, Key("late-importer"), "LATE-1"
        r = post_key(root, org_payload(root, "late-org", roles=["importer"],
                                       name=("后来", "Late")))
        self.assertEqual(r.status, 201, r)
        first = r.json()["id"]
        self.assertEqual(post_key(root, enroll_payload(
            root, imp, "importer", org="late-org", prefixes=None)).status, 201)
        env = imp.sign(TYPE_EVENT, event_payload(
            imp, "product.registered", GTIN_KR, lot, 0, None, REGISTERED))
        self.refused("/api/v1/events", env, 403, "gtin_outside_org")
        r = post_key(root, org_payload(root, "late-org", roles=["importer"],
                                       prefixes=["880"], name=("后来", "Late"),
                                       when="2026-11-20T09:00:00Z"))
        self.assertEqual(r.status, 201, r)
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 201, r)
        r = cluster.get("/api/v1/events/" + first)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["envelope"]["signatures"][0]["keyid"], root.keyid)
        # Both versions are in the store's history, the latest in k:org.
        self.assertEqual(len(cluster.redis.hget("k:org:history", "late-org").split()), 2)

    def test_9_an_enrollment_checked_against_an_old_org_is_not_appended(self):
        """The store's half of the race: the Function appends an
        enrollment only while the org's k:org record is the one the
        server checked it against (org_changed otherwise), and writes
        nothing then."""
        import base64
        import hashlib
        k = Key("raced")
        env = cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, k, "brand", org="amore", prefixes=["880"]))
        payload = base64.b64decode(env["payload"])
        leaf = hashlib.sha256(b"\x00" + harness.pae(TYPE_KEY, payload)).digest()
        current = cluster.redis.hget("k:org", "amore").decode()
        stale = "0 0 0" if current != "0 0 0" else "1 1 1"
        settle(cluster)
        before = cluster.snapshot()
        reply = cluster.redis.execute_command(
            "FCALL", "trace_append_key", 8, "k:entries", "ids", "k:enroll", "k:revoke",
            "log:{log}:size", "log:{log}:pending", "k:org", "k:org:history",
            statement_id(env), "enroll", k.keyid, cluster.root.keyid, leaf,
            json.dumps(env, separators=(",", ":")), "1", "amore", stale)
        self.assertEqual(reply, [b"org_changed"])
        self.assertEqual(cluster.snapshot(), before)
        self.assertFalse(self.enrolled(k))


class Views(unittest.TestCase):
    """The bundle carries the org entries; verify re-checks them; pages
    show the registered name."""

    @classmethod
    def setUpClass(cls):
        cls.lot = "ORG-VIEW"
        brand = keys["brand"]
        insp = Key("amore-lab")
        keys["amore-lab"] = insp
        r = post_key(cluster.root, enroll_payload(cluster.root, insp, "inspector",
                                                  org="amore", prefixes=["880"]))
        assert r.status == 201, r
        reg = brand.sign(TYPE_EVENT, event_payload(
            brand, "product.registered", GTIN_KR, cls.lot, 0, None, REGISTERED))
        ins = insp.sign(TYPE_EVENT, event_payload(
            insp, "inspection.completed", GTIN_KR, cls.lot, 1, statement_id(reg),
            {"certificate": "C-ORG", "result": "pass", "body": "Self-declared Lab"}))
        for env in (reg, ins):
            r = cluster.post("/api/v1/events", env)
            assert r.status == 201, r
        settle(cluster)

    def bundle(self):
        r = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN_KR, self.lot))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def verify(self, bundle):
        path = os.path.join(cluster.dir, "org-bundle.json")
        with open(path, "w") as f:
            json.dump(bundle, f)
        vkey = cluster.get("/api/v1/log").json()["vkey"]
        return subprocess.run([harness.AGENT, "verify", path, "--root", cluster.root_pub,
                               "--log-vkey", vkey], capture_output=True, text=True,
                              timeout=120)

    def payloads(self, bundle):
        import base64
        return [json.loads(base64.b64decode(k["envelope"]["payload"])) for k in bundle["keys"]]

    def test_bundle_carries_the_org_and_verifies(self):
        b = self.bundle()
        orgs = [p["org"] for p in self.payloads(b) if p["op"] == "org"]
        self.assertEqual(orgs, ["amore"])
        r = self.verify(b)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"ok    key entry at log index 0: org amore "
                         r"\(Amorepacific / 爱茉莉太平洋, 1 prefixes\) by [0-9a-f]{32} \(root\)")

    def test_a_forged_org_entry_fails(self):
        """An operator who widens the org in the bundle breaks the root's
        signature on it."""
        import base64
        b = self.bundle()
        payloads = self.payloads(b)
        forged = json.loads(json.dumps(b))
        for k, p in zip(forged["keys"], payloads):
            if p["op"] == "org":
                p["gtinPrefixes"] = ["4"]
                k["envelope"]["payload"] = base64.b64encode(
                    json.dumps(p, separators=(",", ":")).encode()).decode()
        r = self.verify(forged)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stdout, r"FAIL  key entry .*signature")

    def test_pages_show_the_registered_name(self):
        path = "/01/%s/10/%s" % (GTIN_KR, self.lot)
        en = cluster.get(path + "?lang=en", headers={"Accept": "text/html"})
        zh = cluster.get(path + "?lang=zh", headers={"Accept": "text/html"})
        self.assertEqual((en.status, zh.status), (200, 200))
        self.assertIn("Amorepacific", en.body.decode())
        self.assertIn("爱茉莉太平洋", zh.body.decode())
        # Never the enrollment's org text or a signer-supplied body.
        self.assertNotIn("Self-declared Lab", en.body.decode())
        self.assertNotIn("Self-declared Lab", zh.body.decode())


if __name__ == "__main__":
    unittest.main()
