"""The GS1 Digital Link resolver, the consumer and inspector pages, QR codes
and labels against a real redis-server and trace-server (docs/PROTOCOL.md sections 2
and 5): statuses, content negotiation, linksets, the resolver description,
page sizes, security headers, escaping of hostile signer text, scan
counters, recall banners, verdicts, QR codes that decode to the exact URI,
and label bounds."""
import html.parser
import http.client
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness
import pages_seed
from pages_seed import GTIN, SCRIPT, ATTR, JS_URL, chain_path, link_encode

cluster = None
chains = None


def setUpModule():
    global cluster, chains
    cluster = harness.Cluster.start()
    chains = pages_seed.seed(cluster)


def tearDownModule():
    cluster.stop()


def get(path, accept=None, lang=None, method="GET"):
    headers = {}
    if accept:
        headers["Accept"] = accept
    if lang:
        headers["Accept-Language"] = lang
    return cluster.request(method, path, headers=headers)


class Markup(html.parser.HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(body):
    m = Markup()
    m.feed(body.decode())
    return m


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Resolver(unittest.TestCase):
    def test_page_is_html_by_default(self):
        r = get(chains["good"]["path"], accept=BROWSER)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/html"))
        self.assertIn('data-verdict="genuine"', r.body.decode())

    def test_bad_check_digit_is_400_html_and_json(self):
        path = "/01/08801234567890/10/L2311A"
        r = get(path, accept=BROWSER)
        self.assertEqual(r.status, 400)
        self.assertTrue(r.headers["content-type"].startswith("text/html"))
        r = get(path, accept="application/json")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"]["code"], "invalid_gtin")

    def test_malformed_paths_are_400(self):
        for path in ("/01/abc/10/L1", "/01/08801234567893/10/", "/01/08801234567893/10/L1/",
                     "/01/08801234567893/10/L1/21/", "/01/08801234567893/99/x",
                     "/01/08801234567893/10/a%ZZ", "/01/08801234567893/10/.."):
            r = get(path, accept="application/json")
            self.assertEqual(r.status, 400, path)
            self.assertIn("error", r.json())

    def test_unknown_lot_is_404(self):
        r = get("/01/%s/10/NOSUCH" % GTIN, accept="application/json")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["error"]["code"], "not_found")
        r = get("/01/%s/10/NOSUCH" % GTIN, accept=BROWSER)
        self.assertEqual(r.status, 404)
        self.assertTrue(r.headers["content-type"].startswith("text/html"))
        # A short GTIN (GTIN-13) names the same product.
        r = get("/01/%s/10/L2311A" % GTIN[1:], accept="application/json")
        self.assertEqual(r.status, 200)

    def test_unknown_chain_leaves_no_keys(self):
        before = set(cluster.redis.keys("c:*"))
        get("/01/%s/10/NOSUCH/21/0001" % GTIN)
        self.assertEqual(set(cluster.redis.keys("c:*")), before)

    def test_json(self):
        c = chains["good"]
        r = get(c["path"] + "/21/000007", accept="application/json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/json")
        doc = r.json()
        self.assertEqual(doc["uri"], cluster.public_url + c["path"] + "/21/000007")
        self.assertEqual(doc["gtin"], GTIN)
        self.assertEqual(doc["lot"], "L2311A")
        self.assertEqual(doc["serial"], "000007")
        self.assertEqual(doc["product"]["name"]["ko"], "설화수 자음유액")
        self.assertEqual(doc["verdict"]["status"], "genuine")
        self.assertEqual(doc["verdict"]["head"], {"seq": 7, "id": c["ids"][-1]})
        self.assertEqual(doc["inspection"]["data"]["certificate"], "CCIC-KR-2026-00123")
        # The registered org: its id, and its names (SPEC 8).
        self.assertEqual(doc["inspection"]["signer"]["org"], "ccic-korea")
        self.assertEqual(doc["inspection"]["signer"]["orgNameEn"], "CCIC Korea")
        self.assertEqual(doc["customs"], {"status": "released",
                                          "declaration": "421920261000123456", "mode": "1210"})
        self.assertEqual(doc["recall"], {"status": "none"})
        self.assertEqual([e["type"] for e in doc["route"]], [
            "inspection.sampled", "inspection.completed", "shipment.departed",
            "shipment.arrived", "customs.declared", "customs.released",
            "warehouse.received"])
        self.assertEqual(doc["scans"]["count"], 1)
        self.assertIn("linkset", r.headers["link"])

    def test_linkset(self):
        c = chains["good"]
        for r in (get(c["path"] + "?linkType=all"),
                  get(c["path"], accept="application/linkset+json")):
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["content-type"], "application/linkset+json")
            doc = r.json()
            self.assertEqual(len(doc["linkset"]), 1)
            ls = doc["linkset"][0]
            self.assertEqual(ls["anchor"], cluster.public_url + c["path"])
            voc = "https://gs1.org/voc/"
            for t in ("defaultLink", "pip", "traceability", "certificationInfo",
                      "recallStatus"):
                self.assertIn(voc + t, ls, t)
                for link in ls[voc + t]:
                    self.assertTrue(link["href"].startswith(cluster.public_url), link)
                    self.assertIn("type", link)
                    self.assertIn("title", link)
            self.assertEqual(ls[voc + "pip"][0]["href"], cluster.public_url + c["path"])
            self.assertEqual(ls[voc + "pip"][0]["hreflang"], ["zh-CN", "en", "ko"])
            hrefs = [l["href"] for l in ls[voc + "traceability"]]
            self.assertIn(cluster.public_url + "/inspect" + c["path"], hrefs)
            self.assertIn(cluster.public_url + "/api/v1/chains" + c["path"], hrefs)
            cert = ls[voc + "certificationInfo"][0]
            self.assertEqual(cert["href"], cluster.public_url + "/api/v1/events/" + c["ids"][2])
            self.assertIn("CCIC-KR-2026-00123", cert["title"])

    def test_link_type_redirects(self):
        c = chains["good"]
        r = get(c["path"] + "?linkType=gs1:traceability")
        self.assertEqual(r.status, 307)
        self.assertEqual(r.headers["location"], cluster.public_url + "/inspect" + c["path"])
        r = get(c["path"] + "?linkType=gs1:pip", accept=BROWSER)
        self.assertEqual(r.status, 200)

    def test_resolver_description(self):
        r = get("/.well-known/gs1resolver")
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertEqual(doc["resolverRoot"], cluster.public_url)
        self.assertEqual(doc["supportedPrimaryKeys"], ["01"])
        self.assertTrue(doc["name"])
        self.assertEqual(doc["supportedLinkType"][0]["prefix"], "gs1:")


