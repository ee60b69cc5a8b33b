"""trace-agent's memory of each log (SPEC 10, docs/PROTOCOL.md 10.3.1)
against a real trace-server: the largest verified checkpoint per log is
kept in --state DIR, every later verify demands a consistency proof from
it, and a fork or a rollback exits 1 with both signed checkpoints in an
evidence file whose path the report prints.

- a growing log: remembered, then replaced by the larger tree;
- a rollback: a "server" (here a replay of an earlier genuine bundle)
  answering with a smaller tree fails, even though every signature in it
  is genuine; the memory is unchanged;
- forks: a checkpoint the log key signed for another tree of the same
  size, and one of a smaller size whose consistency proof cannot verify;
- a bundle file older than the memory passes (a prefix, proved), and
  without a server to prove it does not;
- --no-state remembers nothing; verifies at once keep the largest tree.

Run: make build/trace-server build/trace-agent &&
     cd tests/integration && /usr/bin/python3 -m unittest test_memory -v
"""
import base64
import glob
import http.server
import json
import os
import re
import subprocess
import tempfile
import threading
import unittest

import harness
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id

AGENT = harness.AGENT
GTIN = "08801234567893"
cluster = None


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()


def tearDownModule():
    cluster.stop()


def read(path):
    with open(path) as f:
        return f.read()


class Replay(http.server.ThreadingHTTPServer):
    """A server that answers every bundle request with one fixed bundle
    and relays proofs to the real server: a log operator replaying an
    older genuine answer."""


