"""Read receipts end to end: an agent marks a conversation read through the
agent API, the real glivi-relay tells glivi-sim (standing in for Meta)
with {"messaging_product":"whatsapp","status":"read","message_id":WAMID}
for the newest inbound message the agent read, and the simulator records
every mark-read it accepts (/_sim/read).

Covered: the newest inbound message, or the newest at or before the
message the agent names (an outbound reply included); nothing marked
twice, nothing older marked after something newer; several reads while
Meta is away coalesce to the newest, which survives a relay restart;
transient refusals retried, permanent ones dropped and counted; the
option off sends nothing. Every wait is on a condition; where a test
asserts that something did not happen, a later event that the relay
handles after it is the witness.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
import test_outbound as T  # noqa: E402
from apiclient import api  # noqa: E402


def metrics(relay):
    status, _, body = relay.request("GET", "/metrics")
    assert status == 200, status
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


class ReadReceipts(T.OutboundCase):

    def writes(self, p, wa_id, text):
        """The customer writes through the simulator; returns (conversation
        id, message id, wamid)."""
        doc = p.control("POST", "inbound", {"number": R.MAIN, "from": wa_id,
                                            "name": "Customer",
                                            "text": text})
        self.assertEqual(doc["relay_status"], 200, doc)
        m = p.relay.message(doc["wamid"])
        return m["conversation_id"], m["id"], doc["wamid"]

    def read(self, p, conv, message_id=None):
        body = {} if message_id is None else {"message_id": message_id}
        status, _, doc = api(p.relay, p.agent, "POST",
                             "/api/v1/conversations/%d/read" % conv, body)
        self.assertEqual(status, 200, doc)
        return doc

    def marked(self, p):
        return [r["message_id"] for r in p.control("GET", "read")]

    def wait_marked(self, p, want, what):
        T.wait_for(lambda: len(self.marked(p)) >= len(want), what)
        self.assertEqual(self.marked(p), want)

    def test_1_newest_inbound_marked_once(self):
        p = self.pair()
        wa_id = T.customer()
        conv, m1, w1 = self.writes(p, wa_id, "one")
        _, m2, w2 = self.writes(p, wa_id, "two")
        reply = p.queue(conv, {"type": "text", "text": "a reply"})
        p.wait_message(reply, self.ended({"delivered", "read"}),
                       "the reply to be delivered")
        # Read up to the agent's own reply: the newest of the customer's
        # messages before it is marked.
        self.read(p, conv, reply)
        self.wait_marked(p, [w2], "the first read receipt")
        r = p.control("GET", "read")[0]
        self.assertEqual((r["number"], r["typing_indicator"]),
                         (R.MAIN, False))

        # Reading it again, or an older message, marks nothing; a newer
        # message is marked once the agent reads it.
        self.read(p, conv, m2)
        self.read(p, conv, m1)
        _, m3, w3 = self.writes(p, wa_id, "three")
        self.read(p, conv)
        self.wait_marked(p, [w2, w3], "the second read receipt")
        st = p.stats()
        self.assertEqual((st["mark_read"], st["sends_refused"]), (2, 0), st)
        m = metrics(p.relay)
        self.assertEqual(m["glivi_read_receipts_sent_total"], 2, m)
        self.assertEqual(m["glivi_read_receipts_dropped_total"], 0, m)
        self.assertEqual(m["glivi_read_receipts_queued"], 0, m)
        # The agent's read is stored as before, message ids unchanged.
        self.assertEqual(p.relay.entity("conversation", conv)["read_by"],
                         {"1": m3})

    def test_2_reads_while_meta_is_away_coalesce_and_survive_a_restart(self):
        p = self.pair()
        wa_id = T.customer()
        conv, m1, _ = self.writes(p, wa_id, "one")
        _, m2, _ = self.writes(p, wa_id, "two")
        _, m3, w3 = self.writes(p, wa_id, "three")
        p.stop_sim()
        self.read(p, conv, m1)
        # Tried and refused (nobody listens): owed, for a retry.
        T.wait_for(lambda: "read receipt for conversation %d not sent" % conv
                   in p.relay.read_log(), "the first try to fail")
        self.read(p, conv, m2)
        self.read(p, conv)
        self.assertEqual(metrics(p.relay)["glivi_read_receipts_queued"], 1)
        p.restart_relay()
        p.start_sim(["--all-windows-open"])
        self.wait_marked(p, [w3], "the newest read to be marked")
        # A witness that nothing else is owed: a reply goes out after it
        # and nothing more was marked.
        reply = p.queue(conv, {"type": "text", "text": "back"})
        p.wait_message(reply, self.ended({"delivered", "read"}),
                       "the reply to be delivered")
        self.assertEqual(self.marked(p), [w3])
        self.assertEqual(metrics(p.relay)["glivi_read_receipts_queued"], 0)

    def test_3_transient_refusal_retried(self):
        p = self.pair()
        wa_id = T.customer()
        conv, _, w1 = self.writes(p, wa_id, "one")
        p.control("POST", "inject", {"error": "server_error",
                                     "on": "mark_read"})
        self.read(p, conv)
        self.wait_marked(p, [w1], "the retried read receipt")
        st = p.stats()
        self.assertEqual((st["mark_read"], st["sends_refused"]), (1, 1), st)
        m = metrics(p.relay)
        self.assertEqual(m["glivi_read_receipts_retried_total"], 1, m)
        self.assertEqual(m["glivi_read_receipts_sent_total"], 1, m)

    def test_4_permanent_refusal_dropped_and_counted(self):
        p = self.pair()
        wa_id = T.customer()
        conv, _, _ = self.writes(p, wa_id, "one")
        p.control("POST", "inject", {"error": "window_closed",
                                     "on": "mark_read"})
        self.read(p, conv)
        T.wait_for(lambda: metrics(p.relay).get(
            "glivi_read_receipts_dropped_total") == 1,
            "the refused receipt to be dropped")
        log = p.relay.read_log()
        self.assertIn("read receipt for conversation %d dropped: HTTP 400, "
                      "code 131047" % conv, log)
        # Dropped, not retried: a newer read goes out alone.
        _, _, w2 = self.writes(p, wa_id, "two")
        self.read(p, conv)
        self.wait_marked(p, [w2], "the newer read receipt")
        st = p.stats()
        self.assertEqual((st["mark_read"], st["sends_refused"]), (1, 1), st)
        # The log names conversations and codes, never a wamid's text or
        # a body.
        self.assertNotIn('"status":"read"', log)

    def test_5_option_off_sends_nothing(self):
        p = self.pair(outbound={"read_receipts": "false"})
        wa_id = T.customer()
        conv, _, _ = self.writes(p, wa_id, "one")
        self.read(p, conv)
        # A witness the sender went past the read: a reply delivered.
        reply = p.queue(conv, {"type": "text", "text": "a reply"})
        p.wait_message(reply, self.ended({"delivered", "read"}),
                       "the reply to be delivered")
        self.assertEqual(self.marked(p), [])
        self.assertEqual(p.stats()["mark_read"], 0)
        self.assertEqual(p.relay.counts()["read_receipts"], 0)


if __name__ == "__main__":
    unittest.main()
