"""Erasure, export and the audit trail, against the real relay and real
glivi-tui clients.

The erasure test plants a unique marker in every kind of thing held about
one customer (a text, an uploaded media file, a note, two orders, a
reaction, a reply, a name, a draft), syncs two clients, erases the
contact through the API while one client is offline, and then searches
the bytes of every file of the relay and of both clients (databases,
WALs, media, logs) for the marker: it must be nowhere. A control contact
with a marker of its own must still be everywhere, which shows that the
search would have found it.
"""
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
from apiclient import api, stop_relay  # noqa: E402
from client import Client  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def marker(name):
    # Lower case: the clients' full-text index folds case, and the
    # search below must find the index's copy too.
    return "%s%s" % (name, os.urandom(6).hex())


def webhook(wa_id, name, messages=(), statuses=()):
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881",
                          "phone_number_id": R.MAIN}}
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages",
                                               "value": value}]}]}).encode()


def files_under(*dirs):
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in names:
                yield os.path.join(root, n)


def holding(needle, *dirs):
    """The files under dirs whose bytes contain needle."""
    needle = needle.encode()
    out = []
    for p in files_under(*dirs):
        try:
            with open(p, "rb") as f:
                if needle in f.read():
                    out.append(p)
        except OSError:
            pass
    return out


