"""Resubmission and rebase (docs/PROTOCOL.md, "Resubmission" and
"trace-agent send") against a real redis-server and trace-server with real
signatures:

- the server answers 200 to an accepted statement sent again before any
  other rule: after its signer was revoked, after the chain moved on and a
  recall opened, alone and in a batch;
- two agents race on one lot: agent B's queued statements are rebased on
  A's, keep type, time, where and data, and the queued correction or
  recall close that names B's first statement follows it to its new id;
- B does not rebase over a recall, a correction or a failed inspection it
  has not seen: it exits 4 naming the statement, its queue stays byte for
  byte what it was, and `send --seen ID` then goes through;
- ids are printed only for accepted statements, never provisional ones;
- a statement refused for its time stays queued with the error shown.

B's first statement is signed on the old head and never posted by killing
the agent at its "stored" step (TRACE_AGENT_CRASH_AT, trace-agent/main.c).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, event_payload,
                     revoke_payload, statement_id)

GTIN = "08801234567893"
AGENT = harness.AGENT
cluster = None
keys = {}        # role name -> Key
key_files = {}   # role name -> path of its .key file


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    folder = os.path.join(cluster.dir, "rebase-keys")
    os.makedirs(folder)
    for name, role in (("brand", "brand"), ("inspector-a", "inspector"),
                       ("inspector-b", "inspector"), ("importer-a", "importer"),
                       ("importer-b", "importer"), ("regulator", "regulator")):
        k = Key("rebase-" + name)
        cluster.enroll(k, role, org="Org " + name, prefixes=["880"])
        keys[name] = k
        key_files[name] = k.write(folder)[0]


def tearDownModule():
    cluster.stop()


def agent(*args, queue, server=None, env=None, stdin=None):
    e = {k: v for k, v in os.environ.items()
         if k not in ("TRACE_SERVER", "TRACE_QUEUE", "TRACE_AGENT_CRASH_AT")}
    e["TRACE_QUEUE"] = queue
    e["TRACE_SERVER"] = server or cluster.public_url
    e.update(env or {})
    return subprocess.run([AGENT] + [str(a) for a in args], capture_output=True,
                          text=True, env=e, timeout=300, input=stdin)


def dead_server():
    return "http://127.0.0.1:%d" % harness.free_port()


def chain(lot):
    return cluster.chain_events("/api/v1/chains/01/%s/10/%s" % (GTIN, lot)) or []


def queue_files(queue):
    """{name: bytes} of the entries waiting in a queue folder."""
    out = {}
    for f in sorted(os.listdir(queue)):
        if f.endswith(".json"):
            with open(os.path.join(queue, f), "rb") as fh:
                out[f] = fh.read()
    return out


def queued_ids(queue):
    """The current (provisional) id of each signed entry, in queue order."""
    return [json.loads(b).get("id") for b in queue_files(queue).values()]


def post_event(key, etype, lot, data):
    """Append one event on the chain's current head; its envelope."""
    events = chain(lot)
    env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, lot, len(events),
                                             events[-1]["id"] if events else None,
                                             data))
    r = cluster.post("/api/v1/events", env)
    assert r.status == 201, r
    return env


