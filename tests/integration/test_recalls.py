"""Recalls against a real redis-server and trace-server (issue 7): a recall
issued by an importer shows up in GET /api/v1/recalls, its CSV, the SSE
stream, the chain JSON, the consumer page and the recall board; a recall
signed by a key without the role is refused and changes nothing; closing
it updates all of them; pagination over 1,000 recalls returns each exactly
once while new recalls arrive; strict query validation; trace-agent
recalls (table and --csv) against the server."""
import csv
import io
import os
import subprocess
import time
import unittest

import harness
from harness import (TYPE_EVENT, Key, REGISTERED, event_payload, settle,
                     statement_id)

GTIN = "08801234567893"
GTIN2 = "06901234567892"          # a second product, for the gtin filter
cluster = None
keys = {}
REASON = "霉菌超标, \"批次\" L-7"   # Chinese, a comma and quotes: CSV quoting


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    for name, role, org in (("brand", "brand", "Sulwhasoo"),
                            ("importer", "importer", "韩国优品进口有限公司"),
                            ("importer2", "importer", "Other Importer"),
                            ("warehouse", "warehouse", "Weihai Bonded"),
                            ("logistics", "logistics", "HMM"),
                            ("regulator", "regulator", "Customs")):
        keys[name] = Key(name)
        cluster.enroll(keys[name], role, org=org)


def tearDownModule():
    cluster.stop()


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def sign(key, etype, lot, seq, prev, data, gtin=GTIN, when=None):
    return key.sign(TYPE_EVENT, event_payload(key, etype, gtin, lot, seq, prev,
                                              data, when=when))


def post(key, etype, lot, seq, prev, data, gtin=GTIN, when=None):
    env = sign(key, etype, lot, seq, prev, data, gtin, when)
    return env, cluster.post("/api/v1/events", env)


def new_chain(lot, gtin=GTIN, dispatch=None):
    """product.registered (and a dispatch); returns the head id and seq."""
    env, r = post(keys["brand"], "product.registered", lot, 0, None, REGISTERED, gtin)
    assert r.status == 201, r
    head, seq = statement_id(env), 0
    if dispatch is not None:
        env, r = post(keys["warehouse"], "warehouse.dispatched", lot, 1, head,
                      dispatch, gtin)
        assert r.status == 201, r
        head, seq = statement_id(env), 1
    return head, seq


def recalls(query=""):
    r = cluster.get("/api/v1/recalls" + query)
    assert r.status == 200, r
    return r.json()


def statement_times():
    """log index -> the signed time of every index statement."""
    import base64
    import json
    return {i: json.loads(base64.b64decode(env["payload"]))["time"]
            for i, env in harness.index_statements(cluster).items()}


class StoreUnchanged:
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
            self.test.assertEqual(changed, [], "a rejected write changed the store")


class Stream(harness.RecallStream):
    """harness.RecallStream on this module's server."""

    def __init__(self, query="", last_event_id=None):
        super().__init__(cluster.port, query, last_event_id)


def stream_when_free(timeout=15, **kw):
    """A stream, waiting for a slot: a stream notices that its client hung
    up at its next write (within about two seconds) and frees its slot."""
    deadline = time.time() + timeout
    while True:
        s = Stream(**kw)
        if s.status != 503 or time.time() > deadline:
            return s
        time.sleep(0.5)


