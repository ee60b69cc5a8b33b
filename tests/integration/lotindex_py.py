"""An independent Python implementation of the lot index (SPEC 11,
docs/PROTOCOL.md section 9.10), written from the protocol text and not from
libtrace: keys, values, the compact sparse Merkle tree's root, the proof
byte format, proof verification, and the index statement.  Used to build
bundles with an index here (test_agent_verify.py) and to check what the
server's integrator committed (test_complete.py)."""
import base64
import hashlib
import json
import struct

TYPE_INDEX = "application/vnd.trace.index.v1+json"
TYPE_EVENT = "application/vnd.trace.event.v1+json"
TYPE_KEY = "application/vnd.trace.key.v1+json"
EMPTY = b"\x00" * 32


def sha(b):
    return hashlib.sha256(b).digest()


def chain_key(chain):
    return sha(chain.encode())


def keyid_key(keyid):
    return sha(b"key\x00" + keyid.encode())


def value(count, head_id, log_index):
    return sha(struct.pack(">Q", count) + head_id + struct.pack(">Q", log_index))


def leaf(key, val):
    return sha(b"\x00" + key + val)


def node(left, right):
    return sha(b"\x01" + left + right)


def bit(key, i):
    return (key[i // 8] >> (7 - i % 8)) & 1


class Index:
    """key (32 bytes) -> (count, head id (32 bytes), head log index)."""

    def __init__(self):
        self.entries = {}

    def apply(self, envelope, log_index):
        """What one logged statement does to the index (PROTOCOL 9.10.1)."""
        payload = json.loads(base64.b64decode(envelope["payload"]))
        sid = hashlib.sha256(b"DSSEv1 %d %s %d %s" % (
            len(envelope["payloadType"]), envelope["payloadType"].encode(),
            len(base64.b64decode(envelope["payload"])),
            base64.b64decode(envelope["payload"]))).digest()
        if envelope["payloadType"] == TYPE_EVENT:
            chain = "01/%s/10/%s" % (payload["chain"]["gtin"], payload["chain"]["lot"])
            self.entries[chain_key(chain)] = (payload["seq"] + 1, sid, log_index)
        elif envelope["payloadType"] == TYPE_KEY and payload.get("op") != "org":
            # An org entry names no key: it changes nothing.
            k = keyid_key(payload["keyid"])
            count = self.entries.get(k, (0,))[0]
            self.entries[k] = (count + 1, sid, log_index)

    def _hash(self, items, depth):
        if not items:
            return EMPTY
        if len(items) == 1:
            k, (c, h, i) = items[0]
            return leaf(k, value(c, h, i))
        left = [x for x in items if bit(x[0], depth) == 0]
        right = [x for x in items if bit(x[0], depth) == 1]
        return node(self._hash(left, depth + 1), self._hash(right, depth + 1))

    def root(self):
        return self._hash(list(self.entries.items()), 0)

    def prove(self, key):
        """The proof bytes of PROTOCOL 9.10.4 for key."""
        items, depth, siblings = list(self.entries.items()), 0, []
        while True:
            if not items:
                head = bytes([1, 1])
                tail = b""
                break
            if len(items) == 1:
                k, (c, h, i) = items[0]
                if k == key:
                    head, tail = bytes([1, 0]), struct.pack(">Q", c) + h + struct.pack(">Q", i)
                else:
                    head, tail = bytes([1, 2]), k + value(c, h, i)
                break
            mine = [x for x in items if bit(x[0], depth) == bit(key, depth)]
            other = [x for x in items if bit(x[0], depth) != bit(key, depth)]
            siblings.append(self._hash(other, depth + 1))
            items, depth = mine, depth + 1
        return head + struct.pack(">H", depth) + tail + b"".join(siblings)


def verify_proof(proof, key, root):
    """(kind, entry or None) if proof proves key's membership or absence
    under root; raises ValueError otherwise."""
    if len(proof) < 4 or proof[0] != 1 or proof[1] > 2:
        raise ValueError("bad header")
    kind, depth = proof[1], struct.unpack(">H", proof[2:4])[0]
    tlen = {0: 48, 1: 0, 2: 64}[kind]
    if depth > 256 or len(proof) != 4 + tlen + 32 * depth:
        raise ValueError("bad length")
    t = proof[4:4 + tlen]
    sibs = [proof[4 + tlen + 32 * i:4 + tlen + 32 * (i + 1)] for i in range(depth)]
    entry = None
    if kind == 0:
        entry = (struct.unpack(">Q", t[:8])[0], t[8:40], struct.unpack(">Q", t[40:])[0])
        h = leaf(key, value(*entry))
    elif kind == 1:
        h = EMPTY
    else:
        other = t[:32]
        if other == key or any(bit(other, i) != bit(key, i) for i in range(depth)):
            raise ValueError("other leaf not on the path")
        h = leaf(other, t[32:])
    if depth > 0 and sibs[-1] == EMPTY:
        raise ValueError("not canonical")
    for i in reversed(range(depth)):
        h = node(h, sibs[i]) if bit(key, i) == 0 else node(sibs[i], h)
    if h != root:
        raise ValueError("root mismatch")
    return kind, entry


def statement_payload(when, size, root, entries):
    return json.dumps({"v": 1, "type": "index", "time": when, "size": size,
                       "root": root.hex(), "entries": entries},
                      separators=(",", ":")).encode()
