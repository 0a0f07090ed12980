"""glivi-sim, the Cloud API simulator, as a relay sees it: the Graph API
answers (Meta's success and error shapes), the status webhooks it posts
(signed, in order, echoing biz_opaque_callback_data, retried until
acknowledged), each injected error answered exactly once, a held request
that the client gives up on, the 24-hour window, simulated customers, the
templates list, and a clean stop.

A small HTTPS server in this process stands in for the relay: it checks
each webhook's X-Hub-Signature-256 and records it. Sim and Receiver are
importable by tests that run the real relay against the simulator.
"""
import hashlib
import hmac
import http.client
import http.server
import json
import os
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
import relay as R  # noqa: E402

SIM = os.path.join(R.BUILD, "glivi-sim")
TOKEN = "sim-access-token-\u00e9".encode()  # non-ASCII on purpose
WABA = "102290129340398"
DISPLAY = "15550783881"
SECOND_DISPLAY = "15550783882"
REENGAGEMENT = ("Message failed to send because more than 24 hours have "
                "passed since the customer last replied to this number.")
_serial = [0]


def customer():
    """A wa_id no other test uses."""
    _serial[0] += 1
    return "49170%07d" % (os.getpid() % 10000 * 100 + _serial[0])


class Receiver:
    """The relay's /webhook, over HTTPS, on a free port. fail_next makes
    the next N posts answer 503."""

    def __init__(self, cert, key, secret=R.APP_SECRET):
        self.cond = threading.Condition()
        self.hooks = []
        self.fail_next = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                sig = self.headers.get("X-Hub-Signature-256") or ""
                want = "sha256=" + hmac.new(secret, body,
                                            hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(sig, want)
                with outer.cond:
                    if not ok:
                        status = 401
                    elif outer.fail_next > 0:
                        outer.fail_next -= 1
                        status = 503
                    else:
                        status = 200
                    try:
                        doc = json.loads(body)
                    except ValueError:
                        doc = None
                    outer.hooks.append({
                        "path": self.path, "body": body, "json": doc,
                        "signed": ok, "answered": status,
                        "content_type": self.headers.get("Content-Type"),
                        "at": time.monotonic()})
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True

        self.server = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://localhost:%d/webhook" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="webhook-receiver")
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=30)

    def wait(self, pred, what, count=1, timeout=10.0):
        """Waits until count recorded webhooks satisfy pred; returns
        them in arrival order."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [h for h in self.hooks if pred(h)]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting for %d %s; "
                                         "have %d" % (count, what, len(got)))
                self.cond.wait(left)

    def matching(self, pred):
        with self.cond:
            return [h for h in self.hooks if pred(h)]


def statuses(hook):
    """The statuses[] of a recorded webhook (all entries and changes)."""
    out = []
    for e in (hook["json"] or {}).get("entry", []):
        for c in e.get("changes", []):
            out.extend(c.get("value", {}).get("statuses", []))
    return out


def about(wamid, status=None):
    """A predicate: a webhook carrying a status of this wamid."""
    return lambda h: any(s.get("id") == wamid and
                         (status is None or s.get("status") == status)
                         for s in statuses(h))


class Sim:
    """One glivi-sim process with its own files."""

    def __init__(self, d, certs, webhook_url=None, extra=()):
        self.dir = d
        self.ca, self.cert, self.key = certs
        self.token_file = os.path.join(d, "sim_token")
        self.secret_file = os.path.join(d, "sim_app_secret")
        R.write_secret(self.token_file, TOKEN)
        R.write_secret(self.secret_file, R.APP_SECRET)
        self.ready = os.path.join(d, "sim.ready")
        self.log = os.path.join(d, "sim.log")
        self.args = [SIM, "serve", "--listen", "127.0.0.1:0",
                     "--ready-file", self.ready,
                     "--tls-cert", self.cert, "--tls-key", self.key,
                     "--access-token-file", self.token_file,
                     "--number", R.MAIN + ":" + DISPLAY,
                     "--number", R.SECOND + ":" + SECOND_DISPLAY,
                     "--waba-id", WABA, "--log-level", "debug"]
        if webhook_url:
            self.args += ["--webhook-url", webhook_url,
                          "--webhook-cacert", self.ca,
                          "--app-secret-file", self.secret_file]
        self.args += list(extra)
        self.proc = None
        self.port = None
        self.logf = None

    def start(self):
        self.proc, self.logf, self.port = R.start_program(
            self.args, self.ready, self.log, "glivi-sim")
        return self

    def stop(self, sig=signal.SIGTERM):
        rc = R.stop_program(self.proc, self.logf, sig, "glivi-sim")
        self.proc = None
        return rc

    def read_log(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def connection(self, timeout=10):
        ctx = ssl.create_default_context(cafile=self.ca)
        return http.client.HTTPSConnection("localhost", self.port,
                                           timeout=timeout, context=ctx)

    def request(self, method, path, body=None, token=TOKEN, timeout=10,
                headers=None):
        """Returns (status, parsed JSON body or raw bytes)."""
        h = {}
        if token is not None:
            h["Authorization"] = b"Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, raw

    def send(self, body, number=R.MAIN, version="v25.0", **kw):
        return self.request("POST", "/%s/%s/messages" % (version, number),
                            body, **kw)

    def control(self, method, what, body=None):
        status, doc = self.request(method, "/_sim/" + what, body,
                                   token=None)
        if status != 200:
            raise AssertionError("/_sim/%s: HTTP %d %r" % (what, status,
                                                           doc))
        return doc


def text(to, body="hello", **extra):
    b = {"messaging_product": "whatsapp", "recipient_type": "individual",
         "to": to, "type": "text", "text": {"body": body}}
    b.update(extra)
    return b


class SimCase(unittest.TestCase):
    """One simulator and one receiver for the class; each test resets the
    simulator's counters and uses customers of its own."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="glivi-sim-test-")
        cls.certs = R.make_certs(cls.dir)
        cls.receiver = Receiver(cls.certs[1], cls.certs[2])
        cls.sim = Sim(cls.dir, cls.certs, cls.receiver.url)
        try:
            cls.sim.start()
        except Exception:
            cls.receiver.close()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.sim.stop()
            if rc != 0:
                raise AssertionError("glivi-sim exited %s on SIGTERM:\n%s"
                                     % (rc, cls.sim.read_log()))
        finally:
            cls.receiver.close()
            shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        # Statuses still due from the test before would land in this
        # one's counters; let them go out first.
        R.wait_for(lambda: self.stats()["webhooks_pending"] == 0,
                   what="earlier webhooks to be posted")
        self.sim.control("POST", "reset")
        self.receiver.fail_next = 0

    def open_window(self, wa_id, number=R.MAIN):
        doc = self.sim.control("POST", "inbound", {
            "number": number, "from": wa_id, "name": "Window Opener",
            "text": "hi"})
        self.assertEqual(doc["relay_status"], 200, doc)
        return doc["wamid"]

    def stats(self):
        return self.sim.control("GET", "stats")

    def sent(self):
        return self.sim.control("GET", "sent")

    def assertMetaError(self, got, http, code, subcode=None, details=None):
        status, doc = got
        self.assertEqual(status, http, doc)
        self.assertIsInstance(doc, dict, doc)
        e = doc["error"]
        self.assertEqual(e["code"], code, doc)
        self.assertIsInstance(e["message"], str)
        self.assertIsInstance(e["type"], str)
        self.assertTrue(e["fbtrace_id"], doc)
        if subcode is not None:
            self.assertEqual(e.get("error_subcode"), subcode, doc)
        if details is not None:
            self.assertIn(details, e["error_data"]["details"], doc)
        return e

    def assertAccepted(self, got, to, template=False):
        status, doc = got
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["messaging_product"], "whatsapp")
        self.assertEqual(doc["contacts"], [{"input": to,
                                            "wa_id": to.lstrip("+")}])
        self.assertEqual(len(doc["messages"]), 1)
        wamid = doc["messages"][0]["id"]
        self.assertTrue(wamid.startswith("wamid.SIM"), wamid)
        if template:
            self.assertEqual(doc["messages"][0]["message_status"],
                             "accepted")
        else:
            self.assertNotIn("message_status", doc["messages"][0])
        return wamid


