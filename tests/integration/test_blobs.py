"""Inspection documents (PUT/GET /api/v1/blobs/{sha256}) against a real
redis-server and trace-server: uploads signed with PyNaCl, every way an
upload is refused (each with its status, and the store left unchanged),
refusals that must come before the body is read, an interrupted upload,
the sweeper that deletes documents no event names, and the pages that
list an inspection's documents."""
import base64
import hashlib
import json
import os
import socket
import subprocess
import struct
import time
import unittest
import zlib

import harness
from harness import (TYPE_EVENT, TYPE_KEY, Key, REGISTERED, event_payload,
                     revoke_payload, settle, statement_id)

TYPE_BLOB = "application/vnd.trace.blob.v1+json"
GTIN = "08801234567893"
MAX_BLOB = 4000
QUOTA = 9000
cluster = None
keys = {}


def png_bytes(width=2, height=2, rgb=(200, 30, 30)):
    """A real PNG image (so browsers can show it), made without a library."""
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c))
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf_bytes(tag=b"report"):
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + tag
            + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
HTML = b"<!doctype html><html><body><script>parent.pwned=1</script></body></html>"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg"><script>parent.pwned=1</script>'
       b'</svg>')


def now_text(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def blob_statement(key, data, media, size=None, sha=None, when=None):
    payload = {"v": 1, "sha256": sha or hashlib.sha256(data).hexdigest(),
               "size": len(data) if size is None else size, "media": media,
               "time": when or now_text(), "signer": key.keyid}
    return key.sign(TYPE_BLOB, payload)


def upload_header(env):
    return base64.b64encode(json.dumps(env).encode()).decode()


def put(c, key, data, media, path_sha=None, **kw):
    env = blob_statement(key, data, media, **kw)
    sha = path_sha or json.loads(base64.b64decode(env["payload"]))["sha256"]
    return c.request("PUT", "/api/v1/blobs/" + sha, data, raw=True,
                     headers={"Trace-Upload": upload_header(env),
                              "Content-Type": "application/octet-stream"})


def raw_exchange(c, head, body=b"", close_after=False, timeout=5.0):
    """Send head (and body) on a socket of our own; return what comes back
    within timeout (the answer must not need the rest of the body)."""
    s = socket.create_connection(("127.0.0.1", c.port), timeout=timeout)
    try:
        s.sendall(head + body)
        if close_after:
            s.close()
            return b""
        data = b""
        deadline = time.time() + timeout

        def complete():
            # The head, then as many body bytes as it declares (the server
            # writes the two separately).
            head, sep, body = data.partition(b"\r\n\r\n")
            if not sep:
                return False
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    return len(body) >= int(value)
            return True
        while not complete() and time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def put_head(c, key, data, media, length, **kw):
    env = blob_statement(key, data, media, **kw)
    sha = json.loads(base64.b64decode(env["payload"]))["sha256"]
    return ("PUT /api/v1/blobs/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: %d\r\nTrace-Upload: %s\r\n\r\n"
            % (sha, length, upload_header(env))).encode()


def post_event(c, key, etype, lot, seq, prev, data):
    env = key.sign(TYPE_EVENT, event_payload(key, etype, GTIN, lot, seq, prev, data))
    return env, c.post("/api/v1/events", env)


def inspected_chain(c, lot, attachments):
    """product.registered then an inspection.completed naming attachments."""
    env, r = post_event(c, keys["brand"], "product.registered", lot, 0, None, REGISTERED)
    assert r.status == 201, r
    env2, r = post_event(c, keys["inspector"], "inspection.completed", lot, 1,
                         statement_id(env),
                         {"certificate": "CCIC-KR-2026-0042", "result": "pass",
                          "attachments": attachments})
    assert r.status == 201, r
    return env2


def fresh_key(c, role="inspector"):
    k = Key("k%d" % (len(keys) + 1) + role)
    keys[k.name] = k
    c.enroll(k, role, org="Org " + role, prefixes=["880"])
    return k


class StoreUnchanged:
    def __init__(self, test, c=None):
        self.test, self.c = test, c or cluster

    def __enter__(self):
        settle(self.c)
        self.before = self.c.snapshot()

    def __exit__(self, *exc):
        if exc[0] is None:
            settle(self.c)
            after = self.c.snapshot()
            changed = sorted(k for k in set(self.before) | set(after)
                             if self.before.get(k) != after.get(k))
            self.test.assertEqual(changed, [], "a refused upload changed the store")


def setUpModule():
    global cluster
    cluster = harness.Cluster.start(server_args=[
        "--max-blob", str(MAX_BLOB), "--blob-quota", str(QUOTA)])
    for role in ("brand", "inspector", "logistics", "importer"):
        keys[role] = Key(role)
        cluster.enroll(keys[role], role, org="Org " + role, prefixes=["880"])


def tearDownModule():
    cluster.stop()


class Upload(unittest.TestCase):
    def test_created_then_present_then_served(self):
        data = pdf_bytes(b"created")
        sha = hashlib.sha256(data).hexdigest()
        size_before = int(cluster.redis.get("log:{log}:size") or 0)
        r = put(cluster, keys["inspector"], data, "application/pdf")
        self.assertEqual(r.status, 201, r)
        body = r.json()
        self.assertEqual((body["sha256"], body["size"], body["media"]),
                         (sha, len(data), "application/pdf"))
        # The upload statement is a leaf of the log like any statement.
        self.assertEqual(body["logIndex"], size_before)
        self.assertEqual(int(cluster.redis.get("log:{log}:size")), size_before + 1)
        self.assertTrue(cluster.redis.hget("ids", body["id"]).startswith(b"b "))
        # And it is served like any statement, by its id.
        st = cluster.get("/api/v1/events/" + body["id"]).json()
        self.assertEqual((st["kind"], st["id"], st["logIndex"]),
                         ("blob", body["id"], body["logIndex"]))
        self.assertEqual(statement_id(st["envelope"]), body["id"])
        self.assertEqual((st["payload"]["sha256"], st["payload"]["size"],
                          st["payload"]["signer"]), (sha, len(data), keys["inspector"].keyid))
        # Again, by another allowed key and a new statement: 200, nothing new.
        settle(cluster)
        with StoreUnchanged(self):
            r2 = put(cluster, keys["brand"], data, "application/pdf")
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json()["id"], body["id"])
        g = cluster.get("/api/v1/blobs/" + sha)
        self.assertEqual(g.status, 200)
        self.assertEqual(g.body, data)
        self.assertEqual(g.headers["content-type"], "application/pdf")
        self.assertEqual(g.headers["x-content-type-options"], "nosniff")
        self.assertTrue(g.headers["content-disposition"].startswith("attachment"))
        self.assertTrue(g.headers["content-security-policy"].startswith("sandbox"))
        self.assertEqual(g.headers["cache-control"], "public, max-age=31536000, immutable")
        h = cluster.request("HEAD", "/api/v1/blobs/" + sha)
        self.assertEqual(h.status, 200)
        self.assertEqual(h.headers["content-length"], str(len(data)))
        self.assertEqual(h.body, b"")

    def test_images_by_magic_bytes(self):
        for data, media in ((png_bytes(3, 3), "image/png"), (JPEG, "image/jpeg")):
            r = put(cluster, keys["importer"], data, media)
            self.assertEqual(r.status, 201, r)
            g = cluster.get("/api/v1/blobs/" + hashlib.sha256(data).hexdigest())
            self.assertEqual(g.headers["content-type"], media)
            self.assertFalse(g.headers["content-disposition"].startswith("attachment"))
            self.assertTrue(g.headers["content-security-policy"].startswith("sandbox"))

    def test_unknown_document_and_bad_paths(self):
        self.assertEqual(cluster.get("/api/v1/blobs/" + "0" * 64).status, 404)
        self.assertEqual(cluster.get("/api/v1/blobs/" + "A" * 64).status, 404)
        self.assertEqual(cluster.get("/api/v1/blobs/abc").status, 404)
        r = cluster.request("DELETE", "/api/v1/blobs/" + "0" * 64)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers["allow"], "GET, HEAD, PUT")


