"""SPEC 7 "Abuse": while each abuse runs, /healthz, a page and an ingest
still answer within ABUSE_BOUND seconds (1 s, SPEC 7), and the limits that
bound the abuse hold.

  idle keep-alive   16 sockets that made one request and stay open, on a
                    server of 16 workers (civetweb holds a worker per open
                    connection: without keep-alive shedding they would take
                    every worker for the keep-alive timeout)
  recall streams    8 open streams from several addresses on a server with
                    8 stream slots; one address holds at most its share,
                    and the last slots are kept for addresses holding none
  invented serials  a flood of unit pages with made-up serials (and
                    made-up lots); a real serial's count stays exact
  lagging log       a server whose log is never integrated (it holds only
                    the log's public key): page views and bundle requests
                    of new heads must not park workers waiting for it
  verdict cache     two lots viewed in turn are computed once each, not
                    on every view (trace_verdicts_computed_total)
  rate limits       the costly anonymous routes answer 429 with
                    Retry-After past the per-address bucket; the local
                    host (the proxy) is exempt
  nginx             deploy/nginx/trace.conf passes `nginx -t`

This is a bound on starvation, not a benchmark: ABUSE_BOUND is what SPEC 7
promises, on a 2-core machine shared with other test runs; the abuse
itself would hold a request for 2-5 s (the bundle wait, the keep-alive
timeout) without the bound in place.  Clients other than the probes
connect from 127.0.0.2 and up (loopback is 127.0.0.0/8): trace-server
treats 127.0.0.1 as the proxy beside it and exempts it from the
per-address rules.
"""
import http.client
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from faultlib import GTIN, call, figure
import harness
from harness import REGISTERED, TYPE_EVENT, Key, event_payload, settle

ABUSE_BOUND = float(os.environ.get("TRACE_ABUSE_BOUND", "1.0"))
HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.join(os.path.dirname(os.path.dirname(HERE)), "deploy")


def metric(cluster, name):
    body = call(cluster.port, "GET", "/metrics", timeout=10).body.decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), body, re.M)
    return int(m.group(1)) if m else None


class Probe:
    """The three requests SPEC 7 names, each on a fresh connection from
    127.0.0.1, each timed: /healthz, a unit page, an ingest of a new
    chain's first event."""

    def __init__(self, cluster, brand, page_path, prefix):
        self.cluster, self.brand, self.page_path = cluster, brand, page_path
        self.prefix, self.n = prefix, 0

    def run(self, test):
        self.n += 1
        lot = "%s%04d" % (self.prefix, self.n)
        env = self.brand.sign(TYPE_EVENT, event_payload(
            self.brand, "product.registered", GTIN, lot, 0, None, REGISTERED))
        got = {}
        for name, method, path, body in (
                ("healthz", "GET", "/healthz", None),
                ("page", "GET", self.page_path + "/21/P%d" % self.n, None),
                ("ingest", "POST", "/api/v1/events", env)):
            try:
                a = call(self.cluster.port, method, path, body=body,
                         timeout=ABUSE_BOUND + 5)
                got[name] = (a.status, round(a.elapsed, 3))
            except (OSError, http.client.HTTPException) as e:
                got[name] = (repr(e), None)
        test.assertEqual([got["healthz"][0], got["page"][0], got["ingest"][0]],
                         [200, 200, 201], got)
        for name, (_, elapsed) in got.items():
            test.assertLessEqual(elapsed, ABUSE_BOUND, (name, got))
        return got


def seed_lot(cluster, brand, lot):
    env = brand.sign(TYPE_EVENT, event_payload(
        brand, "product.registered", GTIN, lot, 0, None, REGISTERED))
    r = cluster.post("/api/v1/events", env)
    assert r.status in (200, 201), r
    return "/01/%s/10/%s" % (GTIN, lot)


def connect_from(port, source, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    return s


def get_on(sock, path, keep_alive=True):
    """One GET on an open socket; (status, headers text)."""
    sock.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (
        path, "" if keep_alive else "Connection: close\r\n")).encode())
    f = sock.makefile("rb")
    status = f.readline().decode()
    headers, length = [], 0
    while True:
        line = f.readline().decode()
        if line in ("\r\n", ""):
            break
        headers.append(line.strip())
        if line.lower().startswith("content-length:"):
            length = int(line.split(":")[1])
    f.read(length)
    return int(status.split()[1]), headers


