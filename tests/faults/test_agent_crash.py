"""trace-agent killed at every arrival at every crash point.

TRACE_AGENT_CRASH_AT=STEP:N makes the agent SIGKILL itself at the N-th
arrival at STEP.  For each scenario below and each step, N counts up from
1 until the agent no longer dies (the step is not reached N times): every
reachable (step, N) is one injected fault.  After each crash: every queue
entry left on disk is whole JSON; then a plain `trace-agent send` (and,
for an import that died before it was committed, the import once more)
leaves the queue empty, nothing rejected, and the chain holds exactly the
expected events, each once, in order, contiguous and linked.

Scenarios: `record` of one event; `send` of three drafts; `send` of two
entries whose first was signed on a head that has moved since (409,
rebase); `import` of a three-row CSV file (staging, commit, send).
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

import faultlib
from faultlib import GTIN, figure
import harness
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id

STEPS = ("queued", "signed", "stored", "posted", "conflict",
         "import-staged", "import-moving", "import-queued")
N_MAX = 8
cluster = None
brand = None
keyfile = None
inspector = None
tmp = None
counts = dict(faults=0, runs=0, expected=0, found=0)


def setUpModule():
    global cluster, brand, keyfile, inspector, tmp
    cluster = harness.Cluster.start()
    tmp = tempfile.mkdtemp(prefix="trace-agent-crash-")
    brand, inspector = Key("brand"), Key("agent-inspector")
    cluster.enroll(brand, "brand", prefixes=["880"])
    cluster.enroll(inspector, "inspector", prefixes=["880"])
    keyfile = inspector.write(tmp)[0]


def tearDownModule():
    cluster.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def agent(*args, queue, server=True, crash=None, timeout=120):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRACE_SERVER", "TRACE_QUEUE", "TRACE_AGENT_CRASH_AT")}
    env["TRACE_QUEUE"] = queue
    if server:
        env["TRACE_SERVER"] = cluster.public_url
    if crash:
        env["TRACE_AGENT_CRASH_AT"] = crash
    counts["runs"] += 1
    return subprocess.run([harness.AGENT] + [str(a) for a in args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def record_args(lot, cert):
    return ("record", "--key", keyfile, "--type", "inspection.completed", "--gtin", GTIN,
            "--lot", lot, "--set", "certificate=" + cert, "--set", "result=pass")


def certificates(lot):
    events = faultlib.get_chain(cluster, lot)
    faultlib.check_chain(events, lot)
    return [e["payload"]["data"].get("certificate") for e in events[1:]]


def entries(queue):
    if not os.path.isdir(queue):
        return []
    return sorted(f for f in os.listdir(queue) if f.endswith(".json"))


class Scenario:
    """A fresh chain (registered) and a fresh queue."""
    serial = 0

    def __init__(self, name):
        Scenario.serial += 1
        self.lot = "AC%d" % Scenario.serial
        self.queue = os.path.join(tmp, "q%d" % Scenario.serial)
        self.name = name
        env = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN,
                                                   self.lot, 0, None, REGISTERED))
        r = cluster.post("/api/v1/events", env)
        assert r.status == 201, r
        self.head = statement_id(env)


class AgentCrash(unittest.TestCase):
    def prepare(self, kind, sc):
        """Set the scenario up; return (argv of the run to crash, expected
        certificates in chain order)."""
        if kind == "record":
            return record_args(sc.lot, "C-R"), ["C-R"]
        if kind == "send":
            certs = ["C-S%d" % i for i in range(3)]
            for c in certs:   # no server configured: drafts only
                r = agent(*record_args(sc.lot, c), queue=sc.queue, server=False)
                self.assertEqual(r.returncode, 0, r.stderr)
            return ("send",), certs
        if kind == "rebase":
            # Signed on head seq 0 and stored, never posted...
            r = agent(*record_args(sc.lot, "C-MINE"), queue=sc.queue, crash="stored")
            self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
            r = agent(*record_args(sc.lot, "C-NEXT"), queue=sc.queue, server=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            # ...meanwhile someone else takes seq 1.
            other = inspector.sign(TYPE_EVENT, event_payload(
                inspector, "inspection.completed", GTIN, sc.lot, 1, sc.head,
                {"certificate": "C-OTHER", "result": "pass"}))
            r = cluster.post("/api/v1/events", other)
            self.assertEqual(r.status, 201, r)
            return ("send",), ["C-OTHER", "C-MINE", "C-NEXT"]
        if kind == "import":
            certs = ["C-I%d" % i for i in range(3)]
            path = os.path.join(tmp, "%s.csv" % sc.lot)
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["type", "gtin", "lot", "data.certificate", "data.result"])
                for c in certs:
                    w.writerow(["inspection.completed", GTIN, sc.lot, c, "pass"])
            sc.csv = path
            return ("import", "--key", keyfile, path), certs
        raise ValueError(kind)

    def recover(self, kind, sc, expected):
        for name in entries(sc.queue):   # whole JSON, never half a file
            with open(os.path.join(sc.queue, name)) as f:
                json.load(f)
        r = agent("send", queue=sc.queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        if kind == "import" and certificates(sc.lot) == [] and entries(sc.queue) == []:
            # Died before the import was committed: it never happened,
            # so importing the file again is allowed and needed.
            r = agent("import", "--key", keyfile, sc.csv, queue=sc.queue)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(entries(sc.queue), [])
        rejected = os.path.join(sc.queue, "rejected")
        self.assertEqual(os.listdir(rejected) if os.path.isdir(rejected) else [], [])
        found = certificates(sc.lot)
        counts["expected"] += len(expected)
        counts["found"] += len(found)
        self.assertEqual(found, expected)

    def sweep(self, kind, steps):
        reached = {}
        for step in steps:
            for n in range(1, N_MAX + 1):
                sc = Scenario(kind)
                argv, expected = self.prepare(kind, sc)
                r = agent(*argv, queue=sc.queue, crash="%s:%d" % (step, n))
                if r.returncode != -signal.SIGKILL:
                    # Not reached n times: the run went through normally.
                    self.assertEqual(r.returncode, 0, (kind, step, n, r.stderr))
                    self.assertEqual(entries(sc.queue), [])
                    self.assertEqual(certificates(sc.lot), expected)
                    break
                counts["faults"] += 1
                reached[step] = n
                with self.subTest(kind=kind, step=step, n=n):
                    self.recover(kind, sc, expected)
            else:
                self.fail("%s still reached %d times" % (step, N_MAX))
        print("%s: crashed at %s" % (kind, ", ".join("%s x%d" % kv for kv in reached.items())),
              flush=True)
        return reached

    def test_record(self):
        reached = self.sweep("record", STEPS[:5])
        self.assertEqual(set(reached), {"queued", "signed", "stored", "posted"})

    def test_send(self):
        reached = self.sweep("send", STEPS[1:5])
        self.assertEqual(reached, {"signed": 3, "stored": 3, "posted": 3})

    def test_send_rebase(self):
        reached = self.sweep("rebase", STEPS[1:5])
        self.assertEqual(reached, {"signed": 2, "stored": 2, "posted": 2, "conflict": 1})

    def test_import(self):
        reached = self.sweep("import", STEPS[1:])
        self.assertEqual(reached["import-moving"], 3)
        self.assertIn("import-staged", reached)
        self.assertIn("import-queued", reached)
        self.assertEqual(reached["posted"], 3)

    @classmethod
    def tearDownClass(cls):
        figure("faults.agent_crash", faults=counts["faults"], agent_runs=counts["runs"],
               events_expected=counts["expected"], events_found=counts["found"])


if __name__ == "__main__":
    unittest.main()