class Refused(unittest.TestCase):
    def refused(self, status, code, key, data, media, **kw):
        with StoreUnchanged(self):
            r = put(cluster, key, data, media, **kw)
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()["error"]["code"], code, r)
        self.assertEqual(cluster.get("/api/v1/blobs/" + hashlib.sha256(data).hexdigest()).status, 404)
        return r

    def test_unenrolled_key(self):
        self.refused(401, "unknown_key", Key("stranger"), pdf_bytes(b"u"), "application/pdf")

    def test_revoked_key(self):
        k = fresh_key(cluster)
        r = cluster.post("/api/v1/keys", cluster.root.sign(TYPE_KEY, revoke_payload(cluster.root, k.keyid)))
        self.assertIn(r.status, (200, 201), r)
        self.refused(403, "key_revoked", k, pdf_bytes(b"r"), "application/pdf")

    def test_role_not_allowed(self):
        self.refused(403, "role_not_allowed", keys["logistics"], pdf_bytes(b"l"), "application/pdf")

    def test_bad_signature(self):
        data = pdf_bytes(b"sig")
        env = blob_statement(keys["inspector"], data, "application/pdf")
        sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
        sig[0] ^= 1
        env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
        with StoreUnchanged(self):
            r = cluster.request("PUT", "/api/v1/blobs/" + hashlib.sha256(data).hexdigest(),
                                data, raw=True, headers={"Trace-Upload": upload_header(env)})
        self.assertEqual(r.status, 401, r)

    def test_missing_or_garbled_statement(self):
        data = pdf_bytes(b"none")
        with StoreUnchanged(self):
            r = cluster.request("PUT", "/api/v1/blobs/" + hashlib.sha256(data).hexdigest(),
                                data, raw=True)
            self.assertEqual((r.status, r.json()["error"]["code"]), (400, "missing_statement"))
            r = cluster.request("PUT", "/api/v1/blobs/" + hashlib.sha256(data).hexdigest(),
                                data, raw=True, headers={"Trace-Upload": "!!!"})
            self.assertEqual(r.status, 400)
            # An event envelope is not an upload statement.
            ev = keys["inspector"].sign(TYPE_EVENT, {"v": 1})
            r = cluster.request("PUT", "/api/v1/blobs/" + hashlib.sha256(data).hexdigest(),
                                data, raw=True, headers={"Trace-Upload": upload_header(ev)})
            self.assertEqual((r.status, r.json()["error"]["code"]), (400, "bad_payload_type"))

    def test_statement_for_another_document(self):
        data = pdf_bytes(b"other")
        self.refused(400, "sha256_mismatch", keys["inspector"], data, "application/pdf",
                     path_sha=hashlib.sha256(b"something else").hexdigest())

    def test_wrong_hash(self):
        data = pdf_bytes(b"wrong")
        self.refused(422, "hash_mismatch", keys["inspector"], data, "application/pdf",
                     sha=hashlib.sha256(data + b"x").hexdigest())

    def test_pdf_named_png(self):
        self.refused(415, "media_mismatch", keys["inspector"], pdf_bytes(b"named.png"), "image/png")

    def test_png_claimed_pdf(self):
        self.refused(415, "media_mismatch", keys["inspector"], png_bytes(4, 1), "application/pdf")

    def test_html_and_svg(self):
        for data in (HTML, SVG):
            # Claimed as what they are: refused from the header alone.
            for media in ("text/html", "image/svg+xml"):
                self.refused(415, "unsupported_media", keys["inspector"], data, media)
            # Claimed as an image: refused by their first bytes.
            self.refused(415, "unsupported_media", keys["inspector"], data, "image/png")

    def test_time_in_future(self):
        self.refused(422, "time_in_future", keys["inspector"], pdf_bytes(b"f"),
                     "application/pdf", when=now_text(3600))

    def test_size_mismatch(self):
        data = pdf_bytes(b"size")
        self.refused(400, "size_mismatch", keys["inspector"], data, "application/pdf",
                     size=len(data) + 1)

    def test_over_size_refused_before_the_body(self):
        data = b"%PDF-" + b"x" * (MAX_BLOB + 100)
        before = (settle(cluster), cluster.snapshot())[1]
        # Headers only: the answer must come without a byte of the body.
        answer = raw_exchange(cluster, put_head(cluster, keys["inspector"], data,
                                                "application/pdf", len(data)))
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:200])
        self.assertIn(b'"too_large"', answer)
        settle(cluster)
        self.assertEqual(cluster.snapshot(), before)
        # And through a normal client too.
        self.refused(413, "too_large", keys["inspector"], data, "application/pdf")

    def test_over_quota(self):
        k = fresh_key(cluster, "brand")
        first = b"%PDF-" + b"q" * (MAX_BLOB - 5)
        second = b"%PDF-" + b"r" * (MAX_BLOB - 5)
        self.assertEqual(put(cluster, k, first, "application/pdf").status, 201)
        self.assertEqual(put(cluster, k, second, "application/pdf").status, 201)
        third = b"%PDF-" + b"s" * (QUOTA - 2 * MAX_BLOB + 10)
        # Refused from the headers alone, and with the body too.
        before = (settle(cluster), cluster.snapshot())[1]
        answer = raw_exchange(cluster, put_head(cluster, k, third, "application/pdf", len(third)))
        self.assertTrue(answer.startswith(b"HTTP/1.1 429"), answer[:200])
        settle(cluster)
        self.assertEqual(cluster.snapshot(), before)
        self.refused(429, "quota_exceeded", k, third, "application/pdf")
        # Another key still has its own quota.
        self.assertEqual(put(cluster, keys["importer"], third, "application/pdf").status, 201)

    def test_expect_100_continue(self):
        # The body only once the server said 100 Continue; a refusal
        # comes instead of it.
        data = b"%PDF-" + b"c" * 3000
        head = put_head(cluster, keys["importer"], data, "application/pdf", len(data))
        head = head.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
        s = socket.create_connection(("127.0.0.1", cluster.port), timeout=5)
        try:
            s.sendall(head)
            self.assertEqual(s.recv(25), b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(data)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += s.recv(4096)
            self.assertTrue(answer.startswith(b"HTTP/1.1 201 "), answer)
        finally:
            s.close()
        big = b"%PDF-" + b"c" * MAX_BLOB
        head = put_head(cluster, keys["importer"], big, "application/pdf", len(big))
        head = head.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
        answer = raw_exchange(cluster, head)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer[:100])

    def test_interrupted_upload(self):
        data = b"%PDF-" + b"i" * 3000
        head = put_head(cluster, keys["inspector"], data, "application/pdf", len(data))
        with StoreUnchanged(self):
            raw_exchange(cluster, head, data[:1500], close_after=True)
            time.sleep(0.5)
            # The server is still answering, and stored nothing.
            self.assertEqual(cluster.get("/healthz").status, 200)
        self.assertEqual(cluster.get("/api/v1/blobs/" + hashlib.sha256(data).hexdigest()).status, 404)


