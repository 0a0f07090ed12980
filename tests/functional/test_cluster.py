"""Several relays on one PostgreSQL store, behind a real load balancer.

Two glivi-relay processes share a database on a throwaway PostgreSQL
cluster (scripts/pg-cluster) behind HAProxy on loopback. HAProxy passes
TLS through (clients verify the relays' own certificate) and health-checks
each relay's /healthz over TLS. glivi-sim stands in for Meta: the relays
send to it, and its status webhooks come back through HAProxy.

Checked, in order on one cluster: signed webhooks spread over both relays
while agents' event streams held on each see every change in order, once,
and end on the store's state; one relay killed with SIGKILL mid-load and
started again loses no acknowledged webhook and stores none twice, and a
client syncing across it converges with no gap and no duplicate; 500
replies queued through both relays reach the simulator once each, never
faster than the number's rate; PostgreSQL stopped under load: webhooks get
5xx (so Meta retries) until it is back, then all are stored once, and no
relay crashed.

Webhooks are delivered the way Meta does: retried until a 200. Every wait
is on a condition with a deadline; every process started is stopped.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
import relay as R  # noqa: E402
import test_sim as S  # noqa: E402
from test_outbound import free_port  # noqa: E402
from apiclient import Stream, api, text_webhook  # noqa: E402
from test_api_sync import add_agent, change, cursor_seq, sync_all  # noqa

DEADLINE = 60.0
RATE = 100  # the number's sends per second, for the whole cluster


class Balancer:
    """HAProxy in front of the relays: TCP passthrough, round robin per
    connection, a TLS health check of /healthz every 200 ms."""

    def __init__(self, d, ca, backends):
        self.dir = d
        self.port = free_port()
        self.sock = os.path.join(d, "haproxy.sock")
        self.config = os.path.join(d, "haproxy.cfg")
        self.log = os.path.join(d, "haproxy.log")
        servers = "".join(
            "  server r%d 127.0.0.1:%d check check-ssl check-sni localhost "
            "verify required ca-file %s inter 200ms fall 1 rise 1\n"
            % (i + 1, port, ca) for i, port in enumerate(backends))
        with open(self.config, "w") as f:
            f.write("global\n  stats socket %s mode 600 level admin\n"
                    "defaults\n  mode tcp\n  timeout connect 2s\n"
                    "  timeout client 120s\n  timeout server 120s\n"
                    "frontend relays\n  bind 127.0.0.1:%d\n"
                    "  default_backend relays\n"
                    "backend relays\n  balance roundrobin\n"
                    "  option httpchk GET /healthz\n"
                    "  http-check expect status 200\n%s"
                    % (self.sock, self.port, servers))
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.config],
                                     stdout=self.logf, stderr=self.logf)

    def state(self):
        """{server name: "UP"/"DOWN"/…} from the stats socket."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(5)
            s.connect(self.sock)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return {}
        finally:
            s.close()
        lines = data.decode().splitlines()
        if not lines or not lines[0].startswith("# "):
            return {}
        head = lines[0][2:].split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(head, line.split(",")))
            if row.get("pxname") == "relays" and row.get("svname", "")[:1] \
                    == "r":
                out[row["svname"]] = row.get("status", "")
        return out

    def wait_up(self, *names):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("haproxy exited:\n" + self.read_log())
            st = self.state()
            return all(st.get(n, "").startswith("UP") for n in names)
        R.wait_for(up, timeout=DEADLINE, what="haproxy to see " +
                   ", ".join(names) + " up")

    def read_log(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        rc = R.stop_program(self.proc, self.logf, signal.SIGTERM, "haproxy")
        self.proc = None
        return rc


class Front:
    """What talks to the balancer: HTTPS to localhost on its port, the
    relays' certificate verified. Quacks like a Relay for api()."""

    def __init__(self, port, ca):
        self.port = port
        self.ca = ca

    def connection(self, timeout=10):
        ctx = ssl.create_default_context(cafile=self.ca)
        return http.client.HTTPSConnection("localhost", self.port,
                                           timeout=timeout, context=ctx)

    def raw_socket(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx.wrap_socket(s, server_hostname="localhost")

    def post(self, body):
        """One signed webhook on a connection of its own: the status, or
        None when the connection failed."""
        conn = self.connection()
        try:
            conn.request("POST", "/webhook", body=body, headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": R.sign(body)})
            r = conn.getresponse()
            r.read()
            return r.status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    def deliver(self, body, seen=None):
        """As Meta does: retried until a 200. seen collects every answer
        that was not one."""
        deadline = time.monotonic() + DEADLINE
        while True:
            status = self.post(body)
            if status == 200:
                return
            if seen is not None:
                seen.append(status)
            if time.monotonic() > deadline:
                raise AssertionError("a webhook was never acknowledged; "
                                     "last answer %r" % status)
            time.sleep(0.05)


def metric(r, name):
    """A counter of one relay, read from it directly."""
    conn = r.connection()
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    m = re.search(r"(?m)^%s (\d+)$" % re.escape(name), text)
    return int(m.group(1)) if m else 0


class Feeder(threading.Thread):
    """Delivers webhooks in the background, each until acknowledged."""

    def __init__(self, front, bodies):
        super().__init__(name="feeder")
        self.front = front
        self.bodies = bodies
        self.acked = 0
        self.refused = []
        self.error = None

    def run(self):
        try:
            for body in self.bodies:
                self.front.deliver(body, self.refused)
                self.acked += 1
        except BaseException as e:  # reported by the test
            self.error = e


def customer(i):
    return "4917%08d" % (os.getpid() % 10000 * 10000 + i)


@unittest.skipUnless(pgcluster.available(), pgcluster.WHY_NOT)
class Cluster(unittest.TestCase):
    """One PostgreSQL, two relays, HAProxy and a simulator for the class;
    the tests run in order and share them."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="glivi-cluster-test-")
        cls.certs = R.make_certs(cls.dir)
        cls.pg = cls.balancer = cls.sim = None
        cls.relays = []
        cls.saved_env = os.environ.get("PGPASSFILE")
        try:
            cls.start_all()
        except BaseException:
            cls.stop_all()
            raise

    @classmethod
    def start_all(cls):
        cls.pg = pgcluster.Cluster().start()
        os.environ["PGPASSFILE"] = cls.pg.passfile
        store = cls.pg.fresh_database()
        ports = [free_port(), free_port()]
        sim_port = free_port()
        simdir = os.path.join(cls.dir, "sim")
        os.mkdir(simdir)
        token_file = os.path.join(simdir, "access_token")
        R.write_secret(token_file, S.TOKEN)
        # The balancer's port must be known to the simulator, and the
        # relays' ports to the balancer: fixed before anything starts.
        cls.balancer = Balancer(cls.dir, cls.certs[0], ports)
        cls.front = Front(cls.balancer.port, cls.certs[0])
        extra = ("[meta]\naccess_token_file = %s\n"
                 "graph_url = https://localhost:%d\ngraph_version = v25.0\n"
                 "\n[outbound]\nca_file = %s\nrate = %d\npair_burst = 5\n"
                 "pair_interval = 1s\nrequest_timeout = 5s\n"
                 "ambiguous_timeout = 10s\n"
                 % (token_file, sim_port, cls.certs[0], RATE))
        for port in ports:
            r = R.Relay(certs=cls.certs, store=store, port=port,
                        extra=extra,
                        server_extra="threads = 2\nheartbeat = 1s\n")
            cls.relays.append(r)
            r.start()
        cls.sim = S.Sim(simdir, cls.certs,
                        "https://localhost:%d/webhook" % cls.balancer.port)
        i = cls.sim.args.index("--listen")
        cls.sim.args[i + 1] = "127.0.0.1:%d" % sim_port
        cls.sim.start()
        cls.balancer.wait_up("r1", "r2")
        cls.token = add_agent(cls.relays[0], "alice")
        cls.bob = add_agent(cls.relays[1], "bob")

    @classmethod
    def stop_all(cls):
        errors = []
        for name, stop in (("glivi-sim", lambda: cls.sim and cls.sim.stop()),
                           ("haproxy", lambda: cls.balancer and
                            cls.balancer.stop())):
            try:
                stop()
            except Exception as e:
                errors.append("%s: %s" % (name, e))
        for r in cls.relays:
            try:
                r.close()
            except Exception as e:
                errors.append("relay: %s" % e)
        if cls.pg is not None:
            cls.pg.stop()
        if cls.saved_env is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = cls.saved_env
        shutil.rmtree(cls.dir, ignore_errors=True)
        if errors:
            raise AssertionError("; ".join(errors))

    @classmethod
    def tearDownClass(cls):
        cls.stop_all()

    # -- helpers -------------------------------------------------------------
    def head(self):
        log = self.relays[0].changes()
        return log[-1]["seq"] if log else 0

    def log_since(self, seq):
        return self.relays[0].changes(since=seq)

    def assert_stream_converges(self, stream, since, head, log):
        """The stream's changes after since: strictly increasing, up to
        head, and each entity's last one is its latest in the store."""
        seqs, last = [], {}
        while not seqs or seqs[-1] < head:
            item = stream.next(DEADLINE)
            self.assertIsNotNone(item, "the stream ended early")
            if item[0] != "event" or item[1]["event"] != "change":
                continue
            c = change(item[1])
            seqs.append(c["seq"])
            last[(c["kind"], c["id"])] = c["seq"]
        self.assertEqual(seqs, sorted(set(seqs)), "out of order or twice")
        self.assertGreater(seqs[0], since)
        self.assertEqual(last, {(c["kind"], c["id"]): c["seq"]
                                for c in log})

    def stream(self, r, cursor, token=None):
        s = Stream(r, token or self.token, since=cursor)
        self.addCleanup(s.close)
        self.assertEqual(s.status, 200)
        return s

    def wamids_stored_once(self, wamids):
        got = [m["data"]["wamid"] for m in
               (c for c in self.relays[0].changes()
                if c["kind"] == "message")]
        for w in wamids:
            self.assertEqual(got.count(w), 1, w)

    # -- the tests -----------------------------------------------------------
    def test_1_webhooks_spread_and_every_stream_sees_every_change(self):
        _, cursor, _ = sync_all(self, self.front, self.token)
        since = cursor_seq(cursor)
        streams = [self.stream(r, cursor) for r in self.relays]
        before = [metric(r, "glivi_webhooks_total") for r in self.relays]
        bodies, wamids = [], []
        for i in range(60):
            body, wamid = text_webhook(customer(i % 12), "spread %d" % i)
            bodies.append(body)
            wamids.append(wamid)
        for body in bodies:
            self.front.deliver(body)
        after = [metric(r, "glivi_webhooks_total") for r in self.relays]
        got = [a - b for a, b in zip(after, before)]
        self.assertGreaterEqual(sum(got), 60)
        self.assertTrue(all(n >= 10 for n in got),
                        "webhooks did not spread: %r" % got)
        self.wamids_stored_once(wamids)
        head, log = self.head(), self.log_since(since)
        for s in streams:
            self.assert_stream_converges(s, since, head, log)

    def test_2_a_relay_killed_mid_load_loses_nothing(self):
        _, cursor, _ = sync_all(self, self.front, self.token)
        since = cursor_seq(cursor)
        watcher = self.stream(self.relays[0], cursor)
        bodies, wamids = [], []
        for i in range(300):
            body, wamid = text_webhook(customer(100 + i % 30), "load %d" % i)
            bodies.append(body)
            wamids.append(wamid)
        feeder = Feeder(self.front, bodies)
        feeder.start()
        try:
            R.wait_for(lambda: feeder.acked >= 80 or feeder.error,
                       timeout=DEADLINE, what="a third of the load")
            victim = self.relays[1]
            victim.kill()
            R.wait_for(lambda: feeder.acked >= 160 or feeder.error,
                       timeout=DEADLINE, what="load on the survivor")
            victim.start()
            self.balancer.wait_up("r1", "r2")
        finally:
            feeder.join(timeout=DEADLINE * 2)
        self.assertFalse(feeder.is_alive())
        if feeder.error is not None:
            raise feeder.error
        self.assertEqual(feeder.acked, 300)
        self.wamids_stored_once(wamids)
        # A client that synced before converges to the store: every
        # entity once, at its latest, nothing missing.
        events, _, _ = sync_all(self, self.front, self.token, since=cursor)
        log = self.log_since(since)
        self.assertEqual([(e["kind"], e["id"], e["seq"]) for e in events],
                         [(c["kind"], c["id"], c["seq"]) for c in log])
        self.assert_stream_converges(watcher, since, self.head(), log)
        # The restarted relay serves agents too.
        status, _, _ = api(self.relays[1], self.token, "GET",
                           "/api/v1/sync?since=" + cursor)
        self.assertEqual(status, 200)

    def test_3_replies_through_both_go_out_once_within_the_rate(self):
        convs = []
        for i in range(100):
            doc = self.sim.control("POST", "inbound", {
                "number": R.MAIN, "from": customer(1000 + i),
                "name": "Customer %d" % i, "text": "hi"})
            self.assertEqual(doc["relay_status"], 200, doc)
            m = R.wait_for(lambda: self.relays[0].message(doc["wamid"]),
                           timeout=DEADLINE, what="the inbound message")
            convs.append(m["conversation_id"])
        self.sim.control("POST", "reset")
        texts = []
        for k in range(5):
            for i, conv in enumerate(convs):
                text = "reply %d to %d" % (k, i)
                texts.append(text)
                status, _, answer = api(
                    self.front, self.token, "POST",
                    "/api/v1/conversations/%d/messages" % conv,
                    {"type": "text", "text": text})
                self.assertEqual(status, 201, answer)
        R.wait_for(lambda: self.sim.control("GET", "stats")[
            "sends_accepted"] >= 500, timeout=DEADLINE * 2,
            what="500 sends at the simulator")
        sent = self.sim.control("GET", "sent")
        bodies = [x["text"] for x in sent if x.get("type") == "text"]
        self.assertEqual(sorted(bodies), sorted(texts))
        at = sorted(x["received_at"] for x in sent)
        j = 0
        for i in range(len(at)):
            while at[i] - at[j] >= 1.0:
                j += 1
            self.assertLessEqual(i - j + 1, RATE,
                                 "more than %d sends in a second" % RATE)
        self.assertEqual(self.sim.control("GET", "stats")["sends_refused"],
                         0)

    def test_4_postgres_away_means_5xx_then_everything_once(self):
        bodies, wamids = [], []
        for i in range(120):
            body, wamid = text_webhook(customer(2000 + i % 20), "pg %d" % i)
            bodies.append(body)
            wamids.append(wamid)
        feeder = Feeder(self.front, list(bodies))
        feeder.start()
        try:
            R.wait_for(lambda: feeder.acked >= 30 or feeder.error,
                       timeout=DEADLINE, what="load before the stop")
            self.pg.halt()
            # While it is away a webhook is refused, never acknowledged:
            # 5xx from a relay, and HAProxy, seeing /healthz fail, stops
            # sending it there at all.
            body, wamid = text_webhook(customer(2100), "while away")
            for r in self.relays:
                status, _, _ = r.post_webhook(body)
                self.assertGreaterEqual(status, 500)
            self.assertNotEqual(self.front.post(body), 200)
            wamids.append(wamid)
            self.pg.resume()
            self.front.deliver(body)
        finally:
            feeder.join(timeout=DEADLINE * 2)
        if feeder.error is not None:
            raise feeder.error
        self.assertEqual(feeder.acked, 120)
        for r in self.relays:
            self.assertIsNone(r.proc.poll(), "a relay exited")
        self.wamids_stored_once(wamids)

    def test_5_presence_and_mentions_reach_agents_on_the_other_relay(self):
        r1, r2 = self.relays
        doc = self.sim.control("POST", "inbound", {
            "number": R.MAIN, "from": customer(3000), "name": "Presence",
            "text": "hi"})
        conv = R.wait_for(lambda: r1.message(doc["wamid"]),
                          timeout=DEADLINE, what="the message")[
                              "conversation_id"]
        bob = self.stream(r2, None, self.bob)

        def event(stream, kind, pred=lambda d: True):
            got = stream.until(lambda e: e["event"] == kind and
                               pred(json.loads(e["data"])),
                               timeout=DEADLINE)[-1]
            return json.loads(got["data"])

        def presence():
            status, _, doc = api(r2, self.bob, "GET", "/api/v1/presence")
            self.assertEqual(status, 200, doc)
            return doc

        alice = self.stream(r1, None)
        on = event(bob, "online", lambda d: d["agent"] == "alice")
        self.assertTrue(on["online"])
        self.assertIn("alice", [a["agent"] for a in presence()["online"]])
        # Presence said on one relay is seen on the other.
        status, _, _ = api(r1, self.token, "POST", "/api/v1/presence",
                           {"conversation_id": conv, "state": "typing"})
        self.assertEqual(status, 204)
        p = event(bob, "presence", lambda d: d["agent"] == "alice")
        self.assertEqual((p["conversation_id"], p["state"]),
                         (conv, "typing"))
        self.assertIn(("alice", conv, "typing"),
                      [(x["agent"], x["conversation_id"], x["state"])
                       for x in presence()["presence"]])
        # A mention written through one relay reaches the agent's stream
        # on the other.
        status, _, note = api(r1, self.token, "POST",
                              "/api/v1/conversations/%d/notes" % conv,
                              {"body": "@bob have a look"})
        self.assertEqual(status, 201, note)
        m = event(bob, "mention")
        self.assertEqual(m["note_id"], note["id"])
        # alice's relay dies: she is offline and idle there within three
        # heartbeats, as nobody said goodbye.
        alice.close()
        r1.kill()
        try:
            off = event(bob, "online", lambda d: d["agent"] == "alice" and
                        not d["online"])
            self.assertFalse(off["online"])
            self.assertNotIn("alice", [a["agent"] for a in
                                       presence()["online"]])
            self.assertEqual(presence()["presence"], [])
        finally:
            r1.start()
            self.balancer.wait_up("r1", "r2")


if __name__ == "__main__":
    unittest.main()
