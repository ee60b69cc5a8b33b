"""Start redis-server and trace-server (harness.py), seed the page test
chains (pages_seed.py), write the shared corpus of fixture bundles with
BUILD/tests/test_corpus --write BUILD/corpus (the C verdict of each, for verify.js to
match), run every *.test.js under node with their URLs, stop everything.
The exit status is non-zero if any script failed."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
import pages_seed  # noqa: E402
import units_seed  # noqa: E402


def main():
    # Build output, written afresh each run (never committed).
    corpus = os.path.join(harness.BUILD, "corpus")
    shutil.rmtree(corpus, ignore_errors=True)
    os.makedirs(corpus)
    subprocess.run([os.path.join(harness.BUILD, "tests", "test_corpus"),
                    "--write", corpus], check=True, stdout=subprocess.DEVNULL)
    return run(corpus)


def run(corpus):
    # Scratch-off codes need the server's pepper (SPEC 12): a 0600 file.
    pepper_dir = tempfile.mkdtemp(prefix="trace-pepper-")
    pepper = os.path.join(pepper_dir, "pepper")
    fd = os.open(pepper, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    cluster = harness.Cluster.start(server_args=["--code-pepper", pepper])
    try:
        units = units_seed.seed(cluster)
        chains = pages_seed.seed(cluster)
        config = {"base": cluster.public_url, "chains": chains,
                  "corpus": corpus,
                  "screenshots": os.environ.get("TRACE_SCREENSHOTS",
                                                os.path.join(harness.BUILD, "screenshots")),
                  "texts": {"script": pages_seed.SCRIPT, "attr": pages_seed.ATTR,
                            "jsurl": pages_seed.JS_URL},
                  "names": pages_seed.NAME, "units": units,
                  # blobs.test.js enrolls its own uploader with these.
                  "rootKey": cluster.root_key_path, "agent": harness.AGENT}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config, f)
            path = f.name
        try:
            rc = 0
            for script in sorted(f for f in os.listdir(HERE) if f.endswith(".test.js")):
                rc |= subprocess.call(["node", os.path.join(HERE, script), path])
        finally:
            os.unlink(path)
    finally:
        cluster.stop()
        shutil.rmtree(pepper_dir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
