"""Compressed GS1 Digital Link URIs and the resolver's OPTIONS/CORS, against a
real redis-server and trace-server (GS1-Conformant Resolver 1.2; docs/PROTOCOL.md
section 2.5): a compressed URI gets the same answer as its uncompressed one
(page, JSON, linkset, linkType redirects), names it in Link rel="owl:sameAs",
is refused as 404 when it does not decompress; OPTIONS and a CORS preflight
answer 204 with the allowed methods and headers; a HEAD is never a scan;
the QR and label endpoints take either form and print the compressed one
with compressed=1 (zbarimg reads it back); trace-agent qr --compressed
prints the same URI.  The compressed strings come from trace-agent (checked
against GS1's toolkit in tests/unit/test_gs1compress.c and the browser
suite)."""
import http.client
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
import pages_seed
from pages_seed import GTIN

cluster = None
chains = None


def setUpModule():
    global cluster, chains
    cluster = harness.Cluster.start()
    chains = pages_seed.seed(cluster)


def tearDownModule():
    cluster.stop()


def compressed_uri(lot, serial=None):
    """The compressed URI as trace-agent qr --compressed prints it."""
    args = [os.path.join(harness.BUILD, "trace-agent"), "qr", "--gtin", GTIN,
            "--lot", lot, "--base", cluster.public_url, "--format", "svg",
            "--out", os.devnull, "--print-uri", "--compressed"]
    if serial:
        args += ["--serial", serial]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return out.stderr.strip()


def raw(method, path, headers=None):
    """(status, [(name, value)...] lower-cased names, body): every header,
    repeated ones too (Link comes twice)."""
    conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    out = (r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
    conn.close()
    return out


def header_values(headers, name):
    return [v for k, v in headers if k == name]


class Compressed(unittest.TestCase):
    def setUp(self):
        self.lot = chains["good"]["lot"]
        self.plain = chains["good"]["path"]
        uri = compressed_uri(self.lot)
        self.assertTrue(uri.startswith(cluster.public_url + "/"), uri)
        self.path = uri[len(cluster.public_url):]
        self.assertNotIn("/", self.path[1:])
        self.assertLess(len(self.path), len(self.plain))

    def test_lot_json_is_the_same_answer(self):
        a = cluster.get(self.path, headers={"Accept": "application/json"})
        b = cluster.get(self.plain, headers={"Accept": "application/json"})
        self.assertEqual(a.status, 200)
        self.assertEqual(a.json(), b.json())

    def test_page_names_its_uncompressed_uri(self):
        status, headers, body = raw("GET", self.path, {"Accept": "text/html"})
        self.assertEqual(status, 200)
        self.assertIn(self.lot.encode(), body)
        links = header_values(headers, "link")
        self.assertIn('<%s%s>; rel="owl:sameAs"' % (cluster.public_url, self.plain), links)
        self.assertIn("*", header_values(headers, "access-control-allow-origin"))
        # The plain URI names no sameAs: it is the canonical one.
        _, plain_headers, _ = raw("GET", self.plain, {"Accept": "text/html"})
        self.assertFalse([v for v in header_values(plain_headers, "link") if "owl:sameAs" in v])

    def test_linkset_and_link_types(self):
        a = cluster.get(self.path + "?linkType=all")
        b = cluster.get(self.plain + "?linkType=all")
        self.assertEqual(a.status, 200)
        self.assertEqual(a.headers["content-type"], "application/linkset+json")
        self.assertEqual(a.body, b.body)
        a = cluster.get(self.path + "?linkType=gs1:traceability")
        b = cluster.get(self.plain + "?linkType=gs1:traceability")
        self.assertEqual(a.status, 307)
        self.assertEqual(a.headers["location"], b.headers["location"])

    def test_unit_and_head_is_no_scan(self):
        serial = "000777"
        path = compressed_uri(self.lot, serial)[len(cluster.public_url):]
        plain = "%s/21/%s" % (self.plain, serial)
        first = cluster.get(path, headers={"Accept": "application/json"}).json()
        for _ in range(3):
            status, _, body = raw("HEAD", path)
            self.assertEqual((status, body), (200, b""))
        again = cluster.get(plain, headers={"Accept": "application/json"}).json()
        self.assertEqual(again["scans"]["count"], first["scans"]["count"] + 1,
                         "a HEAD counted as a scan, or the two forms count apart")

    def test_options_and_preflight(self):
        for path in (self.path, self.plain, self.plain + "/21/000001"):
            status, headers, body = raw("OPTIONS", path, {
                "Origin": "https://app.example", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "accept-language"})
            self.assertEqual(status, 204, path)
            self.assertEqual(body, b"")
            h = dict(headers)
            self.assertEqual(h["allow"], "GET, HEAD, OPTIONS")
            self.assertEqual(h["access-control-allow-origin"], "*")
            self.assertEqual(h["access-control-allow-methods"], "GET, HEAD, OPTIONS")
            self.assertIn("Accept-Language", h["access-control-allow-headers"])
        # Other methods are still 405 with the new Allow.
        status, headers, _ = raw("POST", self.plain)
        self.assertEqual(status, 405)
        self.assertEqual(dict(headers)["allow"], "GET, HEAD, OPTIONS")

    def test_what_does_not_decompress_is_404(self):
        before = cluster.snapshot()
        for path in ("/CxACZOuFqsxe2",            # cut short
                     "/ChACZOuFqodXg",            # AI 22: not served
                     "/ARACZOuFqh",               # padding bits set
                     "/" + "A" * 101,             # too long
                     "/Zm9vYmFy"):                # not a Digital Link
            for method in ("GET", "HEAD", "OPTIONS"):
                status, _, _ = raw(method, path)
                self.assertEqual(status, 404, (method, path))
        self.assertEqual(cluster.snapshot(), before)
        # Exact routes keep winning over the compressed row.
        self.assertEqual(cluster.get("/healthz").status, 200)
        self.assertEqual(cluster.get("/recalls").status, 200)

    def test_qr_and_labels(self):
        # make test installs zbar-tools (deploy/install-deps.sh --test):
        # missing is a broken install, never a skip.
        self.assertIsNotNone(shutil.which("zbarimg"), "zbarimg (zbar-tools) not installed")
        uri = cluster.public_url + self.path
        for qr, want in (("/qr%s.png?compressed=1" % self.path, uri),
                         ("/qr%s.png?compressed=1" % self.plain, uri),
                         ("/qr%s.png" % self.path, cluster.public_url + self.plain)):
            r = cluster.get(qr)
            self.assertEqual(r.status, 200, qr)
            with tempfile.NamedTemporaryFile(suffix=".png") as f:
                f.write(r.body)
                f.flush()
                out = subprocess.run(["zbarimg", "-q", "--raw", f.name],
                                     capture_output=True, text=True)
            self.assertEqual(out.stdout.strip(), want, qr)
        self.assertEqual(cluster.get("/qr%s.png?compressed=2" % self.plain).status, 400)
        r = cluster.get("/labels%s?from=SN0001&count=2&compressed=1" % self.path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.count(b"compressed=1"), 2)
        r = cluster.get("/labels%s?from=SN0001&count=2" % self.plain)
        self.assertNotIn(b"compressed=1", r.body)


if __name__ == "__main__":
    unittest.main()
