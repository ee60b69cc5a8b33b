"""Hostile cases that need live signatures, made here with PyNaCl: replays,
statements aimed at another chain, signatures moved between payloads or
keys, S+L signatures, revoked, expired and not-yet-valid keys, unknown
keys, payload tricks under a valid signature; each refused with its
documented status and Redis unchanged.  Then XSS payloads in every text
field a signer controls: these are valid statements and must be accepted,
stored byte for byte, served as valid JSON, and escaped in every HTML page
the server has.  Then lots full of GS1 set-82 punctuation reached through
every percent-encoding spelling of their Digital Link path."""
import base64
import json
import re
import unittest
import urllib.parse

import hostile
from hostile import StoreUnchanged, assert_up, faultlib, harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, enroll_payload, event_payload,
                     revoke_payload, statement_id)

GTIN = faultlib.GTIN
L = 2**252 + 27742317777372353535851937790883648493
cluster = None
keys = {}
counts = {"refused": 0, "accepted": 0, "xss_fields": 0, "pages_checked": 0}

XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
       "'';!--\"<XSS>=&{()}", "</textarea><svg onload=alert(1)>",
       "javascript:alert(1)", "</script><script>alert(2)</script>",
       "{{7*7}}${7*7}<%= 7*7 %>", "&lt;already-escaped&gt; &amp; &#x3C;"]


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    for role in ("brand", "inspector", "logistics", "customs", "warehouse", "importer",
                 "regulator"):
        keys[role] = Key(role)
        cluster.enroll(keys[role], role, prefixes=["880"])


def tearDownModule():
    cluster.stop()
    faultlib.figure("hostile.signed", cases_tried=hostile.tried["cases"],
                    refused=counts["refused"], accepted=counts["accepted"],
                    xss_fields=counts["xss_fields"], pages_checked=counts["pages_checked"])


def sign(key, payload):
    return key.sign(TYPE_EVENT, payload)


def post(env, path="/api/v1/events"):
    return faultlib.call(cluster.port, "POST", path, env)


def chain(lot):
    return cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, urllib.parse.quote(lot, safe="")))


def start_chain(lot):
    env = sign(keys["brand"], event_payload(keys["brand"], "product.registered", GTIN, lot,
                                            0, None, REGISTERED))
    r = post(env)
    assert r.status == 201, r
    return statement_id(env)


