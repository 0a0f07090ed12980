"""The shared inbox on the relay: a conversation's history (status,
assignment, labels: who and when), reopening on a customer's message and
when a snooze ends, the shared set of labels and canned replies (admins
manage them: validation, 403 for agents, idempotent replays), notes'
@mentions, presence that ends with an agent's last stream, round-robin
auto-assignment, and a glivi-tui cache that receives all of it.
"""
import json
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
import test_api_writes as W  # noqa: E402
from apiclient import Stream, api, stop_relay, text_webhook  # noqa: E402
from client import Client  # noqa: E402

EMOJI = "\U0001F600"


class InboxCase(W.RelayCase):
    """RelayCase's relay and agents (root admin, alice, bob), and helpers
    for the inbox's entities."""

    def history(self, conv):
        return sorted((h for h in self.relay.entities("history")
                       if h["conversation_id"] == conv),
                      key=lambda h: h["id"])

    def label(self, name, color=None):
        body = {"name": name}
        if color is not None:
            body["color"] = color
        return self.ok("POST", "/api/v1/labels", body, 201, token=self.root)

    def labels_path(self, conv):
        return "/api/v1/conversations/%d/labels" % conv

    def status(self, conv, status, until=None, token=None):
        body = {"status": status}
        if until is not None:
            body["snoozed_until"] = until
        return self.ok("POST", "/api/v1/conversations/%d/status" % conv,
                       body, token=token)

    def inbound(self, wa_id):
        body, wamid = text_webhook(wa_id)
        st, _, _ = self.relay.post_webhook(body)
        self.assertEqual(st, 200)
        return wamid

    def assert_replays(self, method, path, body, status, token=None,
                       other=None):
        """The same request under one Idempotency-Key twice: one change,
        the same answer replayed; the key with another (valid) body is
        422."""
        key = {"Idempotency-Key": "k-%d-%s" % (time.time_ns(), path)}
        first = self.ok(method, path, body, status, token=token,
                        headers=key)
        head = self.head()
        got, hdrs, again = self.api(method, path, body, token, key)
        self.assertEqual((got, again), (status, first))
        self.assertEqual(hdrs.get("idempotent-replayed"), "true")
        self.assertEqual(self.head(), head, "a replay changed the store")
        if other is not None:
            got, _, err = self.api(method, path, other, token, key)
            self.assertEqual(got, 422, err)
            self.assertEqual(err["error"]["code"], "idempotency_key_reused")
        return first


class History(InboxCase):

    def test_status_changes_are_history_lines_with_who_and_when(self):
        c = self.new_conversation()
        before = int(time.time())
        self.status(c["conv"], "resolved")
        self.status(c["conv"], "pending", token=self.bob)
        until = int(time.time()) + 3600
        conv = self.status(c["conv"], "snoozed", until)
        self.assertEqual((conv["status"], conv["snoozed_until"]),
                         ("snoozed", until))
        conv = self.status(c["conv"], "open")
        self.assertIsNone(conv["snoozed_until"])
        h = self.history(c["conv"])
        self.assertEqual([(x["action"], x["details"]["status"],
                           x["details"]["previous_status"], x["agent_id"])
                          for x in h],
                         [("status", "resolved", "open",
                           self.agent_ids["alice"]),
                          ("status", "pending", "resolved",
                           self.agent_ids["bob"]),
                          ("status", "snoozed", "pending",
                           self.agent_ids["alice"]),
                          ("status", "open", "snoozed",
                           self.agent_ids["alice"])])
        self.assertEqual(h[0]["text"], "alice resolved the conversation")
        self.assertEqual(h[1]["text"], "bob marked the conversation pending")
        self.assertEqual(h[2]["details"]["snoozed_until"], until)
        self.assertIn(time.strftime("%Y-%m-%d %H:%M UTC",
                                    time.gmtime(until)), h[2]["text"])
        self.assertEqual(h[3]["text"], "alice reopened the conversation")
        for x in h:
            self.assertGreaterEqual(x["created_at"], before)
            self.assertIsNone(x["reason"])
            self.assertEqual(x["kind"], "history")

    def test_setting_the_same_status_again_records_and_stamps_nothing(self):
        c = self.new_conversation()
        self.status(c["conv"], "resolved")
        head, n = self.head(), len(self.history(c["conv"]))
        self.status(c["conv"], "resolved")
        self.assertEqual(self.head(), head)
        self.assertEqual(len(self.history(c["conv"])), n)

    def test_assignment_handover_and_unassignment_are_recorded(self):
        c = self.new_conversation()
        path = "/api/v1/conversations/%d/assign" % c["conv"]
        self.ok("POST", path, {"agent": "alice"})
        self.ok("POST", path, {"agent": "bob"})
        self.ok("POST", path, {"agent": "bob"})  # no change, no line
        self.ok("POST", path, {"agent": None}, token=self.bob)
        self.ok("POST", path, {"agent": "bob"}, token=self.root)
        h = [x for x in self.history(c["conv"]) if x["action"] == "assign"]
        ids = self.agent_ids
        self.assertEqual([(x["agent_id"], x["details"]["assignee_id"],
                           x["details"]["previous_assignee_id"], x["text"])
                          for x in h],
                         [(ids["alice"], ids["alice"], None,
                           "alice took the conversation"),
                          (ids["alice"], ids["bob"], ids["alice"],
                           "alice handed the conversation over from alice "
                           "to bob"),
                          (ids["bob"], None, ids["bob"], "bob unassigned bob"),
                          (ids["root"], ids["bob"], None,
                           "root assigned the conversation to bob")])

    def test_label_changes_are_recorded(self):
        c = self.new_conversation()
        self.label("hist-vip")
        self.label("hist-billing")
        path = self.labels_path(c["conv"])
        self.ok("POST", path, {"add": ["hist-vip", "hist-billing"]})
        self.ok("POST", path, {"remove": ["hist-vip"]}, token=self.bob)
        self.ok("POST", path, {"remove": ["hist-vip"]})  # nothing to do
        h = [x for x in self.history(c["conv"]) if x["action"] == "labels"]
        self.assertEqual([(x["details"], x["text"]) for x in h], [
            ({"added": ["hist-vip", "hist-billing"], "removed": []},
             "alice added the labels hist-vip, hist-billing"),
            ({"added": [], "removed": ["hist-vip"]},
             "bob removed the label hist-vip")])

    def test_a_replayed_status_change_adds_no_second_line(self):
        c = self.new_conversation()
        self.assert_replays("POST", "/api/v1/conversations/%d/status" %
                            c["conv"], {"status": "resolved"}, 200,
                            other={"status": "pending"})
        self.assertEqual(len(self.history(c["conv"])), 1)

    def test_replayed_assignments_and_label_changes_add_no_second_line(
            self):
        c = self.new_conversation()
        self.label("replay-label")
        self.assert_replays("POST", "/api/v1/conversations/%d/assign" %
                            c["conv"], {"agent": "bob"}, 200,
                            other={"agent": "alice"})
        self.assert_replays("POST", self.labels_path(c["conv"]),
                            {"add": ["replay-label"]}, 200,
                            other={"remove": ["replay-label"]})
        self.assertEqual([x["action"] for x in self.history(c["conv"])],
                         ["assign", "labels"])