class Lifecycle(unittest.TestCase):
    """Issue, see it everywhere, close, see that everywhere."""

    def test_issue_and_close_everywhere(self):
        lot = "RC1"
        head, seq = new_chain(lot, dispatch={"warehouse": "威海保税仓",
                                             "destination": "上海 <仓库>",
                                             "quantity": 300})
        stream = stream_when_free()
        self.assertEqual(stream.status, 200)
        self.assertTrue(stream.headers["content-type"].startswith("text/event-stream"))
        try:
            issue_data = {"reason": REASON, "severity": 1, "action": "立即停止使用并联系我们",
                          "contact": "+86 400-000-0000", "serials": [["000100", "000199"]]}
            env, r = post(keys["importer"], "recall.issued", lot, seq + 1, head, issue_data)
            accepted = time.monotonic()
            self.assertEqual(r.status, 201, r)
            rid = statement_id(env)

            # The stream delivers it within a second.
            sid, event, data, arrived = stream.next(timeout=1.0)
            self.assertLessEqual(arrived - accepted, 1.0)
            self.assertEqual(event, "recall.issued")
            import json
            pushed = json.loads(data)
            self.assertEqual(pushed["id"], rid)
            self.assertEqual(pushed["status"], "open")

            # The API.
            got = recalls("?gtin=%s&lot=%s" % (GTIN, lot))
            self.assertEqual(got["next"], None)
            self.assertEqual(len(got["recalls"]), 1)
            rec = got["recalls"][0]
            self.assertEqual(rec["id"], rid)
            self.assertEqual(rec["status"], "open")
            self.assertEqual(rec["chain"], "01/%s/10/%s" % (GTIN, lot))
            self.assertEqual((rec["gtin"], rec["lot"], rec["seq"]), (GTIN, lot, seq + 1))
            self.assertEqual(rec["reason"], REASON)
            self.assertEqual(rec["severity"], 1)
            self.assertEqual(rec["serials"], [["000100", "000199"]])
            # The issuer's registered org id (SPEC 8 "Organisations").
            self.assertEqual(rec["org"], harness.org_id("韩国优品进口有限公司"))
            self.assertEqual(rec["signer"], keys["importer"].keyid)
            self.assertEqual(rec["logIndex"], r.json()["logIndex"])
            # The notice goes out before any index statement follows the
            # recall: it has no receipt time, the listing has one or null.
            self.assertNotIn("received", pushed)
            self.assertIn("received", rec)
            self.assertEqual(pushed, {k: v for k, v in rec.items() if k != "received"})
            self.assertEqual([x["id"] for x in recalls("?org=" + harness.org_id("韩国优品进口有限公司") + "&lot=" + lot)["recalls"]], [rid])

            # The CSV: BOM, header row, RFC 4180 quoting, Chinese intact.
            r = cluster.get("/api/v1/recalls?lot=" + lot, headers={"Accept": "text/csv"})
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["content-type"].startswith("text/csv"))
            self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))
            text = r.body[3:].decode("utf-8")
            self.assertIn("\r\n", text)
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
            self.assertEqual(len(rows), 1)
            self.assertEqual(rows[0]["id"], rid)
            self.assertEqual(rows[0]["reason"], REASON)
            self.assertEqual(rows[0]["status"], "open")
            self.assertEqual(rows[0]["serials"], "000100..000199")
            self.assertEqual(rows[0]["org"], harness.org_id("韩国优品进口有限公司"))
            self.assertEqual(rows[0]["contact"], "'+86 400-000-0000")  # never a formula

            # The chain.
            chain = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, lot)).json()
            self.assertEqual(chain["recalls"]["status"], "open")
            self.assertEqual(chain["recalls"]["open"], 1)
            self.assertEqual(chain["recalls"]["items"][0]["id"], rid)

            # The consumer page (the banner is role="alert").
            page = cluster.get("/01/%s/10/%s/21/000150" % (GTIN, lot),
                               headers={"Accept": "text/html"})
            if page.status == 404 and b"no such resource" in page.body:
                page = None             # no resolver in this build
            if page is not None:
                self.assertEqual(page.status, 200)
                self.assertIn(b'class="recall"', page.body)

            # The board: open, escaped, with where the lot went.
            board = cluster.get("/recalls?lot=%s&lang=en" % lot)
            self.assertEqual(board.status, 200)
            self.assertIn("script-src 'self'", board.headers["content-security-policy"])
            self.assertNotIn("unsafe-inline", board.headers["content-security-policy"])
            html = board.body.decode()
            open_part, closed_part = html.split("Closed recalls")
            self.assertIn("上海 &lt;仓库&gt;", open_part)
            self.assertIn("300", open_part)
            self.assertIn("/inspect/01/%s/10/%s" % (GTIN, lot), open_part)
            self.assertIn("霉菌超标, &quot;批次&quot; L-7", open_part)
            self.assertNotIn("<仓库>", html)
            # The issuer by its registered org name, not its org id.
            self.assertIn("<dd>韩国优品进口有限公司</dd>", open_part)
            self.assertNotIn(harness.org_id("韩国优品进口有限公司"), html)

            # Close it.
            env, r = post(keys["importer"], "recall.closed", lot, seq + 2, rid,
                          {"recall": rid, "outcome": "destroyed", "recovered": 120})
            self.assertEqual(r.status, 201, r)
            closer = statement_id(env)
            sid2, event, data, _ = stream.next(timeout=1.0)
            self.assertEqual(event, "recall.closed")
            self.assertGreater(tuple(map(int, sid2.split("-"))), tuple(map(int, sid.split("-"))))
            closed = json.loads(data)
            self.assertEqual((closed["id"], closed["status"], closed["closedBy"],
                              closed["outcome"], closed["recovered"]),
                             (rid, "closed", closer, "destroyed", 120))
        finally:
            stream.close()
        rec = recalls("?gtin=%s&lot=%s" % (GTIN, lot))["recalls"][0]
        self.assertEqual({k: v for k, v in rec.items() if k != "received"}, closed)
        self.assertEqual(recalls("?lot=%s&status=open" % lot)["recalls"], [])
        self.assertEqual([x["id"] for x in recalls("?lot=%s&status=closed" % lot)["recalls"]], [rid])
        r = cluster.get("/api/v1/recalls?lot=" + lot, headers={"Accept": "text/csv"})
        rows = list(csv.DictReader(io.StringIO(r.body[3:].decode(), newline="")))
        self.assertEqual((rows[0]["status"], rows[0]["outcome"], rows[0]["closedBy"]),
                         ("closed", "destroyed", closer))
        chain = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, lot)).json()
        self.assertEqual((chain["recalls"]["status"], chain["recalls"]["open"]), ("closed", 0))
        # The fold of the chain says the same as the indexes.
        self.assertEqual((chain["status"]["recall"]["status"],
                          chain["status"]["recall"]["items"][0]["closedBy"]),
                         ("closed", closer))
        if page is not None:
            page = cluster.get("/01/%s/10/%s/21/000150" % (GTIN, lot),
                               headers={"Accept": "text/html"})
            self.assertNotIn(b'class="recall"', page.body)
        html = cluster.get("/recalls?lot=%s&lang=en" % lot).body.decode()
        open_part, closed_part = html.split("Closed recalls")
        self.assertNotIn(rid[:8], open_part)
        self.assertIn("Destroyed", closed_part)

    def test_refused_without_role_changes_nothing(self):
        lot = "RC2"
        head, seq = new_chain(lot)
        for name in ("logistics", "warehouse", "brand"):
            with StoreUnchanged(self):
                _, r = post(keys[name], "recall.issued", lot, seq + 1, head,
                            {"reason": "x", "severity": 2, "action": "y"})
            self.assertEqual(r.status, 403, (name, r))
            self.assertEqual(r.json()["error"]["code"], "role_not_allowed")
        self.assertEqual(recalls("?lot=" + lot)["recalls"], [])
        chain = cluster.get("/api/v1/chains/01/%s/10/%s" % (GTIN, lot)).json()
        self.assertEqual(chain["recalls"], {"status": "none", "open": 0, "total": 0,
                                            "items": []})

    def test_close_closes_only_the_recall_it_names(self):
        lot, other = "RC3", "RC3B"
        head, seq = new_chain(lot)
        ohead, oseq = new_chain(other)
        ids = []
        for i in range(2):
            env, r = post(keys["regulator"] if i else keys["importer"], "recall.issued",
                          lot, seq + 1 + i, head, {"reason": "r%d" % i, "severity": 2,
                                                   "action": "a"})
            self.assertEqual(r.status, 201, r)
            head = statement_id(env)
            ids.append(head)
        env, r = post(keys["importer"], "recall.issued", other, oseq + 1, ohead,
                      {"reason": "other", "severity": 3, "action": "a"})
        other_id = statement_id(env)
        # A duplicate changes nothing either.
        with StoreUnchanged(self):
            again = cluster.post("/api/v1/events", env)
        self.assertEqual(again.status, 200)
        # A regulator closes the importer's recall: that one only.
        env, r = post(keys["regulator"], "recall.closed", lot, seq + 3, head,
                      {"recall": ids[0], "outcome": "released"})
        self.assertEqual(r.status, 201, r)
        head = statement_id(env)
        got = {x["id"]: x for x in recalls("?gtin=%s&lot=%s" % (GTIN, lot))["recalls"]}
        self.assertEqual(set(got), set(ids))
        self.assertEqual((got[ids[0]]["status"], got[ids[0]]["outcome"],
                          got[ids[0]]["closedBy"]), ("closed", "released", head))
        self.assertEqual(got[ids[1]]["status"], "open")
        self.assertEqual([x["id"] for x in recalls("?lot=%s&status=open" % lot)["recalls"]],
                         [ids[1]])
        # Then the regulator's own, by a regulator.
        env, r = post(keys["regulator"], "recall.closed", lot, seq + 4, head,
                      {"recall": ids[1], "outcome": "destroyed"})
        self.assertEqual(r.status, 201, r)
        got = {x["id"]: x for x in recalls("?gtin=%s&lot=%s" % (GTIN, lot))["recalls"]}
        self.assertTrue(all(x["status"] == "closed" for x in got.values()))
        self.assertEqual(got[ids[1]]["outcome"], "destroyed")
        # The issuer's organisation stays the issuer's.
        self.assertEqual(got[ids[1]]["org"], "customs")
        self.assertEqual(recalls("?lot=" + other)["recalls"][0]["id"], other_id)
        self.assertEqual(recalls("?lot=" + other)["recalls"][0]["status"], "open")


    def test_board_leaves_out_a_withdrawn_dispatch(self):
        """A dispatch its warehouse withdrew by a correction is not where
        the recalled lot went: the board shows only the one in force."""
        lot = "LBOARDW"
        head, seq = new_chain(lot, dispatch={"warehouse": "W1",
                                             "destination": "WithdrawnTown"})
        withdrawn = head
        steps = [(keys["warehouse"], "correction",
                  {"corrects": withdrawn, "reason": "wrong destination"}),
                 (keys["warehouse"], "warehouse.dispatched",
                  {"warehouse": "W1", "destination": "KeptTown"}),
                 (keys["importer"], "recall.issued",
                  {"reason": "r", "severity": 2, "action": "Stop using it"})]
        for key, etype, data in steps:
            seq += 1
            env, r = post(key, etype, lot, seq, head, data)
            self.assertEqual(r.status, 201, (etype, r))
            head = statement_id(env)
        settle(cluster)
        board = cluster.get("/recalls?lot=%s&lang=en" % lot)
        self.assertEqual(board.status, 200)
        html = board.body.decode()
        self.assertIn("KeptTown", html)
        self.assertNotIn("WithdrawnTown", html)