class Pages(unittest.TestCase):
    def check_headers(self, r):
        csp = r.headers["content-security-policy"]
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        self.assertEqual(directives["script-src"], ["'self'"])
        self.assertNotIn("'unsafe-inline'", csp)
        self.assertEqual(directives["object-src"], ["'none'"])
        self.assertEqual(directives["frame-ancestors"], ["'none'"])
        self.assertEqual(r.headers["x-content-type-options"], "nosniff")
        self.assertEqual(r.headers["referrer-policy"], "no-referrer")

    def test_consumer_pages_small_with_headers(self):
        for name in ("good", "recalled", "partial", "xss"):
            for lang in ("zh-CN", "en", "ko"):
                r = get(chains[name]["path"] + "/21/000150?lang=" + lang)
                self.assertEqual(r.status, 200)
                self.assertLess(len(r.body), 30 * 1024, (name, lang))
                self.check_headers(r)
                self.assertIn('<html lang="%s">' % lang, r.body.decode())

    def test_language_negotiation(self):
        path = chains["good"]["path"]
        self.assertIn('lang="zh-CN"', get(path).body.decode())
        self.assertIn('lang="ko"', get(path, lang="ko-KR,ko;q=0.9,en;q=0.8").body.decode())
        self.assertIn('lang="en"', get(path, lang="fr-FR,en-US;q=0.7,zh;q=0.3").body.decode())
        self.assertIn('lang="zh-CN"', get(path, lang="de,fr").body.decode())
        self.assertIn('lang="en"', get(path + "?lang=en", lang="ko").body.decode())
        body = get(path + "?lang=ko").body.decode()
        self.assertIn("설화수 자음유액", body)
        self.assertIn('href="%s?lang=en"' % path, body)

    def test_consumer_content(self):
        body = get(chains["good"]["path"] + "?lang=en").body.decode()
        for text in ("Genuine", "Sulwhasoo Essential Emulsion", "CCIC Korea Incheon laboratory",
                     "CCIC-KR-2026-00123", "Incheon (KRINC)", "Weihai (CNWEI)",
                     "Bonded cross-border e-commerce (1210)", "Released", "Not recalled"):
            self.assertIn(text, body)
        self.assertNotIn('id="recall"', body)
        self.assertNotIn('id="scans"', body)  # no serial, no counter

    def test_recall_banner(self):
        body = get(chains["recalled"]["path"] + "/21/000042?lang=en").body.decode()
        self.assertIn('<section class="recall" id="recall" role="alert">', body)
        self.assertLess(body.index('id="recall"'), body.index('id="verdict"'))
        self.assertIn("Stop using it and return it to the store for a full refund", body)
        self.assertIn("Class 1 (most serious)", body)
        doc = get(chains["recalled"]["path"], accept="application/json").json()
        self.assertEqual(doc["recall"]["status"], "recalled")
        self.assertEqual(doc["recall"]["event"]["data"]["severity"], 1)

    def test_partial_recall_by_serial(self):
        path = chains["partial"]["path"]
        self.assertIn('id="recall"', get(path + "/21/000150").body.decode())
        other = get(path + "/21/000250").body.decode()
        self.assertNotIn('id="recall"', other)
        self.assertIn('id="recall-note"', other)
        lot = get(path + "?lang=en").body.decode()
        self.assertIn('id="recall"', lot)
        self.assertIn("000100\u2013000199", lot)
        self.assertEqual(get(path + "/21/000250", accept="application/json").json()
                         ["recall"]["status"], "other_serials_recalled")

    def test_unit_pages_from_templates_keep_serial_and_recall(self):
        """Unit pages are copied from a template per lot, language and
        recall status (unitpage.c): interleaved views of serials inside
        and outside a partial recall each show their own serial and
        status; a serial that escaping changes is rendered in full."""
        path = chains["partial"]["path"]
        for serial in ("000150", "000250", "000151", "000251", "000152"):
            body = get(path + "/21/" + serial + "?lang=en").body.decode()
            self.assertEqual('id="recall"' in body, serial.startswith("0001"), serial)
            self.assertIn('data-serial="%s"' % serial, body)
            self.assertIn("<dd>%s</dd>" % serial, body)
            self.assertIn("/21/%s?linkType=all" % serial, body)
        a = get(path + "/21/000153?lang=en").body.decode()
        b = get(path + "/21/000154?lang=en").body.decode()
        self.assertEqual(a.replace("000153", "S"), b.replace("000154", "S"))
        odd = get(path + "/21/A%2FB%3C?lang=en")
        self.assertEqual(odd.status, 200)
        self.assertIn('data-serial="A/B&lt;"', odd.body.decode())

    def test_closed_recall(self):
        body = get(chains["closed"]["path"] + "?lang=en").body.decode()
        self.assertNotIn('id="recall"', body)
        self.assertIn("The recall of this lot was closed: destroyed", body)

    def test_scan_counter(self):
        path = chains["good"]["path"] + "/21/SCAN-1"
        for n in range(1, 8):
            body = get(path + "?lang=en").body.decode()
            self.assertIn('data-count="%d"' % n, body)
            # SPEC 12: views are never a copy signal (codes are).
            self.assertNotIn('id="scan-warning"', body)
        self.assertIn("opened 7 times", body)
        get(path, method="HEAD")
        get(path + "?linkType=all")
        self.assertEqual(get(path, accept="application/json").json()["scans"]["count"], 8)
        key = "c:{01/%s/10/L2311A}:scans" % GTIN
        # Written after the answer (scancount.c): within moments.
        deadline = harness.time.time() + 5
        while cluster.redis.hget(key, "n:SCAN-1") != b"8" and harness.time.time() < deadline:
            harness.time.sleep(0.02)
        self.assertEqual(cluster.redis.hget(key, "n:SCAN-1"), b"8")
        self.assertTrue(cluster.redis.hget(key, "f:SCAN-1"))

    def test_scan_counts_are_bounded_per_lot(self):
        """trace_scan_add counts at most <max> serials per lot (the server
        passes SCANS_SERIALS_MAX): invented serials cannot grow Redis
        without bound, serials already counted still count; and
        trace_page_read reads the counts back, with none for a serial
        that would not be counted."""
        r = cluster.redis
        ev = "c:{01/%s/10/L2311A}:ev" % GTIN
        key = "c:{01/%s/10/L2311A}:scans-bound-test" % GTIN

        def add(serial):
            return r.fcall("trace_scan_add", 2, ev, key, 2, serial, 1, 100)

        def read(serial):
            return r.fcall_ro("trace_page_read", 2, ev, key, serial, 0, "", 2)[2:]

        self.assertEqual(add("A"), [1, b"100"])
        self.assertEqual(add("B"), [1, b"100"])
        self.assertEqual(add("C"), [-1, b""])    # a third serial: not counted
        self.assertEqual(add("A"), [2, b"100"])
        self.assertEqual(sorted(r.hkeys(key)), [b"f:A", b"f:B", b"n:A", b"n:B"])
        self.assertEqual(read("A"), [2, b"100"])
        self.assertEqual(read("B"), [1, b"100"])
        self.assertEqual(read("C"), [])
        r.delete(key)
        self.assertEqual(read("A"), [0, b""])    # not viewed yet: 0
        self.assertEqual(r.exists(key), 0)       # and reading wrote nothing

    def test_pages_are_served_while_the_store_refuses_writes(self):
        """A Redis primary that has lost its replicas refuses every
        Function that may write (NOREPLICAS under min-replicas-to-write,
        as during a Sentinel failover: tests/deploy/).  Nothing a page
        view or a chain read calls is such a Function, so they are still
        served; only writes fail (503)."""
        c = pages_seed.Seeder.__new__(pages_seed.Seeder)
        c.cluster, c.chains = cluster, {}
        c.keys = {"brand": harness.Key("brand-norepl"),
                  "inspector": harness.Key("insp-norepl")}
        cluster.enroll(c.keys["brand"], "brand")
        cluster.enroll(c.keys["inspector"], "inspector", org="CCIC Korea")
        events = pages_seed.route(c.keys)
        c.record("norepl", GTIN, "NR0001", events[:2])
        harness.settle(cluster)
        lot_path = chain_path(GTIN, "NR0001")
        r = cluster.redis
        r.config_set("min-replicas-to-write", 1)
        try:
            # Never viewed: every read below goes to the store.
            for path, accept in ((lot_path + "/21/7", "application/json"),
                                 (lot_path, "application/json"),
                                 (lot_path + "/21/8", BROWSER),
                                 ("/api/v1/chains" + lot_path, None),
                                 ("/api/v1/bundles" + lot_path, None),
                                 ("/inspect" + lot_path, None),
                                 ("/api/v1/checkpoint", None),
                                 ("/api/v1/recalls", None),
                                 ("/recalls", None),
                                 ("/readyz", None)):
                got = get(path, accept=accept, lang="en")
                self.assertEqual(got.status, 200, (path, got.body[:200]))
            role, etype, data, where, t = events[2]
            key = c.keys[role]
            env = key.sign(harness.TYPE_EVENT, harness.event_payload(
                key, etype, GTIN, "NR0001", 2, c.chains["norepl"]["ids"][1], data,
                when=t, where=where))
            refused = cluster.post("/api/v1/events", env)
            self.assertEqual(refused.status, 503, refused.body[:200])
        finally:
            r.config_set("min-replicas-to-write", 0)
        self.assertEqual(cluster.post("/api/v1/events", env).status, 201)

    def test_unverified_before_a_checkpoint_or_with_a_bad_signature(self):
        # A chain whose stored envelope was altered: the server's own check
        # (bundle verification) must refuse it.
        c = pages_seed.Seeder.__new__(pages_seed.Seeder)
        c.cluster, c.chains = cluster, {}
        c.keys = {}
        k = harness.Key("brand-tamper")
        cluster.enroll(k, "brand")
        c.keys["brand"] = k
        c.record("tamper", GTIN, "T0001", pages_seed.route(c.keys)[:1])
        harness.settle(cluster)
        key = "c:{01/%s/10/T0001}:ev" % GTIN
        record = cluster.redis.lindex(key, 0).decode()
        rid, index, env = record.split(" ", 2)
        env = json.loads(env)
        sig = bytearray(harness.base64.b64decode(env["signatures"][0]["sig"]))
        sig[5] ^= 1
        env["signatures"][0]["sig"] = harness.b64(bytes(sig))
        cluster.redis.lset(key, 0, "%s %s %s" % (rid, index, json.dumps(env, separators=(",", ":"))))
        r = get(chain_path(GTIN, "T0001"), accept="application/json")
        self.assertEqual(r.json()["verdict"]["status"], "not_verifiable")
        self.assertEqual(r.json()["verdict"]["code"], "bad_signature")
        body = get(chain_path(GTIN, "T0001") + "?lang=en").body.decode()
        self.assertIn('data-verdict="not_verifiable"', body)
        self.assertIn("Not verifiable", body)

    def test_a_growing_chain_is_read_again(self):
        # Views cache the parsed chain per head: a new event must show.
        c = pages_seed.Seeder.__new__(pages_seed.Seeder)
        c.cluster, c.chains = cluster, {}
        c.keys = {"brand": harness.Key("brand-grow"), "inspector": harness.Key("insp-grow")}
        cluster.enroll(c.keys["brand"], "brand")
        cluster.enroll(c.keys["inspector"], "inspector", org="CCIC Korea")
        events = pages_seed.route(c.keys)
        c.record("grow", GTIN, "G0001", events[:1])
        lot_path = chain_path(GTIN, "G0001")
        path = lot_path + "/21/1"   # unit pages are never served from memory
        lot_before = get(lot_path + "?lang=en").body.decode()
        doc = get(path, accept="application/json").json()
        self.assertEqual(doc["route"], [])
        self.assertIsNone(doc["inspection"])
        role, etype, data, where, t = events[2]
        key = c.keys["inspector"]
        env = key.sign(harness.TYPE_EVENT, harness.event_payload(
            key, etype, GTIN, "G0001", 1, c.chains["grow"]["ids"][0], data, when=t, where=where))
        self.assertEqual(cluster.post("/api/v1/events", env).status, 201)
        doc = get(path, accept="application/json").json()
        self.assertEqual([e["type"] for e in doc["route"]], ["inspection.completed"])
        self.assertEqual(doc["verdict"]["head"]["id"], harness.statement_id(env))
        self.assertIn(doc["verdict"]["status"], ("pending", "genuine"))
        harness.settle(cluster)
        deadline = harness.time.time() + 10
        while doc["verdict"]["status"] != "genuine" and harness.time.time() < deadline:
            harness.time.sleep(0.2)
            doc = get(path, accept="application/json").json()
        self.assertEqual(doc["verdict"]["status"], "genuine")
        self.assertIn("CCIC-KR-2026-00123", get(path + "?lang=en").body.decode())
        # Lot pages may come from memory for up to a second (pagecache.c).
        self.assertNotIn("CCIC-KR-2026-00123", lot_before)
        harness.time.sleep(1.1)
        self.assertIn("CCIC-KR-2026-00123", get(lot_path + "?lang=en").body.decode())

    def test_xss_payloads_are_text(self):
        c = chains["xss"]
        pages = [get(c["path"] + "/21/1?lang=" + l).body for l in ("zh-CN", "en", "ko")]
        pages.append(get("/inspect" + c["path"] + "?lang=en").body)
        for body in pages:
            m = parse(body)
            text = "".join(m.text)
            scripts = [a for t, a in m.tags if t == "script"]
            self.assertEqual(len(scripts), 1 if b"verify.js" in body else 0)
            for tag, attrs in m.tags:
                self.assertNotIn(tag, ("img", "iframe", "svg", "b", "i"), (tag, attrs))
                if tag == "a":
                    self.assertFalse(attrs.get("href", "").lower().startswith("javascript"))
                for name, value in attrs.items():
                    self.assertFalse(name.startswith("on"), (tag, name))
            self.assertNotIn(b"<script>alert", body)
            self.assertNotIn(b"<img src=x", body)
            self.assertNotIn(b"<iframe", body)
            # The payloads are there, as text.
            self.assertTrue(SCRIPT in text or ATTR in text or JS_URL in text)
        zh = parse(pages[0])
        self.assertIn(SCRIPT, "".join(zh.text))
        self.assertIn(ATTR, "".join(parse(pages[1]).text))
        # JSON stays JSON and carries the text exactly.
        doc = get(c["path"], accept="application/json").json()
        self.assertEqual(doc["product"]["name"]["zh"], SCRIPT)
        self.assertEqual(doc["lot"], "X\"<i>&'")
        raw = get(c["path"], accept="application/json").body
        self.assertNotIn(b"<script>", raw)

    def test_inspector_page(self):
        c = chains["good"]
        r = get("/inspect" + c["path"] + "?lang=en")
        self.assertEqual(r.status, 200)
        self.check_headers(r)
        body = r.body.decode()
        m = parse(r.body)
        sections = [a for t, a in m.tags if t == "section" and "event" in a.get("class", "")]
        self.assertEqual(len(sections), 8)
        for i, rid in enumerate(c["ids"]):
            self.assertIn(rid, body)
        self.assertEqual(body.count("\u2713 verified (checkpoint size"), 8)
        self.assertIn('href="/api/v1/bundles%s"' % c["path"], body)
        self.assertIn("trace-agent verify bundle.json --root ADMIN.pub --log-vkey", body)
        vkey = cluster.get("/api/v1/log").json()["vkey"]
        self.assertIn(vkey, body)
        self.assertIn("CCIC Korea", body)
        self.assertIn("&quot;certificate&quot;: &quot;CCIC-KR-2026-00123&quot;", body)
        self.assertEqual(get("/inspect" + c["path"] + "/21/1").status, 400)
        self.assertEqual(get("/inspect/01/%s/10/NOSUCH" % GTIN).status, 404)

    def test_static_assets(self):
        r = get("/static/verify.js")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/javascript"))
        self.assertIn(b"crypto.subtle", r.body)
        r = get("/static/trace.css")
        self.assertTrue(r.headers["content-type"].startswith("text/css"))
        self.assertEqual(get("/static/nope.js").status, 404)