class Reopen(InboxCase):

    def test_a_customers_message_reopens_a_resolved_conversation(self):
        c = self.new_conversation()
        self.status(c["conv"], "resolved")
        self.inbound(c["wa_id"])
        conv = self.relay.entity("conversation", c["conv"])
        self.assertEqual(conv["status"], "open")
        last = self.history(c["conv"])[-1]
        self.assertEqual((last["action"], last["agent_id"], last["reason"],
                          last["details"]["previous_status"], last["text"]),
                         ("status", None, "inbound", "resolved",
                          "The customer wrote again: reopened"))

    def test_a_customers_message_ends_a_snooze(self):
        c = self.new_conversation()
        self.status(c["conv"], "snoozed", int(time.time()) + 3600)
        self.inbound(c["wa_id"])
        conv = self.relay.entity("conversation", c["conv"])
        self.assertEqual((conv["status"], conv["snoozed_until"]),
                         ("open", None))
        self.assertEqual(self.history(c["conv"])[-1]["reason"], "inbound")

    def test_a_message_to_an_open_or_pending_conversation_changes_nothing(
            self):
        c = self.new_conversation()
        self.inbound(c["wa_id"])
        self.status(c["conv"], "pending")
        self.inbound(c["wa_id"])
        self.assertEqual(self.relay.entity("conversation",
                                           c["conv"])["status"], "pending")
        self.assertEqual([x["details"]["status"] for x in
                          self.history(c["conv"])], ["pending"])

    def test_a_retried_delivery_does_not_reopen(self):
        c = self.new_conversation()
        body, _ = text_webhook(c["wa_id"])
        self.assertEqual(self.relay.post_webhook(body)[0], 200)
        self.status(c["conv"], "resolved")
        self.assertEqual(self.relay.post_webhook(body)[0], 200)
        self.assertEqual(self.relay.entity("conversation",
                                           c["conv"])["status"], "resolved")

    def test_a_snooze_that_ends_reopens_the_conversation_once(self):
        c, later = self.new_conversation(), self.new_conversation()
        start = time.time()
        self.status(c["conv"], "snoozed", int(start) + 2)
        self.status(later["conv"], "snoozed", int(start) + 3600)
        R.wait_for(lambda: self.relay.entity(
            "conversation", c["conv"])["status"] == "open", timeout=15,
            what="the snooze to end")
        self.assertGreaterEqual(time.time(), int(start) + 2)
        conv = self.relay.entity("conversation", c["conv"])
        self.assertIsNone(conv["snoozed_until"])
        # Once: a later commit (which wakes the timer) adds no other line.
        self.status(later["conv"], "pending")
        ended = [x for x in self.history(c["conv"])
                 if x["reason"] == "snooze_expired"]
        self.assertEqual(len(ended), 1)
        self.assertEqual((ended[0]["agent_id"], ended[0]["text"],
                          ended[0]["details"]["previous_status"]),
                         (None, "The snooze ended: reopened", "snoozed"))

    def test_a_snooze_moved_later_does_not_end_at_the_first_time(self):
        c, marker = self.new_conversation(), self.new_conversation()
        now = int(time.time())
        self.status(c["conv"], "snoozed", now + 2)
        self.status(c["conv"], "snoozed", now + 3600)
        self.status(marker["conv"], "snoozed", now + 3)
        R.wait_for(lambda: self.relay.entity(
            "conversation", marker["conv"])["status"] == "open",
            timeout=15, what="the marker's snooze to end")
        conv = self.relay.entity("conversation", c["conv"])
        self.assertEqual((conv["status"], conv["snoozed_until"]),
                         ("snoozed", now + 3600))


