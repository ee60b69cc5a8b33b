"""The lot index's undo records (store.lua log_commit, index_prune) on a
private redis-server with store.lua loaded, no trace-server: what SPEC 7's
memory target needs dropped is dropped, and nothing a proof can still ask
for goes.

- a proof as of any version at or above the floor reads the same records
  after the prune as before; a version below it answers 'gone', never
  records of another version;
- the witnessed checkpoint caps the floor; with a witness policy and no
  witnessed checkpoint yet nothing is dropped; a witnessed note that does
  not parse drops nothing;
- the newest version always stays, and the `undo` count in lx:meta stays
  the records actually held;
- on a real trace-server, past the grace (--index-proof-grace) only the head's version
  is left, and the head's bundle still verifies;
- a commit's records go in chunks of 512 (store.lua INDEX_COMMIT_CHUNK):
  across the chunk bounds every record and its undo value is stored, and
  a retried commit keeps the undo value saved first;
- the commit bound (4096 commits) evicting a commit that saved nothing
  does not fail the commit (HINCRBY of -0 was refused after the commit's
  writes).

Run: cd tests/integration && /usr/bin/python3 -m unittest test_index_prune -v
"""
import os
import subprocess
import time
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
STORE_LUA = os.path.join(HERE, "..", "..", "trace-server", "store.lua")
NODES, META, VERSIONS = "log:{log}:lx:nodes", "log:{log}:lx:meta", "log:{log}:lx:versions"
WITNESSED = "log:{log}:witnessed"
LOG_KEYS = ["log:{log}:lease", "log:{log}:integrated", "log:{log}:pending",
            "log:{log}:checkpoint", "log:{log}:checkpoints"]
TOKEN = "t" * 32
cluster = None


def setUpModule():
    global cluster
    cluster = harness.Cluster()
    cluster.start_redis()
    with open(STORE_LUA, "rb") as f:
        cluster.redis.execute_command("FUNCTION", "LOAD", "REPLACE", f.read())


def tearDownModule():
    cluster.stop()


def r():
    return cluster.redis


def commit(through, records):
    """One index commit through `through` leaves writing records (a dict
    position -> record), as the integrator does with nothing to trim."""
    r().set("log:{log}:lease", TOKEN)
    args = [TOKEN, "0", "0", "0", "", "", "0", str(through), "00" * 32, "1"]
    for pos, rec in records.items():
        args += [pos, rec]
    out = r().execute_command("FCALL", "trace_log_commit", 8, *LOG_KEYS,
                              NODES, META, VERSIONS, *args)
    assert out == [b"ok"], out


def nodes_at(version, positions):
    return r().execute_command("FCALL_RO", "trace_index_nodes", 3, NODES, META,
                               VERSIONS, str(version), *positions)


def prune(floor, require_witnessed=False):
    status, dropped = r().execute_command(
        "FCALL", "trace_index_prune", 4, NODES, META, VERSIONS, WITNESSED,
        str(floor), "1" if require_witnessed else "0")
    assert status == b"ok"
    return dropped


def undo_records():
    return sum(r().hlen(k) for k in r().scan_iter(NODES + ":undo:*"))


POSITIONS = ["p%d" % i for i in range(5)]


