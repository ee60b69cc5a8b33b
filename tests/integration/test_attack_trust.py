"""Issue 17's attacks on the trust rules, written as the attacks (SPEC 8
"Targets" and "Inspections"): each test sends, with valid signatures only,
what a signer acting inside its role would send to break "a recall is
impossible to miss" or "genuine means what it says", and asserts the
refusal (status and code, nothing written) and that every view still
tells the same story: the consumer page (HTML and JSON), the chain JSON,
the recall API, the inspector page and `trace-agent verify` on the
bundle.  Then the data a round-1 server wrote: it keeps being served,
judged by the round-1 rules and labelled so.

  (1)  an importer closes a regulator's recall
  (1b) an importer of another org closes an importer's recall
  (1c) a close naming a closed recall, a non-recall, another chain's recall
  (2)  a correction naming a recall, a registration or a correction
  (6)  a second inspector's pass after CCIC's fail
  (7)  recall serials that name no unit: [], [["B", "A"]], unequal lengths
"""
import base64
import hashlib
import json
import subprocess
import time
import unittest

import harness
from harness import (TYPE_EVENT, Key, REGISTERED, event_payload, pae, settle,
                     statement_id)

GTIN = "08801234567893"
cluster = None
keys = {}


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    for name, role, org in (("brand", "brand", "Amorepacific"),
                            ("importer", "importer", "Haiyue Trading"),
                            ("importer2", "importer", "Haiyue Trading"),
                            # One byte away from the importer's org.
                            ("rival", "importer", "Haiyue Trading Ltd"),
                            ("regulator", "regulator", "SAMR"),
                            ("regulator2", "regulator", "Weihai Customs"),
                            ("ccic", "inspector", "CCIC Korea"),
                            ("lab2", "inspector", "Second Lab"),
                            ("customs", "customs", "Weihai Customs")):
        keys[name] = Key(name)
        cluster.enroll(keys[name], role, org=org)


def tearDownModule():
    cluster.stop()


class StoreUnchanged:
    """The store must be byte-for-byte the same after a refused write."""

    def __init__(self, test):
        self.test = test

    def __enter__(self):
        settle(cluster)
        self.before = cluster.snapshot()

    def __exit__(self, *exc):
        if exc[0] is None:
            settle(cluster)
            after = cluster.snapshot()
            changed = sorted(k for k in set(self.before) | set(after)
                             if self.before.get(k) != after.get(k))
            self.test.assertEqual(changed, [], "a refused write changed the store")


class Chain:
    """A chain being written: seq and prev kept here."""

    def __init__(self, lot):
        self.lot = lot
        self.ids = []
        self.add("brand", "product.registered", REGISTERED)

    def sign(self, name, etype, data, seq=None, prev=None):
        key = keys[name]
        seq = len(self.ids) if seq is None else seq
        if prev is None:
            prev = self.ids[-1] if self.ids else None
        return key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, self.lot, seq,
                                                  prev, data))

    def add(self, name, etype, data):
        env = self.sign(name, etype, data)
        r = cluster.post("/api/v1/events", env)
        assert r.status == 201, (etype, r)
        self.ids.append(statement_id(env))
        return self.ids[-1]

    def post(self, name, etype, data):
        """Send one; the chain advances only if it was accepted."""
        env = self.sign(name, etype, data)
        r = cluster.post("/api/v1/events", env)
        if r.status == 201:
            self.ids.append(statement_id(env))
        return r

    def recall(self, name, severity=1, serials=None):
        data = {"reason": "Microbial limit exceeded", "severity": severity,
                "action": "Stop using it"}
        if serials is not None:
            data["serials"] = serials
        return self.add(name, "recall.issued", data)

    # --- the views ---------------------------------------------------------
    def path(self, serial=None):
        p = "/01/%s/10/%s" % (GTIN, self.lot)
        return p + ("/21/" + serial if serial else "")

    def page(self, serial="0001"):
        """The consumer page of a unit (never served from the lot cache)."""
        r = cluster.get(self.path(serial) + "?lang=en", headers={"Accept": "text/html"})
        assert r.status == 200, r
        return r.body.decode()

    def page_json(self, serial="0001"):
        r = cluster.get(self.path(serial), headers={"Accept": "application/json"})
        assert r.status == 200, r
        return r.json()

    def chain_json(self):
        r = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, self.lot))
        assert r.status == 200, r
        return r.json()

    def recalls(self, status=None):
        q = "?gtin=%s&lot=%s" % (GTIN, self.lot) + ("&status=" + status if status else "")
        r = cluster.get("/api/v1/recalls" + q)
        assert r.status == 200, r
        return {x["id"]: x for x in r.json()["recalls"]}

    def inspector_page(self):
        r = cluster.get("/inspect/01/%s/10/%s?lang=en" % (GTIN, self.lot))
        assert r.status == 200, r
        return r.body.decode()

    def verify(self):
        """trace-agent verify --gtin --lot against the server: its stdout."""
        settle(cluster)
        vkey = cluster.get("/api/v1/log").json()["vkey"]
        deadline = time.time() + 10
        while True:
            r = subprocess.run([harness.AGENT, "verify", "--gtin", GTIN, "--lot", self.lot,
                                "--root", cluster.root_pub, "--log-vkey", vkey,
                                "--server", cluster.public_url],
                               capture_output=True, text=True, timeout=60)
            # 3: the bundle waits for a checkpoint that covers the chain.
            if r.returncode != 3 or time.time() > deadline:
                return r
            time.sleep(0.2)