class Labels(InboxCase):

    def test_an_admin_creates_a_label_and_it_syncs(self):
        lab = self.label("Urgent " + EMOJI, "#FF8800")
        self.assertEqual(set(lab), {"kind", "id", "name", "color",
                                    "created_at", "updated_at"})
        self.assertEqual((lab["kind"], lab["name"], lab["color"]),
                         ("label", "Urgent " + EMOJI, "#FF8800"))
        self.assert_stored("label", lab)
        plain = self.label("plain-label")
        self.assertIsNone(plain["color"])

    def test_label_names_are_unique_whatever_their_case(self):
        self.label("Dup-Case")
        self.refuse_all("POST", "/api/v1/labels", [
            ({"name": "dup-case"}, 409, "exists", "name"),
            ({"name": "DUP-CASE"}, 409, "exists", "name")], token=self.root)

    def test_label_writes_refuse_bad_input(self):
        lab = self.label("valid-one")
        cases = [
            ({}, 422, "required", "name"),
            ({"name": ""}, 422, "invalid", "name"),
            ({"name": None}, 422, "required", "name"),
            ({"name": 5}, 422, "invalid", "name"),
            ({"name": "a" * 51}, 422, "invalid", "name"),
            ({"name": EMOJI * 25 + "a"}, 422, "invalid", "name"),
            ({"name": "a\nb"}, 422, "invalid", "name"),
            ({"name": "a\u001bb"}, 422, "invalid", "name"),
            ({"name": "a\u0085b"}, 422, "invalid", "name"),
            ({"name": " lead"}, 422, "invalid", "name"),
            ({"name": "trail "}, 422, "invalid", "name"),
            ({"name": "x", "color": "red"}, 422, "invalid", "color"),
            ({"name": "x", "color": "#12345"}, 422, "invalid", "color"),
            ({"name": "x", "color": "#1234567"}, 422, "invalid", "color"),
            ({"name": "x", "color": "#12345g"}, 422, "invalid", "color"),
            ({"name": "x", "color": 255}, 422, "invalid", "color"),
            ({"name": "x", "colour": "#123456"}, 422, "unknown_field",
             "colour"),
            (b'{"name":"a\\u0000b"}', 422, "invalid", "name"),
            (b'{"name":"a\xffb"}', 422, "invalid", "name"),
            (b"[]", 400, "malformed", None),
            (b"{", 400, "malformed", None),
            ({"name": "x" * 100000}, 422, "invalid", "name"),
        ]
        self.refuse_all("POST", "/api/v1/labels", cases, token=self.root)
        self.refuse_all("PATCH", "/api/v1/labels/%d" % lab["id"],
                        [c for c in cases if c[0] != {} and
                         c[0] != {"name": None}] +
                        [({"name": None}, 422, "invalid", "name")],
                        token=self.root)

    def test_agents_may_not_manage_labels(self):
        lab = self.label("admins-only")
        for token in (self.alice, self.bob):
            self.refuse_all("POST", "/api/v1/labels", [
                ({"name": "by-agent"}, 403, "forbidden", None)], token=token)
            self.refuse_all("PATCH", "/api/v1/labels/%d" % lab["id"], [
                ({"name": "renamed"}, 403, "forbidden", None)],
                token=token)
            self.refuse_all("DELETE", "/api/v1/labels/%d" % lab["id"], [
                (None, 403, "forbidden", None)], token=token)

    def test_unknown_labels_are_404(self):
        self.refuse_all("PATCH", "/api/v1/labels/999999",
                        [({"color": "#000000"}, 404, "not_found", None)],
                        token=self.root)
        self.refuse_all("DELETE", "/api/v1/labels/999999",
                        [(None, 404, "not_found", None)], token=self.root)

    def test_label_writes_replay_under_their_idempotency_key(self):
        lab = self.assert_replays("POST", "/api/v1/labels",
                                  {"name": "replayed"}, 201, self.root,
                                  other={"name": "replayed-2"})
        self.assertEqual([x["name"] for x in self.relay.entities("label")
                          if x is not None].count("replayed"), 1)
        self.assert_replays("PATCH", "/api/v1/labels/%d" % lab["id"],
                            {"color": "#010203"}, 200, self.root,
                            other={"color": "#040506"})
        self.assert_replays("DELETE", "/api/v1/labels/%d" % lab["id"],
                            None, 200, self.root)

    def test_only_existing_labels_can_be_applied(self):
        c = self.new_conversation()
        self.label("Known")
        self.refuse_all("POST", self.labels_path(c["conv"]), [
            ({"add": ["never-made"]}, 422, "unknown_label", "add"),
            ({"add": ["Known", "never-made"]}, 422, "unknown_label", "add"),
        ])
        # Any agent applies it, in any case; it is stored as the set
        # spells it. Removing goes by name, any case.
        conv = self.ok("POST", self.labels_path(c["conv"]),
                       {"add": ["known"]}, token=self.bob)
        self.assertEqual(conv["labels"], ["Known"])
        conv = self.ok("POST", self.labels_path(c["conv"]),
                       {"remove": ["KNOWN", "never-made"]})
        self.assertEqual(conv["labels"], [])

    def test_renaming_a_label_renames_it_on_every_conversation(self):
        a, b = self.new_conversation(), self.new_conversation()
        lab = self.label("old-name", "#000000")
        other = self.label("other-label")
        for c in (a, b):
            self.ok("POST", self.labels_path(c["conv"]),
                    {"add": ["old-name", "other-label"]})
        lab2 = self.ok("PATCH", "/api/v1/labels/%d" % lab["id"],
                       {"name": "new-name"}, token=self.root)
        self.assertEqual((lab2["name"], lab2["color"]),
                         ("new-name", "#000000"))
        for c in (a, b):
            self.assertEqual(self.relay.entity("conversation", c["conv"])
                             ["labels"], ["new-name", "other-label"])
        self.refuse_all("PATCH", "/api/v1/labels/%d" % lab["id"], [
            ({"name": "Other-Label"}, 409, "exists", "name")],
            token=self.root)
        # The colour alone; null clears it. A change of case only is fine.
        lab3 = self.ok("PATCH", "/api/v1/labels/%d" % lab["id"],
                       {"color": None, "name": "New-Name"}, token=self.root)
        self.assertEqual((lab3["name"], lab3["color"]), ("New-Name", None))
        self.assertEqual(self.relay.entity("conversation", a["conv"])
                         ["labels"], ["New-Name", "other-label"])
        self.assertEqual(other["name"], "other-label")
        # What is already so changes nothing.
        head = self.head()
        same = self.ok("PATCH", "/api/v1/labels/%d" % lab["id"],
                       {"name": "New-Name", "color": None}, token=self.root)
        self.assertEqual(same, self.relay.entity("label", lab["id"]))
        self.ok("PATCH", "/api/v1/labels/%d" % lab["id"], {},
                token=self.root)
        self.assertEqual(self.head(), head)

    def test_deleting_a_label_removes_it_from_conversations(self):
        c, d = self.new_conversation(), self.new_conversation()
        lab = self.label("doomed")
        self.label("keeper")
        self.ok("POST", self.labels_path(c["conv"]),
                {"add": ["doomed", "keeper"]})
        self.ok("POST", self.labels_path(d["conv"]), {"add": ["keeper"]})
        gone = self.ok("DELETE", "/api/v1/labels/%d" % lab["id"], None,
                       token=self.root)
        self.assertEqual(gone, {"kind": "label", "id": lab["id"],
                                "deleted": True})
        self.assertEqual(self.relay.entity("conversation", c["conv"])
                         ["labels"], ["keeper"])
        self.assertEqual(self.relay.entity("conversation", d["conv"])
                         ["labels"], ["keeper"])
        tomb = [x for x in self.relay.changes()
                if x["kind"] == "label" and x["id"] == lab["id"]]
        self.assertEqual([(x["deleted"], x["data"]) for x in tomb],
                         [(True, None)])
        last = self.history(c["conv"])[-1]
        self.assertEqual((last["action"], last["reason"],
                          last["agent_id"], last["details"]["removed"],
                          last["text"]),
                         ("labels", "label_deleted", self.agent_ids["root"],
                          ["doomed"], "root deleted the label doomed"))
        self.assertEqual([x["action"] for x in self.history(d["conv"])],
                         ["labels"])
        self.refuse_all("POST", self.labels_path(c["conv"]), [
            ({"add": ["doomed"]}, 422, "unknown_label", "add")])