def zbar(png):
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png)
        f.flush()
        out = subprocess.run(["zbarimg", "-q", "--raw", f.name], capture_output=True)
    return out.stdout.decode().rstrip("\n")


class QRCodes(unittest.TestCase):
    # zbar-tools and librsvg2-bin are test dependencies (make test-deps): a
    # missing one fails these tests rather than skipping them.
    def test_png_decodes_to_the_exact_uri(self):
        for lot, serial in (("L2311A", "000123"), ("A/B+C", "S/1+2%"), ("X\"<i>&'", None)):
            path = chain_path(GTIN, lot) + ("/21/" + link_encode(serial) if serial else "")
            r = get("/qr" + path + ".png")
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.headers["content-type"], "image/png")
            self.assertEqual(zbar(r.body), cluster.public_url + path)

    def test_svg_decodes(self):
        path = chain_path(GTIN, "L2311A") + "/21/000123"
        r = get("/qr" + path + ".svg")
        self.assertEqual(r.headers["content-type"], "image/svg+xml")
        png = subprocess.run(["rsvg-convert", "-w", "400"], input=r.body,
                             capture_output=True).stdout
        self.assertEqual(zbar(png), cluster.public_url + path)

    def test_size_is_bounded(self):
        path = "/qr" + chain_path(GTIN, "L2311A")
        small = get(path + ".png?size=64").body
        big = get(path + ".png?size=2048").body
        self.assertLess(len(small), len(big))
        for bad in ("63", "2049", "-1", "1e3", "abc", ""):
            self.assertEqual(get(path + ".png?size=" + bad).status, 400, bad)
        self.assertEqual(get(path + ".gif").status, 404)
        self.assertEqual(get("/qr/01/08801234567890/10/L1.png").status, 400)
        self.assertEqual(get("/qr/01/%s.png" % GTIN).status, 400)


