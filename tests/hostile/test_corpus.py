"""The hostile-request corpus (corpus.json): every case is sent to a live
trace-server; each must get its documented status (exactly one per case) (and error code where
given, in the JSON error shape of docs/PROTOCOL.md section 11.2 under /api/), leave Redis exactly as it
was, and leave the server answering /healthz.  Raw cases go over a plain
socket and may also be answered by closing the connection."""
import base64
import http.client
import json
import os
import unittest

import hostile
from hostile import HERE, StoreUnchanged, assert_up, faultlib, harness

cluster = None


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()


def tearDownModule():
    cluster.stop()
    faultlib.figure("hostile.corpus", cases_tried=hostile.tried["cases"])


def load():
    with open(os.path.join(HERE, "corpus.json")) as f:
        return json.load(f)["cases"]


def body_of(case):
    if "body" in case:
        return case["body"].encode("utf-8")
    if "body_b64" in case:
        return base64.b64decode(case["body_b64"])
    if "body_repeat" in case:
        prefix, unit, count, suffix = case["body_repeat"]
        return (prefix + unit * count + suffix).encode("utf-8")
    return None


def raw_of(case):
    if "raw_b64" in case:
        return base64.b64decode(case["raw_b64"])
    prefix, unit, count, suffix = case["raw_repeat"]
    return (base64.b64decode(prefix) + base64.b64decode(unit) * count +
            base64.b64decode(suffix))


def send(case):
    """(status or None, parsed JSON or None, closed without an answer)."""
    if "raw_b64" in case or "raw_repeat" in case:
        out, closed = faultlib.raw_exchange(cluster.port, raw_of(case), timeout=20,
                                            read_until_close=False)
        status = faultlib.status_of(out)
        return status, None, status is None and closed
    conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
    try:
        body = body_of(case)
        headers = dict(case.get("headers", {}))
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        conn.putrequest(case["method"], case["path"], skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        doc = None
        if (r.getheader("Content-Type") or "").startswith("application/json"):
            doc = json.loads(data)
        send.content_type = r.getheader("Content-Type") or ""
        send.allow = r.getheader("Allow")
        send.body = data
        return r.status, doc, False
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        return None, None, True
    finally:
        conn.close()


class Corpus(unittest.TestCase):
    def test_every_case(self):
        cases = load()
        self.assertGreaterEqual(len(cases), 100)
        names = [c["name"] for c in cases]
        self.assertEqual(len(names), len(set(names)), "case names are unique")
        for case in cases:
            with self.subTest(case=case["name"]):
                hostile.tried["cases"] += 1
                expect = case["expect"]
                self.assertIsInstance(expect, (int, str), "one documented answer per case")
                with StoreUnchanged(self, cluster, case["name"]):
                    status, doc, closed = send(case)
                self.assertEqual("close" if closed else status, expect)
                if doc is not None and status is not None and status >= 400:
                    self.assertIsInstance(doc["error"]["code"], str)
                    self.assertTrue(doc["error"]["message"])
                elif (status is not None and status >= 400 and
                      case.get("path", "").startswith("/api/")):
                    self.fail("an /api/ error without a JSON error body")
                if status == 200 and "if_200_content_type" in case:
                    self.assertTrue(send.content_type.startswith(case["if_200_content_type"]),
                                    send.content_type)
                    self.assertNotIn(b"root:", send.body)
                if "code" in case:
                    self.assertEqual(doc["error"]["code"], case["code"])
                if "allow" in case:
                    self.assertEqual(send.allow, case["allow"])
                if "results" in case:
                    self.assertTrue(doc["results"])
                    for item in doc["results"]:
                        self.assertEqual(item["status"], case["results"])
                        self.assertIn("code", item["error"])
                assert_up(self, cluster, case["name"])


if __name__ == "__main__":
    unittest.main()
