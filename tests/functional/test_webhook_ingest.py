"""The real relay over HTTPS stores every webhook type exactly once.

Signed fixtures from tests/fixtures/webhooks (see its README for the facts
asserted here) are POSTed to a running glivi-relay; what was stored is read
back through the relay's own read path (`glivi-relay inspect`), which
builds the same entities the sync API serves.
"""
import json
import os
import unittest

import relay
from relay import Relay


def fixtures():
    return sorted(f for f in os.listdir(relay.FIXTURES) if f.endswith(".json"))


class EveryTypeIsStored(unittest.TestCase):
    """All fixtures posted once, in file order, to one relay."""

    @classmethod
    def setUpClass(cls):
        cls.r = Relay().start()
        cls.statuses = {}
        # The OUT-1 statuses go last and in reverse, to test ordering.
        out1 = ["statuses-failed.json", "statuses-read.json",
                "statuses-delivered.json", "statuses-sent.json"]
        names = [f for f in fixtures() if f not in out1] + out1
        for name in names:
            status, _, body = cls.r.post_fixture(name)
            cls.statuses[name] = (status, body)

    @classmethod
    def tearDownClass(cls):
        cls.r.close()

    def msg(self, wamid):
        m = self.r.message(wamid)
        self.assertIsNotNone(m, "message %s was not stored" % wamid)
        return m

    def test_every_fixture_is_acknowledged_200(self):
        for name, (status, body) in self.statuses.items():
            self.assertEqual(status, 200, "%s: %s" % (name, body))

    def test_text_with_escapes_decodes_surrogate_pairs_and_slashes(self):
        m = self.msg("wamid.T-text-1")
        want = ('Hi! Order 5531 arrived \u2014 danke sch\u00f6n, tr\u00e8s '
                '"bien" \U0001F44D\nSee https://example.com/a')
        self.assertEqual(m["text"], want)
        self.assertEqual(len(m["text"].encode()), 84)
        self.assertEqual(m["direction"], "in")
        self.assertEqual(m["type"], "text")
        self.assertEqual(m["timestamp"], 1785312000)
        self.assertEqual(m["number"], "main")

    def test_compact_raw_utf8_text(self):
        m = self.msg("wamid.T-text-compact-1")
        # Revoked later in the run (revoke.json): content is gone.
        self.assertTrue(m["revoked"])
        self.assertIsNone(m["text"])

    def test_media_keeps_id_mime_sha256_filename_caption(self):
        img = self.msg("wamid.T-image-1")
        self.assertEqual(img["media"]["id"], "1479537139650973")
        self.assertEqual(img["media"]["mime_type"], "image/jpeg")
        self.assertEqual(img["media"]["sha256"],
                         "kBkEMupSmie6bnuCZJtKEi6EYS7NwkbnxbJ0G7gdB98=")
        self.assertEqual(img["text"],
                         "\u041a\u043e\u0440\u043e\u0431\u043a\u0430 "
                         "\u043f\u0440\u0438\u0448\u043b\u0430 "
                         "\u043f\u043e\u0432\u0440\u0435\u0436\u0434\u0451"
                         "\u043d\u043d\u043e\u0439 \U0001F4E6")
        doc = self.msg("wamid.T-document-1")
        self.assertEqual(doc["media"]["filename"],
                         "Factura 5531 \u2013 M\u00e4rz.pdf")
        self.assertEqual(doc["media"]["caption"],
                         "Rechnung f\u00fcr Bestellung 5531")
        self.assertEqual(doc["media"]["mime_type"], "application/pdf")
        voice = self.msg("wamid.T-audio-1")
        self.assertIs(voice["media"]["voice"], True)
        self.assertEqual(voice["media"]["mime_type"],
                         "audio/ogg; codecs=opus")
        sticker = self.msg("wamid.T-sticker-1")
        self.assertIs(sticker["media"]["animated"], False)
        video = self.msg("wamid.T-video-1")
        self.assertEqual(video["text"], "Olha como o produto chegou")
        self.assertTrue(video["media"]["url"].startswith(
            "https://lookaside.fbsbx.com/"))

    def test_location_contacts_interactive_and_button(self):
        loc = self.msg("wamid.T-location-1")
        self.assertEqual(loc["wa"]["location"]["latitude"], 51.5033635)
        self.assertEqual(loc["wa"]["location"]["longitude"], -0.1276248)
        self.assertEqual(loc["text"], "Pickup point Westminster")
        cards = self.msg("wamid.T-contacts-1")["wa"]["contacts"]
        self.assertEqual(len(cards), 2)
        self.assertEqual(cards[1]["name"]["formatted_name"],
                         "Anja K\u00f6hler")
        self.assertEqual(cards[0]["phones"][0]["wa_id"], "919845012345")
        b = self.msg("wamid.T-ibutton-1")
        self.assertEqual(b["text"], "Change")
        self.assertEqual(b["wa"]["context"]["id"], "wamid.BIZ-buttons-1")
        lst = self.msg("wamid.T-ilist-1")
        self.assertEqual(lst["wa"]["interactive"]["list_reply"]
                         ["description"], "Delivery between 14:00 and 18:00")
        nfm = self.msg("wamid.T-inform-1")
        inner = json.loads(nfm["wa"]["interactive"]["nfm_reply"]
                           ["response_json"])
        self.assertEqual(inner["comment"], 'Fast "and" friendly')
        btn = self.msg("wamid.T-button-1")
        self.assertEqual(btn["text"], "Yes, confirm")
        self.assertEqual(btn["wa"]["button"]["payload"], "CONFIRM_ORDER_5531")

    def test_reaction_removed_leaves_no_reaction_on_the_target(self):
        # reaction.json, then reaction-removed.json and
        # reaction-removed-empty.json (posted in that file order, all
        # with later timestamps) end with no reaction.
        target = self.msg("wamid.T-text-1")
        self.assertIsNone(target["reaction"])
        react = self.msg("wamid.T-reaction-1")
        self.assertEqual(react["target_wamid"], "wamid.T-text-1")
        self.assertEqual(react["wa"]["reaction"]["emoji"], "\U0001F602")

    def test_edit_is_applied_to_the_original(self):
        self.assertEqual(self.msg("wamid.T-text-1")["edited_text"],
                         "corrected text")

    def test_order_becomes_an_order_entity_with_total(self):
        m = self.msg("wamid.T-order-1")
        order = self.r.entity("order", m["order_id"])
        self.assertEqual(order["total"], "29.48")
        self.assertEqual(order["currency"], "EUR")
        self.assertEqual([i["product_retailer_id"] for i in order["items"]],
                         ["di9ozbzfi4", "mug-blue-350", "sticker-pack-s"])
        self.assertEqual([i["quantity"] for i in order["items"]], [2, 1, 3])
        self.assertEqual(order["text"], "Bitte nach 18 Uhr liefern")
        self.assertEqual(order["conversation_id"], m["conversation_id"])

    def test_number_change_links_old_and_new_number(self):
        m = self.msg("wamid.T-system-1")
        conv = self.r.entity("conversation", m["conversation_id"])
        contact = self.r.entity("contact", conv["contact_id"])
        self.assertEqual(contact["wa_id"], "16505559876")
        self.assertIn("16505551234", contact["previous_wa_ids"])

    def test_referral_context_and_forwards_are_kept(self):
        ref = self.msg("wamid.T-referral-1")
        self.assertEqual(ref["wa"]["referral"]["source_type"], "ad")
        self.assertEqual(ref["wa"]["referral"]["source_id"],
                         "120226305854810726")
        reply = self.msg("wamid.T-reply-1")
        self.assertEqual(reply["wa"]["context"]["id"], "wamid.BIZ-quoted-1")
        self.assertEqual(reply["timestamp"], 1785312190)  # a JSON integer
        self.assertIs(self.msg("wamid.T-forwarded-1")["wa"]["context"]
                      ["forwarded"], True)
        self.assertIs(self.msg("wamid.T-forwarded-2")["wa"]["context"]
                      ["frequently_forwarded"], True)

    def test_unsupported_and_unknown_types_are_kept_and_marked(self):
        u = self.msg("wamid.T-unsupported-1")
        self.assertEqual(u["type"], "unsupported")
        self.assertEqual(u["wa"]["errors"][0]["code"], 131051)
        h = self.msg("wamid.T-hologram-1")
        self.assertEqual(h["type"], "hologram")
        self.assertIs(h["unknown_type"], True)
        self.assertEqual(h["wa"]["hologram"], {"id": "x", "depth": 3})

    def test_user_without_phone_number_is_a_first_class_contact(self):
        m = self.msg("wamid.T-bsuid-1")
        conv = self.r.entity("conversation", m["conversation_id"])
        contact = self.r.entity("contact", conv["contact_id"])
        self.assertIsNone(contact["wa_id"])
        self.assertEqual(contact["user_id"], "US.13491208655302741918")
        self.assertEqual(contact["username"], "@someone")
        self.assertEqual(contact["profile_name"], "Kai Nakamura")

    def test_contact_keeps_profile_name_and_links_bsuid(self):
        m = self.msg("wamid.T-referral-1")
        conv = self.r.entity("conversation", m["conversation_id"])
        contact = self.r.entity("contact", conv["contact_id"])
        self.assertEqual(contact["wa_id"], "5511987654321")
        self.assertEqual(contact["user_id"], "BR.10483920175530418842")
        self.assertEqual(contact["profile_name"], "Jo\u00e3o Silva")

    def test_statuses_in_reverse_order_end_at_read_with_failure_kept(self):
        out = self.msg("wamid.OUT-1")
        self.assertEqual(out["direction"], "out")
        self.assertEqual(out["status"], "read")
        self.assertEqual(out["failure"]["code"], 131047)
        self.assertEqual(self.msg("wamid.OUT-2")["status"], "played")

    def test_batch_is_routed_by_phone_number_id(self):
        self.assertEqual(self.msg("wamid.T-multi-1")["number"], "main")
        self.assertEqual(self.msg("wamid.T-multi-2")["number"], "main")
        self.assertEqual(self.msg("wamid.T-multi-3")["number"], "second")
        self.assertEqual(self.msg("wamid.OUT-3")["status"], "delivered")

    def test_unknown_number_is_quarantined_not_mixed_in(self):
        self.assertIsNone(self.r.message("wamid.T-unknown-number-1"))
        self.assertEqual(self.r.counts()["quarantine"], 1)

    def test_echo_from_the_business_app_is_outbound(self):
        m = self.msg("wamid.T-echo-1")
        self.assertEqual(m["direction"], "out")
        self.assertEqual(m["text"],
                         "Hi Sheena, your order 5531 ships tomorrow.")

    def test_template_status_update_becomes_a_template(self):
        t = self.r.entities("template")
        self.assertEqual(len(t), 1)
        self.assertEqual(t[0]["template_id"], "1689556908129832")
        self.assertEqual(t[0]["status"], "APPROVED")
        self.assertEqual(t[0]["name"], "order_update_v2")

    def test_value_errors_and_other_fields_are_recorded(self):
        # value-errors.json and user-preferences.json
        self.assertEqual(self.r.counts()["events"], 2)

    def test_conversation_tracks_last_inbound_for_the_window(self):
        m = self.msg("wamid.T-text-1")
        conv = self.r.entity("conversation", m["conversation_id"])
        self.assertGreaterEqual(conv["last_inbound_at"], 1785312000)
        self.assertEqual(conv["status"], "open")

    def test_changes_are_in_strictly_increasing_seq_order(self):
        seqs = [c["seq"] for c in self.r.changes()]
        self.assertEqual(seqs, sorted(set(seqs)))
        kinds = {c["kind"] for c in self.r.changes()}
        self.assertEqual(kinds, {"contact", "conversation", "message",
                                 "order", "template"})


