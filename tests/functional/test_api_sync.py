"""Sync and events: an initial sync by pages of a store with over a
thousand entities equals the store's change log exactly; paging by cursor
goes on until `more` is false, then only new changes come, once;
tombstones reach clients that sync from an old cursor; cursors of another
epoch, from the future or malformed, and bad limits, are refused with
their documented codes. The event stream carries every write with a
cursor as its id, replays from `since` or `Last-Event-ID`, pings idle
streams, fans presence out without storing it, and loses nothing when a
client keeps dropping and resuming its connection while writes go on.

The store's own view (`glivi-relay inspect changes`) is the reference
every answer is compared with.
"""
import concurrent.futures
import itertools
import json
import os
import random
import re
import socket
import ssl
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
from apiclient import (DEADLINE, Stream, api, stop_relay,  # noqa: E402
                       text_webhook)

_serial = itertools.count(1)



def post_webhooks(r, bodies, workers=8):
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        statuses = list(ex.map(lambda b: r.post_webhook(b)[0], bodies))
    assert statuses == [200] * len(bodies), statuses


def add_agent(r, name, role="agent"):
    token = r.cli("agent", "add", name, "--role",
                  role).stdout.decode().strip()
    assert token
    return token


def make_labels(r, admin, names):
    """Labels of the shared set, made by an admin."""
    for name in names:
        status, _, body = api(r, admin, "POST", "/api/v1/labels",
                              {"name": name})
        assert status == 201, body


def start_relay(**kw):
    r = R.Relay(**kw)
    try:
        r.start()
    except BaseException:
        r.close()
        raise
    return r


def cursor_seq(cursor):
    m = re.fullmatch(r"v1\.([^.]+)\.(\d+)", cursor)
    assert m, "not a cursor: %r" % cursor
    return int(m.group(2))


def q(v):
    return urllib.parse.quote(v, safe="")


def sync_all(testcase, r, token, since=None, limit=None):
    """Pages through /api/v1/sync until more is false; checks each page.
    Returns (events, final cursor, pages)."""
    events, pages, cursor = [], 0, since
    while True:
        params = []
        if cursor is not None:
            params.append("since=" + q(cursor))
        if limit is not None:
            params.append("limit=%s" % limit)
        path = "/api/v1/sync" + ("?" + "&".join(params) if params else "")
        status, _, page = api(r, token, "GET", path)
        testcase.assertEqual(status, 200, page)
        testcase.assertEqual(set(page),
                             {"events", "cursor", "more", "remaining"})
        # remaining: seq numbers past this page, 0 exactly at the head.
        testcase.assertGreaterEqual(page["remaining"], 0)
        testcase.assertEqual(page["remaining"] == 0, not page["more"])
        pages += 1
        cap = limit if limit is not None else 1000
        testcase.assertLessEqual(len(page["events"]), cap)
        if page["more"]:
            testcase.assertEqual(len(page["events"]), cap)
        seqs = [e["seq"] for e in page["events"]]
        if seqs:
            testcase.assertEqual(cursor_seq(page["cursor"]), seqs[-1])
        if cursor is not None and seqs:
            testcase.assertGreater(seqs[0], cursor_seq(cursor))
        events += page["events"]
        cursor = page["cursor"]
        if not page["more"]:
            return events, cursor, pages
        testcase.assertLess(pages, 100000)


def assert_exact_log(testcase, events, log):
    """events (from sync or a stream) are exactly the change log."""
    seqs = [e["seq"] for e in events]
    testcase.assertEqual(seqs, sorted(set(seqs)), "not in seq order, once")
    keys = [(e["kind"], e["id"]) for e in events]
    testcase.assertEqual(len(keys), len(set(keys)), "an entity came twice")
    testcase.assertEqual({(e["kind"], e["id"], e["seq"]) for e in events},
                         {(c["kind"], c["id"], c["seq"]) for c in log})
    testcase.assertEqual(events, log)


def change(ev):
    """The change of a stream event, checked against its id."""
    assert ev["event"] == "change", ev
    c = json.loads(ev["data"])
    assert cursor_seq(ev["id"]) == c["seq"], (ev["id"], c["seq"])
    return c