class KeepAlive(unittest.TestCase):
    """Answers up to 64 KB go out head and body in one write (http.c),
    larger ones in two, HEAD answers without a body: on one keep-alive
    connection every answer is framed by its Content-Length, whichever
    way it was written."""

    def test_answers_in_sequence_on_one_connection(self):
        page = chains["good"]["path"]
        labels = "/labels" + page + "?from=000001&count=200"
        script = "/static/verify.js"
        conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
        sizes = {}
        try:
            for method, path, status in (
                    ("GET", page, 200), ("HEAD", page, 200),
                    ("GET", "/api/v1/log", 200), ("GET", labels, 200),
                    ("GET", "/01/%s/10/NOSUCH" % GTIN, 404),
                    ("GET", script, 200), ("HEAD", script, 200),
                    ("HEAD", labels, 200), ("GET", "/healthz", 200),
                    ("GET", page, 200)):
                conn.request(method, path, headers={"Accept-Language": "en"})
                r = conn.getresponse()
                body = r.read()
                self.assertEqual(r.status, status, path)
                length = int(r.getheader("Content-Length"))
                if method == "HEAD":
                    self.assertEqual(body, b"", path)
                    self.assertEqual(length, sizes[path], path)
                else:
                    self.assertEqual(len(body), length, path)
                    sizes[path] = length
                self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        finally:
            conn.close()
        self.assertGreater(sizes[script], 65536)
        self.assertLess(sizes[labels], 65536)