def replay_server(bundle):
    body = json.dumps(bundle).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/api/v1/bundles/"):
                data, status = body, 200
            else:
                r = cluster.get(self.path)
                data, status = r.body, r.status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    srv = Replay(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Memory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.vkey = cluster.get("/api/v1/log").json()["vkey"]
        cls.brand, cls.insp = Key("mbrand"), Key("minsp")
        cluster.enroll(cls.brand, "brand", prefixes=["880"])
        cluster.enroll(cls.insp, "inspector", prefixes=["880"])
        with open(cluster.log_key_path) as f:
            secret = base64.b64decode(json.load(f)["secret"])
        import nacl.signing
        cls.log_signing = nacl.signing.SigningKey(secret[:32])
        cls.origin, cls.key_hash = cls.vkey.split("+")[0], cls.vkey.split("+")[1]

    def chain(self, lot, n):
        prev = None
        for seq in range(n):
            key, etype, data = ((self.brand, "product.registered", REGISTERED) if seq == 0 else
                                (self.insp, "inspection.completed",
                                 {"certificate": "C-%d" % seq, "result": "pass"}))
            env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, lot, seq, prev, data))
            self.assertIn(cluster.post("/api/v1/events", env).status, (200, 201))
            prev = statement_id(env)
        harness.settle(cluster)
        return cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, lot)).json()

    def verify(self, state, lot=None, file=None, server=None, extra=()):
        argv = [AGENT, "verify", "--root", cluster.root_pub, "--log-vkey", self.vkey]
        argv += ["--gtin", GTIN, "--lot", lot] if lot else [file]
        if server is not False:
            argv += ["--server", server or cluster.public_url]
        argv += ["--state", state] if state else []
        env = {k: v for k, v in os.environ.items() if k != "TRACE_SERVER"}
        return subprocess.run(argv + list(extra), capture_output=True, text=True,
                              timeout=60, env=env)

    def memory_file(self, state):
        files = [f for f in glob.glob(os.path.join(state, "logs", "*"))
                 if not f.endswith(".lock")]
        self.assertEqual(len(files), 1, files)
        self.assertTrue(os.path.exists(files[0] + ".lock"))
        self.assertTrue(files[0].endswith("+" + self.key_hash), files[0])
        return files[0]

    def sign(self, size, root):
        text = "%s\n%d\n%s\n" % (self.origin, size, base64.b64encode(root).decode())
        sig = self.log_signing.sign(text.encode()).signature
        return text + "\n\u2014 %s %s\n" % (self.origin, base64.b64encode(
            bytes.fromhex(self.key_hash) + sig).decode())

    def evidence(self, r, kind):
        m = re.search(r"FAIL  log memory: %s: .*in (\S+\.json)" % kind, r.stdout)
        self.assertIsNotNone(m, r.stdout)
        with open(m.group(1)) as f:
            doc = json.load(f)
        self.assertEqual(doc["kind"], kind)
        self.assertEqual(doc["origin"], self.origin)
        self.assertEqual(doc["vkey"], self.vkey)
        return doc

    def test_1_grows_then_remembers_the_larger_tree(self):
        state = tempfile.mkdtemp(dir=cluster.dir)
        self.chain("MEM1", 1)
        r = self.verify(state, lot="MEM1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok    log memory: first checkpoint of %s" % self.origin, r.stdout)
        first = read(self.memory_file(state))
        self.chain("MEM1b", 3)
        r = self.verify(state, lot="MEM1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"ok    log memory: size \d+ remembered is a prefix of "
                                   r"size \d+ \(consistency proof verified\)")
        now = read(self.memory_file(state))
        self.assertGreater(int(now.split("\n")[1]), int(first.split("\n")[1]))
        self.assertEqual(now, cluster.get("/api/v1/checkpoint").body.decode())
        self.assertEqual(oct(os.stat(self.memory_file(state)).st_mode & 0o777), "0o600")

    def test_2_rollback_is_caught(self):
        state = tempfile.mkdtemp(dir=cluster.dir)
        old = self.chain("MEM2", 1)
        self.chain("MEM2b", 2)
        self.assertEqual(self.verify(state, lot="MEM2").returncode, 0)
        remembered = read(self.memory_file(state))
        replay = replay_server(old)
        try:
            r = self.verify(state, lot="MEM2", server="http://127.0.0.1:%d" %
                            replay.server_address[1])
        finally:
            replay.shutdown()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("NOT VERIFIED: 1 problem", r.stdout)
        doc = self.evidence(r, "rollback")
        self.assertEqual(doc["remembered"]["note"], remembered)
        self.assertEqual(doc["presented"]["note"], old["checkpoint"])
        self.assertLess(doc["presented"]["size"], doc["remembered"]["size"])
        # The server's own proof that the older tree is a prefix: kept.
        self.assertTrue(doc["consistencyProof"])
        self.assertEqual(read(self.memory_file(state)), remembered)

    def test_2b_smaller_tree_that_is_no_prefix_is_a_fork(self):
        state = tempfile.mkdtemp(dir=cluster.dir)
        old = self.chain("MEM2F", 1)
        self.chain("MEM2Fb", 2)
        self.assertEqual(self.verify(state, lot="MEM2F").returncode, 0)
        size = int(old["checkpoint"].split("\n")[1])
        forged = dict(old, checkpoint=self.sign(size, os.urandom(32)))
        replay = replay_server(forged)
        try:
            r = self.verify(state, lot="MEM2F", server="http://127.0.0.1:%d" %
                            replay.server_address[1])
        finally:
            replay.shutdown()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        doc = self.evidence(r, "fork")
        self.assertEqual(doc["presented"]["note"], forged["checkpoint"])
        self.assertTrue(doc["consistencyProof"])

    def test_3_fork_of_the_same_size(self):
        state = tempfile.mkdtemp(dir=cluster.dir)
        b = self.chain("MEM3", 1)
        size = int(b["checkpoint"].split("\n")[1])
        forked = self.sign(size, os.urandom(32))
        os.makedirs(os.path.join(state, "logs"))
        path = os.path.join(state, "logs", self.origin.replace("/", "%2F") + "+" + self.key_hash)
        with open(path, "w") as f:
            f.write(forked)
        bundle = os.path.join(cluster.dir, "mem3.json")
        with open(bundle, "w") as f:
            json.dump(b, f)
        r = self.verify(state, file=bundle)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        doc = self.evidence(r, "fork")
        self.assertEqual(doc["remembered"]["note"], forked)
        self.assertEqual(doc["presented"]["note"], b["checkpoint"])
        self.assertEqual(read(path), forked)

    def test_4_fork_caught_by_the_consistency_proof(self):
        state = tempfile.mkdtemp(dir=cluster.dir)
        b = self.chain("MEM4", 1)
        size = int(b["checkpoint"].split("\n")[1])
        self.assertEqual(self.verify(state, lot="MEM4").returncode, 0)
        path = self.memory_file(state)
        with open(path, "w") as f:
            f.write(self.sign(size - 1, os.urandom(32)))
        self.chain("MEM4b", 1)
        r = self.verify(state, lot="MEM4")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        doc = self.evidence(r, "fork")
        self.assertTrue(doc["consistencyProof"])
        self.assertEqual(doc["remembered"]["size"], size - 1)

    def test_5_older_bundle_file(self):
        state = tempfile.mkdtemp(dir=cluster.dir)
        old = self.chain("MEM5", 1)
        self.chain("MEM5b", 2)
        self.assertEqual(self.verify(state, lot="MEM5").returncode, 0)
        remembered = read(self.memory_file(state))
        bundle = os.path.join(cluster.dir, "mem5.json")
        with open(bundle, "w") as f:
            json.dump(old, f)
        # SPEC 9: an older tree than the one remembered is STALE (exit 5),
        # never "verified": what was logged since is not in it.
        r = self.verify(state, file=bundle)
        self.assertEqual(r.returncode, 5, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"stale log memory: this bundle's size \d+ is a prefix")
        self.assertIn("STALE: ", r.stdout)
        self.assertIn("a larger tree of this log was verified before", r.stdout)
        # Without a server to prove it: not verified.
        r = self.verify(state, file=bundle, server=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("no consistency proof from the server: no server", r.stdout)
        self.assertEqual(read(self.memory_file(state)), remembered)

    def test_6_no_state(self):
        state = tempfile.mkdtemp(dir=cluster.dir)
        self.chain("MEM6", 1)
        r = self.verify(None, lot="MEM6", extra=["--no-state"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("log memory", r.stdout)
        r = self.verify(state, lot="MEM6", extra=["--no-state"])
        self.assertEqual(r.returncode, 2)
        # The default: $XDG_STATE_HOME/trace.
        env_state = tempfile.mkdtemp(dir=cluster.dir)
        env = dict(os.environ, XDG_STATE_HOME=env_state)
        env.pop("TRACE_SERVER", None)
        r = subprocess.run([AGENT, "verify", "--root", cluster.root_pub, "--log-vkey",
                            self.vkey, "--gtin", GTIN, "--lot", "MEM6", "--server",
                            cluster.public_url], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(glob.glob(os.path.join(env_state, "trace", "logs", "*+*[0-9a-f]"))), 1)

    def test_7_verifies_at_once(self):
        """Several verifies of one memory at once (flock): all pass, and
        the memory ends at the largest tree."""
        state = tempfile.mkdtemp(dir=cluster.dir)
        self.chain("MEM7", 1)
        self.assertEqual(self.verify(state, lot="MEM7").returncode, 0)
        self.chain("MEM7b", 2)
        env = {k: v for k, v in os.environ.items() if k != "TRACE_SERVER"}
        procs = [subprocess.Popen([AGENT, "verify", "--root", cluster.root_pub, "--log-vkey",
                                   self.vkey, "--gtin", GTIN, "--lot", "MEM7", "--server",
                                   cluster.public_url, "--state", state],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                 for _ in range(4)]
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, out.decode() + err.decode())
        self.assertEqual(read(self.memory_file(state)),
                         cluster.get("/api/v1/checkpoint").body.decode())


if __name__ == "__main__":
    unittest.main()