class StreamResume(unittest.TestCase):
    def test_resume_after_an_id_and_bad_ids(self):
        lot = "RS1"
        head, seq = new_chain(lot)
        ids = []
        for i in range(3):
            env, r = post(keys["importer"], "recall.issued", lot, seq + 1 + i, head,
                          {"reason": "resume %d" % i, "severity": 3, "action": "a"})
            self.assertEqual(r.status, 201, r)
            head = statement_id(env)
            ids.append(head)
        entries = cluster.redis.xrange("recalls:stream")
        by_recall = {e[1][b"id"].decode(): e[0].decode() for e in entries
                     if e[1][b"event"] == b"recall.issued"}
        first = by_recall[ids[0]]
        for kw in ({"last_event_id": first}, {"query": "?after=" + first}):
            s = stream_when_free(**kw)
            try:
                self.assertEqual(s.status, 200)
                got = [s.next(timeout=2.0) for _ in range(2)]
            finally:
                s.close()
            import json
            self.assertEqual([json.loads(g[2])["id"] for g in got], ids[1:])
            self.assertEqual([g[0] for g in got], [by_recall[i] for i in ids[1:]])
        for bad in ("?after=12", "?after=1-2-3", "?after=x-1", "?since=1"):
            s = Stream(query=bad)
            self.assertEqual(s.status, 400, bad)
        s = Stream(last_event_id="abc")
        self.assertEqual(s.status, 400)

    def test_streams_are_bounded(self):
        # --threads 8: a quarter of them may stream.
        held = [stream_when_free(), stream_when_free()]
        try:
            self.assertEqual([s.status for s in held], [200, 200])
            extra = Stream()
            self.assertEqual(extra.status, 503)
            self.assertEqual(extra.headers.get("retry-after"), "1")
            # The API still answers while every stream slot is taken.
            self.assertEqual(cluster.get("/api/v1/recalls?limit=1").status, 200)
        finally:
            for s in held:
                s.close()


