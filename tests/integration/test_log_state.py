"""The signer's own high-water mark (--log-state DIR, SPEC section 9,
docs/PROTOCOL.md 9.8) against a real redis-server and trace-server:

- Redis's checkpoint rolled back to an older one and new leaves injected
  where the log had others: the integrator signs nothing new (every
  checkpoint ever served or stored is one signed before the rollback),
  and /readyz (still 200) and /metrics say it refused;
- the state file missing while Redis holds a tree: trace-server exits 1
  and says so; with --log-state-init it starts and adopts Redis's
  checkpoint; a state file that is not the log key's checkpoint: exit 1;
- a second process with the same state directory refuses (the lock);
- --log-key LOG.key without --log-state exits 2; LOG.pub serves without
  signing and without a state directory.

Run: make build/trace-server &&
     cd tests/integration && /usr/bin/python3 -m unittest test_log_state -v
"""
import base64
import os
import subprocess
import time
import unittest

import harness
from harness import Key


def checkpoints_served(cluster):
    r = cluster.get("/api/v1/checkpoint")
    assert r.status == 200, r
    return r.body.decode()


def body_of(note):
    """(size, root) of a checkpoint note."""
    lines = note.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


def wait_size(cluster, size, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = cluster.get("/api/v1/checkpoint")
        if r.status == 200 and body_of(r.body.decode())[0] >= size:
            return r.body.decode()
        time.sleep(0.05)
    raise AssertionError("no checkpoint of size %d" % size)


def log_size(cluster):
    return int(cluster.redis.get("log:{log}:size") or 0)


def run_server(cluster, timeout=20, **kw):
    """Run trace-server to its exit (it is expected to refuse to start)."""
    argv = cluster.server_argv(port=harness.free_port(), **kw)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def metric(cluster, name):
    for line in cluster.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise AssertionError("no metric " + name)


class Rollback(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster.start()

    def tearDown(self):
        self.c.stop()

    def enroll(self, n, prefix):
        for i in range(n):
            self.c.enroll(Key("%s%d" % (prefix, i)), "warehouse", prefixes=["880"])

    def test_rolled_back_redis_cannot_fork_the_log(self):
        c = self.c
        self.enroll(1, "a")
        harness.settle(c)
        note1 = wait_size(c, log_size(c))
        s1 = body_of(note1)[0]
        self.enroll(2, "b")
        harness.settle(c)
        s2 = log_size(c)
        note2 = wait_size(c, s2)
        self.assertEqual(body_of(note2)[0], s2)
        # Two entries and the index statement(s) after them (SPEC 11).
        statements = [i for i in harness.index_statements(c) if s1 <= i < s2]
        self.assertIn(s2 - 1, statements)
        self.assertEqual(s2, s1 + 2 + len(statements))
        signed_before = {body_of(n) for n in c.redis.hvals("log:{log}:checkpoints")
                         for n in [n.decode()]}
        signed_before.add(body_of(note2))
        self.assertIn(body_of(note1), signed_before)
        refusals0 = metric(c, "trace_log_checkpoint_refusals_total")

        # Whoever holds the Redis password rolls the log back to note1,
        # the lot index's count of covered leaves with it ...
        r = c.redis
        r.set("log:{log}:checkpoint", note1)
        r.set("log:{log}:integrated", s1)
        r.set("log:{log}:size", s1)
        r.hset("log:{log}:lx:meta", "through", s1)
        r.delete("log:{log}:pending")
        for size in r.hkeys("log:{log}:checkpoints"):
            if int(size) > s1:
                r.hdel("log:{log}:checkpoints", size)
        # ... and new statements take the indexes of the old ones: first a
        # tree smaller than note2, then one of more leaves but another root
        # (each followed by its index statement).
        self.enroll(1, "c")
        time.sleep(1.0)
        self.enroll(2, "d")
        deadline = time.time() + 5
        while time.time() < deadline and r.llen("log:{log}:pending") > 0:
            time.sleep(0.05)
        time.sleep(0.5)
        final = log_size(c)
        self.assertGreater(final, s2)

        seen = set()
        deadline = time.time() + 4
        while time.time() < deadline:
            seen.add(body_of(checkpoints_served(c)))
            time.sleep(0.1)
        seen |= {body_of(n.decode()) for n in r.hvals("log:{log}:checkpoints")}
        seen.add(body_of(r.get("log:{log}:checkpoint").decode()))
        # Nothing the key signed after the rollback: every checkpoint is
        # one of those it had signed before, all consistent with note2.
        self.assertTrue(seen <= signed_before, (seen - signed_before))
        self.assertEqual(body_of(checkpoints_served(c)), body_of(note1))
        # The mark still holds note2.
        with open(os.path.join(c.log_state, "checkpoint")) as f:
            self.assertEqual(f.read(), note2)
        # The refusal is reported; the server still serves and ingests.
        self.assertGreater(metric(c, "trace_log_checkpoint_refusals_total"), refusals0)
        ready = c.get("/readyz")
        self.assertEqual(ready.status, 200)
        text = ready.body.decode()
        self.assertTrue(text.startswith("ready\n"), text)
        self.assertIn("log: refusing to sign size %d" % final, text)
        self.assertIn("does not reproduce the root of checkpoint %d" % s2, text)
        with open(os.path.join(c.dir, "server.log")) as f:
            self.assertIn("refusing to sign size", f.read())


class StartUp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster.start()
        cls.c.enroll(Key("w0"), "warehouse", prefixes=["880"])
        cls.note = wait_size(cls.c, log_size(cls.c))

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def test_1_second_signer_on_the_same_state_refuses(self):
        r = run_server(self.c)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("is locked: another trace-server signs", r.stderr)

    def test_2_log_key_without_log_state_is_a_usage_error(self):
        r = run_server(self.c, log_state="")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("needs --log-state DIR", r.stderr)
        pub = self.c.log_key_path[:-len(".key")] + ".pub"
        r = run_server(self.c, log_key=pub)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--log-key must be the private LOG.key", r.stderr)

    def test_3_public_key_serves_without_signing(self):
        c = self.c
        pub = c.log_key_path[:-len(".key")] + ".pub"
        port = harness.free_port()
        p = subprocess.Popen(c.server_argv(port=port, log_key=pub, log_state=""),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            harness.wait_port(port, proc=p)
            signed = metric(c, "trace_log_checkpoints_signed_total")
            import http.client
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/v1/checkpoint")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.read().decode(), checkpoints_served(c))
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
            self.assertIn("trace_log_checkpoints_signed_total 0\n", text)
            conn.close()
            self.assertGreaterEqual(metric(c, "trace_log_checkpoints_signed_total"), signed)
        finally:
            p.terminate()
            p.wait(10)

    def test_4_missing_state_refuses_then_init_adopts(self):
        c = self.c
        c.stop_server()
        path = os.path.join(c.log_state, "checkpoint")
        with open(path) as f:
            self.assertEqual(f.read(), self.note)
        os.unlink(path)
        r = run_server(c)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Redis holds a log of", r.stderr)
        self.assertIn("--log-state-init", r.stderr)
        self.assertFalse(os.path.exists(path))
        # A state file that is not a checkpoint of this key stops it too.
        with open(path, "w") as f:
            f.write(self.note.replace("\n\n", "\nx\n\n"))
        r = run_server(c)
        self.assertEqual(r.returncode, 1, r.stderr)
        # The reason, once: wrapping err->message in itself used to print
        # the prefix twice and then stack bytes (trace_error_set).
        self.assertIn("is not a checkpoint signed by the log key: the "
                      "signature by trace.test/log does not verify\n",
                      r.stderr)
        self.assertEqual(r.stderr.count("is not a checkpoint signed"), 1,
                         r.stderr)
        os.unlink(path)
        # --log-state-init adopts Redis's checkpoint after checking it.
        c.start_server(["--log-state-init"])
        with open(path) as f:
            self.assertEqual(f.read(), self.note)
        # And signing goes on from there.
        c.enroll(Key("w1"), "warehouse", prefixes=["880"])
        wait_size(c, log_size(c))
        with open(path) as f:
            self.assertEqual(body_of(f.read())[0], log_size(c))


if __name__ == "__main__":
    unittest.main()
