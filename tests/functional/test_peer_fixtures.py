"""Webhooks written by other WhatsApp libraries' test suites.

Each payload in ../shared/fixtures/peer-webhooks is POSTed, signed, to a
fresh relay that serves its phone numbers; every one must get 200, and the
facts EXPECT.json derives from its bytes must be in the store. The folder
is read in place when present (it is never copied into this repository).
"""
import json
import os
import shutil
import tempfile
import unittest

import relay
from relay import Relay

PEER = os.path.join(relay.SHARED, "fixtures", "peer-webhooks")
EXPECT = os.path.join(PEER, "EXPECT.json")


def numbers_of(facts):
    ids = [p for p in facts["phone_number_ids"] if p]
    return {"n%d" % i: p for i, p in enumerate(ids)} or {"unused": "0"}


@unittest.skipUnless(os.path.exists(EXPECT), "shared peer fixtures absent")
class PeerFixtures(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(EXPECT) as f:
            cls.expect = json.load(f)["files"]
        cls.certdir = tempfile.mkdtemp(prefix="glivi-peer-certs-")
        cls.certs = relay.make_certs(cls.certdir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def test_every_peer_fixture_is_acknowledged_and_kept(self):
        self.assertEqual(len(self.expect), 73)
        for name, facts in sorted(self.expect.items()):
            with self.subTest(fixture=name):
                self.check(name, facts)

    def check(self, name, facts):
        with open(os.path.join(PEER, name), "rb") as f:
            body = f.read()
        with Relay(numbers=numbers_of(facts), certs=self.certs) as r:
            status, _, answer = r.post_webhook(body)
            self.assertEqual(status, 200, answer)
            self.assertEqual(r.counts()["webhooks"], 1)
            seen = set()
            for change in facts["changes"]:
                if change["field"] != "messages":
                    continue
                for m in change["messages"]:
                    if m["id"] in seen:
                        continue  # a later duplicate of the same wamid
                    seen.add(m["id"])
                    self.check_message(r, change, m)
                self.check_statuses(r, change)

    def check_message(self, r, change, m):
        got = r.message(m["id"])
        self.assertIsNotNone(got, "message %s not stored" % m["id"])
        if m.get("type"):
            self.assertEqual(got["type"], m["type"])
        if "text" in m:
            self.assertEqual(got["text"], m["text"])
        if "caption" in m:
            self.assertEqual(got["media"]["caption"], m["caption"])
        if "filename" in m:
            self.assertEqual(got["media"]["filename"], m["filename"])
        if "title" in m:
            self.assertEqual(got["text"], m["title"])
        if m.get("type") == "reaction":
            self.assertEqual(got["target_wamid"], m["reaction_message_id"])
            self.assertEqual(got["wa"]["reaction"].get("emoji"),
                             m["reaction_emoji"])
        if "order_product_retailer_ids" in m:
            order = r.entity("order", got["order_id"])
            self.assertEqual([i["product_retailer_id"]
                              for i in order["items"]],
                             m["order_product_retailer_ids"])
        if "edit_original_id" in m:
            self.assertEqual(got["target_wamid"], m["edit_original_id"])
        if "revoke_original_id" in m:
            self.assertEqual(got["target_wamid"], m["revoke_original_id"])
        if "error_codes" in m:
            self.assertEqual([e.get("code") for e in got["wa"]["errors"]],
                             m["error_codes"])
        # The sender is a contact with the profile name WhatsApp sent.
        sender = m.get("from_user_id") or m.get("from")
        for c in change["contacts"]:
            if sender in (c.get("wa_id"), c.get("user_id")) and c.get("name"):
                conv = r.entity("conversation", got["conversation_id"])
                contact = r.entity("contact", conv["contact_id"])
                self.assertEqual(contact["profile_name"], c["name"])

    def check_statuses(self, r, change):
        by_id = {}
        for s in change["statuses"]:
            by_id.setdefault(s["id"], []).append(s)
        for wamid, sts in by_id.items():
            got = r.message(wamid)
            if not any(s.get("recipient_id") or s.get("recipient_user_id")
                       for s in sts):
                continue  # no one to file it under; kept in statuses only
            self.assertIsNotNone(got, "status of %s left no trace" % wamid)
            if len(sts) == 1:
                self.assertEqual(got["status"], sts[0]["status"])
            for s in sts:
                if s.get("error_codes"):
                    self.assertEqual(got["failure"]["code"],
                                     s["error_codes"][0])


if __name__ == "__main__":
    unittest.main()