class Canned(InboxCase):
    path = "/api/v1/canned_replies"

    def canned(self, shortcut, text):
        return self.ok("POST", self.path, {"shortcut": shortcut,
                                           "text": text}, 201,
                       token=self.root)

    def test_an_admin_creates_edits_and_deletes_a_canned_reply(self):
        text = "Hallo {{contact.first_name}}, hier ist {{ agent.name }}.\n" \
               "Ihre Bestellung {{conversation.id}} " + EMOJI
        c = self.canned("hallo", text)
        self.assertEqual(set(c), {"kind", "id", "shortcut", "text",
                                  "agent_id", "created_at", "updated_at"})
        self.assertEqual((c["kind"], c["shortcut"], c["text"],
                          c["agent_id"]),
                         ("canned_reply", "hallo", text,
                          self.agent_ids["root"]))
        self.assert_stored("canned_reply", c)
        c2 = self.ok("PATCH", "%s/%d" % (self.path, c["id"]),
                     {"text": "Moin {{contact.name}}"}, token=self.root)
        self.assertEqual((c2["shortcut"], c2["text"]),
                         ("hallo", "Moin {{contact.name}}"))
        c3 = self.ok("PATCH", "%s/%d" % (self.path, c["id"]),
                     {"shortcut": "moin"}, token=self.root)
        self.assertEqual((c3["shortcut"], c3["text"]),
                         ("moin", "Moin {{contact.name}}"))
        head = self.head()
        self.assertEqual(self.ok("PATCH", "%s/%d" % (self.path, c["id"]),
                                 {"shortcut": "moin"}, token=self.root), c3)
        self.assertEqual(self.head(), head)
        gone = self.ok("DELETE", "%s/%d" % (self.path, c["id"]), None,
                       token=self.root)
        self.assertEqual(gone, {"kind": "canned_reply", "id": c["id"],
                                "deleted": True})
        self.refuse_all("DELETE", "%s/%d" % (self.path, c["id"]),
                        [(None, 404, "not_found", None)], token=self.root)

    def test_canned_writes_refuse_bad_input(self):
        c = self.canned("valid", "ok")
        cases = [
            ({"shortcut": "x"}, 422, "required", "text"),
            ({"shortcut": "x", "text": ""}, 422, "invalid", "text"),
            ({"shortcut": "x", "text": 5}, 422, "invalid", "text"),
            ({"shortcut": "x", "text": "a" * 4097}, 422, "invalid", "text"),
            ({"shortcut": "x", "text": "a\u001bb"}, 422, "invalid", "text"),
            ({"shortcut": "x", "text": "Hi {{contact.email}}"}, 422,
             "unknown_placeholder", "text"),
            ({"shortcut": "x", "text": "Hi {{ nope }}"}, 422,
             "unknown_placeholder", "text"),
            ({"shortcut": "", "text": "t"}, 422, "invalid", "shortcut"),
            ({"shortcut": "Upper", "text": "t"}, 422, "invalid",
             "shortcut"),
            ({"shortcut": "a b", "text": "t"}, 422, "invalid", "shortcut"),
            ({"shortcut": "\u00e9t\u00e9", "text": "t"}, 422, "invalid",
             "shortcut"),
            ({"shortcut": "a" * 33, "text": "t"}, 422, "invalid",
             "shortcut"),
            ({"shortcut": 7, "text": "t"}, 422, "invalid", "shortcut"),
            ({"shortcut": None, "text": "t"}, 422, "invalid", "shortcut"),
            ({"shortcut": "x", "text": "t", "title": "t"}, 422,
             "unknown_field", "title"),
            (b'{"shortcut":"x","text":"a\\u0000"}', 422, "invalid", "text"),
            (b'{"shortcut":"x","text":"\xff"}', 422, "invalid", "text"),
            (b"{}x", 400, "malformed", None),
        ]
        self.refuse_all("POST", self.path, [({}, 422, "required",
                                             "shortcut")] + cases,
                        token=self.root)
        self.refuse_all("PATCH", "%s/%d" % (self.path, c["id"]),
                        [x for x in cases if x[3] != "text" or
                         x[2] != "required"], token=self.root)
        self.refuse_all("PATCH", "%s/999999" % self.path,
                        [({"text": "t"}, 404, "not_found", None)],
                        token=self.root)
        # Plain braces that are no placeholder are text.
        self.canned("braces", "{ } {{ }} {{a b}}")

    def test_shortcuts_are_unique(self):
        self.canned("taken", "one")
        other = self.canned("free", "two")
        self.refuse_all("POST", self.path, [
            ({"shortcut": "taken", "text": "t"}, 409, "exists",
             "shortcut")], token=self.root)
        self.refuse_all("PATCH", "%s/%d" % (self.path, other["id"]), [
            ({"shortcut": "taken"}, 409, "exists", "shortcut")],
            token=self.root)

    def test_agents_may_not_manage_canned_replies(self):
        c = self.canned("admin-made", "t")
        for token in (self.alice, self.bob):
            self.refuse_all("POST", self.path, [
                ({"shortcut": "mine", "text": "t"}, 403, "forbidden", None)],
                token=token)
            self.refuse_all("PATCH", "%s/%d" % (self.path, c["id"]), [
                ({"text": "x"}, 403, "forbidden", None)], token=token)
            self.refuse_all("DELETE", "%s/%d" % (self.path, c["id"]), [
                (None, 403, "forbidden", None)], token=token)

    def test_canned_writes_replay_under_their_idempotency_key(self):
        c = self.assert_replays("POST", self.path,
                                {"shortcut": "again", "text": "t"}, 201,
                                self.root, other={"shortcut": "again",
                                                  "text": "u"})
        self.assert_replays("PATCH", "%s/%d" % (self.path, c["id"]),
                            {"text": "u"}, 200, self.root,
                            other={"text": "v"})
        self.assert_replays("DELETE", "%s/%d" % (self.path, c["id"]), None,
                            200, self.root)