class Prune(unittest.TestCase):
    def setUp(self):
        r().flushall()
        # 20 commits, through 10, 20, ... 200; commit k rewrites positions
        # p0..p(k mod 5); every third commit writes nothing (an index
        # statement alone).
        self.versions = []
        for k in range(1, 21):
            recs = {} if k % 3 == 0 else \
                {POSITIONS[i]: "v%d-%d" % (k, i) for i in range(k % 5 + 1)}
            commit(10 * k, recs)
            self.versions.append(10 * k)
        self.before = {v: nodes_at(v, POSITIONS) for v in self.versions}
        for v in self.versions:
            self.assertEqual(self.before[v][0], b"ok")

    def meta_undo(self):
        return int(r().hget(META, "undo") or 0)

    def test_prune_keeps_every_version_at_or_above_the_floor(self):
        self.assertEqual(self.meta_undo(), undo_records())
        held = undo_records()
        dropped = prune(105)
        self.assertEqual(dropped, 10)          # 10 .. 100
        self.assertLess(undo_records(), held)
        self.assertEqual(self.meta_undo(), undo_records())
        for v in self.versions:
            got = nodes_at(v, POSITIONS)
            if v >= 110:
                self.assertEqual(got, self.before[v], v)
            else:
                self.assertEqual(got, [b"gone"], v)
        for v in range(10, 101, 10):
            self.assertFalse(r().exists("%s:undo:%d" % (NODES, v)), v)

    def test_the_newest_version_stays(self):
        prune(10 ** 9)
        self.assertEqual([int(v) for v in r().zrange(VERSIONS, 0, -1)], [200])
        self.assertEqual(nodes_at(200, POSITIONS), self.before[200])
        self.assertEqual(self.meta_undo(), undo_records())

    def test_at_most_64_versions_a_call(self):
        r().flushall()
        for k in range(1, 101):
            commit(k, {"p": "v%d" % k})
        self.assertEqual(prune(1000), 64)
        self.assertEqual(prune(1000), 35)
        self.assertEqual(prune(1000), 0)
        self.assertEqual(r().zcard(VERSIONS), 1)
        self.assertEqual(self.meta_undo(), undo_records())

    def test_the_witnessed_checkpoint_caps_the_floor(self):
        # An attacker cannot make the integrator drop what the witnessed
        # (lagging) checkpoint's proofs need by sending requests: the
        # floor is capped by the witnessed size, whatever is passed.
        r().set(WITNESSED, "trace.test/log\n50\nroot=\n\n- sig\n")
        prune(10 ** 9)
        for v in self.versions:
            got = nodes_at(v, POSITIONS)
            self.assertEqual(got, self.before[v] if v >= 50 else [b"gone"], v)

    def test_a_witness_policy_without_a_witnessed_checkpoint_drops_nothing(self):
        self.assertEqual(prune(10 ** 9, require_witnessed=True), 0)
        for v in self.versions:
            self.assertEqual(nodes_at(v, POSITIONS), self.before[v])

    def test_an_unreadable_witnessed_note_drops_nothing(self):
        for note in ("garbage", "origin\n-5\n", "origin\n\n", ""):
            r().set(WITNESSED, note)
            self.assertEqual(prune(10 ** 9), 0, note)
        for v in self.versions:
            self.assertEqual(nodes_at(v, POSITIONS), self.before[v])

    def test_a_floor_below_every_version_drops_nothing(self):
        self.assertEqual(prune(0), 0)
        self.assertEqual(prune(10), 0)
        self.assertEqual(r().zcard(VERSIONS), 20)


class CommitBound(unittest.TestCase):
    def test_evicting_a_commit_that_saved_nothing(self):
        """4096 commits kept: the 4097th evicts the first, which saved no
        record (an index statement alone).  Before the fix HINCRBY got -0
        and the commit failed after its writes."""
        r().flushall()
        pipe = r().pipeline(transaction=False)
        pipe.set("log:{log}:lease", TOKEN)
        for k in range(1, 4098):
            args = [TOKEN, "0", "0", "0", "", "", "0", str(k), "00" * 32, "1"]
            pipe.execute_command("FCALL", "trace_log_commit", 8, *LOG_KEYS,
                                 NODES, META, VERSIONS, *args)
        out = pipe.execute(raise_on_error=False)
        self.assertEqual(out[-1], [b"ok"])
        self.assertTrue(all(o == [b"ok"] for o in out[1:]))
        self.assertEqual(r().zcard(VERSIONS), 4096)
        self.assertEqual(int(r().zrange(VERSIONS, 0, 0)[0]), 2)
        self.assertEqual(int(r().hget(META, "undo")), 0)


