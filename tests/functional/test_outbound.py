"""The outbound sender end to end: the real glivi-relay sends agents'
replies to glivi-sim, the Cloud API simulator, over HTTPS, and the
simulator posts the status webhooks back to the relay.

Every test checks both sides: what the relay's store holds for the message
(its wamid, status and failure) and what the simulator accepted
(/_sim/sent, /_sim/stats). Covered: a text inside the window coming back
read; the window closed (text refused by the API before Meta is called, a
template sent); transient refusals retried until accepted once; permanent
refusals (synchronous and as a failed status); a send whose answer never
comes, which is never sent again and is settled by its status webhooks;
the per-customer pair limit (bursts of 12 and of 50 replies to one
customer: each sent once, in order, never past the pair budget); queued
messages surviving a relay restart while Meta is unreachable; Meta
restarting between two sends.

Each test starts its own relay and simulator and stops both. The relay
needs the simulator's port in its config (graph_url) and the simulator
needs the relay's (--webhook-url): a free port is bound first for the
simulator, the relay is started with it, then the simulator on it (a few
tries if the port was taken meanwhile). Every wait is on a condition with
a deadline; nothing asserts on latency.
"""
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
import test_sim as S  # noqa: E402
from apiclient import api  # noqa: E402

DEADLINE = 20.0
BIND_TRIES = 5

# Small values keep the suite fast. No test but the pair-limit ones sends
# a customer more than pair_burst messages at once.
OUTBOUND = {
    "rate": "50",
    "pair_burst": "5",
    "pair_interval": "1s",
    "max_attempts": "4",
    "request_timeout": "2s",
    "ambiguous_timeout": "5s",
}

_serial = [0]


def customer():
    """A wa_id no other test of this run uses."""
    _serial[0] += 1
    return "49171%07d" % (os.getpid() % 10000 * 100 + _serial[0])


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_for(cond, what, timeout=DEADLINE):
    return R.wait_for(cond, timeout=timeout, what=what)


