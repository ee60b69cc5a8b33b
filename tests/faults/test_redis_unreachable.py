"""Redis unreachable: frozen (SIGSTOP) and gone (SIGKILL).

While Redis cannot answer, every request that needs the store gets 503
with Retry-After within a bound (trace-server's Redis timeouts: 1 s to
connect, 3 s per command, one reconnect), /readyz answers 503, /healthz
keeps answering, concurrent clients all get an answer, and no call needs
more than the client's timeout.  When Redis is back (SIGCONT, or a restart
on the same data), service resumes by itself - no restart of trace-server:
reads work, writes are accepted, the log integrator signs a new checkpoint
consistent with the old one - and a write that was answered 503 is safe to
resubmit (200 if it had been stored after all, else 201).
"""
import http.client
import signal
import threading
import time
import unittest

import faultlib
from faultlib import GTIN, call, figure
import harness
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id

# trace-server: connect 1 s + command 3 s, reconnect once, second attempt
# again up to 4 s; plus scheduling slack on a loaded 2-core machine.
BOUND = 12.0
CLIENT_TIMEOUT = 30.0
cluster = None
brand = inspector = None
faults = 0
answered_503 = 0


def setUpModule():
    global cluster, brand, inspector
    cluster = harness.Cluster.start()
    brand, inspector = Key("brand"), Key("inspector")
    cluster.enroll(brand, "brand", prefixes=["880"])
    cluster.enroll(inspector, "inspector", prefixes=["880"])


def tearDownModule():
    # Never leave a stopped redis-server behind.
    if cluster.redis_proc and cluster.redis_proc.poll() is None:
        cluster.redis_proc.send_signal(signal.SIGCONT)
    cluster.stop()


def new_chain(lot):
    env = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN, lot,
                                               0, None, REGISTERED))
    r = call(cluster.port, "POST", "/api/v1/events", env)
    assert r.status == 201, r
    return statement_id(env)


def next_event(lot, seq, prev, n):
    return inspector.sign(TYPE_EVENT, event_payload(
        inspector, "inspection.sampled", GTIN, lot, seq, prev, {"samples": n}))


LOTS = []


def concurrently(calls):
    """Run (method, path, body) calls at once; return answers in order."""
    answers = [None] * len(calls)

    def one(i, method, path, body):
        try:
            answers[i] = call(cluster.port, method, path, body, timeout=CLIENT_TIMEOUT)
        except (OSError, http.client.HTTPException) as e:
            answers[i] = e

    threads = [threading.Thread(target=one, args=(i,) + c) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CLIENT_TIMEOUT + 5)
    return answers


class Unreachable(unittest.TestCase):
    def assert_unavailable(self, r, what, bound=BOUND):
        global answered_503
        self.assertIsInstance(r, faultlib.Answer, (what, r))
        self.assertEqual(r.status, 503, (what, r))
        self.assertTrue(r.headers.get("retry-after", "").isdigit(), (what, r.headers))
        self.assertEqual(r.json()["error"]["code"], "store_unavailable", (what, r))
        self.assertLess(r.elapsed, bound, what)
        answered_503 += 1

    def outage(self, lots, heads, kind):
        """Requests during the outage; returns the envelopes answered 503.
        Eight writes at once (as many as worker threads, one per chain so
        each resolves on its own) with a liveness probe, then four reads at
        once: every one answered, none past the bound (twice the bound for
        the probe, which may queue behind the eight)."""
        envs = [next_event(lot, 1, head, 1) for lot, head in zip(lots, heads)]
        answers = concurrently([("POST", "/api/v1/events", e) for e in envs] +
                               [("GET", "/healthz", None)])
        for i, a in enumerate(answers[:-1]):
            self.assert_unavailable(a, "%s: POST event %d" % (kind, i))
        self.assertIsInstance(answers[-1], faultlib.Answer, answers[-1])
        self.assertEqual(answers[-1].status, 200)
        self.assertLess(answers[-1].elapsed, 2 * BOUND)
        reads = ["/api/v1/chains/01/%s/10/%s" % (GTIN, lots[0]),
                 "/api/v1/events/" + heads[0], "/api/v1/keys"]
        answers = concurrently([("GET", p, None) for p in reads + ["/readyz"]])
        for p, a in zip(reads, answers):
            self.assert_unavailable(a, kind + ": GET " + p)
        self.assertIsInstance(answers[-1], faultlib.Answer, answers[-1])
        self.assertEqual(answers[-1].status, 503, answers[-1])
        self.assertLess(answers[-1].elapsed, BOUND)
        return envs

    def recovered(self, lots, heads, envs, checkpoint):
        """No restart of trace-server: it serves again by itself, and each
        write answered 503 resolves on resubmission."""
        faultlib.wait_ready(cluster, timeout=20)
        acked, statuses = list(heads), []
        for lot, env in zip(lots, envs):
            self.assertEqual(call(cluster.port, "GET", "/api/v1/chains/01/%s/10/%s" %
                                  (GTIN, lot)).status, 200)
            r = call(cluster.port, "POST", "/api/v1/events", env)
            # 200 if the frozen Redis ran the write after all, else 201.
            self.assertIn(r.status, (200, 201), r)
            self.assertEqual(r.json()["id"], statement_id(env))
            statuses.append(r.status)
            r2 = call(cluster.port, "POST", "/api/v1/events",
                      next_event(lot, 2, statement_id(env), 2))
            self.assertEqual(r2.status, 201, r2)
            acked += [r.json()["id"], r2.json()["id"]]
        found, _ = faultlib.check_store(cluster, LOTS, acked, checkpoint_before=checkpoint)
        self.assertEqual(found, len(acked))
        return statuses

    def start(self, name):
        lots = ["%s%d" % (name, i) for i in range(8)]
        LOTS.extend(lots)
        heads = [new_chain(lot) for lot in lots]
        harness.settle(cluster)
        return lots, heads, faultlib.fetch_checkpoint(cluster)

    def test_frozen_redis(self):
        global faults
        lots, heads, checkpoint = self.start("FROZEN")
        faultlib.kill_redis(cluster, signal.SIGSTOP)
        faults += 1
        try:
            envs = self.outage(lots, heads, "SIGSTOP")
        finally:
            faultlib.kill_redis(cluster, signal.SIGCONT)
        statuses = self.recovered(lots, heads, envs, checkpoint)
        print("frozen: writes answered 503 were then %s" % statuses, flush=True)

    def test_dead_redis(self):
        global faults
        lots, heads, checkpoint = self.start("DEAD")
        faultlib.kill_redis(cluster, signal.SIGKILL)
        faults += 1
        try:
            envs = self.outage(lots, heads, "SIGKILL")
            # Refused connections are answered fast.
            r = call(cluster.port, "GET", "/readyz")
            self.assertEqual(r.status, 503)
            self.assertLess(r.elapsed, 3.0)
        finally:
            time.sleep(0.5)
            faultlib.restart_redis(cluster)
        self.assertEqual(self.recovered(lots, heads, envs, checkpoint), [201] * 8)

    @classmethod
    def tearDownClass(cls):
        figure("faults.redis_unreachable", faults=faults, answered_503=answered_503,
               bound_s=BOUND)


if __name__ == "__main__":
    unittest.main()