class TestSends(SimCase):

    def test_text_send__answers_meta_shape_and_posts_signed_statuses_in_order(
            self):
        to = customer()
        self.open_window(to)
        wamid = self.assertAccepted(self.sim.send(text(
            "+" + to, "Your order shipped",
            biz_opaque_callback_data="glivi:42")), "+" + to)
        hooks = self.receiver.wait(about(wamid), "statuses", count=3)
        got = [s for h in hooks for s in statuses(h) if s["id"] == wamid]
        self.assertEqual([s["status"] for s in got],
                         ["sent", "delivered", "read"])
        for h in hooks:
            self.assertTrue(h["signed"])
            self.assertEqual(h["path"], "/webhook")
            self.assertEqual(h["content_type"], "application/json")
            doc = h["json"]
            self.assertEqual(doc["object"], "whatsapp_business_account")
            self.assertEqual(doc["entry"][0]["id"], WABA)
            change = doc["entry"][0]["changes"][0]
            self.assertEqual(change["field"], "messages")
            self.assertEqual(change["value"]["metadata"], {
                "display_phone_number": DISPLAY,
                "phone_number_id": R.MAIN})
        for s in got:
            self.assertEqual(s["recipient_id"], to)
            self.assertEqual(s["biz_opaque_callback_data"], "glivi:42")
            self.assertIsInstance(s["timestamp"], str)
            self.assertTrue(s["timestamp"].isdigit())
            self.assertNotIn("errors", s)
        self.assertEqual(got[0]["conversation"]["origin"]["type"], "service")
        self.assertEqual(got[0]["pricing"], {
            "billable": False, "pricing_model": "PMP",
            "type": "free_customer_service", "category": "service"})
        self.assertNotIn("conversation", got[2])
        # Recorded once, with what tests need to assert on.
        sent = self.sent()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["wamid"], wamid)
        self.assertEqual(sent[0]["number"], R.MAIN)
        self.assertEqual(sent[0]["to"], "+" + to)
        self.assertEqual(sent[0]["type"], "text")
        self.assertEqual(sent[0]["text"], "Your order shipped")
        self.assertEqual(sent[0]["biz_opaque_callback_data"], "glivi:42")
        self.assertEqual(sent[0]["outcome"], "accepted")
        self.assertIsInstance(sent[0]["received_at"], (int, float))
        st = self.stats()
        self.assertEqual(st["sends_accepted"], 1)
        self.assertEqual(st["sends_refused"], 0)
        # The inbound message and three statuses.
        R.wait_for(lambda: self.stats()["webhooks_posted"] >= 4,
                   what="the posted counter")
        # The log never holds the text or the token.
        log = self.sim.read_log()
        self.assertNotIn("Your order shipped", log)
        self.assertNotIn(TOKEN.decode(), log)

    def test_every_send_type__is_accepted_in_meta_shape(self):
        to = customer()
        inbound = self.open_window(to)
        bodies = [
            {"type": "text", "text": {"body": "x" * 4096,
                                      "preview_url": True}},
            # 2048 emoji are 4096 UTF-16 units: exactly the limit.
            {"type": "text", "text": {"body": "\U0001F600" * 2048}},
            {"text": {"body": "type defaults to text"}},
            {"type": "reaction", "reaction": {"message_id": inbound,
                                              "emoji": "\U0001F44D"}},
            {"type": "reaction", "reaction": {"message_id": inbound,
                                              "emoji": ""}},
            {"type": "image", "image": {"id": "1479537139650973",
                                        "caption": "c"}},
            {"type": "document", "document": {
                "link": "https://example.com/invoice.pdf",
                "filename": "invoice.pdf"}},
            {"type": "audio", "audio": {"id": "1"}},
            {"type": "video", "video": {"link": "https://example.com/v.mp4"}},
            {"type": "sticker", "sticker": {"id": "2"}},
            {"type": "interactive", "interactive": {
                "type": "button", "body": {"text": "Pick one"},
                "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "a", "title": "A"}},
                    {"type": "reply", "reply": {"id": "b", "title": "B"}}]}}},
            {"type": "interactive", "interactive": {
                "type": "list", "header": {"type": "text", "text": "H"},
                "body": {"text": "Which?"}, "action": {
                    "button": "Options", "sections": [{"title": "S", "rows": [
                        {"id": "r1", "title": "One", "description": "d"}]}]}}},
            {"type": "location", "location": {"latitude": 52.5,
                                              "longitude": 13.4}},
            {"type": "contacts", "contacts": [
                {"name": {"formatted_name": "Ada"}}]},
            {"type": "text", "text": {"body": "reply"},
             "context": {"message_id": inbound}},
        ]
        for extra in bodies:
            b = {"messaging_product": "whatsapp", "to": to}
            b.update(extra)
            with self.subTest(body=json.dumps(b)[:80]):
                self.assertAccepted(self.sim.send(b), to)
        tmpl = {"messaging_product": "whatsapp", "to": to,
                "type": "template", "template": {
                    "name": "order_update", "language": {"code": "en_US"},
                    "components": [{"type": "body", "parameters": [
                        {"type": "text", "text": "Sheena"},
                        {"type": "text", "text": "5531"}]}]}}
        self.assertAccepted(self.sim.send(tmpl), to, template=True)
        self.assertEqual(len(self.sent()), len(bodies) + 1)
        self.assertEqual(self.sent()[-2]["context_message_id"], inbound)

    def test_reaction__gets_only_a_sent_status(self):
        to = customer()
        inbound = self.open_window(to)
        wamid = self.assertAccepted(self.sim.send({
            "messaging_product": "whatsapp", "to": to, "type": "reaction",
            "reaction": {"message_id": inbound, "emoji": "\u2764"}}), to)
        self.receiver.wait(about(wamid, "sent"), "the sent status")
        # A later text's read status proves the reaction's turn is over.
        later = self.assertAccepted(self.sim.send(text(to)), to)
        self.receiver.wait(about(later, "read"), "the text's read status")
        self.assertEqual(len(self.receiver.matching(about(wamid))), 1)

    def test_bsuid_recipient__answers_user_id_and_statuses_carry_it(self):
        bsuid = "US.%d" % (13491208655302741918 + os.getpid() * 1000 +
                           len(self.sent()))
        doc = self.sim.control("POST", "inbound", {
            "user_id": bsuid, "name": "No Phone", "text": "hi"})
        self.assertEqual(doc["relay_status"], 200)
        status, ans = self.sim.send({
            "messaging_product": "whatsapp", "recipient": bsuid,
            "type": "text", "text": {"body": "hi back"}})
        self.assertEqual(status, 200, ans)
        self.assertEqual(ans["contacts"], [{"input": bsuid,
                                            "user_id": bsuid}])
        wamid = ans["messages"][0]["id"]
        hook = self.receiver.wait(about(wamid, "sent"), "sent")[0]
        s = [s for s in statuses(hook) if s["id"] == wamid][0]
        self.assertEqual(s["recipient_user_id"], bsuid)
        self.assertNotIn("recipient_id", s)

    def test_wrong_or_missing_token__is_401_code_190(self):
        to = customer()
        for token in (None, b"wrong", TOKEN + b"x", TOKEN[:-1]):
            with self.subTest(token=token):
                e = self.assertMetaError(self.sim.send(text(to),
                                                       token=token),
                                         401, 190)
                self.assertEqual(e["message"], "Invalid OAuth access token "
                                 "- Cannot parse access token")
                self.assertEqual(e["type"], "OAuthException")
        self.assertMetaError(self.sim.request(
            "GET", "/v25.0/%s/message_templates" % WABA, token=b"no"),
            401, 190)
        self.assertEqual(self.stats()["sends_refused"], 4)
        self.assertEqual(self.sent(), [])

    def test_bad_bodies__are_400_with_meta_codes_and_nothing_is_sent(self):
        to = customer()
        self.open_window(to)
        base = {"messaging_product": "whatsapp", "to": to}

        def with_(**kw):
            b = dict(base)
            b.update(kw)
            return b
        cases = [
            ({"to": to, "type": "text", "text": {"body": "x"}}, 100,
             "messaging_product is required"),
            (with_(messaging_product="sms", type="text",
                   text={"body": "x"}), 100, "messaging_product"),
            (b"not json", 100, "not a JSON object"),
            (b"[1,2]", 100, "not a JSON object"),
            ({"messaging_product": "whatsapp", "type": "text",
              "text": {"body": "x"}}, 100, "parameter to is required"),
            (with_(to="12ab34", type="text", text={"body": "x"}), 131009,
             "to:"),
            (with_(type="text", text={"body": "x" * 4097}), 100,
             "at most 4096"),
            (with_(type="text", text={"body": "\U0001F600" * 2048 + "x"}),
             100, "at most 4096"),
            (with_(type="text", text={"body": ""}), 100, "at least 1"),
            (with_(type="text", text={}), 131008, "text['body']"),
            (with_(type="text"), 131008, "parameter text is required"),
            (with_(type="text", text={"body": "x", "preview_url": "yes"}),
             100, "preview_url"),
            (with_(type="image", image={"id": "1",
                                        "link": "https://x/y.jpg"}),
             131009, "exactly one of id or link"),
            (with_(type="image", image={"caption": "c"}), 131008,
             "one of id or link"),
            (with_(type="audio", audio={"id": "1", "caption": "c"}), 131009,
             "caption"),
            (with_(type="document", document={"link": "ftp://x/y"}), 131009,
             "http(s)"),
            (with_(type="hologram", hologram={}), 100,
             "Param type must be one of"),
            (with_(type="reaction", reaction={"emoji": "x"}), 131008,
             "reaction['message_id']"),
            (with_(type="template", template={"name": "order_update"}),
             131008, "template['language']"),
            (with_(type="template", template={
                "name": "no_such", "language": {"code": "en_US"}}),
             132001, "no_such"),
            (with_(type="template", template={
                "name": "order_update", "language": {"code": "fr"}}),
             132001, "fr"),
            (with_(type="template", template={
                "name": "order_update", "language": {"code": "en_US"}}),
             132000, "(0)"),
            (with_(type="interactive", interactive={
                "type": "button", "body": {"text": "b"}, "action": {
                    "buttons": [{"type": "reply", "reply": {
                        "id": str(i), "title": str(i)}} for i in range(4)]}}),
             131009, "1 to 3 buttons"),
            (with_(type="interactive", interactive={
                "type": "list", "action": {}}), 131008,
             "interactive['body']"),
            (with_(type="interactive", interactive={
                "type": "carousel", "body": {"text": "b"}}), 100,
             "interactive['type']"),
            (with_(type="text", text={"body": "x"}, context={}), 131008,
             "context['message_id']"),
            (with_(type="text", text={"body": "x"},
                   biz_opaque_callback_data="o" * 513), 100,
             "biz_opaque_callback_data"),
            (with_(type="text", text={"body": "x"},
                   recipient_type="group"), 100, "recipient_type"),
        ]
        for body, code, details in cases:
            with self.subTest(body=body if isinstance(body, bytes) else
                              json.dumps(body)[:100]):
                self.assertMetaError(self.sim.send(body), 400, code,
                                     details=details)
        self.assertMetaError(self.sim.send(text(to), number="999"), 400,
                             100, subcode=33)
        self.assertMetaError(self.sim.send(text(to), version="latest"), 400,
                             2500)
        self.assertEqual(self.sent(), [])
        self.assertEqual(self.stats()["sends_refused"], len(cases) + 1)

    def test_mark_read__answers_success_and_is_counted(self):
        to = customer()
        inbound = self.open_window(to)
        for extra in ({}, {"typing_indicator": {"type": "text"}}):
            body = {"messaging_product": "whatsapp", "status": "read",
                    "message_id": inbound}
            body.update(extra)
            status, doc = self.sim.send(body)
            self.assertEqual((status, doc), (200, {"success": True}))
        self.assertMetaError(self.sim.send({
            "messaging_product": "whatsapp", "status": "read"}), 400, 131008)
        self.assertMetaError(self.sim.send({
            "messaging_product": "whatsapp", "status": "delivered",
            "message_id": inbound}), 400, 100)
        self.assertEqual(self.stats()["mark_read"], 2)
        reads = self.sim.control("GET", "read")
        self.assertEqual([(r["message_id"], r["typing_indicator"])
                          for r in reads],
                         [(inbound, False), (inbound, True)])
        self.assertEqual(self.sent(), [])

    def test_templates_list__is_meta_shaped(self):
        status, doc = self.sim.request(
            "GET", "/v25.0/%s/message_templates" % WABA)
        self.assertEqual(status, 200, doc)
        by = {(t["name"], t["language"]): t for t in doc["data"]}
        self.assertIn(("hello_world", "en_US"), by)
        order = by[("order_update", "en_US")]
        self.assertEqual(order["status"], "APPROVED")
        self.assertIn(order["category"], ("UTILITY", "MARKETING",
                                          "AUTHENTICATION"))
        body = [c for c in order["components"] if c["type"] == "BODY"][0]
        self.assertIn("{{1}}", body["text"])
        self.assertIn("{{2}}", body["text"])
        self.assertNotIn("{{3}}", body["text"])
        for t in doc["data"]:
            self.assertEqual(t["status"], "APPROVED")
            self.assertTrue(t["id"])
        self.assertIn("paging", doc)
        status, doc = self.sim.request(
            "GET", "/v25.0/%s/message_templates?name=hello_world" % WABA)
        self.assertEqual([t["name"] for t in doc["data"]], ["hello_world"])
        self.assertMetaError(self.sim.request(
            "GET", "/v25.0/42/message_templates"), 400, 100, subcode=33)


