"""The agent API's writes: each one with good input (the answer is the
entity, and the store shows it), and with malformed, hostile and oversized
input (the exact status, error code and field, and the store unchanged).
The 24-hour customer service window, note ownership, and idempotency:
100 concurrent sends under one Idempotency-Key make one message, answers
replay (also after a SIGKILL and restart), a key is scoped per agent and
refused when reused for another request.
"""
import itertools
import json
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
from apiclient import api, parse_routes, text_webhook  # noqa: E402

_serial = itertools.count(1)

EMOJI = "\U0001F600"  # two UTF-16 units, four UTF-8 bytes


class RelayCase(unittest.TestCase):
    """One relay per class, with agents root (admin), alice and bob, and
    a helper to make conversations."""

    check_clean_exit = True
    relay_args = {}  # keyword arguments of the class's Relay

    @classmethod
    def setUpClass(cls):
        cls.relay = r = R.Relay(**cls.relay_args)
        try:
            r.start()
            cls.root = cls.add_agent("root", "admin")
            cls.alice = cls.add_agent("alice")
            cls.bob = cls.add_agent("bob")
            cls.agent_ids = {a["data"]["name"]: a["id"]
                             for a in r.changes() if a["kind"] == "agent"}
        except BaseException:
            r.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.relay.stop()
        finally:
            cls.relay.close()
        if cls.check_clean_exit:
            assert rc == 0, "the relay exited %s on SIGTERM" % rc

    @classmethod
    def add_agent(cls, name, role="agent"):
        token = cls.relay.cli("agent", "add", name, "--role",
                              role).stdout.decode().strip()
        assert token
        return token

    def api(self, method, path, body=None, token=None, headers=None):
        return api(self.relay, token or self.alice, method, path, body,
                   headers)

    def new_conversation(self, ts=None):
        """A conversation with one inbound message; returns its ids."""
        wa_id = "4918%08d" % next(_serial)
        body, wamid = text_webhook(wa_id, ts=ts)
        status, _, _ = self.relay.post_webhook(body)
        self.assertEqual(status, 200)
        m = self.relay.message(wamid)
        conv = self.relay.entity("conversation", m["conversation_id"])
        return {"conv": conv["id"], "msg": m["id"], "wamid": wamid,
                "contact": conv["contact_id"], "wa_id": wa_id}

    def head(self):
        return self.relay.changes()[-1]["seq"]

    def ok(self, method, path, body, status=200, token=None, headers=None):
        got, hdrs, answer = self.api(method, path, body, token, headers)
        self.assertEqual(got, status, answer)
        return answer

    def refused(self, method, path, body, status, code, field, token=None,
                headers=None):
        got, _, err = self.api(method, path, body, token, headers)
        self.assertEqual(got, status, err)
        self.assertIsInstance(err, dict, err)
        self.assertEqual(set(err), {"error"})
        self.assertEqual(err["error"]["code"], code, err)
        self.assertEqual(err["error"].get("field"), field, err)
        self.assertIsInstance(err["error"]["message"], str)
        return err

    def refuse_all(self, method, path, cases, token=None):
        """cases: (body, status, code, field); none may change the store."""
        before = self.head()
        for body, status, code, field in cases:
            with self.subTest(path=path, body=body if not isinstance(
                    body, (bytes, str)) or len(body) < 200 else
                    "%d bytes" % len(body)):
                self.refused(method, path, body, status, code, field, token)
        self.assertEqual(self.head(), before, "a refused write changed the "
                         "store")

    def assert_stored(self, kind, entity):
        """The entity answered is what the store holds, and its change is
        in the log."""
        self.assertEqual(self.relay.entity(kind, entity["id"]), entity)
        self.assertIn((kind, entity["id"]),
                      {(c["kind"], c["id"]) for c in self.relay.changes()})