class Sweep(unittest.TestCase):
    """A cluster of its own: a short grace and a small store."""

    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster.start(server_args=[
            "--blob-grace", "2", "--blob-store-max", "3000"])
        for role in ("brand", "inspector"):
            cls.c.enroll(keys[role], role, org="Org " + role, prefixes=["880"])

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def test_store_full_then_collected(self):
        c = self.c
        lonely = b"%PDF-" + b"n" * 995
        kept = b"%PDF-" + b"k" * 995
        late = b"%PDF-" + b"z" * 1495
        self.assertEqual(put(c, keys["inspector"], lonely, "application/pdf").status, 201)
        self.assertEqual(put(c, keys["inspector"], kept, "application/pdf").status, 201)
        # An event names `kept` (and a document never uploaded).
        photo = b"\xff\xd8\xff" + b"m" * 50
        inspected_chain(c, "SWEEP1", [
            {"name": "report.pdf", "sha256": hashlib.sha256(kept).hexdigest(),
             "media": "application/pdf"},
            {"name": "photo.jpg", "sha256": hashlib.sha256(photo).hexdigest(),
             "media": "image/jpeg"}])
        # 2,000 of 3,000 bytes used: 1,500 more do not fit.
        with StoreUnchanged(self, c):
            r = put(c, keys["inspector"], late, "application/pdf")
        self.assertEqual(r.status, 507, r)
        self.assertEqual(r.json()["error"]["code"], "store_full")
        # After the grace the sweeper deletes the one no event names.
        deadline = time.time() + 15
        while time.time() < deadline and c.get(
                "/api/v1/blobs/" + hashlib.sha256(lonely).hexdigest()).status != 404:
            time.sleep(0.25)
        self.assertEqual(c.get("/api/v1/blobs/" + hashlib.sha256(lonely).hexdigest()).status, 404)
        self.assertEqual(c.get("/api/v1/blobs/" + hashlib.sha256(kept).hexdigest()).body, kept)
        self.assertEqual(int(c.redis.get("blobs:bytes")), len(kept))
        # Its space is free again; and an event naming a document uploaded
        # later keeps that one too.
        self.assertEqual(put(c, keys["inspector"], late, "application/pdf").status, 201)
        self.assertEqual(put(c, keys["inspector"], photo, "image/jpeg").status, 201)
        deadline = time.time() + 15
        while time.time() < deadline and c.get(
                "/api/v1/blobs/" + hashlib.sha256(late).hexdigest()).status != 404:
            time.sleep(0.25)
        self.assertEqual(c.get("/api/v1/blobs/" + hashlib.sha256(late).hexdigest()).status, 404)
        self.assertEqual(c.get("/api/v1/blobs/" + hashlib.sha256(photo).hexdigest()).body, photo)
        self.assertEqual(int(c.redis.get("blobs:bytes")), len(kept) + len(photo))


