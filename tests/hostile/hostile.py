"""What the hostile-input modules share: one cluster per module, the
StoreUnchanged check (Redis's full logical contents compared before and
after, once the log integrator has settled), the server-still-up check,
and a counter of cases tried that each module's FIGURE line reports."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "faults"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import faultlib  # noqa: E402
import harness  # noqa: E402

tried = {"cases": 0}


def store_changes(cluster, before):
    harness.settle(cluster)
    after = cluster.snapshot()
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


class StoreUnchanged:
    """with StoreUnchanged(test, cluster): the store must be the same after."""

    def __init__(self, test, cluster, what=""):
        self.test, self.cluster, self.what = test, cluster, what

    def __enter__(self):
        harness.settle(self.cluster)
        self.before = self.cluster.snapshot()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.test.assertEqual(store_changes(self.cluster, self.before), [],
                                  "a refused request changed the store: %s" % self.what)


def assert_up(test, cluster, what=""):
    try:
        r = faultlib.call(cluster.port, "GET", "/healthz", timeout=20)
    except OSError as e:
        test.fail("server down after %s: %r" % (what, e))
    test.assertEqual(r.status, 200, "server unhealthy after %s" % what)
    test.assertIsNone(cluster.server_proc.poll(), "trace-server exited after %s" % what)