class Labels(unittest.TestCase):
    def labels(self, query):
        return get("/labels" + chains["good"]["path"] + query)

    def test_sheet(self):
        r = self.labels("?from=SN0098&count=3&lang=en")
        self.assertEqual(r.status, 200)
        m = parse(r.body)
        imgs = [a["src"] for t, a in m.tags if t == "img"]
        base = "/qr" + chains["good"]["path"] + "/21/"
        self.assertEqual(imgs, [base + s + ".svg?size=240" for s in ("SN0098", "SN0099", "SN0100")])
        text = "".join(m.text)
        self.assertIn("(01) " + GTIN, text)
        self.assertIn("(10) L2311A", text)
        self.assertIn("(21) SN0100", text)

    def test_count_bound(self):
        r = self.labels("?from=000001&count=200")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.count(b'class="label"'), 200)
        self.assertEqual(self.labels("").body.count(b'class="label"'), 21)
        for q in ("?count=201", "?count=0", "?count=-1", "?count=x", "?from=ABC",
                  "?from=99999999999999999999", "?from=%3C1%3E%20"):
            self.assertEqual(self.labels(q).status, 400, q)
        self.assertEqual(get("/labels/01/%s/10/NOSUCH" % GTIN).status, 404)



def chain_commands(gtin, lot):
    """harness.ChainCommands on that chain's events list."""
    return harness.ChainCommands(cluster, "c:{01/%s/10/%s}:ev" % (gtin, link_encode(lot)))


