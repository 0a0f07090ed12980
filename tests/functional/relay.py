"""Run the real glivi-relay for functional tests.

Each Relay gets a private temp dir with a certificate made at test time (a
throwaway CA that signs a localhost leaf, so clients verify for real),
secret files, a config and a SQLite store. The relay listens on port 0 and
reports its port through --ready-file, so tests never race for ports. Every
wait is on a condition with a deadline; every process started is stopped.
"""
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

BUILD = os.environ.get("GLIVI_BUILD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SOURCE = os.environ.get("GLIVI_SOURCE") or os.path.join(
    os.path.dirname(__file__), "..", "..")
RELAY = os.path.join(BUILD, "glivi-relay")
FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "webhooks")
SHARED = os.path.normpath(os.path.join(SOURCE, "..", "shared"))
APP_SECRET = "test-app-secret-\u00e9".encode()  # non-ASCII on purpose
VERIFY_TOKEN = "verify-token-42"

MAIN = "106540352242922"
SECOND = "106540352242923"


_databases = [0]


def store_url(d):
    """The store a test relay uses: a SQLite file in its dir, or, when
    GLIVI_TEST_PG_URL names a PostgreSQL server (tests/run-with-pg), a
    new database of its own there."""
    base = os.environ.get("GLIVI_TEST_PG_URL")
    if not base:
        return "sqlite:" + os.path.join(d, "relay.db")
    _databases[0] += 1
    name = "glivi_f_%d_%d" % (os.getpid(), _databases[0])
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", base, "-c",
                    "CREATE DATABASE " + name], check=True,
                   stdout=subprocess.DEVNULL)
    return base.rsplit("/", 1)[0] + "/" + name


def wait_for(cond, timeout=20.0, what="condition"):
    """Polls cond() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def make_certs(d):
    """A CA and a localhost certificate signed by it; returns paths."""
    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr = os.path.join(d, "key.pem"), os.path.join(d, "req.csr")
    cert, ext = os.path.join(d, "cert.pem"), os.path.join(d, "ext.cnf")
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=glivi test CA",
        "-days", "2", "-keyout", ca_key, "-out", ca)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
        "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert)
    os.chmod(key, 0o600)
    return ca, cert, key


def sign(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def write_secret(path, data, mode=0o600):
    with open(path, "wb") as f:
        f.write(data + b"\n")
    os.chmod(path, mode)


def start_program(argv, ready, log, name):
    """Starts a server that reports "host:port" in its ready file; waits
    for it. Returns (process, open log file, port)."""
    if os.path.exists(ready):
        os.unlink(ready)
    logf = open(log, "ab")
    proc = subprocess.Popen(argv, stdout=logf, stderr=logf)

    def is_ready():
        if proc.poll() is not None:
            with open(log, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            raise AssertionError("%s exited with %s:\n%s" % (
                name, proc.returncode, text))
        return os.path.exists(ready)
    wait_for(is_ready, what=name + " to listen")
    with open(ready) as f:
        port = int(f.read().strip().rsplit(":", 1)[1])
    return proc, logf, port


def stop_program(proc, logf, sig, name):
    """Signals a program started by start_program and waits for it;
    returns its exit code (None when it was not running)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(name + " did not stop within 30 s")
    finally:
        logf.close()