class Validation(unittest.TestCase):
    def test_bad_parameters_name_the_parameter(self):
        cases = [("gtin=08801234567890", "gtin"), ("lot=" + "x" * 21, "lot"),
                 ("status=maybe", "status"), ("since=yesterday", "since"),
                 ("until=2026-13-01", "until"), ("cursor=abc", "cursor"),
                 ("limit=0", "limit"), ("limit=501", "limit"), ("limit=1e2", "limit"),
                 ("bogus=1", "bogus"), ("status=open&status=closed", "status"),
                 ("since=2026-12-01&until=2026-11-01", "until"),
                 ("format=xml", "format"), ("lot=%ZZ", "lot")]
        for query, field in cases:
            r = cluster.get("/api/v1/recalls?" + query)
            self.assertEqual(r.status, 400, query)
            self.assertEqual(r.json()["error"].get("field"), field, (query, r))
        self.assertEqual(cluster.get("/recalls?bogus=1").status, 400)
        r = cluster.request("POST", "/api/v1/recalls", body=b"", raw=True)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers["allow"], "GET, HEAD")
        self.assertEqual(r.json()["error"]["code"], "method_not_allowed")

    def test_filters(self):
        """since/until compare with the receipt time, not the signed
        issue time: a recall dated 2025-03-04 received today is today's."""
        lot = "RF1"
        head, seq = new_chain(lot, gtin=GTIN2)
        env, r = post(keys["importer2"], "recall.issued", lot, seq + 1, head,
                      {"reason": "old one", "severity": 2, "action": "a"},
                      gtin=GTIN2, when="2025-03-04T10:00:00+08:00")
        self.assertEqual(r.status, 201, r)
        rid = statement_id(env)
        settle(cluster)
        self.assertEqual([x["id"] for x in recalls("?gtin=6901234567892")["recalls"]], [rid])
        got = recalls("?gtin=6901234567892")["recalls"][0]
        self.assertEqual(got["issued"], "2025-03-04T02:00:00Z")
        received = got["received"]
        today = time.strftime("%Y-%m-%d", time.gmtime())
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
        for q, expect in (("since=2025-03-04", [rid]), ("until=2025-03-04", []),
                          ("since=%s" % today, [rid]), ("until=%s" % today, [rid]),
                          ("since=%s&until=%s" % (received, received), [rid]),
                          ("since=%s" % tomorrow, []),
                          ("until=2025-03-04T02:00:00Z", []),
                          ("org=other-importer", [rid]), ("org=other", []),
                          ("status=closed", [])):
            got = [x["id"] for x in recalls("?gtin=%s&%s" % (GTIN2, q))["recalls"]]
            self.assertEqual(got, expect, q)

    def test_bad_cursors(self):
        """A cursor is a log index in decimal: 1 to 12 digits."""
        for bad in ("-1", "1" * 13, "12a", "+5", "0x10", " 5",
                    # the member form an older server handed out
                    "101700000010-" + "ab" * 32):
            r = cluster.get("/api/v1/recalls?cursor=" + bad.replace(" ", "%20").replace("+", "%2B"))
            self.assertEqual(r.status, 400, bad)
            self.assertEqual(r.json()["error"]["code"], "bad_parameter", bad)
            self.assertEqual(r.json()["error"]["field"], "cursor", bad)
        for good in ("0", "7", "999999999999"):
            self.assertEqual(cluster.get("/api/v1/recalls?cursor=" + good).status, 200, good)
        self.assertEqual(recalls("?cursor=0")["recalls"], [])


