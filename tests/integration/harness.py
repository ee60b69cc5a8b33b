"""Integration test harness: a private redis-server and trace-server on free
loopback ports, keys made with PyNaCl (an independent Ed25519 and DSSE
implementation, so the C code is checked against something it did not
write), and helpers to sign, post and snapshot the store.

Every test module does:

    from harness import Cluster
    cluster = Cluster.start()        # in setUpModule
    ...
    cluster.stop()                   # in tearDownModule
"""
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import nacl.signing
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TRACE_BUILD", os.path.join(ROOT, "build"))
SERVER = os.path.join(BUILD, "trace-server")
AGENT = os.path.join(BUILD, "trace-agent")

# trace-agent verify remembers every log it verified (--state, default
# $XDG_STATE_HOME/trace): keep that memory inside this test run.
if "TRACE_KEEP_XDG_STATE" not in os.environ:
    _STATE = tempfile.mkdtemp(prefix="trace-state-")
    os.environ["XDG_STATE_HOME"] = _STATE
    import atexit
    atexit.register(shutil.rmtree, _STATE, True)
VECTORS = os.environ.get("TRACE_VECTORS", os.path.join(ROOT, "tests", "vectors"))
TYPE_EVENT = "application/vnd.trace.event.v1+json"
TYPE_KEY = "application/vnd.trace.key.v1+json"
TYPE_INDEX = "application/vnd.trace.index.v1+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct free ports.  free_port() called n times may hand out the
    same port twice, since each socket is closed before the next is bound;
    these n are bound at the same time, so they differ."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_port(port, timeout=10.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open" % port)


def wait_listening(path, offset, port, proc, timeout):
    """Wait until the log at path, past offset, says trace-server listens
    on port: None.  If proc exits first, what the log says (its tail)."""
    want = ("listening on 127.0.0.1:%d," % port).encode()
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read()
        if want in text:
            return None
        if proc.poll() is not None:
            return text[-500:].decode(errors="replace").strip() or \
                "exit status %s" % proc.returncode
        time.sleep(0.05)
    raise RuntimeError("trace-server did not say it listens on port %d" % port)


def b64(data):
    return base64.b64encode(data).decode()


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


class Key:
    """An Ed25519 key with its Trace key id, usable to sign envelopes and as
    a key file for trace-agent/trace-server."""

    def __init__(self, name, seed=None):
        self.name = name
        self.signing = nacl.signing.SigningKey(seed or os.urandom(32))
        self.public = bytes(self.signing.verify_key)
        self.keyid = hashlib.sha256(self.public).hexdigest()[:32]

    def pub_json(self):
        return {"alg": "ed25519", "keyid": self.keyid, "public": b64(self.public),
                "name": self.name}

    def write(self, folder):
        """Write NAME.key (0600) and NAME.pub; return (key path, pub path)."""
        key_path = os.path.join(folder, self.name + ".key")
        pub_path = os.path.join(folder, self.name + ".pub")
        doc = dict(self.pub_json(), secret=b64(bytes(self.signing)))
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        with open(pub_path, "w") as f:
            json.dump(self.pub_json(), f)
        return key_path, pub_path

    def sign(self, payload_type, payload):
        """A DSSE envelope (dict) over payload (bytes or a dict to encode)."""
        if not isinstance(payload, bytes):
            payload = json.dumps(payload, ensure_ascii=False,
                                 separators=(",", ":")).encode()
        sig = self.signing.sign(pae(payload_type, payload)).signature
        return {"payloadType": payload_type, "payload": b64(payload),
                "signatures": [{"keyid": self.keyid, "sig": b64(sig)}]}


def statement_id(envelope):
    payload = base64.b64decode(envelope["payload"])
    return hashlib.sha256(pae(envelope["payloadType"], payload)).hexdigest()


def gtin_check(digits13):
    total = 0
    for i, c in enumerate(reversed(digits13)):
        total += int(c) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


ROLES = ["brand", "inspector", "logistics", "customs", "warehouse", "importer",
         "regulator", "admin"]
