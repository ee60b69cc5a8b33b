#!/usr/bin/python3
"""figures.py LOG [DOC] - copy the figures of a `bash .ci/run` (or
`make test`) output into DOC (default docs/RELIABILITY.md), between the
lines "<!-- figures:begin -->" and "<!-- figures:end -->".

    bash .ci/run 2>&1 | tee /tmp/ci.log
    tests/figures.py /tmp/ci.log

Every figure is the verbatim FIGURE line a suite printed, under the build
it ran against; every "NAME: N passed, N failed" line is listed as well.
Refuses (exit 1, DOC untouched) a log that does not show a complete,
passing run: a missing pass, a failed suite or no closing "ci: passed"."""
import os
import re
import sys

BEGIN = "<!-- figures:begin -->"
END = "<!-- figures:end -->"


def parse(lines):
    run = {"header": None, "passed": None, "sections": [], "results": []}
    section = ("unit", "build")
    for raw in lines:
        line = raw.rstrip("\n")
        s = line.strip()
        m = re.match(r"ci: commit (\S+) at (\S+) on (\d+) cores, (.*)$", s)
        if m:
            run["header"] = m.groups()
            continue
        m = re.match(r"ci: passed in (\d+) s$", s)
        if m:
            run["passed"] = int(m.group(1))
            continue
        m = re.match(r"== (\S+) \((\S+)\)$", s)
        if m:
            suite = os.path.basename(os.path.dirname(m.group(1)))
            if m.group(1).endswith("valgrind.sh"):
                suite = "valgrind"
            section = (suite, m.group(2))
            continue
        if s.startswith("FIGURE "):
            name = s.split()[1]
            if name.startswith("fuzz."):
                section = ("fuzz", "clang ASan+UBSan")
            run["sections"].append((section, s[len("FIGURE "):]))
            continue
        m = re.match(r"^([a-z][a-zA-Z+() ]*): (\d+) passed, (\d+) failed", s)
        if m:
            label = m.group(1)
            if label in ("integration", "hostile", "faults", "browser",
                         "epcis", "deploy"):
                label = "%s (%s)" % (label, section[1])
            run["results"].append((label, int(m.group(2)), int(m.group(3))))
    return run


def check(run):
    problems = []
    if run["header"] is None:
        problems.append("no 'ci: commit' line: not a .ci/run output")
    if run["passed"] is None:
        problems.append("no 'ci: passed' line: the run failed or did not finish")
    for label, _, failed in run["results"]:
        if failed:
            problems.append("%s: %d failed" % (label, failed))
    builds = {b for (_, b), _ in run["sections"]}
    for need in ("faults", "hostile", "valgrind", "fuzz"):
        if not any(s == need for (s, _), _ in run["sections"]):
            problems.append("no FIGURE lines from %s" % need)
    if not any(b.endswith("san") for b in builds):
        problems.append("no suite ran against the ASan+UBSan build")
    return problems


def total(run, name, field, build=None):
    out = 0
    for (_, b), fig in run["sections"]:
        parts = fig.split()
        if parts[0] != name or (build is not None and b != build):
            continue
        for kv in parts[1:]:
            k, _, v = kv.partition("=")
            if k == field and v.isdigit():
                out += int(v)
    return out


def render(run):
    commit, when, cores, kernel = run["header"]
    out = [BEGIN,
           "Copied by `tests/figures.py` from the output of `bash .ci/run` on a",
           "clean clone of commit `%s`, started %s on %s cores (%s);" % (commit, when, cores, kernel),
           "the whole run took %d s. Each figure is the verbatim FIGURE line," % run["passed"],
           "under the build it ran against (`build` is the -O2 build, `build/san`",
           "the same sources with ASan+UBSan, valgrind runs `build` under memcheck).",
           "",
           "| suite | build | figure |",
           "|---|---|---|"]
    for (suite, build), fig in run["sections"]:
        out.append("| %s | %s | `%s` |" % (suite, build, fig))
    out += ["", "| test run | passed | failed |", "|---|---|---|"]
    for label, p, f in run["results"]:
        out.append("| %s | %d | %d |" % (label, p, f))
    faults = total(run, "faults.total", "faults")
    kills = ("faults.redis_kill", "faults.server_kill", "deploy.failover")
    acked = sum(total(run, name, "acked") for name in kills)
    found = sum(total(run, name, "found") for name in kills)
    hostile = total(run, "hostile.total", "cases_tried")
    execs = sum(total(run, fig.split()[0], "executions")
                for (s, _), fig in run["sections"] if s == "fuzz")
    out += ["",
            "In all, over both builds: {:,} faults injected; {:,} statements "
            "acknowledged across the Redis kill, trace-server kill and Sentinel "
            "failover tests and {:,} "
            "found; {:,} hostile requests or statements tried. Fuzzing: {:,} "
            "executions.".format(faults, acked, found, hostile, execs),
            END]
    return "\n".join(out)


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    doc = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "docs", "RELIABILITY.md")
    with open(sys.argv[1], errors="replace") as f:
        run = parse(f)
    problems = check(run)
    if problems:
        for p in problems:
            print("figures.py: %s" % p, file=sys.stderr)
        print("figures.py: %s left as it was" % doc, file=sys.stderr)
        return 1
    with open(doc) as f:
        text = f.read()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        print("figures.py: %s needs one %s and one %s line" % (doc, BEGIN, END),
              file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    with open(doc + ".tmp", "w") as f:
        f.write(head + render(run) + tail)
    os.replace(doc + ".tmp", doc)
    print("figures.py: %d figures, %d test runs copied into %s" %
          (len(run["sections"]), len(run["results"]), doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