class Mentions(InboxCase):

    def test_a_note_records_its_mentions_and_tells_the_mentioned(self):
        c = self.new_conversation()
        bob = Stream(self.relay, self.bob)
        alice = Stream(self.relay, self.alice)
        try:
            note = self.ok("POST", "/api/v1/conversations/%d/notes" %
                           c["conv"], {"body": "@bob, see this. cc @root. "
                                       "not@alice @nobody @bob again"},
                           201)
            ids = self.agent_ids
            self.assertEqual(note["mentions"], [ids["bob"], ids["root"]])
            self.assert_stored("note", note)
            got = bob.until(lambda e: e["event"] == "mention")[-1]
            self.assertEqual(json.loads(got["data"]), {
                "note_id": note["id"], "conversation_id": c["conv"],
                "agent_id": ids["alice"], "agent": "alice",
                "at": note["created_at"]})
            self.assertIsNone(got["id"])
            # alice was not mentioned: her stream gets the note's change
            # and no mention.
            evs = alice.until(lambda e: e["event"] == "change" and
                              json.loads(e["data"])["kind"] == "note")
            self.assertNotIn("mention", [e["event"] for e in evs])
            # A note mentioning nobody has an empty list.
            plain = self.ok("POST", "/api/v1/conversations/%d/notes" %
                            c["conv"], {"body": "mail bob@example.com"},
                            201)
            self.assertEqual(plain["mentions"], [])
        finally:
            bob.close()
            alice.close()

    def test_a_replayed_note_tells_nobody_again(self):
        c = self.new_conversation()
        path = "/api/v1/conversations/%d/notes" % c["conv"]
        key = {"Idempotency-Key": "mention-%d" % time.time_ns()}
        bob = Stream(self.relay, self.bob)
        try:
            self.ok("POST", path, {"body": "@bob once"}, 201, headers=key)
            bob.until(lambda e: e["event"] == "mention")
            self.ok("POST", path, {"body": "@bob once"}, 201, headers=key)
            # A presence event after the replay: nothing before it.
            self.ok("POST", "/api/v1/presence", {"conversation_id":
                                                 c["conv"],
                                                 "state": "viewing"}, 204)
            evs = bob.until(lambda e: e["event"] == "presence")
            self.assertNotIn("mention", [e["event"] for e in evs])
        finally:
            bob.close()
            self.ok("POST", "/api/v1/presence", {"conversation_id":
                                                 c["conv"], "state": "idle"},
                    204)


