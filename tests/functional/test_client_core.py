"""glivi-tui's headless core against the real relay and simulator.

Every test runs the real programs as separate processes over HTTPS on
loopback: glivi-relay (with its own throwaway CA), glivi-sim standing in
for Meta, and glivi-tui's subcommands the way a script runs them. What the
client's cache holds is compared with what the relay serves; what reached
"Meta" is counted by the simulator. Waits are on conditions with
deadlines; every process started is stopped.
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
import test_outbound as O  # noqa: E402
from apiclient import api  # noqa: E402
from client import Client  # noqa: E402

TEMPFAIL = 75


def pin_port(relay):
    """Rewrites the relay's config to listen on the port it got, so a
    restart comes back where the client and the simulator look."""
    with open(relay.config) as f:
        text = f.read()
    text = re.sub(r"(?m)^listen = 127\.0\.0\.1:\d+$",
                  "listen = 127.0.0.1:%d" % relay.port, text)
    with open(relay.config, "w") as f:
        f.write(text)


def seed(relay, conversations, per_conversation, words="order parcel"):
    """Customers writing through signed webhooks, many messages per
    delivery; returns the wa_ids."""
    wa_ids = ["4915%09d" % (os.getpid() % 1000 * 100000 + i)
              for i in range(conversations)]
    now = int(time.time())
    n = 0
    batch = []

    def post(batch):
        body = {"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398", "changes": [{"field": "messages",
                "value": {"messaging_product": "whatsapp",
                          "metadata": {"display_phone_number": "15550783881",
                                       "phone_number_id": R.MAIN},
                          "contacts": [{"profile": {"name": "Kunde %s" % w},
                                        "wa_id": w} for w in
                                       sorted({m["from"] for m in batch})],
                          "messages": batch}}]}]}
        st, _, text = relay.post_webhook(json.dumps(body).encode())
        assert st == 200, (st, text)

    for k in range(per_conversation):
        for w in wa_ids:
            n += 1
            batch.append({"from": w, "id": "wamid.seed-%d-%d" % (
                os.getpid(), n), "timestamp": str(now), "type": "text",
                "text": {"body": "%s %d für Müller" % (words, n)}})
            if len(batch) == 400:
                post(batch)
                batch = []
    if batch:
        post(batch)
    return wa_ids


def relay_state(relay):
    """Every live entity the relay serves, as {(kind, id): data}."""
    return {(c["kind"], c["id"]): c["data"] for c in relay.changes()
            if not c.get("deleted")}


def cache_state(client):
    """Every entity in the client's cache, read from its SQLite file."""
    db = sqlite3.connect("file:%s?mode=ro" % client.cache_path(), uri=True)
    try:
        out = {}
        for kind, table in (("conversation", "conversations"),
                            ("message", "messages"), ("contact", "contacts"),
                            ("order", "orders"), ("note", "notes"),
                            ("agent", "agents"), ("template", "templates")):
            data_table = "message_data" if table == "messages" else table
            for id, data in db.execute("SELECT id, data FROM %s"
                                       % data_table):
                out[(kind, id)] = json.loads(data)
        # Every message row has its JSON, and no JSON is left over.
        self_check = db.execute("SELECT (SELECT count(*) FROM messages),"
                                " (SELECT count(*) FROM message_data),"
                                " (SELECT count(*) FROM messages m JOIN"
                                " message_data d ON d.id = m.id)").fetchone()
        assert self_check[0] == self_check[1] == self_check[2], self_check
        return out
    finally:
        db.close()


class ClientCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="glivi-client-test-")
        cls.certs = R.make_certs(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def pair(self, **kw):
        p = O.Pair(self.certs, **kw)
        self.addCleanup(p.close)
        p.start()
        pin_port(p.relay)
        return p

    def relay_only(self, **kw):
        r = R.Relay(certs=self.certs, **kw)
        self.addCleanup(r.close)
        r.start()
        pin_port(r)
        token = r.cli("agent", "add", "alice").stdout.decode().strip()
        return r, token

    def client(self, relay, token, **kw):
        c = Client("https://localhost:%d" % relay.port, token,
                   ca_file=kw.pop("ca_file", self.certs[0]), **kw)
        self.addCleanup(c.close)
        return c

    def assertCacheEqualsRelay(self, client, relay):
        want = relay_state(relay)
        got = cache_state(client)
        self.assertEqual(sorted(got), sorted(want))
        for key in want:
            self.assertEqual(got[key], want[key], key)


class Sync(ClientCase):

    def test_first_sync_mirrors_the_relay_and_search_works_offline(self):
        r, token = self.relay_only()
        seed(r, 20, 10)
        c = self.client(r, token)
        c.sync()
        self.assertCacheEqualsRelay(c, r)
        st = c.status()
        self.assertEqual(st["counts"]["messages"], 200)
        self.assertEqual(st["counts"]["conversations"], 20)
        self.assertTrue(st["synced"])
        r.stop()
        # Offline: case and accent folded, newest first, limit kept.
        hits = c.search("MULLER", "parcel")
        msgs = [h for h in hits if h["kind"] == "message"]
        self.assertEqual(len(msgs), 50)
        self.assertEqual([h["id"] for h in msgs],
                         sorted((h["id"] for h in msgs), reverse=True))
        self.assertTrue(all("Müller" in h["text"] for h in msgs))
        contacts = [h for h in c.search("kunde") if h["kind"] == "contact"]
        self.assertEqual(len(contacts), 20)
        self.assertEqual(c.search("nothingmatchesthis"), [])

    def test_second_sync_brings_only_changes_and_tombstones_delete(self):
        r, token = self.relay_only()
        seed(r, 3, 2)
        c = self.client(r, token)
        c.sync()
        status, _, note = api(r, token, "POST",
                              "/api/v1/conversations/1/notes",
                              {"body": "kiwi smoothie"})
        self.assertEqual(status, 201, note)
        c.sync()
        self.assertEqual(c.status()["counts"]["notes"], 1)
        self.assertEqual(len(c.export(1)["notes"]), 1)
        status, _, _ = api(r, token, "DELETE", "/api/v1/notes/%d" %
                           note["id"])
        self.assertEqual(status, 200)
        r2 = c.ok("sync")
        self.assertIn(b"up to date", r2.stderr)
        self.assertEqual(c.status()["counts"]["notes"], 0)
        self.assertEqual(c.export(1)["notes"], [])
        self.assertCacheEqualsRelay(c, r)

    def test_killed_mid_first_sync_resumes_without_loss_or_duplicates(self):
        r, token = self.relay_only()
        seed(r, 50, 120)  # 6,000 messages
        c = self.client(r, token)
        # [cache] is the last section the client's config writes.
        with open(c.config, "a") as f:
            f.write("\n[sync]\npage_size = 50\n")
        p = c.popen("sync")
        try:
            # Progress is reported every 10%: kill after the first
            # committed batches, well before the end.
            line = p.stderr.readline()
            self.assertIn(b"first sync", line)
            R.wait_for(lambda: c.status()["counts"]["messages"] > 0,
                       what="a first batch to be committed")
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        partial = c.status()
        self.assertFalse(partial["synced"])
        self.assertLess(partial["counts"]["messages"], 6000)
        c.sync()
        self.assertCacheEqualsRelay(c, r)
        self.assertTrue(c.status()["synced"])
        # The full-text index was built at the end of the resumed sync.
        hits = c.search("--limit", "10000", "parcel")
        self.assertEqual(len([h for h in hits if h["kind"] == "message"]),
                         6000)

    def test_deleted_cache_file_is_rebuilt_by_a_full_sync(self):
        r, token = self.relay_only()
        seed(r, 4, 3)
        c = self.client(r, token)
        c.sync()
        for f in c.cache_files():
            if not f.endswith(".work.db") and ".work.db" not in f:
                os.unlink(os.path.join(c.cache_dir, f))
        self.assertEqual(c.status()["counts"]["messages"], 0)
        c.sync()
        self.assertCacheEqualsRelay(c, r)

    def test_damaged_or_truncated_cache_is_rebuilt_with_a_clear_message(self):
        r, token = self.relay_only()
        seed(r, 5, 40)
        c = self.client(r, token)
        c.sync()
        path = c.cache_path()
        r.stop()
        # Queued while the relay is away: must survive the rebuild.
        q = c.run("send", "1", "kept across the rebuild")
        self.assertEqual(q.returncode, TEMPFAIL, q.stderr)
        for damage in ("garbage", "truncate"):
            with open(path, "r+b") as f:
                if damage == "garbage":
                    f.seek(0)
                    f.write(os.urandom(4096))
                else:
                    f.truncate(os.path.getsize(path) // 3)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)
            res = c.run("status", "--json")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn(b"rebuilt from the relay", res.stderr, damage)
            self.assertEqual(json.loads(res.stdout)["outbox"]["queued"], 1)
        r.start()
        c.sync()
        self.assertCacheEqualsRelay(c, r)
        self.assertEqual(c.status()["outbox"]["queued"], 0)

    def test_new_relay_epoch_rebuilds_the_cache_and_keeps_the_outbox(self):
        r, token = self.relay_only()
        seed(r, 3, 3)
        c = self.client(r, token)
        c.sync()
        r.stop()
        q = c.run("send", "1", "queued before the relay was restored")
        self.assertEqual(q.returncode, TEMPFAIL, q.stderr)
        # The relay comes back from an empty store: another epoch. The
        # agent needs a token there too.
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(r.db + suffix):
                os.unlink(r.db + suffix)
        r.start()
        token2 = r.cli("agent", "add", "alice").stdout.decode().strip()
        R.write_secret(c.token_file, token2.encode())
        seed(r, 2, 1, words="fresh")
        res = c.ok("sync")
        self.assertIn(b"cache rebuilt", res.stderr)
        st = c.status()
        self.assertEqual(st["outbox"]["queued"], 0)
        self.assertEqual(st["outbox"]["accepted"], 1)
        state = relay_state(r)
        self.assertEqual(sorted(cache_state(c)), sorted(state))
        texts = [m["text"] for (k, _), m in state.items() if k == "message"]
        self.assertIn("queued before the relay was restored", texts)
        self.assertEqual(c.search("parcel"), [])


class Outbox(ClientCase):

    def test_send_while_relay_down_is_delivered_once_and_ends_read(self):
        p = self.pair()
        wa_id = O.customer()
        conv = p.customer_writes(wa_id)
        c = self.client(p.relay, p.agent)
        c.sync()
        p.relay.stop()
        res = c.run("send", str(conv), "Ihre Bestellung ist unterwegs")
        self.assertEqual(res.returncode, TEMPFAIL, res.stderr)
        self.assertIn(b"could not be reached", res.stderr)
        self.assertEqual(c.status()["outbox"]["queued"], 1)
        p.relay.start()
        c.sync()
        self.assertEqual(c.status()["outbox"]["accepted"], 1)

        def read_in_cache():
            c.sync()
            msgs = [m for m in c.export(conv)["messages"]
                    if m["direction"] == "out"]
            return msgs if msgs and msgs[0]["status"] == "read" else None
        msgs = R.wait_for(read_in_cache, what="the reply to be read")
        self.assertEqual(len(msgs), 1)
        sent = [s for s in p.sent() if s["to"] == wa_id]
        self.assertEqual(len(sent), 1, sent)
        self.assertEqual(sent[0]["text"], "Ihre Bestellung ist unterwegs")
        st = json.loads(c.ok("status", "--json").stdout)
        self.assertEqual(st["outbox"]["pending"], [])
        lines = c.ok("outbox").stdout.decode()
        self.assertRegex(lines, r"accepted\s+read\s+message")

    def test_client_killed_mid_send_sends_once_after_restart(self):
        p = self.pair()
        wa_id = O.customer()
        conv = p.customer_writes(wa_id)
        c = self.client(p.relay, p.agent)
        c.sync()
        # Freeze the relay: the request reaches its socket, no answer
        # comes back; kill the client while it waits.
        p.relay.proc.send_signal(signal.SIGSTOP)
        try:
            proc = c.popen("send", str(conv), "exactly once please")
            R.wait_for(lambda: c.status()["outbox"]["queued"] == 1,
                       what="the reply to be queued")
            R.wait_for(lambda: established(proc.pid, p.relay.port),
                       what="the client to connect to the relay")
            proc.kill()
            proc.wait(timeout=30)
            proc.stdout.close()
            proc.stderr.close()
        finally:
            p.relay.proc.send_signal(signal.SIGCONT)
        # The relay now reads the orphaned request and carries it out.
        # The restarted client sends it again under the same key.
        c.sync()
        self.assertEqual(c.status()["outbox"]["accepted"], 1)
        R.wait_for(lambda: [s for s in p.sent() if s["to"] == wa_id],
                   what="the reply to reach the simulator")
        O.OutboundCase.assertQuiet(self, p)
        sent = [s for s in p.sent() if s["to"] == wa_id]
        self.assertEqual(len(sent), 1, sent)
        outs = [m for (k, _), m in relay_state(p.relay).items()
                if k == "message" and m["direction"] == "out"]
        self.assertEqual(len(outs), 1, outs)

    def test_refused_write_is_failed_with_reason_and_can_be_discarded(self):
        r, token = self.relay_only()
        seed(r, 1, 1)
        c = self.client(r, token)
        c.sync()
        res = c.run("send", "999999", "to nowhere")
        self.assertEqual(res.returncode, 1)
        self.assertIn(b"refused", res.stderr)
        pending = c.status()["outbox"]["pending"]
        self.assertEqual(len(pending), 1)
        self.assertEqual(pending[0]["state"], "failed")
        self.assertTrue(pending[0]["error"])
        # Retry gives it a new key (the refusal is not replayed)...
        c.ok("outbox", "retry", str(pending[0]["id"]))
        self.assertEqual(c.status()["outbox"]["queued"], 1)
        c.run("sync")
        self.assertEqual(c.status()["outbox"]["failed"], 1)
        # ...and only the agent drops it.
        c.ok("outbox", "discard", str(pending[0]["id"]))
        self.assertEqual(c.status()["outbox"]["pending"], [])
        self.assertEqual(c.run("outbox", "discard", "12345").returncode, 1)

    def test_send_checks_text_before_queueing(self):
        r, token = self.relay_only()
        seed(r, 1, 1)
        c = self.client(r, token)
        c.sync()
        cases = [b"", b"   \n ", b"\xff\xfe not utf-8", b"bell \x07",
                 b"x" * 70000, "🙂".encode() * 2049]
        for text in cases:
            res = c.run("send", "1", "-", stdin=text)
            self.assertEqual(res.returncode, 2, text[:20])
            self.assertIn(b"not sent", res.stderr)
        self.assertEqual(c.status()["outbox"]["queued"], 0)
        ok = c.run("send", "1", "-", stdin="line one\nline two 🙂\n".encode())
        self.assertEqual(ok.returncode, 0, ok.stderr)


def established(pid, port):
    """Whether process pid has a TCP connection to port (from /proc)."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fd_dir):
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return False
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            rport = int(parts[2].split(":")[1], 16)
            if parts[9] in inodes and rport == port and parts[3] == "01":
                return True
    return False


class Transport(ClientCase):

    def test_untrusted_certificates_are_refused_with_a_clear_message(self):
        r, token = self.relay_only()
        other = tempfile.mkdtemp(prefix="glivi-other-ca-")
        self.addCleanup(shutil.rmtree, other, True)
        other_ca, _, _ = R.make_certs(other)
        for ca, why in ((other_ca, b"certificate"), (None, b"ca_file")):
            c = self.client(r, token, ca_file=ca)
            if ca is None:
                c.ca_file = None
                c.write_config()
            res = c.run("sync")
            self.assertEqual(res.returncode, 1)
            self.assertIn(b"TLS certificate was refused", res.stderr)
            self.assertIn(why, res.stderr)
            self.assertEqual(c.status()["counts"]["messages"], 0)

    def test_expired_certificate_is_refused(self):
        d = tempfile.mkdtemp(prefix="glivi-expired-")
        self.addCleanup(shutil.rmtree, d, True)
        ca, cert, key = make_expired_certs(d)
        r = R.Relay(certs=(ca, cert, key))
        self.addCleanup(r.close)
        r.start()
        token = r.cli("agent", "add", "alice").stdout.decode().strip()
        c = self.client(r, token, ca_file=ca)
        res = c.run("sync")
        self.assertEqual(res.returncode, 1)
        self.assertIn(b"expired", res.stderr)

    def test_pinned_public_key_must_match(self):
        r, token = self.relay_only()
        c = self.client(r, token)
        pin = subprocess.run(
            "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin "
            "-outform der | openssl dgst -sha256 -binary | base64"
            % self.certs[1], shell=True, capture_output=True,
            check=True).stdout.decode().strip()
        c.write_config(pinned_pubkey="sha256//" + pin)
        c.sync()
        c.write_config(pinned_pubkey="sha256//" +
                       "A" * 43 + "=")
        res = c.run("sync")
        self.assertEqual(res.returncode, 1)
        self.assertIn(b"pinned_pubkey", res.stderr)

    def test_revoked_token_fails_clearly_and_queues_nothing_twice(self):
        r, token = self.relay_only()
        c = self.client(r, token)
        c.sync()
        r.cli("agent", "revoke", "alice")
        res = c.run("sync")
        self.assertEqual(res.returncode, 1)
        self.assertIn(b"HTTP 401", res.stderr)

    def test_bad_config_is_refused_with_file_and_line(self):
        r, token = self.relay_only()
        c = self.client(r, token)
        with open(c.config, "a") as f:
            f.write("\n[relay]\nurl = http://example.com\n")
        res = c.run("status")
        self.assertEqual(res.returncode, 2)
        self.assertRegex(res.stderr.decode(), r"glivi-tui\.conf:\d+: ")
        c.write_config(url="http://example.com")
        res = c.run("status")
        self.assertEqual(res.returncode, 2)
        self.assertIn(b"loopback", res.stderr)
        os.chmod(c.token_file, 0o644)
        c.write_config()
        res = c.run("sync")
        self.assertEqual(res.returncode, 1)
        self.assertIn(b"token_file", res.stderr)
        # --dump-config never shows a token command.
        c.write_config(token_file=None, token_command="echo s3cr3t-token")
        dump = c.ok("--dump-config").stdout
        self.assertNotIn(b"s3cr3t", dump)
        self.assertIn(b"token_command = (hidden)", dump)


def make_expired_certs(d):
    """A CA and a localhost certificate that expired yesterday."""
    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd=d)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=old CA",
        "-days", "30", "-keyout", "ca.key", "-out", "ca.pem")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "key.pem", "-out", "req.csr")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\n"
                "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                "policy = p\ncopy_extensions = copy\n[p]\n"
                "commonName = supplied\n")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    run("openssl", "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem",
        "-keyfile", "ca.key", "-in", "req.csr", "-out", "cert.pem",
        "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
        "-extfile", "ext.cnf")
    os.chmod(os.path.join(d, "key.pem"), 0o600)
    return (os.path.join(d, "ca.pem"), os.path.join(d, "cert.pem"),
            os.path.join(d, "key.pem"))


class Follow(ClientCase):

    def test_follow_applies_live_changes_and_reconnects(self):
        r, token = self.relay_only(server_extra="heartbeat = 1s\n")
        seed(r, 2, 1)
        c = self.client(r, token)
        with open(c.config, "a") as f:
            f.write("\n")
        c.write_config(heartbeat_timeout="3s")
        proc = c.popen("sync", "--follow")
        lines = []

        def saw(text):
            while True:
                line = proc.stderr.readline()
                if not line:
                    return False
                lines.append(line)
                if text in line:
                    return True
        try:
            self.assertTrue(saw(b"live"), lines)
            api(r, token, "POST", "/api/v1/conversations/1/notes",
                {"body": "while following"})
            R.wait_for(lambda: c.status()["counts"]["notes"] == 1,
                       what="the note to reach the cache")
            # The relay freezes: the heartbeat watchdog notices.
            r.proc.send_signal(signal.SIGSTOP)
            try:
                self.assertTrue(saw(b"offline"), lines)
            finally:
                r.proc.send_signal(signal.SIGCONT)
            self.assertTrue(saw(b"live"), lines)
            # The relay restarts: the client comes back by itself.
            r.stop()
            self.assertTrue(saw(b"offline"), lines)
            r.start()
            self.assertTrue(saw(b"live"), lines)
            api(r, token, "POST", "/api/v1/conversations/2/notes",
                {"body": "after the restart"})
            R.wait_for(lambda: c.status()["counts"]["notes"] == 2,
                       what="the second note to reach the cache")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                self.assertEqual(proc.wait(timeout=30), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                proc.stderr.close()
        self.assertCacheEqualsRelay(c, r)


if __name__ == "__main__":
    unittest.main()