class Refused(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lot, cls.other = "HSA", "HSB"
        cls.head = start_chain(cls.lot)
        cls.other_head = start_chain(cls.other)

    def refused(self, env, status, code, path="/api/v1/events"):
        hostile.tried["cases"] += 1
        with StoreUnchanged(self, cluster, code):
            r = post(env, path)
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()["error"]["code"], code, r)
        assert_up(self, cluster, code)
        counts["refused"] += 1
        return r

    def payload(self, key=None, lot=None, seq=1, prev="head", data=None, **kw):
        key = key or keys["inspector"]
        return event_payload(key, "inspection.completed", kw.pop("gtin", GTIN),
                             lot or self.lot, seq, self.head if prev == "head" else prev,
                             data or {"certificate": "C-1", "result": "pass"}, **kw)

    def test_replay_of_accepted_statement_changes_nothing(self):
        env = sign(keys["inspector"], self.payload(data={"certificate": "R", "result": "pass"},
                                                   lot="HSR", prev=start_chain("HSR")))
        first = post(env)
        self.assertEqual(first.status, 201)
        for _ in range(3):
            hostile.tried["cases"] += 1
            with StoreUnchanged(self, cluster, "replay"):
                again = post(env)
            self.assertEqual(again.status, 200)
            self.assertEqual(again.json(), first.json())
        # Replayed inside a batch, twice in the same batch.
        hostile.tried["cases"] += 1
        with StoreUnchanged(self, cluster, "replay in batch"):
            r = post([env, env])
        self.assertEqual([x["status"] for x in r.json()["results"]], [200, 200])

    def test_statement_for_another_chain(self):
        # Links to this chain's head but names the other chain.
        self.refused(sign(keys["inspector"], self.payload(lot=self.other)), 422, "wrong_prev")
        # The other chain's seq 0 replayed into this one: a fork at seq 0.
        p = event_payload(keys["brand"], "product.registered", GTIN, self.lot, 0, None,
                          dict(REGISTERED, spec="fork"))
        self.refused(sign(keys["brand"], p), 409, "head_moved")

    def test_envelope_moved_to_another_gtin(self):
        other = "0880123456790" + harness.gtin_check("0880123456790")
        self.refused(sign(keys["inspector"], self.payload(gtin=other)), 422, "seq_gap")

    def test_signatures_moved(self):
        a = sign(keys["inspector"], self.payload())
        b = sign(keys["inspector"], self.payload(data={"certificate": "C-2", "result": "fail"}))
        a["signatures"] = b["signatures"]
        self.refused(a, 401, "bad_signature")
        # The same payload bytes under another payloadType.
        c = sign(keys["inspector"], self.payload())
        c["payloadType"] = TYPE_KEY
        self.refused(c, 400, "bad_payload_type")
        # A signature from another key with the keyid hint changed.
        d = sign(keys["importer"], self.payload())
        d["signatures"][0]["keyid"] = keys["inspector"].keyid
        self.refused(d, 401, "bad_signature")

    def test_signer_field_names_another_key(self):
        p = self.payload()
        p["signer"] = keys["regulator"].keyid
        self.refused(sign(keys["inspector"], p), 401, "bad_signature")

    def test_s_plus_l_and_other_malleations(self):
        env = sign(keys["inspector"], self.payload())
        sig = base64.b64decode(env["signatures"][0]["sig"])
        s = int.from_bytes(sig[32:], "little")
        for name, new in [("S+L", sig[:32] + (s + L).to_bytes(32, "little")),
                          ("S+2L", sig[:32] + (s + 2 * L).to_bytes(32, "little")),
                          ("S=0", sig[:32] + bytes(32)),
                          ("R=0", bytes(32) + sig[32:]),
                          ("flipped bit", sig[:5] + bytes([sig[5] ^ 1]) + sig[6:]),
                          ("all zero", bytes(64))]:
            with self.subTest(name):
                bad = json.loads(json.dumps(env))
                bad["signatures"][0]["sig"] = base64.b64encode(new).decode()
                self.refused(bad, 401, "bad_signature")

    def test_second_signature_is_not_a_back_door(self):
        # SPEC 8: an envelope carries exactly one signature.  Two or more
        # are refused as 400 bad_signatures before any is verified, bogus
        # or not, and whatever their keyid hints say.
        bogus = {"keyid": keys["inspector"].keyid, "sig": base64.b64encode(bytes(64)).decode()}
        env = sign(keys["inspector"], self.payload())
        self.refused(dict(env, signatures=[bogus, bogus]), 400, "bad_signatures")
        other = sign(keys["importer"], self.payload())["signatures"][0]
        self.refused(dict(env, signatures=[bogus, other]), 400, "bad_signatures")
        # A bogus one next to the signer's valid one (on a chain of its
        # own): refused too, nothing stored; the valid envelope alone is
        # then accepted, under the same id.
        lot = "HS2SIG"
        good = sign(keys["inspector"], self.payload(lot=lot, prev=start_chain(lot)))
        self.refused(dict(good, signatures=[bogus] + good["signatures"]), 400,
                     "bad_signatures")
        self.refused(dict(good, signatures=good["signatures"] + [bogus]), 400,
                     "bad_signatures")
        hostile.tried["cases"] += 1
        r = post(good)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["id"], statement_id(good))

    def test_keys_out_of_their_window_or_revoked(self):
        expired, future, revoked = Key("expired"), Key("future"), Key("revoked")
        cluster.enroll(expired, "inspector", not_before="2025-01-01T00:00:00Z",
                       not_after="2026-01-01T00:00:00Z")
        cluster.enroll(future, "inspector", not_before="2030-01-01T00:00:00Z")
        cluster.enroll(revoked, "inspector")
        r = cluster.post("/api/v1/keys", cluster.root.sign(TYPE_KEY, revoke_payload(
            cluster.root, revoked.keyid)))
        self.assertEqual(r.status, 201, r)
        self.refused(sign(expired, self.payload(key=expired)), 403, "outside_window")
        self.refused(sign(future, self.payload(key=future)), 403, "outside_window")
        self.refused(sign(revoked, self.payload(key=revoked)), 403, "key_revoked")
        # A revoked key cannot enroll a new one, even as admin.
        admin = Key("admin-revoked")
        cluster.enroll(admin, "admin")
        r = cluster.post("/api/v1/keys", cluster.root.sign(TYPE_KEY, revoke_payload(
            cluster.root, admin.keyid)))
        self.assertEqual(r.status, 201)
        self.refused(admin.sign(TYPE_KEY, enroll_payload(admin, Key("x"), "inspector")),
                     403, "key_revoked", path="/api/v1/keys")

    def test_unknown_key_and_self_enrollment(self):
        stranger = Key("stranger")
        self.refused(sign(stranger, self.payload(key=stranger)), 401, "unknown_key")
        # Enrolling itself as admin, signed by itself.
        self.refused(stranger.sign(TYPE_KEY, enroll_payload(stranger, stranger, "admin")),
                     401, "unknown_key", path="/api/v1/keys")

    def test_payload_tricks_under_valid_signatures(self):
        ins = keys["inspector"]
        base = json.dumps(self.payload(), separators=(",", ":"))
        for name, text, status, code in [
                ("duplicate seq", base[:-1] + ',"seq":1}', 400, "duplicate_key"),
                ("float seq", base.replace('"seq":1', '"seq":1.0'), 400, "float_not_allowed"),
                ("negative seq", base.replace('"seq":1', '"seq":-1'), 400, None),
                ("seq 2^63", base.replace('"seq":1', '"seq":9223372036854775808'), 400, None),
                ("unknown field", base[:-1] + ',"colour":"red"}', 400, "unknown_field"),
                ("NUL in certificate", base.replace("C-1", "C\\u00001"), 400, None),
                ("invalid UTF-8", None, 400, "invalid_text"),
                ("overlong UTF-8", None, 400, "invalid_text"),
                ("bad time", base.replace(base.split('"time":"')[1].split('"')[0], "yesterday"), 400, None),
                ("lot outside set 82", base.replace('"lot":"HSA"', '"lot":"H S#A"'), 400, None),
                ("lot of 21", base.replace('"lot":"HSA"', '"lot":"%s"' % ("A" * 21)), 400, None),
                ("unknown type", base.replace("inspection.completed", "inspection.forged"), 400, None),
                ("version 2", base.replace('"v":1', '"v":2'), 400, None),
                ("prev not hex", base.replace(self.head, "zz" * 32), 400, None),
                ("deep data", base.replace('"result":"pass"', '"result":"pass","items":' +
                                           "[" * 40 + "]" * 40), 400, None),
                # Text that shows something other than what was signed: a
                # right-to-left override makes "liaf" read "fail", a zero
                # width space splits a certificate number unseen, a line
                # separator breaks a line, a Hangul filler passes for a name.
                ("RLO in certificate", base.replace("C-1", "C-1\\u202eliaf"), 400, "bad_field"),
                ("zero width space", base.replace("C-1", "C-\\u200b1"), 400, "bad_field"),
                ("line separator", base.replace("C-1", "C-1\\u2028"), 400, "bad_field"),
                ("Hangul filler", base.replace("C-1", "\\u3164"), 400, "bad_field"),
                ("BOM", base.replace("C-1", "\\ufeffC-1"), 400, "bad_field"),
        ]:
            with self.subTest(name):
                raw = text.encode() if text is not None else (
                    base.replace("C-1", "C-\xff").encode("latin-1") if name == "invalid UTF-8"
                    else base.encode().replace(b"C-1", b"C-\xc0\xb1"))
                r = self.refused(ins.sign(TYPE_EVENT, raw), status, code) if code else None
                if code is None:
                    hostile.tried["cases"] += 1
                    with StoreUnchanged(self, cluster, name):
                        r = post(ins.sign(TYPE_EVENT, raw))
                    self.assertEqual(r.status, status, (name, r))
                    counts["refused"] += 1

    def test_oversized_batches(self):
        env = sign(keys["inspector"], self.payload())
        hostile.tried["cases"] += 1
        with StoreUnchanged(self, cluster, "1001 signed"):
            r = post([env] * 1001)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"]["code"], "bad_batch")
        assert_up(self, cluster, "1001")