class TestTemplateList(SimCase):
    """The template list is the simulator's to change: paged as Graph
    pages, sendable when approved, and a raw answer or an injected error
    on demand."""

    def page(self, query=""):
        return self.sim.request("GET", "/v25.0/%s/message_templates%s"
                                % (WABA, query))

    def test_paging__follows_cursors_and_ends_without_next(self):
        names = []
        status, doc = self.page("?limit=3")
        self.assertEqual(status, 200, doc)
        while True:
            names += [(t["name"], t["language"]) for t in doc["data"]]
            if "next" not in doc.get("paging", {}):
                break
            nxt = doc["paging"]["next"]
            self.assertIn("/v25.0/%s/message_templates?" % WABA, nxt)
            status, doc = self.page(
                "?limit=3&after=" + doc["paging"]["cursors"]["after"])
            self.assertEqual(status, 200, doc)
        self.assertEqual(len(names), 4)
        self.assertEqual(len(set(names)), 4)
        # A page cap set by the control API wins over a larger limit.
        listed = self.sim.control("GET", "templates")["templates"]
        self.sim.control("POST", "templates", {"templates": listed,
                                               "page_size": 1})
        status, doc = self.page("?limit=100")
        self.assertEqual(len(doc["data"]), 1)
        self.assertIn("next", doc["paging"])
        for q in ("?after=nonsense", "?after=SIMCUR99", "?limit=0",
                  "?limit=x"):
            self.assertMetaError(self.page(q), 400, 100)
        self.assertEqual(self.stats()["templates_served"], 7)
        self.assertEqual(self.stats()["sends_refused"], 0)

    def test_a_new_list__is_served_and_sendable_when_approved(self):
        to = customer()
        self.open_window(to)
        self.sim.control("POST", "templates", {"templates": [
            {"name": "parcel", "language": "en_US", "status": "APPROVED",
             "category": "MARKETING", "id": "7001",
             "components": [
                 {"type": "HEADER", "format": "TEXT", "text": "For {{1}}"},
                 {"type": "BODY", "text": "{{1}} ships {{2}}, {{1}}."}]},
            {"name": "paused", "language": "en_US", "status": "PAUSED",
             "category": "UTILITY", "id": "7002", "components": []}]})
        status, doc = self.page()
        self.assertEqual([t["id"] for t in doc["data"]], ["7001", "7002"])

        def tmpl(name, body=0, header=0):
            comps = []
            if header:
                comps.append({"type": "header", "parameters": [
                    {"type": "text", "text": "h"}] * header})
            if body:
                comps.append({"type": "body", "parameters": [
                    {"type": "text", "text": "b"}] * body})
            return {"messaging_product": "whatsapp", "to": to,
                    "type": "template", "template": {
                        "name": name, "language": {"code": "en_US"},
                        "components": comps}}
        self.assertAccepted(self.sim.send(tmpl("parcel", 2, 1)), to,
                            template=True)
        self.assertMetaError(self.sim.send(tmpl("parcel", 3, 1)), 400,
                             132000)
        self.assertMetaError(self.sim.send(tmpl("parcel", 2, 0)), 400,
                             132000)
        self.assertMetaError(self.sim.send(tmpl("paused")), 400, 132001)
        self.assertMetaError(self.sim.send(tmpl("hello_world")), 400,
                             132001)
        self.assertEqual(self.sent()[0]["template"], "parcel")
        # Reset brings the default list back.
        self.sim.control("POST", "reset")
        status, doc = self.page()
        self.assertEqual(len(doc["data"]), 4)

    def test_raw_answers_and_injections__apply_to_list_reads(self):
        self.sim.control("POST", "templates", {"raw": "not json",
                                               "status": 200, "count": 2,
                                               "pad": 10})
        for _ in range(2):
            status, doc = self.page()
            self.assertEqual((status, doc), (200, b"not json" + b" " * 10))
        status, doc = self.page()
        self.assertEqual(len(doc["data"]), 4)
        status, doc = self.sim.request("POST", "/_sim/inject", {
            "error": "server_error", "on": "templates",
            "number": R.MAIN}, token=None)
        self.assertEqual(status, 400, doc)
        self.sim.control("POST", "inject", {"error": "server_error",
                                            "on": "templates"})
        to = customer()
        self.open_window(to)
        self.assertAccepted(self.sim.send(text(to)), to)  # not for sends
        self.assertMetaError(self.page(), 500, 2)
        status, doc = self.page()
        self.assertEqual(status, 200)
        st = self.stats()
        self.assertEqual((st["templates_served"], st["sends_refused"]),
                         (5, 0), st)

    def test_bad_template_lists__are_refused(self):
        for body in ({}, {"templates": "x"}, {"templates": [1]},
                     {"templates": [{"name": "a"}]},
                     {"templates": [{"name": "a", "language": "en",
                                     "status": "APPROVED", "category": "U",
                                     "id": 7, "components": []}]},
                     {"templates": [{"name": "a", "language": "en",
                                     "status": "APPROVED", "category": "U",
                                     "id": "7", "components": {}}]},
                     {"templates": [], "page_size": -1},
                     {"templates": [], "raw": "x"},
                     {"raw": 5}, {"raw": "x", "status": 42},
                     {"raw": "x", "count": 0}):
            with self.subTest(body=body):
                status, doc = self.sim.request("POST", "/_sim/templates",
                                               body, token=None)
                self.assertEqual(status, 400, doc)
        self.assertEqual(len(self.page()[1]["data"]), 4)


