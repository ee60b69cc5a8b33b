"""The lot index's undo records (store.lua log_commit) on a private
redis-server with store.lua loaded, no trace-server.

- the commit bound (4096 commits) evicting a commit that saved nothing
  does not fail the commit (HINCRBY of -0 was refused after the commit's
  writes).

Run: cd tests/integration && /usr/bin/python3 -m unittest test_index_prune -v
"""
import os
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


if __name__ == "__main__":
    unittest.main()
