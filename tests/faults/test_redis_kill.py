"""kill -9 of redis-server while 8 senders append, five times over.

Each round: 8 sender threads (each with its own enrolled key, two per
chain, on four new chains) post signed events as fast as the server takes
them, rebasing on 409 and resubmitting the same bytes after any answer
that is not definitive (503, connection refused or reset, timeout).  A
watcher keeps fetching the signed checkpoint.  Mid-stream redis-server is
killed with SIGKILL, restarted on the same data folder (AOF, appendfsync
always), and the senders carry on by themselves.  Then: every statement
ever acknowledged (201/200) is present, every chain of every round is
contiguous and linked, log indices are dense, the root recomputed in
Python over all statements is that of a fresh checkpoint, and that
checkpoint is consistent with the last one handed out before the kill.
"""
import http.client
import os
import threading
import time
import unittest

import faultlib
from faultlib import GTIN, call, figure
import harness
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id

ROUNDS = int(os.environ.get("TRACE_FAULT_ROUNDS", "5"))
SENDERS = 8
LOTS_PER_ROUND = 4
cluster = None
brand = None


def setUpModule():
    global cluster, brand
    cluster = harness.Cluster.start()
    brand = Key("brand")
    cluster.enroll(brand, "brand", prefixes=["880"])


def tearDownModule():
    cluster.stop()


class Sender(threading.Thread):
    """Appends to one chain until told to stop, then resolves its last
    statement (keeps resubmitting the same bytes until the server gives a
    definitive answer)."""

    def __init__(self, port, key, lot, stop):
        super().__init__(daemon=True)
        self.port, self.key, self.lot, self.stop_flag = port, key, lot, stop
        self.acked = []
        self.unknown = 0          # answers that left the outcome open
        self.conflicts = 0
        self.stored_after_503 = 0
        self.errors = []

    def head(self):
        r = call(self.port, "GET", "/api/v1/chains/01/%s/10/%s" % (GTIN, self.lot),
                 timeout=10)
        if r.status != 200:
            raise OSError("chain read answered %d" % r.status)
        h = r.json()["head"]
        return h["seq"], h["id"]

    def run(self):
        head = None
        pending = None
        was_unknown = False
        n = 0
        give_up = None
        while True:
            if pending is None:
                if self.stop_flag.is_set():
                    return
                if head is None:
                    try:
                        head = self.head()
                    except (OSError, http.client.HTTPException, ValueError):
                        time.sleep(0.1)
                        continue
                n += 1
                pending = self.key.sign(TYPE_EVENT, event_payload(
                    self.key, "inspection.sampled", GTIN, self.lot, head[0] + 1,
                    head[1], {"samples": n}))
                was_unknown = False
            if self.stop_flag.is_set() and give_up is None:
                give_up = time.monotonic() + 60
            if give_up is not None and time.monotonic() > give_up:
                self.errors.append("no definitive answer within 60 s after stop")
                return
            try:
                r = call(self.port, "POST", "/api/v1/events", pending, timeout=20)
            except (OSError, http.client.HTTPException):
                self.unknown += 1
                was_unknown = True
                time.sleep(0.1)
                continue
            if r.status in (200, 201):
                body = r.json()
                if body["id"] != statement_id(pending):
                    self.errors.append("acknowledged id is not the statement id")
                self.acked.append(body["id"])
                if r.status == 200 and was_unknown:
                    self.stored_after_503 += 1
                head = (body["seq"], body["id"])
                pending = None
            elif r.status == 409:
                self.conflicts += 1
                h = r.json()["head"]
                head = (h["seq"], h["id"])
                pending = None
            elif r.status == 503:
                if "retry-after" not in r.headers:
                    self.errors.append("503 without Retry-After")
                self.unknown += 1
                was_unknown = True
                time.sleep(0.1)
            else:
                self.errors.append("unexpected %r" % r)
                return


class Watcher(threading.Thread):
    """Keeps the latest checkpoint handed out (verified)."""

    def __init__(self, stop):
        super().__init__(daemon=True)
        self.stop_flag = stop
        self.latest = None
        self.count = 0

    def run(self):
        while not self.stop_flag.is_set():
            try:
                cp = faultlib.fetch_checkpoint(cluster, timeout=5)
            except (OSError, http.client.HTTPException, ValueError):
                cp = None
            if cp is not None:
                self.latest = cp
                self.count += 1
            time.sleep(0.05)


class RedisKill(unittest.TestCase):
    def test_kill_redis_while_eight_senders_append(self):
        keys = []
        for i in range(SENDERS):
            k = Key("sender%d" % i)
            cluster.enroll(k, "inspector", prefixes=["880"])
            keys.append(k)
        lots, acked = [], []
        totals = dict(unknown=0, conflicts=0, stored_after_503=0)
        log = faultlib.log_present(cluster)
        for rnd in range(ROUNDS):
            round_lots = ["RK%dC%d" % (rnd, j) for j in range(LOTS_PER_ROUND)]
            for lot in round_lots:
                r = cluster.post("/api/v1/events", brand.sign(TYPE_EVENT, event_payload(
                    brand, "product.registered", GTIN, lot, 0, None, REGISTERED)))
                self.assertEqual(r.status, 201, r)
                acked.append(r.json()["id"])
            lots += round_lots
            stop, watch_stop = threading.Event(), threading.Event()
            senders = [Sender(cluster.port, keys[i], round_lots[i % LOTS_PER_ROUND], stop)
                       for i in range(SENDERS)]
            watcher = Watcher(watch_stop)
            watcher.start()
            for s in senders:
                s.start()
            time.sleep(1.5 + 0.25 * rnd)
            before_kill = sum(len(s.acked) for s in senders)
            watch_stop.set()
            watcher.join(10)
            checkpoint = watcher.latest
            faultlib.kill_redis(cluster)
            time.sleep(0.5)
            faultlib.restart_redis(cluster)
            faultlib.wait_ready(cluster)
            time.sleep(1.0)
            stop.set()
            for s in senders:
                s.join(90)
                self.assertFalse(s.is_alive(), "a sender hangs")
                self.assertEqual(s.errors, [])
                acked += s.acked
                totals["unknown"] += s.unknown
                totals["conflicts"] += s.conflicts
                totals["stored_after_503"] += s.stored_after_503
            self.assertGreater(before_kill, 0, "nothing was acknowledged before the kill")
            if log:
                self.assertIsNotNone(checkpoint, "no checkpoint handed out before the kill")
            found, present = faultlib.check_store(cluster, lots, acked,
                                                  checkpoint_before=checkpoint)
            self.assertEqual(found, len(acked))
            print("round %d: %d acknowledged before the kill, %d in all, %d stored; "
                  "checkpoint before the kill: size %s" %
                  (rnd + 1, before_kill, len(acked), present,
                   checkpoint[1] if checkpoint else "-"), flush=True)
        figure("faults.redis_kill", faults=ROUNDS, rounds=ROUNDS, senders=SENDERS,
               acked=len(acked), found=found, unknown_answers=totals["unknown"],
               stored_after_unknown=totals["stored_after_503"],
               rebased_409=totals["conflicts"], log_checked=int(log))


if __name__ == "__main__":
    unittest.main()