class SyncPages(unittest.TestCase):
    """A store of over a thousand entities, synced by pages."""

    N_CONTACTS = 350
    N_WEBHOOKS = 420

    @classmethod
    def setUpClass(cls):
        cls.relay = r = start_relay()
        try:
            cls.token = add_agent(r, "syncer")
            cls.other = add_agent(r, "other")
            # Labels come from the shared set an admin keeps.
            make_labels(r, add_agent(r, "boss", "admin"), ["vip"])
            post_webhooks(r, [text_webhook("4915%07d" % (i % cls.N_CONTACTS),
                                           "message %d" % i)[0]
                              for i in range(cls.N_WEBHOOKS)])
        except BaseException:
            r.close()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_relay(cls.relay)

    def api(self, method, path, body=None, token=None, headers=None):
        return api(self.relay, token or self.token, method, path, body,
                   headers)

    def epoch(self):
        _, _, page = self.api("GET", "/api/v1/sync?limit=1")
        return page["cursor"].split(".")[1]

    def add_note(self, conv=1, text="a note"):
        status, _, note = self.api(
            "POST", "/api/v1/conversations/%d/notes" % conv, {"body": text})
        self.assertEqual(status, 201, note)
        return note

    def test_store_is_large_enough_for_several_default_pages(self):
        self.assertGreater(len(self.relay.changes()), 1000)

    def test_initial_sync_in_pages_of_7_is_exactly_the_change_log(self):
        events, cursor, pages = sync_all(self, self.relay, self.token,
                                         limit=7)
        log = self.relay.changes()
        assert_exact_log(self, events, log)
        self.assertEqual(cursor_seq(cursor), log[-1]["seq"])
        self.assertGreaterEqual(pages, len(log) // 7)

    def test_initial_sync_with_the_default_page_is_exactly_the_change_log(
            self):
        status, _, first = self.api("GET", "/api/v1/sync")
        self.assertEqual(status, 200)
        self.assertEqual(len(first["events"]), 1000)
        self.assertTrue(first["more"])
        events, cursor, pages = sync_all(self, self.relay, self.token)
        log = self.relay.changes()
        assert_exact_log(self, events, log)
        self.assertEqual(pages, len(log) // 1000 + 1)
        self.assertEqual(cursor_seq(cursor), log[-1]["seq"])

    def test_limit_above_the_maximum_is_capped(self):
        for limit in ("1001", "5000", "99999999999999999999"):
            with self.subTest(limit=limit):
                status, _, page = self.api("GET",
                                           "/api/v1/sync?limit=" + limit)
                self.assertEqual(status, 200, page)
                self.assertEqual(len(page["events"]), 1000)
                self.assertTrue(page["more"])

    def test_bad_limits_are_refused(self):
        for limit in ("0", "-1", "abc", "", "1.5", "1e3", "7x"):
            with self.subTest(limit=limit):
                status, _, body = self.api(
                    "GET", "/api/v1/sync?limit=" + q(limit))
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"]["code"], "bad_limit")
                self.assertEqual(body["error"]["field"], "limit")

    def test_after_the_last_page_only_new_changes_come_once(self):
        events, cursor, _ = sync_all(self, self.relay, self.token, limit=500)
        head = cursor_seq(cursor)
        # Nothing new: an empty last page, the same cursor.
        status, _, page = self.api("GET", "/api/v1/sync?since=" + q(cursor))
        self.assertEqual(status, 200)
        self.assertEqual(page, {"events": [], "cursor": cursor,
                                "more": False, "remaining": 0})
        # A note, a label and an inbound message on conversation 2.
        note = self.add_note(2)
        status, _, _ = self.api("POST", "/api/v1/conversations/2/labels",
                                {"add": ["vip"]})
        self.assertEqual(status, 200)
        contact = self.relay.entity("conversation", 2)["contact_id"]
        wa_id = self.relay.entity("contact", contact)["wa_id"]
        self.assertEqual(self.relay.post_webhook(text_webhook(wa_id)[0])[0], 200)

        new, cursor2, _ = sync_all(self, self.relay, self.token,
                                   since=cursor, limit=2)
        log = self.relay.changes()
        assert_exact_log(self, new, [c for c in log if c["seq"] > head])
        got = {(e["kind"], e["id"]) for e in new}
        self.assertIn(("note", note["id"]), got)
        self.assertIn(("conversation", 2), got)
        self.assertTrue(all(e["seq"] > head for e in new))
        self.assertEqual(cursor_seq(cursor2), log[-1]["seq"])
        # Earlier pages plus the new ones: each entity's latest, once.
        latest = {(e["kind"], e["id"]): e for e in events}
        latest.update({(e["kind"], e["id"]): e for e in new})
        self.assertEqual(sorted(latest.values(), key=lambda e: e["seq"]),
                         log)

    def test_tombstone_reaches_a_client_syncing_from_an_old_cursor(self):
        note = self.add_note(3, "to be deleted")
        _, cursor, _ = sync_all(self, self.relay, self.token)
        # Another client's full sync sees the note.
        events, _, _ = sync_all(self, self.relay, self.other)
        self.assertIn(("note", note["id"], False),
                      {(e["kind"], e["id"], e["deleted"]) for e in events})
        status, _, body = self.api("DELETE", "/api/v1/notes/%d" % note["id"])
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"kind": "note", "id": note["id"],
                                "deleted": True})
        new, _, _ = sync_all(self, self.relay, self.other, since=cursor)
        tomb = [e for e in new if (e["kind"], e["id"]) ==
                ("note", note["id"])]
        self.assertEqual(len(tomb), 1, new)
        self.assertEqual(tomb[0]["deleted"], True)
        self.assertIsNone(tomb[0]["data"])
        log = self.relay.changes()
        assert_exact_log(self, new, [c for c in log
                                     if c["seq"] > cursor_seq(cursor)])
        # A full sync from scratch carries the tombstone too.
        events, _, _ = sync_all(self, self.relay, self.other)
        assert_exact_log(self, events, log)

    def test_a_plain_texts_cloud_api_object_is_left_out_of_sync_only(self):
        plain, plain_id = text_webhook("4916000001", "just text")
        reply = json.loads(text_webhook("4916000001", "a reply")[0])
        msg = reply["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["context"] = {"from": "15550783881", "id": "wamid.QUOTED"}
        for body in (plain, json.dumps(reply).encode()):
            self.assertEqual(self.relay.post_webhook(body)[0], 200)
        events, _, _ = sync_all(self, self.relay, self.token)
        synced = {e["data"]["wamid"]: e["data"] for e in events
                  if e["kind"] == "message" and not e["deleted"]}
        # The plain text: everything its object says, the entity says.
        self.assertIsNone(synced[plain_id]["wa"])
        self.assertEqual(synced[plain_id]["text"], "just text")
        self.assertEqual(synced[plain_id]["type"], "text")
        # A reply's object says more (what it quotes): it travels.
        self.assertEqual(synced[msg["id"]]["wa"]["context"]["id"],
                         "wamid.QUOTED")
        self.assertEqual(synced[msg["id"]]["wa"]["text"]["body"], "a reply")
        # The store keeps the object as Meta sent it.
        self.assertEqual(self.relay.message(plain_id)["wa"]["text"],
                         {"body": "just text"})

    def test_cursor_of_another_store_is_gone(self):
        other = R.Relay(certs=(self.relay.ca, self.relay.cert,
                               self.relay.key))
        self.addCleanup(other.close)
        other.start()
        token = add_agent(other, "elsewhere")
        status, _, page = api(other, token, "GET", "/api/v1/sync")
        self.assertEqual(status, 200)
        foreign = page["cursor"]
        self.assertNotEqual(foreign.split(".")[1], self.epoch())
        # Even a seq this store has (0 and 1) is no use from another epoch.
        epoch = foreign.split(".")[1]
        for cursor in (foreign, "v1.%s.0" % epoch, "v1.%s.1" % epoch):
            with self.subTest(cursor=cursor):
                status, _, body = self.api("GET",
                                           "/api/v1/sync?since=" + q(cursor))
                self.assertEqual(status, 410, body)
                self.assertEqual(body["error"]["code"],
                                 "cannotCalculateChanges")
                for kw in ({"since": cursor}, {"last_event_id": cursor}):
                    s = Stream(self.relay, self.token, **kw)
                    self.addCleanup(s.close)
                    self.assertEqual(s.status, 410, kw)
                    self.assertEqual(json.loads(s.error)["error"]["code"],
                                     "cannotCalculateChanges")

    def test_cursor_from_the_future_is_gone(self):
        epoch = self.epoch()
        head = self.relay.changes()[-1]["seq"]
        for seq in (head + 1, head + 1000000, 9223372036854775807):
            cursor = "v1.%s.%d" % (epoch, seq)
            with self.subTest(seq=seq):
                status, _, body = self.api("GET",
                                           "/api/v1/sync?since=" + q(cursor))
                self.assertEqual(status, 410, body)
                self.assertEqual(body["error"]["code"],
                                 "cannotCalculateChanges")
                s = Stream(self.relay, self.token, since=cursor)
                self.addCleanup(s.close)
                self.assertEqual(s.status, 410)
        # The head itself is fine: nothing after it.
        status, _, page = self.api(
            "GET", "/api/v1/sync?since=" + q("v1.%s.%d" % (epoch, head)))
        self.assertEqual(status, 200, page)
        self.assertEqual(page["events"], [])

    def test_malformed_cursors_are_refused(self):
        epoch = self.epoch()
        bad = ["x", "v1.", "v1..5", "v1.%s" % epoch, "v1.%s." % epoch,
               "v1.%s.-1" % epoch, "v1.%s.abc" % epoch,
               "v1.%s.5x" % epoch, "v1.%s.+5" % epoch, "v2.%s.5" % epoch,
               "V1.%s.5" % epoch, "v1.%s.99999999999999999999" % epoch,
               "v1.%s.5\u00e9" % epoch, "x" * 10240,
               "v1.%s.%s" % (epoch, "1" * 10240)]
        for cursor in bad:
            with self.subTest(cursor=cursor[:40]):
                status, _, body = self.api("GET",
                                           "/api/v1/sync?since=" + q(cursor))
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"]["code"], "bad_cursor")
                self.assertEqual(body["error"]["field"], "since")
                s = Stream(self.relay, self.token, since=cursor)
                self.addCleanup(s.close)
                self.assertEqual(s.status, 400)
                self.assertEqual(json.loads(s.error)["error"]["code"],
                                 "bad_cursor")
        status, _, _ = api(self.relay, None, "GET", "/healthz")
        self.assertEqual(status, 200)


class PresenceUnknownField(unittest.TestCase):
    """Its own relay: this once freed the field name before answering."""

    @classmethod
    def setUpClass(cls):
        cls.relay = start_relay()
        cls.token = add_agent(cls.relay, "alice")

    @classmethod
    def tearDownClass(cls):
        cls.relay.close()

    def test_presence_with_an_unknown_field_names_it(self):
        status, _, err = api(self.relay, self.token, "POST",
                             "/api/v1/presence",
                             {"conversation_id": 1, "state": "typing",
                              "mood": "x"})
        self.assertEqual(status, 422, err)
        self.assertEqual(err["error"]["code"], "unknown_field")
        self.assertEqual(err["error"]["field"], "mood")
        status, _, _ = api(self.relay, None, "GET", "/healthz")
        self.assertEqual(status, 200)


class EventStreams(unittest.TestCase):
    """Streams on a relay that pings idle streams every second."""

    @classmethod
    def setUpClass(cls):
        cls.relay = r = start_relay(server_extra="heartbeat = 1s\n")
        try:
            cls.alice = add_agent(r, "alice")
            cls.bob = add_agent(r, "bob")
            cls.admin = add_agent(r, "boss", "admin")
            make_labels(r, cls.admin, ["l%d" % i for i in range(5)])
            cls.wa_ids = ["4916%07d" % i for i in range(8)]
            post_webhooks(r, [text_webhook(w)[0] for w in cls.wa_ids])
            cls.convs = sorted(c["id"] for c in r.changes()
                               if c["kind"] == "conversation")
            assert len(cls.convs) == len(cls.wa_ids)
        except BaseException:
            r.close()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_relay(cls.relay)

    def api(self, method, path, body=None, token=None):
        return api(self.relay, token or self.alice, method, path, body)

    def stream(self, token=None, **kw):
        s = Stream(self.relay, token or self.bob, **kw)
        self.addCleanup(s.close)
        self.assertEqual(s.status, 200, s.error)
        return s

    def head(self):
        return self.relay.changes()[-1]["seq"]

    def read_to(self, s, seq, timeout=DEADLINE):
        """Change events up to the one with seq (checked in order)."""
        got = []
        for ev in s.until(lambda e: e["event"] == "change" and
                          change(e)["seq"] >= seq, timeout):
            if ev["event"] == "change":
                got.append(change(ev))
        return got

    def test_stream_starts_with_retry_and_the_whole_log(self):
        s = self.stream()
        self.assertEqual(s.headers["content-type"].split(";")[0],
                         "text/event-stream")
        got = self.read_to(s, self.head())
        self.assertEqual(s.retry, 5000)
        log = self.relay.changes()
        assert_exact_log(self, got, [c for c in log
                                     if c["seq"] <= got[-1]["seq"]])

    def test_a_write_by_one_agent_reaches_anothers_open_stream(self):
        s = self.stream(self.bob)
        self.read_to(s, self.head())
        status, _, note = self.api(
            "POST", "/api/v1/conversations/%d/notes" % self.convs[0],
            {"body": "for bob"})
        self.assertEqual(status, 201, note)
        found = None
        for ev in s.until(lambda e: e["event"] == "change" and
                          (change(e)["kind"], change(e)["id"]) ==
                          ("note", note["id"])):
            found = ev
        c = change(found)
        self.assertEqual(c["data"], note)
        self.assertFalse(c["deleted"])
        # The id is a cursor: syncing from it gives what came after it.
        status, _, page = self.api("GET", "/api/v1/sync?since=" +
                                   q(found["id"]), token=self.bob)
        self.assertEqual(status, 200, page)
        self.assertTrue(all(e["seq"] > c["seq"] for e in page["events"]))
        log = self.relay.changes()
        self.assertEqual(page["events"],
                         [x for x in log if x["seq"] > c["seq"]])

    def replay_check(self, **kw):
        cursor = kw.pop("cursor")
        s = self.stream(**kw)
        head = self.head()
        got = self.read_to(s, head)
        want = [c for c in self.relay.changes()
                if cursor_seq(cursor) < c["seq"] <= head]
        self.assertTrue(want)
        assert_exact_log(self, got, want)

    def mid_cursor(self):
        # Make a few changes, then take a cursor from the middle of them.
        for conv in self.convs[:4]:
            label = "replay-%d" % next(_serial)
            make_labels(self.relay, self.admin, [label])
            status, _, _ = self.api(
                "POST", "/api/v1/conversations/%d/labels" % conv,
                {"add": [label]})
            self.assertEqual(status, 200)
        log = self.relay.changes()
        _, _, page = self.api("GET", "/api/v1/sync?limit=%d" %
                              (len(log) - 3))
        self.assertTrue(page["more"])
        return page["cursor"]

    def test_stream_since_a_cursor_replays_exactly_what_came_after(self):
        c = self.mid_cursor()
        self.replay_check(cursor=c, since=c)

    def test_stream_with_last_event_id_replays_exactly_what_came_after(self):
        c = self.mid_cursor()
        self.replay_check(cursor=c, last_event_id=c)

    def test_last_event_id_wins_over_since(self):
        c = self.mid_cursor()
        _, _, page = self.api("GET", "/api/v1/sync?limit=1")
        self.replay_check(cursor=c, last_event_id=c, since=page["cursor"])
        # ... even when since would be refused.
        self.replay_check(cursor=c, last_event_id=c, since="garbage")

    def test_idle_stream_gets_a_ping_comment(self):
        s = self.stream()
        self.read_to(s, self.head())
        end = time.monotonic() + DEADLINE
        while True:
            item = s.next(max(0.0, end - time.monotonic()))
            self.assertIsNotNone(item, "stream ended")
            if item == ("comment", "ping"):
                break
        # And again: the heartbeat goes on.
        end = time.monotonic() + DEADLINE
        while s.next(max(0.0, end - time.monotonic())) != ("comment",
                                                            "ping"):
            pass

    def test_presence_reaches_other_streams_and_is_not_stored(self):
        s = self.stream(self.bob)
        self.read_to(s, self.head())
        before = self.relay.changes()
        conv = self.convs[1]
        for state in ("viewing", "typing", "idle"):
            status, _, body = self.api("POST", "/api/v1/presence",
                                       {"conversation_id": conv,
                                        "state": state})
            self.assertEqual(status, 204, body)
            ev = s.until(lambda e: e["event"] == "presence")[-1]
            self.assertIsNone(ev["id"], "presence events carry no id")
            p = json.loads(ev["data"])
            self.assertEqual(p["agent"], "alice")
            self.assertEqual(p["conversation_id"], conv)
            self.assertEqual(p["state"], state)
            self.assertIsInstance(p["agent_id"], int)
            self.assertIsInstance(p["at"], int)
        self.assertEqual(self.relay.changes(), before)
        # Nor does it show in sync.
        events, _, _ = sync_all(self, self.relay, self.bob)
        self.assertEqual(events, before)

    def test_presence_refuses_bad_input(self):
        conv = self.convs[0]
        cases = [
            ({"conversation_id": conv, "state": "sleeping"}, 422, "invalid",
             "state"),
            ({"conversation_id": conv}, 422, "required", "state"),
            ({"conversation_id": conv, "state": 1}, 422, "invalid",
             "state"),
            ({"state": "typing"}, 422, "required", "conversation_id"),
            ({"conversation_id": "1", "state": "typing"}, 422, "invalid",
             "conversation_id"),
            ({"conversation_id": 0, "state": "typing"}, 422, "invalid",
             "conversation_id"),
            ({"conversation_id": 1.5, "state": "typing"}, 422, "invalid",
             "conversation_id"),
            ([], 400, "malformed", None),
            ("{", 400, "malformed", None),
        ]
        s = self.stream(self.bob)
        self.read_to(s, self.head())
        for body, status, code, field in cases:
            with self.subTest(body=body):
                got, _, err = self.api("POST", "/api/v1/presence", body)
                self.assertEqual(got, status, err)
                self.assertEqual(err["error"]["code"], code)
                self.assertEqual(err["error"].get("field"), field)
        # None of them reached a stream: the next presence seen is a good
        # one sent after them.
        status, _, _ = self.api("POST", "/api/v1/presence",
                                {"conversation_id": conv, "state": "idle"})
        self.assertEqual(status, 204)
        presence = [e for e in s.until(lambda e: e["event"] == "presence")
                    if e["event"] == "presence"]
        self.assertEqual(len(presence), 1)
        self.assertEqual(json.loads(presence[0]["data"])["state"], "idle")

    def test_no_change_is_lost_while_a_reader_keeps_reconnecting(self):
        r = self.relay
        rng = random.Random(20261123)
        wrng = random.Random(4242)
        errors, notes, done = [], [], threading.Event()
        contact_ids = sorted(c["id"] for c in r.changes()
                             if c["kind"] == "contact")

        def writer():
            try:
                for i in range(300):
                    op = wrng.randrange(7)
                    conv = wrng.choice(self.convs)
                    if op == 0:
                        st, _, b = api(r, self.alice, "POST",
                                       "/api/v1/conversations/%d/notes" %
                                       conv, {"body": "note %d" % i})
                        if st == 201:
                            notes.append(b["id"])
                    elif op == 1 and notes:
                        nid = notes.pop(wrng.randrange(len(notes)))
                        st, _, b = api(r, self.alice, "DELETE",
                                       "/api/v1/notes/%d" % nid)
                    elif op == 2:
                        st, _, b = api(
                            r, self.alice, "POST",
                            "/api/v1/conversations/%d/labels" % conv,
                            {"add": ["l%d" % wrng.randrange(5)],
                             "remove": ["l%d" % wrng.randrange(5)]})
                    elif op == 3:
                        st, _, b = api(
                            r, self.alice, "POST",
                            "/api/v1/conversations/%d/status" % conv,
                            {"status": wrng.choice(["open", "pending",
                                                    "resolved"])})
                    elif op == 4:
                        st, b = r.post_webhook(text_webhook(
                            wrng.choice(self.wa_ids), "w %d" % i)[0])[::2]
                    elif op == 5:
                        st, _, b = api(
                            r, self.alice, "POST", "/api/v1/orders",
                            {"contact_id": wrng.choice(contact_ids),
                             "items": [{"product_retailer_id": "p%d" % i,
                                        "quantity": 1 + i % 3,
                                        "item_price": 2.5,
                                        "currency": "EUR"}]})
                    else:
                        st, _, b = api(
                            r, self.bob, "POST",
                            "/api/v1/conversations/%d/messages" % conv,
                            {"type": "text", "text": "reply %d" % i},
                            {"Idempotency-Key": "gap-%d" % i})
                    if st not in (200, 201):
                        errors.append((i, op, st, b))
            except BaseException as e:  # reported by the main thread
                errors.append(repr(e))
            finally:
                done.set()

        state = {}       # (kind, id) -> the last change seen
        last_id = None   # the cursor to resume from
        head = None      # the store's head once the writer is done
        connections = 0

        def caught_up():
            return (head is not None and last_id is not None and
                    cursor_seq(last_id) >= head)

        def read(s, limit):
            """Reads up to limit change events (less once caught up, or
            when the writer is done and the stream idles: it pings every
            second)."""
            nonlocal last_id
            n, prev = 0, None
            while n < limit and not caught_up():
                item = s.next()
                self.assertIsNotNone(item, "the stream ended")
                if item[0] != "event" or item[1]["event"] != "change":
                    # Idle (a ping; a new stream's first write is its
                    # greeting and backlog, never a ping) after the
                    # writer is done: drop this connection.
                    if item == ("comment", "ping") and done.is_set():
                        break
                    continue
                c = change(item[1])
                if prev is not None:
                    self.assertGreater(c["seq"], prev,
                                       "ids not increasing in one stream")
                elif last_id is not None:
                    self.assertGreater(c["seq"], cursor_seq(last_id),
                                       "a resumed stream went back")
                prev = c["seq"]
                state[(c["kind"], c["id"])] = c
                last_id = item[1]["id"]
                n += 1
            return n

        t = threading.Thread(target=writer)
        t.start()
        try:
            # Reconnect over and over while the writer runs, then on until
            # the store's head (as it is once the writer is done) is seen.
            while not caught_up():
                if head is None and done.is_set():
                    t.join(60)
                    head = r.changes()[-1]["seq"]
                kw = {}
                if last_id is not None:
                    kw[rng.choice(["since", "last_event_id"])] = last_id
                s = Stream(r, self.bob, **kw)
                try:
                    self.assertEqual(s.status, 200, s.error)
                    connections += 1
                    read(s, rng.randint(1, 20))
                finally:
                    s.close()
        finally:
            t.join(60)
        self.assertFalse(t.is_alive())
        self.assertEqual(errors, [])
        log = r.changes()
        self.assertEqual(log[-1]["seq"], head)
        # Well over 100 entities, at most 20 events a connection.
        self.assertGreater(len(log), 100)
        self.assertGreaterEqual(connections, 5)
        got = {k: (c["seq"], c["deleted"], c["data"])
               for k, c in state.items()}
        want = {(c["kind"], c["id"]): (c["seq"], c["deleted"], c["data"])
                for c in log}
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        stale = sorted(k for k in set(want) & set(got) if got[k] != want[k])
        self.assertEqual((missing, extra, stale[:10]), ([], [], []))
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