def error(r):
    return r.json()["error"]


def assert_indexes_agree(test, c, stream=True):
    """The recall indexes (the API, the chain's "recalls", and with stream
    the SSE notices) say of every recall of c what the fold says."""
    chain = c.chain_json()
    fold = {x["id"]: (x["status"], x["closedBy"]) for x in chain["status"]["recall"]["items"]}
    api = {k: (v["status"], v.get("closedBy")) for k, v in c.recalls().items()}
    test.assertEqual(api, fold)
    test.assertEqual({x["id"]: (x["status"], x.get("closedBy"))
                      for x in chain["recalls"]["items"]}, fold)
    test.assertEqual(chain["recalls"]["status"], chain["status"]["recall"]["status"])
    test.assertEqual(chain["recalls"]["open"], chain["status"]["recall"]["open"])
    if stream:
        notices = {}
        for _, fields in cluster.redis.xrange("recalls:stream"):
            data = json.loads(fields[b"data"])
            if data["chain"] == chain["chain"]:
                notices.setdefault(data["id"], []).append(
                    (fields[b"event"].decode(), data.get("closedBy")))
        test.assertEqual(set(notices), set(fold))
        for rid, (status, closer) in fold.items():
            want = [("recall.issued", None)]
            if status == "closed":
                want.append(("recall.closed", closer))
            test.assertEqual(notices[rid], want, rid)


