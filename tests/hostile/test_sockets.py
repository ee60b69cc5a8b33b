"""Hostile clients at the socket level: a chunked body that never ends, a
Content-Length that is never met, slowloris (headers a byte at a time),
a body trickled forever, many idle connections.  Each: the server times
the client out (or keeps it to one worker), other clients are still
served, /healthz answers after, Redis is unchanged.

trace-server gives each connection a civetweb worker thread (--threads,
8 here) for as long as it is reading the request; request_timeout_ms
(5 s) bounds each read, not a whole request.  So fewer slow clients than
workers cost nothing to others, more than that delay others by up to the
read timeout, and a client that keeps trickling bytes keeps its worker:
in production the reverse proxy (deploy/nginx) buffers whole requests
before they reach trace-server.  The tests pin these bounds down."""
import socket
import threading
import time
import unittest

import hostile
from hostile import StoreUnchanged, assert_up, faultlib, harness
from faultlib import call, raw_exchange, status_of

READ_TIMEOUT = 5.0     # main.c request_timeout_ms


def read_error_answer(s, data=b""):
    """Read a JSON error answer (it ends with "}}") from socket s, after
    what was already read (data), until the end or a close; closes s."""
    data = data or s.recv(4096)
    while b"}}" not in data:
        more = s.recv(4096)
        if not more:
            break
        data += more
    s.close()
    return data
cluster = None
figures = {}


def setUpModule():
    global cluster
    cluster = harness.Cluster.start()


def tearDownModule():
    cluster.stop()
    faultlib.figure("hostile.sockets", cases_tried=hostile.tried["cases"], **figures)


def served_within(seconds):
    """(served in time, seconds waited); gives up a second after the bound."""
    start = time.monotonic()
    try:
        r = call(cluster.port, "GET", "/api/v1/keys", timeout=seconds + 1)
    except OSError:
        return False, time.monotonic() - start
    return r.status == 200 and r.elapsed < seconds, r.elapsed


