"""Message templates from the Graph API: the real glivi-relay reads each
configured WABA's list from glivi-sim (GET message_templates, every page)
at start and every [outbound] template_refresh, and agents get them as
template entities through /api/v1/sync and /api/v1/events.

Covered: the list reaches sync and the stream; a WABA shared by two
numbers is read once; a refresh that finds nothing new changes nothing
(no re-stamped entities); a change on Meta's side (a status, a new
template, one gone: a tombstone) shows after the next refresh, read over
several pages; a status webhook's reason outlives lists that give none; failed and hostile answers (HTTP errors, not JSON, a page
past 4 MiB, paging that goes round in a circle or points elsewhere, a next
page without a cursor, unusable entries) are logged, tried again, and
change nothing they should not; the relay goes on serving meanwhile.
Refreshes come every second here; every wait is on a condition.
"""
import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
import test_outbound as T  # noqa: E402
import test_sim as S  # noqa: E402
from apiclient import Stream, api  # noqa: E402
from test_read_receipts import metrics  # noqa: E402

FAST = {"template_refresh": "1s"}
BOTH = {"wabas": {"main": S.WABA, "second": S.WABA}}
MAIN_ONLY = {"wabas": {"main": S.WABA}}


def key(t):
    return (t["name"], t["language"])


class Templates(T.OutboundCase):

    def sync(self, p, since=None):
        """Every event after since; returns (events, cursor)."""
        events, cursor = [], since
        while True:
            path = "/api/v1/sync?limit=1000"
            if cursor:
                path += "&since=" + cursor
            status, _, doc = api(p.relay, p.agent, "GET", path)
            self.assertEqual(status, 200, doc)
            events += doc["events"]
            cursor = doc["cursor"]
            if not doc["more"]:
                return events, cursor

    def templates(self, p, since=None):
        events, cursor = self.sync(p, since)
        return [e for e in events if e["kind"] == "template"], cursor

    def wait_listed(self, p, n):
        """Waits for n live templates; returns them by (name, language)
        and the cursor after them."""
        def cond():
            ts, cursor = self.templates(p)
            live = [e["data"] for e in ts if not e["deleted"]]
            return ({key(t): t for t in live}, cursor) \
                if len(live) == n else None
        return T.wait_for(cond, "%d templates in sync" % n)

    def reads(self, p):
        return metrics(p.relay)

    def wait_reads(self, p, what, since=None, lists=0, failures=0):
        """Waits until lists more lists were read and failures more reads
        failed than in since (a metrics reading taken before whatever
        causes them; now if None)."""
        m = since or self.reads(p)
        want_l = m["glivi_template_lists_read_total"] + lists
        want_f = m["glivi_template_list_failures_total"] + failures
        T.wait_for(lambda: (lambda n: n["glivi_template_lists_read_total"]
                            >= want_l and
                            n["glivi_template_list_failures_total"] >=
                            want_f)(self.reads(p)), what)

    def sim_list(self, p):
        return p.control("GET", "templates")["templates"]

    def test_1_listed_templates_reach_sync_once_per_waba(self):
        p = self.pair(outbound=FAST, relay_kw=BOTH)
        by, cursor = self.wait_listed(p, 4)
        self.assertEqual(set(by), {("hello_world", "en_US"),
                                   ("order_update", "en_US"),
                                   ("order_update", "de"),
                                   ("welcome_back", "en_US")})
        t = by[("order_update", "en_US")]
        self.assertEqual((t["waba_id"], t["template_id"], t["status"],
                          t["category"], t["parameter_format"]),
                         (S.WABA, "1192837465019284", "APPROVED", "UTILITY",
                          "POSITIONAL"))
        body = [c for c in t["components"] if c["type"] == "BODY"][0]
        self.assertIn("{{2}}", body["text"])
        self.assertIsNone(t["reason"])
        # Two numbers of one WABA: one list to read. And a refresh that
        # finds the same list stamps nothing.
        self.assertIn("templates: 1 WABA to read, every 1 s",
                      p.relay.read_log())
        self.wait_reads(p, "two more refreshes", lists=2)
        events, _ = self.sync(p, cursor)
        self.assertEqual(events, [])
        self.assertNotIn("Hi {{1}}", p.relay.read_log())

    def test_2_a_change_at_meta_shows_after_a_refresh(self):
        p = self.pair(outbound=FAST, relay_kw=MAIN_ONLY)
        _, cursor = self.wait_listed(p, 4)
        stream = Stream(p.relay, p.agent, since=cursor)
        self.addCleanup(stream.close)
        listed = self.sim_list(p)
        new = [copy.deepcopy(t) for t in listed
               if t["name"] != "welcome_back"]
        for t in new:
            if key(t) == ("order_update", "de"):
                t["status"] = "PAUSED"
        new.append({"name": "shipping_notice", "language": "en_US",
                    "status": "APPROVED", "category": "MARKETING",
                    "parameter_format": "POSITIONAL",
                    "id": "1192837465019299",
                    "components": [{"type": "BODY", "text":
                                    "Your parcel {{1}} ships {{2}}."}]})
        # Two to a page: the relay follows the cursors.
        p.control("POST", "templates", {"templates": new, "page_size": 2})
        served = p.stats()["templates_served"]

        def changed():
            ts, _ = self.templates(p, cursor)
            return ts if len(ts) == 3 else None
        ts = T.wait_for(changed, "three template changes")
        self.assertGreaterEqual(p.stats()["templates_served"] - served, 2)
        gone = [e for e in ts if e["deleted"]]
        live = {key(e["data"]): e["data"] for e in ts if not e["deleted"]}
        self.assertEqual(len(gone), 1, ts)
        self.assertIsNone(gone[0]["data"])
        self.assertEqual(set(live), {("order_update", "de"),
                                     ("shipping_notice", "en_US")})
        self.assertEqual(live[("order_update", "de")]["status"], "PAUSED")
        self.assertEqual(live[("shipping_notice", "en_US")]["category"],
                         "MARKETING")
        # The stream carries the same three changes.
        seen = {}

        def three(ev):
            if ev["event"] == "change":
                d = json.loads(ev["data"])
                if d["kind"] == "template":
                    seen[d["id"]] = d["deleted"]
            return len(seen) == 3
        stream.until(three)
        self.assertEqual(seen, {e["id"]: e["deleted"] for e in ts})
        # The new template can be sent.
        wa_id = T.customer()
        conv = p.customer_writes(wa_id)
        id = p.queue(conv, {"type": "template", "template": {
            "name": "shipping_notice", "language": "en_US",
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "A-7"},
                {"type": "text", "text": "today"}]}]}})
        p.wait_message(id, self.ended({"delivered", "read"}),
                       "the new template to be delivered")

    def test_3_failed_reads_are_logged_retried_and_change_nothing(self):
        # The relay starts before the simulator: its first read fails.
        p = self.pair(outbound=FAST, relay_kw=MAIN_ONLY)
        _, cursor = self.wait_listed(p, 4)
        log = p.relay.read_log()
        self.assertIn("templates: reading WABA %s failed (" % S.WABA, log)
        before = self.reads(p)
        p.control("POST", "inject", {"error": "server_error",
                                     "on": "templates"})
        p.control("POST", "templates", {"raw": "<html>oops</html>"})
        self.wait_reads(p, "two failed reads and one good one", before,
                        lists=1, failures=2)
        log = p.relay.read_log()
        self.assertIn("failed (HTTP 500, code 2)", log)
        self.assertIn("failed (the answer is not JSON)", log)
        # Meanwhile the relay serves: a reply goes out.
        wa_id = T.customer()
        conv = p.customer_writes(wa_id)
        id = p.queue(conv, {"type": "text", "text": "still here"})
        p.wait_message(id, self.ended({"delivered", "read"}),
                       "a reply to be delivered")
        ts, _ = self.templates(p, cursor)
        self.assertEqual(ts, [])

    def test_4_hostile_lists_change_nothing_they_should_not(self):
        p = self.pair(outbound=FAST, relay_kw=MAIN_ONLY)
        by, cursor = self.wait_listed(p, 4)
        one = self.sim_list(p)[:1]

        def hostile(raw, count=1, pad=0, cause=None):
            before = self.reads(p)
            p.control("POST", "templates", {"raw": raw, "count": count,
                                            "pad": pad})
            self.wait_reads(p, "a failed read", before, failures=1)
            T.wait_for(lambda: p.control("GET", "templates")
                       ["raw_pending"] == 0, "the raw answers to be used")
            if cause is not None:
                self.assertIn(cause, p.relay.read_log())

        # Paging that goes round in a circle, pointing somewhere else.
        hostile(json.dumps({"data": one, "paging": {
            "cursors": {"after": "SAME"},
            "next": "https://evil.example/steal"}}), count=2,
            cause="go round in a circle")
        # A next page without a cursor.
        hostile(json.dumps({"data": one, "paging": {
            "next": "https://evil.example/steal"}}),
            cause="a next page without a usable")
        # A page past 4 MiB (still JSON: trailing spaces).
        hostile(json.dumps({"data": one}), pad=5 << 20,
                cause="a page of more than 4 MiB")
        # Not a list at all.
        hostile(json.dumps({"data": {"name": "x"}}),
                cause='failed (the answer has no "data" array)')
        hostile(json.dumps({"error": {"code": 100}}), cause="")
        ts, _ = self.templates(p, cursor)
        self.assertEqual(ts, [])

        # A complete list with unusable entries: those with an id stay as
        # stored, the one without is skipped, the good change is taken.
        listed = self.sim_list(p)
        raw = []
        for t in listed:
            t = copy.deepcopy(t)
            if key(t) == ("order_update", "en_US"):
                t["status"] = "PAUSED"
            elif key(t) == ("order_update", "de"):
                t["name"] = 42
            elif key(t) == ("hello_world", "en_US"):
                t["components"] = "not an array"
            else:
                t["language"] = "x" * 40
            raw.append(t)
        raw.append({"name": "no_id", "language": "en", "status": "X"})
        raw.append("not an object")
        # The odd list is served once; the simulator's own list, read
        # after it, then says the same (so later refreshes change
        # nothing): the odd list's own log line shows what it did.
        before = self.reads(p)
        p.control("POST", "templates", {"raw": json.dumps({"data": raw})})
        for t in listed:
            if key(t) == ("order_update", "en_US"):
                t["status"] = "PAUSED"
        p.control("POST", "templates", {"templates": listed})
        self.wait_reads(p, "the list with odd entries", before, lists=1)
        self.assertIn("lists 4 template(s): 1 changed, 0 removed; some "
                      "entries were unusable", p.relay.read_log())
        ts, _ = self.templates(p, cursor)
        self.assertEqual([(key(e["data"]), e["data"]["status"])
                          for e in ts],
                         [(("order_update", "en_US"), "PAUSED")])
        self.assertIn("5 unusable entries (2 without an id)",
                      p.relay.read_log())
        log = p.relay.read_log()
        self.assertNotIn("evil.example", log)
        self.assertNotIn("Hi {{1}}", log)
        status, _, _ = p.relay.request("GET", "/healthz")
        self.assertEqual(status, 200)

    def test_6_a_webhooks_reason_outlives_lists_that_do_not_give_one(self):
        p = self.pair(outbound=FAST, relay_kw=MAIN_ONLY)
        self.wait_listed(p, 4)
        listed = self.sim_list(p)
        for t in listed:
            if key(t) == ("order_update", "de"):
                t["status"] = "REJECTED"
        p.control("POST", "templates", {"templates": listed})
        body = json.dumps({"object": "whatsapp_business_account", "entry": [
            {"id": S.WABA, "time": 1785312600, "changes": [{
                "field": "message_template_status_update",
                "value": {"event": "REJECTED",
                          "message_template_id": 1192837465019285,
                          "message_template_name": "order_update",
                          "message_template_language": "de",
                          "reason": "INCORRECT_CATEGORY"}}]}]})
        status, _, _ = p.relay.post_webhook(body)
        self.assertEqual(status, 200)

        def rejected():
            by, cursor = self.wait_listed(p, 4)
            t = by[("order_update", "de")]
            return cursor if (t["status"], t["reason"]) == (
                "REJECTED", "INCORRECT_CATEGORY") else None
        cursor = T.wait_for(rejected, "the webhook's reason")
        # Lists that say REJECTED without a reason keep it, and stamp
        # nothing.
        self.wait_reads(p, "two more refreshes", lists=2)
        ts, _ = self.templates(p, cursor)
        self.assertEqual(ts, [])
        # Approved again: the old reason goes with the old status.
        for t in listed:
            if key(t) == ("order_update", "de"):
                t["status"] = "APPROVED"
        p.control("POST", "templates", {"templates": listed})

        def approved():
            ts, _ = self.templates(p, cursor)
            return ts[0]["data"] if ts and \
                ts[0]["data"]["status"] == "APPROVED" else None
        t = T.wait_for(approved, "the template approved again")
        self.assertIsNone(t["reason"])

    def test_5_no_waba_no_reads(self):
        p = self.pair(outbound=FAST)
        wa_id = T.customer()
        conv = p.customer_writes(wa_id)
        id = p.queue(conv, {"type": "text", "text": "a witness"})
        p.wait_message(id, self.ended({"delivered", "read"}),
                       "a reply to be delivered")
        self.assertEqual(p.stats()["templates_served"], 0)
        self.assertIn("no waba_id in any [number.*]", p.relay.read_log())


if __name__ == "__main__":
    unittest.main()
