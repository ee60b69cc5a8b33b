"""The log as C2SP tlog-tiles (SPEC 10, docs/PROTOCOL.md 9.6), checked by
a client written here from the text of c2sp.org/tlog-tiles alone (and RFC
6962/9162 for the hashing), not from libtrace:

- /tlog/checkpoint is /api/v1/checkpoint, a signed note of the log key;
- the tree hash of the checkpoint's size computed from hash tiles alone is
  the signed root; level-1 tile hashes are the tree hashes of the full
  level-0 tiles; every entry of every entry bundle is a uint16-length-
  prefixed PAE whose RFC 6962 leaf hash is the level-0 tile's hash;
- inclusion and consistency proofs computed from tiles verify against
  the signed roots and equal the ones /api/v1/proofs serves;
- full tiles are immutable (one year), partial ones exist for every
  published size; hostile paths answer 400 (not a tile name) or 404 (no
  published tree holds it), and nothing writes.

Run: make build/trace-server &&
     cd tests/integration && /usr/bin/python3 -m unittest test_tiles -v
"""
import base64
import hashlib
import unittest

import harness
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id
from test_log import (open_checkpoint, verify_consistency, verify_inclusion,
                      wait_checkpoint)
import test_log

GTIN = "08801234567893"
cluster = None


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    test_log.cluster = cluster


def tearDownModule():
    cluster.stop()


# ---- a tlog-tiles client, from the C2SP text ---------------------------------

def tile_path(level, n, width=256, entries=False):
    """<L>/<N>[.p/<W>] with N in zero-padded 3-digit groups, all but the
    last prefixed with x."""
    groups = []
    while True:
        groups.append("%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    name = "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])
    head = "entries" if entries else str(level)
    path = "/tlog/tile/%s/%s" % (head, name)
    return path + (".p/%d" % width if width < 256 else "")


def h_leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth_list(hashes):
    """RFC 6962 2.1 MTH over already-hashed leaves."""
    n = len(hashes)
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return h_node(mth_list(hashes[:k]), mth_list(hashes[k:]))