class Writes(RelayCase):
    """Good and bad input for every write."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.gone = cls.add_agent("gone")
            cls.relay.cli("agent", "revoke", "gone")
        except BaseException:
            cls.relay.close()
            raise

    def send(self, conv, body, status=201, **kw):
        return self.ok("POST", "/api/v1/conversations/%d/messages" % conv,
                       body, status, **kw)

    def test_a_conversations_first_message_is_its_last_whatever_its_time(self):
        # The customer's clock an hour behind the relay's: the message is
        # still what the inbox shows as the conversation's last.
        c = self.new_conversation(ts=int(time.time()) - 3600)
        conv = self.relay.entity("conversation", c["conv"])
        self.assertEqual(conv["last_message_id"], c["msg"])

    def test_me_names_the_tokens_agent_and_role(self):
        me = self.ok("GET", "/api/v1/me", None)
        self.assertEqual(me, {"id": self.agent_ids["alice"], "name": "alice",
                              "role": "agent"})
        me = self.ok("GET", "/api/v1/me", None, token=self.root)
        self.assertEqual((me["name"], me["role"]), ("root", "admin"))
        self.refused("GET", "/api/v1/me", None, 401, "unauthorized", None,
                     token=self.gone)

    # -- every route that takes a body --------------------------------
    def test_every_write_refuses_a_body_that_is_not_a_json_object(self):
        c = self.new_conversation()
        routes = [x for x in parse_routes() if x[3] and
                  x[1].startswith("/api/")]
        self.assertGreaterEqual(len(routes), 10)
        for method, path, _, _ in routes:
            path = path.replace("{id}", str(c["conv"]))
            self.refuse_all(method, path, [
                (b"[]", 400, "malformed", None),
                (b'"text"', 400, "malformed", None),
                (b"42", 400, "malformed", None),
                (b"null", 400, "malformed", None),
                (b"true", 400, "malformed", None),
                (b"{", 400, "malformed", None),
                (b'{"type":"text","text":"x"', 400, "malformed", None),
                (b'{"a":1,}', 400, "malformed", None),
                (b"{'a':1}", 400, "malformed", None),
                (b"\xff\xfe{}", 400, "malformed", None),
                (b'{"a":"\\ud800"}', 400, "malformed", None),
            ], token=self.root)

    def test_every_write_refuses_an_unknown_member_by_name(self):
        c = self.new_conversation()
        routes = [x for x in parse_routes() if x[3] and
                  x[1].startswith("/api/") and
                  # Presence: see test_api_sync.PresenceUnknownField.
                  x[1] != "/api/v1/presence"]
        for method, path, _, _ in routes:
            path = path.replace("{id}", str(c["conv"]))
            self.refuse_all(method, path, [
                ({"colour": "red"}, 422, "unknown_field", "colour"),
                ({"Text": "x"}, 422, "unknown_field", "Text"),
            ], token=self.root)

    def test_a_route_without_a_body_refuses_one(self):
        self.refuse_all("DELETE", "/api/v1/notes/1", [
            (b"{}", 400, "unexpected_body", None)])

    # -- messages -------------------------------------------------------
    def test_text_message_is_stored_queued_for_the_sender(self):
        c = self.new_conversation()
        m = self.send(c["conv"], {"type": "text", "text": "Hello \u00e9 " +
                                  EMOJI, "preview_url": True},
                      headers={"Idempotency-Key": "text-1"})
        self.assertEqual((m["kind"], m["conversation_id"], m["direction"],
                          m["type"], m["text"], m["status"], m["agent_id"],
                          m["client_id"], m["wamid"]),
                         ("message", c["conv"], "out", "text",
                          "Hello \u00e9 " + EMOJI, "queued",
                          self.agent_ids["alice"], "text-1", None))
        self.assert_stored("message", m)
        conv = self.relay.entity("conversation", c["conv"])
        self.assertEqual(conv["last_message_id"], m["id"])
        # Without a key there is no client_id.
        m2 = self.send(c["conv"], {"type": "text", "text": "again"})
        self.assertIsNone(m2["client_id"])
        self.assert_stored("message", m2)

    def test_reply_to_a_message_of_the_conversation_targets_its_wamid(self):
        c = self.new_conversation()
        m = self.send(c["conv"], {"type": "text", "text": "re",
                                  "reply_to": c["msg"]})
        self.assertEqual(m["target_wamid"], c["wamid"])
        self.assert_stored("message", m)

    def test_reaction_and_its_removal_are_stored(self):
        c = self.new_conversation()
        for emoji in ("\U0001F44D", ""):
            m = self.send(c["conv"], {"type": "reaction",
                                      "message_id": c["msg"],
                                      "emoji": emoji})
            self.assertEqual((m["type"], m["target_wamid"]),
                             ("reaction", c["wamid"]))
            self.assert_stored("message", m)

    def test_template_and_media_messages_are_stored(self):
        c = self.new_conversation()
        bodies = [
            {"type": "template", "template": {
                "name": "order_update", "language": "en_US",
                "components": [{"type": "body", "parameters": [
                    {"type": "text", "text": "5531"}]}]}},
            {"type": "image", "media": {"link": "https://example.com/a.jpg",
                                        "caption": "a cat"}},
            {"type": "video", "media": {"id": "1234567890"}},
            {"type": "audio", "media": {"link": "https://example.com/a.ogg"}},
            {"type": "document", "media": {"id": "998877",
                                           "filename": "invoice.pdf",
                                           "caption": "your invoice"}},
            {"type": "sticker", "media": {"id": "55"}},
        ]
        for body in bodies:
            with self.subTest(type=body["type"]):
                m = self.send(c["conv"], body)
                self.assertEqual((m["type"], m["direction"], m["status"]),
                                 (body["type"], "out", "queued"))
                if "media" in body:
                    self.assertEqual(m["text"],
                                     body["media"].get("caption"))
                self.assert_stored("message", m)

    def test_text_is_limited_to_4096_utf16_units(self):
        c = self.new_conversation()
        path = "/api/v1/conversations/%d/messages" % c["conv"]
        for text in (EMOJI * 2048, "a" * 4096, "\u00e9" * 4096):
            m = self.send(c["conv"], {"type": "text", "text": text})
            self.assertEqual(m["text"], text)
        self.refuse_all("POST", path, [
            ({"type": "text", "text": EMOJI * 2048 + "a"}, 422, "invalid",
             "text"),
            ({"type": "text", "text": "a" + EMOJI * 2048}, 422, "invalid",
             "text"),
            ({"type": "text", "text": "a" * 4097}, 422, "invalid", "text"),
            ({"type": "text", "text": "a" * 100000}, 422, "invalid", "text"),
            ({"type": "text", "text": ""}, 422, "invalid", "text"),
        ])

    def test_caption_is_limited_to_1024_utf16_units(self):
        c = self.new_conversation()
        m = self.send(c["conv"], {"type": "image", "media": {
            "id": "1", "caption": EMOJI * 512}})
        self.assertEqual(m["text"], EMOJI * 512)
        self.refuse_all(
            "POST", "/api/v1/conversations/%d/messages" % c["conv"], [
                ({"type": "image", "media": {"id": "1", "caption":
                                             EMOJI * 512 + "a"}},
                 422, "invalid", "caption")])

    def test_send_refuses_bad_members(self):
        c = self.new_conversation()
        link = "https://example.com/x.jpg"
        self.refuse_all(
            "POST", "/api/v1/conversations/%d/messages" % c["conv"], [
                ({}, 422, "required", "type"),
                ({"type": "fax"}, 422, "invalid", "type"),
                ({"text": "no type"}, 422, "required", "type"),
                ({"type": "text"}, 422, "required", "text"),
                ({"type": "text", "text": None}, 422, "required", "text"),
                ({"type": "text", "text": 5}, 422, "invalid", "text"),
                ({"type": "text", "text": ["a"]}, 422, "invalid", "text"),
                ({"type": "text", "text": "x", "preview_url": "yes"}, 422,
                 "invalid", "preview_url"),
                ({"type": "text", "text": "x", "reply_to": "1"}, 422,
                 "invalid", "reply_to"),
                ({"type": "text", "text": "x", "reply_to": 0}, 422,
                 "invalid", "reply_to"),
                ({"type": "text", "text": "x", "reply_to": -3}, 422,
                 "invalid", "reply_to"),
                ({"type": "text", "text": "x", "reply_to": 1.5}, 422,
                 "invalid", "reply_to"),
                ({"type": "text", "text": "x", "reply_to": 2 ** 60}, 422,
                 "invalid", "reply_to"),
                ({"type": "text", "text": "x", "reply_to": 1e300}, 422,
                 "invalid", "reply_to"),
                ({"type": "reaction", "emoji": "x"}, 422, "required",
                 "message_id"),
                ({"type": "reaction", "message_id": c["msg"]}, 422,
                 "required", "emoji"),
                ({"type": "reaction", "message_id": c["msg"],
                  "emoji": "x" * 17}, 422, "invalid", "emoji"),
                ({"type": "reaction", "message_id": c["msg"],
                  "emoji": 1}, 422, "invalid", "emoji"),
                ({"type": "template"}, 422, "required", "template"),
                ({"type": "template", "template": {}}, 422, "required",
                 "name"),
                ({"type": "template", "template": {"name": "t"}}, 422,
                 "required", "language"),
                ({"type": "template", "template": {
                    "name": "t", "language": "en", "components": "x"}},
                 422, "invalid", "components"),
                ({"type": "image"}, 422, "required", "media"),
                ({"type": "image", "media": {"link": link, "id": "1"}},
                 422, "invalid", "media"),
                ({"type": "image", "media": {}}, 422, "invalid", "media"),
                ({"type": "image", "media": {"link": "http://example.com/"
                                                     "x.jpg"}},
                 422, "invalid", "link"),
                ({"type": "image", "media": {"link": "ftp://example.com/x"}},
                 422, "invalid", "link"),
                ({"type": "image", "media": {"link": "https://e.com/" +
                                             "a" * 2048}},
                 422, "invalid", "link"),
                ({"type": "image", "media": {"link": "https://e.com/\r"}},
                 422, "invalid", "link"),
                ({"type": "image", "media": {"id": "i" * 129}}, 422,
                 "invalid", "id"),
                ({"type": "audio", "media": {"link": link,
                                             "caption": "c"}},
                 422, "invalid", "caption"),
                ({"type": "sticker", "media": {"id": "1", "caption": "c"}},
                 422, "invalid", "caption"),
                ({"type": "document", "media": {"id": "1",
                                                "filename": "f" * 241}},
                 422, "invalid", "filename"),
                # Invalid UTF-8 inside JSON strings, sent as raw bytes.
                (b'{"type":"text","text":"a\xff\xfeb"}', 422, "invalid",
                 "text"),
                (b'{"type":"text","text":"a\xc0\xafb"}', 422, "invalid",
                 "text"),
                (b'{"type":"text","text":"a\xed\xa0\x80b"}', 422,
                 "invalid", "text"),
                (b'{"type":"text","text":"a\xf4\x90\x80\x80b"}', 422,
                 "invalid", "text"),
                (b'{"type":"text","text":"abc\xe2\x82"}', 422, "invalid",
                 "text"),
                (b'{"type":"image","media":{"id":"1","caption":"\x80"}}',
                 422, "invalid", "caption"),
            ])

    def test_send_refuses_references_outside_the_conversation(self):
        c, other = self.new_conversation(), self.new_conversation()
        queued = self.send(c["conv"], {"type": "text", "text": "out"})
        self.refuse_all(
            "POST", "/api/v1/conversations/%d/messages" % c["conv"], [
                ({"type": "text", "text": "x", "reply_to": other["msg"]},
                 422, "invalid", "reply_to"),
                ({"type": "text", "text": "x", "reply_to": 999999},
                 422, "invalid", "reply_to"),
                # Not yet a WhatsApp message: it has no wamid.
                ({"type": "text", "text": "x", "reply_to": queued["id"]},
                 422, "invalid", "reply_to"),
                ({"type": "reaction", "message_id": 999999, "emoji": "x"},
                 422, "invalid", "message_id"),
                ({"type": "reaction", "message_id": other["msg"],
                  "emoji": "x"}, 422, "invalid", "message_id"),
            ])

    def test_window_closed_refuses_all_but_a_template(self):
        old = int(time.time()) - 25 * 3600
        c = self.new_conversation(ts=old)
        self.assertEqual(self.relay.entity("conversation",
                                           c["conv"])["last_inbound_at"],
                         old)
        path = "/api/v1/conversations/%d/messages" % c["conv"]
        self.refuse_all("POST", path, [
            ({"type": "text", "text": "too late"}, 422, "window_closed",
             "type"),
            ({"type": "image", "media": {"id": "1"}}, 422, "window_closed",
             "type"),
            ({"type": "reaction", "message_id": c["msg"], "emoji": "x"},
             422, "window_closed", "type"),
        ])
        m = self.send(c["conv"], {"type": "template", "template": {
            "name": "order_update", "language": "en_US"}})
        self.assertEqual((m["type"], m["status"]), ("template", "queued"))
        self.assert_stored("message", m)
        # The customer writes again: the window opens.
        body, _ = text_webhook(c["wa_id"])
        self.assertEqual(self.relay.post_webhook(body)[0], 200)
        self.send(c["conv"], {"type": "text", "text": "now it goes"})

    def test_writes_to_a_missing_conversation_are_404(self):
        for path, body in [
                ("messages", {"type": "text", "text": "x"}),
                ("messages", {"type": "template", "template": {
                    "name": "t", "language": "en"}}),
                ("read", {}),
                ("assign", {"agent": None}),
                ("status", {"status": "open"}),
                ("labels", {"add": ["x"]}),
                ("notes", {"body": "x"})]:
            self.refuse_all("POST", "/api/v1/conversations/999999/" + path,
                            [(body, 404, "not_found", None)])

    # -- conversation state ------------------------------------------------
    def test_mark_read_records_the_agents_last_read_message(self):
        c, other = self.new_conversation(), self.new_conversation()
        path = "/api/v1/conversations/%d/read" % c["conv"]
        conv = self.ok("POST", path, {})
        self.assertEqual(conv["read_by"],
                         {str(self.agent_ids["alice"]): c["msg"]})
        # No body at all is an empty object.
        conv = self.ok("POST", path, b"")
        self.assertEqual(conv["read_by"],
                         {str(self.agent_ids["alice"]): c["msg"]})
        conv = self.ok("POST", path, {"message_id": c["msg"]},
                       token=self.bob)
        self.assertEqual(conv["read_by"][str(self.agent_ids["bob"])],
                         c["msg"])
        self.assert_stored("conversation", conv)
        self.refuse_all("POST", path, [
            ({"message_id": other["msg"]}, 422, "invalid", "message_id"),
            ({"message_id": 999999}, 422, "invalid", "message_id"),
        ])

    def test_assign_and_unassign(self):
        c = self.new_conversation()
        path = "/api/v1/conversations/%d/assign" % c["conv"]
        conv = self.ok("POST", path, {"agent": "bob"})
        self.assertEqual(conv["assignee_id"], self.agent_ids["bob"])
        self.assert_stored("conversation", conv)
        conv = self.ok("POST", path, {"agent": None})
        self.assertIsNone(conv["assignee_id"])
        self.assert_stored("conversation", conv)
        self.refuse_all("POST", path, [
            ({"agent": "nobody"}, 422, "invalid", "agent"),
            ({"agent": "gone"}, 422, "invalid", "agent"),  # revoked
            ({}, 422, "required", "agent"),
            ({"agent": 5}, 422, "invalid", "agent"),
            ({"agent": ""}, 422, "invalid", "agent"),
            ({"agent": "b" * 65}, 422, "invalid", "agent"),
            ({"agent": "bo\u0001b"}, 422, "invalid", "agent"),
        ])

    def test_status_changes_and_snooze(self):
        c = self.new_conversation()
        path = "/api/v1/conversations/%d/status" % c["conv"]
        for status in ("pending", "resolved", "open"):
            conv = self.ok("POST", path, {"status": status})
            self.assertEqual((conv["status"], conv["snoozed_until"]),
                             (status, None))
        until = int(time.time()) + 3600
        conv = self.ok("POST", path, {"status": "snoozed",
                                      "snoozed_until": until})
        self.assertEqual((conv["status"], conv["snoozed_until"]),
                         ("snoozed", until))
        self.assert_stored("conversation", conv)
        conv = self.ok("POST", path, {"status": "open"})
        self.assertEqual((conv["status"], conv["snoozed_until"]),
                         ("open", None))
        self.refuse_all("POST", path, [
            ({"status": "snoozed"}, 422, "required", "snoozed_until"),
            ({"status": "snoozed", "snoozed_until": None}, 422, "required",
             "snoozed_until"),
            ({"status": "snoozed", "snoozed_until":
              int(time.time()) - 60}, 422, "invalid", "snoozed_until"),
            ({"status": "snoozed", "snoozed_until": "tomorrow"}, 422,
             "invalid", "snoozed_until"),
            ({"status": "open", "snoozed_until": until}, 422, "invalid",
             "snoozed_until"),
            ({"status": "closed"}, 422, "invalid", "status"),
            ({"status": 5}, 422, "invalid", "status"),
            ({"status": "OPEN"}, 422, "invalid", "status"),
        ])

    def make_labels(self, names):
        """Labels of the shared set (only those can be applied)."""
        have = {x["name"] for x in self.relay.entities("label")
                if x is not None}
        for name in names:
            if name not in have:
                self.ok("POST", "/api/v1/labels", {"name": name}, 201,
                        token=self.root)

    def test_labels_are_added_removed_and_limited(self):
        c = self.new_conversation()
        self.make_labels(["vip", "billing", "\u00e9t\u00e9 " + EMOJI,
                          "one-more"] + ["m%d" % i for i in range(48)])
        path = "/api/v1/conversations/%d/labels" % c["conv"]
        conv = self.ok("POST", path, {"add": ["vip", "billing", "vip"]})
        self.assertEqual(conv["labels"], ["vip", "billing"])
        conv = self.ok("POST", path, {"remove": ["vip", "absent"],
                                      "add": ["\u00e9t\u00e9 " + EMOJI]})
        self.assertEqual(conv["labels"], ["billing",
                                          "\u00e9t\u00e9 " + EMOJI])
        self.assert_stored("conversation", conv)
        self.refuse_all("POST", path, [
            ({"add": ["l%d" % i for i in range(51)]}, 422, "invalid",
             "add"),
            ({"remove": ["l%d" % i for i in range(51)]}, 422, "invalid",
             "remove"),
            ({"add": ["a" * 51]}, 422, "invalid", "add"),
            ({"add": [EMOJI * 25 + "a"]}, 422, "invalid", "add"),
            ({"add": [""]}, 422, "invalid", "add"),
            ({"add": ["a\u0001b"]}, 422, "invalid", "add"),
            ({"add": ["a\u001bb"]}, 422, "invalid", "add"),
            ({"add": ["a\rb"]}, 422, "invalid", "add"),
            ({"add": ["a\u0085b"]}, 422, "invalid", "add"),
            ({"add": ["ok", 5]}, 422, "invalid", "add"),
            ({"add": "vip"}, 422, "invalid", "add"),
            ({"remove": {"vip": True}}, 422, "invalid", "remove"),
            (b'{"add":["a\xffb"]}', 422, "invalid", "add"),
        ])
        # 50 labels fit (two already there); the 51st does not, and a
        # refused add changes nothing.
        conv = self.ok("POST", path, {"add": ["m%d" % i for i in range(48)]})
        self.assertEqual(len(conv["labels"]), 50)
        self.refuse_all("POST", path, [({"add": ["one-more"]}, 422,
                                         "invalid", "add")])
        self.assertEqual(self.relay.entity("conversation",
                                           c["conv"])["labels"],
                         conv["labels"])
        conv = self.ok("POST", path, {"add": ["one-more"],
                                      "remove": ["m0"]})
        self.assertEqual(len(conv["labels"]), 50)
        self.assertIn("one-more", conv["labels"])

    # -- notes -------------------------------------------------------------
    def test_notes_are_stored_with_their_author(self):
        c = self.new_conversation()
        path = "/api/v1/conversations/%d/notes" % c["conv"]
        note = self.ok("POST", path, {"body": "line 1\nline 2\t" + EMOJI},
                       201)
        self.assertEqual((note["kind"], note["conversation_id"],
                          note["agent_id"], note["body"]),
                         ("note", c["conv"], self.agent_ids["alice"],
                          "line 1\nline 2\t" + EMOJI))
        self.assert_stored("note", note)
        self.refuse_all("POST", path, [
            ({}, 422, "required", "body"),
            (b"", 422, "required", "body"),
            ({"body": None}, 422, "required", "body"),
            ({"body": ""}, 422, "invalid", "body"),
            ({"body": 5}, 422, "invalid", "body"),
            ({"body": "n" * 10001}, 422, "invalid", "body"),
            (b'{"body":"bad \xc3\x28 utf8"}', 422, "invalid", "body"),
        ])

    def test_note_is_deleted_by_its_author_or_an_admin_only(self):
        c = self.new_conversation()
        path = "/api/v1/conversations/%d/notes" % c["conv"]
        n1 = self.ok("POST", path, {"body": "alice's"}, 201)
        n2 = self.ok("POST", path, {"body": "alice's too"}, 201)
        # Another agent: 403, and the note stays.
        self.refuse_all("DELETE", "/api/v1/notes/%d" % n1["id"], [
            (None, 403, "forbidden", None)], token=self.bob)
        self.assertEqual(self.relay.entity("note", n1["id"]), n1)
        # An admin may.
        gone = self.ok("DELETE", "/api/v1/notes/%d" % n1["id"], None,
                       token=self.root)
        self.assertEqual(gone, {"kind": "note", "id": n1["id"],
                                "deleted": True})
        # The author may.
        gone = self.ok("DELETE", "/api/v1/notes/%d" % n2["id"], None)
        self.assertEqual(gone["deleted"], True)
        log = {(x["kind"], x["id"]): x for x in self.relay.changes()}
        for n in (n1, n2):
            self.assertEqual((log[("note", n["id"])]["deleted"],
                              log[("note", n["id"])]["data"]), (True, None))
        self.refuse_all("DELETE", "/api/v1/notes/%d" % n1["id"], [
            (None, 404, "not_found", None)], token=self.root)
        self.refuse_all("DELETE", "/api/v1/notes/999999", [
            (None, 404, "not_found", None)])

    # -- contacts ----------------------------------------------------------
    def test_contact_display_name_and_attributes(self):
        c = self.new_conversation()
        path = "/api/v1/contacts/%d" % c["contact"]
        k = self.ok("PATCH", path, {"display_name": "Sheena \u00e9 " + EMOJI,
                                    "attributes": {"tier": "gold",
                                                   "ref.id": "7"}})
        self.assertEqual(k["display_name"], "Sheena \u00e9 " + EMOJI)
        self.assertEqual(k["attributes"], {"tier": "gold", "ref.id": "7"})
        self.assert_stored("contact", k)
        k = self.ok("PATCH", path, {"display_name": None,
                                    "attributes": {"tier": None}})
        self.assertIsNone(k["display_name"])
        self.assertEqual(k["attributes"], {"ref.id": "7"})
        self.assert_stored("contact", k)
        self.refuse_all("PATCH", path, [
            ({"display_name": "a\u0007b"}, 422, "invalid", "display_name"),
            ({"display_name": "a\u001bb"}, 422, "invalid", "display_name"),
            ({"display_name": "a\u009bb"}, 422, "invalid", "display_name"),
            ({"display_name": "d" * 201}, 422, "invalid", "display_name"),
            ({"display_name": 5}, 422, "invalid", "display_name"),
            (b'{"display_name":"\xfe"}', 422, "invalid", "display_name"),
            ({"attributes": "x"}, 422, "invalid", "attributes"),
            ({"attributes": {"Tier": "x"}}, 422, "invalid", "attributes"),
            ({"attributes": {"": "x"}}, 422, "invalid", "attributes"),
            ({"attributes": {"a" * 65: "x"}}, 422, "invalid",
             "attributes"),
            ({"attributes": {"tier": 5}}, 422, "invalid", "tier"),
            ({"attributes": {"tier": "v" * 1001}}, 422, "invalid", "tier"),
        ])
        # At most 100 attributes.
        k = self.ok("PATCH", path, {"attributes": {
            "a%d" % i: "v" for i in range(99)}})
        self.assertEqual(len(k["attributes"]), 100)
        self.refuse_all("PATCH", path, [
            ({"attributes": {"one-more": "v"}}, 422, "invalid",
             "attributes")])
        self.refuse_all("PATCH", "/api/v1/contacts/999999", [
            ({"display_name": "x"}, 404, "not_found", None)])

    # -- orders ------------------------------------------------------------
    def item(self, **kw):
        it = {"product_retailer_id": "sku-1", "quantity": 2,
              "item_price": "7.99", "currency": "EUR"}
        it.update(kw)
        return it

    def test_orders_are_created_and_updated(self):
        c = self.new_conversation()
        o = self.ok("POST", "/api/v1/orders", {
            "contact_id": c["contact"], "text": "for Friday",
            "items": [self.item(), self.item(product_retailer_id="sku-2",
                                             quantity=3,
                                             item_price="0.5")]}, 201)
        self.assertEqual((o["kind"], o["contact_id"], o["currency"],
                          o["total"], o["status"], o["text"]),
                         ("order", c["contact"], "EUR", "17.48", "received",
                          "for Friday"))
        self.assert_stored("order", o)
        o2 = self.ok("PATCH", "/api/v1/orders/%d" % o["id"],
                     {"status": "paid", "items": [self.item(quantity=1)]})
        self.assertEqual((o2["status"], o2["total"], len(o2["items"])),
                         ("paid", "7.99", 1))
        self.assert_stored("order", o2)
        o3 = self.ok("POST", "/api/v1/orders", {
            "contact_id": c["contact"], "status": "pending",
            "items": [self.item(currency="USD")]}, 201)
        self.assertEqual((o3["status"], o3["currency"]), ("pending", "USD"))

    def test_orders_refuse_bad_items(self):
        c = self.new_conversation()
        k = c["contact"]
        self.refuse_all("POST", "/api/v1/orders", [
            ({"items": [self.item()]}, 422, "required", "contact_id"),
            ({"contact_id": "1", "items": [self.item()]}, 422, "invalid",
             "contact_id"),
            ({"contact_id": 999999, "items": [self.item()]}, 422, "invalid",
             "contact_id"),
            ({"contact_id": k}, 422, "required", "items"),
            ({"contact_id": k, "items": []}, 422, "invalid", "items"),
            ({"contact_id": k, "items": [self.item()] * 201}, 422,
             "invalid", "items"),
            ({"contact_id": k, "items": self.item()}, 422, "invalid",
             "items"),
            ({"contact_id": k, "items": ["sku"]}, 422, "invalid", "items"),
            ({"contact_id": k, "items": [self.item(),
                                         self.item(currency="USD")]},
             422, "invalid", "currency"),
            ({"contact_id": k, "items": [self.item(currency="eur")]}, 422,
             "invalid", "currency"),
            ({"contact_id": k, "items": [self.item(currency="EURO")]}, 422,
             "invalid", "currency"),
            ({"contact_id": k, "items": [self.item(quantity=0)]}, 422,
             "invalid", "quantity"),
            ({"contact_id": k, "items": [self.item(quantity=-1)]}, 422,
             "invalid", "quantity"),
            ({"contact_id": k, "items": [self.item(quantity=1.5)]}, 422,
             "invalid", "quantity"),
            ({"contact_id": k, "items": [self.item(quantity=1000001)]}, 422,
             "invalid", "quantity"),
            ({"contact_id": k, "items": [self.item(item_price="abc")]},
             422, "invalid", "item_price"),
            ({"contact_id": k, "items": [self.item(item_price=-1)]}, 422,
             "invalid", "item_price"),
            ({"contact_id": k, "items": [self.item(
                product_retailer_id="")]}, 422, "invalid",
             "product_retailer_id"),
            ({"contact_id": k, "items": [{"quantity": 1, "item_price": "1",
                                          "currency": "EUR"}]},
             422, "required", "product_retailer_id"),
            ({"contact_id": k, "items": [self.item()], "status": "lost"},
             422, "invalid", "status"),
            ({"contact_id": k, "items": [self.item()], "text": "t" * 1001},
             422, "invalid", "text"),
        ])
        o = self.ok("POST", "/api/v1/orders", {"contact_id": k,
                                               "items": [self.item()]}, 201)
        self.refuse_all("PATCH", "/api/v1/orders/%d" % o["id"], [
            ({"items": []}, 422, "invalid", "items"),
            ({"items": [self.item(quantity=0)]}, 422, "invalid",
             "quantity"),
            ({"status": "lost"}, 422, "invalid", "status"),
            ({"contact_id": k}, 422, "unknown_field", "contact_id"),
        ])
        self.refuse_all("PATCH", "/api/v1/orders/999999", [
            ({"status": "paid"}, 404, "not_found", None)])


class HostileInput(RelayCase):
    """Input that once got through: trailing bytes, NUL escapes, newlines
    in one-line members, unknown nested members, ids that are not ids."""

    def test_mark_read_refuses_a_message_id_that_is_not_an_id(self):
        c = self.new_conversation()
        self.refuse_all("POST", "/api/v1/conversations/%d/read" % c["conv"],
                        [({"message_id": "abc"}, 422, "invalid",
                          "message_id"),
                         ({"message_id": 0}, 422, "invalid", "message_id"),
                         ({"message_id": 1.5}, 422, "invalid",
                          "message_id")])

    def test_single_line_members_refuse_newline_and_tab(self):
        c = self.new_conversation()
        self.refuse_all("POST", "/api/v1/conversations/%d/labels" %
                        c["conv"], [({"add": ["a\nb"]}, 422, "invalid",
                                     "add"),
                                    ({"add": ["a\tb"]}, 422, "invalid",
                                     "add")])
        self.refuse_all("PATCH", "/api/v1/contacts/%d" % c["contact"],
                        [({"display_name": "a\nb"}, 422, "invalid",
                          "display_name")])
        self.refuse_all("POST", "/api/v1/conversations/%d/messages" %
                        c["conv"], [({"type": "image", "media": {
                            "link": "https://e.com/\n"}}, 422, "invalid",
                            "link")])

    def test_nul_inside_a_string_is_refused_not_cut(self):
        c = self.new_conversation()
        self.refuse_all("POST", "/api/v1/conversations/%d/messages" %
                        c["conv"], [(b'{"type":"text","text":'
                                     b'"hello\\u0000world"}', 422,
                                     "invalid", "text")])
        self.refuse_all("POST", "/api/v1/conversations/%d/labels" %
                        c["conv"], [(b'{"add":["a\\u0000\\u0007"]}', 422,
                                     "invalid", "add")])
        self.refuse_all("POST", "/api/v1/conversations/%d/messages" %
                        c["conv"], [(b'{"type":"image","media":{"link":'
                                     b'"https://e.com/\\u0000\\nx"}}', 422,
                                     "invalid", "link")])

    def test_nested_objects_refuse_unknown_members(self):
        c = self.new_conversation()
        self.refuse_all("POST", "/api/v1/conversations/%d/messages" %
                        c["conv"], [
                            ({"type": "image", "media": {
                                "id": "1", "bogus": 1}}, 422,
                             "unknown_field", "bogus"),
                            ({"type": "template", "template": {
                                "name": "t", "language": "en",
                                "extra": 1}}, 422, "unknown_field",
                             "extra")])
        self.refuse_all("POST", "/api/v1/orders", [
            ({"contact_id": c["contact"], "items": [{
                "product_retailer_id": "p", "quantity": 1,
                "item_price": "1", "currency": "EUR", "colour": "red"}]},
             422, "unknown_field", "colour")])

    def test_bytes_after_the_json_object_are_refused(self):
        c = self.new_conversation()
        self.refuse_all("POST", "/api/v1/conversations/%d/notes" %
                        c["conv"], [
                            (b'{"body":"x"} trailing', 400, "malformed",
                             None),
                            (b'{"body":"x"}}', 400, "malformed", None),
                            (b'{"body":"x"} {"body":"y"}', 400,
                             "malformed", None)])

    def test_required_means_absent_and_invalid_means_wrong(self):
        c = self.new_conversation()
        self.refuse_all("POST", "/api/v1/conversations/%d/messages" %
                        c["conv"], [
                            ({"type": 5}, 422, "invalid", "type"),
                            ({"type": "template", "template": "x"}, 422,
                             "invalid", "template"),
                            ({"type": "image", "media": "x"}, 422,
                             "invalid", "media")])
        self.refuse_all("POST", "/api/v1/conversations/%d/status" %
                        c["conv"], [({}, 422, "required", "status")])


class Idempotency(RelayCase):
    """Idempotency-Key: one write, its answer replayed."""

    def setUp(self):
        self.c = self.new_conversation()
        self.path = "/api/v1/conversations/%d/messages" % self.c["conv"]

    def with_key(self, key):
        return [m for m in (x["data"] for x in self.relay.changes()
                            if x["kind"] == "message")
                if m["client_id"] == key]

    def test_100_concurrent_sends_with_one_key_make_one_message(self):
        key = "burst-%d" % next(_serial)
        body = json.dumps({"type": "text", "text": "exactly once"}).encode()
        n = 100
        barrier = threading.Barrier(n)
        answers = [None] * n

        def fire(i):
            conn = self.relay.connection(timeout=30)
            try:
                conn.connect()  # TLS first, so the requests go together
                barrier.wait(30)
                conn.request("POST", self.path, body=body, headers={
                    "Authorization": "Bearer " + self.alice,
                    "Content-Type": "application/json",
                    "Idempotency-Key": key})
                resp = conn.getresponse()
                answers[i] = (resp.status,
                              {k.lower(): v for k, v in resp.getheaders()},
                              resp.read())
            except BaseException as e:
                answers[i] = ("exception", repr(e), b"")
            finally:
                conn.close()

        threads = [threading.Thread(target=fire, args=(i,))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads))

        first = [a for a in answers if a[0] == 201 and
                 a[1].get("idempotent-replayed") is None]
        self.assertEqual(len(first), 1, [a[:2] for a in answers])
        message = json.loads(first[0][2])
        kinds = {"first": 0, "replayed": 0, "in_flight": 0}
        for status, headers, raw in answers:
            if (status, headers.get("idempotent-replayed")) == (201, None):
                kinds["first"] += 1
            elif status in (200, 201):
                self.assertEqual(headers.get("idempotent-replayed"), "true")
                self.assertEqual(json.loads(raw), message)
                kinds["replayed"] += 1
            else:
                self.assertEqual(status, 409, (status, headers, raw))
                self.assertEqual(json.loads(raw)["error"]["code"],
                                 "idempotency_key_in_flight")
                self.assertEqual(headers.get("retry-after"), "1")
                kinds["in_flight"] += 1
        self.assertEqual(sum(kinds.values()), n)
        stored = self.with_key(key)
        self.assertEqual(len(stored), 1, stored)
        self.assertEqual(stored[0], message)

        # One more retry, after all of them: the same answer, replayed.
        status, headers, again = self.api("POST", self.path, body,
                                          headers={"Idempotency-Key": key})
        self.assertIn(status, (200, 201))
        self.assertEqual(headers.get("idempotent-replayed"), "true")
        self.assertEqual(again, message)
        self.assertEqual(len(self.with_key(key)), 1)

    def test_same_key_for_another_request_is_refused(self):
        key = "reuse-%d" % next(_serial)
        m = self.ok("POST", self.path, {"type": "text", "text": "one"}, 201,
                    headers={"Idempotency-Key": key})
        other = self.new_conversation()
        for path, body in [
                (self.path, {"type": "text", "text": "two"}),
                (self.path, {"type": "text", "text": "one", "preview_url":
                             False}),
                ("/api/v1/conversations/%d/messages" % other["conv"],
                 {"type": "text", "text": "one"}),
                ("/api/v1/conversations/%d/notes" % self.c["conv"],
                 {"body": "one"})]:
            with self.subTest(path=path, body=body):
                self.refused("POST", path, body, 422,
                             "idempotency_key_reused", None,
                             headers={"Idempotency-Key": key})
        self.assertEqual(self.with_key(key), [m])
        self.assertEqual([n for n in self.relay.changes()
                          if n["kind"] == "note" and n["data"] and
                          n["data"]["body"] == "one"], [])

    def test_key_length_and_characters(self):
        body = {"type": "text", "text": "k"}
        m = self.ok("POST", self.path, body, 201,
                    headers={"Idempotency-Key": "k" * 255})
        self.assertEqual(m["client_id"], "k" * 255)
        before = self.head()
        for key in ("k" * 256, "k" * 4000, "", "a\u0001b", "a\u007fb"):
            with self.subTest(key=key[:20]):
                self.refused("POST", self.path, body, 400,
                             "bad_idempotency_key", "Idempotency-Key",
                             headers={"Idempotency-Key": key})
        self.assertEqual(self.head(), before)

    def test_same_key_from_another_agent_is_independent(self):
        key = "shared-%d" % next(_serial)
        body = {"type": "text", "text": "same words"}
        a = self.ok("POST", self.path, body, 201, token=self.alice,
                    headers={"Idempotency-Key": key})
        status, headers, b = self.api("POST", self.path, body,
                                      token=self.bob,
                                      headers={"Idempotency-Key": key})
        self.assertEqual(status, 201, b)
        self.assertIsNone(headers.get("idempotent-replayed"))
        self.assertNotEqual(a["id"], b["id"])
        self.assertEqual(b["agent_id"], self.agent_ids["bob"])
        self.assertEqual(sorted(m["id"] for m in self.with_key(key)),
                         sorted([a["id"], b["id"]]))

    def test_a_refused_request_may_be_corrected_under_the_same_key(self):
        key = "fix-%d" % next(_serial)
        self.refused("POST", self.path, {"type": "text"}, 422, "required",
                     "text", headers={"Idempotency-Key": key})
        closed = self.new_conversation(ts=int(time.time()) - 25 * 3600)
        cpath = "/api/v1/conversations/%d/messages" % closed["conv"]
        self.refused("POST", cpath, {"type": "text", "text": "late"}, 422,
                     "window_closed", "type",
                     headers={"Idempotency-Key": key})
        m = self.ok("POST", self.path, {"type": "text", "text": "fixed"},
                    201, headers={"Idempotency-Key": key})
        self.assertEqual(self.with_key(key), [m])

    def test_other_writes_replay_too(self):
        key = "note-%d" % next(_serial)
        npath = "/api/v1/conversations/%d/notes" % self.c["conv"]
        note = self.ok("POST", npath, {"body": "once"}, 201,
                       headers={"Idempotency-Key": key})
        status, headers, again = self.api("POST", npath, {"body": "once"},
                                          headers={"Idempotency-Key": key})
        self.assertEqual((status, headers.get("idempotent-replayed"),
                          again), (201, "true", note))
        notes = [n for n in self.relay.changes() if n["kind"] == "note"
                 and n["data"] and n["data"]["body"] == "once"]
        self.assertEqual(len(notes), 1)

    def test_answer_is_replayed_after_a_kill_and_restart(self):
        key = "durable-%d" % next(_serial)
        body = {"type": "text", "text": "before the crash"}
        m = self.ok("POST", self.path, body, 201,
                    headers={"Idempotency-Key": key})
        self.relay.kill()
        self.relay.start()
        status, headers, again = self.api("POST", self.path, body,
                                          headers={"Idempotency-Key": key})
        self.assertEqual(status, 201, again)
        self.assertEqual(headers.get("idempotent-replayed"), "true")
        self.assertEqual(again, m)
        self.assertEqual(self.with_key(key), [m])
        self.refused("POST", self.path, {"type": "text", "text": "other"},
                     422, "idempotency_key_reused", None,
                     headers={"Idempotency-Key": key})


if __name__ == "__main__":
    unittest.main()