# Every GTIN: a GTIN-14 without its indicator digit starts with one of these.
ALL_PREFIXES = [str(d) for d in range(10)]
TEST_ORG = "test-org"


def org_id(text):
    """The registered org id (SPEC 8: [a-z0-9.-]{1,64}) the tests use for an
    org named text: text itself when it is one, else a readable slug, else
    (non-ASCII names) a digest."""
    if re.fullmatch(r"[a-z0-9.-]{1,64}", text):
        return text
    slug = re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-")
    if slug and text.isascii():
        return slug[:64]
    return "org-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def now_text(offset=0):
    """The time now (plus offset seconds) as the payloads write it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def org_payload(admin, org, roles=None, prefixes=None, name=None, when=None):
    """An org entry (op "org"); name is (zh, en) or one text for both;
    when defaults to now."""
    if name is None:
        name = org
    zh, en = (name, name) if isinstance(name, str) else name
    p = {"v": 1, "op": "org", "org": org, "name": {"zh": zh, "en": en},
         "roles": list(roles if roles is not None else ROLES),
         "time": when or now_text(), "signer": admin.keyid}
    if prefixes:
        p["gtinPrefixes"] = list(prefixes)
    return p


def enroll_payload(admin, key, role, org=TEST_ORG, prefixes=ALL_PREFIXES,
                   not_before=None, not_after=None, when=None):
    """An enrollment into org (an org id; Cluster.ensure_org registers the
    tests' orgs, whose prefixes are ALL_PREFIXES).  prefixes None: none
    (any GTIN, which an org with prefixes refuses)."""
    p = {"v": 1, "op": "enroll", "keyid": key.keyid, "alg": "ed25519",
         "public": b64(key.public), "name": key.name, "org": org, "role": role,
         "time": when or now_text(), "signer": admin.keyid}
    if prefixes is not None:
        p["gtinPrefixes"] = prefixes
    if not_before is not None:
        p["notBefore"] = not_before
    if not_after is not None:
        p["notAfter"] = not_after
    return p


def revoke_payload(admin, keyid, reason="test", when=None):
    return {"v": 1, "op": "revoke", "keyid": keyid, "reason": reason,
            "time": when or now_text(), "signer": admin.keyid}


def event_payload(key, etype, gtin, lot, seq, prev, data, when=None, where=None):
    p = {"v": 1, "type": etype, "chain": {"gtin": gtin, "lot": lot}, "seq": seq,
         "prev": prev, "time": when or now_text(),
         "signer": key.keyid, "data": data}
    if where is not None:
        p["where"] = where
    return p


REGISTERED = {"name": {"zh": "雪花秀滋阴乳液", "en": "Sulwhasoo Essential Emulsion",
                       "ko": "설화수 자음유액"},
              "brand": "Sulwhasoo", "origin": "KR", "spec": "125 ml",
              "expiry": "2029-10-31", "quantity": 1200}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Cluster:
    """redis-server + trace-server, with a root admin key."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="trace-it-")
        self.redis_port, self.port = free_ports(2)
        self.redis_proc = None
        self.server_proc = None
        self.started = False         # the server ran once: keep its port
        self.redis_started = False   # and Redis
        self.root = Key("root")
        self.root_key_path, self.root_pub = self.root.write(self.dir)
        self.log_key_path = os.path.join(self.dir, "log.key")
        # The signer's own high-water mark (SPEC 9, --log-state).
        self.log_state = os.path.join(self.dir, "log-state")
        self.public_url = "http://127.0.0.1:%d" % self.port

    @classmethod
    def start(cls, server_args=()):
        c = cls()
        c.start_redis()
        c.make_log_key()
        c.start_server(server_args)
        return c

    # --- processes -------------------------------------------------------
    def start_redis(self):
        """Start (or restart) redis-server; ready when the one answering on
        the port is this one (its data folder), for the reason spawn_server
        gives.  A port taken meanwhile: a new one, but only at the first
        start (a restart keeps the port the server was given)."""
        data = os.path.join(self.dir, "redis")
        os.makedirs(data, exist_ok=True)
        self.redis_log = open(os.path.join(self.dir, "redis.log"), "ab")
        for attempt in range(3):
            self.redis_proc = subprocess.Popen(
                ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                 "--dir", data, "--appendonly", "yes", "--appendfsync", "always",
                 "--save", "", "--protected-mode", "yes"],
                stdout=self.redis_log, stderr=subprocess.STDOUT)
            probe = redis.Redis(host="127.0.0.1", port=self.redis_port,
                                socket_timeout=1, socket_connect_timeout=1)
            deadline = time.time() + 10
            while time.time() < deadline and self.redis_proc.poll() is None:
                try:
                    if probe.config_get("dir").get("dir") == os.path.realpath(data):
                        probe.close()
                        self.redis = redis.Redis(host="127.0.0.1", port=self.redis_port)
                        self.redis_started = True
                        return
                except redis.exceptions.RedisError:
                    pass
                time.sleep(0.05)
            if self.redis_proc.poll() is None:
                raise RuntimeError("redis-server on port %d did not answer" % self.redis_port)
            if self.redis_started:
                raise RuntimeError("redis-server exited: port %d taken?" % self.redis_port)
            self.redis_port = free_port()
        raise RuntimeError("redis-server found no free port")

    def make_log_key(self):
        if not os.path.exists(self.log_key_path):
            self.log = Key("log")
            self.log.write(self.dir)

    def server_env(self):
        return dict(os.environ, TRACE_LOG_LEVEL="warn")

    def server_argv(self, extra=(), port=None, log_key=None, log_state=None):
        """trace-server's command line; log_state "" leaves --log-state out."""
        state = self.log_state if log_state is None else log_state
        return ([SERVER, "--listen", "127.0.0.1:%d" % (port or self.port),
                 "--redis", "redis://127.0.0.1:%d" % self.redis_port,
                 "--root-key", self.root_pub,
                 "--log-key", log_key or self.log_key_path]
                + (["--log-state", state] if state else [])
                + ["--log-origin", "trace.test/log", "--public-url", self.public_url,
                   "--threads", "8"]
                # Fixtures are dated (2025-2026) and must keep passing
                # whatever day the tests run: 100 years here; the tests of
                # the receipt-time rules pass their own --max-age (a later
                # option wins).
                + ["--max-age", "36500d"] + list(extra))

    def start_server(self, extra=()):
        self.spawn_server(self.server_argv(extra))

    def start_round1_server(self):
        """trace-server serving the store without signing (the log's public
        key): no integrator, so no index statement is appended and
        everything written now lies before the log's first one, as a
        round-1 server's log did (SPEC 8 "Data from round 1").  It loads
        the store's Functions, which round 1's appends are made with."""
        self.spawn_server(self.server_argv(log_key=os.path.join(self.dir, "log.pub"),
                                           log_state=""))

    def spawn_server(self, argv):
        """Start trace-server with argv (under TRACE_SERVER_WRAPPER, if
        set) as this cluster's server, logging to server.log.

        Ready means that this process says it listens on the port, not
        that something answers there: free_port() hands out a port that
        another process (a parallel test module, a bench) may take before
        the server binds it, and then the tests would talk to that one.
        If the port was taken, the cluster moves to a new one (only before
        its server first ran: a restart keeps the port its clients use)."""
        path = os.path.join(self.dir, "server.log")
        prefix = os.environ.get("TRACE_SERVER_WRAPPER", "")
        for attempt in range(3):
            offset = os.path.getsize(path) if os.path.exists(path) else 0
            self.server_log = open(path, "ab")
            full = (prefix.split() if prefix else []) + argv
            self.server_proc = subprocess.Popen(full, stdout=self.server_log,
                                                stderr=subprocess.STDOUT,
                                                env=self.server_env())
            said = wait_listening(path, offset, self.port, self.server_proc,
                                  timeout=30 if prefix else 10)
            if said is None:      # printed once civetweb listens
                self.started = True
                return
            self.server_log.close()
            if "cannot listen" not in said or self.started:
                raise RuntimeError("trace-server exited: %s" % said)
            old = "127.0.0.1:%d" % self.port
            self.port = free_port()
            self.public_url = "http://127.0.0.1:%d" % self.port
            argv = [a.replace(old, "127.0.0.1:%d" % self.port) for a in argv]
        raise RuntimeError("trace-server found no free port: %s" % said)

    def stop_server(self, sig=signal.SIGTERM):
        if self.server_proc and self.server_proc.poll() is None:
            self.server_proc.send_signal(sig)
            try:
                self.server_proc.wait(20)
            except subprocess.TimeoutExpired:
                self.server_proc.kill()
                self.server_proc.wait()
        rc = self.server_proc.returncode if self.server_proc else 0
        self.server_proc = None
        return rc

    def stop(self):
        self.stop_server()
        if self.redis_proc and self.redis_proc.poll() is None:
            self.redis_proc.terminate()
            self.redis_proc.wait(10)
        if os.environ.get("TRACE_KEEP_TEST_DIRS"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- HTTP ------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, raw=False):
        # Under valgrind (TRACE_SERVER_WRAPPER) every signature check costs
        # about 50 times more: a batch of 1,000 can take over 30 s on a busy
        # 2-core machine.  The timeout only bounds a hung server.
        wrapped = os.environ.get("TRACE_SERVER_WRAPPER")
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=180 if wrapped else 30)
        h = dict(headers or {})
        if body is not None and not raw:
            body = json.dumps(body, ensure_ascii=False).encode()
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        conn.close()
        return resp

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, body, headers=None, raw=False):
        return self.request("POST", path, body, headers=headers, raw=raw)

    def chain_events(self, path):
        """Every event of the chain JSON at path (/api/v1/chains/...),
        following next through its pages (PROTOCOL 11.6); None on 404."""
        events, cursor = [], None
        while True:
            r = self.get(path + "?limit=1000" +
                         ("&cursor=" + cursor if cursor is not None else ""))
            if r.status == 404:
                return None
            assert r.status == 200, r
            doc = r.json()
            events += doc["events"]
            cursor = doc["next"]
            if cursor is None:
                return events

    # --- trust -----------------------------------------------------------
    def ensure_org(self, org=TEST_ORG, name=None, roles=None,
                   prefixes=ALL_PREFIXES):
        """Register org (root-signed, SPEC 8 "Organisations") unless the
        store has it already; the tests' orgs take every role and GTIN."""
        if self.redis.hexists("k:org", org):
            return None
        r = self.post("/api/v1/keys", self.root.sign(TYPE_KEY, org_payload(
            self.root, org, roles=roles, prefixes=prefixes, name=name)))
        if r.status not in (200, 201):
            raise AssertionError("org entry failed: %r" % r)
        return r

    def enroll(self, key, role, org="Test Org", **kw):
        """Enroll key into the org named org (registered first, with that
        name in both languages, under the id org_id(org))."""
        oid = org_id(org)
        self.ensure_org(oid, name=org)
        r = self.post("/api/v1/keys", self.root.sign(TYPE_KEY, enroll_payload(
            self.root, key, role, org=oid, **kw)))
        if r.status not in (200, 201):
            raise AssertionError("enroll failed: %r" % r)
        return r

    # --- store -----------------------------------------------------------
    def snapshot(self):
        """Every key with its type and its full contents, so a test can
        assert that nothing changed.  Not DUMP: a hash table's DUMP follows
        its internal bucket order, which incremental rehashing changes on
        mere reads, so equal contents could compare unequal.  Leaves out
        the log integrator's lease: a lock that expires 5 s after the
        integrator's last work (log.h LOG_LEASE_MS), not a record.
        Scan counts are written just after the page's answer
        (scancount.c, every 20 ms): a short wait first, so an earlier
        view's count is not taken for a change."""
        time.sleep(0.1)
        r = self.redis
        snap = {}
        for k in sorted(r.scan_iter(count=1000)):
            if k == b"log:{log}:lease":
                continue
            t = r.type(k)
            if t == b"string":
                v = r.get(k)
            elif t == b"list":
                v = tuple(r.lrange(k, 0, -1))
            elif t == b"hash":
                v = tuple(sorted(r.hgetall(k).items()))
            elif t == b"set":
                v = tuple(sorted(r.smembers(k)))
            elif t == b"zset":
                v = tuple(r.zrange(k, 0, -1, withscores=True))
            else:
                v = r.dump(k)
            snap[k] = (t, v)
        return snap