class Resubmission(unittest.TestCase):
    """SPEC 8: an accepted statement sent again answers 200 before any
    other rule, whatever changed since."""

    def test_after_the_signer_was_revoked(self):
        lot = "RESUB-REV"
        post_event(keys["brand"], "product.registered", lot, REGISTERED)
        k = Key("rebase-soon-revoked")
        cluster.enroll(k, "inspector", org="Org inspector-a", prefixes=["880"])
        env = post_event(k, "inspection.completed", lot,
                         {"certificate": "C-REV", "result": "pass"})
        first = cluster.get("/api/v1/events/" + statement_id(env)).json()
        r = cluster.post("/api/v1/keys", cluster.root.sign(
            TYPE_KEY, revoke_payload(cluster.root, k.keyid)))
        self.assertEqual(r.status, 201, r)
        # A new statement by the key is refused ...
        fresh = k.sign(TYPE_EVENT, event_payload(
            k, "inspection.completed", GTIN, lot, 2, statement_id(env),
            {"certificate": "C-REV-2", "result": "pass"}))
        r = cluster.post("/api/v1/events", fresh)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"]["code"], "key_revoked")
        # ... the accepted one is answered as accepted, alone and in a batch.
        r = cluster.post("/api/v1/events", env)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"id": statement_id(env), "seq": 1,
                                    "logIndex": first["logIndex"]})
        r = cluster.post("/api/v1/events", [env, fresh])
        self.assertEqual(r.status, 200, r)
        results = r.json()["results"]
        self.assertEqual([x["status"] for x in results], [200, 403], results)
        self.assertEqual(results[0]["id"], statement_id(env))
        self.assertEqual(len(chain(lot)), 2)

    def test_after_the_chain_moved_and_a_recall_opened(self):
        lot = "RESUB-MOVED"
        post_event(keys["brand"], "product.registered", lot, REGISTERED)
        env = post_event(keys["inspector-a"], "inspection.completed", lot,
                         {"certificate": "C-1", "result": "pass"})
        fix = post_event(keys["inspector-a"], "correction", lot,
                         {"corrects": statement_id(env), "reason": "typo"})
        post_event(keys["importer-a"], "recall.issued", lot,
                   {"reason": "r", "severity": 1, "action": "a"})
        for old, seq in ((env, 1), (fix, 2)):
            r = cluster.post("/api/v1/events", old)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["seq"], seq)
        self.assertEqual(len(chain(lot)), 4)

    def test_same_payload_with_a_bad_signature_is_not_a_resubmission(self):
        lot = "RESUB-SIG"
        env = post_event(keys["brand"], "product.registered", lot, REGISTERED)
        forged = dict(env, signatures=[{
            "keyid": keys["brand"].keyid,
            "sig": keys["importer-a"].sign(TYPE_EVENT, b"x")["signatures"][0]["sig"]}])
        r = cluster.post("/api/v1/events", forged)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["error"]["code"], "bad_signature")