class CommitChunks(unittest.TestCase):
    """log_commit reads and writes a commit's records in chunks of 512
    (store.lua INDEX_COMMIT_CHUNK): at and across the chunk bounds every
    record is stored, the version before reads the old values, and the
    `undo` count is the records saved."""

    def test_commits_across_chunk_bounds(self):
        for size in (1, 511, 512, 513, 1024, 1300):
            with self.subTest(size=size):
                r().flushall()
                positions = ["q%04d" % i for i in range(size)]
                # half the positions exist before: their old value is
                # saved, the others' '' (absent)
                commit(10, {p: "old-" + p for p in positions[::2]})
                undo_before = int(r().hget(META, "undo"))
                commit(20, {p: "new-" + p for p in positions})
                self.assertEqual(r().hmget(NODES, positions),
                                 [("new-" + p).encode() for p in positions])
                got = nodes_at(10, positions)
                self.assertEqual(got[0], b"ok")
                want = [("old-" + p).encode() if i % 2 == 0 else b""
                        for i, p in enumerate(positions)]
                self.assertEqual([v or b"" for v in got[1]], want)
                self.assertEqual(int(r().hget(META, "undo")) - undo_before,
                                 size)
                self.assertEqual(r().hlen(NODES + ":undo:20"), size)

    def test_a_retried_commit_keeps_the_value_saved_first(self):
        """A commit that failed half way (a Function's writes before an
        error stay) saved the true old value of a record and overwrote it;
        its retry must not save the overwritten one."""
        r().flushall()
        commit(10, {"p": "a", "q": "x"})
        r().hset(NODES + ":undo:20", "p", "a")
        r().hset(NODES, "p", "half")
        undo_before = int(r().hget(META, "undo"))
        commit(20, {"p": "b", "q": "y"})
        got = nodes_at(10, ["p", "q"])
        self.assertEqual(got[0], b"ok")
        self.assertEqual(got[1], [b"a", b"x"])
        self.assertEqual(int(r().hget(META, "undo")) - undo_before, 1)


class IntegratorPrunes(unittest.TestCase):
    """The integrator itself (log.c index_prune), on a real trace-server:
    past the grace (--index-proof-grace 3s here; 60 s by default) the
    commits before the head of then are gone, the head's proofs still
    verify."""

    def test_old_commits_go_after_the_grace(self):
        c = harness.Cluster.start(["--index-proof-grace", "3s"])
        try:
            brand = harness.Key("pbrand")
            c.enroll(brand, "brand")
            for n in range(4):     # a lot a commit
                env = brand.sign(harness.TYPE_EVENT, harness.event_payload(
                    brand, "product.registered", "08801234567893", "PRUNE%d" % n, 0,
                    None, harness.REGISTERED))
                r = c.post("/api/v1/events", env)
                self.assertIn(r.status, (200, 201), r)
                harness.settle(c)
            early = [int(v) for v in c.redis.zrange(VERSIONS, 0, -1)]
            self.assertGreaterEqual(len(early), 4)
            self.assertGreater(sum(c.redis.hlen(k) for k in
                                   c.redis.scan_iter(NODES + ":undo:*")), 0)
            time.sleep(5)
            # idle: the integrator prunes on its own
            deadline = time.time() + 10
            while time.time() < deadline and c.redis.zcard(VERSIONS) > 1:
                time.sleep(0.2)
            size = int(c.redis.get("log:{log}:checkpoint").split(b"\n")[1])
            self.assertEqual([int(v) for v in c.redis.zrange(VERSIONS, 0, -1)], [size])
            self.assertEqual(int(c.redis.hget(META, "undo") or 0),
                             sum(c.redis.hlen(k) for k in c.redis.scan_iter(NODES + ":undo:*")))
            # the head's bundle, its index proofs included, still verifies
            vkey = c.get("/api/v1/log").json()["vkey"]
            out = subprocess.run([harness.AGENT, "--server", c.public_url, "verify",
                                  "--gtin", "08801234567893", "--lot", "PRUNE0",
                                  "--root", c.root_pub, "--log-vkey", vkey, "--no-state"],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        finally:
            c.stop()


if __name__ == "__main__":
    unittest.main()
