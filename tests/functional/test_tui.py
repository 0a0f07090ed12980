"""The real glivi-tui screen in tmux, against a real relay and simulator.

Each test starts glivi-relay and glivi-sim (HTTPS on loopback, a CA of
the test's own), registers an agent, lets customers write through the
simulator, then runs the screen in a tmux server of its own at a given
size and reads what it shows with capture-pane. Keys are sent the way a
terminal sends them. Waits are on what the screen shows, with deadlines;
every process is stopped.
"""
import errno
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import fcntl
import time
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
from apiclient import api  # noqa: E402
from client import Client, TUI  # noqa: E402
from test_client_core import ClientCase, pin_port  # noqa: E402
from tui import Screen, have_tmux  # noqa: E402

# What hostile messages carry, which must never reach the terminal.
INJECTED = [
    b"\x1b]52;",            # OSC 52: write the clipboard
    b"\x1b]8;",             # OSC 8: hyperlink
    b"\x1b[?1000h",         # mouse reporting on
    b"\x1b[?1006h",
    b"\x1b[6n",             # device status report
    b"\x1b[99;99H",         # a cursor move no 80x24 screen needs
    b"\xe2\x80\xae",        # RIGHT-TO-LEFT OVERRIDE
    b"\xe2\x81\xa6",        # LEFT-TO-RIGHT ISOLATE
    b"\xff\xfe",            # invalid UTF-8
]

HOSTILE = [
    "osc52 \x1b]52;c;aGVsbG8=\x07 end",
    "osc8 \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ end",
    "mouse \x1b[?1000h\x1b[?1006h end",
    "cursor \x1b[99;99Hmoved \x1b[2J cleared \x1b[6n",
    "cr overwrite\rXX and back\bspace",
    "bidi \u202eevil\u202c \u2066iso\u2069 end",
    "family 👨\u200d👩\u200d👧\u200d👦 flag 🇩🇪 skin 👍🏽 e\u0301 漢字かな",
]