class Pair:
    """A relay and a simulator pointed at each other, with an agent."""

    def __init__(self, certs, outbound=None, sim_extra=(), relay_kw=None):
        self.certs = certs
        self.sim_extra = list(sim_extra)
        self.outbound = dict(OUTBOUND)
        self.outbound.update(outbound or {})
        self.relay = None
        self.sim = None
        self.sim_port = None
        self.simdir = tempfile.mkdtemp(prefix="glivi-outbound-sim-")
        self.token_file = os.path.join(self.simdir, "access_token")
        R.write_secret(self.token_file, S.TOKEN)
        self.relay = R.Relay(certs=certs, extra=self._extra(0),
                             **(relay_kw or {}))

    def _extra(self, port):
        """The [meta] keys the relay's own writer leaves out (a second
        [meta] section is merged into the first) and [outbound]."""
        return ("[meta]\naccess_token_file = %s\n"
                "graph_url = https://localhost:%d\ngraph_version = v25.0\n\n"
                "[outbound]\nca_file = %s\n%s\n"
                % (self.token_file, port, self.certs[0],
                   "".join("%s = %s\n" % kv
                           for kv in self.outbound.items())))

    def _point_relay_at(self, port):
        with open(self.relay.config) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^graph_url = https://localhost:\d+$",
                          "graph_url = https://localhost:%d" % port, text)
        assert n == 1, "graph_url not found in the relay's config"
        with open(self.relay.config, "w") as f:
            f.write(text)
        self.sim_port = port

    def start(self):
        """Starts the relay, then the simulator on the port the relay was
        told; retries with another port if that one was taken."""
        log = os.path.join(self.simdir, "sim.log")
        for attempt in range(BIND_TRIES):
            self._point_relay_at(free_port())
            self.relay.start()
            seen = os.path.getsize(log) if os.path.exists(log) else 0
            try:
                self.start_sim()
                break
            except AssertionError:
                sim, self.sim = self.sim, None
                if sim is not None:
                    sim.stop()  # reaps it, or stops one that did start
                with open(log, "rb") as f:
                    f.seek(seen)
                    taken = b"cannot serve on" in f.read()
                self.relay.stop()
                if not taken or attempt == BIND_TRIES - 1:
                    raise
        self.agent = self.relay.cli("agent", "add", "alice").stdout \
            .decode().strip()
        assert self.agent
        return self

    def start_sim(self, extra=()):
        """A simulator on sim_port posting to the running relay."""
        sim = S.Sim(self.simdir, self.certs,
                    "https://localhost:%d/webhook" % self.relay.port,
                    extra=self.sim_extra + list(extra))
        i = sim.args.index("--listen")
        sim.args[i + 1] = "127.0.0.1:%d" % self.sim_port
        self.sim = sim
        sim.start()
        assert sim.port == self.sim_port, (sim.port, self.sim_port)
        return sim

    def stop_sim(self):
        sim, self.sim = self.sim, None
        if sim is not None:
            rc = sim.stop()
            assert rc == 0, "glivi-sim exited %s:\n%s" % (rc,
                                                         sim.read_log())

    def restart_relay(self):
        rc = self.relay.stop()
        assert rc == 0, "the relay exited %s on SIGTERM" % rc
        self.relay.start()

    def close(self):
        """Stops both (the simulator first, so its last status webhooks
        can still land), then removes their files. Raises if either did
        not exit 0."""
        errors = []
        try:
            self.stop_sim()
        except AssertionError as e:
            errors.append(str(e))
        if self.relay is not None:
            try:
                rc = self.relay.stop()
                if rc not in (0, None):
                    errors.append("the relay exited %s on SIGTERM:\n%s"
                                  % (rc, self.relay.read_log()))
            except AssertionError as e:
                errors.append(str(e))
            self.relay.close()
        shutil.rmtree(self.simdir, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))

    # -- the simulator -----------------------------------------------------
    def control(self, method, what, body=None):
        return self.sim.control(method, what, body)

    def sent(self):
        return self.control("GET", "sent")

    def stats(self):
        return self.control("GET", "stats")

    def inject(self, error, recipient, **kw):
        body = {"error": error, "recipient": recipient}
        body.update(kw)
        return self.control("POST", "inject", body)

    def customer_writes(self, wa_id, text="hi", ts=None):
        """A customer message through the simulator (its window opens
        there, and the relay gets the conversation); returns the
        conversation id."""
        body = {"number": R.MAIN, "from": wa_id, "name": "Customer",
                "text": text}
        if ts is not None:
            body["timestamp"] = ts
        doc = self.control("POST", "inbound", body)
        assert doc["relay_status"] == 200, doc
        m = self.relay.message(doc["wamid"])
        assert m is not None, doc
        return m["conversation_id"]

    # -- the relay -----------------------------------------------------------
    def send(self, conv, body):
        """Queues a message through the agent API; returns (status,
        answer)."""
        status, _, answer = api(self.relay, self.agent, "POST",
                                "/api/v1/conversations/%d/messages" % conv,
                                body)
        return status, answer

    def queue(self, conv, body):
        status, answer = self.send(conv, body)
        assert status == 201, (status, answer)
        assert answer["status"] == "queued", answer
        return answer["id"]

    def message(self, id):
        return self.relay.entity("message", id)

    def wait_message(self, id, pred, what):
        def cond():
            m = self.message(id)
            return m if pred(m) else None
        try:
            return wait_for(cond, what)
        except AssertionError:
            raise AssertionError("%s; the message is %r" % (
                what, self.message(id)))


def opaque(id):
    return "glivi:%d" % id


