#!/usr/bin/python3
"""cputime.py COMMAND... - run COMMAND (its stdout discarded) and print
"<wall seconds> <CPU seconds, user + system>"; exit with its status."""
import resource
import subprocess
import sys
import time

start = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f %.4f" % (time.monotonic() - start, usage.ru_utime + usage.ru_stime))
sys.exit(rc)
