"""Chains for the resolver, page, QR and label tests (test_pages.py and the
browser tests in tests/browser/), signed with PyNaCl through harness.py:

  good      a Korean cosmetic lot through pre-inspection, Incheon -> Weihai,
            customs 1210 declared and released, bonded warehouse
  recalled  the same route, then recalled as a whole lot (severity 1)
  partial   recalled for serials 000100-000199 only
  closed    recalled, then the recall closed
  xss       every text a signer can write holds an HTML or script payload,
            and the lot itself uses characters HTML and URLs reserve
  fresh     registered only, no inspection, no customs

seed(cluster) enrolls the keys and records them, waits for the log to
cover them, and returns {name: {"gtin", "lot", "path", "ids"}}.
"""
import time

from harness import TYPE_EVENT, Key, event_payload, settle, statement_id

GTIN = "08801234567893"
GTIN2 = "08809876543213"

SCRIPT = "<script>alert(1)</script>"
ATTR = "\"><img src=x onerror=alert(1)>"
JS_URL = "javascript:alert(1)"

NAME = {"zh": "雪花秀滋阴乳液", "en": "Sulwhasoo Essential Emulsion", "ko": "설화수 자음유액"}


def link_encode(value):
    """A lot or serial as a Digital Link path segment (RFC 3986 unreserved
    kept, everything else %XX upper case), as libtrace writes it."""
    out = []
    for b in value.encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-._~"):
            out.append(c)
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def chain_path(gtin, lot):
    return "/01/%s/10/%s" % (gtin, link_encode(lot))


def when(days_ago, hh="10:00", offset="+09:00"):
    t = time.gmtime(time.time() - days_ago * 86400)
    return time.strftime("%Y-%m-%d", t) + "T%s:00%s" % (hh, offset)


def route(keys, name=None, brand="Sulwhasoo 雪花秀", cert="CCIC-KR-2026-00123",
          place="CCIC Korea Incheon laboratory", body="CCIC Korea Incheon laboratory"):
    """(key role, type, data, where, time) of the usual route."""
    return [
        ("brand", "product.registered",
         {"name": name or NAME, "brand": brand, "origin": "KR", "spec": "125 ml",
          "expiry": "2029-10-31", "manufacturer": "Amorepacific Osan plant",
          "quantity": 1200},
         {"country": "KR", "place": "Osan"}, when(12, "09:00")),
        ("inspector", "inspection.sampled", {"samples": 6, "sampleIds": ["S1", "S2"]},
         {"country": "KR", "place": place}, when(11, "10:30")),
        ("inspector", "inspection.completed",
         {"certificate": cert, "result": "pass", "body": body,
          "standard": "Safety and Technical Standards for Cosmetics (2015)",
          "items": [{"name": "Lead (Pb)", "value": "0.6 mg/kg", "limit": "10 mg/kg",
                     "result": "pass"}]},
         {"country": "KR", "place": place}, when(11, "17:00")),
        ("logistics", "shipment.departed",
         {"carrier": "Weidong Ferry", "vessel": "New Golden Bridge V",
          "billOfLading": "WDF2611001", "port": "KRINC"},
         {"country": "KR", "place": "Incheon"}, when(10, "18:00")),
        ("logistics", "shipment.arrived",
         {"carrier": "Weidong Ferry", "vessel": "New Golden Bridge V",
          "billOfLading": "WDF2611001", "port": "CNWEI"},
         {"country": "CN", "place": "Weihai"}, when(9, "09:30", "+08:00")),
        ("importer", "customs.declared", {"declaration": "421920261000123456", "mode": "1210"},
         {"country": "CN", "place": "Weihai Comprehensive Bonded Zone"},
         when(9, "11:00", "+08:00")),
        ("customs", "customs.released", {"declaration": "421920261000123456"},
         {"country": "CN", "place": "Weihai Customs"}, when(9, "15:00", "+08:00")),
        ("warehouse", "warehouse.received",
         {"warehouse": "Weihai Comprehensive Bonded Zone, Warehouse 3", "quantity": 1200},
         {"country": "CN", "place": "Weihai"}, when(8, "08:40", "+08:00")),
    ]