class TestInjections(SimCase):

    EXPECTED = [
        # (injection, HTTP status, code, subcode)
        ({"error": "rate_limit"}, 400, 130429, None),
        ({"error": "pair_rate_limit"}, 400, 131056, None),
        ({"error": "server_error"}, 500, 2, None),
        ({"error": "server_error", "code": 131016}, 500, 131016, None),
        ({"error": "http_429"}, 429, 4, None),
        ({"error": "window_closed"}, 400, 131047, None),
        ({"error": "token_expired"}, 401, 190, 463),
    ]

    def test_each_injected_error__answers_exactly_once_then_normally(self):
        to = customer()
        self.open_window(to)
        for inj, http, code, sub in self.EXPECTED:
            with self.subTest(injection=inj):
                doc = self.sim.control("POST", "inject", inj)
                self.assertEqual(doc["pending"], 1)
                self.assertMetaError(self.sim.send(text(to)), http, code,
                                     subcode=sub)
                self.assertAccepted(self.sim.send(text(to)), to)
                self.assertEqual(self.stats()["injections_pending"], 0)
        st = self.stats()
        self.assertEqual(st["sends_refused"], len(self.EXPECTED))
        self.assertEqual(st["sends_accepted"], len(self.EXPECTED))
        self.assertEqual(len(self.sent()), len(self.EXPECTED))

    def test_window_closed_injection__carries_metas_details(self):
        to = customer()
        self.open_window(to)
        self.sim.control("POST", "inject", {"error": "window_closed"})
        e = self.assertMetaError(self.sim.send(text(to)), 400, 131047)
        self.assertEqual(e["error_data"]["details"], REENGAGEMENT)

    def test_count_and_fifo_and_matching__apply_in_order(self):
        a, b = customer(), customer()
        self.open_window(a)
        self.open_window(b)
        self.sim.control("POST", "inject", {"error": "rate_limit",
                                            "recipient": a, "count": 2})
        self.sim.control("POST", "inject", {"error": "http_429"})
        self.sim.control("POST", "inject", {"error": "pair_rate_limit",
                                            "number": R.SECOND})
        # b does not match the first injection: it gets the second.
        self.assertMetaError(self.sim.send(text(b)), 429, 4)
        self.assertMetaError(self.sim.send(text("+" + a)), 400, 130429)
        self.assertMetaError(self.sim.send(text(a)), 400, 130429)
        self.assertAccepted(self.sim.send(text(a)), a)
        # Only sends from the second number meet the last one.
        self.open_window(a, number=R.SECOND)
        self.assertMetaError(self.sim.send(text(a), number=R.SECOND), 400,
                             131056)
        self.assertAccepted(self.sim.send(text(a), number=R.SECOND), a)
        self.assertEqual(self.stats()["injections_pending"], 0)

    def test_injections_skip_bad_requests_and_reset_clears_them(self):
        to = customer()
        self.open_window(to)
        self.sim.control("POST", "inject", {"error": "rate_limit"})
        # A refused request does not use up the injection.
        self.assertMetaError(self.sim.send(text(to), token=b"x"), 401, 190)
        self.assertMetaError(self.sim.send({"to": to}), 400, 100)
        self.assertMetaError(self.sim.send(text(to)), 400, 130429)
        self.sim.control("POST", "inject", {"error": "rate_limit",
                                            "count": 5})
        self.sim.control("POST", "reset")
        st = self.stats()
        for k in ("sends_accepted", "sends_refused", "mark_read",
                  "injections_pending"):
            self.assertEqual(st[k], 0, k)
        self.assertEqual(self.sent(), [])
        self.assertAccepted(self.sim.send(text(to)), to)

    def test_bad_injections__are_refused(self):
        for body in ({"error": "nope"}, {}, {"error": "slow", "ms": -5},
                     {"error": "rate_limit", "count": 0},
                     {"error": "rate_limit", "number": "123"},
                     {"error": "rate_limit", "code": 2},
                     {"error": "rate_limit", "on": "everything"}):
            with self.subTest(body=body):
                status, doc = self.sim.request("POST", "/_sim/inject", body,
                                               token=None)
                self.assertEqual(status, 400, doc)
                self.assertIn("message", doc["error"])
        self.assertEqual(self.stats()["injections_pending"], 0)

    def test_slow__answers_after_the_delay(self):
        to = customer()
        self.open_window(to)
        self.sim.control("POST", "inject", {"error": "slow", "ms": 600})
        t0 = time.monotonic()
        self.assertAccepted(self.sim.send(text(to)), to)
        self.assertGreaterEqual(time.monotonic() - t0, 0.55)
        t0 = time.monotonic()
        self.assertAccepted(self.sim.send(text(to)), to)
        self.assertLess(time.monotonic() - t0, 0.5)

    def test_timeout_after_accept__client_times_out_yet_message_went_out(
            self):
        to = customer()
        self.open_window(to)
        self.sim.control("POST", "inject", {"error": "timeout_after_accept"})
        conn = self.sim.connection(timeout=1)
        t0 = time.monotonic()
        try:
            conn.request("POST", "/v25.0/%s/messages" % R.MAIN,
                         body=json.dumps(text(to, "held",
                                              biz_opaque_callback_data=
                                              "glivi:held")),
                         headers={"Authorization": b"Bearer " + TOKEN,
                                  "Content-Type": "application/json"})
            with self.assertRaises((socket.timeout, TimeoutError)):
                conn.getresponse()
        finally:
            conn.close()
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        sent = self.sent()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["outcome"], "timeout_after_accept")
        self.assertEqual(sent[0]["biz_opaque_callback_data"], "glivi:held")
        wamid = sent[0]["wamid"]
        hooks = self.receiver.wait(about(wamid), "statuses", count=3)
        got = [s for h in hooks for s in statuses(h) if s["id"] == wamid]
        self.assertEqual([s["status"] for s in got],
                         ["sent", "delivered", "read"])
        self.assertEqual({s["biz_opaque_callback_data"] for s in got},
                         {"glivi:held"})
        self.assertEqual(self.stats()["sends_accepted"], 1)
        # The simulator noticed the client leave and answers normally.
        self.assertAccepted(self.sim.send(text(to)), to)
        R.wait_for(lambda: "closed the held request" in self.sim.read_log(),
                   what="the held request to be closed")

    def test_undeliverable__accepts_then_fails_with_131026(self):
        to = customer()
        self.open_window(to)
        self.sim.control("POST", "inject", {"error": "undeliverable"})
        wamid = self.assertAccepted(self.sim.send(text(
            to, biz_opaque_callback_data="glivi:u")), to)
        hook = self.receiver.wait(about(wamid, "failed"), "failed")[0]
        s = [s for s in statuses(hook) if s["id"] == wamid][0]
        self.assertEqual(s["errors"][0]["code"], 131026)
        self.assertEqual(s["biz_opaque_callback_data"], "glivi:u")
        later = self.assertAccepted(self.sim.send(text(to)), to)
        self.receiver.wait(about(later, "read"), "the next send's read")
        self.assertEqual(self.receiver.matching(about(wamid, "sent")), [])

    def test_mark_read_injection__applies_only_when_asked(self):
        to = customer()
        inbound = self.open_window(to)
        read = {"messaging_product": "whatsapp", "status": "read",
                "message_id": inbound}
        self.sim.control("POST", "inject", {"error": "server_error",
                                            "on": "mark_read"})
        self.assertAccepted(self.sim.send(text(to)), to)
        self.assertMetaError(self.sim.send(read), 500, 2)
        self.assertEqual(self.sim.send(read), (200, {"success": True}))