class RecallCloseAttacks(unittest.TestCase):
    def assert_open_everywhere(self, c, rid):
        """The recall rid is open in every view of chain c."""
        self.assertIn('id="recall"', c.page())
        self.assertIn('role="alert"', c.page())
        doc = c.page_json()
        self.assertEqual(doc["recall"]["status"], "recalled")
        self.assertEqual(doc["recall"]["event"]["id"], rid)
        self.assertIn(rid, c.recalls("open"))
        self.assertEqual(c.recalls()[rid]["status"], "open")
        chain = c.chain_json()
        mine = {x["id"]: x for x in chain["status"]["recall"]["items"]}
        self.assertEqual(mine[rid]["status"], "open")
        self.assertIsNone(mine[rid]["closedBy"])
        self.assertEqual(chain["status"]["recall"]["status"], "open")
        self.assertEqual(chain["recalls"]["status"], "open")
        # The lot page (HTML and JSON) as a consumer without a serial
        # sees it; nothing was cached in between that could hide it.
        lot = cluster.get(c.path() + "?lang=en", headers={"Accept": "text/html"})
        self.assertIn('id="recall"', lot.body.decode())
        lot = cluster.get(c.path(), headers={"Accept": "application/json"}).json()
        self.assertEqual(lot["recall"]["status"], "recalled")

    def test_1_importer_closes_a_regulators_recall(self):
        c = Chain("ATK1")
        rid = c.recall("regulator")
        self.assert_open_everywhere(c, rid)
        # The importer's close is well formed and validly signed, names the
        # recall, and is even by an org that may close its own recalls.
        with StoreUnchanged(self):
            r = c.post("importer", "recall.closed", {"recall": rid, "outcome": "released"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(error(r)["code"], "regulator_only")
        self.assertEqual(error(r)["field"], "payload.data.recall")
        self.assert_open_everywhere(c, rid)
        # The bundle agrees: trace-agent verify sees it open.
        out = c.verify()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("status  recall: open (1 of 1 recall open)", out.stdout)
        # Another regulator may close it (so the refusal above was the
        # rule, not a broken close).
        r = c.post("regulator2", "recall.closed", {"recall": rid, "outcome": "destroyed"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.recalls()[rid]["status"], "closed")
        self.assertEqual(c.recalls()[rid]["closedBy"], c.ids[-1])
        self.assertNotIn('id="recall"', c.page())
        self.assertEqual(c.chain_json()["status"]["recall"]["status"], "closed")
        assert_indexes_agree(self, c)

    def test_1b_another_org_closes_an_importers_recall(self):
        c = Chain("ATK1B")
        rid = c.recall("importer")
        with StoreUnchanged(self):
            r = c.post("rival", "recall.closed", {"recall": rid, "outcome": "released"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(error(r)["code"], "wrong_org")
        self.assert_open_everywhere(c, rid)
        # Another key of the issuer's own org may.
        r = c.post("importer2", "recall.closed", {"recall": rid, "outcome": "released"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.recalls()[rid]["status"], "closed")
        assert_indexes_agree(self, c)

    def test_1c_a_close_names_what_it_may_not(self):
        c = Chain("ATK1C")
        other = Chain("ATK1C-OTHER")
        elsewhere = other.recall("importer")
        done = c.recall("importer", severity=2)
        c.add("importer", "recall.closed", {"recall": done, "outcome": "destroyed"})
        rid = c.recall("importer")
        cases = [("a closed recall", done), ("a registration", c.ids[0]),
                 ("a close", c.ids[2]), ("another chain's recall", elsewhere),
                 ("nothing", "ab" * 32)]
        for what, target in cases:
            with self.subTest(target=what):
                with StoreUnchanged(self):
                    r = c.post("importer", "recall.closed",
                               {"recall": target, "outcome": "released"})
                self.assertEqual(r.status, 422, r)
                self.assertEqual(error(r)["code"], "bad_target")
                self.assertEqual(error(r)["field"], "payload.data.recall")
        # A close that names nothing at all is malformed now.
        with StoreUnchanged(self):
            r = c.post("importer", "recall.closed", {"outcome": "released"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual((error(r)["code"], error(r)["field"]),
                         ("missing_field", "payload.data.recall"))
        self.assert_open_everywhere(c, rid)
        self.assertEqual(other.recalls()[elsewhere]["status"], "open")
        assert_indexes_agree(self, c)
        assert_indexes_agree(self, other)

    def test_batch_issue_then_close_and_a_second_close(self):
        """A batch may issue and close in one go (the close is judged on the
        chain with the items before it); a second close of the same recall
        in the same batch is refused."""
        c = Chain("ATKB")
        issue = c.sign("importer", "recall.issued",
                       {"reason": "r", "severity": 2, "action": "a"})
        rid = statement_id(issue)
        close = c.sign("importer", "recall.closed", {"recall": rid, "outcome": "released"},
                       seq=2, prev=rid)
        again = c.sign("regulator", "recall.closed", {"recall": rid, "outcome": "released"},
                       seq=3, prev=statement_id(close))
        r = cluster.post("/api/v1/events", [issue, close, again])
        self.assertEqual(r.status, 200, r)
        results = r.json()["results"]
        self.assertEqual([x["status"] for x in results], [201, 201, 422], results)
        self.assertEqual(results[2]["error"]["code"], "bad_target")
        self.assertEqual(c.recalls()[rid]["closedBy"], statement_id(close))
        # Resubmitting the accepted close answers 200 before any rule.
        r = cluster.post("/api/v1/events", close)
        self.assertEqual(r.status, 200, r)
        # A close that does not continue the chain is answered as the
        # append would answer it, never judged against another history.
        c.ids += [rid, statement_id(close)]
        rid2 = c.recall("importer")
        gap = c.sign("importer", "recall.closed", {"recall": rid2, "outcome": "released"},
                     seq=len(c.ids) + 1)
        with StoreUnchanged(self):
            r = cluster.post("/api/v1/events", gap)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(error(r)["code"], "seq_gap")
        self.assertEqual(r.json()["head"]["id"], rid2)
        moved = c.sign("importer", "recall.closed", {"recall": rid2, "outcome": "released"},
                       seq=len(c.ids) - 1, prev=c.ids[-2])
        with StoreUnchanged(self):
            r = cluster.post("/api/v1/events", moved)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(error(r)["code"], "head_moved")
        assert_indexes_agree(self, c)


class CorrectionAttacks(unittest.TestCase):
    def test_2_a_correction_names_a_recall(self):
        c = Chain("ATK2")
        rid = c.recall("importer")
        # Logged and received (the chain's recalls carry their receipt
        # time once an index statement follows them): a still store.
        settle(cluster)
        before_page = c.page_json()
        before_chain = c.chain_json()
        with StoreUnchanged(self):
            r = c.post("importer", "correction", {"corrects": rid, "reason": "oops"})
        self.assertEqual(r.status, 422, r)
        self.assertEqual((error(r)["code"], error(r)["field"]),
                         ("bad_target", "payload.data.corrects"))
        # Every view unchanged: banner, "recalled", the API and the chain.
        self.assertIn('id="recall"', c.page())
        doc = c.page_json()
        self.assertEqual(doc["recall"], before_page["recall"])
        self.assertEqual(doc["status"], before_page["status"])
        self.assertNotIn("correctedBy", doc["recall"]["event"])
        self.assertEqual(c.chain_json(), before_chain)
        self.assertEqual(c.recalls("open")[rid]["status"], "open")
        assert_indexes_agree(self, c)
        # Nor a recall.closed: the recall cannot be reopened that way.
        c.add("importer", "recall.closed", {"recall": rid, "outcome": "released"})
        with StoreUnchanged(self):
            r = c.post("importer", "correction", {"corrects": c.ids[-1], "reason": "reopen"})
        self.assertEqual((r.status, error(r)["code"]), (422, "bad_target"))
        # Not even a regulator.
        with StoreUnchanged(self):
            r = c.post("regulator", "correction", {"corrects": rid, "reason": "void"})
        self.assertEqual((r.status, error(r)["code"]), (422, "bad_target"))

    def test_2b_a_correction_names_a_registration_or_a_correction(self):
        c = Chain("ATK2B")
        with StoreUnchanged(self):
            r = c.post("brand", "correction", {"corrects": c.ids[0], "reason": "not ours"})
        self.assertEqual((r.status, error(r)["code"]), (422, "bad_target"))
        insp = c.add("ccic", "inspection.completed", {"certificate": "C-1", "result": "pass"})
        fix = c.add("ccic", "correction", {"corrects": insp, "reason": "wrong lot"})
        with StoreUnchanged(self):
            r = c.post("ccic", "correction", {"corrects": fix, "reason": "undo"})
        self.assertEqual((r.status, error(r)["code"]), (422, "bad_target"))
        # What it may name, it may still: that correction stands.
        self.assertEqual(c.chain_json()["events"][1]["withdrawnBy"], fix)
        # A correction naming nothing of this chain keeps its old code.
        with StoreUnchanged(self):
            r = c.post("ccic", "correction", {"corrects": "cd" * 32, "reason": "x"})
        self.assertEqual((r.status, error(r)["code"]), (422, "unknown_correction"))


class InspectionAttacks(unittest.TestCase):
    def assert_inspection(self, c, status, deciding):
        page = c.page()
        self.assertIn('id="badge-inspection" data-status="%s"' % status, page)
        self.assertIn('id="inspection" data-status="%s"' % status, page)
        doc = c.page_json()
        self.assertEqual(doc["status"]["inspection"]["status"], status)
        self.assertEqual(doc["status"]["inspection"]["deciding"], deciding)
        self.assertEqual(doc["inspection"]["id"], deciding)
        chain = c.chain_json()
        self.assertEqual(chain["status"]["inspection"]["status"], status)
        self.assertEqual(chain["status"]["inspection"]["deciding"], deciding)
        self.assertIn('id="status-inspection" data-status="%s"' % status, c.inspector_page())
        out = c.verify()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("status  inspection: %s (" % status, out.stdout)
        # Every result is shown on the consumer page (one in the card,
        # more in the list under it).
        items = chain["status"]["inspection"]["items"]
        if len(items) > 1:
            self.assertEqual(page.count("<li data-result="), len(items))

    def test_6_a_second_inspectors_pass_after_a_fail(self):
        c = Chain("ATK6")
        fail = c.add("ccic", "inspection.completed",
                     {"certificate": "CCIC-KR-9", "result": "fail", "body": "CCIC Korea"})
        self.assert_inspection(c, "fail", fail)
        # Another inspector's pass is accepted (it is a real result) but the
        # lot stays failed in every view.
        c.add("lab2", "inspection.completed", {"certificate": "LAB-2", "result": "pass"})
        pass_id = c.ids[-1]
        self.assert_inspection(c, "fail", fail)
        self.assertIn("The lot counts as failed while any fail result stands.", c.page())
        # That inspector withdrawing CCIC's fail: refused.
        with StoreUnchanged(self):
            r = c.post("lab2", "correction", {"corrects": fail, "reason": "outdated"})
        self.assertEqual((r.status, error(r)["code"]), (403, "role_not_allowed"))
        self.assert_inspection(c, "fail", fail)
        # CCIC withdraws its own fail: now the pass decides.
        fix = c.add("ccic", "correction", {"corrects": fail, "reason": "wrong lot sampled"})
        self.assert_inspection(c, "pass", pass_id)
        items = {x["id"]: x for x in c.chain_json()["status"]["inspection"]["items"]}
        self.assertEqual(items[fail]["withdrawnBy"], fix)
        self.assertIsNone(items[pass_id]["withdrawnBy"])
        self.assertIn('data-result="fail" data-withdrawn="true"', c.page())


class SerialAttacks(unittest.TestCase):
    def test_7_serials_that_name_no_unit(self):
        c = Chain("ATK7")
        for serials, status, code, field in (
                ([], 400, "bad_field", "payload.data.serials"),
                ([["B", "A"]], 422, "bad_range", "payload.data.serials[0]"),
                ([["0001", "0009"], ["1", "10"]], 422, "bad_range",
                 "payload.data.serials[1]"),
                ([["A"]], 400, "bad_field", "payload.data.serials[0]")):
            with self.subTest(serials=serials):
                with StoreUnchanged(self):
                    r = c.post("importer", "recall.issued",
                               {"reason": "r", "severity": 1, "action": "a",
                                "serials": serials})
                self.assertEqual(r.status, status, r)
                self.assertEqual((error(r)["code"], error(r)["field"]), (code, field))
        self.assertEqual(c.recalls(), {})
        self.assertNotIn('id="recall"', c.page())


def leaf(env):
    return hashlib.sha256(b"\x00" + pae(env["payloadType"],
                                        base64.b64decode(env["payload"]))).digest()


class RoundOneData(unittest.TestCase):
    """What a round-1 server wrote: a recall.closed naming no recall (which
    closed every open recall of its chain, a regulator's included) and a
    correction of a recall.  Written here the way round 1's store.lua wrote
    them (the plain append, then its recall index updates) into a log that
    has no index statement yet, then the upgraded server's start (it
    appends the first index statement after them): it serves them, judged
    by round-1 rules and labelled so, while new submissions get today's
    rules.  Then the attack (SPEC 8 "Data from round 1"): the same
    round-1-form close slipped into the log after the first index
    statement by someone who can insert statements; no view lets it close
    the recall.  A cluster of its own, swapped in for this class: the
    module's log has had index statements from its first enrollment."""

    @classmethod
    def setUpClass(cls):
        global cluster
        cls.saved = cluster
        cluster = harness.Cluster()
        cluster.start_redis()
        cluster.make_log_key()
        cluster.start_round1_server()
        for name, role, org in (("brand", "brand", "Amorepacific"),
                                ("importer", "importer", "Haiyue Trading"),
                                ("regulator", "regulator", "SAMR")):
            cluster.enroll(keys[name], role, org=org)

    @classmethod
    def tearDownClass(cls):
        global cluster
        cluster.stop()
        cluster = cls.saved

    def append_round1(self, c, name, etype, data):
        env = c.sign(name, etype, data)
        sid = statement_id(env)
        chain = "01/%s/10/%s" % (GTIN, c.lot)
        res = cluster.redis.fcall(
            "trace_append_event", 5, "c:{%s}:ev" % chain, "ids", "k:revoke",
            "log:{log}:size", "log:{log}:pending",
            sid, len(c.ids), c.ids[-1], keys[name].keyid, leaf(env),
            json.dumps(env, separators=(",", ":")), chain)
        self.assertEqual(res[0], b"ok", res)
        c.ids.append(sid)
        return sid, int(res[1]), chain

    def round1_close(self, c, name, data):
        """Round 1's append_recall for a recall.closed: the chain, then
        every open recall of the chain moved to closed."""
        sid, index, chain = self.append_round1(c, name, "recall.closed", data)
        r = cluster.redis
        closing = json.dumps({"closed": "2026-11-20T00:00:00Z", "closedBy": sid,
                              "outcome": data["outcome"]}, separators=(",", ":"))
        closing = closing[:-1] + ',"closedLogIndex":%d}' % index
        for m in r.zrange("c:{%s}:recalls" % chain, 0, -1):
            if r.zscore("recalls:status:open", m) is None:
                continue
            rid = m[13:].decode()
            r.hset("recalls:closing", rid, closing)
            r.zrem("recalls:status:open", m)
            r.zadd("recalls:status:closed", {m: 0})
        return sid

    def test_a_store_written_by_round_1(self):
        c = Chain("R1DATA")
        reg = c.recall("regulator", severity=1)
        imp = c.recall("importer", severity=2)
        legacy_close = self.round1_close(c, "importer", {"outcome": "destroyed"})
        later = c.recall("importer", severity=3)
        legacy_fix, fix_index, _ = self.append_round1(
            c, "importer", "correction", {"corrects": later, "reason": "mistake"})
        self.assertEqual(harness.index_statements(cluster), {})
        # The upgraded server started on that store: its first index
        # statement follows all of it.
        cluster.stop_server()
        cluster.start_server()
        settle(cluster)
        first = min(harness.index_statements(cluster))
        self.assertGreater(first, fix_index)
        chain = c.chain_json()
        events = {e["id"]: e for e in chain["events"]}
        self.assertEqual(events[legacy_close]["note"], "judged by round-1 rules")
        self.assertTrue(events[legacy_close]["round1"])
        self.assertNotIn("ignored", events[legacy_close])
        self.assertTrue(events[legacy_fix]["round1"] and events[legacy_fix]["ignored"])
        self.assertNotIn("withdrawnBy", events[later])
        self.assertEqual(chain["status"]["round1"], 2)
        status = {x["id"]: x for x in chain["status"]["recall"]["items"]}
        self.assertEqual((status[reg]["status"], status[reg]["closedBy"], status[reg]["round1"]),
                         ("closed", legacy_close, True))
        self.assertEqual(status[imp]["closedBy"], legacy_close)
        # The correction of a recall is ignored: that recall stays in force.
        self.assertEqual(status[later]["status"], "open")
        # The recall indexes say the same.
        api = c.recalls()
        self.assertEqual({k: v["status"] for k, v in api.items()},
                         {reg: "closed", imp: "closed", later: "open"})
        self.assertEqual(api[reg]["closedBy"], legacy_close)
        # The pages show the open one, and label what round 1 decided.
        self.assertIn('id="recall"', c.page())
        doc = c.page_json()
        self.assertEqual(doc["recall"]["event"]["id"], later)
        route = {e["id"]: e for e in doc["route"]}
        self.assertEqual(route[legacy_close]["note"], "judged by round-1 rules")
        self.assertIn("Judged by round-1 rules", c.page())
        self.assertIn("Judged by round-1 rules", c.inspector_page())
        self.assertIn("This statement changes nothing", c.inspector_page())
        # The bundle verifies offline, with the same story.
        out = c.verify()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("status  recall: open (1 of 3 recalls open)", out.stdout)
        self.assertIn("round-1 close of every open recall", out.stdout)
        self.assertIn("(recall.closed): judged by round-1 rules", out.stdout)
        self.assertIn("(correction): judged by round-1 rules; it changes nothing",
                      out.stdout)
        # New statements get today's rules, on the same chain.
        with StoreUnchanged(self):
            r = c.post("importer", "recall.closed", {"outcome": "released"})
        self.assertEqual((r.status, error(r)["code"]), (400, "missing_field"))
        with StoreUnchanged(self):
            r = c.post("importer", "correction", {"corrects": later, "reason": "again"})
        self.assertEqual((r.status, error(r)["code"]), (422, "bad_target"))
        with StoreUnchanged(self):
            r = c.post("importer", "recall.closed", {"recall": reg, "outcome": "released"})
        self.assertEqual((r.status, error(r)["code"]), (422, "bad_target"))
        r = c.post("importer", "recall.closed", {"recall": later, "outcome": "released"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.recalls()[later]["status"], "closed")
        self.assertEqual(c.chain_json()["status"]["recall"]["status"], "closed")
        self.assertNotIn('id="recall"', c.page())
        # (Round 1's notices were not written here: no stream check.)
        assert_indexes_agree(self, c, stream=False)
        self.slipped_after_first_index(c, first)

    def slipped_after_first_index(self, c, first):
        """The attack: a round-1-form close (naming no recall) inserted
        into the log after its first index statement, the store's own
        append, no recall index touched.  Judged by today's rules in every
        view: it names no recall, so it closes nothing."""
        fresh = c.recall("importer", severity=2)
        sid, index, _ = self.append_round1(c, "importer", "recall.closed",
                                           {"outcome": "released"})
        self.assertGreater(index, first)
        settle(cluster)
        chain = c.chain_json()
        events = {e["id"]: e for e in chain["events"]}
        self.assertNotIn("round1", events[sid])
        self.assertNotEqual(events[sid].get("note"), "judged by round-1 rules")
        self.assertEqual(chain["status"]["round1"], 2)
        status = {x["id"]: x for x in chain["status"]["recall"]["items"]}
        self.assertEqual((status[fresh]["status"], status[fresh]["closedBy"]),
                         ("open", None))
        self.assertEqual(chain["status"]["recall"]["status"], "open")
        self.assertEqual(c.recalls()[fresh]["status"], "open")
        self.assertIn('id="recall"', c.page())
        self.assertEqual(c.page_json()["recall"]["event"]["id"], fresh)
        # The bundle names where round 2 began; its verifier refuses the
        # close (today's rule: it names no recall) and shows no status.
        bundle = cluster.get("/api/v1/bundles/01/%s/10/%s" % (GTIN, c.lot)).json()
        st = json.loads(base64.b64decode(bundle["index"]["statement"]["envelope"]["payload"]))
        self.assertEqual(st["first"], first)
        out = c.verify()
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("FAIL  event %d (seq %d, recall.closed): a recall.closed names "
                      "the recall it closes" % (len(c.ids) - 1, len(c.ids) - 1), out.stdout)
        self.assertNotIn("round-1 close", out.stdout)
        self.assertIn("status  unknown: the bundle did not verify", out.stdout)


if __name__ == "__main__":
    unittest.main()