class Case(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="glivi-dp-test-")
        cls.certs = R.make_certs(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.relay = R.Relay(certs=self.certs)
        self.relay.start()
        self.addCleanup(stop_relay, self.relay)
        self.admin = self.relay.cli("agent", "add", "boss", "--role",
                                    "admin").stdout.decode().strip()
        self.agent = self.relay.cli("agent", "add",
                                    "alice").stdout.decode().strip()
        self.serial = 0

    def wamid(self):
        self.serial += 1
        return "wamid.DP-%d-%d-%d" % (os.getpid(), time.time_ns(),
                                      self.serial)

    def post(self, body):
        st, _, text = self.relay.post_webhook(body)
        self.assertEqual(st, 200, text)

    def call(self, method, path, body=None, token=None, want=None,
             headers=None):
        st, h, b = api(self.relay, token or self.agent, method, path, body,
                       headers)
        if want is not None:
            self.assertEqual(st, want, b)
        return st, h, b

    def live(self, kind):
        return [c["data"] for c in self.relay.changes()
                if c["kind"] == kind and not c["deleted"]]

    def client(self):
        c = Client("https://localhost:%d" % self.relay.port, self.agent,
                   ca_file=self.certs[0])
        c.extra = "[log]\nlevel = debug\n"
        c.write_config()
        self.addCleanup(c.close)
        return c

    def customer(self, wa_id, mark, with_media=True):
        """Everything a customer and the agents can leave about them, each
        carrying mark; returns (contact id, conversation id, ids)."""
        now = int(time.time())
        text_id, order_wamid = self.wamid(), self.wamid()
        self.post(webhook(wa_id, "Name " + mark, [
            {"from": wa_id, "id": text_id, "timestamp": str(now),
             "type": "text", "text": {"body": "hello " + mark}},
            {"from": wa_id, "id": order_wamid, "timestamp": str(now),
             "type": "order", "order": {
                 "catalog_id": "cat1", "text": "order " + mark,
                 "product_items": [{"product_retailer_id": "sku-" + mark,
                                    "quantity": 1, "item_price": 2,
                                    "currency": "EUR"}]}},
            {"from": wa_id, "id": self.wamid(), "timestamp": str(now + 1),
             "type": "reaction", "reaction": {"message_id": text_id,
                                              "emoji": "\U0001f44d"}}]))
        # A status for a message sent from elsewhere on the number: a
        # stand-in message and a status row.
        self.post(webhook(wa_id, None, statuses=[
            {"id": self.wamid(), "status": "delivered",
             "timestamp": str(now), "recipient_id": wa_id}]))
        ids = {"messages": [], "notes": [], "orders": []}
        msg = json.loads(self.relay.cli("inspect", "message",
                                        text_id).stdout)
        conv = msg["conversation_id"]
        contact = self.relay.entity("conversation", conv)["contact_id"]
        _, _, m = self.call("POST", "/api/v1/conversations/%d/messages"
                            % conv, {"type": "text",
                                     "text": "reply " + mark},
                            want=201, headers={"Idempotency-Key":
                                               "k-" + mark})
        ids["messages"].append(m["id"])
        if with_media:
            _, _, up = self.call("POST", "/api/v1/media",
                                 PNG + ("image " + mark).encode() * 50,
                                 headers={"Content-Type": "image/png"},
                                 want=201)
            self.call("POST", "/api/v1/conversations/%d/messages" % conv,
                      {"type": "image", "media": {"id": up["id"],
                                                  "caption": "pic"}},
                      want=201)
            ids["media"] = up["id"]
        _, _, n = self.call("POST", "/api/v1/conversations/%d/notes" % conv,
                            {"body": "note " + mark}, want=201,
                            headers={"Idempotency-Key": "n-" + mark})
        ids["notes"].append(n["id"])
        _, _, o = self.call("POST", "/api/v1/orders", {
            "contact_id": contact, "text": "api order " + mark,
            "items": [{"product_retailer_id": "sku-2", "quantity": 2,
                       "item_price": "7.99", "currency": "EUR"}]},
            want=201)
        ids["orders"].append(o["id"])
        self.call("PATCH", "/api/v1/contacts/%d" % contact,
                  {"attributes": {"note": "vip " + mark}}, want=200,
                  headers={"Idempotency-Key": "c-" + mark})
        return contact, conv, ids

    # -- erasure -------------------------------------------------------------
    def test_erasure_reaches_every_copy_and_the_offline_client(self):
        gone, kept = marker("zqxgone"), marker("zqxkept")
        wa_gone, wa_kept = "4917000%05d" % (os.getpid() % 100000), \
            "4917111%05d" % (os.getpid() % 100000)
        contact, conv, _ = self.customer(wa_gone, gone)
        self.customer(wa_kept, kept, with_media=False)
        online, offline = self.client(), self.client()
        online.sync()
        offline.sync()
        # The offline agent had started a reply (the screen's draft).
        work = [os.path.join(offline.cache_dir, f)
                for f in offline.cache_files() if f.endswith(".work.db")][0]
        db = sqlite3.connect(work)
        db.execute("INSERT INTO drafts VALUES(?, ?, ?)",
                   (conv, "draft " + gone, int(time.time())))
        db.commit()
        db.close()
        self.assertTrue(online.search(gone))
        for where in (self.relay.dir, online.dir, offline.dir):
            self.assertTrue(holding(gone, where), where)

        _, _, b = self.call("DELETE", "/api/v1/contacts/%d" % contact,
                            token=self.admin, want=200,
                            headers={"Idempotency-Key": "erase-1"})
        self.assertEqual((b["kind"], b["id"], b["deleted"]),
                         ("contact", contact, True))
        e = b["erased"]
        self.assertEqual((e["contacts"], e["conversations"], e["notes"],
                          e["media"]), (1, 1, 1, 1))
        self.assertGreaterEqual(e["messages"], 5)
        self.assertEqual(e["orders"], 2)
        self.assertGreaterEqual(e["webhooks"], 2)
        self.assertGreaterEqual(e["idempotency"], 3)
        self.assertNotIn(gone, json.dumps(b))
        # A retry of the same request is the stored answer.
        st, h, b2 = self.call("DELETE", "/api/v1/contacts/%d" % contact,
                              token=self.admin, headers={
                                  "Idempotency-Key": "erase-1"})
        self.assertEqual((st, h.get("idempotent-replayed"), b2),
                         (200, "true", b))
        self.call("DELETE", "/api/v1/contacts/%d" % contact,
                  token=self.admin, want=404)

        online.sync()
        self.assertEqual(holding(gone, self.relay.dir, online.dir), [])
        self.assertEqual(online.search(gone), [])
        self.assertIsNone(online.export(conv))
        # Offline, the other client still has it...
        self.assertTrue(holding(gone, offline.dir))
        # ...until it is back.
        offline.sync()
        self.assertEqual(holding(gone, self.relay.dir, online.dir,
                                 offline.dir), [])
        self.assertEqual(offline.search(gone), [])
        # What was not erased is all still there.
        for where in (self.relay.dir, online.dir, offline.dir):
            self.assertTrue(holding(kept, where), where)
        self.assertTrue(offline.search(kept))

        # The customer writing again is a new contact with no history.
        self.post(webhook(wa_gone, "Someone", [
            {"from": wa_gone, "id": self.wamid(),
             "timestamp": str(int(time.time())), "type": "text",
             "text": {"body": "hi again"}}]))
        contacts = [c for c in self.live("contact")
                    if c["wa_id"] == wa_gone]
        self.assertEqual(len(contacts), 1)
        self.assertNotEqual(contacts[0]["id"], contact)
        msgs = [m for m in self.live("message")
                if m["conversation_id"] != conv and m["text"] ==
                "hi again"]
        self.assertEqual(len(msgs), 1)
        new_conv = msgs[0]["conversation_id"]
        self.assertEqual(len([m for m in self.live("message")
                              if m["conversation_id"] == new_conv]), 1)
        online.sync()
        self.assertEqual(len(online.export(new_conv)["messages"]), 1)

        audit = [json.loads(x) for x in self.relay.cli(
            "audit").stdout.decode().splitlines()]
        self.assertEqual([(a["actor"], a["action"], a["target"])
                          for a in audit],
                         [("agent:boss", "erase", "contact %d" % contact)])
        self.assertEqual(audit[0]["rows"], sum(e.values()))
        self.assertEqual(holding(gone, self.relay.dir, online.dir,
                                 offline.dir), [])

    def test_erasing_by_command_asks_first_and_finds_by_number(self):
        gone = marker("zqxcli")
        wa = "4917222%05d" % (os.getpid() % 100000)
        contact, _, _ = self.customer(wa, gone)
        r = R.subprocess.run([R.RELAY, "erase", "-c", self.relay.config,
                              "contact", wa], input=b"no\n",
                             capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"nothing erased", r.stderr)
        self.assertEqual(self.relay.entity("contact", contact)["id"],
                         contact)
        r = R.subprocess.run([R.RELAY, "erase", "-c", self.relay.config,
                              "contact", wa], input=b"erase\n",
                             capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["contacts"], 1)
        self.assertNotIn(wa.encode(), r.stderr)
        self.assertEqual(holding(gone, self.relay.dir), [])
        self.assertEqual(self.relay.cli("erase", "contact", wa, "--yes",
                                        check=False).returncode, 1)
        audit = [json.loads(x) for x in self.relay.cli(
            "audit").stdout.decode().splitlines()]
        self.assertEqual([a["action"] for a in audit], ["erase"])
        self.assertTrue(audit[0]["actor"].startswith("cli:"))

    def test_erase_and_export_refuse_bad_input(self):
        for path in ("/api/v1/contacts/999999", "/api/v1/conversations/"
                     "999999", "/api/v1/orders/999999",
                     "/api/v1/contacts/999999/export"):
            method = "GET" if path.endswith("export") else "DELETE"
            st, _, b = self.call(method, path, token=self.admin, want=404)
            self.assertEqual(b["error"]["code"], "not_found")
        for path in ("/api/v1/contacts/0", "/api/v1/contacts/-1",
                     "/api/v1/contacts/abc", "/api/v1/contacts/1x",
                     "/api/v1/contacts/99999999999999999999999",
                     "/api/v1/contacts/1/export/x",
                     "/api/v1/contacts/%2e%2e/export"):
            st, _, _ = self.call("DELETE", path, token=self.admin)
            self.assertIn(st, (404, 405), path)
        st, _, b = self.call("DELETE", "/api/v1/contacts/1", token=self.admin,
                             headers={"Idempotency-Key": ""})
        self.assertEqual(st, 400, b)
        bad = [["erase"], ["erase", "contact"], ["erase", "person", "1"],
               ["erase", "contact", "1", "2"], ["erase", "contact", "1",
                                                 "--force"],
               ["export", "contact"], ["export", "contact", "1", "-o"],
               ["export", "contact", "1", "-o", ""],
               ["audit", "--since"], ["audit", "--since", "x"],
               ["audit", "--since", "-5"], ["audit", "extra"]]
        for argv in bad:
            r = self.relay.cli(*argv, check=False)
            self.assertEqual(r.returncode, 2, (argv, r.stderr))
        for key in ("", "../../etc/passwd", "x" * 4000, "999999"):
            r = self.relay.cli("erase", "contact", key, "--yes",
                               check=False)
            self.assertIn(r.returncode, (1, 2), (key, r.stderr))
            r = self.relay.cli("export", "contact", key, check=False)
            self.assertIn(r.returncode, (1, 2), (key, r.stderr))
        self.assertEqual(self.relay.cli("audit").stdout, b"")

    # -- conversations and orders -------------------------------------------
    def test_deleting_a_conversation_and_an_order(self):
        mark = marker("zqxconv")
        wa = "4917333%05d" % (os.getpid() % 100000)
        contact, conv, ids = self.customer(wa, mark, with_media=False)
        c = self.client()
        c.sync()
        order = ids["orders"][0]
        self.call("DELETE", "/api/v1/orders/%d" % order, want=403)
        _, _, b = self.call("DELETE", "/api/v1/orders/%d" % order,
                            token=self.admin, want=200)
        self.assertEqual((b["kind"], b["id"], b["deleted"]),
                         ("order", order, True))
        self.call("DELETE", "/api/v1/orders/%d" % order, token=self.admin,
                  want=404)
        self.assertNotIn(("order", order), {
            (x["kind"], x["id"]) for x in self.relay.changes()
            if not x["deleted"]})
        self.call("DELETE", "/api/v1/conversations/%d" % conv, want=403)
        _, _, b = self.call("DELETE", "/api/v1/conversations/%d" % conv,
                            token=self.admin, want=200)
        self.assertEqual(b["erased"]["conversations"], 1)
        self.assertEqual(b["erased"]["contacts"], 0)
        # The contact stays (their name is the agent's to keep); what
        # was said in the conversation is gone.
        self.assertEqual(self.relay.entity("contact", contact)["id"],
                         contact)
        c.sync()
        self.assertIsNone(c.export(conv))
        self.assertEqual(c.search("hello", mark), [])
        actions = [(a["action"], a["target"]) for a in (json.loads(x) for x
                   in self.relay.cli("audit").stdout.decode().splitlines())]
        self.assertEqual(actions, [("delete", "order %d" % order),
                                   ("erase", "conversation %d" % conv)])

    # -- export ------------------------------------------------------------
    def test_export_holds_everything_about_the_contact_and_nothing_else(self):
        mine, other = marker("zqxmine"), marker("zqxother")
        wa = "4917444%05d" % (os.getpid() % 100000)
        contact, conv, ids = self.customer(wa, mine)
        self.customer("4917555%05d" % (os.getpid() % 100000), other)
        st, _, doc = self.call("GET", "/api/v1/contacts/%d/export"
                               % contact, token=self.admin, want=200)
        self.assertEqual((doc["format"], doc["version"]),
                         ("glivi-contact-export", 1))
        self.assertEqual(doc["contact"]["id"], contact)
        text = json.dumps(doc)
        self.assertNotIn(other, text)
        self.assertEqual([c["id"] for c in doc["conversations"]], [conv])
        relay_msgs = {m["id"] for m in self.live("message")
                      if m["conversation_id"] == conv}
        got = doc["conversations"][0]
        self.assertEqual({m["id"] for m in got["messages"]}, relay_msgs)
        self.assertTrue(set(ids["messages"]) <= relay_msgs)
        self.assertEqual([n["id"] for n in got["notes"]], ids["notes"])
        relay_orders = {o["id"] for o in self.live("order")
                        if o["contact_id"] == contact}
        self.assertEqual({o["id"] for o in doc["orders"]}, relay_orders)
        self.assertEqual(len(relay_orders), 2)
        for m in got["messages"]:
            self.assertIn("status_history", m)
        self.assertTrue(any(h["status"] == "delivered" for m in
                            got["messages"] for h in m["status_history"]))
        for what in ("hello ", "reply ", "note ", "api order ", "order ",
                     "Name ", "vip "):
            self.assertIn(what + mine, text)
        self.assertEqual([(m["id"], m["held"]) for m in doc["media"]],
                         [(ids["media"], True)])

        out = os.path.join(self.relay.dir, "export-1")
        r = self.relay.cli("export", "contact", wa, "-o", out)
        with open(os.path.join(out, "contact.json")) as f:
            cli_doc = json.load(f)
        self.assertEqual(cli_doc["conversations"], doc["conversations"])
        with open(os.path.join(out, "media", ids["media"]), "rb") as f:
            self.assertTrue(f.read().startswith(PNG))
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(os.path.join(out, "contact.json")).st_mode
                         & 0o777, 0o600)
        # An export never overwrites what is there.
        r = self.relay.cli("export", "contact", wa, "-o", out, check=False)
        self.assertEqual(r.returncode, 1)
        r = self.relay.cli("export", "contact", str(contact))
        self.assertEqual(json.loads(r.stdout)["contact"]["id"], contact)
        audit = [json.loads(x) for x in self.relay.cli(
            "audit").stdout.decode().splitlines()]
        self.assertEqual([(a["action"], a["target"]) for a in audit],
                         [("export", "contact %d" % contact)] * 3)
        self.assertEqual(audit[0]["actor"], "agent:boss")
        self.assertNotIn(mine, json.dumps(audit))
        # Nothing of it reaches the log.
        self.assertNotIn(mine, self.relay.read_log())
        self.assertNotIn(wa, self.relay.read_log())


    # -- disconnecting a number ----------------------------------------------
    def test_a_disconnected_number_is_answered_and_stores_nothing(self):
        old, new, other = marker("zqxold"), marker("zqxnew"), \
            marker("zqxother")
        wa = "4917666%05d" % (os.getpid() % 100000)
        contact, conv, ids = self.customer(wa, old, with_media=False)
        queued = ids["messages"][0]
        self.assertEqual(self.relay.entity("message", queued)["status"],
                         "queued")
        r = self.relay.cli("number", "disconnect", "main")
        self.assertEqual(json.loads(r.stdout)["cancelled"], 1)
        m = self.relay.entity("message", queued)
        self.assertEqual((m["status"], m["failure"]["code"]),
                         ("failed", "number_disconnected"))
        # Nothing new goes out on it either.
        _, _, b = self.call("POST", "/api/v1/conversations/%d/messages"
                            % conv, {"type": "text", "text": "more"},
                            want=422)
        self.assertEqual(b["error"]["code"], "number_disconnected")
        listed = {x["name"]: x for x in (json.loads(line) for line in
                  self.relay.cli("number", "list").stdout.splitlines())}
        self.assertIsNotNone(listed["main"]["disconnected_at"])
        self.assertIsNone(listed["second"]["disconnected_at"])

        before = self.relay.counts()
        body = webhook(wa, "Name " + new, [
            {"from": wa, "id": self.wamid(),
             "timestamp": str(int(time.time())), "type": "text",
             "text": {"body": "hello " + new}}])
        self.post(body)
        self.post(body)  # Meta's retry: answered the same way
        self.assertEqual(self.relay.counts(), before)
        self.assertEqual(holding(new, self.relay.dir), [])
        R.wait_for(lambda: "disconnected, answered and not stored" in
                   self.relay.read_log(), what="the drop to be logged")
        # The other number works on.
        second = json.loads(webhook(wa, "x", [
            {"from": wa, "id": self.wamid(),
             "timestamp": str(int(time.time())), "type": "text",
             "text": {"body": "hello " + other}}]))
        second["entry"][0]["changes"][0]["value"]["metadata"][
            "phone_number_id"] = R.SECOND
        self.post(json.dumps(second).encode())
        self.assertEqual(self.relay.counts()["messages"],
                         before["messages"] + 1)
        self.assertTrue(holding(other, self.relay.dir))

        # --purge erases what the number held; the other number keeps its
        # own contact of the same person.
        self.assertTrue(holding(old, self.relay.dir))
        r = self.relay.cli("number", "disconnect", "main", "--purge",
                           "--yes")
        self.assertGreaterEqual(json.loads(r.stdout)["contacts"], 1)
        self.assertEqual(holding(old, self.relay.dir), [])
        self.assertTrue(holding(other, self.relay.dir))
        self.assertEqual([c["wa_id"] for c in self.live("contact")], [wa])

        self.relay.cli("number", "connect", "main")
        self.post(webhook(wa, "Name", [
            {"from": wa, "id": self.wamid(),
             "timestamp": str(int(time.time())), "type": "text",
             "text": {"body": "back"}}]))
        self.assertEqual(len(self.live("contact")), 2)
        actions = [a["action"] for a in (json.loads(x) for x in
                   self.relay.cli("audit").stdout.decode().splitlines())]
        self.assertEqual(actions, ["disconnect", "disconnect+purge",
                                   "connect"])
        for argv in (["number"], ["number", "disconnect"],
                     ["number", "list", "main"], ["number", "connect"],
                     ["number", "disconnect", "main", "--yes"],
                     ["number", "pause", "main"],
                     ["number", "disconnect", "main", "--bogus"],
                     ["number", "disconnect", "x" * 100]):
            r = self.relay.cli(*argv, check=False)
            self.assertEqual(r.returncode, 2, (argv, r.stderr))
        r = self.relay.cli("number", "disconnect", "nosuch", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        r = R.subprocess.run([R.RELAY, "number", "-c", self.relay.config,
                              "disconnect", "second", "--purge"],
                             input=b"\n", capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(holding(other, self.relay.dir))


    # -- retention ------------------------------------------------------------
    def restart(self, retention):
        """Restarts the relay with a [retention] section."""
        port = self.relay.port
        self.relay.stop()
        with open(self.relay.config) as f:
            text = f.read()
        # Back on the same port, where the clients look.
        text = re.sub(r"(?m)^listen = 127\.0\.0\.1:\d+$",
                      "listen = 127.0.0.1:%d" % port,
                      text.split("[retention]")[0])
        with open(self.relay.config, "w") as f:
            f.write(text + "\n[retention]\n" + retention)
        self.relay.start()

    def test_retention_sweeps_old_messages_everywhere_and_keeps_new(self):
        old, new = marker("zqxold"), marker("zqxnew")
        wa = "4917777%05d" % (os.getpid() % 100000)
        now = int(time.time())
        old_ids = [self.wamid(), self.wamid()]
        self.post(webhook(wa, "Kunde", [
            {"from": wa, "id": old_ids[0], "timestamp": str(now - 3 * 86400),
             "type": "text", "text": {"body": "first " + old}},
            {"from": wa, "id": old_ids[1], "timestamp": str(now - 2 * 86400),
             "type": "text", "text": {"body": "second " + old}},
            {"from": wa, "id": self.wamid(), "timestamp": str(now),
             "type": "text", "text": {"body": "today " + new}}]))
        c = self.client()
        c.sync()
        self.assertEqual(len(c.search(old)), 2)
        # The clock is the messages' own time: a day of retention makes
        # two of them old. The relay sweeps at start, then on its timer
        # (long here).
        self.restart("messages = 1d\nsweep_interval = 1d\n")
        R.wait_for(lambda: [m["text"] for m in self.live("message")] ==
                   ["today " + new], what="the sweep at start")
        c.sync()
        self.assertEqual(c.search(old), [])
        self.assertEqual(len(c.search(new)), 1)
        self.assertEqual(holding(old, c.dir), [])
        # The command sweeps too.
        third = self.wamid()
        self.post(webhook(wa, "Kunde", [
            {"from": wa, "id": third, "timestamp": str(now - 86400 * 4),
             "type": "text", "text": {"body": "third " + old}}]))
        self.assertEqual(len(self.live("message")), 2)
        r = self.relay.cli("sweep")
        self.assertEqual(json.loads(r.stdout)["messages"], 1)
        self.assertEqual(json.loads(self.relay.cli("sweep").stdout)
                         ["messages"], 0)
        audit = [json.loads(x) for x in self.relay.cli(
            "audit").stdout.decode().splitlines()]
        self.assertEqual([(a["action"], a["actor"] == "relay", a["rows"])
                          for a in audit][0][:2], ("sweep", True))
        self.assertEqual([a["action"] for a in audit], ["sweep", "sweep"])
        self.assertTrue(audit[1]["actor"].startswith("cli:"))

        # The relay sweeps on its own timer too.
        self.restart("messages = 1d\nsweep_interval = 1s\n")
        self.post(webhook(wa, "Kunde", [
            {"from": wa, "id": self.wamid(), "timestamp": str(now - 86400 * 5),
             "type": "text", "text": {"body": "late " + old}}]))
        R.wait_for(lambda: not any(m["text"].startswith("late") for m in
                                   self.live("message")),
                   what="the timer's sweep")
        self.assertEqual(len(self.live("message")), 1)

    def test_retention_of_closed_conversations_and_bad_values(self):
        wa = "4917888%05d" % (os.getpid() % 100000)
        contact, conv, _ = self.customer(wa, marker("zqxclosed"),
                                         with_media=False)
        self.call("POST", "/api/v1/conversations/%d/status" % conv,
                  {"status": "resolved"}, want=200)
        self.restart("closed_conversations = 1s\nsweep_interval = 1d\n")
        R.wait_for(lambda: time.time() > self.relay.entity(
            "conversation", conv)["last_activity_at"] + 2,
            what="the conversation to age")
        out = json.loads(self.relay.cli("sweep").stdout)
        self.assertEqual(out["conversations"], 1)
        self.assertEqual([x for x in self.live("conversation")
                          if x["id"] == conv], [])
        for bad in ("messages = soon\n", "messages = -1d\n",
                    "sweep_interval = 0\n", "media = 99999d\n",
                    "unknown = 1d\n"):
            self.relay.stop()
            with open(self.relay.config) as f:
                text = f.read().split("[retention]")[0]
            with open(self.relay.config, "w") as f:
                f.write(text + "\n[retention]\n" + bad)
            r = self.relay.cli("sweep", check=False)
            self.assertEqual(r.returncode, 1, (bad, r.stderr))
            self.assertIn(b"relay.conf:", r.stderr)
        self.restart("")
        self.assertEqual(self.relay.cli("sweep", "extra",
                                        check=False).returncode, 2)


    def test_a_client_keeps_only_keep_days_offline(self):
        old, new = marker("zqxold"), marker("zqxnew")
        wa = "4917999%05d" % (os.getpid() % 100000)
        now = int(time.time())
        self.post(webhook(wa, "Kunde", [
            {"from": wa, "id": self.wamid(), "timestamp": str(now - 3 * 86400),
             "type": "text", "text": {"body": "old " + old}},
            {"from": wa, "id": self.wamid(), "timestamp": str(now),
             "type": "text", "text": {"body": "new " + new}}]))
        everything, recent = self.client(), self.client()
        recent.extra += "\n[cache]\nkeep_days = 2\n"
        recent.write_config()
        everything.sync()
        recent.sync()
        self.assertEqual(len(everything.search(old)), 1)
        self.assertEqual(recent.search(old), [])
        self.assertEqual(len(recent.search(new)), 1)
        self.assertEqual(holding(old, recent.dir), [])
        self.assertEqual(len(self.live("message")), 2)
        for bad in ("-1", "x", "99999999"):
            recent.extra = "[cache]\nkeep_days = %s\n" % bad
            recent.write_config()
            r = recent.run("sync")
            self.assertEqual(r.returncode, 2, (bad, r.stderr))


    # -- secrets -------------------------------------------------------------
    def test_secrets_come_from_systemd_credentials_when_given(self):
        creds = tempfile.mkdtemp(prefix="glivi-creds-")
        self.addCleanup(shutil.rmtree, creds, True)
        secret = ("cred-secret-" + os.urandom(8).hex()).encode()
        R.write_secret(os.path.join(creds, "app_secret"), secret, 0o400)
        other = R.Relay(certs=self.certs)
        self.addCleanup(other.close)
        os.environ["CREDENTIALS_DIRECTORY"] = creds
        try:
            other.start()
        finally:
            del os.environ["CREDENTIALS_DIRECTORY"]
        body = webhook("491700000001", "x", [
            {"from": "491700000001", "id": self.wamid(),
             "timestamp": str(int(time.time())), "type": "text",
             "text": {"body": "hi"}}])
        # The configured file's secret no longer signs; the credential's
        # does, and the verify token still comes from the config.
        self.assertEqual(other.post_webhook(body)[0], 401)
        self.assertEqual(other.post_webhook(
            body, signature=R.sign(body, secret))[0], 200)
        st, _, text = other.request(
            "GET", "/webhook?hub.mode=subscribe&hub.verify_token=%s"
            "&hub.challenge=42" % R.VERIFY_TOKEN)
        self.assertEqual((st, text), (200, b"42"))
        self.assertEqual(other.stop(), 0)
        self.assertIn("from the systemd credential", other.read_log())
        self.assertNotIn(secret.decode(), other.read_log())
        with open(other.db, "rb") as f:
            self.assertNotIn(secret, f.read())


class LogsCase(unittest.TestCase):
    """A whole session of traffic, with a marker in every body, name,
    token and secret: no log line of the relay or of glivi-tui holds any
    of them, at the debug level."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="glivi-dp-logs-")
        cls.certs = R.make_certs(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_no_log_line_holds_a_body_a_name_a_number_or_a_secret(self):
        import test_outbound as O
        p = O.Pair(self.certs)
        self.addCleanup(p.close)
        p.start()
        r = p.relay
        m = marker("zqxlog")
        wa = "4916%08d" % (os.getpid() % 100000000)
        admin = r.cli("agent", "add", "boss", "--role",
                      "admin").stdout.decode().strip()
        conv = p.customer_writes(wa, "text " + m)
        st, _, _ = r.post_webhook(webhook(wa, "Name " + m, [
            {"from": wa, "id": "wamid.log-%s" % m, "timestamp":
             str(int(time.time())), "type": "image", "image": {
                 "id": "9" + str(os.getpid()), "mime_type": "image/jpeg",
                 "sha256": "x", "caption": "caption " + m}}]))
        self.assertEqual(st, 200)
        sent = p.queue(conv, {"type": "text", "text": "reply " + m})
        p.wait_message(sent, lambda x: x["status"] in ("sent", "delivered",
                                                       "read"), "sent")
        p.inject("undeliverable", wa)
        failed = p.queue(conv, {"type": "text", "text": "fail " + m})
        p.wait_message(failed, lambda x: x["status"] == "failed", "failed")
        agent = p.agent
        for method, path, body in (
                ("POST", "/api/v1/conversations/%d/notes" % conv,
                 {"body": "note " + m}),
                ("PATCH", "/api/v1/contacts/1",
                 {"display_name": "Display " + m}),
                ("POST", "/api/v1/conversations/%d/messages" % conv,
                 '{"type":"text","text":"' + m),
                ("POST", "/api/v1/conversations/%d/messages" % conv,
                 {"type": "text", "text": m, "bogus_" + m: 1}),
                ("POST", "/api/v1/conversations/%d/labels" % conv,
                 {"add": ["x" * 5000 + m]})):
            api(r, agent, method, path, body)
        api(r, "glv_" + m, "GET", "/api/v1/sync")
        api(r, agent + m, "GET", "/api/v1/me")
        r.post_webhook(webhook(wa, "Bad " + m, [
            {"from": wa, "id": "wamid.bad", "timestamp": "1", "type": "text",
             "text": {"body": m}}]), signature="sha256=" + "0" * 64)
        r.post_webhook(b'{"entry": "' + m.encode() + b'"')
        unknown = json.loads(webhook(wa, "Other " + m, [
            {"from": wa, "id": "wamid.other", "timestamp": "1",
             "type": "text", "text": {"body": m}}]))
        unknown["entry"][0]["changes"][0]["value"]["metadata"][
            "phone_number_id"] = "999000111"
        r.post_webhook(json.dumps(unknown).encode())
        c = Client("https://localhost:%d" % r.port, agent,
                   ca_file=self.certs[0])
        self.addCleanup(c.close)
        # The subcommands log to standard error (at debug here).
        c.extra = "[log]\nlevel = debug\n"
        c.write_config()
        tui_log = b""
        for argv in (["sync"], ["send", str(conv), "client " + m],
                     ["send", wa, "client again " + m], ["search", m],
                     ["export", str(conv)], ["status"],
                     ["send", "999999", "nowhere " + m]):
            tui_log += c.run(*argv).stderr
        api(r, admin, "GET", "/api/v1/contacts/1/export")
        api(r, admin, "DELETE", "/api/v1/contacts/1")
        tui_log += c.run("sync").stderr
        p.stop_sim()
        self.assertEqual(r.stop(), 0)
        secrets = [m, wa, agent, admin, R.APP_SECRET.decode(),
                   R.VERIFY_TOKEN, O.S.TOKEN.decode()]
        with open(r.log, encoding="utf-8", errors="replace") as f:
            logs = {"relay": f.read(), "glivi-tui": tui_log.decode(
                "utf-8", "replace")}
        for name, text in logs.items():
            self.assertTrue(text.strip(), name)
            for secret in secrets:
                self.assertNotIn(secret, text, name)


if __name__ == "__main__":
    unittest.main()
