"""Attacks on the signature and key rules of SPEC 8 ("Keys and signatures"),
each written as the attacker would try it against a real redis-server and
trace-server:

  a relay that pads a valid envelope with a junk signature hinted as a
  regulator's key, hoping it is stored and served next to the real one;
  a client that sends four signatures per statement so that the server
  verifies four times (CPU amplification);
  an admin that enrolls a small-order or mixed-order public key (a key
  whose signatures depend on which verification equation a verifier uses,
  or that anyone can sign for);
  a signer revoked through one trace-server instance, hoping the other
  instance sharing the Redis keeps showing it as valid.

Every refusal must leave Redis byte for byte as it was.  The weak points are
computed here with RFC 8032's formulas and checked against libsodium's
crypto_core_ed25519_is_valid_point (through PyNaCl), an implementation the
C code did not write."""
import base64
import hashlib
import os
import subprocess
import time
import unittest

import nacl.bindings

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, enroll_payload,
                     revoke_payload,
                     event_payload, settle, statement_id)

GTIN = "08801234567893"
cluster = None
keys = {}

# RFC 8032 5.1 field, curve constant and group order.
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
L = 2**252 + 27742317777372353535851937790883648493


def point_add(a, b):
    """Edwards addition (RFC 8032 5.1.4), affine, for public test points."""
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + y1 * x2) * pow(1 + t, P - 2, P) % P,
            (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def point_decode(s):
    """RFC 8032 5.1.3, or None when s is not a canonical point encoding."""
    n = int.from_bytes(s, "little")
    y, sign = n & (2**255 - 1), n >> 255
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if (x * x - x2) % P:
        return None
    if x == 0 and sign:
        return None
    return (P - x if x & 1 != sign else x, y)


def point_encode(pt):
    x, y = pt
    return (y | (x & 1) << 255).to_bytes(32, "little")


# The 8 points of small order (orders 1, 2, 4, 4, 8, 8, 8, 8).
SMALL_ORDER = [bytes.fromhex(h) for h in (
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")]
# Non-canonical encodings of (0, 1), (0, -1) and y = p + 0, p + 1.
NON_CANONICAL = [bytes.fromhex(h) for h in (
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]


class RawKey:
    """A public key with no secret behind it: only ever enrolled."""

    def __init__(self, name, public):
        self.name = name
        self.public = public
        self.keyid = hashlib.sha256(public).hexdigest()[:32]


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    for role in ("brand", "inspector", "regulator", "admin"):
        keys[role] = Key(role)
        # The admin is scoped to the whole test org (every GTIN).
        cluster.enroll(keys[role], role, **({"prefixes": ["880"]} if role != "admin" else {}))


def tearDownModule():
    cluster.stop()


class StoreUnchanged:
    """Context manager: Redis must be byte for byte the same after."""

    def __init__(self, test, what):
        self.test, self.what = test, what

    def __enter__(self):
        settle(cluster)
        self.before = cluster.snapshot()

    def __exit__(self, *exc):
        if exc[0] is None:
            settle(cluster)
            after = cluster.snapshot()
            changed = sorted(k for k in set(self.before) | set(after)
                             if self.before.get(k) != after.get(k))
            self.test.assertEqual(changed, [], "%s changed the store" % self.what)


def start_chain(lot):
    env = keys["brand"].sign(TYPE_EVENT, event_payload(
        keys["brand"], "product.registered", GTIN, lot, 0, None, REGISTERED))
    r = cluster.post("/api/v1/events", env)
    assert r.status == 201, r
    return statement_id(env)


def inspection(lot, prev, certificate="C-1"):
    return keys["inspector"].sign(TYPE_EVENT, event_payload(
        keys["inspector"], "inspection.completed", GTIN, lot, 1, prev,
        {"certificate": certificate, "result": "pass"}))


def junk_signature(hint):
    return {"keyid": hint, "sig": base64.b64encode(os.urandom(64)).decode()}


class RelayPadsSignatures(unittest.TestCase):
    def refused(self, body, code, path="/api/v1/events", status=400):
        with StoreUnchanged(self, code):
            r = cluster.post(path, body)
        self.assertEqual(r.status, status, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], code, r)
        return err

    def test_a_junk_signature_hinted_as_the_regulator(self):
        """(a) The relay appends a junk signature with the regulator's key
        id as its hint: refused, nothing stored; the envelope as signed is
        then accepted and served with its one signature."""
        lot = "ATK-A"
        good = inspection(lot, start_chain(lot))
        padded = dict(good, signatures=good["signatures"] +
                      [junk_signature(keys["regulator"].keyid)])
        err = self.refused(padded, "bad_signatures")
        self.assertEqual(err["field"], "signatures")
        self.assertIn("exactly one", err["message"])
        # In front of the real one, and inside a batch: the same.
        self.refused(dict(good, signatures=[junk_signature(keys["regulator"].keyid)] +
                          good["signatures"]), "bad_signatures")
        with StoreUnchanged(self, "padded in a batch"):
            r = cluster.post("/api/v1/events", [padded])
        self.assertEqual(r.status, 200, r)
        item = r.json()["results"][0]
        self.assertEqual(item["status"], 400, item)
        self.assertEqual(item["error"]["code"], "bad_signatures", item)
        # Nothing of it is served.
        self.assertEqual(cluster.get("/api/v1/events/" + statement_id(good)).status, 404)
        # The original, untouched, goes in under the same id.
        r = cluster.post("/api/v1/events", good)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["id"], statement_id(good))
        served = cluster.get("/api/v1/events/" + statement_id(good)).json()["envelope"]
        self.assertEqual(served["signatures"], good["signatures"])

    def test_four_signatures(self):
        """(b) Four signatures, one of them valid: refused before any is
        verified."""
        lot = "ATK-B"
        good = inspection(lot, start_chain(lot))
        four = dict(good, signatures=good["signatures"] * 4)
        self.refused(four, "bad_signatures")
        self.refused(dict(good, signatures=[junk_signature(keys["inspector"].keyid)
                                            for _ in range(4)]), "bad_signatures")
        self.refused(dict(good, signatures=[]), "bad_signatures")

    def test_a_key_entry_with_a_second_signature(self):
        """The same padding on an enrollment: refused, the key stays
        unknown."""
        k = Key("padded")
        env = cluster.root.sign(TYPE_KEY, enroll_payload(cluster.root, k, "inspector"))
        padded = dict(env, signatures=env["signatures"] +
                      [junk_signature(keys["regulator"].keyid)])
        self.refused(padded, "bad_signatures", path="/api/v1/keys")
        self.assertEqual(cluster.get("/api/v1/keys/" + k.keyid).status, 404)
        r = cluster.post("/api/v1/keys", env)
        self.assertEqual(r.status, 201, r)


class AdminEnrollsWeakKeys(unittest.TestCase):
    def enrolled(self):
        listing = cluster.get("/api/v1/keys").json()["entries"]
        return {e["payload"].get("keyid") for e in listing}

    def refused(self, key, what):
        env = keys["admin"].sign(TYPE_KEY, enroll_payload(keys["admin"], key, "inspector"))
        with StoreUnchanged(self, what):
            r = cluster.post("/api/v1/keys", env)
        self.assertEqual(r.status, 422, (what, r))
        err = r.json()["error"]
        self.assertEqual(err["code"], "weak_public_key", (what, r))
        self.assertEqual(err["field"], "payload.public", (what, r))
        self.assertEqual(cluster.get("/api/v1/keys/" + key.keyid).status, 404, what)
        self.assertNotIn(key.keyid, self.enrolled(), what)
        return err

    def test_small_order_points(self):
        """(c) Each of the 8 points of small order, and the non-canonical
        encodings of some of them."""
        for i, public in enumerate(SMALL_ORDER):
            with self.subTest(point=public.hex()):
                self.assertFalse(nacl.bindings.crypto_core_ed25519_is_valid_point(public))
                err = self.refused(RawKey("small-%d" % i, public), "small-order point")
                self.assertIn("small order", err["message"])
        for i, public in enumerate(NON_CANONICAL):
            with self.subTest(encoding=public.hex()):
                self.refused(RawKey("noncanonical-%d" % i, public), "non-canonical encoding")

    def test_mixed_order_key(self):
        """(c) A fresh key plus a point of order 8, 4 or 2: a valid curve
        point outside the prime-order subgroup."""
        for torsion in (SMALL_ORDER[4], SMALL_ORDER[2], SMALL_ORDER[1]):
            honest = Key("honest")
            self.assertTrue(nacl.bindings.crypto_core_ed25519_is_valid_point(honest.public))
            mixed = point_encode(point_add(point_decode(honest.public),
                                           point_decode(torsion)))
            self.assertFalse(nacl.bindings.crypto_core_ed25519_is_valid_point(mixed))
            with self.subTest(torsion=torsion.hex()):
                err = self.refused(RawKey("mixed", mixed), "mixed-order key")
                self.assertIn("torsion", err["message"])

    def test_the_same_admin_enrolls_an_honest_key(self):
        """The refusals above are about the key, not the admin or the entry."""
        k = Key("honest-one")
        r = cluster.post("/api/v1/keys", keys["admin"].sign(
            TYPE_KEY, enroll_payload(keys["admin"], k, "inspector")))
        self.assertEqual(r.status, 201, r)
        self.assertIn(k.keyid, self.enrolled())


# What the inspector page writes beside a revoked signer (insp.revoked).
REVOKED_MARK = '<span class="bad-text">revoked: '


class RevokedElsewhere(unittest.TestCase):
    """SPEC 8 / issue 17 item 10: two instances share one Redis; a key is
    revoked through the first.  The second had the key cached as valid (it
    rendered the inspector page before): within its cache's lifetime
    (1 s) it must show the key as revoked too, and refuse its statements."""

    def test_the_other_instance_learns_the_revocation(self):
        inspector = Key("cached-inspector")
        cluster.enroll(inspector, "inspector", prefixes=["880"])
        lot = "REVOKED-ELSEWHERE"
        head = start_chain(lot)
        env = inspector.sign(TYPE_EVENT, event_payload(
            inspector, "inspection.completed", GTIN, lot, 1, head,
            {"certificate": "C-9", "result": "pass"}))
        self.assertEqual(cluster.post("/api/v1/events", env).status, 201)
        settle(cluster)
        port = harness.free_port()
        # A serve-only instance (the log's public key) on the same Redis.
        argv = cluster.server_argv(port=port, log_key=os.path.join(cluster.dir, "log.pub"),
                                   log_state="")
        prefix = os.environ.get("TRACE_SERVER_WRAPPER", "")
        if prefix:
            argv = prefix.split() + argv
        other = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=cluster.server_env())
        try:
            harness.wait_port(port, timeout=30 if prefix else 10, proc=other)
            page = "/inspect/01/%s/10/%s?lang=en" % (GTIN, lot)

            def inspect_other():
                conn = harness.http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", page)
                r = conn.getresponse()
                body = r.read().decode()
                conn.close()
                self.assertEqual(r.status, 200)
                return body

            self.assertNotIn(REVOKED_MARK, inspect_other())   # now cached as valid
            r = cluster.post("/api/v1/keys", cluster.root.sign(
                TYPE_KEY, revoke_payload(cluster.root, inspector.keyid, "stolen laptop")))
            self.assertEqual(r.status, 201, r)
            self.assertIn(REVOKED_MARK, cluster.get(page).body.decode())
            deadline = time.time() + 5
            while REVOKED_MARK not in inspect_other():
                self.assertLess(time.time(), deadline,
                                "the other instance still shows the revoked key as valid")
                time.sleep(0.2)
            self.assertIn("stolen laptop", inspect_other())
        finally:
            other.terminate()
            other.wait(30)


if __name__ == "__main__":
    unittest.main()
