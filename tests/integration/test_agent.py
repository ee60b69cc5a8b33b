"""trace-agent end to end: every subcommand's --help, key files, QR codes
decoded by zbarimg, CSV import checking, the offline queue with the server
down, and against a real redis-server + trace-server: record and send,
kill -9 at every named step of record, send and import (nothing lost,
nothing twice), two agents appending to one chain, and a 500-row import.

Crashes use the agent's test hook TRACE_AGENT_CRASH_AT=STEP[:N], which
raises SIGKILL at the N-th arrival at a named step (see trace-agent/main.c).
The server-dependent classes start the cluster on first use, so the
offline classes run even where trace-server cannot start.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

import harness
from harness import Key, REGISTERED

AGENT = harness.AGENT
GTIN = "08801234567893"
EXAMPLE_CSV = os.path.join(harness.ROOT, "trace-agent", "example-import.csv")

_cluster = None
_keys = {}


def cluster():
    """Start the cluster once, on first use; enroll a key per role."""
    global _cluster
    if _cluster is None:
        c = harness.Cluster.start()
        folder = os.path.join(c.dir, "agent-keys")
        os.makedirs(folder)
        for role in ("brand", "inspector", "logistics", "importer"):
            k = Key("agent-" + role)
            c.enroll(k, role, org="Org " + role, prefixes=["880"])
            _keys[role] = k.write(folder)[0]
        _cluster = c
    return _cluster


def tearDownModule():
    if _cluster is not None:
        _cluster.stop()


def agent(*args, queue=None, server=None, env=None, timeout=300, stdin=None):
    e = {k: v for k, v in os.environ.items()
         if k not in ("TRACE_SERVER", "TRACE_QUEUE", "TRACE_AGENT_CRASH_AT")}
    if queue is not None:
        e["TRACE_QUEUE"] = queue
    if server is not None:
        e["TRACE_SERVER"] = server
    e.update(env or {})
    return subprocess.run([AGENT] + [str(a) for a in args], capture_output=True,
                          text=True, env=e, timeout=timeout, input=stdin)


def queued(queue):
    """Names of the entries waiting in a queue folder."""
    if not os.path.isdir(queue):
        return []
    return sorted(f for f in os.listdir(queue) if f.endswith(".json"))


def load_json(path):
    with open(path) as f:
        return json.load(f)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def dead_server():
    """A URL nobody listens on."""
    return "http://127.0.0.1:%d" % harness.free_port()


class TempDir(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trace-agent-test-")
        self.queue = os.path.join(self.dir, "queue")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def key(self, name="k"):
        r = agent("key", "gen", "--name", name, "--out", self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        return os.path.join(self.dir, name + ".key")


# ---- no server needed -------------------------------------------------------

class Help(unittest.TestCase):
    def test_program_help_and_version(self):
        r = agent("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("key", "record", "import", "send", "verify", "qr", "recalls"):
            self.assertIn(cmd, r.stdout)
        r = agent("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^trace-agent \d+\.\d+\.\d+\n$")

    def test_every_subcommand_help(self):
        for args, word in ((["key", "--help"], "key gen"),
                           (["key", "gen", "--help"], "key gen"),
                           (["key", "enroll", "--help"], "key enroll"),
                           (["key", "revoke", "--help"], "key revoke"),
                           (["record", "--help"], "trace-agent record"),
                           (["import", "--help"], "trace-agent import"),
                           (["send", "--help"], "trace-agent send"),
                           (["verify", "--help"], "trace-agent verify"),
                           (["qr", "--help"], "trace-agent qr"),
                           (["recalls", "--help"], "trace-agent recalls")):
            with self.subTest(args=args):
                r = agent(*args)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("usage: " + word if word.startswith("trace")
                              else word, r.stdout)

    def test_usage_errors_exit_2(self):
        for args in (["frobnicate"], ["record", "--gtin", GTIN], ["qr", "--bogus"],
                     ["send", "extra"], ["key"], ["key", "gen"], ["verify", "x.json"],
                     []):
            with self.subTest(args=args):
                r = agent(*args)
                self.assertEqual(r.returncode, 2, (args, r.stderr))
                self.assertTrue(r.stderr.strip(), "no message on stderr")


class KeyFiles(TempDir):
    def test_gen_modes_and_contents(self):
        r = agent("key", "gen", "--name", "insp", "--out", self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        keyid = r.stdout.strip()
        self.assertRegex(keyid, r"^[0-9a-f]{32}$")
        key, pub = os.path.join(self.dir, "insp.key"), os.path.join(self.dir, "insp.pub")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(pub).st_mode & 0o777, 0o644)
        p = load_json(pub)
        self.assertEqual(set(p), {"alg", "keyid", "public", "name"})
        self.assertEqual(p["keyid"], keyid)
        self.assertEqual(p["name"], "insp")
        self.assertEqual(load_json(key)["keyid"], keyid)

    def test_gen_refuses_to_overwrite(self):
        self.key("insp")
        before = read(os.path.join(self.dir, "insp.key"))
        r = agent("key", "gen", "--name", "insp", "--out", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)
        self.assertEqual(before, read(os.path.join(self.dir, "insp.key")))

    def test_bad_name_is_usage(self):
        r = agent("key", "gen", "--name", "../evil", "--out", self.dir)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(os.listdir(self.dir), [])

    def test_readable_key_refused(self):
        key = self.key("insp")
        os.chmod(key, 0o644)
        r = agent("record", "--key", key, "--type", "inspection.completed",
                  "--gtin", GTIN, "--lot", "L1", "--set", "certificate=C",
                  "--set", "result=pass", queue=self.queue)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"(?i)(read|mode|permission|others)")
        self.assertEqual(queued(self.queue), [])
        r = agent("key", "revoke", "--admin", key, "--keyid", "0" * 32,
                  "--reason", "x", "--print")
        self.assertEqual(r.returncode, 1)

    def test_enroll_print_is_a_valid_key_entry(self):
        admin, subject = self.key("admin"), self.key("insp")
        r = agent("key", "enroll", "--admin", admin, "--pub", subject[:-4] + ".pub",
                  "--role", "inspector", "--org", "CCIC Korea", "--gtin-prefix", "880",
                  "--gtin-prefix", "881", "--not-after", "2030-01-01T00:00:00Z", "--print")
        self.assertEqual(r.returncode, 0, r.stderr)
        env = json.loads(r.stdout)
        self.assertEqual(env["payloadType"], harness.TYPE_KEY)
        payload = json.loads(harness.base64.b64decode(env["payload"]))
        pub = load_json(subject[:-4] + ".pub")
        self.assertEqual(payload["op"], "enroll")
        self.assertEqual(payload["keyid"], pub["keyid"])
        self.assertEqual(payload["role"], "inspector")
        self.assertEqual(payload["gtinPrefixes"], ["880", "881"])
        self.assertEqual(payload["notAfter"], "2030-01-01T00:00:00Z")
        # The signature verifies with an independent implementation.
        import nacl.signing
        apub = load_json(admin[:-4] + ".pub")
        vk = nacl.signing.VerifyKey(harness.base64.b64decode(apub["public"]))
        vk.verify(harness.pae(env["payloadType"], harness.base64.b64decode(env["payload"])),
                  harness.base64.b64decode(env["signatures"][0]["sig"]))

    def test_bad_role_is_usage(self):
        admin, subject = self.key("admin"), self.key("insp")
        r = agent("key", "enroll", "--admin", admin, "--pub", subject[:-4] + ".pub",
                  "--role", "wizard", "--org", "X", "--print")
        self.assertEqual(r.returncode, 2)


class Qr(TempDir):
    BASE = "https://trace.example.com"

    def decode(self, png):
        r = subprocess.run(["zbarimg", "-q", "--raw", png], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().rstrip("\n")

    def test_png_decodes_to_exact_uri(self):
        out = os.path.join(self.dir, "l.png")
        r = agent("qr", "--gtin", "8801234567893", "--lot", "L2311A", "--serial", "000123",
                  "--base", self.BASE + "/", "--format", "png", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(read(out, "rb")[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.decode(out),
                         self.BASE + "/01/08801234567893/10/L2311A/21/000123")

    def test_svg_decodes_with_reserved_characters(self):
        svg, png = os.path.join(self.dir, "l.svg"), os.path.join(self.dir, "l.png")
        r = agent("qr", "--gtin", "08801234567893", "--lot", "L/23%A", "--base", self.BASE,
                  "--format", "svg", "--out", svg, "--scale", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("<svg", read(svg))
        subprocess.run(["rsvg-convert", "-w", "400", svg, "-o", png], check=True)
        self.assertEqual(self.decode(png), self.BASE + "/01/08801234567893/10/L%2F23%25A")

    def test_terminal(self):
        r = agent("qr", "--gtin", GTIN, "--lot", "L1", "--base", self.BASE,
                  "--format", "terminal")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(set("▀▄█") & set(r.stdout))
        lines = r.stdout.splitlines()
        self.assertTrue(len(lines) > 10 and len(set(map(len, lines))) == 1)

    def test_bad_identifiers(self):
        for args in (["--gtin", "8801234567890", "--lot", "L1"],
                     ["--gtin", GTIN, "--lot", "L 1"],
                     ["--gtin", GTIN, "--lot", "L1", "--serial", "x" * 21]):
            with self.subTest(args=args):
                r = agent("qr", *args, "--base", self.BASE, "--format", "svg",
                          "--out", os.path.join(self.dir, "x.svg"))
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.dir, "x.svg")))


class ImportChecks(TempDir):
    def write(self, text, name="in.csv", bom=False):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write((b"\xef\xbb\xbf" if bom else b"") + text.encode())
        return path

    def test_bad_rows_reported_nothing_queued(self):
        key = self.key("insp")
        path = self.write(
            "type,gtin,lot,time,data.certificate,data.result\n"
            "inspection.completed,8801234567893,L1,2026-11-20T08:30:00+09:00,C-1,pass\n"
            "inspection.completed,8801234567894,L1,,C-2,pass\n"        # line 3: check digit
            "inspection.completed,8801234567893,L1,,C-3,maybe\n"       # line 4: result
            "\"inspection.completed\",8801234567893,\"L\n2\",,C-4,pass\n"  # 5-6: lot
            "inspection.completed,8801234567893,L1,yesterday,C-5,pass\n"   # 7: time
            "inspection.completed,8801234567893,L1,,C-6,pass\n")
        r = agent("import", "--key", key, path, queue=self.queue, server=dead_server())
        self.assertEqual(r.returncode, 1, r.stderr)
        for line, field in ((3, "gtin"), (4, "data.result"), (5, "lot"), (7, "time")):
            self.assertRegex(r.stderr, r"%s:%d: %s: " % (path, line, field))
        self.assertNotRegex(r.stderr, r"in\.csv:(2|8):")
        self.assertIn("nothing was queued", r.stderr)
        self.assertEqual(queued(self.queue), [])

    def test_unknown_column_and_wrong_width(self):
        key = self.key("insp")
        path = self.write("type,gtin,lot,colour\ninspection.sampled,%s,L1,red\n" % GTIN)
        r = agent("import", "--key", key, path, queue=self.queue)
        self.assertEqual(r.returncode, 1)
        self.assertIn(":1: ", r.stderr)
        self.assertIn("colour", r.stderr)
        path = self.write("type,gtin,lot\ninspection.sampled,%s\n" % GTIN)
        r = agent("import", "--key", key, path, queue=self.queue)
        self.assertEqual(r.returncode, 1)
        self.assertIn(":2: ", r.stderr)
        self.assertEqual(queued(self.queue), [])

    def test_rfc4180_bom_crlf_quotes_nesting(self):
        key = self.key("insp")
        path = self.write(
            'type,gtin,lot,place,data.certificate,data.result,data.items,data.body\r\n'
            'inspection.completed,8801234567893,L1,"Lab ""North"", Incheon",C-1,pass,'
            '"[{""name"":""Pb"",""value"":""0.1 mg/kg"",""result"":""pass""}]",'
            '"CCIC Korea"\r\n'
            'inspection.sampled,08801234567893,L1,,,,,\r\n', bom=True)
        r = agent("import", "--key", key, "--no-send", path, queue=self.queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = queued(self.queue)
        self.assertEqual(len(names), 2)
        e = load_json(os.path.join(self.queue, names[0]))
        self.assertEqual(e["draft"]["place"], 'Lab "North", Incheon')
        self.assertEqual(e["draft"]["data"]["items"][0]["value"], "0.1 mg/kg")
        self.assertEqual(e["draft"]["data"]["body"], "CCIC Korea")
        self.assertTrue(e["source"].endswith("in.csv:2"))
        e = load_json(os.path.join(self.queue, names[1]))
        self.assertEqual(e["draft"]["type"], "inspection.sampled")
        self.assertNotIn("data", e["draft"])

    def test_same_file_twice_refused(self):
        key = self.key("insp")
        path = self.write("type,gtin,lot\ninspection.sampled,%s,L1\n" % GTIN)
        self.assertEqual(agent("import", "--key", key, "--no-send", path,
                               queue=self.queue).returncode, 0)
        r = agent("import", "--key", key, "--no-send", path, queue=self.queue)
        self.assertEqual(r.returncode, 1)
        self.assertIn("imported before", r.stderr)
        self.assertEqual(len(queued(self.queue)), 1)
        r = agent("import", "--key", key, "--no-send", "--again", path, queue=self.queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(queued(self.queue)), 2)

    def test_example_file_is_valid(self):
        key = self.key("insp")
        r = agent("import", "--key", key, "--no-send", EXAMPLE_CSV, queue=self.queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(len(queued(self.queue)), 5)

    def test_crash_while_staging_queues_nothing(self):
        key = self.key("insp")
        rows = "".join("inspection.sampled,%s,L%d\n" % (GTIN, i) for i in range(20))
        path = self.write("type,gtin,lot\n" + rows)
        r = agent("import", "--key", key, "--no-send", path, queue=self.queue,
                  env={"TRACE_AGENT_CRASH_AT": "import-staged"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        r = agent("send", "--list", queue=self.queue)       # runs recovery
        self.assertEqual(queued(self.queue), [])
        self.assertFalse([d for d in os.listdir(self.queue) if d.startswith(".stage")])
        r = agent("import", "--key", key, "--no-send", path, queue=self.queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(queued(self.queue)), 20)

    def test_crash_while_committing_queues_everything_once(self):
        key = self.key("insp")
        rows = "".join("inspection.sampled,%s,L%d\n" % (GTIN, i) for i in range(20))
        path = self.write("type,gtin,lot\n" + rows)
        r = agent("import", "--key", key, "--no-send", path, queue=self.queue,
                  env={"TRACE_AGENT_CRASH_AT": "import-moving:7"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        self.assertEqual(len(queued(self.queue)), 7)
        r = agent("send", "--list", queue=self.queue)
        self.assertEqual(len(queued(self.queue)), 20)
        lots = [load_json(os.path.join(self.queue, n))["draft"]["lot"]
                for n in queued(self.queue)]
        self.assertEqual(lots, ["L%d" % i for i in range(20)])   # file order
        r = agent("import", "--key", key, "--no-send", path, queue=self.queue)
        self.assertEqual(r.returncode, 1)                          # no second copy
        self.assertEqual(len(queued(self.queue)), 20)


class RecordOffline(TempDir):
    def record(self, key, cert, **kw):
        return agent("record", "--key", key, "--type", "inspection.completed",
                     "--gtin", "8801234567893", "--lot", "L1", "--country", "KR",
                     "--set", "certificate=" + cert, "--set", "result=pass",
                     queue=self.queue, **kw)

    def test_server_down_queues_and_exits_0(self):
        key = self.key()
        r = self.record(key, "C-1", server=dead_server())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("queued", r.stderr)
        self.assertIn(self.queue, r.stderr)
        self.assertEqual(r.stdout, "")
        names = queued(self.queue)
        self.assertEqual(len(names), 1)
        e = load_json(os.path.join(self.queue, names[0]))
        self.assertEqual(e["draft"]["gtin"], GTIN)     # GTIN-13 stored as GTIN-14
        self.assertEqual(e["draft"]["data"], {"certificate": "C-1", "result": "pass"})
        self.assertEqual(e["key"], os.path.realpath(key))
        self.assertEqual(os.stat(os.path.join(self.queue, names[0])).st_mode & 0o777, 0o600)

    def test_no_server_configured_queues(self):
        key = self.key()
        r = self.record(key, "C-1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("queued", r.stderr)
        self.assertEqual(len(queued(self.queue)), 1)

    def test_invalid_event_is_not_queued(self):
        key = self.key()
        r = agent("record", "--key", key, "--type", "inspection.completed",
                  "--gtin", GTIN, "--lot", "L1", "--set", "certificate=C",
                  queue=self.queue)
        self.assertEqual(r.returncode, 2)
        self.assertIn("data.result", r.stderr)
        self.assertEqual(queued(self.queue), [])

    def test_set_values_and_data_file(self):
        key = self.key()
        data = os.path.join(self.dir, "d.json")
        with open(data, "w") as f:
            json.dump({"brand": "Sulwhasoo", "origin": "KR"}, f)
        r = agent("record", "--key", key, "--type", "product.registered", "--gtin", GTIN,
                  "--lot", "L1", "--data", data, "--set", "name.en=Emulsion",
                  "--set", "name.zh=乳液", "--set", "quantity=1200",
                  "--set", "spec=1.5", "--set", "manufacturer=true", queue=self.queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        e = load_json(os.path.join(self.queue, queued(self.queue)[0]))
        self.assertEqual(e["draft"]["data"], {
            "brand": "Sulwhasoo", "origin": "KR", "name": {"en": "Emulsion", "zh": "乳液"},
            "quantity": 1200, "spec": "1.5", "manufacturer": "true"})

    def test_send_with_server_down_keeps_everything(self):
        key = self.key()
        for i in range(3):
            self.assertEqual(self.record(key, "C-%d" % i).returncode, 0)
        before = [read(os.path.join(self.queue, n)) for n in queued(self.queue)]
        r = agent("send", "--attempts", "2", queue=self.queue, server=dead_server())
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("retrying", r.stderr)
        self.assertEqual(before, [read(os.path.join(self.queue, n))
                                  for n in queued(self.queue)])


class QueueFolder(TempDir):
    def test_list_and_corrupt_entry(self):
        key = self.key()
        r = agent("record", "--key", key, "--type", "inspection.sampled", "--gtin", GTIN,
                  "--lot", "L1", "--set", "samples=2", queue=self.queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.queue, "000000000000-0000000000000.json"), "w") as f:
            f.write('{"v": 1, "truncated')
        r = agent("send", "--list", queue=self.queue)
        self.assertEqual(r.returncode, 0)
        self.assertIn("unreadable", r.stdout)
        self.assertIn("draft   inspection.sampled", r.stdout)
        # The broken file goes to rejected/ before anything is sent.
        r = agent("send", "--attempts", "1", queue=self.queue, server=dead_server())
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not a valid queue entry", r.stderr)
        self.assertIn("000000000000-0000000000000.json",
                      os.listdir(os.path.join(self.queue, "rejected")))
        self.assertEqual(len(queued(self.queue)), 1)

    def test_leftover_temporary_files_are_removed(self):
        os.makedirs(self.queue)
        tmp = os.path.join(self.queue, "000000000001-0000000000000.json.tmp.999")
        with open(tmp, "w") as f:
            f.write("half")
        agent("send", "--list", queue=self.queue)
        self.assertFalse(os.path.exists(tmp))


class FakeRecalls:
    """A stand-in for GET /api/v1/recalls (issue 7 builds the real one):
    two JSON pages joined by "next", two CSV pages joined by a Link header."""

    def __init__(self):
        import http.server
        import urllib.parse
        self.queries = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                outer.queries.append((url.path, q, self.headers.get("Accept")))
                page2 = q.get("cursor") == "p2"
                if "text/csv" in (self.headers.get("Accept") or ""):
                    body = "chain,severity,reason\n" + (
                        "01/%s/10/L2,1,\"mould, found\"\n" % GTIN if page2 else
                        "01/%s/10/L1,2,label\n" % GTIN)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/csv")
                    if not page2:
                        self.send_header("Link", '</api/v1/recalls?cursor=p2>; rel="next"')
                else:
                    recalls = ([{"status": "closed", "gtin": GTIN, "lot": "L3",
                                 "severity": 3, "reason": "x" * 80}] if page2 else
                               [{"status": "open", "gtin": GTIN, "lot": "L1", "severity": 2,
                                 "reason": "wrong label", "issued": "2026-11-20T08:00:00Z"},
                                {"status": "open", "gtin": GTIN, "lot": "L2", "severity": 1,
                                 "reason": "mould\nfound", "issued": "2026-11-21T08:00:00Z"}])
                    body = json.dumps({"recalls": recalls, "next": None if page2 else "p2"})
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                data = body.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Recalls(unittest.TestCase):
    def setUp(self):
        self.fake = FakeRecalls()

    def tearDown(self):
        self.fake.stop()

    def test_table_follows_the_cursor(self):
        r = agent("recalls", "--gtin", "8801234567893", "--status", "open",
                  "--since", "2026-11-01", server=self.fake.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["status", "gtin", "lot", "severity", "issued",
                                            "reason"])
        self.assertEqual(len(lines), 4)
        # Columns line up: every row has its lot where the header has "lot".
        col = lines[0].index("lot")
        self.assertEqual([l[col:col + 2] for l in lines[1:]], ["L1", "L2", "L3"])
        self.assertIn("mould found", lines[2])           # no raw newline
        self.assertIn("...", lines[3])                   # long text cut
        self.assertIn("3 recalls", r.stderr)
        path, q, accept = self.fake.queries[0]
        self.assertEqual(path, "/api/v1/recalls")
        self.assertEqual(q, {"gtin": GTIN, "status": "open", "since": "2026-11-01"})
        self.assertEqual(self.fake.queries[1][1].get("cursor"), "p2")

    def test_csv_passthrough_one_header(self):
        r = agent("recalls", "--csv", server=self.fake.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "chain,severity,reason\n01/%s/10/L1,2,label\n"
                         "01/%s/10/L2,1,\"mould, found\"\n" % (GTIN, GTIN))
        self.assertEqual(self.fake.queries[0][2], "text/csv")

    def test_bad_filters_and_no_server(self):
        for args in (["--status", "maybe"], ["--since", "yesterday"],
                     ["--gtin", "8801234567890"]):
            r = agent("recalls", *args, server=self.fake.url)
            self.assertEqual(r.returncode, 2, args)
        self.assertEqual(agent("recalls").returncode, 2)
        self.assertEqual(agent("recalls", server=dead_server()).returncode, 3)


# ---- against a real trace-server ---------------------------------------------

def chain(lot, gtin=GTIN):
    return cluster().chain_events("/api/v1/chains/01/%s/10/%s" % (gtin, lot)) or []


def certificates(lot):
    return [e["payload"]["data"].get("certificate") for e in chain(lot)]


class Online(TempDir):
    @classmethod
    def setUpClass(cls):
        cls.c = cluster()
        cls.server = cls.c.public_url

    _lots = 0

    def new_lot(self):
        """A fresh chain with its product.registered event."""
        Online._lots += 1
        lot = "%s%d" % (type(self).__name__[:8].upper(), Online._lots)
        r = agent("record", "--key", _keys["brand"], "--type", "product.registered",
                  "--gtin", GTIN, "--lot", lot, "--data", "-", queue=self.queue,
                  server=self.server, stdin=json.dumps(REGISTERED))
        self.assertEqual(r.returncode, 0, r.stderr)
        return lot

    def inspect(self, lot, cert, queue=None, env=None, server=None):
        return agent("record", "--key", _keys["inspector"], "--type",
                     "inspection.completed", "--gtin", GTIN, "--lot", lot,
                     "--set", "certificate=" + cert, "--set", "result=pass",
                     queue=queue or self.queue, server=server or self.server, env=env)

    def assertChain(self, lot, certs):
        events = chain(lot)
        self.assertEqual([e["seq"] for e in events], list(range(len(events))))
        for prev, e in zip(events, events[1:]):
            self.assertEqual(e["payload"]["prev"], prev["id"])
        self.assertEqual(certificates(lot)[1:], certs)


class RecordAndSend(Online):
    def test_record_up_prints_id_of_the_chain_event(self):
        lot = self.new_lot()
        r = self.inspect(lot, "C-UP")
        self.assertEqual(r.returncode, 0, r.stderr)
        events = chain(lot)
        self.assertEqual(r.stdout.strip(), events[1]["id"])
        self.assertEqual(events[1]["payload"]["signer"],
                         load_json(_keys["inspector"])["keyid"])
        self.assertIn("seq 1", r.stderr)
        self.assertIn("log index", r.stderr)
        self.assertEqual(queued(self.queue), [])

    def test_record_down_then_send(self):
        lot = self.new_lot()
        for cert in ("C-A", "C-B", "C-C"):
            r = self.inspect(lot, cert, server=dead_server())
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("queued", r.stderr)
        self.assertEqual(len(queued(self.queue)), 3)
        self.assertChain(lot, [])
        r = agent("send", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 sent", r.stderr)
        self.assertChain(lot, ["C-A", "C-B", "C-C"])
        self.assertEqual(queued(self.queue), [])

    def test_record_sends_earlier_queued_events_of_its_chain_first(self):
        lot = self.new_lot()
        self.assertEqual(self.inspect(lot, "C-1", server=dead_server()).returncode, 0)
        r = self.inspect(lot, "C-2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertChain(lot, ["C-1", "C-2"])

    def test_refused_event_goes_to_rejected_with_the_answer(self):
        lot = self.new_lot()
        # A logistics key may not sign inspections: 403 from the server.
        r = agent("record", "--key", _keys["logistics"], "--type", "inspection.completed",
                  "--gtin", GTIN, "--lot", lot, "--set", "certificate=X",
                  "--set", "result=pass", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("rejected", r.stderr)
        self.assertEqual(queued(self.queue), [])
        rejected = os.listdir(os.path.join(self.queue, "rejected"))
        self.assertEqual(len(rejected), 2)
        err = [f for f in rejected if f.endswith(".error.json")][0]
        self.assertIn("error", load_json(os.path.join(self.queue, "rejected", err)))
        self.assertChain(lot, [])

    def test_chain_not_started_stays_queued(self):
        r = self.inspect("NOCHAIN%d" % os.getpid(), "C-1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("queued", r.stderr)
        self.assertEqual(len(queued(self.queue)), 1)
        r = agent("send", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 3)


class Crashes(Online):
    """kill -9 at every step: afterwards `send` leaves each event in the
    chain exactly once and the queue empty."""

    def test_record_killed_at_each_step(self):
        for step in ("queued", "signed", "stored", "posted"):
            with self.subTest(step=step):
                lot = self.new_lot()
                r = self.inspect(lot, "C-" + step, env={"TRACE_AGENT_CRASH_AT": step})
                self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
                self.assertEqual(len(queued(self.queue)), 1)
                r = agent("send", queue=self.queue, server=self.server)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertChain(lot, ["C-" + step])
                self.assertEqual(queued(self.queue), [])

    def test_send_killed_at_each_step(self):
        for step in ("signed:2", "stored:2", "posted:2", "posted:3"):
            with self.subTest(step=step):
                lot = self.new_lot()
                certs = ["C-%s-%d" % (step, i) for i in range(3)]
                for cert in certs:
                    self.assertEqual(self.inspect(lot, cert, server=dead_server()).returncode, 0)
                r = agent("send", queue=self.queue, server=self.server,
                          env={"TRACE_AGENT_CRASH_AT": step})
                self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
                r = agent("send", queue=self.queue, server=self.server)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertChain(lot, certs)
                self.assertEqual(queued(self.queue), [])

    def test_killed_after_conflict_then_rebased(self):
        lot = self.new_lot()
        other = os.path.join(self.dir, "other-queue")
        # Signed on head 0 and stored, never posted.
        r = self.inspect(lot, "C-MINE", env={"TRACE_AGENT_CRASH_AT": "stored"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        # Meanwhile another agent appends seq 1.
        self.assertEqual(self.inspect(lot, "C-OTHER", queue=other).returncode, 0)
        for step in ("conflict", "signed", "stored"):
            r = agent("send", queue=self.queue, server=self.server,
                      env={"TRACE_AGENT_CRASH_AT": step})
            self.assertEqual(r.returncode, -signal.SIGKILL, (step, r.stderr))
        r = agent("send", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertChain(lot, ["C-OTHER", "C-MINE"])

    def test_answer_lost_then_head_moved(self):
        lot = self.new_lot()
        other = os.path.join(self.dir, "other-queue")
        # Accepted at seq 1, but killed before the entry was deleted.
        r = self.inspect(lot, "C-MINE", env={"TRACE_AGENT_CRASH_AT": "posted"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        self.assertEqual(self.inspect(lot, "C-OTHER", queue=other).returncode, 0)
        r = agent("send", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertChain(lot, ["C-MINE", "C-OTHER"])       # not a second C-MINE
        self.assertEqual(queued(self.queue), [])


class TwoAgents(Online):
    def test_one_rebases_deterministically(self):
        lot = self.new_lot()
        other = os.path.join(self.dir, "other-queue")
        r = self.inspect(lot, "C-A", env={"TRACE_AGENT_CRASH_AT": "stored"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        self.assertEqual(self.inspect(lot, "C-B", queue=other).returncode, 0)
        r = agent("send", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rebased", r.stderr)
        self.assertChain(lot, ["C-B", "C-A"])

    def test_both_register_the_same_lot(self):
        lot = "TWOREG%d" % os.getpid()
        other = os.path.join(self.dir, "other-queue")
        argv = ["record", "--key", _keys["brand"], "--type", "product.registered",
                "--gtin", GTIN, "--lot", lot, "--data", "-"]
        # Different times: two statements (the same bytes would be one).
        r = agent(*argv, "--time", "2026-11-20T08:00:00Z", queue=self.queue,
                  server=self.server, stdin=json.dumps(REGISTERED),
                  env={"TRACE_AGENT_CRASH_AT": "stored"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        r = agent(*argv, "--time", "2026-11-20T08:00:01Z", queue=other, server=self.server,
                  stdin=json.dumps(REGISTERED))
        self.assertEqual(r.returncode, 0, r.stderr)
        # The first one cannot be rebased: a chain starts only once.
        r = agent("send", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("only allowed at seq 0", r.stderr)
        rejected = os.path.join(self.queue, "rejected")
        err = [f for f in os.listdir(rejected) if f.endswith(".error.json")][0]
        self.assertIn("seq 0", load_json(os.path.join(rejected, err))["error"]["message"])
        self.assertEqual(len(chain(lot)), 1)

    def test_concurrent_agents_all_succeed(self):
        lot = self.new_lot()
        results = {}

        # Under memcheck (valgrind.sh) three agents racing over one chain
        # can take longer than the agent's 30 s default per request, and
        # an agent can lose the race CONFLICT_ROUNDS_MAX (10) times in a
        # row (send.c): it then keeps the statement queued for the next
        # send, as it says.  There, that next send must deliver it.
        wrapped = bool(os.environ.get("TRACE_SERVER_WRAPPER"))
        env = {"TRACE_TIMEOUT": "180"} if wrapped else None

        def run(name):
            q = os.path.join(self.dir, "q-" + name)
            results[name] = [self.inspect(lot, "C-%s-%d" % (name, i), queue=q, env=env)
                             for i in range(6)]

        threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b", "c")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, rs in results.items():
            kept = False
            for r in rs:
                self.assertEqual(r.returncode, 0, r.stderr)
                if wrapped and r.stdout == "" and "kept for the next send" in r.stderr:
                    kept = True
                    continue
                self.assertRegex(r.stdout, r"^[0-9a-f]{64}\n$", r.stderr)
            if kept:
                q = os.path.join(self.dir, "q-" + name)
                r = agent("send", queue=q, server=self.server, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(queued(q), [], r.stderr)
        events = chain(lot)
        self.assertEqual(len(events), 19)
        certs = certificates(lot)[1:]
        self.assertEqual(sorted(certs), sorted("C-%s-%d" % (n, i)
                                               for n in "abc" for i in range(6)))
        for n in "abc":   # each agent's own events stay in its order
            mine = [c for c in certs if c.startswith("C-%s-" % n)]
            self.assertEqual(mine, ["C-%s-%d" % (n, i) for i in range(6)])
        self.assertChain(lot, certs)


    def test_agents_sharing_one_queue_take_turns(self):
        lot = self.new_lot()
        results = []

        def run(name):
            results.extend(self.inspect(lot, "S-%s-%d" % (name, i)) for i in range(4))

        threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b", "c")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(chain(lot)), 13)
        self.assertEqual(queued(self.queue), [])


class ImportOnline(Online):
    def test_500_rows(self):
        lots = [self.new_lot() for _ in range(5)]
        path = os.path.join(self.dir, "lab.csv")
        with open(path, "w") as f:
            f.write("type,gtin,lot,time,country,place,data.certificate,data.result,"
                    "data.body\n")
            for i in range(500):
                f.write("inspection.completed,8801234567893,%s,,KR,\"CCIC Korea, Incheon\","
                        "CCIC-%04d,%s,CCIC Korea\n" % (lots[i % 5], i,
                                                        "pass" if i % 7 else "fail"))
        r = agent("import", "--key", _keys["inspector"], path, queue=self.queue,
                  server=self.server, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("500 rows: 500 sent, 0 queued, 0 rejected", r.stderr)
        for k, lot in enumerate(lots):
            self.assertChain(lot, ["CCIC-%04d" % i for i in range(k, 500, 5)])
        self.assertEqual(queued(self.queue), [])

    def test_progress_bar_on_a_terminal_only(self):
        import pty
        lot = self.new_lot()
        path = os.path.join(self.dir, "tty.csv")
        with open(path, "w") as f:
            f.write("type,gtin,lot,data.samples\n")
            for i in range(4):
                f.write("inspection.sampled,%s,%s,%d\n" % (GTIN, lot, i + 1))
        master, slave = pty.openpty()
        chunks = []

        def drain():
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    return
                if not data:
                    return
                chunks.append(data)

        reader = threading.Thread(target=drain)
        reader.start()
        e = dict(os.environ, TRACE_QUEUE=self.queue, TRACE_SERVER=self.server)
        p = subprocess.run([AGENT, "import", "--key", _keys["inspector"], path],
                           stderr=slave, stdout=subprocess.PIPE, env=e, timeout=120)
        os.close(slave)
        reader.join(10)
        os.close(master)
        out = b"".join(chunks).decode()
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("\r[", out)
        self.assertIn("4/4", out)
        self.assertIn("4 rows: 4 sent, 0 queued, 0 rejected", out)
        # Without a terminal: the summary, no bar.
        with open(path, "a") as f:
            f.write("inspection.sampled,%s,%s,9\n" % (GTIN, lot))
        r = agent("import", "--key", _keys["inspector"], path, queue=self.queue,
                  server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\r", r.stderr)
        self.assertIn("5 rows: 5 sent", r.stderr)

    def test_import_killed_while_sending(self):
        lot = self.new_lot()
        path = os.path.join(self.dir, "lab.csv")
        with open(path, "w") as f:
            f.write("type,gtin,lot,data.certificate,data.result\n")
            for i in range(10):
                f.write("inspection.completed,%s,%s,K-%d,pass\n" % (GTIN, lot, i))
        r = agent("import", "--key", _keys["inspector"], path, queue=self.queue,
                  server=self.server, env={"TRACE_AGENT_CRASH_AT": "posted:4"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        r = agent("import", "--key", _keys["inspector"], path, queue=self.queue,
                  server=self.server)
        self.assertEqual(r.returncode, 1)                  # imported before
        r = agent("send", queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertChain(lot, ["K-%d" % i for i in range(10)])

    def test_rejected_row_reported_with_its_line(self):
        lot = self.new_lot()
        path = os.path.join(self.dir, "mixed.csv")
        with open(path, "w") as f:
            f.write("type,gtin,lot,data.certificate,data.result\n"
                    "inspection.completed,%s,%s,M-1,pass\n"
                    "product.registered,%s,%s,,\n"
                    "inspection.completed,%s,%s,M-2,pass\n" % (GTIN, lot, GTIN, lot, GTIN, lot))
        # product.registered needs name/brand/origin: caught before queueing.
        r = agent("import", "--key", _keys["inspector"], path, queue=self.queue,
                  server=self.server)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mixed.csv:3: ", r.stderr)
        self.assertEqual(queued(self.queue), [])
        # An inspector may not sign customs.released: a valid row that the
        # server refuses (403) is moved to rejected/ and named by its line;
        # the rows around it go through.
        with open(path, "w") as f:
            f.write("type,gtin,lot,data.certificate,data.result,data.declaration\n"
                    "inspection.completed,%s,%s,M-1,pass,\n"
                    "customs.released,%s,%s,,,D-1\n"
                    "inspection.completed,%s,%s,M-2,pass,\n" % (GTIN, lot, GTIN, lot, GTIN, lot))
        r = agent("import", "--key", _keys["inspector"], path, queue=self.queue,
                  server=self.server)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("mixed.csv:3: rejected: HTTP 403", r.stderr)
        self.assertIn("3 rows: 2 sent, 0 queued, 1 rejected", r.stderr)
        self.assertChain(lot, ["M-1", "M-2"])
        self.assertEqual(queued(self.queue), [])


class KeysOnline(Online):
    def test_enroll_record_revoke(self):
        r = agent("key", "gen", "--name", "newinsp", "--out", self.dir)
        self.assertEqual(r.returncode, 0)
        keyid = r.stdout.strip()
        # The org first (the root only), then a key of it.
        r = agent("key", "org", "--admin", self.c.root_key_path, "--org", "ccic-japan",
                  "--name-zh", "中国检验认证日本", "--name-en", "CCIC Japan",
                  "--role", "inspector", "--gtin-prefix", "880", "--gtin-prefix", "490",
                  server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^[0-9a-f]{64}\n$")
        self.assertIn("registered org ccic-japan", r.stderr)
        org = [e["payload"] for e in self.c.get("/api/v1/keys").json()["entries"]
               if e["payload"]["op"] == "org" and e["payload"]["org"] == "ccic-japan"]
        self.assertEqual(len(org), 1, org)
        self.assertEqual((org[0]["name"], org[0]["roles"], org[0]["gtinPrefixes"]),
                         ({"zh": "中国检验认证日本", "en": "CCIC Japan"}, ["inspector"],
                          ["880", "490"]))
        # A role the org does not have is refused by the server.
        r = agent("key", "enroll", "--admin", self.c.root_key_path, "--pub",
                  os.path.join(self.dir, "newinsp.pub"), "--role", "brand",
                  "--org", "ccic-japan", "--gtin-prefix", "880", server=self.server)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("role_not_in_org", r.stderr)
        r = agent("key", "enroll", "--admin", self.c.root_key_path, "--pub",
                  os.path.join(self.dir, "newinsp.pub"), "--role", "inspector",
                  "--org", "ccic-japan", "--gtin-prefix", "880", server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^[0-9a-f]{64}\n$")
        self.assertEqual(self.c.get("/api/v1/keys/" + keyid).status, 200)
        lot = self.new_lot()
        r = agent("record", "--key", os.path.join(self.dir, "newinsp.key"), "--type",
                  "inspection.sampled", "--gtin", GTIN, "--lot", lot, "--set", "samples=3",
                  queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = agent("key", "revoke", "--admin", self.c.root_key_path, "--keyid", keyid,
                  "--reason", "laptop stolen", server=self.server)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = agent("record", "--key", os.path.join(self.dir, "newinsp.key"), "--type",
                  "inspection.sampled", "--gtin", GTIN, "--lot", lot, "--set", "samples=4",
                  queue=self.queue, server=self.server)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("revoked", r.stderr)

    def test_org_by_non_root_refused(self):
        r = agent("key", "org", "--admin", _keys["brand"], "--org", "rogue",
                  "--name-zh", "流氓", "--name-en", "Rogue", "--role", "brand",
                  server=self.server)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused", r.stderr)
        r = agent("key", "org", "--admin", self.c.root_key_path, "--org", "Not An Id",
                  "--name-zh", "x", "--name-en", "x", "--role", "brand", server=self.server)
        self.assertEqual(r.returncode, 2)
        r = agent("key", "org", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("key org --admin ROOT.key --org ID", r.stdout)

    def test_enroll_by_non_admin_refused(self):
        r = agent("key", "gen", "--name", "x", "--out", self.dir)
        r = agent("key", "enroll", "--admin", _keys["brand"], "--pub",
                  os.path.join(self.dir, "x.pub"), "--role", "inspector",
                  "--org", "X", server=self.server)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused", r.stderr)


if __name__ == "__main__":
    unittest.main()