class OutboundCase(unittest.TestCase):
    """Certificates shared by the class; a relay and a simulator per
    test."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="glivi-outbound-test-")
        cls.certs = R.make_certs(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def pair(self, **kw):
        p = Pair(self.certs, **kw)
        self.addCleanup(p.close)
        return p.start()

    def ended(self, states):
        return lambda m: m["status"] in states

    def assertSentOnce(self, p, id, **want):
        """The simulator accepted exactly one send carrying this
        message's biz_opaque_callback_data; returns it."""
        mine = [s for s in p.sent()
                if s["biz_opaque_callback_data"] == opaque(id)]
        self.assertEqual(len(mine), 1, mine)
        for k, v in want.items():
            self.assertEqual(mine[0][k], v, mine[0])
        return mine[0]

    def assertQuiet(self, p):
        """Every status webhook the simulator owed the relay landed."""
        wait_for(lambda: p.stats()["webhooks_pending"] == 0,
                 "the simulator's status webhooks to be posted")
        st = p.stats()
        self.assertEqual(st["webhooks_failed"], 0, st)
        self.assertEqual(st["webhooks_dropped"], 0, st)
        return st


class Outbound(OutboundCase):

    def test_1_text_in_window_ends_read(self):
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        id = p.queue(conv, {"type": "text", "text": "Your order shipped"})
        m = p.wait_message(id, self.ended({"read"}), "the reply to be read")

        s = self.assertSentOnce(p, id, to=wa_id, type="text",
                                text="Your order shipped",
                                outcome="accepted")
        self.assertEqual(s["request"]["text"], {"body": "Your order shipped"})
        self.assertEqual(s["request"]["messaging_product"], "whatsapp")
        self.assertEqual(m["wamid"], s["wamid"])
        self.assertEqual(m["direction"], "out")
        self.assertIsNone(m["failure"])
        self.assertEqual(p.relay.message(s["wamid"])["id"], id)
        st = self.assertQuiet(p)
        self.assertEqual(st["sends_accepted"], 1, st)
        self.assertEqual(st["sends_refused"], 0, st)
        # The change log holds the message once, in its final state, and
        # no stand-in for the wamid (the status webhooks found it).
        msgs = [c["data"] for c in p.relay.changes()
                if c["kind"] == "message" and c["data"] is not None
                and c["data"]["direction"] == "out"]
        self.assertEqual([(x["id"], x["wamid"], x["status"]) for x in msgs],
                         [(id, s["wamid"], "read")])

    def test_2_window_closed_text_refused_template_sent(self):
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id, ts=int(time.time()) - 25 * 3600)
        before = p.stats()
        status, err = p.send(conv, {"type": "text", "text": "too late"})
        self.assertEqual(status, 422, err)
        self.assertEqual(err["error"]["code"], "window_closed", err)

        id = p.queue(conv, {"type": "template", "template": {
            "name": "order_update", "language": "en_US",
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Ana"},
                {"type": "text", "text": "A-1001"}]}]}})
        m = p.wait_message(id, self.ended({"delivered", "read"}),
                           "the template to be delivered")
        s = self.assertSentOnce(p, id, to=wa_id, type="template",
                                outcome="accepted")
        t = s["request"]["template"]
        self.assertEqual(t["name"], "order_update")
        self.assertEqual(t["language"], {"code": "en_US"})
        self.assertEqual(
            [x["text"] for x in t["components"][0]["parameters"]],
            ["Ana", "A-1001"])
        self.assertEqual(m["wamid"], s["wamid"])
        self.assertIsNone(m["failure"])
        # The refused text never reached the simulator.
        self.assertEqual([x for x in p.sent() if x["type"] == "text"], [])
        st = self.assertQuiet(p)
        self.assertEqual(st["sends_accepted"],
                         before["sends_accepted"] + 1, st)
        self.assertEqual(st["sends_refused"], before["sends_refused"], st)
        self.assertEqual(p.message(id)["status"], "read")

    def test_3_transient_refusals_retried_sent_once(self):
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        p.inject("http_429", wa_id)
        p.inject("server_error", wa_id)
        self.assertEqual(p.stats()["injections_pending"], 2)
        id = p.queue(conv, {"type": "text", "text": "retried"})
        m = p.wait_message(id, self.ended({"read"}),
                           "the retried reply to be read")
        s = self.assertSentOnce(p, id, text="retried", outcome="accepted")
        self.assertEqual(m["wamid"], s["wamid"])
        st = self.assertQuiet(p)
        self.assertEqual(st["sends_refused"], 2, st)
        self.assertEqual(st["injections_pending"], 0, st)
        self.assertEqual(st["sends_accepted"], 1, st)
        self.assertEqual(len(p.sent()), 1)

    def test_3b_retry_reason_cleared_once_sent(self):
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        p.inject("http_429", wa_id)
        id = p.queue(conv, {"type": "text", "text": "second try"})
        m = p.wait_message(id, self.ended({"read"}),
                           "the retried reply to be read")
        self.assertSentOnce(p, id, outcome="accepted")
        self.assertEqual(p.stats()["sends_refused"], 1)
        self.assertIsNone(m["failure"], m)

    def test_4a_refused_by_meta_fails(self):
        """A template Meta does not know (132001) is refused at once:
        failed with Meta's code, no wamid, not retried."""
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        id = p.queue(conv, {"type": "template", "template": {
            "name": "no_such_template", "language": "en_US"}})
        m = p.wait_message(id, self.ended({"failed"}),
                           "the refused template to fail")
        self.assertEqual(m["failure"]["code"], 132001, m)
        self.assertEqual(m["failure"]["http_status"], 400, m)
        self.assertTrue(m["failure"]["fbtrace_id"], m)
        self.assertIsNone(m["wamid"])
        self.assertEqual(p.sent(), [])
        st = p.stats()
        self.assertEqual(st["sends_refused"], 1, st)
        self.assertEqual(st["sends_accepted"], 0, st)

    def test_4b_undeliverable_fails_with_code(self):
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        p.inject("undeliverable", wa_id)
        id = p.queue(conv, {"type": "text", "text": "nobody home"})
        m = p.wait_message(id, self.ended({"failed"}),
                           "the undeliverable reply to fail")
        s = self.assertSentOnce(p, id, outcome="undeliverable")
        self.assertEqual(m["wamid"], s["wamid"])
        self.assertEqual(m["failure"]["code"], 131026, m)
        st = self.assertQuiet(p)
        self.assertEqual(st["sends_accepted"], 1, st)
        self.assertEqual(p.message(id)["status"], "failed")

    def test_4c_window_closed_at_meta_fails(self):
        """Meta's synchronous 131047 (injected) is permanent."""
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        p.inject("window_closed", wa_id)
        id = p.queue(conv, {"type": "text", "text": "refused"})
        m = p.wait_message(id, self.ended({"failed"}),
                           "the refused reply to fail")
        self.assertEqual(m["failure"]["code"], 131047, m)
        self.assertIsNone(m["wamid"])
        self.assertEqual(p.sent(), [])
        self.assertEqual(p.stats()["sends_refused"], 1)

    def test_5_timeout_after_accept_never_resent(self):
        # This simulator posts no status on its own (--delays -1,-1,-1):
        # the test posts them once the relay has given up on its request,
        # so the ambiguous state is seen for certain, not by timing.
        p = self.pair(sim_extra=["--delays", "-1,-1,-1"])
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        p.inject("timeout_after_accept", wa_id)
        a = p.queue(conv, {"type": "text", "text": "answer lost"})
        wait_for(lambda: len(p.sent()) == 1, "the send to be accepted")
        s = self.assertSentOnce(p, a, text="answer lost",
                                outcome="timeout_after_accept")
        # The relay's request times out (request_timeout) and it says so;
        # the message stays 'sending', without a wamid, not queued again.
        lost = "message %d may have been sent" % a
        wait_for(lambda: lost in p.relay.read_log() or
                 p.message(a)["status"] != "sending",
                 "the relay's request to time out")
        m = p.message(a)
        self.assertEqual((m["status"], m["wamid"]), ("sending", None), m)
        self.assertIn(lost, p.relay.read_log())

        # Meta's statuses echo biz_opaque_callback_data: the first one
        # gives the message its wamid.
        for status in ("sent", "delivered", "read"):
            doc = p.control("POST", "status", {"wamid": s["wamid"],
                                               "status": status})
            self.assertEqual(doc["relay_status"], 200, doc)
        m = p.message(a)
        self.assertEqual((m["status"], m["wamid"]), ("read", s["wamid"]), m)
        self.assertEqual(p.relay.message(s["wamid"])["id"], a)

        # A witness that ambiguous_timeout has passed for the first
        # message: a second one, held by the simulator longer than any
        # timeout here and never accepted, is settled "may not have been
        # sent". It went out after the first, so its deadline is later.
        p.inject("slow", wa_id, ms=600000)
        b = p.queue(conv, {"type": "text", "text": "held"})
        mb = p.wait_message(b, self.ended({"failed"}),
                            "the unanswered send to be settled")
        self.assertEqual(mb["failure"]["code"], "unknown", mb)
        self.assertIsNone(mb["wamid"])
        self.assertIn("message %d may have been sent" % b,
                      p.relay.read_log())

        # Neither was sent again; the first kept its wamid and status.
        self.assertEqual([x["biz_opaque_callback_data"] for x in p.sent()],
                         [opaque(a)])
        st = p.stats()
        self.assertEqual(st["sends_accepted"], 1, st)
        self.assertEqual(st["sends_refused"], 0, st)
        m = p.message(a)
        self.assertEqual((m["status"], m["wamid"]), ("read", s["wamid"]), m)

    def test_5b_statuses_before_the_lost_answer(self):
        """The held send's statuses come (at the simulator's default
        delays) while the relay still waits for the answer: they claim
        the message; the timeout that follows changes nothing."""
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        p.inject("timeout_after_accept", wa_id)
        a = p.queue(conv, {"type": "text", "text": "early statuses"})
        m = p.wait_message(a, self.ended({"read"}),
                           "the held send to be claimed by its statuses")
        s = self.assertSentOnce(p, a, outcome="timeout_after_accept")
        self.assertEqual(m["wamid"], s["wamid"])
        wait_for(lambda: "message %d may have been sent" % a in
                 p.relay.read_log(), "the relay's request to time out")
        self.assertQuiet(p)
        m = p.message(a)
        self.assertEqual((m["status"], m["wamid"]), ("read", s["wamid"]), m)
        self.assertEqual(len(p.sent()), 1)
        self.assertEqual(p.stats()["sends_accepted"], 1)

    def burst(self, n, burst, interval):
        """Queues n replies to one customer at once; checks that all went
        out exactly once, in order, within the pair budget, paced by the
        relay rather than refused by Meta."""
        p = self.pair(outbound={"pair_burst": str(burst),
                                "pair_interval": "%ds" % interval})
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        ids = [p.queue(conv, {"type": "text", "text": "part %d" % i})
               for i in range(1, n + 1)]
        wait_for(lambda: len(p.sent()) >= n, "all %d sends" % n,
                 timeout=DEADLINE + n * interval)
        for id in ids:
            p.wait_message(id, self.ended({"delivered", "read"}),
                           "message %d to be delivered" % id)
        sent = p.sent()
        self.assertEqual([x["text"] for x in sent],
                         ["part %d" % i for i in range(1, n + 1)])
        self.assertEqual([x["biz_opaque_callback_data"] for x in sent],
                         [opaque(i) for i in ids])
        self.assertEqual([x["to"] for x in sent], [wa_id] * n)
        for id, x in zip(ids, sent):
            self.assertEqual(p.message(id)["wamid"], x["wamid"])
        # The simulator's own clock. The budget is a bucket of burst
        # sends refilled one per interval, so sends i..j (any run of
        # them) may number at most burst plus what refilled between the
        # two: j - i + 1 <= burst + (t_j - t_i) / interval. The slack
        # covers jitter between the relay's clock and the simulator's.
        at = [x["received_at"] for x in sent]
        self.assertEqual(at, sorted(at))
        slack = 0.15 * interval
        for i in range(n):
            for j in range(i, n):
                self.assertLessEqual(
                    j - i + 1, burst + (at[j] - at[i] + slack) / interval,
                    "sends %d..%d: %r" % (i, j, at))
        # So no window of one interval holds more than the burst and the
        # one send refilled in it; and once the burst is spent the sends
        # are spaced by the interval.
        for i, t in enumerate(at):
            inside = [u for u in at if t <= u < t + interval - slack]
            self.assertLessEqual(len(inside), burst + 1,
                                 "send %d: %r" % (i, at))
        for k in range(burst + 1, n):
            self.assertGreaterEqual(at[k] - at[k - 1], interval - slack,
                                    "send %d: %r" % (k, at))
        # Paced by the relay, not refused by Meta's 131056.
        self.assertEqual(p.stats()["sends_refused"], 0)

    def test_6_pair_limit_spaces_a_burst(self):
        self.burst(12, 5, 1)

    def test_6c_fifty_replies_to_one_customer_keep_the_pair_limit(self):
        # Meta's pair budget (45 at once, then one per interval); the
        # interval shortened from 6 s so the test takes seconds.
        self.burst(50, 45, 1)

    def test_6b_pair_limit_does_not_hold_up_other_customers(self):
        p = self.pair(outbound={"pair_burst": "1", "pair_interval": "1s"})
        a, b = customer(), customer()
        conv_a = p.customer_writes(a)
        conv_b = p.customer_writes(b)
        for i in range(20):
            p.queue(conv_a, {"type": "text", "text": "a%d" % i})
        other = p.queue(conv_b, {"type": "text", "text": "b"})
        wait_for(lambda: any(x["biz_opaque_callback_data"] == opaque(other)
                             for x in p.sent()),
                 "the other customer's reply to be sent")
        order = [x["text"] for x in p.sent()]
        # Customer a's messages go one per second (burst 1); b's reply
        # was queued right after the first went out and owes nothing to
        # a's pair budget, so at most a0 and a1 may precede it.
        self.assertLessEqual(order.index("b"), 2, order)

    def test_7_queued_messages_survive_restart(self):
        # More attempts than the test needs: three failed connections
        # before the restart must not exhaust them.
        p = self.pair(outbound={"max_attempts": "8"})
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        p.stop_sim()
        ids = [p.queue(conv, {"type": "text", "text": "queued %d" % i})
               for i in range(1, 4)]
        # The first is tried and put back: connection refused, nothing
        # went out, so it is queued for a retry, not left 'sending'. The
        # others keep their order behind it, untried.
        p.wait_message(
            ids[0], lambda m: m["status"] == "queued" and
            m["failure"] is not None, "the first message to fail its "
            "first try")
        for id in ids[1:]:
            m = p.message(id)
            self.assertEqual((m["status"], m["failure"]), ("queued", None))
        p.restart_relay()
        # A fresh simulator has never heard from the customer: treat
        # every window as open.
        p.start_sim(["--all-windows-open"])
        for id in ids:
            p.wait_message(id, self.ended({"read"}),
                           "message %d to be read after the restart" % id)
        sent = p.sent()
        # In the order the agent wrote them.
        self.assertEqual([x["text"] for x in sent],
                         ["queued 1", "queued 2", "queued 3"])
        for id in ids:
            s = self.assertSentOnce(p, id, to=wa_id, outcome="accepted")
            self.assertEqual(p.message(id)["wamid"], s["wamid"])
        st = self.assertQuiet(p)
        self.assertEqual(st["sends_accepted"], 3, st)

    def test_8_simulator_restart_between_sends(self):
        """Meta going away under a kept-alive connection is not an
        ambiguous send: the next message goes out once, normally."""
        p = self.pair()
        wa_id = customer()
        conv = p.customer_writes(wa_id)
        first = p.queue(conv, {"type": "text", "text": "before"})
        p.wait_message(first, self.ended({"read"}), "the first to be read")
        p.stop_sim()
        p.start_sim(["--all-windows-open"])
        second = p.queue(conv, {"type": "text", "text": "after"})
        m = p.wait_message(second, self.ended({"read"}),
                           "the second to be read")
        s = self.assertSentOnce(p, second, text="after", outcome="accepted")
        self.assertEqual(m["wamid"], s["wamid"])
        self.assertEqual(len(p.sent()), 1)
        self.assertNotIn("message %d may have been sent" % second,
                         p.relay.read_log())


if __name__ == "__main__":
    unittest.main()
