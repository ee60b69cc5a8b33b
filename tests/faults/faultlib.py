"""Shared pieces of the fault and hostile-input suites: bounded HTTP calls,
killing and restarting redis-server and trace-server of a harness.Cluster,
an independent RFC 6962/9162 Merkle tree and consistency-proof verifier, a
C2SP signed-note verifier (PyNaCl), whole-store checks (every acknowledged
statement present, chains contiguous, log indices dense, the log's root
recomputed from the statements) and FIGURE lines.

Nothing here trusts trace-server's own verification: proofs, notes, ids and
links are recomputed in Python from the raw envelopes.
"""
import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import nacl.exceptions  # noqa: E402
import nacl.signing  # noqa: E402

import harness  # noqa: E402
from harness import pae, statement_id  # noqa: E402,F401

GTIN = "08801234567893"


# ---- figures -----------------------------------------------------------------

def figure(name, **values):
    """One machine-readable line per test: FIGURE name k=v ...  on
    standard output, where tests/run-suite.sh collects them."""
    print("FIGURE %s %s" % (name, " ".join("%s=%s" % kv for kv in values.items())),
          flush=True)


# ---- HTTP with a bound on every call --------------------------------------------

class Answer:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def call(port, method, path, body=None, headers=None, timeout=15.0):
    """One request on a fresh connection.  Raises OSError (including
    socket.timeout) or http.client.HTTPException when no answer came."""
    h = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body, ensure_ascii=False).encode()
        h.setdefault("Content-Type", "application/json")
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, data,
                      time.monotonic() - start)
    finally:
        conn.close()


def healthy(cluster, timeout=5.0):
    try:
        return call(cluster.port, "GET", "/healthz", timeout=timeout).status == 200
    except (OSError, http.client.HTTPException):
        return False


def wait_ready(cluster, timeout=30.0):
    """Wait for /readyz 200 (Redis reachable, Functions loaded)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = call(cluster.port, "GET", "/readyz", timeout=5)
            if last.status == 200:
                return time.monotonic()
        except (OSError, http.client.HTTPException) as e:
            last = e
        time.sleep(0.1)
    raise AssertionError("trace-server not ready after %.0fs: %r" % (timeout, last))


# ---- processes ---------------------------------------------------------------

def kill_redis(cluster, sig=signal.SIGKILL):
    cluster.redis_proc.send_signal(sig)
    if sig in (signal.SIGKILL, signal.SIGTERM):
        cluster.redis_proc.wait(10)


def restart_redis(cluster):
    """Start redis-server again on the same port and data folder (its AOF)."""
    cluster.start_redis()


def kill_server(cluster):
    cluster.server_proc.send_signal(signal.SIGKILL)
    cluster.server_proc.wait(10)
    cluster.server_proc = None


# ---- RFC 6962 / RFC 9162 -----------------------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaf_hashes):
    """RFC 6962 2.1 MTH over already-hashed leaves (iterative, any n)."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    level = list(leaf_hashes)
    # Pairing left to right and carrying an odd last node up gives the
    # same root as RFC 6962's largest-power-of-two split.
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 2.1.4.2, step by step."""
    if first > second:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return False
    if not proof:
        return False
    proof = list(proof)
    if first & (first - 1) == 0:
        proof.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# ---- C2SP signed notes ---------------------------------------------------------

def parse_vkey(vkey):
    """name+hex8+base64(0x01 || key) -> (name, 4-byte key id, VerifyKey)."""
    name, rest = vkey.split("+", 1)
    hexid, b64key = rest.split("+", 1)
    raw = base64.b64decode(b64key)
    if len(raw) != 33 or raw[0] != 1:
        raise AssertionError("not an Ed25519 verifier key: %r" % vkey)
    keyid = hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4]
    if keyid.hex() != hexid:
        raise AssertionError("verifier key id does not match: %r" % vkey)
    return name, keyid, nacl.signing.VerifyKey(raw[1:])


def open_checkpoint(note, vkey):
    """Verify a checkpoint note under vkey; return (origin, size, root)."""
    if isinstance(note, bytes):
        note = note.decode("utf-8")
    name, keyid, verify_key = parse_vkey(vkey)
    body, sep, sigs = note.partition("\n\n")
    if not sep:
        raise AssertionError("note has no signature block: %r" % note)
    body += "\n"
    good = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise AssertionError("bad signature line %r" % line)
        who, b64sig = line[2:].rsplit(" ", 1)
        raw = base64.b64decode(b64sig)
        if who == name and raw[:4] == keyid:
            try:
                verify_key.verify(body.encode(), raw[4:])
                good = True
            except nacl.exceptions.BadSignatureError:
                raise AssertionError("checkpoint signature does not verify")
    if not good:
        raise AssertionError("checkpoint not signed by %s" % name)
    lines = body.split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    if origin != name or len(root) != 32:
        raise AssertionError("checkpoint body malformed: %r" % body)
    return origin, size, root


def log_present(cluster):
    try:
        return call(cluster.port, "GET", "/api/v1/log", timeout=10).status == 200
    except (OSError, http.client.HTTPException):
        return False


def fetch_checkpoint(cluster, timeout=10.0):
    """The latest checkpoint handed out: (note text, size, root), or None."""
    try:
        r = call(cluster.port, "GET", "/api/v1/checkpoint", timeout=timeout)
    except (OSError, http.client.HTTPException):
        return None
    if r.status != 200:
        return None
    vkey = call(cluster.port, "GET", "/api/v1/log", timeout=timeout).json()["vkey"]
    _, size, root = open_checkpoint(r.body, vkey)
    return r.body, size, root


def wait_checkpoint(cluster, size, timeout=30.0):
    """Wait until a checkpoint covers at least size leaves; return it."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = fetch_checkpoint(cluster)
        if got is not None and got[1] >= size:
            return got
        time.sleep(0.1)
    raise AssertionError("no checkpoint of size >= %d after %.0fs (last %r)" %
                         (size, timeout, got and got[1]))