class TestWindowAndCustomers(SimCase):

    def test_send_outside_the_window__is_accepted_then_fails_131047(self):
        to = customer()
        wamid = self.assertAccepted(self.sim.send(text(
            to, biz_opaque_callback_data="glivi:w")), to)
        hook = self.receiver.wait(about(wamid, "failed"), "failed")[0]
        self.assertTrue(hook["signed"])
        s = [s for s in statuses(hook) if s["id"] == wamid][0]
        self.assertEqual(s["errors"][0]["code"], 131047)
        self.assertEqual(s["errors"][0]["title"], "Re-engagement message")
        self.assertEqual(s["errors"][0]["message"], "Re-engagement message")
        self.assertEqual(s["errors"][0]["error_data"]["details"],
                         REENGAGEMENT)
        self.assertEqual(s["biz_opaque_callback_data"], "glivi:w")
        self.assertEqual(self.sent()[0]["outcome"], "window_closed")
        # A template may go out anyway; a utility template outside the
        # window is billable.
        tmpl = self.assertAccepted(self.sim.send({
            "messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": "hello_world",
                         "language": {"code": "en_US"}}}), to, template=True)
        hooks = self.receiver.wait(about(tmpl), "template statuses", 3)
        got = [s for h in hooks for s in statuses(h) if s["id"] == tmpl]
        self.assertEqual([s["status"] for s in got],
                         ["sent", "delivered", "read"])
        self.assertEqual(got[0]["pricing"]["category"], "utility")
        self.assertTrue(got[0]["pricing"]["billable"])
        self.assertEqual(self.receiver.matching(about(wamid, "sent")), [])

    def test_window__opens_on_inbound_and_closes_by_age_or_control(self):
        to = customer()
        # A message 25 hours old does not open the window.
        old = int(time.time()) - 25 * 3600
        doc = self.sim.control("POST", "inbound", {
            "from": to, "text": "old", "timestamp": old})
        self.assertEqual(doc["relay_status"], 200)
        w1 = self.assertAccepted(self.sim.send(text(to)), to)
        self.receiver.wait(about(w1, "failed"), "failed")
        doc = self.sim.control("POST", "window", {"customer": to,
                                                  "open": True})
        self.assertTrue(doc["open"])
        w2 = self.assertAccepted(self.sim.send(text(to)), to)
        self.receiver.wait(about(w2, "read"), "read")
        doc = self.sim.control("POST", "window", {"customer": to,
                                                  "open": False})
        self.assertFalse(doc["open"])
        w3 = self.assertAccepted(self.sim.send(text(to)), to)
        self.receiver.wait(about(w3, "failed"), "failed")
        # Windows are per business number.
        self.open_window(to, number=R.SECOND)
        w4 = self.assertAccepted(self.sim.send(text(to)), to)
        self.receiver.wait(about(w4, "failed"), "failed")

    def test_inbound__posts_a_signed_cloud_api_envelope(self):
        to = customer()
        doc = self.sim.control("POST", "inbound", {
            "number": R.SECOND, "from": to, "name": "Sheena Nelson",
            "text": "Hi, where is order 5531? \u00e9\U0001F600",
            "context": "wamid.SIMquoted"})
        self.assertEqual(doc["relay_status"], 200, doc)
        wamid = doc["wamid"]
        self.assertTrue(wamid.startswith("wamid.SIMIN"), wamid)
        hook = self.receiver.wait(
            lambda h: wamid.encode() in h["body"], "the inbound webhook")[0]
        self.assertTrue(hook["signed"])
        env = hook["json"]
        self.assertEqual(env["object"], "whatsapp_business_account")
        self.assertEqual(len(env["entry"]), 1)
        self.assertEqual(env["entry"][0]["id"], WABA)
        change = env["entry"][0]["changes"][0]
        self.assertEqual(change["field"], "messages")
        v = change["value"]
        self.assertEqual(v["messaging_product"], "whatsapp")
        self.assertEqual(v["metadata"], {
            "display_phone_number": SECOND_DISPLAY,
            "phone_number_id": R.SECOND})
        self.assertEqual(v["contacts"], [{"profile": {"name":
                                                      "Sheena Nelson"},
                                          "wa_id": to}])
        m = v["messages"][0]
        self.assertEqual(m["from"], to)
        self.assertEqual(m["id"], wamid)
        self.assertEqual(m["type"], "text")
        self.assertEqual(m["text"]["body"],
                         "Hi, where is order 5531? \u00e9\U0001F600")
        self.assertEqual(m["context"], {"from": SECOND_DISPLAY,
                                        "id": "wamid.SIMquoted"})
        self.assertTrue(m["timestamp"].isdigit())
        self.assertLess(abs(int(m["timestamp"]) - time.time()), 60)
        self.assertEqual(self.stats()["inbound_posted"], 1)

    def test_inbound_kinds__build_cloud_api_messages(self):
        to = customer()
        cases = [
            ({"type": "image", "caption": "look"}, "image",
             lambda o: o["mime_type"] == "image/jpeg" and o["id"].isdigit()
             and o["sha256"] and o["caption"] == "look"),
            ({"type": "audio", "voice": True}, "audio",
             lambda o: o["voice"] is True),
            ({"type": "document", "filename": "a.pdf"}, "document",
             lambda o: o["filename"] == "a.pdf"),
            ({"type": "reaction", "message_id": "wamid.X"}, "reaction",
             lambda o: o == {"message_id": "wamid.X"}),
            ({"type": "reaction", "message_id": "wamid.X",
              "emoji": "\U0001F44D"}, "reaction",
             lambda o: o["emoji"] == "\U0001F44D"),
            ({"type": "location", "latitude": 1.5, "longitude": 2.5,
              "place": "Shop"}, "location",
             lambda o: o["latitude"] == 1.5 and o["name"] == "Shop"),
            ({"type": "interactive", "reply_id": "yes", "text": "Yes"},
             "interactive",
             lambda o: o["button_reply"] == {"id": "yes", "title": "Yes"}),
            ({"type": "button", "text": "Stop promos"}, "button",
             lambda o: o["text"] == "Stop promos"),
        ]
        for extra, kind, check in cases:
            with self.subTest(kind=extra):
                body = {"from": to}
                body.update(extra)
                doc = self.sim.control("POST", "inbound", body)
                self.assertEqual(doc["relay_status"], 200, doc)
                hook = self.receiver.wait(
                    lambda h: doc["wamid"].encode() in h["body"], "it")[0]
                m = hook["json"]["entry"][0]["changes"][0]["value"][
                    "messages"][0]
                self.assertEqual(m["type"], kind)
                self.assertTrue(check(m[kind]), m)
        # A raw message goes as given.
        raw = {"from": to, "id": "wamid.RAW%d" % os.getpid(),
               "timestamp": "1785312000", "type": "unsupported",
               "unsupported": {"type": "poll_update"},
               "errors": [{"code": 131051, "title": "Message type unknown"}]}
        doc = self.sim.control("POST", "inbound", {"message": raw})
        self.assertEqual(doc["wamid"], raw["id"])
        hook = self.receiver.wait(lambda h: raw["id"].encode() in h["body"],
                                  "the raw message")[0]
        self.assertEqual(hook["json"]["entry"][0]["changes"][0]["value"][
            "messages"], [raw])
        for bad in ({"text": "no sender"}, {"from": "+49x", "text": "t"},
                    {"from": to, "type": "poll"},
                    {"from": to, "type": "text"},
                    {"from": to, "text": "t", "number": "1"}):
            with self.subTest(bad=bad):
                status, _ = self.sim.request("POST", "/_sim/inbound", bad,
                                             token=None)
                self.assertEqual(status, 400)

    def test_inbound__reports_what_the_relay_answered(self):
        to = customer()
        self.receiver.fail_next = 1
        doc = self.sim.control("POST", "inbound", {"from": to, "text": "x"})
        self.assertEqual(doc["relay_status"], 503)
        self.assertEqual(self.stats()["webhooks_failed"], 1)

    def test_status_webhooks__are_retried_until_acknowledged(self):
        to = customer()
        self.open_window(to)
        self.receiver.fail_next = 2
        wamid = self.assertAccepted(self.sim.send(text(to)), to)
        self.receiver.wait(lambda h: about(wamid)(h) and
                           h["answered"] == 200, "acknowledged statuses",
                           count=3)
        self.assertEqual(len(self.receiver.matching(
            lambda h: about(wamid)(h) and h["answered"] == 503)), 2)
        st = self.stats()
        self.assertEqual(st["webhooks_failed"], 2)
        self.assertEqual(st["webhooks_dropped"], 0)

    def test_extra_status__is_posted_for_a_recorded_send(self):
        to = customer()
        self.open_window(to)
        wamid = self.assertAccepted(self.sim.send(text(
            to, biz_opaque_callback_data="glivi:x")), to)
        self.receiver.wait(about(wamid, "read"), "read")
        doc = self.sim.control("POST", "status", {"wamid": wamid,
                                                  "status": "read"})
        self.assertEqual(doc["relay_status"], 200)
        doc = self.sim.control("POST", "status", {
            "wamid": wamid, "status": "failed", "error_code": 131049})
        self.assertEqual(doc["relay_status"], 200)
        reads = self.receiver.wait(about(wamid, "read"), "two reads", 2)
        s = [s for s in statuses(reads[1]) if s["id"] == wamid][0]
        self.assertEqual(s["biz_opaque_callback_data"], "glivi:x")
        failed = self.receiver.wait(about(wamid, "failed"), "failed")[0]
        self.assertEqual(statuses(failed)[0]["errors"][0]["code"], 131049)
        status, _ = self.sim.request("POST", "/_sim/status", {
            "wamid": "wamid.nope", "status": "read"}, token=None)
        self.assertEqual(status, 404)


