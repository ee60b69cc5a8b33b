"""trace-server --verifier-url (SPEC 10): the consumer page says what its
own check rests on ("keys published by this server") and links to the
independent verifier with the lot in the fragment, escaped; without the
option it says the first and links nowhere; a URL with a fragment or not
http(s) is refused at start.

Run: make build/trace-server &&
     cd tests/integration && /usr/bin/python3 -m unittest test_verifier_link -v
"""
import html
import re
import subprocess
import unittest

import harness
from harness import TYPE_EVENT, Key, REGISTERED, event_payload

GTIN = "08801234567893"
VERIFIER = "https://verify.ccic.example/trace/index.html"


class VerifierLink(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster.start(["--verifier-url", VERIFIER])
        brand = Key("vlbrand")
        cls.c.enroll(brand, "brand", prefixes=["880"])
        for lot in ("A/B+C", "PLAIN"):
            env = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN,
                                                       lot, 0, None, REGISTERED))
            assert cls.c.post("/api/v1/events", env).status in (200, 201)
        harness.settle(cls.c)

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def page(self, path):
        r = self.c.get(path + "?lang=en")
        self.assertEqual(r.status, 200, r)
        return r.body.decode()

    def test_link_with_the_lot_in_the_fragment(self):
        body = self.page("/01/%s/10/A%%2FB%%2BC/21/S%%2B1" % GTIN)
        self.assertIn("Checked on this device with keys published by this server.", body)
        m = re.search(r'<a id="independent-verifier" rel="noopener noreferrer" href="([^"]*)">',
                      body)
        self.assertIsNotNone(m, body[:2000])
        self.assertEqual(html.unescape(m.group(1)),
                         VERIFIER + "#01/%s/10/A%%2FB%%2BC/21/S%%2B1" % GTIN)
        body = self.page("/01/%s/10/PLAIN" % GTIN)
        self.assertIn('href="%s#01/%s/10/PLAIN"' % (VERIFIER, GTIN), body)

    def test_refused_urls(self):
        for url in ("ftp://x.example/", "https://x.example/#frag", "javascript:alert(1)",
                    'https://x.example/"><script>'):
            r = subprocess.run(self.c.server_argv(["--verifier-url", url],
                                                  port=harness.free_port()),
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, (url, r.stderr))
            self.assertIn("--verifier-url", r.stderr)


class NoVerifierLink(unittest.TestCase):
    def test_scope_without_link(self):
        c = harness.Cluster.start()
        try:
            brand = Key("vlbrand2")
            c.enroll(brand, "brand", prefixes=["880"])
            env = brand.sign(TYPE_EVENT, event_payload(brand, "product.registered", GTIN,
                                                       "NOLINK", 0, None, REGISTERED))
            self.assertIn(c.post("/api/v1/events", env).status, (200, 201))
            harness.settle(c)
            body = c.get("/01/%s/10/NOLINK" % GTIN).body.decode()
            self.assertIn('id="device-scope"', body)
            self.assertIn("本设备的核验使用本服务器公布的密钥。", body)
            self.assertNotIn("independent-verifier", body)
        finally:
            c.stop()


if __name__ == "__main__":
    unittest.main()