class RetriesAreStoredOnce(unittest.TestCase):

    def test_same_delivery_twice_stores_once(self):
        with Relay() as r:
            for _ in range(2):
                self.assertEqual(r.post_fixture("text.json")[0], 200)
            c = r.counts()
            self.assertEqual((c["webhooks"], c["messages"]), (1, 1))

    def test_retry_with_other_bytes_same_wamid_stores_once(self):
        with Relay() as r:
            with open(os.path.join(relay.FIXTURES, "text.json"), "rb") as f:
                body = f.read()
            pretty = json.dumps(json.loads(body), indent=4).encode()
            self.assertEqual(r.post_webhook(body)[0], 200)
            self.assertEqual(r.post_webhook(pretty)[0], 200)
            c = r.counts()
            self.assertEqual((c["webhooks"], c["messages"]), (2, 1))

    def test_statuses_in_every_order_end_at_the_highest(self):
        import itertools
        names = ["statuses-sent.json", "statuses-delivered.json",
                 "statuses-read.json"]
        with Relay() as r:
            # Each permutation on its own wamid, so one relay serves all.
            for n, perm in enumerate(itertools.permutations(names)):
                for name in perm:
                    with open(os.path.join(relay.FIXTURES, name)) as f:
                        body = f.read().replace("wamid.OUT-1",
                                                "wamid.PERM-%d" % n)
                    self.assertEqual(r.post_webhook(body)[0], 200)
            for n in range(6):
                self.assertEqual(r.message("wamid.PERM-%d" % n)["status"],
                                 "read")

    def test_stored_data_survives_a_restart(self):
        with Relay() as r:
            self.assertEqual(r.post_fixture("order.json")[0], 200)
            r.stop()
            r.start()
            self.assertEqual(r.post_fixture("order.json")[0], 200)
            c = r.counts()
            self.assertEqual((c["messages"], c["orders"]), (1, 1))


if __name__ == "__main__":
    unittest.main()
