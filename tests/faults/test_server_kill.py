"""kill -9 of trace-server while a 1000-envelope batch is in flight.

Each round signs a batch of 1000 events over ten new chains (100 each,
linked within the batch), fetches the signed checkpoint, posts the batch
and kills trace-server with SIGKILL at a point spread over the batch's
measured duration (during parsing and verification, or just after) or
at the instant the log size in Redis moves (during the store's pipeline).  After a restart: whatever part of the batch is
stored forms contiguous chain prefixes, log indices are dense, the log
root recomputed in Python matches a fresh checkpoint which is consistent
with the one fetched before the kill; then the same batch is resubmitted
and must answer 200 (already stored) or 201 (stored now) for every item,
with exactly 100 events per chain and no statement twice.
"""
import http.client
import threading
import time
import unittest

import faultlib
from faultlib import GTIN, call, figure
import harness
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id

# A fraction of the calibrated duration, or "store": the moment the log
# size in Redis moves, i.e. while the store is taking the batch's pipeline.
KILL_POINTS = (0.3, 0.8, "store", "store", 1.1)
CHAINS, PER_CHAIN = 10, 100
cluster = None
brand = inspector = None


def setUpModule():
    global cluster, brand, inspector
    cluster = harness.Cluster.start()
    brand, inspector = Key("brand"), Key("inspector")
    cluster.enroll(brand, "brand", prefixes=["880"])
    cluster.enroll(inspector, "inspector", prefixes=["880"])


def tearDownModule():
    cluster.stop()


def make_batch(prefix):
    """CHAINS x PER_CHAIN envelopes, interleaved across chains (so a cut
    anywhere leaves a prefix of every chain), and the lots."""
    lots = ["%sC%d" % (prefix, j) for j in range(CHAINS)]
    heads = [None] * CHAINS
    batch = []
    for seq in range(PER_CHAIN):
        for j, lot in enumerate(lots):
            if seq == 0:
                p = event_payload(brand, "product.registered", GTIN, lot, 0, None, REGISTERED)
                env = brand.sign(TYPE_EVENT, p)
            else:
                p = event_payload(inspector, "inspection.sampled", GTIN, lot, seq,
                                  heads[j], {"samples": seq})
                env = inspector.sign(TYPE_EVENT, p)
            heads[j] = statement_id(env)
            batch.append(env)
    return lots, batch


def post_batch(batch, out):
    try:
        out["answer"] = call(cluster.port, "POST", "/api/v1/events", batch, timeout=120)
    except (OSError, http.client.HTTPException) as e:
        out["error"] = e


class ServerKill(unittest.TestCase):
    def test_kill_server_mid_batch(self):
        # Calibrate: how long does a 1000-envelope batch take here?
        lots, batch = make_batch("SKCAL")
        r = call(cluster.port, "POST", "/api/v1/events", batch, timeout=120)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["status"] for x in r.json()["results"]], [201] * len(batch))
        duration = r.elapsed
        all_lots = list(lots)
        acked = [x["id"] for x in r.json()["results"]]
        stored_at_kill, answered = [], 0
        for rnd, point in enumerate(KILL_POINTS):
            lots, batch = make_batch("SK%d" % rnd)
            all_lots += lots
            checkpoint = faultlib.fetch_checkpoint(cluster)
            out = {}
            t = threading.Thread(target=post_batch, args=(batch, out), daemon=True)
            t.start()
            start = time.monotonic()
            if point == "store":
                size0 = int(cluster.redis.get("log:{log}:size") or 0)
                deadline = start + 10 * duration
                while (int(cluster.redis.get("log:{log}:size") or 0) == size0 and
                       time.monotonic() < deadline):
                    pass
            else:
                time.sleep(duration * point)
            killed_at = time.monotonic() - start
            faultlib.kill_server(cluster)
            t.join(60)
            self.assertFalse(t.is_alive(), "the client hangs after the kill")
            if "answer" in out:
                answered += 1
                acked += [x["id"] for x in out["answer"].json()["results"]]
            cluster.start_server()
            faultlib.wait_ready(cluster)
            present = sum(len(faultlib.get_chain(cluster, lot)) for lot in lots)
            stored_at_kill.append(present)
            faultlib.check_store(cluster, all_lots, acked, checkpoint_before=checkpoint)
            # Resubmit the very same batch: one answer per item, no duplicates.
            r = call(cluster.port, "POST", "/api/v1/events", batch, timeout=120)
            self.assertEqual(r.status, 200, r)
            statuses = [x["status"] for x in r.json()["results"]]
            self.assertEqual(statuses.count(200), present, "200 for exactly what was stored")
            self.assertEqual(statuses.count(201), len(batch) - present)
            self.assertEqual([x["id"] for x in r.json()["results"]],
                             [statement_id(e) for e in batch])
            acked += [x["id"] for x in r.json()["results"]]
            for lot in lots:
                self.assertEqual(len(faultlib.get_chain(cluster, lot)), PER_CHAIN)
            found, _ = faultlib.check_store(cluster, all_lots, acked)
            print("round %d: killed at %.2fs of %.2fs, %d of %d stored at the kill" %
                  (rnd + 1, killed_at, duration, present, len(batch)), flush=True)
        figure("faults.server_kill", faults=len(KILL_POINTS), rounds=len(KILL_POINTS),
               batch=len(batch), stored_at_kill="/".join(map(str, stored_at_kill)),
               answered_before_kill=answered, acked=len(acked), found=found,
               log_checked=int(faultlib.log_present(cluster)))


if __name__ == "__main__":
    unittest.main()


class StopWhileStarting(unittest.TestCase):
    """SIGTERM before the server listens stops it cleanly, never by the
    signal's default action (which skips every shutdown step): the
    handler is in place before the first thread and the wait for Redis
    gives up as soon as it is asked to stop."""

    def test_sigterm_while_waiting_for_redis(self):
        import os
        import signal
        import subprocess
        argv = cluster.server_argv(port=harness.free_port())
        nowhere = "redis://127.0.0.1:%d" % harness.free_port()
        argv[argv.index("--redis") + 1] = nowhere
        argv[argv.index("--log-state") + 1] = os.path.join(cluster.dir, "state-starting")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=cluster.server_env())
        try:
            # Wait until it says it is waiting for Redis (it retries ~10 s).
            line = proc.stderr.readline().decode()
            self.assertIn("waiting for Redis", line)
            t0 = time.time()
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(rc, 1, "exit status %r: killed by the signal" % rc)
        self.assertLess(time.time() - t0, 2.0)