def index_statements(cluster):
    """log index -> envelope (dict) of every index statement the
    integrator appended (SPEC 8 and 11), read from Redis."""
    return {int(k): json.loads(v) for k, v in
            cluster.redis.hgetall("log:{log}:lx:st").items()}


def settle(cluster, timeout=30.0):
    """Wait until the log integrator has consumed every pending leaf and
    signed a checkpoint, so a
    snapshot taken now only changes if a new write is accepted.  Without an
    integrator (no /api/v1/log) there is nothing to wait for."""
    if cluster.get("/api/v1/log").status != 200:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        # The integrator trims pending and writes the checkpoint in one
        # script, but signs the empty log's first checkpoint only after it
        # starts: pending is empty before then too.
        # Since SPEC 11 a checkpoint follows new leaves only after the
        # integrator's index statement, itself a leaf: settled means the
        # latest checkpoint covers every leaf assigned.
        cp = cluster.redis.get("log:{log}:checkpoint")
        size = int(cluster.redis.get("log:{log}:size") or 0)
        if (cluster.redis.llen("log:{log}:pending") == 0 and cp is not None
                and int(cp.split(b"\n")[1]) == size):
            return
        time.sleep(0.05)
    raise AssertionError("the log integrator did not catch up")


class ChainCommands:
    """with ChainCommands(cluster, events_key) as m: the Redis commands on
    one chain's events list (its key, e.g. "c:{01/G/10/L}:ev") while the
    block runs, seen through MONITOR, so the commands Functions run count
    too and those on other keys do not; after the block m.count("lrange"),
    m.lines (those commands) and m.all (everything seen)."""

    def __init__(self, cluster, events_key):
        self.cluster = cluster
        self.key = ('"%s"' % events_key).encode()
        self.lines = []

    def __enter__(self):
        self.sock = socket.create_connection(("127.0.0.1", self.cluster.redis_port),
                                             timeout=60)
        self.sock.sendall(b"MONITOR\r\n")
        self.buf = b""
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)       # +OK
        self.buf = self.buf.split(b"\r\n", 1)[1]
        return self

    def __exit__(self, *exc):
        self.cluster.redis.echo("trace-test-monitor-end")
        while b"trace-test-monitor-end" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                break
            self.buf += data
        self.sock.close()
        self.all = self.buf.split(b"\r\n")
        self.lines = [l for l in self.all if self.key in l]

    def count(self, command):
        return sum(1 for l in self.lines
                   if any((b'"%s" ' % c.encode()) + self.key in l
                          for c in (command.upper(), command.lower())))


class RecallStream:
    """GET /api/v1/recalls/stream (SSE) read on its own thread: events
    arrive in self.events as (id, event, data, monotonic time of arrival);
    a refused stream keeps its status, headers and body."""

    def __init__(self, port, query="", last_event_id=None, timeout=30):
        import queue
        import threading
        self.events = queue.Queue()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/api/v1/recalls/stream" + query, headers=headers)
        # The response takes the socket over (Connection: close): keep it
        # to hang up.
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        if self.status == 200:
            self.thread = threading.Thread(target=self.read, daemon=True)
            self.thread.start()
        else:
            self.body = self.resp.read()
            self.close()

    def read(self):
        fields = {}
        try:
            while True:
                line = self.resp.fp.readline()
                if not line:
                    return
                line = line.decode("utf-8").rstrip("\n")
                if line == "":
                    if "data" in fields:
                        self.events.put((fields.get("id"), fields.get("event"),
                                         fields["data"], time.monotonic()))
                    fields = {}
                elif not line.startswith(":") and ":" in line:
                    name, value = line.split(":", 1)
                    fields[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError):
            return

    def next(self, timeout):
        return self.events.get(timeout=timeout)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.resp.close()
        self.conn.close()