def check_consistent(cluster, before, after):
    """The checkpoint after a fault extends the one handed out before it:
    the server's consistency proof verifies (RFC 9162 2.1.4.2)."""
    _, n1, r1 = before
    _, n2, r2 = after
    if n1 == 0:
        return
    r = call(cluster.port, "GET", "/api/v1/proofs/consistency?from=%d&to=%d" % (n1, n2))
    if r.status != 200:
        raise AssertionError("consistency proof %d -> %d: %r" % (n1, n2, r))
    proof = [base64.b64decode(h) for h in r.json()["hashes"]]
    if not verify_consistency(n1, n2, r1, r2, proof):
        raise AssertionError("consistency proof %d -> %d does not verify" % (n1, n2))


# ---- whole-store checks ----------------------------------------------------------

def get_chain(cluster, lot, gtin=GTIN):
    """Every event of the chain, following next through its pages
    (docs/PROTOCOL.md 11.6)."""
    events, query = [], "?limit=1000"
    while True:
        r = call(cluster.port, "GET", "/api/v1/chains/01/%s/10/%s%s" % (gtin, lot, query),
                 timeout=60)
        if r.status == 404:
            return []
        if r.status != 200:
            raise AssertionError("chain %s: %r" % (lot, r))
        doc = r.json()
        events += doc["events"]
        if doc.get("next") is None:
            return events
        query = "?limit=1000&cursor=" + doc["next"]