class Stalls(unittest.TestCase):
    def test_chunked_body_that_never_ends(self):
        hostile.tried["cases"] += 1
        start = time.monotonic()
        with StoreUnchanged(self, cluster, "chunked never ends"):
            out, closed = raw_exchange(cluster.port, b"POST /api/v1/events HTTP/1.1\r\n"
                                       b"Host: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       b"5\r\n[{\"a\"\r\n", timeout=READ_TIMEOUT + 15)
        elapsed = time.monotonic() - start
        self.assertTrue(closed, "the server kept the connection")
        self.assertEqual(status_of(out), 400, out[:200])
        self.assertLess(elapsed, READ_TIMEOUT + 5)
        figures["chunked_closed_after_s"] = round(elapsed, 1)
        assert_up(self, cluster, "chunked")

    def test_content_length_never_met(self):
        hostile.tried["cases"] += 1
        with StoreUnchanged(self, cluster, "short body"):
            s = socket.create_connection(("127.0.0.1", cluster.port), timeout=READ_TIMEOUT + 15)
            s.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")
            start = time.monotonic()
            data = s.recv(4096)
            elapsed = time.monotonic() - start
            data = read_error_answer(s, data)
        self.assertEqual(status_of(data), 400, data[:200])
        self.assertIn(b"truncated_body", data)
        # One read timeout, not two (http_read_body stops at the short read).
        self.assertLess(elapsed, READ_TIMEOUT + 5)
        figures["short_body_answered_after_s"] = round(elapsed, 1)
        assert_up(self, cluster, "short body")

    def test_body_sent_in_pieces_is_read_whole(self):
        """The other side of stopping at a short read: a body that comes in
        pieces, with pauses well inside the read timeout, is read whole
        (the answer judges the envelope, not a truncated body)."""
        hostile.tried["cases"] += 1
        body = b'{"payloadType":"x","payload":"e30=","signatures":[]}'
        with StoreUnchanged(self, cluster, "body in pieces"):
            s = socket.create_connection(("127.0.0.1", cluster.port), timeout=READ_TIMEOUT + 15)
            s.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
            for i in range(0, len(body), 13):
                time.sleep(0.5)
                s.sendall(body[i:i + 13])
            data = read_error_answer(s)
        self.assertEqual(status_of(data), 400, data[:200])
        self.assertIn(b'"code":"bad_signatures"', data)
        assert_up(self, cluster, "body in pieces")

    def test_content_length_and_chunked(self):
        # RFC 9112 6.1: Transfer-Encoding wins over Content-Length.
        hostile.tried["cases"] += 1
        with StoreUnchanged(self, cluster, "CL+TE"):
            out, _ = raw_exchange(cluster.port, b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"0\r\n\r\n", timeout=5, read_until_close=False)
        self.assertEqual(status_of(out), 400, out[:200])
        assert_up(self, cluster, "CL+TE")

    def test_oversized_declared_body_is_not_parsed_as_a_request(self):
        # The unread rest of a refused body must never be taken for the
        # next request on the connection (request smuggling).
        hostile.tried["cases"] += 1
        smuggled = b"GET /api/v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        with StoreUnchanged(self, cluster, "smuggling"):
            out, _ = raw_exchange(cluster.port, b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Length: 5000000\r\n\r\n" + smuggled, timeout=3)
        self.assertEqual(status_of(out), 413, out[:200])
        self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)


class SlowClients(unittest.TestCase):
    def slow_connections(self, n, first=b"GET /healthz HTTP/1.1\r\n", drip=b"X"):
        socks = [socket.create_connection(("127.0.0.1", cluster.port)) for _ in range(n)]
        for s in socks:
            s.sendall(first)
        stop = threading.Event()

        def dripping():
            while not stop.is_set():
                for s in socks:
                    try:
                        s.sendall(drip)
                    except OSError:
                        pass
                stop.wait(0.5)

        t = threading.Thread(target=dripping, daemon=True)
        t.start()
        return socks, stop

    def close(self, socks, stop):
        stop.set()
        for s in socks:
            s.close()

    def test_slowloris_fewer_than_workers(self):
        hostile.tried["cases"] += 1
        socks, stop = self.slow_connections(4)
        try:
            time.sleep(1.0)
            ok, elapsed = served_within(2.0)
            self.assertTrue(ok, "a normal client waited %.1fs" % elapsed)
            figures["slowloris4_other_client_s"] = round(elapsed, 2)
        finally:
            self.close(socks, stop)
        assert_up(self, cluster, "slowloris 4")

    # Known limitation (see the module comment and docs/RELIABILITY.md):
    # more slow or idle clients than worker threads starve the others; the
    # reverse proxy is the defence.  Marked so that a fix shows up as an
    # unexpected success.
    @unittest.expectedFailure
    def test_slowloris_more_than_workers(self):
        hostile.tried["cases"] += 1
        socks, stop = self.slow_connections(16)
        try:
            time.sleep(1.0)
            ok, elapsed = served_within(2.0)
            self.assertTrue(ok, "a normal client waited %.1fs" % elapsed)
        finally:
            self.close(socks, stop)
            figures["slowloris16_other_client_s"] = round(elapsed, 2)
        assert_up(self, cluster, "slowloris 16")

    def test_trickled_body_keeps_only_its_worker(self):
        hostile.tried["cases"] += 1
        with StoreUnchanged(self, cluster, "trickle"):
            socks, stop = self.slow_connections(
                2, first=b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n", drip=b"1\r\n \r\n")
            try:
                time.sleep(3.0)
                ok, elapsed = served_within(2.0)
                self.assertTrue(ok, "a normal client waited %.1fs" % elapsed)
                figures["trickle2_other_client_s"] = round(elapsed, 2)
            finally:
                self.close(socks, stop)
        assert_up(self, cluster, "trickle")

    @unittest.expectedFailure
    def test_many_idle_connections(self):
        hostile.tried["cases"] += 1
        socks = [socket.create_connection(("127.0.0.1", cluster.port)) for _ in range(200)]
        try:
            ok, elapsed = served_within(2.0)
        finally:
            for s in socks:
                s.close()
            figures["idle200_other_client_s"] = round(elapsed, 2)
        self.assertTrue(ok, "a normal client waited %.1fs" % elapsed)

    def test_serves_promptly_once_slow_clients_leave(self):
        hostile.tried["cases"] += 1
        socks = [socket.create_connection(("127.0.0.1", cluster.port)) for _ in range(200)]
        slow, stop = self.slow_connections(16)
        time.sleep(1.0)
        for s in socks:
            s.close()
        self.close(slow, stop)
        ok, elapsed = served_within(3.0)
        self.assertTrue(ok, "still starved %.1fs after the clients left" % elapsed)
        assert_up(self, cluster, "after slow clients")

if __name__ == "__main__":
    unittest.main()
