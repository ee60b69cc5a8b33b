"""A tlog-witness client written from the C2SP specifications alone, not
from Trace's C code, to check that trace-witness interoperates:

  RFC 6962 2.1     Merkle tree hash, 2.1.2 consistency proofs (PROOF and
                   SUBPROOF exactly as the RFC writes them)
  signed-note      Ed25519 note signatures, key IDs, vkeys
  tlog-checkpoint  the note body: origin, size, base64 root
  tlog-witness     the add-checkpoint request and its answers
  tlog-cosignature cosignature/v1 lines and their verification

PyNaCl (libsodium) does the Ed25519; hashlib the SHA-256.
"""
import base64
import hashlib
import http.client

import nacl.exceptions
import nacl.signing

EM_DASH = "\u2014"


def b64(data):
    return base64.b64encode(data).decode()


# ---- RFC 6962 section 2.1 ----------------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    """MTH(D[n]) over raw leaf data."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = largest_power_of_two_below(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def subproof(m, leaves, b):
    """SUBPROOF(m, D[n], b) of RFC 6962 2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency_proof(m, leaves):
    """PROOF(m, D[n]): from the first m leaves to all of them."""
    return subproof(m, leaves, True)


# ---- signed-note ---------------------------------------------------------

def key_id(name, sig_type, public):
    """SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) +
                          public).digest()[:4]


def vkey(name, sig_type, public):
    return "%s+%s+%s" % (name, key_id(name, sig_type, public).hex(),
                         b64(bytes([sig_type]) + public))


class LogKey:
    """A log's Ed25519 note key (signature type 0x01)."""

    def __init__(self, origin, seed):
        self.origin = origin
        self.signing = nacl.signing.SigningKey(seed)
        self.public = bytes(self.signing.verify_key)
        self.vkey = vkey(origin, 0x01, self.public)

    def signature_line(self, text, name=None, key_id_override=None):
        name = name or self.origin
        kid = key_id_override or key_id(name, 0x01, self.public)
        sig = self.signing.sign(text.encode()).signature
        return "%s %s %s\n" % (EM_DASH, name, b64(kid + sig))


# ---- tlog-checkpoint -----------------------------------------------------

def checkpoint_body(origin, size, root, extensions=""):
    return "%s\n%d\n%s\n%s" % (origin, size, b64(root), extensions)


def signed_checkpoint(log, leaves, origin=None, extensions=""):
    body = checkpoint_body(origin or log.origin, len(leaves), mth(leaves),
                           extensions)
    return body, body + "\n" + log.signature_line(body)


# ---- tlog-witness --------------------------------------------------------

def add_checkpoint_body(old_size, proof, note):
    """old line, proof lines, an empty line, the checkpoint note."""
    return ("old %d\n" % old_size + "".join(b64(h) + "\n" for h in proof) +
            "\n" + note).encode()


def post(port, body, path="/add-checkpoint", method="POST", headers=None):
    """(status, content type, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


# ---- tlog-cosignature ----------------------------------------------------

class CosignatureError(Exception):
    pass


def verify_cosignatures(body, response, witness_name, witness_public):
    """Check the response's signature lines as tlog-cosignature says and
    return the timestamps of the valid cosignatures by the witness (lines
    by other keys ignored; a bad line by the witness raises)."""
    want_id = key_id(witness_name, 0x04, witness_public)
    verify = nacl.signing.VerifyKey(witness_public)
    stamps = []
    text = response.decode("utf-8")
    if not text.endswith("\n"):
        raise CosignatureError("response does not end in a newline")
    for line in text[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise CosignatureError("not a signature line: %r" % line)
        name, _, sig64 = line[2:].partition(" ")
        raw = base64.b64decode(sig64, validate=True)
        if name != witness_name or raw[:4] != want_id:
            continue
        if len(raw) != 4 + 8 + 64:
            raise CosignatureError("timestamped_signature of %d bytes" % len(raw))
        timestamp = int.from_bytes(raw[4:12], "big")
        if timestamp > 2**63 - 1:
            raise CosignatureError("timestamp above 2^63 - 1")
        msg = b"cosignature/v1\ntime %d\n" % timestamp + body.encode()
        try:
            verify.verify(msg, raw[12:])
        except nacl.exceptions.BadSignatureError:
            raise CosignatureError("cosignature does not verify")
        stamps.append(timestamp)
    return stamps