class ReceiptTime(unittest.TestCase):
    """SPEC 8 "Receipt time": the board's order and since/until use the
    time of the first index statement after the recall, never the time its
    signer wrote (issue 17)."""

    def issue(self, lot, when=None, key="importer"):
        head, seq = new_chain(lot)
        env, r = post(keys[key], "recall.issued", lot, seq + 1, head,
                      {"reason": "receipt " + lot, "severity": 2, "action": "a"},
                      when=when)
        self.assertEqual(r.status, 201, r)
        return statement_id(env), r.json()["logIndex"]

    def test_a_backdated_recall_still_comes_first_and_matches_today(self):
        # The attack: dated 20 days back (inside --max-age), so that a
        # client polling ?since=today would never see it, and it would sink
        # below the recall issued honestly just before it.
        honest, _ = self.issue("RT-PRE")
        settle(cluster)
        rid, index = self.issue("RT-BACK", when=utc(time.time() - 20 * 86400))
        settle(cluster)
        newest = recalls("?limit=1")["recalls"][0]
        self.assertEqual(newest["id"], rid)
        self.assertEqual([x["id"] for x in recalls("?limit=2")["recalls"]], [rid, honest])
        today = time.strftime("%Y-%m-%d", time.gmtime())
        self.assertIn(rid, [x["id"] for x in recalls("?since=" + today + "&limit=500")["recalls"]])
        self.assertEqual(recalls("?since=" + today + "&limit=1")["recalls"][0]["id"], rid)
        # Its receipt time is the index statement's, today; its signed time
        # stays what it said.
        self.assertTrue(newest["received"].startswith(today), newest)
        self.assertLess(newest["issued"], today)
        statement = statement_times()
        after = min(i for i in statement if i > index)
        self.assertEqual(newest["received"], statement[after])
        # The board lists it first among the open recalls too.
        html = cluster.get("/recalls?lang=en").body.decode()
        self.assertLess(html.index("receipt RT-BACK"), html.index("receipt RT-PRE"))
        self.assertIn("<dt>Received</dt><dd>%s" % newest["received"][:10], html)
        self.assertLess(html.index("receipt RT-PRE"), html.index("Closed recalls"))

    def test_a_window_selects_by_receipt_time(self):
        # Two recalls received in different seconds, the later one signed
        # with the earlier time.
        first, _ = self.issue("RT-W1", when=utc(time.time() - 3600))
        settle(cluster)
        time.sleep(1.1)
        second, _ = self.issue("RT-W2", when=utc(time.time() - 7200))
        settle(cluster)
        got = {x["id"]: x for x in recalls("?gtin=%s&limit=500" % GTIN)["recalls"]}
        t1, t2 = got[first]["received"], got[second]["received"]
        self.assertLess(t1, t2)

        def ids(q):
            return [x["id"] for x in recalls("?gtin=%s&limit=500&%s" % (GTIN, q))["recalls"]
                    if x["id"] in (first, second)]
        self.assertEqual(ids(""), [second, first])     # receipt order, newest first
        self.assertEqual(ids("since=" + t2), [second])
        self.assertEqual(ids("until=" + t1), [first])
        self.assertEqual(ids("since=%s&until=%s" % (t1, t1)), [first])
        self.assertEqual(ids("since=%s&until=%s" % (t1, t2)), [second, first])
        # Their signed times would have said the opposite.
        self.assertGreater(got[first]["issued"], got[second]["issued"])

    def test_not_received_yet(self):
        """A recall no index statement follows yet is listed first with
        "received": null and counts as received now: it matches a since up
        to now and an until from now on."""
        rid, index = self.issue("RT-NOW")
        settle(cluster)
        # Take the statements after it away, as if the integrator had not
        # run yet (an idle log appends none meanwhile), and put them back.
        saved = cluster.redis.zrangebyscore("log:{log}:lx:times", index, "+inf",
                                            withscores=True)
        self.assertTrue(saved)
        cluster.redis.zremrangebyscore("log:{log}:lx:times", index, "+inf")
        try:
            got = recalls("?limit=1")["recalls"][0]
            self.assertEqual((got["id"], got["received"]), (rid, None))
            today = time.strftime("%Y-%m-%d", time.gmtime())
            yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
            tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
            soon = utc(time.time() + 600)

            def has(q):
                return rid in [x["id"] for x in recalls("?lot=RT-NOW&" + q)["recalls"]]
            self.assertTrue(has("since=" + today))
            self.assertTrue(has("until=" + today))
            self.assertTrue(has("until=" + tomorrow))
            self.assertFalse(has("until=" + yesterday))
            self.assertFalse(has("since=" + soon))
            r = cluster.get("/api/v1/recalls?lot=RT-NOW", headers={"Accept": "text/csv"})
            rows = list(csv.DictReader(io.StringIO(r.body[3:].decode(), newline="")))
            self.assertEqual((rows[0]["id"], rows[0]["received"]), (rid, ""))
        finally:
            cluster.redis.zadd("log:{log}:lx:times", {m: s for m, s in saved})
        got = recalls("?lot=RT-NOW")["recalls"][0]
        self.assertEqual(got["received"], saved[0][0].decode().split(" ")[2])

    def test_cursor_is_a_log_index(self):
        ids = [self.issue("RT-C%d" % i)[1] for i in range(3)]
        got = recalls("?gtin=%s&limit=2" % GTIN)
        self.assertEqual(got["next"], str(got["recalls"][-1]["logIndex"]))
        below = recalls("?gtin=%s&limit=500&cursor=%d" % (GTIN, ids[2]))["recalls"]
        self.assertTrue(all(x["logIndex"] < ids[2] for x in below))
        self.assertEqual(below[0]["logIndex"], ids[1])
        # Log order, newest first, the whole way down.
        everything = recalls("?limit=500")["recalls"]
        order = [x["logIndex"] for x in everything]
        self.assertEqual(order, sorted(order, reverse=True))