# ---- a server of 16 workers: idle sockets, floods, limits --------------------

class SmallServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The default --rate-limit (20/s, bursts of 80); 16 workers.
        cls.cluster = harness.Cluster.start(["--threads", "16"])
        cls.brand = Key("brand-abuse")
        cls.cluster.enroll(cls.brand, "brand")
        cls.page = seed_lot(cls.cluster, cls.brand, "ABUSE1")
        settle(cls.cluster)
        cls.probe = Probe(cls.cluster, cls.brand, cls.page, "SP")

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def test_idle_keepalive_connections(self):
        shed = metric(self.cluster, "trace_keepalive_shed_total")
        socks, kept = [], 0
        try:
            for _ in range(16):
                s = connect_from(self.cluster.port, "127.0.0.2")
                status, headers = get_on(s, "/healthz")
                self.assertEqual(status, 200)
                if "Connection: close" in headers:
                    s.close()
                else:
                    socks.append(s)
                    kept += 1
            # They idle now; each one kept holds a worker.
            got = self.probe.run(self)
            figure("abuse.idle_keepalive", kept=kept, **{k: v[1] for k, v in got.items()})
            self.assertLess(kept, 16, "every idle connection kept its worker")
            self.assertGreater(metric(self.cluster, "trace_keepalive_shed_total"), shed)
        finally:
            for s in socks:
                s.close()
        # Every connection is counted out again (the callbacks balance).
        deadline = time.monotonic() + 5
        while metric(self.cluster, "trace_connections_open") > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(metric(self.cluster, "trace_connections_open"), 1)

    def test_flood_of_invented_serials(self):
        stop = threading.Event()
        sent = [0]
        # A real serial scanned before the flood keeps its count through it
        # (scancount.c: the flood's serials, seen once, displace each other).
        before = self.page + "/21/REAL-0?lang=en"
        for n in range(1, 4):
            self.assertIn('data-count="%d"' % n, call(self.cluster.port, "GET", before).body.decode())

        def flood(source):
            while not stop.is_set():
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.cluster.port,
                                                      timeout=10, source_address=(source, 0))
                    for _ in range(50):
                        serial = "X%d" % random.randrange(10 ** 12)
                        lot = self.page if random.random() < 0.8 else \
                            "/01/%s/10/NOLOT%d" % (GTIN, random.randrange(10 ** 6))
                        conn.request("GET", "%s/21/%s" % (lot, serial))
                        conn.getresponse().read()
                        sent[0] += 1
                    conn.close()
                except (OSError, http.client.HTTPException):
                    time.sleep(0.01)

        threads = [threading.Thread(target=flood, args=("127.0.0.%d" % (2 + i),))
                   for i in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            real = self.page + "/21/REAL-1"
            for _ in range(5):
                self.assertEqual(call(self.cluster.port, "GET", real).status, 200)
            got = self.probe.run(self)
            time.sleep(1.0)
            self.assertIn('data-count="4"', call(self.cluster.port, "GET", before).body.decode())
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        figure("abuse.invented_serials", views=sent[0], **{k: v[1] for k, v in got.items()})
        self.assertGreater(sent[0], 100)
        # The real serial's count is exact, written after the answers.
        key = "c:{01/%s/10/ABUSE1}:scans" % GTIN
        deadline = time.monotonic() + 5
        while self.cluster.redis.hget(key, "n:REAL-1") != b"5" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.cluster.redis.hget(key, "n:REAL-1"), b"5")
        # Made-up lots leave nothing behind.
        self.assertEqual(list(self.cluster.redis.scan_iter("c:{01/%s/10/NOLOT*" % GTIN)), [])

    def test_colliding_verdict_lots(self):
        # Two lots in turn, 20 views each: each verdict is computed once
        # (both are covered by a checkpoint, so kept for good); with one
        # direct-mapped slot between them it would be 40 times.
        a = seed_lot(self.cluster, self.brand, "VCA1")
        b = seed_lot(self.cluster, self.brand, "VCB1")
        settle(self.cluster)
        for path in (a, b):      # first views: computed once each
            deadline = time.monotonic() + 10
            while 'data-verdict="genuine"' not in call(
                    self.cluster.port, "GET", path + "/21/1?lang=en").body.decode():
                self.assertLess(time.monotonic(), deadline, "no genuine verdict")
                time.sleep(0.2)
        before = metric(self.cluster, "trace_verdicts_computed_total")
        for i in range(20):
            for path in (a, b):
                self.assertEqual(call(self.cluster.port, "GET",
                                      "%s/21/%d" % (path, i)).status, 200)
        computed = metric(self.cluster, "trace_verdicts_computed_total") - before
        figure("abuse.verdict_cache", views=40, computed=computed)
        self.assertEqual(computed, 0)

    def test_rate_limit_of_costly_routes(self):
        path = "/api/v1/chains" + self.page
        conn = http.client.HTTPConnection("127.0.0.1", self.cluster.port, timeout=10,
                                          source_address=("127.0.0.9", 0))
        statuses, limited = [], None
        for _ in range(200):
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            statuses.append(r.status)
            if r.status == 429 and limited is None:
                limited = (dict((k.lower(), v) for k, v in r.getheaders()), body)
        conn.close()
        figure("abuse.rate_limit", requests=200, ok=statuses.count(200),
               limited=statuses.count(429))
        self.assertEqual(set(statuses), {200, 429})
        # The burst (4 x 20) passes first, then about 20 a second.
        self.assertGreaterEqual(statuses.count(200), 80)
        self.assertEqual(statuses[:80], [200] * 80)
        headers, body = limited
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        self.assertIn(b'"rate_limited"', body)
        # Pages, /healthz and the local host are not limited meanwhile.
        self.assertEqual(call(self.cluster.port, "GET", "/healthz").status, 200)
        self.assertEqual(call(self.cluster.port, "GET", self.page + "/21/9").status, 200)
        for _ in range(100):
            self.assertEqual(call(self.cluster.port, "GET", path).status, 200)
        # After Retry-After the address is served again.
        time.sleep(int(headers["retry-after"]) + 0.1)
        conn = http.client.HTTPConnection("127.0.0.1", self.cluster.port, timeout=10,
                                          source_address=("127.0.0.9", 0))
        conn.request("GET", path)
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()


