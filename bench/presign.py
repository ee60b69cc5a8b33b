#!/usr/bin/python3
"""presign.py - pre-sign trace events for the benchmarks, so that signing
is never inside a measurement (the targets of docs/PERFORMANCE.md).

Writes LANES files OUT.0 .. OUT.<LANES-1>, one request body per line: a
single DSSE envelope, or a JSON array of BATCH envelopes.  Every lane owns
its own chains and lists its events seq-major (seq 0 of every chain, then
seq 1, ...), so one client per lane can send them in file order, with any
number of requests of that lane in flight, without a chain ever seeing a
gap, as long as a lane has more chains than requests in flight.

Events: seq 0 is product.registered (brand key), later seqs cycle through
inspection.completed, shipment.departed, customs.declared,
customs.released and warehouse.received (one enrolled key per role).  The
payloads are what `trace-agent record` builds (libtrace event_build):
strict JSON in the same member order.  Also prints the average envelope
size in bytes on stdout.

Uses PyNaCl (Debian python3-nacl); the key files are trace-agent's.
"""
import argparse
import base64
import hashlib
import json
import sys
import time

import nacl.signing

EVENT_TYPE = "application/vnd.trace.event.v1+json"
GTIN = "08801234567893"
# Now: the server refuses a statement dated more than --max-age (30 days)
# before it arrives.
TIME = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def load_key(path):
    with open(path) as f:
        k = json.load(f)
    return k["keyid"], nacl.signing.SigningKey(base64.b64decode(k["secret"]))


def pae(payload):
    t = EVENT_TYPE.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def data_for(kind, seq, lot):
    if kind == "product.registered":
        return {"name": {"zh": "\u9762\u971c", "en": "Face cream", "ko":
                "\ud398\uc774\uc2a4 \ud06c\ub9bc"}, "brand": "Bench Cosmetics",
                "origin": "KR", "manufacturer": "Bench Factory Co., Ltd.",
                "spec": "50 ml", "quantity": 1200}
    if kind == "inspection.completed":
        return {"certificate": "CCIC-KR-2026-%06d" % seq, "result": "pass",
                "body": "CCIC Korea", "standard": "GB 2760-2014"}
    if kind in ("shipment.departed",):
        return {"carrier": "Bench Lines", "vessel": "BENCH STAR",
                "billOfLading": "BL%s%d" % (lot, seq), "port": "KRINC"}
    if kind == "customs.declared":
        return {"declaration": "DECL-%s-%d" % (lot, seq), "mode": "1210"}
    if kind == "customs.released":
        return {"declaration": "DECL-%s-%d" % (lot, seq)}
    return {"warehouse": "Bench bonded warehouse", "location": "A-01-02",
            "quantity": 1200}


CYCLE = [("inspection.completed", "inspector", "KR", "CCIC Korea Incheon laboratory"),
         ("shipment.departed", "logistics", "KR", "Incheon port"),
         ("customs.declared", "customs", "CN", "Qingdao customs"),
         ("customs.released", "customs", "CN", "Qingdao customs"),
         ("warehouse.received", "warehouse", "CN", "Qingdao bonded zone")]


def make_event(keys, lot, seq, prev):
    if seq == 0:
        kind, role, country, place = ("product.registered", "brand", "KR",
                                      "Bench Factory, Seoul")
    else:
        kind, role, country, place = CYCLE[(seq - 1) % len(CYCLE)]
    keyid, sk = keys[role]
    payload = {"v": 1, "type": kind, "chain": {"gtin": GTIN, "lot": lot},
               "seq": seq, "prev": prev, "time": TIME, "signer": keyid,
               "where": {"country": country, "place": place},
               "data": data_for(kind, seq, lot)}
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    p = pae(raw)
    sig = sk.sign(p).signature
    env = {"payloadType": EVENT_TYPE,
           "payload": base64.b64encode(raw).decode(),
           "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}]}
    return json.dumps(env, separators=(",", ":")), hashlib.sha256(p).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", required=True, help="directory of ROLE.key files")
    ap.add_argument("--prefix", required=True, help="lot prefix (unique per set)")
    ap.add_argument("--lanes", type=int, default=1)
    ap.add_argument("--chains", type=int, required=True, help="chains per lane")
    ap.add_argument("--length", type=int, required=True, help="events per chain")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    keys = {r: load_key("%s/%s.key" % (a.keys, r)) for r in
            ("brand", "inspector", "logistics", "customs", "warehouse")}
    total_bytes = total = 0
    for lane in range(a.lanes):
        lots = ["%s%dx%d" % (a.prefix, lane, c) for c in range(a.chains)]
        for lot in lots:
            if len(lot) > 20:
                sys.exit("presign.py: lot %s is longer than 20" % lot)
        prev = [None] * a.chains
        with open("%s.%d" % (a.out, lane), "w") as f:
            pending = []
            for seq in range(a.length):
                for c, lot in enumerate(lots):
                    env, prev[c] = make_event(keys, lot, seq, prev[c])
                    total_bytes += len(env)
                    total += 1
                    pending.append(env)
                    if len(pending) == a.batch:
                        f.write(pending[0] if a.batch == 1 else
                                "[" + ",".join(pending) + "]")
                        f.write("\n")
                        pending = []
            if pending:
                f.write("[" + ",".join(pending) + "]\n" if a.batch > 1 else
                        pending[0] + "\n")
    print("%.1f" % (total_bytes / max(total, 1)))


if __name__ == "__main__":
    main()