class Rebase(unittest.TestCase):
    _lots = 0

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trace-rebase-test-")
        self.a = os.path.join(self.dir, "queue-a")
        self.b = os.path.join(self.dir, "queue-b")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_lot(self):
        Rebase._lots += 1
        lot = "REBASE%d" % Rebase._lots
        post_event(keys["brand"], "product.registered", lot, REGISTERED)
        return lot

    def record(self, who, queue, lot, etype, *sets, server=None, env=None,
               extra=()):
        args = ["record", "--key", key_files[who], "--type", etype,
                "--gtin", GTIN, "--lot", lot] + list(extra)
        for s in sets:
            args += ["--set", s]
        return agent(*args, queue=queue, server=server, env=env)

    def signed_on_old_head(self, who, lot, etype, *sets, **kw):
        """B's statement: signed on the head of now and stored, never
        posted (the agent is killed at "stored"); its provisional id."""
        r = self.record(who, self.b, lot, etype, *sets,
                        env={"TRACE_AGENT_CRASH_AT": "stored"}, **kw)
        self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
        self.assertEqual(r.stdout, "")      # no provisional id printed
        return queued_ids(self.b)[-1]

    def queue_offline(self, who, lot, etype, *sets):
        r = self.record(who, self.b, lot, etype, *sets, server=dead_server())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("queued", r.stderr)

    def interleave(self, who, lot, etype, *sets):
        """A's statement, accepted; its id."""
        r = self.record(who, self.a, lot, etype, *sets)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def test_queued_correction_follows_its_target(self):
        lot = self.new_lot()
        where = ["--country", "KR", "--place", "Incheon lab",
                 "--time", "2026-11-20T08:30:00+09:00"]
        provisional = self.signed_on_old_head(
            "inspector-b", lot, "inspection.completed", "certificate=C-B",
            "result=pass", "items=[{\"name\":\"Pb\",\"value\":\"0.1\"}]",
            extra=where)
        self.queue_offline("inspector-b", lot, "correction",
                           "corrects=" + provisional, "reason=wrong certificate")
        theirs = self.interleave("inspector-a", lot, "inspection.completed",
                                 "certificate=C-A", "result=pass")
        before = chain(lot)
        r = agent("send", queue=self.b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rebased", r.stderr)
        events = chain(lot)
        self.assertEqual([e["id"] for e in events[:2]], [e["id"] for e in before])
        self.assertEqual(events[1]["id"], theirs)
        mine, fix = events[2], events[3]
        # Rebased: new seq and prev, same type, time, where and data.
        self.assertNotEqual(mine["id"], provisional)
        self.assertEqual(mine["payload"]["seq"], 2)
        self.assertEqual(mine["payload"]["prev"], theirs)
        self.assertEqual(mine["payload"]["type"], "inspection.completed")
        self.assertEqual(mine["payload"]["time"], "2026-11-20T08:30:00+09:00")
        self.assertEqual(mine["payload"]["where"],
                         {"country": "KR", "place": "Incheon lab"})
        self.assertEqual(mine["payload"]["data"],
                         {"certificate": "C-B", "result": "pass",
                          "items": [{"name": "Pb", "value": "0.1"}]})
        self.assertEqual(mine["payload"]["signer"], keys["inspector-b"].keyid)
        # The queued correction names the accepted statement, not the old id.
        self.assertEqual(fix["payload"]["type"], "correction")
        self.assertEqual(fix["payload"]["data"]["corrects"], mine["id"])
        # Only accepted ids are printed, in order; never the provisional one.
        self.assertEqual(r.stdout.split(), [mine["id"], fix["id"]])
        self.assertNotIn(provisional, r.stdout + r.stderr)
        self.assertEqual(queue_files(self.b), {})

    def test_queued_recall_close_follows_its_recall(self):
        lot = self.new_lot()
        provisional = self.signed_on_old_head(
            "importer-b", lot, "recall.issued", "reason=label", "severity=3",
            "action=Return it")
        self.queue_offline("importer-b", lot, "recall.closed",
                           "recall=" + provisional, "outcome=released")
        self.interleave("inspector-a", lot, "inspection.completed",
                        "certificate=C-A", "result=pass")
        r = agent("send", queue=self.b)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = chain(lot)
        recall, close = events[2], events[3]
        self.assertEqual(recall["payload"]["type"], "recall.issued")
        self.assertNotEqual(recall["id"], provisional)
        self.assertEqual(close["payload"]["data"]["recall"], recall["id"])
        self.assertEqual(r.stdout.split(), [recall["id"], close["id"]])
        rows = cluster.get("/api/v1/recalls?gtin=%s&lot=%s" % (GTIN, lot)).json()["recalls"]
        self.assertEqual([(x["id"], x["status"], x["closedBy"]) for x in rows],
                         [(recall["id"], "closed", close["id"])])

    def test_reference_rewrite_survives_a_kill(self):
        """Killed after the rebase was stored, before the reference was
        rewritten: the next send repairs it before posting anything."""
        lot = self.new_lot()
        provisional = self.signed_on_old_head(
            "inspector-b", lot, "inspection.completed", "certificate=C-B",
            "result=pass")
        self.queue_offline("inspector-b", lot, "correction",
                           "corrects=" + provisional, "reason=typo")
        self.interleave("inspector-a", lot, "inspection.completed",
                        "certificate=C-A", "result=pass")
        r = agent("send", queue=self.b,
                  env={"TRACE_AGENT_CRASH_AT": "reference-rewritten"})
        self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
        r = agent("send", queue=self.b)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = chain(lot)
        self.assertEqual(len(events), 4)
        self.assertEqual(events[3]["payload"]["data"]["corrects"], events[2]["id"])

    def held(self, lot, who, etype, *sets):
        """B has two statements queued; A appends etype; B's send stops."""
        provisional = self.signed_on_old_head(
            "inspector-b", lot, "inspection.completed", "certificate=C-B1",
            "result=pass")
        self.queue_offline("inspector-b", lot, "inspection.completed",
                           "certificate=C-B2", "result=pass")
        theirs = self.interleave(who, lot, etype, *sets)
        files = queue_files(self.b)
        length = len(chain(lot))
        r = agent("send", queue=self.b)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(etype, r.stderr)
        self.assertIn(theirs, r.stderr)
        self.assertIn(keys[who].keyid, r.stderr)
        self.assertIn("--seen " + theirs, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertNotIn(provisional, r.stderr)
        # Nothing rebased, nothing sent, not a byte of the queue changed.
        self.assertEqual(queue_files(self.b), files)
        self.assertEqual(len(chain(lot)), length)
        # record on that chain is held as well, and queues its event.
        r = self.record("inspector-b", self.b, lot, "inspection.sampled", "samples=2")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(queue_files(self.b)), 3)
        self.assertEqual(len(chain(lot)), length)
        # Seen: rebased over it, in order, ids printed once accepted.
        r = agent("send", "--seen", theirs, queue=self.b)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = chain(lot)
        self.assertEqual(events[length - 1]["id"], theirs)
        mine = events[length:]
        self.assertEqual([e["payload"]["type"] for e in mine],
                         ["inspection.completed", "inspection.completed",
                          "inspection.sampled"])
        self.assertEqual([e["payload"]["data"].get("certificate") for e in mine[:2]],
                         ["C-B1", "C-B2"])
        self.assertEqual(r.stdout.split(), [e["id"] for e in mine])
        self.assertEqual(queue_files(self.b), {})

    def test_held_by_a_recall(self):
        self.held(self.new_lot(), "importer-a", "recall.issued", "reason=r",
                  "severity=1", "action=Stop using it")

    def test_held_by_a_recall_past_the_first_page(self):
        """The chain JSON comes in pages of 100 by default (PROTOCOL
        11.6): on a chain of 150, the recall that moved it is on the
        second page, and send still finds it and holds."""
        lot = self.new_lot()
        envs, prev = [], chain(lot)[-1]["id"]
        for seq in range(1, 150):
            k = keys["inspector-a"]
            env = k.sign(TYPE_EVENT, event_payload(k, "inspection.sampled", GTIN, lot,
                                                   seq, prev, {"samples": seq}))
            envs.append(env)
            prev = statement_id(env)
        r = cluster.post("/api/v1/events", envs)
        self.assertEqual([x["status"] for x in r.json()["results"]], [201] * 149)
        self.held(lot, "importer-a", "recall.issued", "reason=r", "severity=1",
                  "action=Stop using it")

    def test_held_by_a_fail(self):
        self.held(self.new_lot(), "inspector-a", "inspection.completed",
                  "certificate=C-A-FAIL", "result=fail")

    def test_held_by_a_correction(self):
        lot = self.new_lot()
        target = self.interleave("inspector-a", lot, "inspection.completed",
                                 "certificate=C-A", "result=pass")
        self.held(lot, "inspector-a", "correction", "corrects=" + target,
                  "reason=wrong lot")

    def test_held_by_a_recall_close(self):
        lot = self.new_lot()
        recall = self.interleave("importer-a", lot, "recall.issued", "reason=r",
                                 "severity=2", "action=a")
        self.held(lot, "importer-a", "recall.closed", "recall=" + recall,
                  "outcome=released")

    def test_seen_names_one_statement_only(self):
        """--seen for one statement does not cover a second one."""
        lot = self.new_lot()
        self.signed_on_old_head("inspector-b", lot, "inspection.completed",
                                "certificate=C-B", "result=pass")
        first = self.interleave("inspector-a", lot, "inspection.completed",
                                "certificate=F-1", "result=fail")
        second = self.interleave("importer-a", lot, "recall.issued", "reason=r",
                                 "severity=1", "action=a")
        r = agent("send", "--seen", first, queue=self.b)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(second, r.stderr)
        self.assertNotIn("--seen " + first, r.stderr)
        r = agent("send", "--seen", first, "--seen", second, queue=self.b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(chain(lot)), 4)

    def test_bad_seen_is_usage(self):
        r = agent("send", "--seen", "abc", queue=self.b)
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_routine_statements_do_not_hold(self):
        lot = self.new_lot()
        self.signed_on_old_head("inspector-b", lot, "inspection.completed",
                                "certificate=C-B", "result=pass")
        self.interleave("inspector-a", lot, "inspection.sampled", "samples=3")
        self.interleave("inspector-a", lot, "inspection.completed",
                        "certificate=C-A", "result=pass")
        r = agent("send", queue=self.b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(chain(lot)), 4)

    def test_refused_for_its_time_stays_queued(self):
        lot = self.new_lot()
        r = self.record("inspector-b", self.b, lot, "inspection.completed",
                        "certificate=C-LATE", "result=pass",
                        extra=["--time", "2099-01-01T00:00:00Z"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("stale_time", r.stderr)
        self.assertIn("stays queued", r.stderr)
        files = queue_files(self.b)
        self.assertEqual(len(files), 1)
        rejected = os.path.join(self.b, "rejected")
        self.assertEqual(os.listdir(rejected) if os.path.isdir(rejected) else [], [])
        r = agent("send", queue=self.b)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("stale_time", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(queue_files(self.b), files)
        self.assertEqual(len(chain(lot)), 1)


if __name__ == "__main__":
    unittest.main()