class Relay:
    """One glivi-relay process with its own files."""

    def __init__(self, numbers=None, extra="", server_extra="",
                 plain_http=False, certs=None, wabas=None, store=None,
                 port=0):
        """certs: (ca, cert, key) to share between relays; made if None.
        wabas: number name -> waba_id for its [number.NAME] section.
        store: a store URL to share with other relays; port: a fixed
        port to listen on (a load balancer's backends keep theirs)."""
        self.dir = tempfile.mkdtemp(prefix="glivi-relay-test-")
        self.ca, self.cert, self.key = certs or make_certs(self.dir)
        self.app_secret_file = os.path.join(self.dir, "app_secret")
        self.verify_token_file = os.path.join(self.dir, "verify_token")
        write_secret(self.app_secret_file, APP_SECRET)
        write_secret(self.verify_token_file, VERIFY_TOKEN.encode())
        self.db = os.path.join(self.dir, "relay.db")
        self.store_url = store or store_url(self.dir)
        self.ready = os.path.join(self.dir, "ready")
        self.log = os.path.join(self.dir, "relay.log")
        self.plain_http = plain_http
        numbers = numbers or {"main": MAIN, "second": SECOND}
        wabas = wabas or {}
        sections = "".join(
            "[number.%s]\nphone_number_id = %s\n%s\n" % (
                n, pid, "waba_id = %s\n" % wabas[n] if n in wabas else "")
            for n, pid in numbers.items())
        tls = ("plain_http = true\n" if plain_http else
               "tls_cert = %s\ntls_key = %s\n" % (self.cert, self.key))
        self.config = os.path.join(self.dir, "relay.conf")
        with open(self.config, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1:%d\n%sdata_dir = %s\n%s\n"
                    "[store]\nurl = %s\n\n"
                    "[meta]\napp_secret_file = %s\nverify_token_file = %s\n\n"
                    "[log]\nlevel = debug\n\n%s%s"
                    % (port, tls, self.dir, server_extra, self.store_url,
                       self.app_secret_file, self.verify_token_file,
                       sections, extra))
        self.proc = None
        self.port = None
        self.logf = None

    # -- lifecycle ---------------------------------------------------------
    def start(self, *args):
        self.proc, self.logf, self.port = start_program(
            [RELAY, "serve", "-c", self.config, "--ready-file", self.ready]
            + list(args), self.ready, self.log, "the relay")
        return self

    def stop(self, sig=signal.SIGTERM):
        """Stops the relay; returns its exit code."""
        rc = stop_program(self.proc, self.logf, sig, "the relay")
        self.proc = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def read_log(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -- HTTP --------------------------------------------------------------
    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx

    def connection(self, timeout=10):
        if self.plain_http:
            return http.client.HTTPConnection("127.0.0.1", self.port,
                                              timeout=timeout)
        return http.client.HTTPSConnection("localhost", self.port,
                                           timeout=timeout,
                                           context=self.ssl_context())

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers dict, body bytes) on a new connection."""
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def post_webhook(self, body, signature=None, headers=None):
        if isinstance(body, str):
            body = body.encode()
        h = {"Content-Type": "application/json",
             "X-Hub-Signature-256": signature or sign(body)}
        h.update(headers or {})
        return self.request("POST", "/webhook", body, h)

    def post_fixture(self, name):
        with open(os.path.join(FIXTURES, name), "rb") as f:
            return self.post_webhook(f.read())

    def raw_socket(self):
        """A TLS (or plain) socket to the relay, for hand-made requests."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if self.plain_http:
            return s
        return self.ssl_context().wrap_socket(s, server_hostname="localhost")

    # -- the relay's own read path ----------------------------------------
    def cli(self, *args, check=True):
        r = subprocess.run([RELAY] + list(args[:1]) + ["-c", self.config]
                           + list(args[1:]), capture_output=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("glivi-relay %s failed (%d): %s" % (
                " ".join(args), r.returncode, r.stderr.decode()))
        return r

    def counts(self):
        return json.loads(self.cli("inspect", "counts").stdout)

    def message(self, wamid):
        r = self.cli("inspect", "message", wamid, check=False)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def entity(self, kind, id):
        return json.loads(self.cli("inspect", "entity", kind,
                                   str(id)).stdout)

    def changes(self, since=0):
        out = self.cli("inspect", "changes", "--since", str(since)).stdout
        return [json.loads(line) for line in out.decode().splitlines()]

    def entities(self, kind):
        return [c["data"] for c in self.changes() if c["kind"] == kind]
