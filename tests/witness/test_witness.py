"""trace-witness end to end, driven by speclient.py (a tlog-witness client
written from the C2SP specs): each status of add-checkpoint as
tlog-witness names it, cosignatures checked as tlog-cosignature says,
state that survives restarts and kill -9, and concurrent submissions."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BUILD, Key, free_port, wait_port
import speclient as sc

WITNESS = os.path.join(BUILD, "trace-witness")
WITNESS_NAME = "witness.weihai-customs.example/trace"
ORIGIN = "trace.example/log"
LEAVES = [b"leaf %d" % i for i in range(64)]


class Witness:
    """One trace-witness process on a free port with its own state dir."""

    def __init__(self, folder, log_vkeys):
        self.folder = folder
        self.state = os.path.join(folder, "state")
        self.key = Key("witness1", seed=bytes(range(32)))
        self.key_path, _ = self.key.write(folder)
        self.public = self.key.public
        self.log_vkeys = log_vkeys
        self.proc = None
        self.port = None

    def args(self):
        args = [WITNESS, "--listen", "127.0.0.1:%d" % self.port,
                "--key", self.key_path, "--name", WITNESS_NAME,
                "--state", self.state]
        for v in self.log_vkeys:
            args += ["--log", v]
        return args

    def start(self):
        self.port = free_port()
        self.stderr = open(os.path.join(self.folder, "witness.log"), "ab")
        self.proc = subprocess.Popen(self.args(), stderr=self.stderr)
        wait_port(self.port, proc=self.proc)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None
        self.stderr.close()

    def submit(self, old, proof, note):
        return sc.post(self.port, sc.add_checkpoint_body(old, proof, note))


class WitnessTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="trace-witness-")
        self.log = sc.LogKey(ORIGIN, b"L" * 32)
        self.other_log = sc.LogKey("other.example/log", b"O" * 32)
        self.w = Witness(self.folder, [self.log.vkey, self.other_log.vkey])
        self.w.start()

    def tearDown(self):
        self.w.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # helpers

    def advance(self, old, new, log=None, leaves=LEAVES):
        """Submit the checkpoint of leaves[:new] from old; return the
        answer and the checkpoint body."""
        log = log or self.log
        body, note = sc.signed_checkpoint(log, leaves[:new])
        proof = sc.consistency_proof(old, leaves[:new]) if 0 < old < new else []
        return self.w.submit(old, proof, note), body

    def assert_cosigned(self, answer, body):
        status, ctype, data = answer
        self.assertEqual(status, 200, data)
        stamps = sc.verify_cosignatures(body, data, WITNESS_NAME, self.w.public)
        self.assertEqual(len(stamps), 1, data)
        self.assertLessEqual(abs(stamps[0] - time.time()), 60)
        return stamps[0]

    def assert_conflict(self, answer, size):
        status, ctype, data = answer
        self.assertEqual(status, 409, data)
        self.assertEqual(ctype, "text/x.tlog.size")
        self.assertEqual(data, b"%d\n" % size)

    def status(self):
        status, ctype, data = sc.post(self.w.port, None, path="/", method="GET")
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "application/json")
        return json.loads(data)

    # cases

    def test_first_checkpoint_old_zero(self):
        answer, body = self.advance(0, 5)
        self.assert_cosigned(answer, body)
        line = answer[2].decode()
        self.assertTrue(line.startswith("\u2014 %s " % WITNESS_NAME))
        self.assertEqual(line.count("\n"), 1)
        doc = self.status()
        self.assertEqual(doc["name"], WITNESS_NAME)
        self.assertEqual(doc["vkey"], sc.vkey(WITNESS_NAME, 0x04, self.w.public))
        sizes = {l["origin"]: (l["size"], l["cosigned"]) for l in doc["logs"]}
        self.assertEqual(sizes, {ORIGIN: (5, True),
                                 "other.example/log": (0, False)})

    def test_print_vkey_matches_spec(self):
        out = subprocess.run([WITNESS, "--key", self.w.key_path, "--name",
                              WITNESS_NAME, "--print-vkey"],
                             capture_output=True, check=True)
        self.assertEqual(out.stdout.decode().strip(),
                         sc.vkey(WITNESS_NAME, 0x04, self.w.public))

    def test_growth_with_valid_proofs(self):
        self.assert_cosigned(*self.advance(0, 1))
        for old, new in [(1, 2), (2, 3), (3, 7), (7, 8), (8, 20), (20, 64)]:
            answer, body = self.advance(old, new)
            self.assert_cosigned(answer, body)
        self.assertEqual(self.status()["logs"][0]["size"], 64)

    def test_same_size_same_root_cosigned_again(self):
        self.assert_cosigned(*self.advance(0, 6))
        self.assert_cosigned(*self.advance(6, 6))

    def test_stale_old_size_409_with_size(self):
        self.assert_cosigned(*self.advance(0, 9))
        self.assert_conflict(self.advance(5, 12)[0], 9)
        self.assert_conflict(self.advance(0, 12)[0], 9)

    def test_fresh_witness_409_says_zero(self):
        self.assert_conflict(self.advance(4, 9)[0], 0)

    def test_same_size_different_root_409(self):
        self.assert_cosigned(*self.advance(0, 9))
        fork = [b"fork %d" % i for i in range(9)]
        _, note = sc.signed_checkpoint(self.log, fork)
        self.assert_conflict(self.w.submit(9, [], note), 9)
        # The fork does not advance either.
        fork = fork + LEAVES[9:12]
        _, note = sc.signed_checkpoint(self.log, fork)
        proof = sc.consistency_proof(9, fork)
        self.assertEqual(self.w.submit(9, proof, note)[0], 422)
        self.assertEqual(self.status()["logs"][0]["size"], 9)

    def test_old_above_size_400(self):
        self.assert_cosigned(*self.advance(0, 9))
        _, note = sc.signed_checkpoint(self.log, LEAVES[:9])
        self.assertEqual(self.w.submit(10, [], note)[0], 400)

    def test_bad_proof_422(self):
        self.assert_cosigned(*self.advance(0, 9))
        _, note = sc.signed_checkpoint(self.log, LEAVES[:13])
        proof = sc.consistency_proof(9, LEAVES[:13])
        bad = [bytes(32)] + proof[1:]
        self.assertEqual(self.w.submit(9, bad, note)[0], 422)
        self.assertEqual(self.w.submit(9, proof[:-1], note)[0], 422)
        self.assertEqual(self.w.submit(9, proof + [bytes(32)], note)[0], 422)
        self.assertEqual(self.w.submit(9, [], note)[0], 422)
        # A proof from size 0 must be empty.
        _, w0 = sc.signed_checkpoint(self.other_log, LEAVES[:3])
        self.assertEqual(self.w.submit(0, [bytes(32)], w0)[0], 422)
        # A proof between equal sizes must be empty.
        _, same = sc.signed_checkpoint(self.log, LEAVES[:9])
        self.assertEqual(self.w.submit(9, [bytes(32)], same)[0], 422)
        # Nothing moved, and the right proof still works.
        self.assert_cosigned(self.w.submit(9, proof, note),
                             sc.signed_checkpoint(self.log, LEAVES[:13])[0])

    def test_unknown_origin_404(self):
        stranger = sc.LogKey("stranger.example/log", b"S" * 32)
        _, note = sc.signed_checkpoint(stranger, LEAVES[:3])
        self.assertEqual(self.w.submit(0, [], note)[0], 404)
        # Our key, but the checkpoint names an origin we do not follow.
        body = sc.checkpoint_body("stranger.example/log", 3, sc.mth(LEAVES[:3]))
        note = body + "\n" + self.log.signature_line(body)
        self.assertEqual(self.w.submit(0, [], note)[0], 404)

    def test_wrong_key_403(self):
        impostor = sc.LogKey(ORIGIN, b"I" * 32)
        _, note = sc.signed_checkpoint(impostor, LEAVES[:3])
        self.assertEqual(self.w.submit(0, [], note)[0], 403)
        # The impostor claims our key's ID: the signature fails.
        body = sc.checkpoint_body(ORIGIN, 3, sc.mth(LEAVES[:3]))
        line = impostor.signature_line(
            body, key_id_override=sc.key_id(ORIGIN, 0x01, self.log.public))
        self.assertEqual(self.w.submit(0, [], body + "\n" + line)[0], 403)
        # Another log's valid key does not vouch for this origin.
        line = self.other_log.signature_line(body)
        self.assertEqual(self.w.submit(0, [], body + "\n" + line)[0], 403)
        # Extra unknown signatures beside a valid one are ignored.
        note = body + "\n" + impostor.signature_line(body, name="x.example/y") \
            + self.log.signature_line(body)
        self.assert_cosigned(self.w.submit(0, [], note), body)
        self.assertEqual(self.status()["logs"][0]["size"], 3)

    def test_malformed_bodies_400(self):
        self.assert_cosigned(*self.advance(0, 4))
        _, note = sc.signed_checkpoint(self.log, LEAVES[:8])
        proof = "".join(sc.b64(h) + "\n" for h in sc.consistency_proof(4, LEAVES[:8]))
        cases = {
            "empty": b"",
            "no old line": ("\n" + note).encode(),
            "leading zero": ("old 04\n" + proof + "\n" + note).encode(),
            "sign": ("old +4\n" + proof + "\n" + note).encode(),
            "two spaces": ("old  4\n" + proof + "\n" + note).encode(),
            "OLD": ("OLD 4\n" + proof + "\n" + note).encode(),
            "crlf": ("old 4\r\n" + proof + "\r\n" + note).encode(),
            "no empty line": ("old 4\n" + proof + note).encode(),
            "unpadded proof": ("old 4\n" + proof.replace("=", "") + "\n" + note).encode(),
            "url-safe proof": ("old 4\n" + sc.b64(b"\xfb" * 32).replace("+", "-")
                               .replace("/", "_") + "\n\n" + note).encode(),
            "short hash": ("old 4\n" + sc.b64(b"x" * 31) + "\n\n" + note).encode(),
            "64 proof lines": ("old 4\n" + (sc.b64(bytes(32)) + "\n") * 64 + "\n"
                               + note).encode(),
            "no note": ("old 4\n" + proof + "\n").encode(),
            "unsigned note": ("old 4\n" + proof + "\n" +
                              sc.checkpoint_body(ORIGIN, 8, sc.mth(LEAVES[:8]))).encode(),
            "not a checkpoint": ("old 4\n" + proof + "\n" + "hello\n\n" +
                                 self.log.signature_line("hello\n")).encode(),
            "size with leading zero": ("old 4\n" + proof + "\n" +
                                       note.replace("\n8\n", "\n08\n", 1)).encode(),
            "bad utf-8": ("old 4\n" + proof + "\n").encode() + b"\xff" + note.encode(),
            "size over 2^64": ("old 18446744073709551616\n\n" + note).encode(),
        }
        for name, body in cases.items():
            with self.subTest(name):
                status, _, data = sc.post(self.w.port, body)
                self.assertEqual(status, 400, (name, data))
        status, _, _ = sc.post(self.w.port, b"old 0\n\n" + b"a" * 80000)
        self.assertEqual(status, 413)
        self.assertEqual(self.status()["logs"][0]["size"], 4)

    def test_routes(self):
        status, _, _ = sc.post(self.w.port, None, method="GET")
        self.assertEqual(status, 405)
        status, _, _ = sc.post(self.w.port, b"", path="/nothing")
        self.assertEqual(status, 404)
        status, _, _ = sc.post(self.w.port, b"", path="/add-checkpoint/")
        self.assertEqual(status, 404)

    def test_cosignature_covers_extension_lines(self):
        body, note = sc.signed_checkpoint(self.log, LEAVES[:5],
                                          extensions="ext one\n")
        status, _, data = self.w.submit(0, [], note)
        self.assertEqual(status, 200, data)
        sc.verify_cosignatures(body, data, WITNESS_NAME, self.w.public)
        plain = sc.checkpoint_body(ORIGIN, 5, sc.mth(LEAVES[:5]))
        with self.assertRaises(sc.CosignatureError):
            sc.verify_cosignatures(plain, data, WITNESS_NAME, self.w.public)

    def test_restart_keeps_state(self):
        self.assert_cosigned(*self.advance(0, 11))
        self.w.stop()
        self.w.start()
        self.assert_conflict(self.advance(0, 12)[0], 11)
        self.assertEqual(self.status()["logs"][0]["size"], 11)
        self.assert_cosigned(*self.advance(11, 12))

    def test_kill_9_after_200_loses_nothing(self):
        self.assert_cosigned(*self.advance(0, 3))
        answer, body = self.advance(3, 10)
        self.w.proc.kill()          # SIGKILL right after the 200
        self.w.proc.wait()
        self.assert_cosigned(answer, body)
        self.w.stop()
        self.w.start()
        self.assert_conflict(self.advance(3, 12)[0], 10)
        files = [f for f in os.listdir(self.w.state) if f.endswith(".checkpoint")]
        self.assertEqual(len(files), 1)
        with open(os.path.join(self.w.state, files[0]), encoding="utf-8") as f:
            self.assertTrue(f.read().startswith(body))

    def test_second_witness_on_same_state_refuses(self):
        other = subprocess.run(
            self.w.args()[:2] + ["127.0.0.1:%d" % free_port()] + self.w.args()[3:],
            capture_output=True, timeout=30)
        self.assertEqual(other.returncode, 1)
        self.assertIn(b"in use", other.stderr)

    def test_damaged_state_refuses_to_start(self):
        self.assert_cosigned(*self.advance(0, 3))
        self.w.stop()
        for f in os.listdir(self.w.state):
            if f.endswith(".checkpoint"):
                with open(os.path.join(self.w.state, f), "w") as out:
                    out.write("garbage")
        res = subprocess.run(self.w.args(), capture_output=True, timeout=30)
        self.assertEqual(res.returncode, 1)
        self.assertIn(b"backup", res.stderr)
        self.w.start = lambda: None
        self.w.stderr = open(os.devnull, "wb")

    def test_concurrent_submissions_one_wins(self):
        self.assert_cosigned(*self.advance(0, 8))
        sizes = list(range(9, 25))
        results = {}
        barrier = threading.Barrier(len(sizes))

        def submit(n):
            body, note = sc.signed_checkpoint(self.log, LEAVES[:n])
            req = sc.add_checkpoint_body(8, sc.consistency_proof(8, LEAVES[:n]), note)
            barrier.wait()
            results[n] = (sc.post(self.w.port, req), body)

        threads = [threading.Thread(target=submit, args=(n,)) for n in sizes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [n for n in sizes if results[n][0][0] == 200]
        self.assertEqual(len(winners), 1, {n: r[0][:1] for n, r in results.items()})
        won = winners[0]
        self.assert_cosigned(*results[won])
        for n in sizes:
            if n != won:
                self.assert_conflict(results[n][0], won)
        self.assertEqual(self.status()["logs"][0]["size"], won)

    def test_logs_are_independent(self):
        self.assert_cosigned(*self.advance(0, 7))
        answer, body = self.advance(0, 2, log=self.other_log)
        self.assert_cosigned(answer, body)
        self.assert_conflict(self.advance(2, 9)[0], 7)


class OptionsTest(unittest.TestCase):
    def test_help_and_missing_options(self):
        out = subprocess.run([WITNESS, "--help"], capture_output=True)
        self.assertEqual(out.returncode, 0)
        self.assertIn(b"--state DIR", out.stdout)
        out = subprocess.run([WITNESS], capture_output=True)
        self.assertEqual(out.returncode, 2)

    def test_environment(self):
        folder = tempfile.mkdtemp(prefix="trace-witness-env-")
        try:
            log = sc.LogKey(ORIGIN, b"E" * 32)
            w = Witness(folder, [])
            w.port = free_port()
            env = dict(os.environ,
                       TRACE_WITNESS_LISTEN="127.0.0.1:%d" % w.port,
                       TRACE_WITNESS_KEY=w.key_path,
                       TRACE_WITNESS_NAME=WITNESS_NAME,
                       TRACE_WITNESS_STATE=w.state,
                       TRACE_WITNESS_LOG=log.vkey + " " + sc.LogKey(
                           "b.example/log", b"B" * 32).vkey)
            proc = subprocess.Popen([WITNESS], env=env, stderr=subprocess.DEVNULL)
            try:
                wait_port(w.port, proc=proc)
                body, note = sc.signed_checkpoint(log, LEAVES[:2])
                status, _, data = sc.post(w.port, sc.add_checkpoint_body(0, [], note))
                self.assertEqual(status, 200, data)
                sc.verify_cosignatures(body, data, WITNESS_NAME, w.public)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def test_refuses_bad_log_vkey(self):
        witness_like = sc.vkey(ORIGIN, 0x04, bytes(32))
        out = subprocess.run([WITNESS, "--key", "/nonexistent", "--name", "a/b",
                              "--state", "/tmp/x", "--log", witness_like],
                             capture_output=True)
        self.assertEqual(out.returncode, 2)


if __name__ == "__main__":
    unittest.main()
