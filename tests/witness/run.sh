#!/usr/bin/env bash
# run.sh [BUILD] - trace-witness against a tlog-witness client written from
# the C2SP specs (speclient.py): every status of add-checkpoint, durable
# state across restarts and kill -9, concurrent submissions.  Through
# tests/run-suite.sh, so sanitizer reports of an ASan BUILD fail it too.
# Prints "witness: N passed, N failed"; exit 1 on a failure.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../run-suite.sh" witness "${1:-build}" tests/witness
