"""trace-server's witness client (--witness-policy, SPEC section 9,
docs/PROTOCOL.md 9.8) against a real redis-server, trace-server and real
trace-witness processes:

- a quorum reached: /api/v1/checkpoint is the log's note with cosignature
  lines that verify as C2SP tlog-cosignature says (checked with
  tests/witness/speclient.py, written from the specs);
- 2-of-3: one witness killed, checkpoints are still published; two down,
  the signed tree grows but the published one stays, witnessLagSeconds
  grows in /readyz (still 200) and /metrics; the witness back, it catches up;
- every witness hanging (accepts, never answers): ingest answers promptly,
  /api/v1/checkpoint is 503 no_witnessed_checkpoint, the 5 s timeout is
  reported, and a bundle comes with the log-signed checkpoint alone, which
  verify --policy refuses and --log-vkey accepts;
- witnesses that answer garbage (junk bytes, a random cosignature under
  their own name, a megabyte, bad 409 sizes, 500, a truncated answer):
  ingest answers promptly, the server stays up, each is reported in
  /readyz, and no junk line reaches a published checkpoint;
- a serve-only trace-server (LOG.pub) with the policy serves the witnessed
  checkpoint; policies that cannot work stop trace-server (exit 2);
- witnesses that cosigned a bigger tree of the same log key (another
  Redis): 409, then 422 once the fork grows past it; nothing is published;
- an operator who rolls Redis back and resets the signer's state makes the
  log key sign a fork: the witnesses refuse it and only the checkpoints
  published before the rollback are ever served;
- trace-agent verify --policy accepts a quorum bundle and exits 1 on a
  bundle without the quorum or with a forged cosignature;
- witnesses down for longer than the lot index's undo grace (--index-proof-grace): the
  bundle on the old witnessed checkpoint still verifies (index_prune
  keeps what its proofs need).

Run: make all && cd tests/integration &&
     TRACE_BUILD=../../build /usr/bin/python3 -m unittest test_witnessed -v
"""
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import BUILD, Key, free_port, wait_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "witness"))
import speclient as sc  # noqa: E402

WITNESS = os.path.join(BUILD, "trace-witness")
AGENT = os.path.join(BUILD, "trace-agent")
ORIGIN = "trace.test/log"
EM_DASH = "\u2014"


class WitnessProc:
    """One trace-witness on a port fixed at creation (so the policy can
    name it) with its own key and state directory."""

    def __init__(self, folder, short, log_vkey):
        self.short = short
        self.name = "witness.%s.example/trace" % short
        self.folder = os.path.join(folder, "witness-" + short)
        os.makedirs(self.folder)
        self.key = Key("w-" + short)
        self.key_path, _ = self.key.write(self.folder)
        self.public = self.key.public
        self.vkey = sc.vkey(self.name, 0x04, self.public)
        self.log_vkey = log_vkey
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.folder, "witness.log"), "ab")
        self.proc = subprocess.Popen(
            [WITNESS, "--listen", "127.0.0.1:%d" % self.port, "--key",
             self.key_path, "--name", self.name, "--state",
             os.path.join(self.folder, "state"), "--log", self.log_vkey],
            stderr=self.log)
        wait_port(self.port, proc=self.proc)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        if self.proc is not None:
            self.log.close()
        self.proc = None

    def status(self):
        import json
        status, _, data = sc.post(self.port, None, path="/", method="GET")
        assert status == 200
        return {l["origin"]: l["size"] for l in json.loads(data)["logs"]}


class Hang:
    """A port that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.conns = []
        self.done = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.done:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.done = True
        self.sock.close()
        for c in self.conns:
            c.close()


class Garbage:
    """A witness URL that answers every add-checkpoint the same wrong way:
    a status and a body (bytes), or "truncated" (a Content-Length it never
    sends) - what a broken or hostile witness could send back."""

    def __init__(self, status, body, content_type="text/plain"):
        import http.server

        answer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer.asked += 1
                if status == "truncated":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"\u2014 partial")
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.asked = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def split_note(note):
    """(body, [signature lines]) of a signed note."""
    body, _, sigs = note.rpartition("\n\n")
    return body + "\n", sigs.rstrip("\n").split("\n")


def body_of(note):
    lines = note.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


def log_size(c):
    return int(c.redis.get("log:{log}:size") or 0)


def signed_size(c):
    note = c.redis.get("log:{log}:checkpoint")
    return body_of(note.decode())[0] if note else -1


def settled_size(c, timeout=10.0):
    """The log's size once the integrator has caught up: every signed tree
    ends with the integrator's index statement after the newest leaves
    (SPEC 11), so the size right after an append is one short of the
    checkpoint that covers it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = log_size(c)
        if c.redis.llen("log:{log}:pending") == 0 and signed_size(c) == n:
            return n
        time.sleep(0.05)
    raise AssertionError("the integrator did not sign the whole log")


def metric(c, name):
    for line in c.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise AssertionError("no metric " + name)


def ready_lag(c):
    r = c.get("/readyz")
    assert r.status == 200, r
    text = r.body.decode()
    for line in text.splitlines():
        if line.startswith("witnessLagSeconds: "):
            return int(line.split()[1]), text
    raise AssertionError("no witnessLagSeconds in /readyz: %r" % text)