def width(s):
    """Columns a terminal gives s, as tmux and the canvas count them."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w


def border_columns(rows):
    """The display columns of every pane border on each row."""
    cols = set()
    for r in rows:
        i = r.find("│")
        if i >= 0:
            cols.add(width(r[:i]))
    return cols


def wa(n):
    return "4917%08d" % (os.getpid() % 10000 * 1000 + n)


@unittest.skipUnless(have_tmux(), "tmux is not installed")
class TuiCase(ClientCase):
    """ClientCase's certificates and relay + simulator pairs, and screens
    of glivi-tui in tmux."""

    def client(self, p, extra=""):
        c = Client("https://localhost:%d" % p.relay.port, p.agent,
                   ca_file=self.certs[0], extra=extra)
        self.addCleanup(c.close)
        return c

    def screen(self, c, w=80, h=24, **kw):
        env = {"TZ": "UTC"}
        env.update(kw.pop("env", {}))
        s = Screen(c, w, h, env=env, **kw)
        self.addCleanup(s.close)
        return s

    def shop(self, p, n=3):
        """n customers who wrote; returns [(wa_id, conversation id)]."""
        out = []
        for i in range(n):
            w = wa(i + 1)
            out.append((w, p.customer_writes(w, "Hallo, Bestellung %d?"
                                             % (i + 1))))
        return out


class Layout(TuiCase):

    def test_three_sizes_show_list_thread_sidebar_compose_and_status(self):
        p = self.pair()
        self.shop(p, 3)
        c = self.client(p)
        c.sync()
        for w, h in ((80, 24), (120, 40), (200, 50)):
            with self.subTest(size="%dx%d" % (w, h)):
                s = self.screen(c, w, h)
                # Live, and the relay has said who we are.
                t = s.wait(lambda t: "live │ alice" in t)
                rows = t.split("\n")
                self.assertEqual(len(rows), h)
                self.assertIn("Inbox: all", rows[0])
                self.assertIn("Customer", t)
                # The newest conversation is open in the thread.
                self.assertIn("Bestellung 3", t)
                self.assertIn("/4096", t)
                self.assertIn("alice", rows[-1])
                if w >= 100:
                    self.assertIn("Contact", rows[0])
                    self.assertIn("+" + wa(3), t)
                    self.assertIn("Orders", t)
                else:
                    self.assertNotIn("Contact", rows[0])
                s.keys("q")
                self.assertEqual(s.wait_exit(), 0)
                s.close()

    def test_resize_storm_ends_in_one_correct_layout(self):
        p = self.pair()
        self.shop(p, 2)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 120, 40)
        s.wait("live")
        sizes = [(200, 50), (40, 10), (20, 5), (80, 24), (59, 30),
                 (100, 30), (150, 45)] * 6 + [(80, 24)]
        for w, h in sizes:
            s.resize(w, h)
        self.assertEqual(s.size(), (80, 24))
        t = s.wait(lambda t: "Inbox: all" in t and len(t.split("\n")) == 24
                   and "Terminal too small" not in t)
        self.assertIn("Bestellung 2", t)
        # Too small, and back.
        s.resize(20, 5)
        s.wait("Terminal too small")
        s.resize(100, 30)
        t = s.wait("Contact")
        self.assertFalse(s.dead())
        s.keys("q")
        self.assertEqual(s.wait_exit(), 0)

    def test_below_60_columns_list_and_thread_are_one_pane(self):
        p = self.pair()
        self.shop(p, 2)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 50, 20)
        t = s.wait("Inbox: all")
        self.assertNotIn("Bestellung 2?", t.split("\n")[1][30:])
        s.keys("Enter")
        t = s.wait(lambda t: "Inbox" not in t and "Bestellung 2" in t)
        s.keys("Escape")
        s.wait("Inbox: all")


class Reading(TuiCase):

    def test_help_search_and_prompt(self):
        p = self.pair()
        self.shop(p, 3)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 120, 40)
        s.wait("live")
        s.keys("?")
        t = s.wait("Keys: list")
        self.assertIn("list.next", t)
        self.assertIn("Select the next conversation", t)
        s.keys("Escape")
        s.wait("Inbox: all")
        # Search: incremental, Enter opens the hit in its thread.
        s.keys("/")
        s.type("bestellung 1")
        t = s.wait("Search: 1 result")
        s.keys("Enter")
        t = s.wait(lambda t: "Search:" not in t and "Bestellung 1" in t)
        self.assertIn("Result 1 of 1", t)
        # The prompt runs commands and completes them.
        s.keys(":")
        s.type("filt")
        s.keys("Tab")
        s.wait(":filter")
        s.type(" unassigned")
        s.keys("Enter")
        s.wait("Inbox: unassigned")

    def test_offline_banner_and_cached_threads_stay_readable(self):
        p = self.pair()
        self.shop(p, 2)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 100, 30)
        s.wait("live")
        p.relay.stop()
        t = s.wait("OFFLINE since")
        s.keys("Down")
        t = s.wait("Bestellung 1")
        self.assertIn("cached data only", t)
        s.keys("q")
        self.assertEqual(s.wait_exit(), 0)


class Writing(TuiCase):

    def test_reply_from_compose_is_sent_once_and_ticks_move_to_read(self):
        p = self.pair()
        (w, conv), = self.shop(p, 1)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 100, 30)
        s.wait("live")
        s.keys("c")
        s.type("Danke, ist unterwegs")
        s.wait("20/4096")
        s.keys("Enter")
        s.wait("Queued")
        R.wait_for(lambda: any(m.get("text") == "Danke, ist unterwegs"
                               for m in p.sent()),
                   what="the reply at the simulator")
        s.wait("read", timeout=20)
        self.assertEqual(sum(m.get("text") == "Danke, ist unterwegs"
                             for m in p.sent()), 1)

    def test_failed_send_shows_metas_reason(self):
        p = self.pair()
        (w, conv), = self.shop(p, 1)
        p.inject("undeliverable", w)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 120, 30)
        s.wait("live")
        s.keys("c")
        s.type("wird nicht zugestellt")
        s.keys("Enter")
        t = s.wait("FAILED", timeout=20)
        self.assertIn("not delivered (131026): Message Undeliverable.", t)

    def test_draft_survives_a_restart_and_paste_asks_above_the_limit(self):
        p = self.pair()
        self.shop(p, 1)
        c = self.client(p, extra="[ui]\npaste_confirm = 3\n")
        c.sync()
        s = self.screen(c, 100, 30)
        s.wait("live")
        s.keys("c")
        s.type("halb fertig")
        s.wait("11/4096")
        s.keys("Escape")
        s.wait_gone("Enter sends")
        s.keys("q")
        self.assertEqual(s.wait_exit(), 0)
        s.close()
        s = self.screen(c, 100, 30)
        s.wait("halb fertig")
        s.keys("c")
        s.paste("eins\nzwei\ndrei\nvier\nfünf")
        s.wait("Paste 5 lines into the draft? (y/n)")
        s.keys("y")
        s.wait("fünf")

    def test_quit_asks_when_replies_are_unsent(self):
        p = self.pair()
        self.shop(p, 1)
        c = self.client(p)
        c.sync()
        p.relay.stop()
        s = self.screen(c, 100, 30)
        s.wait("OFFLINE")
        s.keys("c")
        s.type("später")
        s.keys("Enter")
        s.wait("Queued")
        s.keys("Escape")
        s.wait_gone("Enter sends")
        s.keys("q")
        s.wait("not sent yet")
        s.keys("n")
        s.wait_gone("not sent yet")
        self.assertFalse(s.dead())
        s.keys("q")
        s.wait("not sent yet")
        s.keys("y")
        self.assertEqual(s.wait_exit(), 0)

    def test_editor_replaces_the_draft_and_the_screen_comes_back(self):
        p = self.pair()
        self.shop(p, 1)
        c = self.client(p)
        c.sync()
        editor = os.path.join(c.dir, "editor.sh")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\nprintf 'aus dem Editor\\nzweite Zeile\\n' "
                    "> \"$1\"\n")
        os.chmod(editor, 0o755)
        s = self.screen(c, 100, 30, env={"VISUAL": editor})
        s.wait("live")
        s.keys("c")
        s.type("wird ersetzt")
        s.keys("M-e")
        t = s.wait("zweite Zeile")
        self.assertIn("aus dem Editor", t)
        self.assertNotIn("wird ersetzt", t)
        self.assertIn("Inbox: all", t)

    def test_bad_keymap_file_is_refused_with_file_and_line(self):
        p = self.pair()
        c = self.client(p)
        keys = os.path.join(c.dir, "my.keys")
        with open(keys, "w") as f:
            f.write("bind list j list.next\nbind list Q no.such-action\n")
        with open(c.config, "a") as f:
            f.write("\n[ui]\nkeys = %s\n" % keys)
        r = c.run()
        self.assertEqual(r.returncode, 2)
        self.assertIn("my.keys:2:", r.stderr.decode())


class Crm(TuiCase):
    """What an agent does to a conversation from the screen reaches the
    relay through the outbox and comes back through sync."""

    def prompt(self, s, line):
        s.keys(":")
        s.wait(lambda t: t.split("\n")[-2].startswith(":"))
        s.type(line)
        s.keys("Enter")

    def test_notes_assignment_status_contact_and_orders(self):
        p = self.pair()
        (w, conv), = self.shop(p, 1)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 120, 40)
        s.wait("live")
        # An internal note from the compose area's note mode.
        s.keys("c")
        s.keys("M-n")
        s.wait("NOTE: only agents see it")
        s.type("Kunde ist Stammkunde")
        s.keys("Enter")
        s.wait("Note queued")
        notes = R.wait_for(lambda: [n for n in p.relay.entities("note")
                                    if n["body"] == "Kunde ist Stammkunde"],
                           what="the note")
        self.assertEqual(notes[0]["conversation_id"], conv)
        s.wait("Kunde ist Stammkunde")
        self.assertFalse(any("Stammkunde" in json.dumps(m)
                             for m in p.sent()))
        s.keys("M-n")
        s.wait("Reply: the customer will see it")
        s.keys("Escape")
        s.wait("── reply ──")
        # Assignment, status, the contact's name, an order.
        self.prompt(s, "assign me")
        s.wait("@alice")
        self.prompt(s, "status pending")
        s.wait("Customer · pending")
        self.prompt(s, "contact name Jürgen Weiß")
        s.wait("Jürgen Weiß · pending")
        self.prompt(s, "contact set kundennummer 4711")
        s.wait("kundennummer: 4711")
        # A write the relay refuses says why at once.
        self.prompt(s, "contact set Kunden-Nummer 1")
        s.wait("Refused by the relay (:retry, :discard): attribute names")
        self.prompt(s, "discard")
        s.wait("discarded")
        self.prompt(s, "order new EUR kaffee-1kg 2 14.99 filter 1 4.50 "
                       "-- Geschenkverpackung")
        t = s.wait("EUR 34.48")
        self.assertIn("2 items", t)
        order = [o for o in p.relay.changes()
                 if o["kind"] == "order" and not o.get("deleted")][-1]
        self.assertEqual(order["data"]["total"], "34.48")
        self.prompt(s, "order status %d paid" % order["id"])
        s.wait("#%d paid" % order["id"])
        conv_now = p.relay.entity("conversation", conv)
        self.assertEqual(conv_now["status"], "pending")
        self.assertIsNotNone(conv_now["assignee_id"])

    def test_labels_history_lines_and_canned_replies(self):
        p = self.pair()
        (w, conv), = self.shop(p, 1)
        admin = p.relay.cli("agent", "add", "root", "--role",
                            "admin").stdout.decode().strip()
        st, _, _ = api(p.relay, admin, "POST", "/api/v1/labels",
                       {"name": "vip", "color": "#aa0000"})
        self.assertEqual(st, 201)
        st, _, _ = api(p.relay, admin, "POST", "/api/v1/canned_replies",
                       {"shortcut": "danke", "text": "Danke, "
                        "{{contact.first_name}}! Gruß, {{agent.name}}"})
        self.assertEqual(st, 201)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 120, 40)
        s.wait(lambda t: "live │ alice" in t)
        self.prompt(s, "label +vip")
        s.wait("#vip")
        self.prompt(s, "status resolved")
        t = s.wait("Customer · resolved")
        # Each change is a history line in the thread, marked '*'.
        s.wait(lambda t: sum(1 for r in t.split("\n")
                             if "│* " in r) >= 2)
        # A canned reply expands from its /shortcut with Tab.
        s.keys("c")
        s.type("/dan")
        s.keys("Tab")
        s.wait("Danke, Customer! Gruß, alice")
        s.keys("Enter")
        R.wait_for(lambda: any(m.get("text") == "Danke, Customer! Gruß, alice"
                               for m in p.sent()), what="the canned reply")

    def test_admins_manage_labels_and_canned_replies_agents_cannot(self):
        p = self.pair()
        self.shop(p, 1)
        root = p.relay.cli("agent", "add", "root", "--role",
                           "admin").stdout.decode().strip()
        agent = self.client(p)
        agent.sync()
        s = self.screen(agent, 120, 40)
        s.wait(lambda t: "live │ alice" in t)
        self.prompt(s, "label-create vip")
        s.wait("Only an admin can")
        s.keys("q")
        self.assertEqual(s.wait_exit(), 0)
        admin = Client("https://localhost:%d" % p.relay.port, root,
                       ca_file=self.certs[0])
        self.addCleanup(admin.close)
        admin.sync()
        s = self.screen(admin, 120, 40)
        s.wait(lambda t: "live │ root" in t)
        self.prompt(s, "label-create vip #00aa00")
        s.wait("Label queued")
        R.wait_for(lambda: [l for l in p.relay.entities("label")
                            if l["name"] == "vip"], what="the label")
        self.prompt(s, "canned-create danke Danke, {{contact.first_name}}!")
        s.wait("Canned reply queued")
        self.prompt(s, "labels")
        s.wait("#vip")
        self.prompt(s, "canned")
        s.wait("/danke")
        self.prompt(s, "label-delete vip")
        s.wait("Label deletion queued")
        R.wait_for(lambda: not [l for l in p.relay.entities("label")
                                if l and l.get("name") == "vip"],
                   what="the label gone")
        self.prompt(s, "labels")
        s.wait("No labels yet")

    def test_bad_prompt_input_says_why_and_queues_nothing(self):
        p = self.pair()
        self.shop(p, 1)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 120, 40)
        s.wait("live")
        for line, why in (("status sideways", "status open|pending"),
                          ("status snooze", "snooze needs a duration"),
                          ("order new EUR kaffee 2", "order new CURRENCY"),
                          ("order status x paid", "order status ID"),
                          ("contact set", "contact set KEY VALUE"),
                          ("label", "label +LABEL"),
                          ("nonsense", "Unknown command"),
                          ("note", "note TEXT")):
            with self.subTest(line=line):
                self.prompt(s, line)
                s.wait(why)
        ob = c.status()["outbox"]
        self.assertEqual((ob["queued"], ob["accepted"], ob["failed"]),
                         (0, 0, 0))


class Media(TuiCase):

    def test_open_fetches_through_the_relay_and_runs_the_opener(self):
        import test_media as M
        p = M.MediaPair(self.certs)
        self.addCleanup(p.close)
        p.start()
        pin_port(p.relay)
        data = b"\x89PNG\r\n\x1a\n" + os.urandom(4096)
        reg = p.register(data, "image/png")
        _, msg = p.customer_sends(reg["id"], wa_id=wa(60), caption="kaputt")
        got = os.path.join(self.dir, "opened-%d" % os.getpid())
        c = self.client(p)
        # The opener gets the fetched file as its last argument: this one
        # copies it where the test looks.
        opener = os.path.join(c.dir, "opener.sh")
        with open(opener, "w") as f:
            f.write("#!/bin/sh\ncp \"$1\" %s\n" % got)
        os.chmod(opener, 0o755)
        with open(c.config, "a") as f:
            f.write("\n[ui]\nopener = %s\n" % opener)
        c.sync()
        s = self.screen(c, 120, 40)
        s.wait("live")
        t = s.wait("kaputt")
        self.assertIn("[image", t)
        s.keys("Tab")
        s.keys("o")
        s.wait("Opened")
        R.wait_for(lambda: os.path.exists(got) and
                   os.path.getsize(got) == len(data), what="the opener")
        with open(got, "rb") as f:
            self.assertEqual(f.read(), data)
        os.unlink(got)
        # The file is kept private under the cache directory...
        mdir = os.path.join(c.cache_dir, "media")
        self.assertEqual(os.stat(mdir).st_mode & 0o777, 0o700)
        self.assertEqual(len(os.listdir(mdir)), 1)
        for name in os.listdir(mdir):
            self.assertEqual(os.stat(os.path.join(mdir, name)).st_mode
                             & 0o777, 0o600)
        # ...and an erasure of the customer reaches it.
        root = p.relay.cli("agent", "add", "root", "--role",
                           "admin").stdout.decode().strip()
        contact = p.relay.entity("conversation",
                                 msg["conversation_id"])["contact_id"]
        st, _, _ = api(p.relay, root, "DELETE",
                       "/api/v1/contacts/%d" % contact)
        self.assertEqual(st, 200)
        R.wait_for(lambda: os.listdir(mdir) == [],
                   what="the erased customer's file gone from the cache")
        s.wait_gone("kaputt")


class TwoAgents(TuiCase):
    """Two real screens, alice's and bob's, on one relay."""

    prompt = Crm.prompt

    def two(self, **kw):
        import test_sim as S
        p = self.pair(relay_kw={"wabas": {"main": S.WABA}},
                      outbound={"template_refresh": "1s"}, **kw)
        bob = p.relay.cli("agent", "add", "bob").stdout.decode().strip()
        (w, conv), = self.shop(p, 1)
        a = self.client(p)
        b = Client("https://localhost:%d" % p.relay.port, bob,
                   ca_file=self.certs[0])
        self.addCleanup(b.close)
        a.sync()
        b.sync()
        sa = self.screen(a, 120, 40)
        sb = self.screen(b, 120, 40)
        sa.wait(lambda t: "live │ alice" in t)
        sb.wait(lambda t: "live │ bob" in t)
        return p, w, conv, sa, sb

    def test_handover_typing_notes_and_orders_reach_the_other_agent(self):
        p, w, conv, sa, sb = self.two()
        # alice hands the conversation to bob: bob's list shows it.
        t0 = time.monotonic()
        self.prompt(sa, "assign bob")
        sb.wait(lambda t: "@bob" in t.split("\n")[2])
        handover = time.monotonic() - t0
        self.assertLess(handover, 5.0)
        # alice types; bob sees it, and is warned when he starts too.
        sb.keys("Tab")
        sa.keys("c")
        sa.type("Moment bitte")
        sb.wait("alice typing…")
        sb.keys("c")
        sb.type("Hallo")
        sb.wait("alice is typing in this conversation too")
        # A note mentioning bob: he is told; the customer never sees it.
        sa.keys("C-u")
        sa.keys("M-n")
        sa.type("intern @bob bitte Rückruf")
        sa.keys("Enter")
        sb.wait("alice mentioned you in conversation %d" % conv)
        sb.wait("intern @bob bitte Rückruf")
        self.assertFalse(any("Rückruf" in json.dumps(m) for m in p.sent()))
        # An order alice creates shows in bob's sidebar with its total.
        sa.keys("Tab")  # out of the compose area (no /shortcut to expand)
        self.prompt(sa, "order new EUR kaffee-1kg 2 14.99")
        sb.wait("EUR 29.98")

    def test_resolved_and_snoozed_reopen_and_a_template_reaches_a_closed_window(
            self):
        p, w, conv, sa, sb = self.two()
        self.prompt(sa, "status resolved")
        sb.wait("Customer · resolved")
        p.customer_writes(w, "Noch eine Frage")
        sb.wait("Customer · open")
        self.prompt(sa, "status snooze 2s")
        sb.wait("Customer · snoozed")
        sb.wait("Customer · open", timeout=30)
        # A customer whose last message is two days old: free text is
        # refused, a template goes through.
        old = wa(70)
        closed = p.customer_writes(old, "Alte Frage",
                                   ts=int(time.time()) - 2 * 86400)
        R.wait_for(lambda: [e for e in p.relay.changes()
                            if e["kind"] == "template"],
                   what="templates from the simulator")
        self.prompt(sa, "open %d" % closed)
        sa.wait("Alte Frage")
        sa.keys("c")
        sa.type("Hallo?")
        sa.keys("Enter")
        sa.wait("window is closed")
        sa.keys("C-u")
        sa.keys("M-t")
        sa.wait(":template")
        sa.type("hello")
        sa.keys("Tab")
        sa.wait(":template hello_world en_US --")
        sa.keys("Enter")
        sa.wait("Template queued")
        R.wait_for(lambda: any(m.get("template") == "hello_world"
                               for m in p.sent()),
                   what="the template at the simulator")
        sa.wait(lambda t: "· read" in t or "· delivered" in t)


class Notify(TuiCase):

    def test_command_runs_for_new_messages_but_never_for_backlog(self):
        p = self.pair()
        self.shop(p, 2)
        c = self.client(p)
        c.sync()
        log = os.path.join(c.dir, "notified")
        script = os.path.join(c.dir, "notify.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nprintf '%s|' \"$@\" >> " + log +
                    "\necho >> " + log + "\n")
        os.chmod(script, 0o755)
        with open(c.config, "a") as f:
            f.write("\n[notify]\nbell = false\ncommand = %s glivi\n"
                    % script)
        s = self.screen(c, 100, 30)
        s.wait("live")
        # Backlog written while the screen was closed: no notification.
        p.customer_writes(wa(50), "neu und geheim")
        R.wait_for(lambda: os.path.exists(log), what="a notification")
        with open(log) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines, ["glivi|Customer|"])
        # Off by default: the message's text is not passed on.
        try:
            s.wait("neu und geheim")
        except AssertionError as e:
            import sqlite3
            db = sqlite3.connect(c.cache_path())
            raise AssertionError("%s\ncache: %r %r\nrelay: %r" % (
                e, db.execute("SELECT id, seq, conversation_id, body FROM"
                              " messages").fetchall(),
                db.execute("SELECT id, seq, last_message_id FROM"
                           " conversations").fetchall(),
                [(x["kind"], x["id"], x["seq"]) for x in
                 p.relay.changes()]))


class Hostile(TuiCase):

    def hostile_shop(self, p):
        for i, text in enumerate(HOSTILE):
            p.customer_writes(wa(10 + i), text)
        p.customer_writes(wa(30), "x" * 4096)

    def test_hostile_text_keeps_columns_aligned_in_tmux(self):
        p = self.pair()
        self.hostile_shop(p)
        c = self.client(p)
        c.sync()
        s = self.screen(c, 120, 40)
        s.wait("live")
        for _ in range(len(HOSTILE) + 1):
            t = s.text()
            rows = t.split("\n")
            self.assertEqual(len(rows), 40)
            # The pane borders stay in their columns on every row.
            self.assertLessEqual(len(border_columns(rows[1:-3])), 1, t)
            s.keys("Down")
        self.assertFalse(s.dead())

    def test_no_injected_sequence_reaches_the_terminal(self):
        p = self.pair()
        self.hostile_shop(p)
        c = self.client(p)
        c.sync()
        out = run_in_pty(c, 100, 30, keys=[b"j"] * (len(HOSTILE) + 1) +
                         [b"q"])
        for seq in INJECTED:
            self.assertNotIn(seq, out, seq)
        # The messages were drawn, neutralised.
        self.assertIn(b"osc52 \xe2\x90\x9b]52;", out)
        # 256 colours on a terminal that has them.
        self.assertIn(b"\x1b[38;5;", out)

    def test_no_color_means_no_colour_sequences(self):
        p = self.pair()
        self.hostile_shop(p)
        c = self.client(p)
        c.sync()
        out = run_in_pty(c, 100, 30, keys=[b"j", b"q"],
                         env={"NO_COLOR": "1"})
        self.assertIn(b"Inbox: all", out)
        for sgr in (b"\x1b[38;5;", b"\x1b[3%dm", b"\x1b[39;49m"):
            if b"%d" in sgr:
                for n in range(8):
                    self.assertNotIn(sgr % n, out)
            else:
                self.assertNotIn(sgr, out)


def run_in_pty(c, w, h, keys, settle=1.0, env=None):
    """Runs the screen in a pty of w x h, sends keys one by one once it
    has drawn, and returns every byte it wrote."""
    pid, fd = pty.fork()
    if pid == 0:
        e = c.env()
        e.update(TERM="xterm-256color", TZ="UTC")
        e.update(env or {})
        os.execve(TUI, [TUI, "-c", c.config], e)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", h, w, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    out = bytearray()
    deadline = time.monotonic() + 30

    def pump(until):
        while time.monotonic() < until:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError as e:
                    if e.errno == errno.EIO:
                        return False
                    raise
                if not chunk:
                    return False
                out.extend(chunk)
        return True

    # Wait for the first frame with the status bar.
    while b"live" not in out and time.monotonic() < deadline:
        if not pump(time.monotonic() + 0.1):
            break
    for k in keys:
        os.write(fd, k)
        pump(time.monotonic() + 0.2)
    alive = pump(time.monotonic() + settle)
    if alive:
        os.kill(pid, signal.SIGTERM)
        pump(time.monotonic() + 2)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return bytes(out)


if __name__ == "__main__":
    unittest.main()
