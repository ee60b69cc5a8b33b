"""SPEC 12 end to end: issued serials and scratch-off codes, against a real
redis-server and trace-server, each attack written as its attacker:

- an importer (an org that does not own the GTIN prefix) inventing
  serials.issued or uploading codes for a brand's lot: refused;
- a counterfeiter printing a QR with an invented serial: the page and the
  JSON say "never issued"; with a root set the server's (non-)membership
  proofs are checked here, independently of the C code;
- a codes upload whose list does not match its signed root: refused,
  nothing stored; a second code for a serial: 409;
- a copied label: the first correct entry is recorded, later entries say
  when; a counterfeiter guessing codes is stopped by each limit (per
  serial and client, per serial, per client) with 429 and Retry-After; a
  client spoofing X-Forwarded-For is ignored unless its peer is a trusted
  proxy; IPv6 clients count per /64 (the client-key unit test: the
  harness listens on IPv4 only);
- no answer of any endpoint holds a code hash or its MAC.
"""
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import time
import unittest
import urllib.parse

import harness
from harness import (AGENT, TYPE_EVENT, TYPE_KEY, Key, enroll_payload,
                     event_payload, gtin_check, REGISTERED)

GTIN = "0" + "880123456789" + gtin_check("880123456789")
cluster = None
keys = {}


def chain_id(gtin, lot):
    return "01/%s/10/%s" % (gtin, urllib.parse.quote(lot, safe=""))


def code_hash(chain, serial, code):
    return hashlib.sha256(b"trace-code\0" + chain.encode() + b"\0" +
                          serial.encode() + b"\0" + code.encode()).digest()


def leaf(data):
    return hashlib.sha256(b"\0" + data).digest()


def node(a, b):
    return hashlib.sha256(b"\1" + a + b).digest()


