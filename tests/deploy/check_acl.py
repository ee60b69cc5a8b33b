"""Every Redis command trace-server sends, directly (string literals in
trace-server/*.c) or from its Functions (redis.call in trace-server/*.lua,
which ACL rules also cover), must be allowed to the `trace` user of
deploy/redis-users.acl; and nothing more than that (so the ACL stays the
exact list).  Command names come from a throwaway redis-server's COMMAND
LIST, so only real command names count.  Exit 1 with the differences."""
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# Sent to Sentinels, or always allowed (AUTH), or error-reply prefixes that
# store_conn.c recognises (READONLY), not commands to grant.
NOT_DATA_COMMANDS = {"sentinel", "auth", "readonly"}
# Container commands whose subcommands are granted one by one.
CONTAINERS = {"function", "client", "config", "script", "object", "memory",
              "xinfo", "acl", "cluster", "latency", "slowlog", "pubsub", "command"}


def redis_commands():
    d = tempfile.mkdtemp(prefix="trace-acl-")
    sock = os.path.join(d, "s")
    p = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                          "--save", "", "--appendonly", "no", "--dir", d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            r = subprocess.run(["redis-cli", "-s", sock, "COMMAND", "LIST"],
                               capture_output=True, text=True)
            if r.returncode == 0 and r.stdout.strip():
                return {w.strip().lower() for w in r.stdout.split()}
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")
    finally:
        p.terminate()
        p.wait(10)
        subprocess.run(["rm", "-rf", d])


def used_commands(known):
    used = set()
    for path in glob.glob(os.path.join(ROOT, "trace-server", "*.c")):
        text = open(path).read()
        for m in re.finditer(r'"([A-Z][A-Z_]+)"(?:\s*,\s*"([A-Z][A-Z_-]*)")?', text):
            name = m.group(1).lower()
            if name not in known or name in NOT_DATA_COMMANDS:
                continue
            if name in CONTAINERS:
                if m.group(2):
                    used.add(name + "|" + m.group(2).lower())
            else:
                used.add(name)
    for path in glob.glob(os.path.join(ROOT, "trace-server", "*.lua")):
        text = open(path).read()
        for m in re.finditer(r"redis\.p?call\(\s*['\"]([A-Za-z_]+)['\"]", text):
            used.add(m.group(1).lower())
    return used


def allowed_commands():
    for line in open(os.path.join(ROOT, "deploy", "redis-users.acl")):
        words = line.split()
        if words[:2] == ["user", "trace"]:
            return {w[1:].lower() for w in words if w.startswith("+") and not w.startswith("+@")}
    raise RuntimeError("no trace user in redis-users.acl")


def main():
    known = redis_commands()
    used, allowed = used_commands(known), allowed_commands()
    missing = sorted(used - allowed)
    # Anything allowed but never used is a needless grant.
    extra = sorted(allowed - used)
    if missing:
        print("commands used but not allowed to the trace user: " + " ".join(missing))
    if extra:
        print("allowed to the trace user but never used: " + " ".join(extra))
    print("trace user: %d commands, all used, none missing" % len(allowed)
          if not missing and not extra else "")
    return 1 if missing or extra else 0


if __name__ == "__main__":
    sys.exit(main())