def html_pages(lot):
    """Every HTML page the server has for a chain (routes may not exist yet)."""
    out = []
    for path in ("/01/%s/10/%s" % (GTIN, urllib.parse.quote(lot, safe="")),
                 "/01/%s/10/%s/21/S1" % (GTIN, urllib.parse.quote(lot, safe="")),
                 "/inspect/01/%s/10/%s" % (GTIN, urllib.parse.quote(lot, safe="")),
                 "/recalls"):
        r = faultlib.call(cluster.port, "GET", path, headers={"Accept": "text/html"})
        if r.status == 200 and r.headers.get("content-type", "").startswith("text/html"):
            out.append((path, r.body.decode("utf-8")))
    return out


class Xss(unittest.TestCase):
    """Valid statements with script in every text field: accepted, stored
    as signed, valid JSON out, escaped in HTML."""

    def check(self, lot, written):
        r = chain(lot)
        self.assertEqual(r.status, 200)
        doc = json.loads(r.body)   # valid JSON however hostile the text
        payloads = [e["payload"] for e in doc["events"]]
        for e in doc["events"]:
            self.assertEqual(e["id"], statement_id(e["envelope"]))
        text = json.dumps(payloads, ensure_ascii=False)
        for x in written:
            self.assertIn(json.dumps(x, ensure_ascii=False)[1:-1], text)
        for path, html in html_pages(lot):
            counts["pages_checked"] += 1
            for x in XSS:
                if "<" in x:
                    for tag in re.findall(r"<[a-zA-Z/][^<>\s]*", x):
                        self.assertNotIn(x, html, (path, x))
                        self.assertNotIn(tag + " onerror", html, path)
            self.assertNotRegex(html, r"<script>alert|<svg onload|<img src=x|<XSS>", path)

    def post_ok(self, key, payload):
        r = post(sign(key, payload))
        self.assertEqual(r.status, 201, r)
        counts["accepted"] += 1
        hostile.tried["cases"] += 1
        return r.json()["id"]

    def test_every_text_field(self):
        for i, x in enumerate(XSS):
            lot = "XSS%d" % i
            written = []

            def t(s):
                counts["xss_fields"] += 1
                written.append(s)
                return s

            where = {"country": "KR", "place": t(x)}
            reg = dict(REGISTERED, name={"zh": t(x), "en": t(x), "ko": t(x)}, brand=t(x),
                       manufacturer=t(x), spec=t(x))
            k = keys
            steps = [
                ("brand", "product.registered", reg),
                ("inspector", "inspection.sampled", {"samples": 1, "sampleIds": [t(x)]}),
                ("inspector", "inspection.completed", {
                    "certificate": t(x), "result": "pass", "body": t(x), "standard": t(x),
                    "items": [{"name": t(x), "value": t(x), "limit": t(x), "result": "pass"}],
                    "attachments": [{"name": t(x), "sha256": "ab" * 32, "media": "text/plain"}]}),
                ("logistics", "shipment.departed", {"carrier": t(x), "vessel": t(x),
                                                    "billOfLading": t(x), "port": "KRINC"}),
                ("importer", "customs.declared", {"declaration": t(x), "mode": "1210"}),
                ("customs", "customs.released", {"declaration": t(x)}),
                ("warehouse", "warehouse.received", {"warehouse": t(x), "location": t(x),
                                                     "destination": t(x)}),
                ("regulator", "recall.issued", {"reason": t(x), "severity": 1, "action": t(x),
                                                "contact": t(x)}),
                # A regulator's recall is closed by a regulator, naming it.
                ("regulator", "recall.closed", lambda ids: {
                    "recall": ids[-1], "outcome": "destroyed", "recovered": 1}),
            ]
            prev, ids = None, []
            for seq, (role, etype, data) in enumerate(steps):
                if callable(data):
                    data = data(ids)
                with self.subTest(payload=x, type=etype):
                    p = event_payload(k[role], etype, GTIN, lot, seq, prev, data, where=where)
                    prev = self.post_ok(k[role], p)
                    ids.append(prev)
            # A correction may not name a recall (SPEC 8): it names the
            # warehouse record, with the hostile reason.
            p = event_payload(k["regulator"], "correction", GTIN, lot, len(steps), prev,
                              {"corrects": ids[6], "reason": t(x)})
            self.post_ok(k["regulator"], p)
            self.check(lot, written)
        # Key entries: a key's name and its org's names are signed text
        # too (the org's, by the root: SPEC 8 "Organisations").
        for x in XSS[:3]:
            kx = Key(x[:40])
            oid = harness.org_id(x)
            r = cluster.ensure_org(oid, name=x)
            self.assertEqual(r.status, 201, r)
            r = cluster.post("/api/v1/keys", cluster.root.sign(TYPE_KEY, enroll_payload(
                cluster.root, kx, "inspector", org=oid)))
            self.assertEqual(r.status, 201, r)
            counts["accepted"] += 2
            counts["xss_fields"] += 3
            doc = json.loads(cluster.get("/api/v1/keys/" + kx.keyid).body)
            self.assertEqual(doc["entries"][0]["payload"]["org"], oid)
            orgs = [e["payload"] for e in json.loads(cluster.get("/api/v1/keys").body)["entries"]
                    if e["payload"]["op"] == "org" and e["payload"]["org"] == oid]
            self.assertEqual(orgs[0]["name"], {"zh": x, "en": x})


