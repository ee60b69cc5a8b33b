"""The production topology on loopback, built from deploy/'s own files:
3 redis-servers (deploy/redis.conf, users from deploy/redis-users.acl),
3 Sentinels (deploy/sentinel.conf), trace-server instances following the
primary through Sentinel, and nginx (deploy/nginx/trace.conf) terminating
TLS with a self-signed certificate.  Only addresses, ports, paths and the
failure-detection timings are rewritten; every other setting is the one a
production install gets, so the test exercises the shipped configuration.
"""
import hashlib
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from harness import Key, free_ports, wait_port  # noqa: E402

DEPLOY = os.path.join(ROOT, "deploy")
MASTER = "trace"


def derive(path, drop, extra):
    """The config at path without the directives in drop (each a tuple of
    leading words), followed by the lines in extra."""
    out = []
    for line in open(path):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if any(tuple(w.lower() for w in words[:len(d)]) == d for d in drop):
            continue
        out.append(line.rstrip("\n"))
    return "\n".join(out + list(extra)) + "\n"


class HACluster:
    def __init__(self, build, servers=2, down_after_ms=1000, wait_replicas=1):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="trace-ha-")
        self.procs = {}          # name -> Popen
        self.logs = []
        # Every port at once: none of them is listened on yet, so ports
        # taken one by one could repeat.
        ports = free_ports(3 + 3 + servers + 2)
        self.redis_ports = ports[0:3]
        self.sentinel_ports = ports[3:6]
        self.server_ports = ports[6:6 + servers]
        self.https_port, self.http_port = ports[6 + servers:]
        self.down_after_ms = down_after_ms
        self.wait_replicas = wait_replicas
        self.passwords = {u: os.urandom(16).hex() for u in
                          ("trace", "replica", "sentinel", "backup", "admin")}
        self.root = Key("root")
        self.root_key, self.root_pub = self.root.write(self.dir)
        self.log = Key("log")
        self.log_key, self.log_pub = self.log.write(self.dir)

    # ---- helpers ---------------------------------------------------------
    def path(self, *p):
        return os.path.join(self.dir, *p)

    def spawn(self, name, argv, env=None):
        log = open(self.path(name + ".log"), "ab")
        self.logs.append(log)
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                            env=env, start_new_session=True)
        return self.procs[name]

    def kill(self, name, sig=signal.SIGKILL):
        p = self.procs.pop(name, None)
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def redis_cli(self, port, *args, user="admin"):
        env = dict(os.environ, REDISCLI_AUTH=self.passwords[user])
        r = subprocess.run(["redis-cli", "-p", str(port), "--user", user,
                            "--no-auth-warning"] + [str(a) for a in args],
                           env=env, capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def sentinel_cli(self, port, *args):
        r = subprocess.run(["redis-cli", "-p", str(port)] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    # ---- redis -----------------------------------------------------------
    def write_acl(self):
        with open(os.path.join(DEPLOY, "redis-users.acl")) as f:
            lines = [l for l in f if l.startswith("user ")]
        text = "".join(lines)
        for user, pw in self.passwords.items():
            text = text.replace("@%s_SHA256@" % user.upper(),
                                hashlib.sha256(pw.encode()).hexdigest())
        with open(self.path("users.acl"), "w") as f:
            f.write(text)

    def redis_conf(self, i, data):
        drop = [("bind",), ("port",), ("unixsocket",), ("aclfile",), ("include",),
                ("supervised",), ("dir",), ("logfile",), ("pidfile",), ("replicaof",)]
        extra = ["bind 127.0.0.1", "port %d" % self.redis_ports[i], "dir " + data,
                 "aclfile " + self.path("users.acl"), "supervised no",
                 "masterauth " + self.passwords["replica"],
                 "logfile " + self.path("redis%d.log" % i)]
        if i > 0:
            extra.append("replicaof 127.0.0.1 %d" % self.redis_ports[0])
        return derive(os.path.join(DEPLOY, "redis.conf"), drop, extra)

    def start_redis(self, i):
        data = self.path("redis%d" % i)
        os.makedirs(data, exist_ok=True)
        conf = self.path("redis%d.conf" % i)
        with open(conf, "w") as f:
            f.write(self.redis_conf(i, data))
        p = self.spawn("redis%d" % i, ["redis-server", conf])
        wait_port(self.redis_ports[i], proc=p)

    def start_sentinel(self, j):
        data = self.path("sentinel%d" % j)
        os.makedirs(data, exist_ok=True)
        drop = [("bind",), ("port",), ("dir",), ("logfile",), ("pidfile",),
                ("sentinel", "monitor"), ("sentinel", "down-after-milliseconds"),
                ("sentinel", "failover-timeout"), ("sentinel", "auth-user")]
        extra = ["bind 127.0.0.1", "port %d" % self.sentinel_ports[j], "dir " + data,
                 "logfile " + self.path("sentinel%d.log" % j),
                 "sentinel monitor %s 127.0.0.1 %d 2" % (MASTER, self.redis_ports[0]),
                 "sentinel down-after-milliseconds %s %d" % (MASTER, self.down_after_ms),
                 "sentinel failover-timeout %s 4000" % MASTER,
                 "sentinel auth-user %s sentinel" % MASTER,
                 "sentinel auth-pass %s %s" % (MASTER, self.passwords["sentinel"])]
        conf = self.path("sentinel%d.conf" % j)
        with open(conf, "w") as f:
            f.write(derive(os.path.join(DEPLOY, "sentinel.conf"), drop, extra))
        p = self.spawn("sentinel%d" % j, ["redis-server", conf, "--sentinel"])
        wait_port(self.sentinel_ports[j], proc=p)

    def primary_port(self):
        """The primary's port according to the Sentinels' majority."""
        seen = {}
        for port in self.sentinel_ports:
            out = self.sentinel_cli(port, "SENTINEL", "get-master-addr-by-name", MASTER).split()
            if len(out) == 2:
                seen[int(out[1])] = seen.get(int(out[1]), 0) + 1
        best = max(seen.items(), key=lambda kv: kv[1], default=(None, 0))
        return best[0] if best[1] >= 2 else None

    def wait_replication(self, primary, replicas, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            info = self.redis_cli(primary, "INFO", "replication")
            m = re.search(r"connected_slaves:(\d+)", info)
            online = info.count("state=online")
            if m and int(m.group(1)) >= replicas and online >= replicas:
                return True
            time.sleep(0.1)
        return False

    def wait_sentinels(self, timeout=20):
        """Until every Sentinel knows both replicas and the other two."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ok = 0
            for port in self.sentinel_ports:
                info = self.sentinel_cli(port, "INFO", "sentinel")
                if re.search(r"status=ok,.*slaves=2,sentinels=3", info):
                    ok += 1
            if ok == 3:
                return True
            time.sleep(0.2)
        return False

    # ---- trace-server ----------------------------------------------------
    def sentinel_url(self, password=None):
        return "sentinel://trace:%s@%s/%s" % (
            password or self.passwords["trace"],
            ",".join("127.0.0.1:%d" % p for p in self.sentinel_ports), MASTER)

    def start_server(self, k, redis_url=None, extra=(), signer=None):
        port = self.server_ports[k]
        env = dict(os.environ, TRACE_REDIS=redis_url or self.sentinel_url(),
                   TRACE_REDIS_WAIT_REPLICAS=str(self.wait_replicas))
        # SPEC 9: exactly one instance holds the log key and signs, with its
        # high-water mark on local disk; the others serve with LOG.pub.
        if signer if signer is not None else k == 0:
            log = ["--log-key", self.log_key, "--log-state", self.path("log-state%d" % k)]
        else:
            log = ["--log-key", self.log_pub]
        argv = [os.path.join(self.build, "trace-server"),
                "--listen", "127.0.0.1:%d" % port,
                "--root-key", self.root_pub] + log + [
                "--log-origin", "trace.test/log",
                "--public-url", "https://trace.test", "--threads", "32"] + list(extra)
        p = self.spawn("server%d" % k, argv, env=env)
        wait_port(port, timeout=20, proc=p)

    # ---- nginx -----------------------------------------------------------
    def start_nginx(self):
        d = self.path("nginx")
        os.makedirs(d, exist_ok=True)
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=30)
        self.ca = cert
        site = open(os.path.join(DEPLOY, "nginx", "trace.conf")).read()
        upstream = "".join("\tserver 127.0.0.1:%d max_fails=3 fail_timeout=5s;\n" % p
                           for p in self.server_ports)
        site = re.sub(r"(\tserver 10\.0\.0\.\d+:8080[^\n]*\n)+", upstream, site)
        site = site.replace("listen [::]:80;", "").replace("listen [::]:443 ssl http2;", "")
        site = site.replace("listen 80;", "listen 127.0.0.1:%d;" % self.http_port)
        site = site.replace("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % self.https_port)
        site = site.replace("/etc/ssl/trace/fullchain.pem", cert)
        site = site.replace("/etc/ssl/trace/privkey.pem", key)
        site = site.replace("/var/cache/nginx/trace-qr", os.path.join(d, "qr-cache"))
        for t in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(d, t), exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = (user + "worker_processes 2;\nevents { worker_connections 512; }\n"
                "http {\n include /etc/nginx/mime.types;\n"
                " access_log %(d)s/access.log;\n"
                " client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy;\n"
                " fastcgi_temp_path %(d)s/fastcgi; uwsgi_temp_path %(d)s/uwsgi;\n"
                " scgi_temp_path %(d)s/scgi;\n"
                " include %(d)s/trace.conf;\n}\n") % {"d": d}
        with open(os.path.join(d, "trace.conf"), "w") as f:
            f.write(site)
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        p = self.spawn("nginx", ["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"),
                                 "-g", "daemon off; pid %s/nginx.pid; error_log stderr;" % d])
        wait_port(self.https_port, proc=p)

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca)

    # ---- whole -----------------------------------------------------------
    def start(self):
        self.write_acl()
        for i in range(3):
            self.start_redis(i)
        if not self.wait_replication(self.redis_ports[0], 2):
            raise RuntimeError("replicas did not sync")
        for j in range(3):
            self.start_sentinel(j)
        if not self.wait_sentinels():
            raise RuntimeError("sentinels did not find each other")
        for k in range(len(self.server_ports)):
            self.start_server(k)
        self.start_nginx()
        return self

    def stop(self):
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
        for log in self.logs:
            log.close()
        if os.environ.get("TRACE_KEEP_TEST_DIRS"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