class Presence(InboxCase):
    """A relay whose heartbeat is 1 s: a stream whose client went away is
    noticed when the relay next writes to it (a ping at the latest)."""

    relay_args = {"server_extra": "heartbeat = 1s\n"}

    def presence(self, token=None):
        return self.ok("GET", "/api/v1/presence", None, token=token)

    def test_an_agents_presence_ends_with_its_last_stream(self):
        c = self.new_conversation()
        watcher = Stream(self.relay, self.bob)
        first = second = None
        try:
            first = Stream(self.relay, self.alice)
            on = watcher.until(lambda e: e["event"] == "online" and
                               json.loads(e["data"])["agent"] == "alice")[-1]
            self.assertEqual(json.loads(on["data"])["agent"], "alice")
            self.assertTrue(json.loads(on["data"])["online"])
            second = Stream(self.relay, self.alice)
            self.ok("POST", "/api/v1/presence",
                    {"conversation_id": c["conv"], "state": "typing"}, 204)
            watcher.until(lambda e: e["event"] == "presence")
            now = self.presence(self.bob)
            self.assertIn({"agent_id": self.agent_ids["alice"],
                           "agent": "alice"}, now["online"])
            self.assertIn(("alice", c["conv"], "typing"),
                          [(p["agent"], p["conversation_id"], p["state"])
                           for p in now["presence"]])
            # One of two streams goes: alice is still there.
            first.close()
            first = None
            R.wait_for(lambda: len([a for a in self.presence()["online"]
                                    if a["agent"] == "alice"]) == 1,
                       what="one stream of alice's to close")
            self.assertIn("typing", [p["state"] for p in
                                     self.presence()["presence"]])
            # The last one goes: idle for her, and offline.
            second.close()
            second = None
            evs = watcher.until(lambda e: e["event"] == "online" and
                                not json.loads(e["data"])["online"])
            idle = [json.loads(e["data"]) for e in evs
                    if e["event"] == "presence"]
            self.assertIn(("alice", c["conv"], "idle"),
                          [(p["agent"], p["conversation_id"], p["state"])
                           for p in idle])
            now = self.presence(self.bob)
            self.assertNotIn("alice", [a["agent"] for a in now["online"]])
            self.assertNotIn("alice", [p["agent"] for p in now["presence"]])
        finally:
            for s in (watcher, first, second):
                if s is not None:
                    s.close()

    def test_presence_is_remembered_only_for_agents_online_and_bounded(
            self):
        # bob holds no stream (an earlier test's is noticed gone within
        # a heartbeat): his presence is fanned out, not kept.
        R.wait_for(lambda: "bob" not in [a["agent"] for a in
                                         self.presence()["online"]],
                   what="bob's earlier streams to end")
        self.ok("POST", "/api/v1/presence", {"conversation_id": 1,
                                             "state": "typing"}, 204,
                token=self.bob)
        self.assertNotIn("bob", [p["agent"] for p in
                                 self.presence()["presence"]])
        s = Stream(self.relay, self.bob)
        try:
            R.wait_for(lambda: "bob" in [a["agent"] for a in
                                         self.presence()["online"]],
                       what="bob online")
            for conv in range(1, 41):
                self.ok("POST", "/api/v1/presence",
                        {"conversation_id": 100000 + conv,
                         "state": "viewing"}, 204, token=self.bob)
            mine = [p["conversation_id"] for p in
                    self.presence()["presence"] if p["agent"] == "bob"]
            self.assertEqual(len(mine), 16)
            self.assertIn(100040, mine)
        finally:
            s.close()

    def test_idle_forgets_a_presence(self):
        c = self.new_conversation()
        for state in ("viewing", "idle"):
            self.ok("POST", "/api/v1/presence",
                    {"conversation_id": c["conv"], "state": state}, 204,
                    token=self.bob)
        self.assertNotIn(("bob", c["conv"]),
                         [(p["agent"], p["conversation_id"])
                          for p in self.presence()["presence"]])