class TileClient:
    """Fetches tiles for a tree of size (from a verified checkpoint) and
    computes any subtree hash from them."""

    def __init__(self, size):
        self.size = size
        self.tiles = {}
        self.fetches = 0

    def tile(self, level, n):
        """The tile at (level, n) of this tree: full, or the partial one
        of width floor(size / 256**level) mod 256 when it is the last."""
        key = (level, n)
        if key not in self.tiles:
            count = self.size // 256 ** level
            width = 256 if (n + 1) * 256 <= count else count - n * 256
            assert 1 <= width <= 256, (level, n, width)
            r = cluster.get(tile_path(level, n, width))
            assert r.status == 200, (tile_path(level, n, width), r)
            assert r.headers["content-type"] == "application/octet-stream"
            assert len(r.body) == 32 * width, (len(r.body), width)
            self.fetches += 1
            self.tiles[key] = [r.body[i:i + 32] for i in range(0, len(r.body), 32)]
        return self.tiles[key]

    def node(self, height, index):
        """Hash of the perfect subtree of 2**height leaves at index."""
        level, inner = divmod(height, 8)
        first = index << inner
        t = self.tile(level, first // 256)
        at = first % 256
        return mth_list(t[at:at + (1 << inner)])

    def mth(self, lo, hi):
        """MTH(D[lo:hi]) (RFC 6962 2.1) from tiles."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.node(n.bit_length() - 1, lo // n)
        k = 1
        while k * 2 < n:
            k *= 2
        return h_node(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def inclusion(self, m, lo, hi):
        """RFC 6962 2.1.1 PATH(m, D[lo:hi])."""
        n = hi - lo
        if n == 1:
            return []
        k = 1
        while k * 2 < n:
            k *= 2
        if m < k:
            return self.inclusion(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.inclusion(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def consistency(self, m, lo, hi, whole=True):
        """RFC 6962 2.1.2 SUBPROOF(m, D[lo:hi], b)."""
        n = hi - lo
        if m == n:
            return [] if whole else [self.mth(lo, hi)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return self.consistency(m, lo, lo + k, whole) + [self.mth(lo + k, hi)]
        return self.consistency(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]


def entries(body):
    """An entry bundle: big-endian uint16 length, then that many bytes."""
    out, at = [], 0
    while at < len(body):
        assert at + 2 <= len(body), "truncated length"
        n = int.from_bytes(body[at:at + 2], "big")
        assert at + 2 + n <= len(body), "truncated entry"
        out.append(body[at + 2:at + 2 + n])
        at += 2 + n
    return out


def vkey():
    return cluster.get("/api/v1/log").json()["vkey"]


def tlog_checkpoint():
    r = cluster.get("/tlog/checkpoint")
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    note = r.body.decode()
    return (note,) + open_checkpoint(note, vkey())


def post_chain(keys, lot, n):
    envs, prev = [], None
    for seq in range(n):
        key = keys[0] if seq == 0 else keys[1]
        etype, data = (("product.registered", REGISTERED) if seq == 0 else
                       ("warehouse.received", {"warehouse": "W-%d" % seq}))
        env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, lot, seq,
                                                 prev, data))
        prev = statement_id(env)
        envs.append(env)
    for i in range(0, len(envs), 1000):
        r = cluster.post("/api/v1/events", envs[i:i + 1000])
        assert r.status == 200, r
        for item in r.json()["results"]:
            assert item.get("status") in (200, 201), item


def log_size():
    return int(cluster.redis.get("log:{log}:size") or 0)


class Tiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.brand = Key("tilesbrand")
        cluster.enroll(cls.brand, "brand", prefixes=["880"])
        cls.warehouse = Key("tileswarehouse")
        cluster.enroll(cls.warehouse, "warehouse", prefixes=["880"])
        keys = (cls.brand, cls.warehouse)
        # A first tree of 100 leaves, then one past 2 full level-0 tiles.
        post_chain(keys, "TILES0", 98)
        (cls.note1, _, cls.n1, cls.root1), _ = wait_checkpoint(log_size())
        post_chain(keys, "TILES1", 600 - log_size())
        (cls.note2, _, cls.n2, cls.root2), _ = wait_checkpoint(log_size())
        assert cls.n1 < 256 < 512 < cls.n2, (cls.n1, cls.n2)

    def test_1_checkpoint_is_the_api_checkpoint(self):
        note, origin, size, root = tlog_checkpoint()
        self.assertEqual(note, cluster.get("/api/v1/checkpoint").body.decode())
        self.assertEqual(origin, "trace.test/log")
        self.assertEqual((size, root), (self.n2, self.root2))
        r = cluster.get("/tlog/checkpoint")
        self.assertIn("no-store", r.headers.get("cache-control", ""))

    def test_2_root_from_tiles(self):
        for size, root in ((self.n1, self.root1), (self.n2, self.root2)):
            c = TileClient(size)
            self.assertEqual(c.mth(0, size), root, size)
        c = TileClient(self.n2)
        c.mth(0, self.n2)
        # Level 1: each hash is the MTH of a full level-0 tile.
        level1 = c.tile(1, 0)
        self.assertEqual(len(level1), self.n2 // 256)
        for i, h in enumerate(level1):
            self.assertEqual(h, mth_list(c.tile(0, i)), i)
        self.assertLessEqual(c.fetches, 4)

    def test_3_entry_bundles_hash_to_level0(self):
        c = TileClient(self.n2)
        seen = 0
        for n in range((self.n2 + 255) // 256):
            width = min(256, self.n2 - n * 256)
            r = cluster.get(tile_path(0, n, width, entries=True))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.headers["content-type"], "application/octet-stream")
            got = entries(r.body)
            self.assertEqual(len(got), width)
            for i, data in enumerate(got):
                self.assertTrue(data.startswith(b"DSSEv1 "), data[:20])
                self.assertEqual(h_leaf(data), c.tile(0, n)[i], n * 256 + i)
            seen += len(got)
        self.assertEqual(seen, self.n2)
        # The leaf data is the statement's PAE: its SHA-256 is the id.
        first = entries(cluster.get(tile_path(0, 0, entries=True)).body)
        ids = {hashlib.sha256(d).hexdigest() for d in first}
        for e in cluster.get("/api/v1/keys").json()["entries"]:
            if e["logIndex"] < 256:
                self.assertIn(statement_id(e["envelope"]), ids)

    def test_4_proofs_from_tiles(self):
        c = TileClient(self.n2)
        for index in (0, 1, 99, 255, 256, 300, 511, 512, self.n2 - 1):
            proof = c.inclusion(index, 0, self.n2)
            leaf = c.tile(0, index // 256)[index % 256]
            self.assertTrue(verify_inclusion(index, self.n2, leaf, proof,
                                             self.root2), index)
            served = cluster.get("/api/v1/proofs/inclusion?index=%d&size=%d"
                                 % (index, self.n2)).json()["hashes"]
            self.assertEqual([base64.b64decode(h) for h in served], proof)
        for m in (1, 2, 3, self.n1, 256, 257, 512, self.n2 - 1):
            proof = c.consistency(m, 0, self.n2)
            root_m = TileClient(m).mth(0, m) if m != self.n1 else self.root1
            self.assertTrue(verify_consistency(m, self.n2, root_m, self.root2,
                                               proof), m)
            served = cluster.get("/api/v1/proofs/consistency?from=%d&to=%d"
                                 % (m, self.n2)).json()["hashes"]
            self.assertEqual([base64.b64decode(h) for h in served], proof)

    def test_5_caching_and_partial_tiles(self):
        full = cluster.get(tile_path(0, 0))
        self.assertEqual(full.status, 200)
        self.assertEqual(full.headers["cache-control"],
                         "public, max-age=31536000, immutable")
        self.assertEqual(cluster.get(tile_path(0, 0, entries=True))
                         .headers["cache-control"],
                         "public, max-age=31536000, immutable")
        # The partial tile of the first published size still exists, and
        # is the prefix of the full tile that superseded it.
        part = cluster.get(tile_path(0, 0, self.n1))
        self.assertEqual(part.status, 200)
        self.assertNotIn("immutable", part.headers["cache-control"])
        self.assertEqual(part.body, full.body[:32 * self.n1])
        # Every size published so far has its partial tiles.
        for size in [int(s) for s in cluster.redis.hkeys("log:{log}:checkpoints")]:
            for level in (0, 1):
                w = (size // 256 ** level) % 256
                if w:
                    p = tile_path(level, size // 256 ** (level + 1), w)
                    self.assertEqual(cluster.get(p).status, 200, p)

    def test_6_hostile_paths(self):
        size = self.n2
        cases = [
            ("/tlog/tile/0/0", 400), ("/tlog/tile/0/00", 400),
            ("/tlog/tile/0/0000", 400), ("/tlog/tile/0/x000/001", 400),
            ("/tlog/tile/0/x001", 400), ("/tlog/tile/0/001/", 400),
            ("/tlog/tile/0/x01/001", 400), ("/tlog/tile/0/y001/001", 400),
            ("/tlog/tile/00/000", 400), ("/tlog/tile/64/000", 400),
            ("/tlog/tile/-1/000", 400), ("/tlog/tile/0/000.p/0", 400),
            ("/tlog/tile/0/000.p/256", 400), ("/tlog/tile/0/000.p/01", 400),
            ("/tlog/tile/0/000.p/", 400), ("/tlog/tile/0/000.p/7x", 400),
            ("/tlog/tile/0/000.p/1/", 400), ("/tlog/tile/0/%30%30%30", 400),
            ("/tlog/tile/entries/000.p/1000", 400), ("/tlog/tile/entries", 400),
            ("/tlog/tile/0/-01", 400), ("/tlog/tile/0/+01", 400),
            ("/tlog/tile/0/x999/x999/x999/x999/x999/x999/x999/999", 400),
            # Names of tiles no published tree holds.
            (tile_path(0, size // 256 + 1), 404),
            (tile_path(0, size // 256), 404),
            (tile_path(0, size // 256, size % 256 + 1), 404),
            (tile_path(1, 0), 404), (tile_path(2, 0, 1), 404),
            (tile_path(63, 0, 1), 404), (tile_path(7, 999999999, 255), 404),
            (tile_path(0, 10 ** 18), 404),
            (tile_path(0, size // 256 + 1, entries=True), 404),
            ("/tlog/tile/0/x018/x446/x744/x073/x709/x551/615", 404),
            ("/tlog/", 404), ("/tlog/checkpoints", 404), ("/tlog/tiles/0/000", 404),
        ]
        for path, status in cases:
            r = cluster.get(path)
            self.assertEqual(r.status, status, (path, r))
            self.assertIn(b'"error"', r.body, path)
        for method in ("POST", "PUT", "DELETE"):
            r = cluster.request(method, "/tlog/checkpoint", b"x", raw=True)
            self.assertEqual(r.status, 405, (method, r))
            self.assertEqual(r.headers["allow"], "GET, HEAD")
        r = cluster.request("HEAD", tile_path(0, 0))
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(r.headers["content-length"], "8192")

    def test_7_tampered_store_is_not_served(self):
        # A stored envelope edited in Redis no longer hashes to its leaf:
        # the bundle is refused rather than served inconsistent.
        key = next(k for k in cluster.redis.scan_iter("c:{*TILES0*}:ev"))
        rec = cluster.redis.lindex(key, 1)
        other = cluster.redis.lindex(key, 2)
        # Record 1 keeps its id and index but carries record 2's
        # (genuine, well-formed) envelope; then an envelope cut short.
        swapped = rec[:rec.index(b"{")] + other[other.index(b"{"):]
        try:
            for bad in (swapped, rec[:-2]):
                cluster.redis.lset(key, 1, bad)
                r = cluster.get(tile_path(0, 0, entries=True))
                self.assertEqual(r.status, 503, r)
                self.assertIn(b"store_corrupt", r.body)
        finally:
            cluster.redis.lset(key, 1, rec)
        self.assertEqual(cluster.get(tile_path(0, 0, entries=True)).status, 200)


class CrossOrigin(unittest.TestCase):
    """SPEC 10: read-only GETs under /api/v1/ and /tlog/ may be fetched
    from any origin (the standalone verifier's); nothing that writes."""

    READS = ["/api/v1/log", "/api/v1/checkpoint", "/tlog/checkpoint",
             "/tlog/tile/0/000.p/1", "/api/v1/keys",
             "/api/v1/proofs/inclusion?index=0&size=1",
             "/api/v1/bundles/01/08801234567893/10/TILES0",
             "/api/v1/chains/01/08801234567893/10/TILES0",
             "/api/v1/recalls", "/api/v1/epcis/events?gtin=08801234567893",
             # Errors of read routes too: the verifier must see a 404.
             "/api/v1/bundles/01/08801234567893/10/NOSUCHLOT",
             "/tlog/tile/0/x000/001"]

    def test_reads_allow_any_origin(self):
        for path in self.READS:
            for method in ("GET", "HEAD"):
                r = cluster.request(method, path, headers={"Origin": "https://verifier.example"})
                if method == "HEAD" and path.startswith("/api/v1/keys"):
                    self.assertEqual(r.status, 405)  # the registry takes GET alone
                    continue
                self.assertEqual(r.headers.get("access-control-allow-origin"), "*",
                                 (method, path, r))
                self.assertNotIn("access-control-allow-credentials", r.headers)

    def test_preflight_allows_reads_only(self):
        r = cluster.request("OPTIONS", "/api/v1/bundles/01/08801234567893/10/TILES0",
                            headers={"Origin": "https://verifier.example",
                                     "Access-Control-Request-Method": "GET"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.headers["access-control-allow-origin"], "*")
        self.assertEqual(r.headers["access-control-allow-methods"], "GET, HEAD")
        r = cluster.request("OPTIONS", "/tlog/checkpoint")
        self.assertEqual(r.status, 204, r)

    def test_writes_and_pages_are_not_cross_origin(self):
        cases = [("POST", "/api/v1/events", b"[]"), ("OPTIONS", "/api/v1/events", None),
                 ("POST", "/api/v1/keys", b"{}"), ("POST", "/tlog/checkpoint", b"x"),
                 ("POST", "/api/v1/events/" + "0" * 64, b"x"),
                 ("GET", "/recalls", None), ("GET", "/metrics", None),
                 ("GET", "/readyz", None), ("GET", "/static/verify.js", None)]
        for method, path, body in cases:
            r = cluster.request(method, path, body, headers={"Origin": "https://evil.example"},
                                raw=True)
            self.assertNotIn("access-control-allow-origin", r.headers, (method, path, r))


if __name__ == "__main__":
    unittest.main()