class Pages(unittest.TestCase):
    def test_inspector_and_consumer_pages(self):
        report, photo = pdf_bytes(b"page"), png_bytes(5, 4)
        missing = hashlib.sha256(b"not uploaded yet").hexdigest()
        self.assertEqual(put(cluster, keys["inspector"], report, "application/pdf").status, 201)
        self.assertEqual(put(cluster, keys["inspector"], photo, "image/png").status, 201)
        rs, ps = hashlib.sha256(report).hexdigest(), hashlib.sha256(photo).hexdigest()
        inspected_chain(cluster, "PAGES1", [
            {"name": "Report <b>1</b>.pdf", "sha256": rs, "media": "application/pdf"},
            {"name": "Lot photo", "sha256": ps, "media": "image/png"},
            {"name": "Lab sheet", "sha256": missing, "media": "application/pdf"}])
        page = cluster.get("/inspect/01/%s/10/PAGES1?lang=en" % GTIN).body.decode()
        # Every document: name (escaped), media, size, SHA-256, link.
        self.assertIn("Report &lt;b&gt;1&lt;/b&gt;.pdf</a>", page)
        self.assertNotIn("<b>1</b>", page)
        self.assertIn('<a class="doc-link" href="/api/v1/blobs/%s" download>' % rs, page)
        self.assertIn("application/pdf · %d bytes" % len(report), page)
        self.assertIn("SHA-256 " + rs, page)
        # The image as a thumbnail served by this server.
        self.assertIn('<img class="thumb" src="/api/v1/blobs/%s" width="160" height="120"' % ps, page)
        self.assertIn("image/png · %d bytes" % len(photo), page)
        # The one never uploaded says so.
        self.assertIn('data-sha256="%s" data-uploaded="false"' % missing, page)
        self.assertIn("document not uploaded", page)
        consumer = cluster.get("/01/%s/10/PAGES1?lang=en" % GTIN).body.decode()
        self.assertIn('id="certificate-link" href="/api/v1/blobs/%s" download' % rs, consumer)