LONG_LOT = "LONG/25%"        # '/' and '%' must be encoded in links
LONG_EVENTS = 250


class LongChain(unittest.TestCase):
    """A chain of 250 events (SPEC 7 "no anonymous request costs more than
    O(page size) work"): the chain JSON and the inspector page come in
    pages (PROTOCOL 11.6, 11.15)."""

    @classmethod
    def setUpClass(cls):
        cls.brand = brand = harness.Key("brand-long")
        cls.logistics = logistics = harness.Key("logistics-long")
        cluster.enroll(brand, "brand", org="Org brand")
        cluster.enroll(logistics, "logistics", org="Org logistics")
        envs, prev = [], None
        for seq in range(LONG_EVENTS):
            if seq == 0:
                env = brand.sign(harness.TYPE_EVENT, harness.event_payload(
                    brand, "product.registered", GTIN, LONG_LOT, 0, None,
                    harness.REGISTERED))
            else:
                env = logistics.sign(harness.TYPE_EVENT, harness.event_payload(
                    logistics, "shipment.departed", GTIN, LONG_LOT, seq, prev,
                    {"carrier": "Carrier %d" % seq, "billOfLading": "BL%d" % seq,
                     "port": "KRINC"}))
            envs.append(env)
            prev = harness.statement_id(env)
        r = cluster.post("/api/v1/events", envs)
        assert r.status == 200, r
        assert [x["status"] for x in r.json()["results"]] == [201] * LONG_EVENTS, r.json()
        cls.ids = [harness.statement_id(e) for e in envs]
        cls.path = "/api/v1/chains" + chain_path(GTIN, LONG_LOT)
        harness.settle(cluster)

    def walk(self, first):
        """Follow the Link headers from path first: the pages' answers."""
        pages, path = [], first
        while path is not None:
            r = cluster.get(path)
            self.assertEqual(r.status, 200, r)
            pages.append(r)
            nxt = r.json()["next"]
            if nxt is None:
                self.assertNotIn("link", r.headers)
                path = None
            else:
                link = r.headers["link"]
                self.assertTrue(link.startswith("<") and link.endswith('>; rel="next"'), link)
                self.assertEqual(r.headers["x-next-cursor"], nxt)
                path = link[1:link.index(">")]
                self.assertIn("cursor=" + nxt, path)
            self.assertLess(len(pages), 10)
        return pages

    def test_walk_returns_every_event_once_in_order(self):
        pages = self.walk(self.path + "?limit=100")
        self.assertEqual(len(pages), 3)
        self.assertEqual([p.json()["next"] for p in pages], ["100", "200", None])
        self.assertEqual([len(p.json()["events"]) for p in pages], [100, 100, 50])
        events = [e for p in pages for e in p.json()["events"]]
        self.assertEqual([e["id"] for e in events], self.ids)
        self.assertEqual([e["seq"] for e in events], list(range(LONG_EVENTS)))
        for p in pages:
            doc = p.json()
            self.assertEqual(doc["head"], {"seq": LONG_EVENTS - 1, "id": self.ids[-1]})
            self.assertEqual(doc["status"]["recall"]["status"], "none")
            self.assertIn("recalls", doc)
        # The lot in the link is encoded, so the link reads the same chain.
        self.assertIn("/10/LONG%2F25%25?cursor=100>", pages[0].headers["link"])
        self.assertIn("?limit=1&cursor=1>",
                      cluster.get(self.path + "?limit=1").headers["link"])

    def test_default_page_and_short_chains(self):
        doc = cluster.get(self.path).json()
        self.assertEqual(len(doc["events"]), 100)
        self.assertEqual(doc["next"], "100")
        pages = self.walk(self.path)
        self.assertEqual([len(p.json()["events"]) for p in pages], [100, 100, 50])
        self.assertNotIn("limit=", pages[0].headers["link"])
        # A chain up to the default page size comes whole, as before pages.
        r = cluster.get("/api/v1/chains" + chains["good"]["path"])
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json()["events"]), 8)
        self.assertIsNone(r.json()["next"])
        self.assertNotIn("link", r.headers)
        # A page of one, from the middle; the last event alone.
        doc = cluster.get(self.path + "?limit=1&cursor=137").json()
        self.assertEqual([e["seq"] for e in doc["events"]], [137])
        self.assertEqual(doc["next"], "138")
        doc = cluster.get(self.path + "?cursor=249&limit=1000").json()
        self.assertEqual([e["id"] for e in doc["events"]], [self.ids[-1]])
        self.assertIsNone(doc["next"])

    def test_bad_parameters(self):
        for query, code, field in [
                ("limit=0", "bad_parameter", "limit"),
                ("limit=1001", "bad_parameter", "limit"),
                ("limit=01", "bad_parameter", "limit"),
                ("limit=ten", "bad_parameter", "limit"),
                ("limit=-1", "bad_parameter", "limit"),
                ("limit=1&limit=2", "bad_parameter", "limit"),
                ("cursor=-1", "bad_parameter", "cursor"),
                ("cursor=abc", "bad_parameter", "cursor"),
                ("cursor=007", "bad_parameter", "cursor"),
                ("cursor=250", "bad_parameter", "cursor"),
                ("cursor=99999999999999999", "bad_parameter", "cursor"),
                ("cursor=1%ZZ", "bad_parameter", "cursor"),
                ("page=2", "unknown_parameter", "page")]:
            r = cluster.get(self.path + "?" + query)
            self.assertEqual(r.status, 400, query)
            self.assertEqual(r.json()["error"]["code"], code, query)
            self.assertEqual(r.json()["error"].get("field"), field, query)
        # An empty value counts as absent (11.10).
        self.assertEqual(len(cluster.get(self.path + "?limit=&cursor=").json()["events"]), 100)

    def test_a_page_reads_no_more_than_the_chain_once(self):
        """The fold needs the whole chain: a walk reads it at most once
        (when chainview.c has not folded this head yet), and a page of a
        head it has folded transfers no record: no LRANGE of the list."""
        with chain_commands(GTIN, LONG_LOT) as m:
            pages = self.walk(self.path + "?limit=100")
        self.assertEqual(len(pages), 3)
        self.assertLessEqual(m.count("lrange"), 1, m.lines)
        # A chain no request has read yet, and the same chain once it has
        # grown: the first page reads it whole, the others no record.
        lot = "LONG-READS"
        envs, prev = [], None
        for seq in range(121):
            k = self.brand if seq == 0 else self.logistics
            envs.append(k.sign(harness.TYPE_EVENT, harness.event_payload(
                k, "product.registered" if seq == 0 else "shipment.departed", GTIN,
                lot, seq, prev, harness.REGISTERED if seq == 0 else
                {"carrier": "C", "billOfLading": "BL%d" % seq, "port": "KRINC"})))
            prev = harness.statement_id(envs[-1])
        r = cluster.post("/api/v1/events", envs[:120])
        self.assertEqual([x["status"] for x in r.json()["results"]], [201] * 120, r.json())
        path = "/api/v1/chains" + chain_path(GTIN, lot) + "?limit=50"
        for events in (120, 121):
            with chain_commands(GTIN, lot) as m:
                pages = self.walk(path)
            self.assertEqual(sum(len(p.json()["events"]) for p in pages), events)
            self.assertEqual(len(pages), 3)
            self.assertEqual(m.count("lrange"), 1, m.lines)
            self.assertEqual(cluster.post("/api/v1/events", envs[120]).status,
                             201 if events == 120 else 200)
        for cursor in ("100", "200"):
            with chain_commands(GTIN, LONG_LOT) as m:
                r = cluster.get(self.path + "?limit=100&cursor=" + cursor)
            self.assertEqual(r.status, 200)
            self.assertEqual(m.count("lrange"), 0, m.lines)
            self.assertGreaterEqual(len(m.lines), 1, m.all[:20])
            # LLEN and LINDEX -1: the head check, O(1).
            self.assertLessEqual(len(m.lines), 3, m.lines)

    def test_inspector_pages(self):
        base = "/inspect" + chain_path(GTIN, LONG_LOT)
        seen, verdicts = [], set()
        for page, count in ((1, 100), (2, 100), (3, 50)):
            r = get(base + "?page=%d&lang=en" % page)
            self.assertEqual(r.status, 200, page)
            m = parse(r.body)
            ids = [a["id"] for t, a in m.tags
                   if t == "section" and "event" in a.get("class", "")]
            self.assertEqual(len(ids), count)
            seen += ids
            body = r.body.decode()
            self.assertIn("Events #%d\u2013#%d of 250" % ((page - 1) * 100,
                                                        (page - 1) * 100 + count - 1),
                          "".join(m.text))
            links = {a.get("class"): a["href"] for t, a in m.tags
                     if t == "a" and a.get("class") in ("earlier", "later")}
            want = {}
            if page > 1:
                want["earlier"] = "?page=%d&lang=en" % (page - 1)
            if page < 3:
                want["later"] = "?page=%d&lang=en" % (page + 1)
            self.assertEqual(links, want, page)
            verdict = [a for t, a in m.tags if a.get("id") == "server-verdict"]
            self.assertEqual(len(verdict), 1)
            verdicts.add(verdict[0]["class"])
            self.assertIn("#249 " + self.ids[-1], body)      # the lot's head
            if page > 1:
                # The first event's prev is on the page before.
                self.assertIn('href="?page=%d&amp;lang=en#ev-%d"'
                              % (page - 1, (page - 1) * 100 - 1), body)
        self.assertEqual(seen, ["ev-%d" % i for i in range(LONG_EVENTS)])
        self.assertEqual(verdicts, {"ok-text"})
        self.assertEqual(len(parse(get(base).body).tags) > 0, True)
        for bad in ("0", "4", "x", "01", "-1"):
            self.assertEqual(get(base + "?page=" + bad).status, 400, bad)
        # A short lot has one page and no pager.
        body = get("/inspect" + chains["good"]["path"] + "?lang=en").body.decode()
        self.assertNotIn('class="card pager"', body)


