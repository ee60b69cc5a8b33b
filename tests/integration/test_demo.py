"""`make run`'s demo (deploy/run-demo.sh) as a user meets it: started in a
new, empty folder on free ports, it seeds both demo lots, prints the URLs,
serves pages that say what the seed did (a genuine unit with a pass, a
recalled lot), its bundles verify against its witness policy with
trace-agent, and SIGTERM stops every process it started.

The seed's events are dated relative to today, so this test fails on the
day the demo stops fitting the server's own rules (it once dated a lot
32 days back, past the default --max-age of 30 days).
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness

RUN_DEMO = os.path.join(harness.ROOT, "deploy", "run-demo.sh")
GTIN1, LOT1 = "08801234567893", "SWS2611A"
GTIN2, LOT2 = "08809876543213", "GTS2609B"


def get(url, accept="text/html"):
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read().decode()


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.var = tempfile.mkdtemp(prefix="trace-demo-")
        cls.port = harness.free_port()
        ports = "%d %d" % (harness.free_port(), harness.free_port())
        cls.base = "http://127.0.0.1:%d" % cls.port
        env = dict(os.environ, TRACE_DEMO_VAR=cls.var,
                   TRACE_LISTEN="127.0.0.1:%d" % cls.port,
                   TRACE_WITNESS_PORTS=ports, TRACE_LOG_LEVEL="warn")
        cls.out = open(os.path.join(cls.var, "run-demo.out"), "w+")
        cls.proc = subprocess.Popen(["bash", RUN_DEMO, harness.BUILD], env=env,
                                    stdout=cls.out, stderr=subprocess.STDOUT,
                                    cwd=harness.ROOT, start_new_session=True)
        deadline = time.time() + 180
        while time.time() < deadline and cls.proc.poll() is None:
            if "Trace is running" in cls.output():
                break
            time.sleep(0.5)
        cls.printed = cls.output()

    @classmethod
    def output(cls):
        cls.out.flush()
        with open(cls.out.name) as f:
            return f.read()

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            os.killpg(cls.proc.pid, signal.SIGKILL)
            cls.proc.wait()
        cls.out.close()
        if not os.environ.get("TRACE_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.var, ignore_errors=True)

    def test_1_seeds_and_prints_the_urls(self):
        self.assertIsNone(self.proc.poll(), "run-demo.sh exited:\n" + self.printed[-3000:])
        self.assertIn("Trace is running", self.printed, self.printed[-3000:])
        self.assertNotIn("stays queued", self.printed)
        self.assertIn("%s/01/%s/10/%s/21/000123" % (self.base, GTIN1, LOT1), self.printed)

    def test_2_pages_say_what_the_seed_did(self):
        status, page = get("%s/01/%s/10/%s/21/000123?lang=en" % (self.base, GTIN1, LOT1))
        self.assertEqual(status, 200)
        self.assertIn("Sulwhasoo", page)
        self.assertNotIn('class="recall', page)
        # The demo's witnesses by their display names (--witness-display).
        self.assertRegex(page, r'cosigned by the witnesses (Weihai Customs|CCIC Korea), '
                         r'(Weihai Customs|CCIC Korea) \(')
        status, page = get("%s/01/%s/10/%s/21/000042?lang=en" % (self.base, GTIN2, LOT2))
        self.assertEqual(status, 200)
        self.assertIn("Green Tea Seed Serum", page)
        self.assertIn("Retained samples exceed the microbial limit", page)

    def test_3_bundles_verify_against_the_witness_policy(self):
        policy = os.path.join(self.var, "demo", "witnesses.policy")
        root = os.path.join(self.var, "demo", "keys", "root.pub")
        for gtin, lot in ((GTIN1, LOT1), (GTIN2, LOT2)):
            status, body = get("%s/api/v1/bundles/01/%s/10/%s" % (self.base, gtin, lot),
                               accept="application/json")
            self.assertEqual(status, 200)
            path = os.path.join(self.var, "bundle-%s.json" % lot)
            with open(path, "w") as f:
                f.write(body)
            # The integrator may still be logging the seed's last
            # statements, so the second bundle's checkpoint can be larger
            # than the first: --server lets the agent fetch the
            # consistency proof its memory (--state) demands.
            r = subprocess.run([harness.AGENT, "verify", path, "--root", root,
                                "--policy", policy, "--server", self.base,
                                "--state", os.path.join(self.var, "agent-state")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_4_sigterm_stops_everything(self):
        pids = set()
        for name in ("trace-server", "trace-witness", "redis-server"):
            r = subprocess.run(["pgrep", "-s", str(self.proc.pid), "-f", name],
                               capture_output=True, text=True)
            pids |= {int(p) for p in r.stdout.split()}
        self.assertGreaterEqual(len(pids), 4, "server, two witnesses, redis")
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.assertEqual(self.proc.wait(30), 0)
        deadline = time.time() + 10
        while time.time() < deadline and any(os.path.exists("/proc/%d" % p) for p in pids):
            time.sleep(0.2)
        alive = [p for p in pids if os.path.exists("/proc/%d" % p)]
        self.assertEqual(alive, [])


if __name__ == "__main__":
    unittest.main()