RECALL = ("importer", "recall.issued",
          {"reason": "Microbial limit exceeded in retained samples", "severity": 1,
           "action": "Stop using it and return it to the store for a full refund",
           "contact": "400-820-1234"},
          {"country": "CN", "place": "Weihai"}, when(1, "09:00", "+08:00"))

XSS_TEXT = {
    "name": {"zh": SCRIPT, "en": ATTR, "ko": JS_URL},
    "brand": "<b>bold</b>" + SCRIPT,
    "cert": ATTR,
    "place": "<iframe src=\"" + JS_URL + "\"></iframe>",
    "body": "</dd></dl><script>alert(2)</script>",
}


class Seeder:
    def __init__(self, cluster):
        self.cluster = cluster
        self.keys = {}
        for role in ("brand", "inspector", "logistics", "customs", "warehouse",
                     "importer", "regulator"):
            k = Key(role + "-pages")
            org = {"inspector": "CCIC Korea", "customs": "Weihai Customs"}.get(
                role, "Org " + role)
            cluster.enroll(k, role, org=org)
            self.keys[role] = k
        self.chains = {}

    def record(self, name, gtin, lot, events):
        """events: (role, type, data, where, time); data may be a function
        of the ids recorded so far (a close names its recall)."""
        prev, ids = None, []
        for seq, (role, etype, data, where, t) in enumerate(events):
            key = self.keys[role]
            if callable(data):
                data = data(ids)
            env = key.sign(TYPE_EVENT, event_payload(key, etype, gtin, lot, seq, prev,
                                                     data, when=t, where=where))
            r = self.cluster.post("/api/v1/events", env)
            if r.status not in (200, 201):
                raise AssertionError("seeding %s seq %d: %r" % (name, seq, r))
            prev = statement_id(env)
            ids.append(prev)
        self.chains[name] = {"gtin": gtin, "lot": lot, "path": chain_path(gtin, lot),
                             "ids": ids}
        return ids


def seed(cluster):
    s = Seeder(cluster)
    s.record("good", GTIN, "L2311A", route(s.keys))
    s.record("recalled", GTIN2, "R2309B", route(s.keys) + [RECALL])
    partial = (RECALL[0], RECALL[1], dict(RECALL[2], serials=[["000100", "000199"]]),
               RECALL[3], RECALL[4])
    s.record("partial", GTIN, "P2310C", route(s.keys) + [partial])
    # The close names the recall it closes: the one just before it.
    closed = ("importer", "recall.closed",
              lambda ids: {"recall": ids[-1], "outcome": "destroyed", "recovered": 1200},
              {"country": "CN"}, when(0, "00:00", "+00:00"))
    s.record("closed", GTIN, "C2308D", route(s.keys) + [RECALL, closed])
    xss_recall = ("importer", "recall.issued",
                  {"reason": "</script><script>alert(4)</script>", "severity": 2,
                   "action": "<a href=\"" + JS_URL + "\">" + SCRIPT + "</a>",
                   "contact": JS_URL},
                  {"country": "CN", "place": ATTR}, when(1, "09:00", "+08:00"))
    s.record("xss", GTIN, "X\"<i>&'", route(
        s.keys, name=XSS_TEXT["name"], brand=XSS_TEXT["brand"], cert=XSS_TEXT["cert"],
        place=XSS_TEXT["place"], body=XSS_TEXT["body"]) + [xss_recall])
    s.record("fresh", GTIN, "F2312E", route(s.keys)[:1])
    settle(cluster)
    # Wait until a signed checkpoint covers everything, so verdicts are final.
    deadline = time.time() + 10
    while time.time() < deadline:
        log = cluster.get("/api/v1/log")
        if log.status == 200 and log.json().get("size") == log.json().get("integrated", log.json()["size"]):
            cp = cluster.get("/api/v1/checkpoint")
            if cp.status == 200 and int(cp.body.decode().split("\n")[1]) >= log.json()["size"]:
                break
        time.sleep(0.1)
    return s.chains