class Pagination(unittest.TestCase):
    N = 1000

    @classmethod
    def setUpClass(cls):
        """1,000 chains of GTIN3, each registered and recalled, signed in
        two batches of 1,000.  Issue times repeat (three per second), so
        ties are broken by id."""
        cls.gtin = "04012345000016"
        base = 1700000000
        cls.when = {}
        cls.by_importer2 = set()
        regs, recs = [], []
        for i in range(cls.N):
            lot = "P%05d" % i
            reg = sign(keys["brand"], "product.registered", lot, 0, None, REGISTERED,
                       gtin=cls.gtin, when=utc(base))
            regs.append(reg)
            t = base + 10 + i // 3
            rec = sign(keys["importer2"] if i % 2 else keys["importer"], "recall.issued",
                       lot, 1, statement_id(reg), {"reason": "batch %d" % i,
                                                   "severity": 1 + i % 3, "action": "a"},
                       gtin=cls.gtin, when=utc(t))
            recs.append(rec)
            cls.when[statement_id(rec)] = t
            if i % 2:
                cls.by_importer2.add(statement_id(rec))
        for batch in (regs, recs):
            r = cluster.post("/api/v1/events", batch)
            assert r.status == 200, r
            statuses = [x.get("status") for x in r.json()["results"]]
            assert statuses == [201] * len(batch), set(statuses)
        cls.ids = set(cls.when)

    def walk(self, query, during=None):
        seen, order, cursor, pages = [], [], None, 0
        while True:
            q = query + ("&cursor=" + cursor if cursor else "")
            got = recalls(q)
            pages += 1
            seen.extend(x["id"] for x in got["recalls"])
            order.extend(x["logIndex"] for x in got["recalls"])
            if pages == 1 and during is not None:
                during()
            cursor = got["next"]
            if cursor is None:
                return seen, order, pages
            self.assertLess(pages, 100)

    def test_every_recall_exactly_once_while_recalls_arrive(self):
        arrived = []

        def arrive():
            # New recalls, one signed as newer and one as older than the
            # walk's position: both are received after it.
            for i, t in enumerate((1700000000 + 5000, 1700000000 + 1)):
                lot = "PX%d" % i
                reg = sign(keys["brand"], "product.registered", lot, 0, None,
                           REGISTERED, gtin=self.gtin, when=utc(1700000000))
                rec = sign(keys["importer"], "recall.issued", lot, 1,
                           statement_id(reg), {"reason": "late", "severity": 1,
                                               "action": "a"},
                           gtin=self.gtin, when=utc(t))
                r = cluster.post("/api/v1/events", [reg, rec])
                self.assertEqual([x["status"] for x in r.json()["results"]], [201, 201])
                arrived.append((t, statement_id(rec)))

        seen, order, pages = self.walk("?gtin=%s&limit=97" % self.gtin, during=arrive)
        self.assertEqual(len(seen), len(set(seen)), "a recall was returned twice")
        self.assertTrue(self.ids <= set(seen), "a recall was missed")
        # Stable order: log order (receipt time), strictly decreasing.
        self.assertEqual(order, sorted(order, reverse=True))
        self.assertEqual(len(set(order)), len(order))
        # Whatever time they were signed with, the newcomers were received
        # after the walk began: behind its cursor, not in this walk, but
        # first in the next.
        self.assertNotIn(arrived[0][1], seen)
        self.assertNotIn(arrived[1][1], seen)
        self.assertGreaterEqual(pages, 11)
        again, _, _ = self.walk("?gtin=%s&limit=500" % self.gtin)
        self.assertEqual(set(again), self.ids | {a[1] for a in arrived})
        self.assertEqual(set(again[:2]), {a[1] for a in arrived})

    def test_filtered_walk_and_csv_pages(self):
        # importer2 signed the odd ones: half, through the org index.
        seen, _, _ = self.walk("?gtin=%s&org=other-importer&limit=200" % self.gtin)
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen), self.by_importer2)
        self.assertEqual(len(seen), self.N // 2)
        # CSV pages carry the cursor in Link and X-Next-Cursor.
        r = cluster.get("/api/v1/recalls?gtin=%s&limit=300" % self.gtin,
                        headers={"Accept": "text/csv"})
        self.assertEqual(r.status, 200)
        cursor = r.headers["x-next-cursor"]
        self.assertIn("cursor=" + cursor, r.headers["link"])
        self.assertIn('rel="next"', r.headers["link"])
        self.assertEqual(len(r.body[3:].decode().splitlines()), 301)
        r2 = cluster.get(r.headers["link"].split(">")[0][1:],
                         headers={"Accept": "text/csv"})
        self.assertEqual(r2.status, 200)
        first = {row["id"] for row in csv.DictReader(io.StringIO(r.body[3:].decode()))}
        second = {row["id"] for row in csv.DictReader(io.StringIO(r2.body[3:].decode()))}
        self.assertEqual(len(first), 300)
        self.assertEqual(len(second), 300)
        self.assertEqual(first & second, set())

    def test_agent_table_and_csv(self):
        agent = harness.AGENT
        env = dict(os.environ, TRACE_SERVER=cluster.public_url)
        r = subprocess.run([agent, "recalls", "--gtin", "4012345000016"], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split()[:4], ["status", "chain", "gtin", "lot"])
        self.assertGreaterEqual(len(lines) - 1, self.N)
        self.assertIn("P00999", r.stdout)
        self.assertIn("P00000", r.stdout)
        self.assertRegex(r.stderr, r"\b%d recalls\b" % (len(lines) - 1))
        r = subprocess.run([agent, "recalls", "--gtin", "4012345000016", "--csv"],
                           env=env, capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"\xef\xbb\xbfid,status,chain"))
        self.assertEqual(r.stdout.count(b"\xef\xbb\xbf"), 1)
        rows = list(csv.DictReader(io.StringIO(r.stdout[3:].decode(), newline="")))
        self.assertEqual(len(rows), len({row["id"] for row in rows}))
        self.assertTrue(self.ids <= {row["id"] for row in rows})
        r = subprocess.run([agent, "recalls", "--gtin", "4012345000016", "--org",
                            "other-importer"], env=env, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("%d recalls" % (self.N // 2), r.stderr)
        r = subprocess.run([agent, "recalls", "--status", "closed", "--gtin",
                            "4012345000016"], env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 recalls", r.stderr)


if __name__ == "__main__":
    unittest.main()