class TestProcess(unittest.TestCase):
    """Start-up refusals, delays, and stopping with webhooks pending."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="glivi-sim-proc-")
        cls.certs = R.make_certs(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_sim(self, *args):
        return subprocess.run([SIM] + list(args), capture_output=True,
                              timeout=30)

    def test_version_and_help(self):
        r = self.run_sim("--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"glivi-sim "))
        r = self.run_sim("--help")
        self.assertEqual(r.returncode, 0)
        for opt in (b"--listen", b"--ready-file", b"--tls-cert",
                    b"--tls-key", b"--plain-http", b"--access-token-file",
                    b"--app-secret-file", b"--webhook-url",
                    b"--webhook-cacert", b"--number", b"--waba-id",
                    b"--delays"):
            self.assertIn(opt, r.stdout)

    def test_bad_setups__are_refused_with_a_reason(self):
        token = os.path.join(self.dir, "tok")
        loose = os.path.join(self.dir, "loose")
        R.write_secret(token, TOKEN)
        R.write_secret(loose, TOKEN, mode=0o644)
        cases = [
            (["--plain-http", "--listen", "0.0.0.0:0",
              "--access-token-file", token], b"loopback"),
            (["--plain-http"], b"--access-token-file"),
            (["--plain-http", "--access-token-file", loose], b"0644"),
            (["--access-token-file", token], b"--tls-cert"),
            (["--plain-http", "--access-token-file", token,
              "--webhook-url", "https://localhost:1/webhook"],
             b"--app-secret-file"),
            (["--plain-http", "--access-token-file", token,
              "--app-secret-file", token,
              "--webhook-url", "http://example.com/webhook"], b"loopback"),
            (["--plain-http", "--access-token-file", token,
              "--delays", "1,2"], b"--delays"),
            (["--plain-http", "--access-token-file", token,
              "--number", "12ab"], b"--number"),
            (["--plain-http", "--access-token-file", token, "--bogus"],
             b"bogus"),
        ]
        for args, why in cases:
            with self.subTest(args=args):
                r = self.run_sim("serve", *args)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(why, r.stderr)

    def test_delays__pace_statuses_and_minus_one_leaves_one_out(self):
        d = tempfile.mkdtemp(prefix="s", dir=self.dir)
        receiver = Receiver(self.certs[1], self.certs[2])
        sim = Sim(d, self.certs, receiver.url,
                  extra=["--delays", "-1,300,0", "--all-windows-open"])
        try:
            sim.start()
            to = customer()
            t0 = time.monotonic()
            wamid = self.accept(sim, to)
            hooks = receiver.wait(about(wamid), "two statuses", count=2)
            got = [s["status"] for h in hooks for s in statuses(h)]
            # read at 0 ms, delivered at 300 ms, sent never.
            self.assertEqual(got, ["read", "delivered"])
            self.assertGreaterEqual(hooks[1]["at"] - t0, 0.25)
            self.assertEqual(receiver.matching(about(wamid, "sent")), [])
        finally:
            rc = sim.stop()
            receiver.close()
        self.assertEqual(rc, 0)

    def accept(self, sim, to):
        status, doc = sim.send(text(to))
        self.assertEqual(status, 200, doc)
        return doc["messages"][0]["id"]

    def test_sigterm__flushes_pending_webhooks_and_exits_zero(self):
        d = tempfile.mkdtemp(prefix="s", dir=self.dir)
        receiver = Receiver(self.certs[1], self.certs[2])
        sim = Sim(d, self.certs, receiver.url,
                  extra=["--delays", "60000,60000,60000",
                         "--all-windows-open"])
        try:
            sim.start()
            wamid = self.accept(sim, customer())
            t0 = time.monotonic()
            rc = sim.stop()
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t0, 10)
            # The three statuses due in a minute went out at the stop.
            self.assertEqual(len(receiver.matching(about(wamid))), 3)
            self.assertIn("stopped", sim.read_log())
        finally:
            sim.stop()
            receiver.close()

    def test_sigterm__drops_what_an_absent_relay_cannot_take(self):
        d = tempfile.mkdtemp(prefix="s", dir=self.dir)
        # Nothing listens there: every post fails at once.
        sim = Sim(d, self.certs, "https://localhost:1/webhook",
                  extra=["--all-windows-open"])
        try:
            sim.start()
            self.accept(sim, customer())
            t0 = time.monotonic()
            self.assertEqual(sim.stop(signal.SIGINT), 0)
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            sim.stop()

    def test_sigterm__is_bounded_when_the_relay_hangs(self):
        d = tempfile.mkdtemp(prefix="s", dir=self.dir)
        # A listener that never accepts: connections complete in the
        # kernel, then nothing ever answers.
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)
        sim = Sim(d, self.certs, "https://localhost:%d/webhook" %
                  hole.getsockname()[1],
                  extra=["--all-windows-open", "--delays", "0,0,0"])
        try:
            sim.start()
            self.accept(sim, customer())
            R.wait_for(lambda: sim.control("GET", "stats")[
                "webhooks_pending"] == 3, what="the statuses to be queued")
            t0 = time.monotonic()
            self.assertEqual(sim.stop(), 0)
            self.assertLess(time.monotonic() - t0, 6)
            self.assertIn("stopped", sim.read_log())
        finally:
            sim.stop()
            hole.close()

    def test_plain_http_on_loopback__serves(self):
        d = tempfile.mkdtemp(prefix="s", dir=self.dir)
        token = os.path.join(d, "tok")
        ready = os.path.join(d, "ready")
        R.write_secret(token, TOKEN)
        proc = subprocess.Popen([SIM, "serve", "--plain-http",
                                 "--access-token-file", token,
                                 "--ready-file", ready],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            R.wait_for(lambda: os.path.exists(ready) or
                       proc.poll() is not None, what="the ready file")
            with open(ready) as f:
                host, port = f.read().strip().rsplit(":", 1)
            self.assertEqual(host, "127.0.0.1")
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", "/_sim/stats")
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read())["sends_accepted"], 0)
            conn.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=30), 0)


if __name__ == "__main__":
    unittest.main()
