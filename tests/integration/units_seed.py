"""Seed a lot with issued serials and scratch-off codes for the browser
tests (tests/browser/units.test.js): serials S0001-S0100 declared by the
brand, codes uploaded for S0001-S0004 (the codes are returned: in real use
they are only on the printed labels).  The server must run with
--code-pepper (driver.py starts it so)."""
import hashlib
import urllib.parse

from harness import TYPE_EVENT, Key, event_payload, statement_id, REGISTERED
from pages_seed import GTIN, chain_path

LOT = "U2312F"
CODES = {"S0001": "1111222233334444", "S0002": "5555666677778888",
         "S0003": "9999000011112222", "S0004": "3333444455556666"}


def code_hash(chain, serial, code):
    return hashlib.sha256(b"trace-code\0" + chain.encode() + b"\0" +
                          serial.encode() + b"\0" + code.encode()).digest()


def mth(leaves):
    """RFC 6962 2.1 over leaf data."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\0" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\1" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def seed(cluster):
    key = Key("brand-units")
    cluster.enroll(key, "brand", org="Org brand")
    chain = "01/%s/10/%s" % (GTIN, urllib.parse.quote(LOT, safe=""))
    prev = None
    for seq, (etype, data) in enumerate((
            ("product.registered", REGISTERED),
            ("serials.issued", {"ranges": [["S0001", "S0100"]]}))):
        env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, LOT, seq, prev, data))
        r = cluster.post("/api/v1/events", env)
        assert r.status == 201, r
        prev = statement_id(env)
    hashes = {s: code_hash(chain, s, c) for s, c in CODES.items()}
    env = key.sign(TYPE_EVENT, event_payload(
        key, "codes.issued", GTIN, LOT, 2, prev,
        {"root": mth(sorted(hashes.values())).hex(), "count": len(hashes)}))
    r = cluster.post("/api/v1/codes/" + chain, {
        "envelope": env, "codes": [[s, h.hex()] for s, h in hashes.items()]})
    assert r.status == 201, r
    return {"path": chain_path(GTIN, LOT), "codes": CODES, "invented": "S5000"}