class AutoAssign(unittest.TestCase):
    """[inbox] auto_assign = round-robin on a relay of its own."""

    def setUp(self):
        self.relay = r = R.Relay(extra="[inbox]\nauto_assign = round-robin\n")
        try:
            r.start()
            self.tokens = {n: r.cli("agent", "add", n).stdout.decode().strip()
                           for n in ("ann", "ben", "cat")}
            self.ids = {a["data"]["name"]: a["id"] for a in r.changes()
                        if a["kind"] == "agent"}
        except BaseException:
            r.close()
            raise
        self.streams = []

    def tearDown(self):
        for s in self.streams:
            s.close()
        stop_relay(self.relay)

    def conversation(self):
        wa_id = "4917%08d" % (time.time_ns() % 10 ** 8)
        body, wamid = text_webhook(wa_id)
        self.assertEqual(self.relay.post_webhook(body)[0], 200)
        m = self.relay.message(wamid)
        return self.relay.entity("conversation", m["conversation_id"])

    def online(self, name):
        s = Stream(self.relay, self.tokens[name])
        self.streams.append(s)
        R.wait_for(lambda: name in [a["agent"] for a in api(
            self.relay, self.tokens[name], "GET",
            "/api/v1/presence")[2]["online"]], what=name + " online")

    def test_new_conversations_go_round_the_agents_online(self):
        # Nobody online: it waits, unassigned.
        self.assertIsNone(self.conversation()["assignee_id"])
        self.online("ann")
        self.online("cat")
        got = [self.conversation()["assignee_id"] for _ in range(4)]
        self.assertEqual(got, [self.ids["ann"], self.ids["cat"],
                               self.ids["ann"], self.ids["cat"]])
        conv = self.conversation()
        h = [x["data"] for x in self.relay.changes()
             if x["kind"] == "history" and
             x["data"]["conversation_id"] == conv["id"]]
        self.assertEqual([(x["action"], x["reason"], x["agent_id"],
                           x["text"]) for x in h],
                         [("assign", "auto_assign", None,
                           "Assigned to ann automatically")])
        # A later message of an assigned conversation changes nothing.
        before = conv["assignee_id"]
        body, _ = text_webhook(self.relay.entity(
            "contact", conv["contact_id"])["wa_id"])
        self.relay.post_webhook(body)
        self.assertEqual(self.relay.entity("conversation", conv["id"])
                         ["assignee_id"], before)


