"""glivi-relay migrate: a store filled through the real relay on SQLite
(webhook fixtures, statuses, contacts, agents, labels, notes) moves to a
fresh database on a throwaway PostgreSQL cluster, and a relay on the copy
serves the same store: the same counts and change log, agents' tokens and
sync cursors still good, new rows under new ids. A target that holds data
and a URL with a password are refused; the copy also goes back to SQLite.

The cluster (scripts/pg-cluster) starts once for the class and is always
stopped; without PostgreSQL installed the tests are skipped.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
import relay as R  # noqa: E402
from apiclient import api, text_webhook  # noqa: E402

# Every fixture is a webhook but the README; the one for a number no
# [number.*] names goes too, so the quarantine table has rows to move.
SKIP_FIXTURES = {"README.md"}


def migrate(src, dst, *extra, env=None, stdin=None):
    return subprocess.run([R.RELAY, "migrate", "--from", src, "--to", dst]
                          + list(extra), capture_output=True, timeout=300,
                          env=env, input=stdin)


def table_of(out):
    """The verification table migrate prints: name -> (source rows,
    target rows, verdict)."""
    rows = {}
    for line in out.decode().splitlines()[1:]:
        f = line.split()
        rows[f[0]] = (int(f[1]), int(f[2]), f[-1])
    return rows


@unittest.skipUnless(pgcluster.available(), pgcluster.WHY_NOT)
class MigrateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pgcluster.Cluster()
        cls.addClassCleanup(cls.pg.stop)
        cls.pg.start()
        # Every process this test starts (relays, migrate, psql) logs in
        # with the cluster's passfile, never with a password in a URL.
        cls.env = {**os.environ, **cls.pg.env()}
        old = os.environ.get("PGPASSFILE")
        os.environ["PGPASSFILE"] = cls.pg.passfile
        cls.addClassCleanup(lambda: os.environ.pop("PGPASSFILE") if
                            old is None else
                            os.environ.__setitem__("PGPASSFILE", old))
        cls.tmp = tempfile.mkdtemp(prefix="glivi-migrate-test-")
        cls.addClassCleanup(lambda: subprocess.run(["rm", "-rf", cls.tmp]))

        cls.certs = R.make_certs(cls.tmp)
        sqlite_url = "sqlite:" + os.path.join(cls.tmp, "relay.db")
        cls.sqlite_url = sqlite_url
        cls.fill(sqlite_url)

        cls.pg_url = cls.pg.fresh_database()
        r = migrate(sqlite_url, cls.pg_url, "--yes", env=cls.env)
        cls.migrate_result = r

        # The copy as the PostgreSQL store reads it, before any relay
        # runs on it.
        cls.relay = R.Relay(store=cls.pg_url, certs=cls.certs)
        cls.addClassCleanup(cls.relay.close)
        if r.returncode == 0:
            cls.after_counts = cls.relay.counts()
            cls.after_changes = cls.relay.cli("inspect", "changes").stdout
            cls.relay.start()

    @classmethod
    def fill(cls, url):
        """Real traffic through a relay on the SQLite store, then stops
        it: what a store holds, and what it served, before the move."""
        r = R.Relay(store=url, certs=cls.certs)
        try:
            r.start()
            for name in sorted(os.listdir(R.FIXTURES)):
                if name in SKIP_FIXTURES:
                    continue
                st, _, _ = r.post_fixture(name)
                assert st == 200, (name, st)
            cls.admin = r.cli("agent", "add", "root", "--role",
                              "admin").stdout.decode().strip()
            cls.agent = r.cli("agent", "add", "alice").stdout.decode().strip()
            for wa in ("15550001001", "15550001002", "15550001003"):
                body, _ = text_webhook(wa, text="before the move")
                st, _, _ = r.post_webhook(body)
                assert st == 200, st
            convs = [c["id"] for c in r.changes()
                     if c["kind"] == "conversation"]
            st, _, lab = api(r, cls.admin, "POST", "/api/v1/labels",
                             {"name": "vip", "color": "#cc0000"})
            assert st == 201, (st, lab)
            st, _, b = api(r, cls.agent, "POST", "/api/v1/conversations/%d/"
                           "labels" % convs[0], {"add": ["vip"]})
            assert st == 200, (st, b)
            for conv in convs[:2]:
                st, _, b = api(r, cls.agent, "POST",
                               "/api/v1/conversations/%d/notes" % conv,
                               {"body": "a note on %d" % conv})
                assert st == 201, (st, b)
            # The cursor an agent holds when the relay stops: it must
            # go on working on the new database.
            cursor = None
            while True:
                path = "/api/v1/sync" + (
                    "?since=" + urllib.parse.quote(cursor) if cursor else "")
                st, _, page = api(r, cls.agent, "GET", path)
                assert st == 200, (st, page)
                cursor = page["cursor"]
                if not page["more"]:
                    break
            cls.cursor = cursor
            assert r.stop() == 0
            cls.before_counts = r.counts()
            cls.before_changes = r.cli("inspect", "changes").stdout
            cls.before_ids = {k: max(c["id"] for c in r.changes()
                                     if c["kind"] == k)
                              for k in ("message", "contact", "conversation",
                                        "note")}
        finally:
            r.close()

    def setUp(self):
        self.assertEqual(self.migrate_result.returncode, 0,
                         self.migrate_result.stderr.decode())

    # -- the copy ----------------------------------------------------------
    def test_every_table_is_verified(self):
        table = table_of(self.migrate_result.stdout)
        self.assertEqual(len(table), 21, self.migrate_result.stdout)
        for name, (src, dst, verdict) in table.items():
            self.assertEqual((src, verdict), (dst, "ok"), name)
        for name in ("meta", "changes", "messages", "statuses", "webhooks",
                     "contacts", "agents", "labels", "notes", "history",
                     "quarantine"):
            self.assertGreater(table[name][0], 0, name)

    def test_nothing_of_the_rows_is_printed(self):
        out = (self.migrate_result.stdout +
               self.migrate_result.stderr).decode()
        for secret in ("before the move", "a note on", self.agent,
                       "15550001001"):
            self.assertNotIn(secret, out)

    def test_the_copy_counts_and_changes_are_the_sources(self):
        self.assertEqual(self.after_counts, self.before_counts)
        self.assertEqual(self.after_changes, self.before_changes)

    # -- a relay on the copy -----------------------------------------------
    def test_tokens_still_work(self):
        for token, role in ((self.agent, "agent"), (self.admin, "admin")):
            st, _, me = api(self.relay, token, "GET", "/api/v1/me")
            self.assertEqual(st, 200, me)
            self.assertEqual(me["role"], role)

    def test_a_cursor_from_before_the_move_still_works(self):
        st, _, page = api(self.relay, self.agent, "GET", "/api/v1/sync?since="
                          + urllib.parse.quote(self.cursor))
        self.assertEqual(st, 200, page)
        body, wamid = text_webhook("15550001001", text="after the move")
        st, _, _ = self.relay.post_webhook(body)
        self.assertEqual(st, 200)
        st, _, page = api(self.relay, self.agent, "GET", "/api/v1/sync?since="
                          + urllib.parse.quote(self.cursor))
        self.assertEqual(st, 200, page)
        kinds = {e["kind"] for e in page["events"]}
        self.assertIn("message", kinds, page)
        self.assertEqual(page["cursor"].split(".")[1],
                         self.cursor.split(".")[1], "the epoch moved")

    def test_new_rows_get_new_ids(self):
        counts = self.relay.counts()
        body, wamid = text_webhook("15550009999", text="a new customer")
        st, _, _ = self.relay.post_webhook(body)
        self.assertEqual(st, 200)
        m = self.relay.message(wamid)
        self.assertIsNotNone(m, self.relay.read_log())
        self.assertGreater(m["id"], self.before_ids["message"])
        self.assertGreater(m["conversation_id"],
                           self.before_ids["conversation"])
        st, _, note = api(self.relay, self.agent, "POST",
                          "/api/v1/conversations/%d/notes" %
                          m["conversation_id"], {"body": "new"})
        self.assertEqual(st, 201, note)
        self.assertGreater(note["id"], self.before_ids["note"])
        after = self.relay.counts()
        self.assertGreater(after["webhooks"], counts["webhooks"])
        self.assertGreater(after["contacts"], counts["contacts"])
        self.assertGreater(after["notes"], counts["notes"])

    def test_check_finds_changed_and_missing_rows(self):
        copy = self.pg.fresh_database()
        r = migrate(self.sqlite_url, copy, "--yes", env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = migrate(self.sqlite_url, copy, "--check", env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.pg.psql("UPDATE notes SET body = body || '.' WHERE id = "
                     "(SELECT min(id) FROM notes)", copy)
        self.pg.psql("UPDATE webhooks SET body = body || '\\x00'::bytea "
                     "WHERE id = (SELECT max(id) FROM webhooks)", copy)
        self.pg.psql("DELETE FROM statuses WHERE (number_id, wamid, status) "
                     "IN (SELECT number_id, wamid, status FROM statuses "
                     "LIMIT 1)", copy)
        r = migrate(self.sqlite_url, copy, "--check", env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        table = table_of(r.stdout)
        differ = {t for t, (_, _, v) in table.items() if v != "ok"}
        self.assertEqual(differ, {"notes", "webhooks", "statuses"})
        self.assertEqual(table["notes"][0], table["notes"][1])
        self.assertEqual(table["statuses"][0], table["statuses"][1] + 1)

    # -- refusals ----------------------------------------------------------
    def test_a_target_with_data_is_refused(self):
        before = self.relay.counts()
        r = migrate(self.sqlite_url, self.pg_url, "--yes", env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"not empty", r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(self.relay.counts(), before)

    def test_a_url_with_a_password_is_refused(self):
        url = self.pg.fresh_database()
        with_pw = url.replace("glivi@", "glivi:hunter2-secret@", 1)
        r = migrate(self.sqlite_url, with_pw, "--yes", env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"password", r.stderr)
        self.assertNotIn(b"hunter2", r.stdout + r.stderr)
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public'", url).strip(), "0")

    def test_a_source_that_is_no_store_is_refused(self):
        missing = "sqlite:" + os.path.join(self.tmp, "no-such.db")
        r = migrate(missing, self.pg.fresh_database(), "--yes",
                    env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertFalse(os.path.exists(missing[7:]))

    def test_without_yes_it_asks(self):
        target = "sqlite:" + os.path.join(self.tmp, "asked.db")
        r = migrate(self.sqlite_url, target, env=self.env, stdin=b"no\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"nothing copied", r.stderr)
        self.assertFalse(os.path.exists(target[7:]))

    # -- and back ----------------------------------------------------------
    def test_postgres_to_sqlite(self):
        # A copy of its own, so the relay's new traffic in other tests
        # does not race this one's reads.
        src = self.pg.fresh_database()
        r = migrate(self.sqlite_url, src, "--yes", env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        target = "sqlite:" + os.path.join(self.tmp, "back.db")
        r = migrate(src, target, env=self.env, stdin=b"migrate\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        for name, (a, b, verdict) in table_of(r.stdout).items():
            self.assertEqual((a, verdict), (b, "ok"), name)
        back = R.Relay(store=target, certs=self.certs)
        try:
            self.assertEqual(back.counts(), self.before_counts)
            self.assertEqual(back.cli("inspect", "changes").stdout,
                             self.before_changes)
        finally:
            back.close()


if __name__ == "__main__":
    unittest.main()