class WitnessedCluster(harness.Cluster):
    """A Cluster whose trace-server has --witness-policy naming witnesses
    (WitnessProc, or Hang for a witness that never answers)."""

    def __init__(self, shorts, quorum, log_key_from=None):
        super().__init__()
        if log_key_from is not None:
            for ext in (".key", ".pub"):
                shutil.copy(os.path.join(log_key_from, "log" + ext), self.dir)
        self.make_log_key()
        with open(os.path.join(self.dir, "log.pub")) as f:
            import json
            public = base64.b64decode(json.load(f)["public"])
        self.log_vkey = sc.vkey(ORIGIN, 0x01, public)
        self.witnesses = {s: WitnessProc(self.dir, s, self.log_vkey) for s in shorts}
        self.quorum = quorum
        self.policy = os.path.join(self.dir, "witnesses.policy")

    def write_policy(self, urls=None):
        lines = ["log %s" % self.log_vkey]
        for s, w in self.witnesses.items():
            lines.append("witness %s %s %s" % (s, w.vkey, (urls or {}).get(s, w.url)))
        lines += self.quorum
        with open(self.policy, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start_all(self, witnesses=None, urls=None, extra=()):
        self.write_policy(urls)
        self.start_redis()
        for s in (self.witnesses if witnesses is None else witnesses):
            self.witnesses[s].start()
        self.start_server(["--witness-policy", self.policy] + list(extra))

    def stop(self):
        self.stop_server()
        for w in self.witnesses.values():
            w.stop()
        if self.redis_proc and self.redis_proc.poll() is None:
            self.redis_proc.terminate()
            self.redis_proc.wait(10)
        if os.environ.get("TRACE_KEEP_TEST_DIRS"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def published(self):
        r = self.get("/api/v1/checkpoint")
        return r.body.decode() if r.status == 200 else None

    def wait_published(self, size, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            note = self.published()
            if note is not None and body_of(note)[0] >= size:
                return note
            time.sleep(0.05)
        raise AssertionError("no witnessed checkpoint of size %d (served: %r)"
                             % (size, self.published()))

    def cosigners(self, note):
        """The witnesses whose cosignature lines in note verify (a bad one
        raises)."""
        body, lines = split_note(note)
        response = ("\n".join(lines) + "\n").encode()
        found = set()
        for s, w in self.witnesses.items():
            if sc.verify_cosignatures(body, response, w.name, w.public):
                found.add(s)
        return found

    def enroll_n(self, n, prefix):
        for i in range(n):
            self.enroll(Key("%s%d" % (prefix, i)), "warehouse", prefixes=["880"])


def assert_log_signed(test, c, note):
    body, lines = split_note(note)
    name = ORIGIN
    log_lines = [l for l in lines if l.startswith(EM_DASH + " " + name + " ")]
    test.assertEqual(len(log_lines), 1, lines)


class TwoOfThree(unittest.TestCase):
    def setUp(self):
        self.c = WitnessedCluster(["customs", "ccic", "third"],
                                  ["group two 2 customs ccic third",
                                   "quorum two"])
        # Pages show display names (configuration), escaped; a witness
        # without one by its policy name.
        self.c.start_all(extra=["--witness-display", "customs=Weihai Customs <海关>",
                                "--witness-display", "ccic=CCIC Korea"])

    def tearDown(self):
        self.c.stop()

    def test_quorum_then_witnesses_down_then_back(self):
        c = self.c
        c.enroll_n(2, "a")
        note = c.wait_published(log_size(c))
        assert_log_signed(self, c, note)
        # Every live witness cosigned within the moment.
        deadline = time.time() + 10
        while c.cosigners(note) != {"customs", "ccic", "third"} and time.time() < deadline:
            time.sleep(0.1)
            note = c.published()
        self.assertEqual(c.cosigners(note), {"customs", "ccic", "third"})
        self.assertEqual(note, c.redis.get("log:{log}:witnessed").decode())
        for w in c.witnesses.values():
            self.assertEqual(w.status()[ORIGIN], body_of(note)[0])
        lag, text = ready_lag(c)
        self.assertEqual(lag, 0, text)
        self.assertIn("witness customs: cosigned size %d" % body_of(note)[0], text)
        self.assertEqual(metric(c, "trace_witness_published_size"), body_of(note)[0])

        # One down (kill -9): two of three still publish.
        c.witnesses["third"].stop(signal.SIGKILL)
        c.enroll_n(1, "b")
        size = settled_size(c)
        note = c.wait_published(size)
        self.assertEqual(body_of(note)[0], size)
        self.assertEqual(c.cosigners(note), {"customs", "ccic"})

        # Two down: the log still ingests and signs, nothing is published,
        # and the lag grows.
        c.witnesses["ccic"].stop(signal.SIGKILL)
        t0 = time.time()
        c.enroll_n(1, "c")
        self.assertLess(time.time() - t0, 5)
        grown = settled_size(c)
        self.assertGreater(grown, size)
        self.assertEqual(signed_size(c), grown)
        time.sleep(2.5)
        self.assertEqual(body_of(c.published())[0], size)
        lag, text = ready_lag(c)
        self.assertGreaterEqual(lag, 2, text)
        self.assertIn("witness ccic:", text)
        self.assertIn("last attempt:", text)
        self.assertGreaterEqual(metric(c, "trace_witness_lag_seconds"), 2)
        self.assertIn('trace_witness_failures_total{witness="ccic"}',
                      c.get("/metrics").body.decode())

        # ccic back (its state survived kill -9): it catches up, lag 0.
        c.witnesses["ccic"].start()
        note = c.wait_published(grown, timeout=90)
        self.assertEqual(c.cosigners(note), {"customs", "ccic"})
        deadline = time.time() + 5
        while ready_lag(c)[0] != 0 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(ready_lag(c)[0], 0)

    def test_bundle_carries_cosigned_checkpoint_and_verify_policy(self):
        c = self.c
        brand = Key("brand")
        c.enroll(brand, "brand", prefixes=["880"])
        c.wait_published(log_size(c))
        deadline = time.time() + 10
        while c.cosigners(c.published()) != {"customs", "ccic", "third"} \
                and time.time() < deadline:
            time.sleep(0.1)
        gtin = "08801234567893"
        payload = harness.event_payload(brand, "product.registered", gtin, "L1",
                                        0, None, harness.REGISTERED)
        r = c.post("/api/v1/events", brand.sign(harness.TYPE_EVENT, payload))
        self.assertIn(r.status, (200, 201), r)
        size = log_size(c)
        c.wait_published(size)
        r = c.get("/api/v1/bundles/01/%s/10/L1" % gtin)
        self.assertEqual(r.status, 200, r)
        import json
        bundle = r.json()
        self.assertGreaterEqual(body_of(bundle["checkpoint"])[0], size)
        self.assertGreaterEqual(len(c.cosigners(bundle["checkpoint"])), 2)

        # The pages say who witnessed and when (the verdict's bundle).
        page = c.get("/01/%s/10/L1?lang=en" % gtin, headers={"Accept": "text/html"})
        self.assertEqual(page.status, 200, page)
        html = page.body.decode()
        self.assertIn('id="witnessed">Checkpoint cosigned by the witnesses ', html)
        self.assertRegex(html, r'cosigned by the witnesses (Weihai Customs &lt;海关&gt;|CCIC Korea|third), '
                         r'(CCIC Korea|third).* \(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\)')
        self.assertNotIn("<海关>", html)
        page = c.get("/inspect/01/%s/10/L1?lang=en" % gtin)
        self.assertEqual(page.status, 200, page)
        self.assertIn("<dt>Witnesses</dt><dd id=\"witnessed\">Checkpoint cosigned by "
                      "the witnesses ", page.body.decode())

        folder = c.dir
        good = os.path.join(folder, "bundle.json")
        with open(good, "w") as f:
            json.dump(bundle, f)
        ok = self.verify(good)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("ok    witnesses: quorum met; cosigned by customs "
                      "(witness.customs.example/trace) at ", ok.stdout)

        # SPEC 9: once the newest cosignature is older than the maximum
        # checkpoint age (default 1 hour), the same bundle is STALE (exit
        # 5), never "verified": the witnesses have not seen the log since.
        # (Timestamps are whole seconds: 2.2 s later the age is at least 2.)
        time.sleep(2.2)
        r = self.verify(good, "--max-checkpoint-age", "1s")
        self.assertEqual(r.returncode, 5, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"STALE: \d+ checks passed, but the newest "
                         r"cosignature is from 20\d\d-.*Z, more than 1 s ago")
        self.assertNotIn("verified:", r.stdout)
        r = self.verify(good, "--max-checkpoint-age", "1h")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.verify(good, "--max-checkpoint-age", "0")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

        # A checkpoint with only the log's signature: no quorum.
        body, lines = split_note(bundle["checkpoint"])
        bare = dict(bundle, checkpoint=body + "\n" + lines[0] + "\n")
        self.assertTrue(lines[0].startswith(EM_DASH + " " + ORIGIN + " "))
        path = os.path.join(folder, "bare.json")
        with open(path, "w") as f:
            json.dump(bare, f)
        r = self.verify(path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("FAIL  witnesses: ", r.stdout)
        self.assertIn("cosigned by none", r.stdout)

        # A forged cosignature: one witness's line with its signature bytes
        # flipped.
        forged_lines = list(lines)
        for i, l in enumerate(forged_lines):
            if l.startswith(EM_DASH + " " + c.witnesses["customs"].name + " "):
                head, _, sig = l.rpartition(" ")
                raw = bytearray(base64.b64decode(sig))
                raw[-1] ^= 1
                forged_lines[i] = head + " " + base64.b64encode(bytes(raw)).decode()
        self.assertNotEqual(forged_lines, lines)
        forged = dict(bundle, checkpoint=body + "\n" + "\n".join(forged_lines) + "\n")
        path = os.path.join(folder, "forged.json")
        with open(path, "w") as f:
            json.dump(forged, f)
        r = self.verify(path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("FAIL  witnesses: ", r.stdout)

    def test_serve_only_instance_serves_the_witnessed_checkpoint(self):
        c = self.c
        c.enroll_n(1, "s")
        note = c.wait_published(log_size(c))
        pub = c.log_key_path[:-len(".key")] + ".pub"
        port = free_port()
        p = subprocess.Popen(c.server_argv(port=port, log_key=pub, log_state="")
                             + ["--witness-policy", c.policy],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc=p)
            import http.client
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/v1/checkpoint")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            served = resp.read().decode()
            self.assertEqual(body_of(served)[0], body_of(note)[0])
            self.assertGreaterEqual(len(c.cosigners(served)), 2)
            conn.close()
        finally:
            p.terminate()
            p.wait(10)

    def test_policies_that_cannot_work_are_refused(self):
        c = self.c
        other = Key("other-log")
        cases = {
            "no log line has this server's log key": "log %s\nwitness w %s %s\nquorum w\n" % (
                sc.vkey(ORIGIN, 0x01, other.public), c.witnesses["customs"].vkey,
                c.witnesses["customs"].url),
            "the quorum is none": "log %s\nquorum none\n" % c.log_vkey,
            "needs an http:// or https:// URL": "log %s\nwitness w %s\nquorum w\n" % (
                c.log_vkey, c.witnesses["customs"].vkey),
            "line 1": "log nonsense\n",
        }
        # --witness-display must name the policy's witnesses, once, with
        # plain text.
        good = os.path.join(c.dir, "good.policy")
        with open(good, "w") as f:
            f.write("log %s\nwitness customs %s %s\nquorum customs\n" % (
                c.log_vkey, c.witnesses["customs"].vkey, c.witnesses["customs"].url))
        for why, display in (
                ("want NAME=TEXT with NAME a witness of the policy", ["nobody=X"]),
                ("want NAME=TEXT with NAME a witness of the policy", ["customs"]),
                ("1-100 bytes of text", ["customs="]),
                ("1-100 bytes of text", ["customs=" + "x" * 101]),
                ("1-100 bytes of text", ["customs=a\u202eb"]),
                ("1-100 bytes of text", ["customs=A", "customs=B"])):
            argv = c.server_argv(port=free_port(), log_state=os.path.join(
                c.dir, "unused-state")) + ["--witness-policy", good]
            for d in display:
                argv += ["--witness-display", d]
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (why, display, r.stderr))
            self.assertIn(why, r.stderr)
        for why, text in cases.items():
            path = os.path.join(c.dir, "bad.policy")
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run(c.server_argv(port=free_port(), log_state=os.path.join(
                c.dir, "unused-state")) + ["--witness-policy", path],
                capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (why, r.stderr))
            self.assertIn(why, r.stderr)

    def verify(self, bundle_path, *extra):
        c = self.c
        return subprocess.run(
            [AGENT, "verify", bundle_path, "--root", c.root_pub, "--policy",
             c.policy, "--no-state"] + list(extra),
            capture_output=True, text=True, timeout=60)


class AllHanging(unittest.TestCase):
    def setUp(self):
        self.hangs = [Hang(), Hang()]
        self.c = WitnessedCluster(["customs", "ccic"], ["group both all customs ccic",
                                                       "quorum both"])
        self.c.start_all(witnesses=[], urls={"customs": self.hangs[0].url,
                                             "ccic": self.hangs[1].url})

    def tearDown(self):
        self.c.stop()
        for h in self.hangs:
            h.close()

    def test_ingest_does_not_wait_for_witnesses(self):
        c = self.c
        for i in range(10):
            t0 = time.time()
            c.enroll(Key("k%d" % i), "warehouse", prefixes=["880"])
            # A witness request is bounded by 5 s; ingest never waits for one.
            self.assertLess(time.time() - t0, 2.0)
        size = settled_size(c)
        self.assertEqual(signed_size(c), size)
        r = c.get("/api/v1/checkpoint")
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.json()["error"]["code"], "no_witnessed_checkpoint")
        time.sleep(1.2)
        lag, text = ready_lag(c)
        self.assertGreaterEqual(lag, 1, text)
        self.assertIn("nothing cosigned yet", text)
        # Each request gives up after 5 s and is reported.
        # Each witness is asked on its own thread, so under valgrind one
        # may report well after the other: wait for both.
        expect = ["witness %s: nothing cosigned yet; last attempt: "
                  "Timeout was reached" % name for name in ("customs", "ccic")]
        deadline = time.time() + 30
        while (not all(e in text for e in expect)) and time.time() < deadline:
            time.sleep(0.2)
            text = ready_lag(c)[1]
        for e in expect:
            self.assertIn(e, text)

        # A bundle still comes, with the log's own signature only, after
        # the witnesses' extra wait; verify --policy refuses it.
        brand = Key("brand")
        c.enroll(brand, "brand", prefixes=["880"])
        gtin = "08801234567893"
        r = c.post("/api/v1/events", brand.sign(harness.TYPE_EVENT, harness.event_payload(
            brand, "product.registered", gtin, "L1", 0, None, harness.REGISTERED)))
        self.assertIn(r.status, (200, 201), r)
        r = c.get("/api/v1/bundles/01/%s/10/L1" % gtin)
        self.assertEqual(r.status, 200, r)
        _, lines = split_note(r.json()["checkpoint"])
        self.assertEqual(len(lines), 1, lines)
        page = c.get("/01/%s/10/L1?lang=en" % gtin, headers={"Accept": "text/html"})
        self.assertIn('id="witnessed">The checkpoint is not yet cosigned by enough '
                      'witnesses.', page.body.decode())
        self.assertTrue(lines[0].startswith(EM_DASH + " " + ORIGIN + " "))
        path = os.path.join(c.dir, "bundle.json")
        with open(path, "wb") as f:
            f.write(r.body)
        v = subprocess.run([AGENT, "verify", path, "--root", c.root_pub,
                            "--policy", c.policy], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(v.returncode, 1, v.stdout + v.stderr)
        self.assertIn("FAIL  witnesses: ", v.stdout)
        # The log's key alone still verifies it (--log-vkey).
        v = subprocess.run([AGENT, "verify", path, "--root", c.root_pub,
                            "--log-vkey", c.log_vkey], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)


class StoppedWitnesses(unittest.TestCase):
    """Two witnesses, a quorum of both, and helpers for a lot P1 (no tests
    of its own)."""

    GTIN = "08801234567893"

    def setUp(self):
        self.c = WitnessedCluster(["customs", "ccic"], ["group both all customs ccic",
                                                       "quorum both"])
        self.c.start_all()

    def tearDown(self):
        self.c.stop()

    def post(self, key, etype, data):
        import json
        chain = self.c.get("/api/v1/chains/01/%s/10/P1" % self.GTIN)
        seq, prev = 0, None
        if chain.status == 200:
            events = chain.json()["events"]
            seq, prev = len(events), events[-1]["id"]
        env = key.sign(harness.TYPE_EVENT, harness.event_payload(
            key, etype, self.GTIN, "P1", seq, prev, data))
        r = self.c.post("/api/v1/events", env)
        self.assertIn(r.status, (200, 201), r)
        return harness.statement_id(env)

    def bundle(self):
        r = self.c.get("/api/v1/bundles/01/%s/10/P1" % self.GTIN)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def write(self, name, bundle):
        import json
        path = os.path.join(self.c.dir, name)
        with open(path, "w") as f:
            json.dump(bundle, f)
        return path

    def agent_verify(self, path):
        return subprocess.run([AGENT, "verify", path, "--root", self.c.root_pub,
                               "--policy", self.c.policy, "--no-state"],
                              capture_output=True, text=True, timeout=60)

    def libtrace_verify(self, path):
        return subprocess.run([os.path.join(BUILD, "tests", "test_bundle"),
                               "--verify", path, self.c.root_pub, self.c.log_vkey],
                              capture_output=True, text=True, timeout=60)

    def witnessed_by_both(self):
        """Wait until the whole log is published with both cosignatures;
        its size."""
        c = self.c
        witnessed = c.wait_published(settled_size(c))
        deadline = time.time() + 10
        while c.cosigners(witnessed) != {"customs", "ccic"} and time.time() < deadline:
            time.sleep(0.1)
            witnessed = c.published()
        self.assertEqual(c.cosigners(witnessed), {"customs", "ccic"})
        return body_of(witnessed)[0]


class WitnessesStop(StoppedWitnesses):
    """SPEC 9: witnesses that cosigned once and then stop answering.  A
    recall posted afterwards must not be invisible (nor the lot
    unverifiable with a policy): the bundle keeps the witnessed checkpoint
    for what it covers and carries the rest as pending, proven against the
    log's newer signed checkpoint.  The attacks: a pending close that ends
    a witnessed recall before any witness saw it, pending statements
    proven against another tree, a pending checkpoint of another history
    (signed with the log's own key), a pending statement dropped."""

    def test_recall_after_witnesses_stop_is_pending_and_in_force(self):
        import copy
        import json
        c = self.c
        brand, importer, regulator = Key("brand"), Key("importer"), Key("regulator")
        c.enroll(brand, "brand")
        c.enroll(importer, "importer", org="Importer Org")
        c.enroll(regulator, "regulator", org="SAMR")
        self.post(brand, "product.registered", harness.REGISTERED)
        first = self.post(importer, "recall.issued", {
            "reason": "Microbial", "severity": 2, "action": "Stop using it"})
        witnessed = c.wait_published(settled_size(c))
        deadline = time.time() + 10
        while c.cosigners(witnessed) != {"customs", "ccic"} and time.time() < deadline:
            time.sleep(0.1)
            witnessed = c.published()
        self.assertEqual(c.cosigners(witnessed), {"customs", "ccic"})
        w_size = body_of(witnessed)[0]
        for w in c.witnesses.values():
            w.stop(signal.SIGKILL)

        # After the witnesses stopped: the importer closes its recall, a
        # regulator issues a new one, and a lab enrolled since reports a
        # fail (its org and key entries are pending too).
        self.post(importer, "recall.closed", {"recall": first, "outcome": "destroyed"})
        second = self.post(regulator, "recall.issued", {
            "reason": "Mercury", "severity": 1, "action": "Return it"})
        lab = Key("lab")
        c.enroll(lab, "inspector", org="Late Lab")
        self.post(lab, "inspection.completed", {"certificate": "C9", "result": "fail"})
        n_size = settled_size(c)
        self.assertGreater(n_size, w_size)
        t0 = time.time()
        bundle = self.bundle()
        self.assertLess(time.time() - t0, 2.0)   # no wait for the witnesses
        self.assertEqual(body_of(bundle["checkpoint"])[0], w_size)
        self.assertEqual(c.cosigners(bundle["checkpoint"]), {"customs", "ccic"})
        self.assertEqual([e["logIndex"] < w_size for e in bundle["events"]], [True, True])
        pending = bundle["pending"]
        self.assertEqual(sorted(pending), ["checkpoint", "consistency", "events", "keys"])
        self.assertEqual(body_of(pending["checkpoint"])[0], n_size)
        self.assertEqual(len(split_note(pending["checkpoint"])[1]), 1)
        self.assertEqual(len(pending["events"]), 3)
        self.assertEqual(len(pending["keys"]), 2)
        self.assertTrue(all(k["logIndex"] >= w_size for k in pending["keys"]))
        self.assertEqual(json.loads(base64.b64decode(
            pending["keys"][1]["envelope"]["payload"]))["keyid"], lab.keyid)
        self.assertEqual(harness.statement_id(pending["events"][1]["envelope"]), second)

        good = self.write("bundle.json", bundle)
        v = self.agent_verify(good)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        out = v.stdout
        self.assertIn("ok    witnesses: quorum met", out)
        self.assertIn("ok    pending: 3 events and 2 key entries logged after it, "
                      "in checkpoint size %d" % n_size, out)
        self.assertIn("ok    pending event 2 (seq 2, recall.closed)", out)
        self.assertIn("ok    pending event 3 (seq 3, recall.issued)", out)
        self.assertIn("ok    pending event 4 (seq 4, inspection.completed)", out)
        self.assertRegex(out, r"ok    pending key entry at log index \d+: enroll %s "
                         r"\(inspector, " % lab.keyid)
        self.assertIn("ok    complete: as of checkpoint %d " % w_size, out)
        # Both recalls open: the pending close of the witnessed one
        # counts for nothing, the pending recall counts at once.
        self.assertIn("status  recall: open (2 of 2 recalls open)", out)
        self.assertIn("status    recall %s (seq 1): open" % first, out)
        self.assertRegex(out, r"status    recall %s \(seq 3\): open, severity 1, .*"
                         r", pending \(in force before it is witnessed\)" % second)
        self.assertIn("note    seq 2 (recall.closed): pending (logged after the "
                      "witnessed checkpoint): ignored until the witnesses cosign it", out)
        self.assertIn("note    seq 3 (recall.issued): pending (logged after the "
                      "witnessed checkpoint): counted now", out)
        self.assertIn("status  inspection: fail ( seq 4 fail pending)", out)
        self.assertEqual(self.libtrace_verify(good).returncode, 0)

        # The log grows on (another lot): the same statements proven
        # against that newer tree.
        c.enroll(Key("later"), "warehouse")
        settled_size(c)
        later = self.bundle()
        self.assertGreater(body_of(later["pending"]["checkpoint"])[0], n_size)

        def refused(name, tampered, code):
            path = self.write(name, tampered)
            r = self.libtrace_verify(path)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(" %s: " % code, r.stdout)
            a = self.agent_verify(path)
            self.assertEqual(a.returncode, 1, a.stdout + a.stderr)
            self.assertIn("status  unknown: the bundle did not verify", a.stdout)
            return r.stdout

        # Pending statements whose proofs are against another tree.
        t = copy.deepcopy(bundle)
        t["pending"]["events"] = later["pending"]["events"]
        out = refused("other-tree.json", t, "bad_proof")
        self.assertIn("against the pending checkpoint", out)

        # A pending checkpoint of another history, signed with the log's
        # own key (what the witnesses are there to refuse).
        log = sc.LogKey(ORIGIN, bytes(c.log.signing))
        body = sc.checkpoint_body(ORIGIN, n_size, os.urandom(32))
        t = copy.deepcopy(bundle)
        t["pending"]["checkpoint"] = body + "\n" + log.signature_line(body)
        refused("fork.json", t, "pending_inconsistent")

        # A pending statement dropped from the middle of the chain (the
        # close, between the witnessed recall and the new one).
        t = copy.deepcopy(bundle)
        del t["pending"]["events"][0]
        out = refused("dropped.json", t, "seq_order")
        self.assertIn(" wrong_prev: ", out)

        # The limit, tested rather than assumed: without its pending
        # member the bundle is the witnessed one, complete as of its
        # checkpoint, and verifies (pending statements are the log's word
        # alone; newer statements show in newer checkpoints, PROTOCOL
        # 10.3); what the witnesses cosigned stays in force.
        t = copy.deepcopy(bundle)
        del t["pending"]
        v = self.agent_verify(self.write("no-pending.json", t))
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn("status  recall: open (1 of 1 recall open)", v.stdout)


class GarbageWitnesses(unittest.TestCase):
    """SPEC 9: a witness that answers garbage never blocks ingest or crashes
    the server, and nothing it sends ends up on a published checkpoint.
    One real witness makes the quorum; eight others answer junk."""

    def setUp(self):
        junk_line = ("\u2014 witness.g1.example/trace " +
                     base64.b64encode(os.urandom(72)).decode() + "\n").encode()
        self.fakes = {
            "g0": Garbage(200, b"\xff\xfe\x00 not a cosignature\n"),
            "g1": Garbage(200, junk_line),          # its own name, a random signature
            "g2": Garbage(200, b"A" * 1000000),      # a megabyte
            "g3": Garbage(409, b"not a number\n", "text/x.tlog.size"),
            "g4": Garbage(409, b"99999999999999999999999\n", "text/x.tlog.size"),
            "g5": Garbage(409, b"-1\n", "text/x.tlog.size"),
            "g6": Garbage(500, b""),
            "g7": Garbage("truncated", b""),
        }
        self.c = WitnessedCluster(["customs"] + sorted(self.fakes), ["quorum customs"])
        self.c.start_all(witnesses=["customs"],
                         urls={k: f.url for k, f in self.fakes.items()})

    def tearDown(self):
        self.c.stop()
        for f in self.fakes.values():
            f.close()

    def test_garbage_never_blocks_ingest_nor_reaches_a_checkpoint(self):
        c = self.c
        for i in range(8):
            t0 = time.time()
            c.enroll(Key("gk%d" % i), "warehouse", prefixes=["880"])
            self.assertLess(time.time() - t0, 2.0)
            time.sleep(0.3)
        note = c.wait_published(settled_size(c))
        # Only the real witness's line verifies; a junk line by a listed
        # witness would make cosigners() raise.
        self.assertEqual(c.cosigners(note), {"customs"})
        body, lines = split_note(note)
        self.assertEqual(len(lines), 2, lines)  # the log's and customs's
        for short, fake in self.fakes.items():
            self.assertGreaterEqual(fake.asked, 1, short)
        self.assertIsNone(c.server_proc.poll(), "trace-server died")
        self.assertEqual(c.get("/healthz").status, 200)
        _, text = ready_lag(c)
        for short in self.fakes:
            self.assertRegex(text, r"witness %s: nothing cosigned yet; last attempt: \S" % short)
        # And a bundle still verifies against the policy.
        brand = Key("brand")
        c.enroll(brand, "brand", prefixes=["880"])
        gtin = "08801234567893"
        r = c.post("/api/v1/events", brand.sign(harness.TYPE_EVENT, harness.event_payload(
            brand, "product.registered", gtin, "G1", 0, None, harness.REGISTERED)))
        self.assertIn(r.status, (200, 201), r)
        c.wait_published(settled_size(c))
        r = c.get("/api/v1/bundles/01/%s/10/G1" % gtin)
        self.assertEqual(r.status, 200, r)
        path = os.path.join(c.dir, "g-bundle.json")
        with open(path, "w") as f:
            f.write(r.body.decode())
        v = subprocess.run([AGENT, "verify", path, "--root", c.root_pub, "--policy",
                            c.policy, "--no-state"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)


class Forks(unittest.TestCase):
    def setUp(self):
        self.a = WitnessedCluster(["customs", "ccic"], ["group both all customs ccic",
                                                       "quorum both"])
        self.a.start_all()
        self.b = None

    def tearDown(self):
        if self.b is not None:
            self.b.stop_server()
            if self.b.redis_proc and self.b.redis_proc.poll() is None:
                self.b.redis_proc.terminate()
                self.b.redis_proc.wait(10)
            shutil.rmtree(self.b.dir, ignore_errors=True)
        self.a.stop()

    def test_witness_with_a_bigger_tree_refuses_another_history(self):
        a = self.a
        a.enroll_n(4, "a")
        size = settled_size(a)
        note = a.wait_published(size)
        deadline = time.time() + 10
        while a.cosigners(a.published()) != {"customs", "ccic"} and time.time() < deadline:
            time.sleep(0.1)
        a.stop_server()
        # The same log key over another Redis: another history.
        b = self.b = WitnessedCluster([], [], log_key_from=a.dir)
        b.witnesses = a.witnesses
        b.quorum = a.quorum
        b.start_all(witnesses=[])
        b.enroll_n(1, "b")
        small = settled_size(b)
        self.assertLess(small, size)
        time.sleep(1.5)
        r = b.get("/api/v1/checkpoint")
        self.assertEqual(r.status, 503, r)
        lag, text = ready_lag(b)
        self.assertIn("cosigned size %d, more than this log's %d" % (size, small), text)
        self.assertIn('trace_witness_conflicts_total{witness="customs"}',
                      b.get("/metrics").body.decode())
        # The fork grows past the witnesses' tree: 409 resync, then the
        # consistency proof from their size fails (422).
        b.enroll_n(size, "c")
        big = settled_size(b)
        time.sleep(3)
        self.assertEqual(b.get("/api/v1/checkpoint").status, 503)
        self.assertIsNone(b.redis.get("log:{log}:witnessed"))
        for w in a.witnesses.values():
            self.assertEqual(w.status()[ORIGIN], body_of(note)[0])
        self.assertIn("HTTP 422 for the consistency proof from its size %d: "
                      "this log is a fork" % size, ready_lag(b)[1])

    def test_rolled_back_redis_and_reset_signer_get_no_cosignature(self):
        a = self.a
        a.enroll_n(1, "a")
        s1 = settled_size(a)
        note1 = a.redis.get("log:{log}:checkpoint").decode()
        self.assertEqual(body_of(note1)[0], s1)
        a.wait_published(s1)
        a.enroll_n(2, "b")
        s2 = settled_size(a)
        note2 = a.wait_published(s2)
        deadline = time.time() + 10
        while a.cosigners(a.published()) != {"customs", "ccic"} and time.time() < deadline:
            time.sleep(0.1)
            note2 = a.published()
        published_before = {body_of(note2), body_of(note1)}
        # The operator rolls Redis back to note1 and, to get the key to
        # sign, also resets its --log-state and adopts Redis's checkpoint.
        a.stop_server()
        r = a.redis
        r.set("log:{log}:checkpoint", note1)
        r.set("log:{log}:integrated", s1)
        r.set("log:{log}:size", s1)
        r.hset("log:{log}:lx:meta", "through", s1)
        r.delete("log:{log}:pending")
        shutil.rmtree(a.log_state)
        a.start_server(["--witness-policy", a.policy, "--log-state-init"])
        a.enroll_n(3, "c")
        # Three entries and at least one index statement after them.
        forked = settled_size(a)
        self.assertGreaterEqual(forked, s1 + 4)
        self.assertEqual(signed_size(a), forked)  # the key signed a fork
        seen = set()
        deadline = time.time() + 3
        while time.time() < deadline:
            note = a.published()
            self.assertIsNotNone(note)
            seen.add(body_of(note))
            time.sleep(0.1)
        self.assertTrue(seen <= published_before, seen - published_before)
        for w in a.witnesses.values():
            self.assertEqual(w.status()[ORIGIN], s2)
        lag, text = ready_lag(a)
        self.assertIn("this log is a fork of what it cosigned", text)
        self.assertGreaterEqual(lag, 2, text)



class WitnessLagKeepsIndexUndo(StoppedWitnesses):
    """The integrator drops the lot index's undo records older than the
    head of --index-proof-grace ago (3 s here, 60 s by default; log.c
    index_prune), but never those a proof against the witnessed checkpoint
    needs: with the witnesses down for more than the grace, the bundle on
    the old witnessed checkpoint still carries index proofs that verify."""

    def setUp(self):
        self.c = WitnessedCluster(["customs", "ccic"], ["group both all customs ccic",
                                                       "quorum both"])
        self.c.start_all(extra=["--index-proof-grace", "3s"])

    def test_undo_records_of_the_witnessed_checkpoint_stay(self):
        import json
        c = self.c
        brand = Key("ubrand")
        c.enroll(brand, "brand", prefixes=["880"])
        self.post(brand, "product.registered", harness.REGISTERED)
        witnessed = body_of(c.wait_published(settled_size(c)))[0]
        for w in c.witnesses.values():
            w.stop(signal.SIGKILL)
        # more commits over other lots: each rewrites index records the
        # witnessed checkpoint's proofs read through the undo hashes
        for n in range(4):
            env = brand.sign(harness.TYPE_EVENT, harness.event_payload(
                brand, "product.registered", self.GTIN, "U%d" % n, 0, None,
                harness.REGISTERED))
            self.assertIn(c.post("/api/v1/events", env).status, (200, 201))
            settled_size(c)
        self.assertGreater(signed_size(c), witnessed)
        self.assertEqual(body_of(c.redis.get("log:{log}:witnessed").decode())[0],
                         witnessed)
        time.sleep(5)
        time.sleep(1)   # the idle integrator's prune (every 200 ms)
        versions = [int(v) for v in c.redis.zrange("log:{log}:lx:versions", 0, -1)]
        # Everything older than the witnessed checkpoint went; it and
        # every later commit stayed.
        self.assertEqual(versions[0], witnessed, versions)
        self.assertEqual(versions[-1], signed_size(c))
        bundle = self.bundle()
        self.assertEqual(body_of(bundle["checkpoint"])[0], witnessed)
        self.assertIn("index", bundle)
        path = self.write("lagged.json", bundle)
        r = subprocess.run([AGENT, "verify", path, "--root", c.root_pub, "--policy",
                            c.policy, "--no-state"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class RecallStream(harness.RecallStream):
    """harness.RecallStream whose next() gives (event, parsed data)."""

    def __init__(self, port):
        super().__init__(port, timeout=300)
        assert self.status == 200, self.status

    def next(self, timeout):
        import json
        _, event, data, _ = self.events.get(timeout=timeout)
        return event, json.loads(data)


class PendingCloseInViews(StoppedWitnesses):
    """SPEC 9 in the server's own views (docs/PROTOCOL.md 9.8): a
    statement logged after the published witnessed checkpoint is folded
    as a bundle's pending statement is.  The attack: the importer closes
    its own recall while the witnesses are down (nothing has seen the
    close but the operator).  The consumer page (lot and unit), the
    resolver JSON, the chain JSON, the inspector page, the recall API (JSON,
    CSV, status filters), the recall board and EPCIS must go on saying the
    recall is open, the close awaiting witnesses, and the recall stream
    announces it as recall.closing only; once the witnesses are back and
    cosign it, every one of them says closed (the stream: recall.closed),
    and no page rendered before that is served from a cache afterwards."""

    def views(self):
        """What each view says of P1's recall."""
        import json
        import re
        c, g = self.c, self.GTIN
        html = {"Accept": "text/html", "Accept-Language": "en"}
        out = {}
        page = c.get("/01/%s/10/P1" % g, headers=html).body.decode()
        out["lot page"] = re.search(r'data-recall-state="([a-z_]+)"', page).group(1)
        out["lot page closing"] = 'id="recall-closing"' in page
        out["lot page awaiting"] = 'data-pending="awaiting-witnesses"' in page
        unit = c.get("/01/%s/10/P1/21/S1" % g, headers=html).body.decode()
        out["unit page"] = re.search(r'data-recall-state="([a-z_]+)"', unit).group(1)
        out["resolver json"] = c.get("/01/%s/10/P1" % g, headers={
            "Accept": "application/json"}).json()["recall"]["status"]
        chain = c.get("/api/v1/chains/01/%s/10/P1" % g).json()
        out["chain status"] = chain["status"]["recall"]["status"]
        out["chain pending"] = [(p["type"], p["awaitingWitnesses"])
                                for p in chain["status"]["pending"]]
        out["chain recalls"] = chain["recalls"]["status"]
        out["chain recall item"] = (chain["recalls"]["items"][0]["status"],
                                    "pendingClose" in chain["recalls"]["items"][0])
        inspect = c.get("/inspect/01/%s/10/P1" % g, headers=html).body.decode()
        out["inspector awaiting"] = 'data-pending="awaiting-witnesses"' in inspect
        api = c.get("/api/v1/recalls?gtin=%s" % g).json()["recalls"]
        out["api"] = [(r["status"], "closed" in r, "pendingClose" in r) for r in api]
        out["api open"] = len(c.get("/api/v1/recalls?gtin=%s&status=open" % g)
                              .json()["recalls"])
        out["api closed"] = len(c.get("/api/v1/recalls?gtin=%s&status=closed" % g)
                                .json()["recalls"])
        csv = c.get("/api/v1/recalls?gtin=%s&format=csv" % g).body.decode().splitlines()
        out["csv status"] = csv[1].split(",")[1]
        board = c.get("/recalls?gtin=%s&status=open" % g, headers=html).body.decode()
        out["board open"] = g in board and "No recalls match" not in board
        out["board awaiting"] = 'data-pending="awaiting-witnesses"' in board
        board = c.get("/recalls?gtin=%s&status=closed" % g, headers=html).body.decode()
        out["board closed"] = "No recalls match" not in board
        epcis = c.get("/api/v1/epcis/events?MATCH_epcClass=https://id.gs1.org/01/%s/10/P1"
                      % g).json()
        out["epcis closes"] = sum(1 for e in epcis["epcisBody"]["queryResults"]
                                  ["resultsBody"]["eventList"]
                                  if e["trace:type"] == "recall.closed")
        return out

    OPEN = {
        "lot page": "open", "lot page closing": True, "lot page awaiting": True,
        "unit page": "open", "resolver json": "recalled",
        "chain status": "open", "chain pending": [("recall.closed", True)],
        "chain recalls": "open", "chain recall item": ("open", True),
        "inspector awaiting": True,
        "api": [("open", False, True)], "api open": 1, "api closed": 0,
        "csv status": "open",
        "board open": True, "board awaiting": True, "board closed": False,
        "epcis closes": 0,
    }
    CLOSED = {
        "lot page": "closed", "lot page closing": False, "lot page awaiting": False,
        "unit page": "closed", "resolver json": "closed",
        "chain status": "closed", "chain pending": [],
        "chain recalls": "closed", "chain recall item": ("closed", False),
        "inspector awaiting": False,
        "api": [("closed", True, False)], "api open": 0, "api closed": 1,
        "csv status": "closed",
        "board open": False, "board awaiting": False, "board closed": True,
        "epcis closes": 1,
    }

    def test_pending_close_is_not_applied_until_witnessed(self):
        c = self.c
        brand, importer = Key("brand"), Key("importer")
        c.enroll(brand, "brand")
        c.enroll(importer, "importer", org="Importer Org")
        self.post(brand, "product.registered", harness.REGISTERED)
        recall = self.post(importer, "recall.issued", {
            "reason": "Microbial", "severity": 2, "action": "Stop using it"})
        w_size = self.witnessed_by_both()
        # The policy the consumer page's verifier requires (PROTOCOL 10.2.1).
        with open(c.policy) as f:
            self.assertEqual(c.get("/api/v1/log").json()["witnessPolicy"], f.read())
        before = self.views()
        self.assertEqual(before["lot page"], "open")
        self.assertEqual(before["chain pending"], [])
        self.assertEqual(before["api"], [("open", False, False)])

        stream = RecallStream(c.port)
        self.addCleanup(stream.close)
        for w in c.witnesses.values():
            w.stop(signal.SIGKILL)
        close = self.post(importer, "recall.closed", {"recall": recall, "outcome": "destroyed"})
        event, data = stream.next(timeout=5)
        self.assertEqual(event, "recall.closing")
        self.assertEqual((data["id"], data["status"], data["pendingClose"]["closedBy"]),
                         (recall, "open", close))
        self.assertNotIn("closed", data)
        n_size = settled_size(c)
        self.assertGreater(n_size, w_size)
        # Pages rendered just now (and cached) were folded with the close
        # applied?  No: every view says open, the close awaiting witnesses.
        self.assertEqual(self.views(), self.OPEN)
        time.sleep(1.5)     # past every cache's age: still pending
        self.assertEqual(body_of(c.published())[0], w_size)
        self.assertEqual(self.views(), self.OPEN)
        self.assertTrue(stream.events.empty(), "the stream announced the close early")

        # The witnesses come back and cosign the close.  Pages are rendered
        # (and cached) until the very moment it is published; the first
        # views after it must not come from those caches.
        for w in c.witnesses.values():
            w.start()
        html = {"Accept": "text/html", "Accept-Language": "en"}
        deadline = time.time() + 90
        while True:
            self.assertLess(time.time(), deadline, "the witnesses never cosigned")
            note = c.published()
            if body_of(note)[0] >= n_size and c.cosigners(note) == {"customs", "ccic"}:
                break
            for path in ("/01/%s/10/P1" % self.GTIN, "/01/%s/10/P1/21/S1" % self.GTIN,
                         "/inspect/01/%s/10/P1" % self.GTIN):
                c.get(path, headers=html)
            c.get("/01/%s/10/P1" % self.GTIN, headers={"Accept": "application/json"})
            time.sleep(0.02)
        self.assertEqual(self.views(), self.CLOSED)
        event, data = stream.next(timeout=5)
        self.assertEqual(event, "recall.closed")
        self.assertEqual((data["id"], data["status"], data["closedBy"]),
                         (recall, "closed", close))
        self.assertNotIn("pendingClose", data)


if __name__ == "__main__":
    unittest.main()