def check_chain(events, lot):
    """seq 0..n contiguous, prev links, ids recomputed from the bytes."""
    ids = []
    for i, e in enumerate(events):
        if e["seq"] != i or e["payload"]["seq"] != i:
            raise AssertionError("%s: event %d has seq %r" % (lot, i, e["seq"]))
        if e["id"] != statement_id(e["envelope"]):
            raise AssertionError("%s: id of seq %d is not the PAE hash" % (lot, i))
        want = None if i == 0 else events[i - 1]["id"]
        if e["payload"]["prev"] != want:
            raise AssertionError("%s: seq %d does not link to seq %d" % (lot, i, i - 1))
        ids.append(e["id"])
    if len(set(ids)) != len(ids):
        raise AssertionError("%s: a statement appears twice" % lot)
    return ids


def check_store(cluster, lots, acked, gtin=GTIN, checkpoint_before=None):
    """Everything a fault test asserts afterwards.  Returns (found, total)
    where found counts acknowledged statements present.

    - every acknowledged id is in its chain and answers GET /events/{id};
    - every chain is contiguous and linked, no statement twice;
    - with the log: the log indices of all statements (events, key
      entries and index statements) are exactly 0..n-1, the last an index
      statement, the root recomputed from their PAE bytes
      in log order is the root of a fresh signed checkpoint of size n, and
      that checkpoint is consistent with checkpoint_before."""
    leaves = {}
    present = set()
    for lot in lots:
        events = get_chain(cluster, lot, gtin)
        check_chain(events, lot)
        for e in events:
            present.add(e["id"])
            idx = e["logIndex"]
            if idx in leaves:
                raise AssertionError("log index %d used twice" % idx)
            leaves[idx] = e["envelope"]
    missing = [i for i in acked if i not in present]
    if missing:
        raise AssertionError("%d acknowledged statements lost, e.g. %s" %
                             (len(missing), missing[:3]))
    for i in list(acked)[:20]:
        r = call(cluster.port, "GET", "/api/v1/events/" + i)
        if r.status != 200 or r.json()["id"] != i:
            raise AssertionError("GET /events/%s: %r" % (i, r))
    if log_present(cluster):
        for e in call(cluster.port, "GET", "/api/v1/keys", timeout=60).json()["entries"]:
            if e["logIndex"] in leaves:
                raise AssertionError("log index %d used twice" % e["logIndex"])
            leaves[e["logIndex"]] = e["envelope"]
        total = call(cluster.port, "GET", "/api/v1/log").json()
        harness.settle(cluster, timeout=30)
        # The integrator's index statements (SPEC 11) are leaves too, one
        # at the end of every checkpoint.
        statements = harness.index_statements(cluster)
        for index, env in statements.items():
            if index in leaves:
                raise AssertionError("log index %d used twice" % index)
            leaves[index] = env
        n = max(leaves) + 1 if leaves else 0
        if n > 0 and n - 1 not in statements:
            raise AssertionError("the log does not end with an index statement")
        if sorted(leaves) != list(range(n)):
            raise AssertionError("log indices are not dense: %d statements, max %d" %
                                 (len(leaves), n - 1))
        after = wait_checkpoint(cluster, n)
        if after[1] != n:
            raise AssertionError("checkpoint size %d, statements %d (log %r)" %
                                 (after[1], n, total))
        hashes = []
        for i in range(n):
            env = leaves[i]
            hashes.append(leaf_hash(pae(env["payloadType"],
                                        base64.b64decode(env["payload"]))))
        if merkle_root(hashes) != after[2]:
            raise AssertionError("checkpoint root is not the root of the stored statements")
        if checkpoint_before is not None:
            check_consistent(cluster, checkpoint_before, after)
    return len(acked) - len(missing), len(present)


# ---- raw sockets -------------------------------------------------------------

def raw_exchange(port, data, timeout=15.0, read_until_close=True):
    """Send raw bytes, read what comes back until the server closes or the
    timeout; return (bytes, closed_by_server)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    closed = False
    try:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            out += chunk
            if not read_until_close and b"\r\n\r\n" in out:
                break
    finally:
        s.close()
    return out, closed


def status_of(raw):
    """The status code of a raw HTTP answer, or None."""
    if not raw.startswith(b"HTTP/"):
        return None
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None