def mth(leaves):
    """RFC 6962 2.1 over leaf data."""
    if len(leaves) == 0:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(leaf_hash, index, size, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def check_proof(serial, proof, root, count):
    """An independent reading of docs/PROTOCOL.md 12.2: True (member),
    False (provably not), or an AssertionError."""
    assert bytes.fromhex(proof["root"]) == root and proof["count"] == count

    def ok(l):
        return verify_inclusion(leaf(l["serial"].encode()), l["index"], count,
                                [bytes.fromhex(h) for h in l["path"]], root)
    if proof["member"]:
        assert proof["leaf"]["serial"] == serial and ok(proof["leaf"])
        return True
    left, right = proof.get("left"), proof.get("right")
    assert left or right
    if left:
        assert ok(left) and left["serial"].encode() < serial.encode()
    if right:
        assert ok(right) and right["serial"].encode() > serial.encode()
    if left and right:
        assert right["index"] == left["index"] + 1
    elif left:
        assert left["index"] == count - 1
    else:
        assert right["index"] == 0
    return False


def setUpModule():
    global cluster, pepper, pepper_dir
    pepper_dir = harness.tempfile.mkdtemp(prefix="trace-units-")
    pepper = os.path.join(pepper_dir, "pepper")
    fd = os.open(pepper, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    cluster = harness.Cluster.start(server_args=[
        "--code-pepper", pepper, "--trusted-proxy", "127.0.0.2/32"])
    # The brand owns prefix 880; the importer's org owns no prefix.
    cluster.ensure_org("brand-a", name="Brand A", prefixes=["880"])
    cluster.ensure_org("importer-b", name="Importer B", prefixes=None)
    keys["brand"] = Key("brand")
    keys["importer"] = Key("importer")
    for k, role, org, prefixes in ((keys["brand"], "brand", "brand-a", ["880"]),
                                   (keys["importer"], "importer", "importer-b",
                                    None)):
        r = cluster.post("/api/v1/keys", cluster.root.sign(TYPE_KEY, enroll_payload(
            cluster.root, k, role, org=org, prefixes=prefixes)))
        assert r.status in (200, 201), r


def tearDownModule():
    cluster.stop()
    shutil.rmtree(pepper_dir, ignore_errors=True)


class Lot:
    """A lot being written by the tests."""

    def __init__(self, lot):
        self.lot = lot
        self.chain = chain_id(GTIN, lot)
        self.prev = None
        self.seq = 0
        r = self.send("brand", "product.registered", REGISTERED)
        assert r.status == 201, r

    def envelope(self, who, etype, data):
        return keys[who].sign(TYPE_EVENT, event_payload(
            keys[who], etype, GTIN, self.lot, self.seq, self.prev, data))

    def accepted(self, r):
        if r.status == 201:
            self.prev = r.json()["id"]
            self.seq += 1

    def send(self, who, etype, data):
        r = cluster.post("/api/v1/events", self.envelope(who, etype, data))
        self.accepted(r)
        return r

    def unit(self, serial):
        return "/01/%s/10/%s/21/%s" % (GTIN, self.lot, serial)

    def upload(self, who, pairs, root=None, count=None, body_out=None):
        """pairs: [(serial, code)]; the list of hashes and a codes.issued
        over their root (or the root given)."""
        hashes = [code_hash(self.chain, s, c) for s, c in pairs]
        real = mth(sorted(hashes))
        data = {"root": (root or real).hex(),
                "count": count if count is not None else len(pairs)}
        body = {"envelope": self.envelope(who, "codes.issued", data),
                "codes": [[s, h.hex()] for (s, _), h in zip(pairs, hashes)]}
        if body_out is not None:
            body_out.append(body)
        r = cluster.post("/api/v1/codes/01/%s/10/%s" % (GTIN, self.lot), body)
        if r.status == 201:
            self.prev = r.json()["event"]["id"]
            self.seq += 1
        return r

    def enter(self, serial, code, headers=None, json_=True):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if json_:
            h["Accept"] = "application/json"
        h.update(headers or {})
        return cluster.post(self.unit(serial) + "/code",
                            urllib.parse.urlencode({"code": code}).encode(),
                            headers=h, raw=True)


def unit_json(path):
    r = cluster.get(path, headers={"Accept": "application/json"})
    assert r.status == 200, r
    return r.json()


class TestIssuedSerials(unittest.TestCase):

    def test_importer_cannot_issue_serials(self):
        """An importer inventing serials.issued for the brand's lot."""
        lot = Lot("IMP-1")
        r = lot.send("importer", "serials.issued", {"ranges": [["S0001", "S9999"]]})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"]["code"], "gtin_outside_org")
        r = lot.upload("importer", [("S0001", "1234567890123456")])
        self.assertEqual(r.status, 403, r)
        self.assertEqual(cluster.redis.exists("u:{%s}:codes" % lot.chain), 0)

    def test_invented_serial_ranges(self):
        """A counterfeiter prints labels with serials the brand never issued."""
        lot = Lot("RNG-1")
        self.assertIsNone(unit_json(lot.unit("S0500"))["serialIssued"])
        r = lot.send("brand", "serials.issued", {"ranges": [["S0001", "S1000"]]})
        self.assertEqual(r.status, 201, r)
        self.assertIs(unit_json(lot.unit("S0500"))["serialIssued"], True)
        self.assertIs(unit_json(lot.unit("S5000"))["serialIssued"], False)
        self.assertIs(unit_json(lot.unit("X1"))["serialIssued"], False)
        # The verdict once a signed checkpoint covers the lot: pages never
        # wait for the integrator (SPEC 7 "Abuse") and say "pending" until
        # then, so wait for it as a reader reloading would.
        harness.settle(cluster)
        deadline = time.time() + 10
        while 'data-verdict="pending"' in cluster.get(lot.unit("S5000")).body.decode():
            self.assertLess(time.time(), deadline, "the verdict stays pending")
            time.sleep(0.1)
        for lang, text in (("en", "This serial was never issued for this lot"),
                           ("zh-CN", "此序列号从未为该批次发放"),
                           ("ko", "이 일련번호는 이 로트에 발급된 적이 없습니다")):
            page = cluster.get(lot.unit("S5000") + "?lang=" + lang).body.decode()
            self.assertIn('id="never-issued"', page)
            self.assertIn(text, page)
            # The record checks, but the unit is not called genuine.
            self.assertIn('class="card verdict bad"', page)
        page = cluster.get(lot.unit("S0500") + "?lang=en").body.decode()
        self.assertNotIn('id="never-issued"', page)
        self.assertIn('id="serial-issued"', page)
        # The lot JSON (no serial) carries no serialIssued.
        self.assertNotIn("serialIssued", unit_json("/01/%s/10/%s" % (GTIN, lot.lot)))

    def test_recall_of_serials_never_issued(self):
        """A recall naming only serials outside every issued range."""
        lot = Lot("RNG-2")
        lot.send("brand", "serials.issued", {"ranges": [["S0001", "S1000"]]})
        base = {"reason": "r", "severity": 2, "action": "a"}
        r = lot.send("importer", "recall.issued",
                     dict(base, serials=[["S0500", "S0600"], ["S2000", "S3000"]]))
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error"]["code"], "serials_not_issued")
        r = lot.send("importer", "recall.issued",
                     dict(base, serials=[["S0900", "S1200"]]))
        self.assertEqual(r.status, 201, r)


class TestCodes(unittest.TestCase):

    def setUp(self):
        # Every test enters codes from 127.0.0.1: one client, whose hourly
        # limit one test must not spend for the next.
        for k in cluster.redis.scan_iter("u:client:*"):
            cluster.redis.delete(k)

    def test_root_set_proofs(self):
        """Arbitrary serials under a root: the server's membership and
        non-membership proofs, checked here independently."""
        lot = Lot("ROOT-1")
        serials = ["K7Q2", "A001", "ZZ9", "M55", "B2"]
        pairs = [(s, "%016d" % (i * 7919 + 1)) for i, s in enumerate(serials)]
        r = lot.upload("brand", pairs)
        self.assertEqual(r.status, 201, r)
        ordered = sorted(s.encode() for s in serials)
        root = mth(ordered)
        self.assertEqual(r.json()["serialsRoot"], root.hex())
        r = lot.send("brand", "serials.issued", {"root": root.hex(), "count": 5})
        self.assertEqual(r.status, 201, r)
        for serial, want in (("M55", True), ("A001", True), ("ZZ9", True),
                             ("M56", False), ("0", False), ("ZZZ", False)):
            j = unit_json(lot.unit(serial))
            self.assertIs(j["serialIssued"], want, serial)
            self.assertEqual(len(j["serialProofs"]), 1)
            self.assertIs(check_proof(serial, j["serialProofs"][0], root, 5), want)
        self.assertIs(unit_json(lot.unit("M55"))["codeEntry"], True)
        self.assertIs(unit_json(lot.unit("M56"))["codeEntry"], False)

    def test_root_mismatch_stores_nothing(self):
        lot = Lot("CODE-1")
        harness.settle(cluster)
        before = cluster.snapshot()
        pairs = [("S%04d" % i, "%016d" % i) for i in range(1, 11)]
        r = lot.upload("brand", pairs, root=b"\x01" * 32)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error"]["code"], "root_mismatch")
        r = lot.upload("brand", pairs, count=11)
        self.assertEqual(r.json()["error"]["code"], "count_mismatch")
        harness.settle(cluster)
        self.assertEqual(cluster.snapshot(), before)

    def test_malformed_uploads_store_nothing(self):
        """A forger posting code lists the server must refuse whole."""
        lot = Lot("CODE-6")
        pairs = [("S0001", "1234567812345678"), ("S0002", "8765432187654321")]
        hashes = [code_hash(lot.chain, s, c) for s, c in pairs]
        root = mth(sorted(hashes))
        env = lot.envelope("brand", "codes.issued", {"root": root.hex(), "count": 2})
        good = [[s, h.hex()] for (s, _), h in zip(pairs, hashes)]
        other = Lot("CODE-6B")
        bent = dict(env, signatures=[dict(env["signatures"][0], sig=harness.b64(b"\0" * 64))])
        bodies = [
            (b"not json", 400), (b"[]", 400),
            ({"codes": good}, 400),
            ({"envelope": env, "codes": "S0001"}, 400),
            ({"envelope": env, "codes": [["S0001"]]}, 400),
            ({"envelope": env, "codes": [["S0001", hashes[0].hex().upper()], good[1]]}, 400),
            ({"envelope": env, "codes": [["S 1", hashes[0].hex()], good[1]]}, 400),
            ({"envelope": env, "codes": [good[0], good[0]]}, 422),
            ({"envelope": env, "codes": []}, 400),
            ({"envelope": other.envelope("brand", "codes.issued",
                                         {"root": root.hex(), "count": 2}),
              "codes": good}, 400),
            ({"envelope": lot.envelope("brand", "serials.issued",
                                       {"ranges": [["S0001", "S0002"]]}),
              "codes": good}, 400),
            ({"envelope": bent, "codes": good}, 401),
        ]
        harness.settle(cluster)
        before = cluster.snapshot()
        for body, status in bodies:
            raw = isinstance(body, bytes)
            r = cluster.post("/api/v1/codes/" + lot.chain, body, raw=raw,
                             headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, status, (body if raw else list(body), r))
        harness.settle(cluster)
        self.assertEqual(cluster.snapshot(), before)
        r = cluster.post("/api/v1/codes/" + lot.chain, {"envelope": env, "codes": good})
        self.assertEqual(r.status, 201, r)

    def test_code_set_once(self):
        lot = Lot("CODE-2")
        r = lot.upload("brand", [("S0001", "1111222233334444")])
        self.assertEqual(r.status, 201, r)
        r = lot.upload("brand", [("S0002", "5555666677778888"),
                                 ("S0001", "9999999999999999")])
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["error"]["code"], "code_already_set")
        # The same codes again (a retry after a lost answer) are no conflict.
        self.assertEqual(lot.upload("brand", [("S0001", "1111222233334444")]).status, 201)
        # Nothing of the refused upload was stored.
        self.assertEqual(cluster.redis.hexists("u:{%s}:codes" % lot.chain, "S0002"), 0)
        self.assertEqual(lot.enter("S0001", "9999999999999999").json()["valid"], False)

    def test_resubmitted_upload(self):
        """The agent's retry of an upload whose answer was lost: 200."""
        lot = Lot("CODE-5")
        sent = []
        r = lot.upload("brand", [("S0001", "1212343456567878")], body_out=sent)
        self.assertEqual(r.status, 201, r)
        r = cluster.post("/api/v1/codes/01/%s/10/%s" % (GTIN, lot.lot), sent[0])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["codes"], 1)

    def test_copied_label(self):
        """A genuine code entered twice: the second time says when."""
        lot = Lot("CODE-3")
        lot.upload("brand", [("S0001", "1234123412341234")])
        j = lot.enter("S0001", "1234 1234-1234 1234").json()
        self.assertEqual((j["valid"], j["first"]), (True, True))
        first = j["firstVerified"]
        self.assertRegex(first, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        j = lot.enter("S0001", "1234123412341234").json()
        self.assertEqual(j, {"valid": True, "first": False, "firstVerified": first})
        for lang, text in (("en", "This code was first verified on " + first),
                           ("zh-CN", "此防伪码已于 " + first + " 首次查询"),
                           ("ko", "이 코드는 " + first + "에 처음 확인되었습니다")):
            r = cluster.request("POST", lot.unit("S0001") + "/code?lang=" + lang,
                                b"code=1234123412341234", raw=True,
                                headers={"Content-Type":
                                         "application/x-www-form-urlencoded"})
            self.assertEqual(r.status, 200)
            self.assertIn(text, r.body.decode())
        # A first entry, as a page (the form without JavaScript).
        lot2 = Lot("CODE-3B")
        lot2.upload("brand", [("S0001", "4321432143214321")])
        r = lot2.enter("S0001", "4321432143214321", json_=False)
        self.assertIn('id="code-first"', r.body.decode())
        # The unit page has the form; views carry no copy warning.
        page = cluster.get(lot2.unit("S0001") + "?lang=en").body.decode()
        self.assertIn('<form method="post" id="code-form" action="', page)
        for _ in range(8):
            page = cluster.get(lot2.unit("S0001") + "?lang=en").body.decode()
        self.assertNotIn("scan-warning", page)

    def test_resent_check_is_still_first(self):
        """store_conn.c resends a call once after a broken connection: the
        genuine first entry must not come back as "verified before"."""
        lot = Lot("CODE-7")
        lot.upload("brand", [("S0001", "1111111111111111")])
        chain = lot.chain
        mac = cluster.redis.hget("u:{%s}:codes" % chain, "S0001")
        keys = ["u:{%s}:codes" % chain, "u:{%s}:first" % chain,
                "u:{%s}:w:S0001" % chain, "u:{%s}:w:S0001:4:x" % chain,
                "u:client:4:x"]
        args = ["S0001", mac, "1800000000", 5, 1000, 30, 3600, "ab12"]
        r1 = cluster.redis.fcall("trace_unit_code_check", 5, *keys, *args)
        r2 = cluster.redis.fcall("trace_unit_code_check", 5, *keys, *args)
        self.assertEqual(r1, [b"valid", 1, b"1800000000"])
        self.assertEqual(r2, [b"valid", 1, b"1800000000"])
        args[-1] = "cd34"
        r3 = cluster.redis.fcall("trace_unit_code_check", 5, *keys, *args)
        self.assertEqual(r3, [b"valid", 0, b"1800000000"])

    def test_odd_entries(self):
        """Empty, oversized, non-digit and wrong-method entries."""
        lot = Lot("CODE-8")
        lot.upload("brand", [("S0001", "2222333344445555")])
        path = lot.unit("S0001") + "/code"
        h = {"Accept": "application/json",
             "Content-Type": "application/x-www-form-urlencoded"}
        r = cluster.request("POST", path, b"", headers=h, raw=True)
        self.assertEqual((r.status, r.json()["valid"]), (200, False))
        r = cluster.request("POST", path, b"code=abcd&code=efgh", headers=h, raw=True)
        self.assertEqual((r.status, r.json()["valid"]), (200, False))
        r = cluster.request("POST", path, b"code=" + b"1" * 5000, headers=h, raw=True)
        self.assertEqual(r.status, 413)
        r = cluster.get(path)
        self.assertEqual((r.status, r.headers["allow"]), (405, "POST"))
        # Not 16 digits: never counted, so never a lock-out.
        self.assertFalse(cluster.redis.exists("u:{%s}:w:S0001" % lot.chain))
        # A lot or a serial called "code" is still a page.
        self.assertEqual(cluster.get(lot.unit("code")).status, 200)
        r = lot.enter("S0001", "2222333344445555")
        self.assertEqual(r.json()["valid"], True)

    def test_no_code_writes_nothing(self):
        lot = Lot("CODE-4")
        harness.settle(cluster)
        before = cluster.snapshot()
        r = lot.enter("S0001", "1234123412341234")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["error"]["code"], "no_code")
        self.assertEqual(cluster.snapshot(), before)

    def test_brute_force_limits(self):
        """A counterfeiter guessing codes."""
        lot = Lot("BRUTE-1")
        pairs = [("S%04d" % i, "%016d" % (10 ** 15 + i)) for i in range(1, 41)]
        self.assertEqual(lot.upload("brand", pairs).status, 201)
        # Per (serial, client): 5 wrong, then 429 even for the right code.
        for i in range(5):
            self.assertEqual(lot.enter("S0001", "%016d" % i).json()["valid"], False)
        r = lot.enter("S0001", pairs[0][1])
        self.assertEqual(r.status, 429)
        self.assertGreater(int(r.headers["retry-after"]), 3000)
        self.assertEqual(r.json()["error"]["code"], "too_many_attempts")
        # A spoofed X-Forwarded-For from an untrusted peer changes nothing.
        r = lot.enter("S0001", pairs[0][1], headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(r.status, 429)
        # Per client: 30 wrong in an hour, over any serials.
        n = 5
        for s, _ in pairs[1:]:
            for i in range(5):
                if n == 30:
                    break
                self.assertEqual(lot.enter(s, "%016d" % i).status, 200)
                n += 1
        r = lot.enter("S0040", pairs[39][1])
        self.assertEqual(r.status, 429, r)
        self.assertIn("retry-after", r.headers)
        # The page form answers 429 too, with the wait in minutes.
        r = lot.enter("S0040", pairs[39][1], json_=False)
        self.assertEqual(r.status, 429)
        self.assertIn('id="code-limited"', r.body.decode())

    def test_per_serial_limit(self):
        """1,000 wrong entries for one serial from many clients: the
        serial stops answering, for everyone, for the hour."""
        lot = Lot("BRUTE-2")
        lot.upload("brand", [("S0001", "7777777777777777")])
        key = "u:{%s}:w:S0001" % lot.chain
        cluster.redis.set(key, 1000, ex=3600)
        r = lot.enter("S0001", "7777777777777777")
        self.assertEqual(r.status, 429)
        self.assertLessEqual(int(r.headers["retry-after"]), 3600)

    def test_trusted_proxy(self):
        """X-Forwarded-For names the client only from --trusted-proxy."""
        lot = Lot("PROXY-1")
        lot.upload("brand", [("S0001", "1212121212121212")])
        # 127.0.0.2 is trusted: each forwarded client has its own limit.
        import http.client
        def enter_via(peer, xff, code):
            import socket
            conn = http.client.HTTPConnection("127.0.0.1", cluster.port,
                                              source_address=(peer, 0), timeout=10)
            conn.request("POST", lot.unit("S0001") + "/code",
                         body=b"code=" + code.encode(),
                         headers={"Accept": "application/json",
                                  "Content-Type": "application/x-www-form-urlencoded",
                                  "X-Forwarded-For": xff})
            r = conn.getresponse()
            status = r.status
            r.read()
            conn.close()
            return status
        for i in range(5):
            self.assertEqual(enter_via("127.0.0.2", "198.51.100.1, 203.0.113.1",
                                       "%016d" % i), 200)
        self.assertEqual(enter_via("127.0.0.2", "198.51.100.1, 203.0.113.1",
                                   "%016d" % 9), 429)
        # Another forwarded client is another client...
        self.assertEqual(enter_via("127.0.0.2", "203.0.113.2", "%016d" % 9), 200)
        # ...but only the last hop counts: a client prepending hops to its
        # own header cannot pose as another.
        self.assertEqual(enter_via("127.0.0.2", "198.51.100.7, 203.0.113.1",
                                   "%016d" % 9), 429)
        # An untrusted peer's header is ignored: 127.0.0.3 is one client.
        for i in range(5):
            enter_via("127.0.0.3", "192.0.2.%d" % i, "%016d" % i)
        self.assertEqual(enter_via("127.0.0.3", "192.0.2.200", "%016d" % 9), 429)

    def test_hashes_never_served(self):
        """No answer holds a code hash or a MAC, hex or base64."""
        lot = Lot("LEAK-1")
        pairs = [("S%04d" % i, "%016d" % (4242 + i)) for i in range(1, 6)]
        lot.upload("brand", pairs)
        lot.enter("S0001", pairs[0][1])
        secrets = set()
        for s, c in pairs:
            h = code_hash(lot.chain, s, c)
            secrets |= {h.hex(), harness.b64(h)}
        for mac in cluster.redis.hvals("u:{%s}:codes" % lot.chain):
            secrets |= {mac.hex(), harness.b64(mac)}
        harness.settle(cluster)
        paths = [lot.unit("S0001"), lot.unit("S0001") + "?lang=en",
                 "/01/%s/10/%s" % (GTIN, lot.lot),
                 "/api/v1/chains/" + lot.chain, "/api/v1/bundles/" + lot.chain,
                 "/inspect/" + lot.chain, "/api/v1/log", "/api/v1/keys",
                 "/api/v1/recalls", "/api/v1/epcis/events?EQ_bizLocation=x",
                 "/labels/01/%s/10/%s?serials=S0001-S0005&codes=1" % (GTIN, lot.lot),
                 "/metrics"]
        for p in paths:
            for accept in ("application/json", "text/html"):
                body = cluster.get(p, headers={"Accept": accept}).body.decode(
                    "utf-8", "replace")
                for x in secrets:
                    self.assertNotIn(x, body, p)
        for r in (lot.enter("S0001", pairs[0][1]), lot.enter("S0002", "0" * 16),
                  lot.enter("S0002", "0" * 16, json_=False)):
            for x in secrets:
                self.assertNotIn(x, r.body.decode())


class TestLabels(unittest.TestCase):

    def test_scratch_area(self):
        lot = Lot("LABEL-1")
        base = "/labels/01/%s/10/%s?from=S0001&count=3&lang=en" % (GTIN, lot.lot)
        page = cluster.get(base).body.decode()
        self.assertNotIn('class="scratch"', page)
        page = cluster.get(base + "&codes=1").body.decode()
        self.assertEqual(page.count('class="scratch"'), 3)
        self.assertIn('data-serial="S0002"', page)
        self.assertIn("\u00abcode:S0003\u00bb", page)
        self.assertIn('id="codes-note"', page)


class TestPepper(unittest.TestCase):

    def test_readable_pepper_refused(self):
        d = harness.tempfile.mkdtemp(prefix="trace-pepper-")
        self.addCleanup(shutil.rmtree, d, True)
        p = os.path.join(d, "pepper")
        with open(p, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(p, 0o640)
        argv = cluster.server_argv(["--code-pepper", p], port=harness.free_port(),
                                   log_state="")
        argv[argv.index("--log-key") + 1] = cluster.log_key_path.replace(".key", ".pub")
        r = subprocess.run(argv, capture_output=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"chmod 600", r.stderr)


if __name__ == "__main__":
    unittest.main()


class TestAgentCodes(unittest.TestCase):
    """trace-agent codes gen and upload, 100,000 units."""

    def agent(self, *args):
        return subprocess.run([AGENT, "--server", cluster.public_url] + list(args),
                              capture_output=True, timeout=600)

    def test_gen_upload_100k(self):
        lot = Lot("AGENT-1")
        d = harness.tempfile.mkdtemp(prefix="trace-codes-")
        self.addCleanup(shutil.rmtree, d, True)
        out = os.path.join(d, "codes.csv")
        r = self.agent("codes", "gen", "--gtin", GTIN, "--lot", lot.lot,
                       "--serials", "S000001-S100000", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        self.assertIn(b"codes gen: 100000/100000", r.stderr)
        self.assertEqual(r.stderr.count(b"codes gen: "), 10)
        with open(out) as f:
            rows = f.read().splitlines()
        self.assertEqual(rows[0], "gtin,lot,serial,code")
        self.assertEqual(len(rows), 100001)
        first = rows[1].split(",")
        self.assertEqual(first[:3], [GTIN, '"AGENT-1"', '"S000001"'])
        codes = {row.split(",")[3] for row in rows[1:]}
        self.assertEqual(len(codes), 100000)
        self.assertTrue(all(re.fullmatch(r"\d{16}", c) for c in codes))
        # Never overwritten: the file is the only copy of the codes.
        r = self.agent("codes", "gen", "--gtin", GTIN, "--lot", lot.lot,
                       "--serials", "S000001-S000002", "--out", out)
        self.assertNotEqual(r.returncode, 0)
        # A serials file naming a unit twice is refused before any code.
        dup = os.path.join(d, "serials.txt")
        with open(dup, "w") as f:
            f.write("A1\nB2\nA1\n")
        r = self.agent("codes", "gen", "--gtin", GTIN, "--lot", lot.lot,
                       "--serials", dup, "--out", os.path.join(d, "dup.csv"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "dup.csv")))
        # Upload: only hashes leave; a key of another org is refused.
        ipath, _ = keys["importer"].write(d)
        r = self.agent("codes", "upload", "--key", ipath, "--gtin", GTIN,
                       "--lot", lot.lot, out)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"gtin_outside_org", r.stderr)
        bpath, _ = keys["brand"].write(d)
        start = time.time()
        r = self.agent("codes", "upload", "--key", bpath, "--gtin", GTIN,
                       "--lot", lot.lot, out)
        took = time.time() - start
        self.assertEqual(r.returncode, 0, r.stderr)
        print("\n100,000 codes uploaded in %.1f s" % took)
        self.assertEqual(cluster.redis.hlen("u:{%s}:codes" % lot.chain), 100000)
        serial, code = rows[5000].split(",")[2].strip('"'), rows[5000].split(",")[3]
        j = lot.enter(serial, code).json()
        self.assertEqual((j["valid"], j["first"]), (True, True))
        # The printed root declares the serials: a page of S100001 says
        # "never issued" with a proof checked here.
        set_root = r.stdout.decode().split()[-1]
        lot.prev = r.stdout.decode().split()[0]
        lot.seq = 2
        rr = lot.send("brand", "serials.issued", {"root": set_root, "count": 100000})
        self.assertEqual(rr.status, 201, rr)
        j = unit_json(lot.unit("S100001"))
        self.assertIs(j["serialIssued"], False)
        self.assertIs(check_proof("S100001", j["serialProofs"][0],
                                  bytes.fromhex(set_root), 100000), False)
        j = unit_json(lot.unit("S050000"))
        self.assertIs(j["serialIssued"], True)