class Upgrade(unittest.TestCase):
    """A store of schema 3, whose conversations carry labels from before
    the shared set, upgraded by this relay."""

    def test_labels_in_use_join_the_set_and_sync(self):
        r = R.Relay()
        try:
            r.start()
            token = r.cli("agent", "add", "alice").stdout.decode().strip()
            convs = []
            for i in range(3):
                body, wamid = text_webhook("4913%08d" % i)
                self.assertEqual(r.post_webhook(body)[0], 200)
                convs.append(r.message(wamid)["conversation_id"])
            self.assertEqual(r.stop(), 0)
            head = max(c["seq"] for c in r.changes())
            # Back to schema 3, as a relay before the shared inbox left it.
            db = sqlite3.connect(r.db)
            db.executescript(
                "DROP TABLE history; DROP TABLE labels;"
                "DROP TABLE canned_replies; DROP INDEX conversations_snoozed;"
                "ALTER TABLE notes DROP COLUMN mentions;"
                "DROP TABLE audit;"
                "ALTER TABLE numbers DROP COLUMN disconnected_at;"
                "PRAGMA user_version = 3;")
            db.execute("UPDATE conversations SET labels = ? WHERE id = ?",
                       (json.dumps(["vip", "billing"]), convs[0]))
            db.execute("UPDATE conversations SET labels = ? WHERE id = ?",
                       (json.dumps(["VIP", "old " + EMOJI, "vip"]),
                        convs[1]))
            db.commit()
            db.close()
            r.start()
            status, _, page = api(r, token, "GET", "/api/v1/sync")
            self.assertEqual(status, 200, page)
            labels = [e for e in page["events"] if e["kind"] == "label"]
            self.assertEqual(sorted(e["data"]["name"] for e in labels),
                             sorted(["vip", "billing", "old " + EMOJI]))
            self.assertTrue(all(e["seq"] > head for e in labels))
            seqs = [e["seq"] for e in page["events"]]
            self.assertEqual(len(seqs), len(set(seqs)))
            # Applying one in use works; a new change comes after them.
            status, _, conv = api(r, token, "POST",
                                  "/api/v1/conversations/%d/labels" %
                                  convs[2], {"add": ["Billing"]})
            self.assertEqual((status, conv["labels"]), (200, ["billing"]),
                             conv)
            self.assertGreater(max(c["seq"] for c in r.changes()),
                               max(e["seq"] for e in labels))
            # Renaming "vip" renames "VIP" too, into one label.
            vip = [e["id"] for e in labels if e["data"]["name"] == "vip"][0]
            admin = r.cli("agent", "add", "root", "--role",
                          "admin").stdout.decode().strip()
            status, _, _ = api(r, admin, "PATCH", "/api/v1/labels/%d" % vip,
                               {"name": "Vip"})
            self.assertEqual(status, 200)
            self.assertEqual(r.entity("conversation", convs[1])["labels"],
                             ["Vip", "old " + EMOJI])
            # Deleting it takes it from every conversation.
            status, _, _ = api(r, admin, "DELETE", "/api/v1/labels/%d" % vip)
            self.assertEqual(status, 200)
            self.assertEqual(r.entity("conversation", convs[0])["labels"],
                             ["billing"])
            self.assertEqual(r.entity("conversation", convs[1])["labels"],
                             ["old " + EMOJI])
        finally:
            stop_relay(r)


class ClientReceives(InboxCase):
    """glivi-tui sync (headless) keeps labels, canned replies and history
    in its cache, and drops what the relay deletes."""

    def test_the_client_cache_holds_labels_canned_replies_and_history(self):
        c = self.new_conversation()
        lab = self.label("client-vip", "#00ff00")
        gone = self.label("client-gone")
        can = self.ok("POST", "/api/v1/canned_replies",
                      {"shortcut": "thx", "text": "Thanks {{contact.name}}"},
                      201, token=self.root)
        self.ok("POST", self.labels_path(c["conv"]),
                {"add": ["client-vip", "client-gone"]})
        self.status(c["conv"], "resolved")
        cl = Client("https://localhost:%d" % self.relay.port, self.alice,
                    ca_file=self.relay.ca)
        try:
            cl.sync()
            db = sqlite3.connect(cl.cache_path())
            try:
                labels = {r[0]: (r[1], json.loads(r[2])) for r in
                          db.execute("SELECT id, name, data FROM labels")}
                self.assertEqual(labels[lab["id"]][0], "client-vip")
                self.assertEqual(labels[lab["id"]][1]["color"], "#00ff00")
                canned = db.execute("SELECT shortcut, data FROM "
                                    "canned_replies WHERE id = ?",
                                    (can["id"],)).fetchone()
                self.assertEqual(canned[0], "thx")
                hist = [json.loads(r[0]) for r in db.execute(
                    "SELECT data FROM history WHERE conversation_id = ? "
                    "ORDER BY id", (c["conv"],))]
                self.assertEqual([h["text"] for h in hist], [
                    "alice added the labels client-vip, client-gone",
                    "alice resolved the conversation"])
            finally:
                db.close()
            exported = cl.export(c["conv"])
            self.assertEqual([h["text"] for h in exported["history"]],
                             [h["text"] for h in hist])
            self.assertEqual(sorted(exported["conversation"]["labels"]),
                             ["client-gone", "client-vip"])
            counts = cl.status()["counts"]
            self.assertEqual(counts["labels"], 2)
            self.assertEqual(counts["canned_replies"], 1)
            self.assertEqual(counts["history"], 2)
            self.ok("DELETE", "/api/v1/labels/%d" % gone["id"], None,
                    token=self.root)
            self.ok("DELETE", "/api/v1/canned_replies/%d" % can["id"], None,
                    token=self.root)
            cl.sync()
            db = sqlite3.connect(cl.cache_path())
            try:
                self.assertEqual(db.execute(
                    "SELECT count(*) FROM labels WHERE id = ?",
                    (gone["id"],)).fetchone()[0], 0)
                self.assertEqual(db.execute(
                    "SELECT count(*) FROM canned_replies").fetchone()[0], 0)
                self.assertEqual(db.execute(
                    "SELECT count(*) FROM history WHERE conversation_id = ?",
                    (c["conv"],)).fetchone()[0], 3)
            finally:
                db.close()
        finally:
            cl.close()


if __name__ == "__main__":
    unittest.main()