def agent(*args, queue=None, server=None, timeout=120):
    e = {k: v for k, v in os.environ.items()
         if k not in ("TRACE_SERVER", "TRACE_QUEUE", "TRACE_AGENT_CRASH_AT")}
    if queue is not None:
        e["TRACE_QUEUE"] = queue
    if server is not None:
        e["TRACE_SERVER"] = server
    return subprocess.run([harness.AGENT] + [str(a) for a in args], capture_output=True,
                          text=True, env=e, timeout=timeout)


class Agent(unittest.TestCase):
    """record --attach offline, send, verify --attachments (default limits)."""

    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster.start()
        cls.dir = os.path.join(cls.c.dir, "agent")
        os.makedirs(cls.dir)
        cls.key_files = {}
        for role in ("brand", "inspector"):
            cls.c.enroll(keys[role], role, org="Org " + role, prefixes=["880"])
            cls.key_files[role] = keys[role].write(cls.dir)[0]

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_record_offline_send_verify(self):
        c, lot = self.c, "AGENT1"
        env, r = post_event(c, keys["brand"], "product.registered", lot, 0, None, REGISTERED)
        self.assertEqual(r.status, 201, r)
        report = pdf_bytes(b"x" * (2 * 1024 * 1024))    # large: progress
        photo = png_bytes(8, 8)
        queue = os.path.join(self.dir, "queue1")
        r = agent("record", "--key", self.key_files["inspector"], "--type",
                  "inspection.completed", "--gtin", GTIN, "--lot", lot,
                  "--set", "certificate=CCIC-KR-2026-0077", "--set", "result=pass",
                  "--attach", self.write("report.pdf", report),
                  "--attach", self.write("p1.png", photo) + ":Photo of the lot",
                  queue=queue)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("%", r.stderr)            # progress for the 2 MB file
        blobs = sorted(os.listdir(os.path.join(queue, "blobs")))
        shas = sorted(hashlib.sha256(d).hexdigest() for d in (report, photo))
        self.assertEqual(blobs, sorted(shas + [h + ".upload" for h in shas]))
        name = [f for f in os.listdir(queue) if f.endswith(".json")][0]
        with open(os.path.join(queue, name)) as f:
            entry = json.load(f)
        self.assertEqual(entry["draft"]["data"]["attachments"], [
            {"name": "report.pdf", "sha256": hashlib.sha256(report).hexdigest(),
             "media": "application/pdf"},
            {"name": "Photo of the lot", "sha256": hashlib.sha256(photo).hexdigest(),
             "media": "image/png"}])
        # The server away: everything stays queued.
        r = agent("send", queue=queue, server="http://127.0.0.1:%d" % harness.free_port())
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(len(os.listdir(os.path.join(queue, "blobs"))), 4)
        # Back: documents first, then the event.
        r = agent("send", queue=queue, server=c.public_url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(os.path.join(queue, "blobs")), [])
        for data in (report, photo):
            self.assertEqual(c.get("/api/v1/blobs/" + hashlib.sha256(data).hexdigest()).body, data)
        chain = c.get("/api/v1/chains/01/%s/10/%s" % (GTIN, lot)).json()
        self.assertEqual(len(chain["events"][1]["payload"]["data"]["attachments"]), 2)
        # The event references them: the sweeper will keep them.
        for h in shas:
            self.assertTrue(c.redis.sismember("blobs:refs", h))
        vkey = c.get("/api/v1/log").json()["vkey"]
        settle(c)
        verify = ["verify", "--gtin", GTIN, "--lot", lot, "--root", c.root_pub,
                  "--log-vkey", vkey, "--attachments"]
        r = agent(*verify, server=c.public_url)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("documents: 2 checked, 0 problems", r.stdout)
        # A document gone from the server is a problem.
        c.redis.delete("b:" + hashlib.sha256(photo).hexdigest() + ":m")
        r = agent(*verify, server=c.public_url)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("not uploaded", r.stdout)

    def test_killed_record_leaves_nothing_behind(self):
        queue = os.path.join(self.dir, "queue3")
        e = dict(os.environ, TRACE_QUEUE=queue, TRACE_AGENT_CRASH_AT="attachment-bytes")
        e.pop("TRACE_SERVER", None)
        r = subprocess.run([harness.AGENT, "record", "--key", self.key_files["inspector"],
                            "--type", "inspection.completed", "--gtin", GTIN, "--lot", "AGENT3",
                            "--set", "certificate=C-3", "--set", "result=pass",
                            "--attach", self.write("killed.pdf", pdf_bytes(b"killed"))],
                           capture_output=True, text=True, env=e, timeout=60)
        self.assertEqual(r.returncode, -9, r.stderr)
        self.assertEqual(len(os.listdir(os.path.join(queue, "blobs"))), 1)
        r = agent("send", queue=queue, server=self.c.public_url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(os.path.join(queue, "blobs")), [])
        self.assertEqual(self.c.get("/api/v1/blobs/" + hashlib.sha256(
            pdf_bytes(b"killed")).hexdigest()).status, 404)

    def test_html_is_refused_before_anything_is_queued(self):
        queue = os.path.join(self.dir, "queue2")
        for name, data in (("page.html", HTML), ("drawing.svg", SVG),
                           ("fake.png", b"GIF89a....")):
            r = agent("record", "--key", self.key_files["inspector"], "--type",
                      "inspection.completed", "--gtin", GTIN, "--lot", "AGENT2",
                      "--set", "certificate=C-1", "--set", "result=pass",
                      "--attach", self.write(name, data), queue=queue)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("not a PDF, JPEG or PNG", r.stderr)
        self.assertFalse(os.path.exists(queue) and [f for f in os.listdir(queue)
                                                    if not f.startswith(".")])


if __name__ == "__main__":
    unittest.main()
