"""Start redis-server and trace-server (harness.py), seed the page test
chains (pages_seed.py), write the shared corpus of fixture bundles with
BUILD/tests/test_corpus --write BUILD/corpus (the C verdict of each, for verify.js to
match), build the standalone verifier (make verifier's build.sh) and serve
it from a second origin (python3 -m http.server on another port), run every
*.test.js under node with their URLs, stop everything.
The exit status is non-zero if any script failed."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
import nacl.signing  # noqa: E402
import pages_seed  # noqa: E402
import units_seed  # noqa: E402

TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
VECTORS = os.environ.get("TRACE_VECTORS", os.path.join(TOP, "tests", "vectors"))


def note_sign(signing, name, text, type_byte=b"\x01"):
    """A signed-note signature line over text by signing (key ID per
    c2sp.org/signed-note: SHA-256(name || 0x0A || type || key)[:4])."""
    pub = bytes(signing.verify_key)
    key_id = hashlib.sha256(name.encode() + b"\n" + type_byte + pub).digest()[:4]
    return key_id, pub


def verifier_fixtures(cluster, chains, folder):
    """What verifier.test.js needs: the standalone verifier built twice
    (keys pinned; and with a witness policy) under folder, bundles a
    dishonest server could answer with, and the log's vkey."""
    vkey = cluster.get("/api/v1/log").json()["vkey"]
    origin = vkey.split("+")[0]
    path = "/api/v1/bundles/01/%s/10/%s" % (chains["good"]["gtin"], chains["good"]["lot"])
    old = cluster.get(path).json()
    # The log grows past the bundle above, which is then a rollback.
    cluster.enroll(harness.Key("verifier-grow"), "warehouse", prefixes=["880"])
    harness.settle(cluster)
    while int(cluster.get(path).json()["checkpoint"].split("\n")[1]) <= \
            int(old["checkpoint"].split("\n")[1]):
        time.sleep(0.05)
    new = cluster.get(path).json()
    body, _, _ = new["checkpoint"].partition("\n\n")
    body += "\n"
    size = int(body.split("\n")[1])
    with open(cluster.log_key_path) as f:
        log_signing = nacl.signing.SigningKey(base64.b64decode(json.load(f)["secret"])[:32])
    # A checkpoint the log key signed for another tree of the same size.
    forked_body = "%s\n%d\n%s\n" % (origin, size, base64.b64encode(os.urandom(32)).decode())
    kid, _ = note_sign(log_signing, origin, forked_body)
    forked = forked_body + "\n\u2014 %s %s\n" % (origin, base64.b64encode(
        kid + log_signing.sign(forked_body.encode()).signature).decode())
    # And one for another tree of the older bundle's size: a log that
    # forked before it grew (no consistency proof can reach it).
    old_size = int(old["checkpoint"].split("\n")[1])
    forked_body = "%s\n%d\n%s\n" % (origin, old_size, base64.b64encode(os.urandom(32)).decode())
    forked_smaller = forked_body + "\n\u2014 %s %s\n" % (origin, base64.b64encode(
        kid + log_signing.sign(forked_body.encode()).signature).decode())
    # The same bundle, its checkpoint signed by another key of that name:
    # a server that swapped its log key (and serves the new one at /api/v1/log).
    other = nacl.signing.SigningKey(os.urandom(32))
    kid, other_pub = note_sign(other, origin, body)
    swapped = dict(new, checkpoint=body + "\n\u2014 %s %s\n" % (origin, base64.b64encode(
        kid + other.sign(body.encode()).signature).decode()))
    swapped_vkey = "%s+%s+%s" % (origin, kid.hex(), base64.b64encode(b"\x01" + other_pub).decode())
    # A witness and a policy of quorum 1; the bundle with its cosignature.
    witness = nacl.signing.SigningKey(os.urandom(32))
    wname = "witness.test/w1"
    wid, wpub = note_sign(witness, wname, body, b"\x04")
    ts = 1764547200
    cosig = witness.sign(b"cosignature/v1\ntime %d\n" % ts + body.encode()).signature
    line = "\u2014 %s %s\n" % (wname, base64.b64encode(wid + ts.to_bytes(8, "big") + cosig).decode())
    cosigned = dict(new, checkpoint=new["checkpoint"] + line)
    bad_line = "\u2014 %s %s\n" % (wname, base64.b64encode(
        wid + (ts + 1).to_bytes(8, "big") + cosig).decode())
    policy = os.path.join(folder, "policy.txt")
    with open(policy, "w") as f:
        f.write("log %s\nwitness w1 %s+%s+%s\nquorum w1\n" % (
            vkey, wname, wid.hex(), base64.b64encode(b"\x04" + wpub).decode()))
    build = os.path.join(TOP, "web", "verifier", "build.sh")
    site = os.path.join(folder, "site")
    subprocess.run([build, site, cluster.root_pub, vkey, "", cluster.public_url],
                   check=True, stdout=subprocess.DEVNULL)
    # maxCheckpointAge large enough for the fixed cosignature time.
    subprocess.run([build, os.path.join(site, "quorum"), cluster.root_pub, vkey, policy,
                    cluster.public_url, "999999999"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(VECTORS, "wycheproof", "ed25519_test.json")) as f:
        wycheproof = json.load(f)
    consistency = []
    top = os.path.join(VECTORS, "rfc6962", "consistency")
    for folder_name in sorted(os.listdir(top)):
        for name in sorted(os.listdir(os.path.join(top, folder_name))):
            with open(os.path.join(top, folder_name, name)) as f:
                v = json.load(f)
            v["name"] = folder_name + "/" + name
            consistency.append(v)
    return {"vkey": vkey, "old": old, "new": new, "forked": forked,
            "forkedSmaller": forked_smaller, "consistency": consistency, "swapped": swapped,
            "swappedVkey": swapped_vkey, "cosigned": cosigned,
            "badCosigned": dict(new, checkpoint=new["checkpoint"] + bad_line),
            "site": site, "wycheproof": [
                {"id": t["tcId"], "pk": g["publicKey"]["pk"], "msg": t["msg"], "sig": t["sig"],
                 "valid": t["result"] == "valid"}
                for g in wycheproof["testGroups"] for t in g["tests"]]}


def flags_fixtures(cluster):
    """A lot for the standalone verifier's flags (SPEC 8 "Revocation and
    compromise", SPEC 9 pending), set up as test_attack_compromise.py does
    with real keys: the importer's key is stolen after seq 4, the thief
    closes the lot's recall with it (seq 5), and the root revokes the key
    with compromisedAt before that close was received; seq 3 is withdrawn
    by the importer's correction (seq 4).  Then seq 6 is logged, and
    "pending" is the bundle a server with a witness policy serves while
    seq 6 is past the witnessed checkpoint (PROTOCOL 10.1): the bundle of
    seq 0-5 plus the newer checkpoint, the consistency proof to it and
    seq 6 proven in it."""
    gtin, lot = "08801234567893", "LFLAGS1"
    brand, importer, logistics = (harness.Key("flags-brand"), harness.Key("flags-importer"),
                                  harness.Key("flags-logistics"))
    cluster.enroll(brand, "brand", prefixes=["880"])
    cluster.enroll(importer, "importer", prefixes=["880"])
    cluster.enroll(logistics, "logistics", prefixes=["880"])
    ids, prev = [], None

    def post(key, etype, data):
        nonlocal prev
        env = key.sign(harness.TYPE_EVENT, harness.event_payload(
            key, etype, gtin, lot, len(ids), prev, data))
        r = cluster.post("/api/v1/events", env)
        assert r.status in (200, 201), (r, etype)
        prev = harness.statement_id(env)
        ids.append(prev)

    post(brand, "product.registered", harness.REGISTERED)
    post(logistics, "shipment.departed", {"carrier": "Weidong Ferry", "port": "KRINC"})
    post(importer, "recall.issued", {"reason": "contamination", "severity": 1,
                                     "action": "return"})
    post(importer, "customs.declared", {"declaration": "421920261000999999", "mode": "1210"})
    post(importer, "correction", {"corrects": ids[3], "reason": "wrong declaration"})
    harness.settle(cluster)
    lost_at = harness.now_text()
    # Receipts carry whole seconds: what is received from now on has a
    # receipt time after lost_at.
    time.sleep(1.2)
    post(importer, "recall.closed", {"recall": ids[2], "outcome": "released"})
    p = harness.revoke_payload(cluster.root, importer.keyid, reason="stolen")
    p["compromisedAt"] = lost_at
    r = cluster.post("/api/v1/keys", cluster.root.sign(harness.TYPE_KEY, p))
    assert r.status == 201, r
    harness.settle(cluster)
    path = "/api/v1/bundles/01/%s/10/%s" % (gtin, lot)
    base = cluster.get(path).json()
    post(logistics, "shipment.arrived", {"carrier": "Weidong Ferry", "port": "CNWEI"})
    harness.settle(cluster)
    newer = cluster.get(path).json()
    size = [int(b["checkpoint"].split("\n")[1]) for b in (base, newer)]
    proof = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d" % tuple(size)).json()
    assert len(base["events"]) == 6 and len(newer["events"]) == 7, "flags lot"
    pending = dict(base, pending={"checkpoint": newer["checkpoint"],
                                  "consistency": proof["hashes"],
                                  "events": newer["events"][6:], "keys": []})
    return {"gtin": gtin, "lot": lot, "ids": ids, "pending": pending}


def main():
    # Build output, written afresh each run (never committed).
    corpus = os.path.join(harness.BUILD, "corpus")
    shutil.rmtree(corpus, ignore_errors=True)
    os.makedirs(corpus)
    subprocess.run([os.path.join(harness.BUILD, "tests", "test_corpus"),
                    "--write", corpus], check=True, stdout=subprocess.DEVNULL)
    return run(corpus)


def run(corpus):
    # Scratch-off codes need the server's pepper (SPEC 12): a 0600 file.
    pepper_dir = tempfile.mkdtemp(prefix="trace-pepper-")
    pepper = os.path.join(pepper_dir, "pepper")
    fd = os.open(pepper, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    cluster = harness.Cluster.start(server_args=["--code-pepper", pepper])
    folder = tempfile.mkdtemp(prefix="trace-verifier-")
    origin2 = None
    try:
        units = units_seed.seed(cluster)
        chains = pages_seed.seed(cluster)
        verifier = verifier_fixtures(cluster, chains, folder)
        verifier["flags"] = flags_fixtures(cluster)
        port = harness.free_port()
        origin2 = subprocess.Popen([sys.executable, "-m", "http.server", str(port),
                                    "--bind", "127.0.0.1", "--directory", verifier["site"]],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        harness.wait_port(port, proc=origin2)
        verifier["base"] = "http://127.0.0.1:%d" % port
        config = {"base": cluster.public_url, "chains": chains, "verifier": verifier,
                  "corpus": corpus,
                  "screenshots": os.environ.get("TRACE_SCREENSHOTS",
                                                os.path.join(harness.BUILD, "screenshots")),
                  "texts": {"script": pages_seed.SCRIPT, "attr": pages_seed.ATTR,
                            "jsurl": pages_seed.JS_URL},
                  "names": pages_seed.NAME, "units": units,
                  # blobs.test.js enrolls its own uploader with these.
                  "rootKey": cluster.root_key_path, "agent": harness.AGENT}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config, f)
            path = f.name
        try:
            rc = 0
            for script in sorted(f for f in os.listdir(HERE) if f.endswith(".test.js")):
                rc |= subprocess.call(["node", os.path.join(HERE, script), path])
        finally:
            os.unlink(path)
    finally:
        if origin2 is not None:
            origin2.terminate()
            origin2.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
        cluster.stop()
        shutil.rmtree(pepper_dir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