BUSY_LOT = "BUSY26"


class BusyLot(unittest.TestCase):
    """A popular lot when what this process keeps of it ages (pagecache.c,
    chainview.c data_young): one worker goes back to the store, the others
    are served what was kept, so a burst of views does not read the chain
    and render the same page once per worker (docs/PERFORMANCE.md
    "Consumer pages": that stampede was a lot page's p99 of 50-80 ms).
    And what it costs: a statement appended through another instance still
    shows within PAGE_CACHE_MS + PAGE_CACHE_STALE_MS (2 s) while views
    keep coming."""

    @classmethod
    def setUpClass(cls):
        cls.brand = brand = harness.Key("brand-busy")
        cls.logistics = logistics = harness.Key("logistics-busy")
        cluster.enroll(brand, "brand", org="Org brand")
        cluster.enroll(logistics, "logistics", org="Org logistics")
        env = brand.sign(harness.TYPE_EVENT, harness.event_payload(
            brand, "product.registered", GTIN, BUSY_LOT, 0, None, harness.REGISTERED))
        assert cluster.post("/api/v1/events", env).status == 201
        cls.head = harness.statement_id(env)
        cls.seq = 1
        cls.path = chain_path(GTIN, BUSY_LOT)
        harness.settle(cluster)

    def burst(self, path, n=32):
        """n views at once: n connections opened first, then every request
        written before any answer is read.  Their statuses."""
        socks = [socket.create_connection(("127.0.0.1", cluster.port), timeout=60)
                 for _ in range(n)]
        request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: en\r\n"
                   "Connection: close\r\n\r\n" % path).encode()
        for s in socks:
            s.sendall(request)
        statuses = []
        for s in socks:
            with s, s.makefile("rb") as f:
                statuses.append(int(f.readline().split()[1]))
                f.read()
        return statuses

    def store_reads_in_burst(self, path):
        self.assertEqual(get(path, lang="en").status, 200)    # kept now
        time.sleep(1.2)                                       # aged
        with chain_commands(GTIN, BUSY_LOT) as m:
            statuses = self.burst(path)
        self.assertEqual(statuses, [200] * len(statuses))
        return m.count("llen")

    # One worker renews; under valgrind its claim (PAGE_CACHE_CLAIM_MS,
    # 250 ms) may lapse once before it is done.
    ONCE = 2 if os.environ.get("TRACE_SERVER_WRAPPER") else 1

    def test_an_aged_lot_page_is_read_again_once(self):
        # Before: each worker that missed read the chain (2 here).
        self.assertLessEqual(self.store_reads_in_burst(self.path), self.ONCE)

    def test_an_aged_unit_page_head_is_confirmed_once(self):
        # Before: each worker asked the store for the head (8 here).
        self.assertLessEqual(self.store_reads_in_burst(self.path + "/21/000777"),
                             self.ONCE)

    def page_cache(self):
        text = get("/metrics").body.decode()
        return {k: int(re.search(r"^trace_page_cache_%s (\d+)$" % re.escape(k), text,
                                 re.M).group(1))
                for k in ('total{result="fresh"}', 'total{result="stale"}',
                          'total{result="miss"}', "waits_total")}

    def test_a_lot_page_viewed_after_a_quiet_spell_is_rendered_once(self):
        """Past PAGE_CACHE_MS + PAGE_CACHE_STALE_MS the kept page may not be
        served; one worker renders it again and the others of a burst wait
        for it.  Before: every worker missed and rendered the same page
        (a bench's page round began with 64 renders at once, its p99)."""
        self.assertEqual(get(self.path, lang="en").status, 200)    # kept now
        time.sleep(2.5)                                            # too old
        before = self.page_cache()
        statuses = self.burst(self.path)
        after = self.page_cache()
        self.assertEqual(statuses, [200] * len(statuses))
        delta = {k: after[k] - before[k] for k in after}
        self.assertLessEqual(delta['total{result="miss"}'], self.ONCE, delta)
        self.assertEqual(sum(delta[k] for k in ('total{result="fresh"}', 'total{result="stale"}',
                                                'total{result="miss"}')), 32, delta)

    def append(self):
        cls = type(self)
        env = self.logistics.sign(harness.TYPE_EVENT, harness.event_payload(
            self.logistics, "shipment.departed", GTIN, BUSY_LOT, cls.seq, cls.head,
            {"carrier": "Busy Carrier %d" % cls.seq, "billOfLading": "BLB%d" % cls.seq,
             "port": "KRINC"}))
        self.assertEqual(cluster.post("/api/v1/events", env).status, 201)
        cls.head = harness.statement_id(env)
        cls.seq += 1
        return "Busy Carrier %d" % (cls.seq - 1)

    def test_an_append_elsewhere_shows_within_two_seconds_under_load(self):
        port = harness.free_port()
        log = open(os.path.join(cluster.dir, "server-busy.log"), "ab")
        argv = cluster.server_argv(port=port, log_key=os.path.join(cluster.dir, "log.pub"),
                                   log_state="")
        other = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 env=cluster.server_env())
        self.addCleanup(log.close)
        self.addCleanup(other.wait, 20)
        self.addCleanup(other.terminate)
        harness.wait_port(port, proc=other)

        def view():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", self.path + "?lang=en")
            r = conn.getresponse()
            body = r.read().decode()
            conn.close()
            self.assertEqual(r.status, 200)
            return body
        view()
        stop, seen = threading.Event(), {}

        def hammer():       # keeps the other instance's page busy
            while not stop.is_set():
                view()
        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            carrier = self.append()       # through this cluster's server
            appended = time.monotonic()
            while time.monotonic() - appended < 10:
                if carrier in view():
                    seen["after"] = time.monotonic() - appended
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertIn("after", seen, "the other instance never showed the append")
        # PAGE_CACHE_MS + PAGE_CACHE_STALE_MS, and the slack of a loaded machine.
        self.assertLess(seen["after"], 2.0 + (3.0 if os.environ.get("TRACE_SERVER_WRAPPER") else 0.5))


if __name__ == "__main__":
    unittest.main()