# ---- 8 recall streams -----------------------------------------------------------

class Stream:
    def __init__(self, port, source):
        self.sock = connect_from(port, source)
        self.sock.sendall(b"GET /api/v1/recalls/stream HTTP/1.1\r\nHost: t\r\n"
                          b"Accept: text/event-stream\r\n\r\n")
        self.sock.settimeout(10)
        line = b""
        while not line.endswith(b"\r\n"):
            line += self.sock.recv(1)
        self.status = int(line.split()[1])

    def close(self):
        self.sock.close()


class Streams(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # 32 workers: 8 stream slots (a quarter), 2 per address, 2 kept
        # for addresses that hold none.
        cls.cluster = harness.Cluster.start(["--threads", "32"])
        cls.brand = Key("brand-streams")
        cls.cluster.enroll(cls.brand, "brand")
        cls.page = seed_lot(cls.cluster, cls.brand, "STREAM1")
        cls.probe = Probe(cls.cluster, cls.brand, cls.page, "ST")

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def test_eight_open_streams(self):
        port, opened = self.cluster.port, []
        try:
            def open_from(source):
                s = Stream(port, source)
                if s.status == 200:
                    opened.append(s)
                else:
                    s.close()
                return s.status

            # One address: its share (2), not more.
            self.assertEqual([open_from("127.0.0.2") for _ in range(3)], [200, 200, 503])
            self.assertEqual([open_from("127.0.0.3") for _ in range(2)], [200, 200])
            self.assertEqual([open_from("127.0.0.4") for _ in range(2)], [200, 200])
            # 6 open: the last 2 slots are for addresses holding none.
            self.assertEqual([open_from("127.0.0.5") for _ in range(2)], [200, 503])
            self.assertEqual(open_from("127.0.0.6"), 200)
            self.assertEqual(len(opened), 8)
            self.assertEqual(open_from("127.0.0.7"), 503)
            got = self.probe.run(self)
            figure("abuse.streams", open=len(opened), **{k: v[1] for k, v in got.items()})
        finally:
            for s in opened:
                s.close()


# ---- a log that is never integrated ----------------------------------------------

class LaggingLog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A server with only the log's public key signs nothing: every new
        # head stays uncovered, as with an integrator far behind.
        c = cls.cluster = harness.Cluster()
        c.start_redis()
        c.make_log_key()
        pub = c.log_key_path[:-len(".key")] + ".pub"
        c.server_log = open(os.path.join(c.dir, "server.log"), "ab")
        c.server_proc = subprocess.Popen(
            c.server_argv(["--threads", "8"], log_key=pub, log_state=""),
            stdout=c.server_log, stderr=subprocess.STDOUT, env=c.server_env())
        harness.wait_port(c.port, proc=c.server_proc)
        cls.brand = Key("brand-lag")
        c.enroll(cls.brand, "brand")
        cls.lots = [seed_lot(c, cls.brand, "LAG%02d" % i) for i in range(24)]
        cls.probe = Probe(c, cls.brand, cls.lots[0], "LP")

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def test_page_views_and_bundles_of_new_heads(self):
        stop = threading.Event()
        counts = {}

        def view(k):
            i = k
            while not stop.is_set():
                path = self.lots[i % len(self.lots)]
                target = ("/api/v1/bundles" + path) if i % 3 == 0 else (path + "/21/%d" % i)
                try:
                    a = call(self.cluster.port, "GET", target, timeout=10)
                    counts[a.status] = counts.get(a.status, 0) + 1
                except (OSError, http.client.HTTPException):
                    pass
                i += 12

        threads = [threading.Thread(target=view, args=(k,)) for k in range(12)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            got = self.probe.run(self)
        finally:
            stop.set()
            for t in threads:
                t.join(15)
        figure("abuse.lagging_log", **{k: v[1] for k, v in got.items()},
               **{"s%d" % k: v for k, v in counts.items()})
        # Pages answered (verdict pending); bundles not_yet_logged.
        self.assertGreater(counts.get(200, 0), 0, counts)
        page = call(self.cluster.port, "GET", self.lots[1] + "/21/1?lang=en")
        self.assertEqual(page.status, 200)
        self.assertIn('data-verdict="pending"', page.body.decode())
        self.assertLessEqual(page.elapsed, ABUSE_BOUND)


# ---- nginx --------------------------------------------------------------------

class Nginx(unittest.TestCase):
    def test_shipped_config_passes_nginx_t(self):
        nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
        openssl = shutil.which("openssl")
        # make test installs both (deploy/install-deps.sh --test): missing
        # is a broken install, never a skip.
        self.assertIsNotNone(nginx, "nginx missing (deploy/install-deps.sh --test)")
        self.assertIsNotNone(openssl, "openssl missing (deploy/install-deps.sh --test)")
        d = tempfile.mkdtemp(prefix="trace-nginx-")
        try:
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run([openssl, "req", "-x509", "-newkey", "ec",
                            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=t"],
                           check=True, capture_output=True, timeout=30)
            with open(os.path.join(DEPLOY, "nginx", "trace.conf")) as f:
                site = f.read()
            for want in ("limit_req_zone", "limit_conn_zone", "limit_req zone=trace_costly",
                         "limit_conn trace_streams", "Retry-After"):
                self.assertIn(want, site)
            site = site.replace("/etc/ssl/trace/fullchain.pem", cert)
            site = site.replace("/etc/ssl/trace/privkey.pem", key)
            site = site.replace("/var/cache/nginx/trace-qr", os.path.join(d, "qr"))
            with open(os.path.join(d, "trace.conf"), "w") as f:
                f.write(site)
            user = "user root;\n" if os.geteuid() == 0 else ""
            with open(os.path.join(d, "nginx.conf"), "w") as f:
                f.write(user + "events {}\nhttp {\n include /etc/nginx/mime.types;\n"
                        " include %s/trace.conf;\n}\n" % d)
            r = subprocess.run([nginx, "-t", "-p", d, "-c", os.path.join(d, "nginx.conf"),
                                "-g", "pid %s/nginx.pid; error_log stderr;" % d],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("test is successful", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