class PercentEncoding(unittest.TestCase):
    """A lot of GS1 set-82 punctuation: every spelling of its path reaches
    the one chain; near misses reach nothing."""

    def test_spellings(self):
        lot = "A/B%C&D+E"
        start_chain(lot)
        spellings = ["A%2FB%25C%26D%2BE", "A%2fB%25C%26D%2bE", "A%2FB%25C&D+E"]
        ids = set()
        for s in spellings:
            hostile.tried["cases"] += 1
            r = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, s))
            self.assertEqual(r.status, 200, (s, r))
            ids.add(r.json()["head"]["id"])
            self.assertEqual(r.json()["events"][0]["payload"]["chain"]["lot"], lot)
        self.assertEqual(len(ids), 1)
        for s, status in [("A/B%25C%26D%2BE", 400),       # a raw slash is a new segment
                          ("A%2FB%C&D+E", 400),           # %C& is no escape
                          ("A%2FB%2525C%26D%2BE", 404),   # double-encoded: another lot
                          ("A%252FB%25C%26D%2BE", 404)]:
            hostile.tried["cases"] += 1
            with StoreUnchanged(self, cluster, s):
                r = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, s))
            self.assertIn(r.status, (status, 400, 404), (s, r))
            self.assertNotEqual(r.status, 200, s)
        # GTIN-13 and GTIN-14 spellings are one chain.
        r = cluster.get("/api/v1/chains/01/%s/10/A%%2FB%%25C%%26D%%2BE" % GTIN[1:])
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
