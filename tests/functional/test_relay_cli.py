"""glivi-relay's command line: version and help, configuration errors that
name the file and line, secret files, the sample configuration, agent
accounts and inspect.

The binary is run as a user would run it (subprocess, real files). Every
`serve` that is expected to refuse its configuration runs under a timeout
and is killed if it starts serving anyway.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402

APP_SECRET_TEXT = "top-secret-app-key-7f3a9c"
VERIFY_TOKEN_TEXT = "verify-me-please-19e2"


def run(*args, timeout=30):
    return subprocess.run([R.RELAY] + list(args), capture_output=True,
                          timeout=timeout)


def line_no(text, line, nth=1):
    """1-based number of the nth line of text equal to line (stripped)."""
    seen = 0
    for i, l in enumerate(text.split("\n"), 1):
        if l.strip() == line:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError("no line %r (#%d) in:\n%s" % (line, nth, text))


class ConfigDir:
    """A temp dir with valid certificate, secrets and a config writer."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="glivi-cli-test-")
        self.ca, self.cert, self.key = R.make_certs(self.dir)
        self.app_secret = os.path.join(self.dir, "app_secret")
        self.verify_token = os.path.join(self.dir, "verify_token")
        R.write_secret(self.app_secret, APP_SECRET_TEXT.encode())
        R.write_secret(self.verify_token, VERIFY_TOKEN_TEXT.encode())
        self.n = 0
        self.dbs = 0

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def text(self, head="", server="", store="", meta="", numbers=None,
             tail="", tls=True, db=None):
        """A valid config (plus the given lines); each call gets its own
        store unless db is given, so refused configs leave no trace."""
        if db is None:
            self.dbs += 1
            db = os.path.join(self.dir, "relay-%d.db" % self.dbs)
        if numbers is None:
            numbers = "[number.main]\nphone_number_id = %s\n" % R.MAIN
        return (
            "%s[server]\nlisten = 127.0.0.1:0\n%sdata_dir = %s\n%s\n"
            "[store]\nurl = sqlite:%s\n%s\n"
            "[meta]\napp_secret_file = %s\nverify_token_file = %s\n%s\n"
            "%s%s" % (
                head,
                ("tls_cert = %s\ntls_key = %s\n" % (self.cert, self.key))
                if tls else "",
                self.dir, server, db, store,
                self.app_secret, self.verify_token, meta,
                numbers, tail))

    def write(self, text):
        self.n += 1
        path = os.path.join(self.dir, "relay-%d.conf" % self.n)
        with open(path, "w") as f:
            f.write(text)
        return path


class CliTestCase(unittest.TestCase):
    def assertSecretsNotIn(self, *outputs):
        for out in outputs:
            if isinstance(out, bytes):
                out = out.decode("utf-8", "replace")
            self.assertNotIn(APP_SECRET_TEXT, out)
            self.assertNotIn(VERIFY_TOKEN_TEXT, out)

    def serve_refused(self, config):
        """Runs serve on config, which must refuse to start: returns
        stderr. Fails (and kills it) if it starts serving."""
        ready = config + ".ready"
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([R.RELAY, "serve", "-c", config,
                                     "--ready-file", ready],
                                    stdout=out, stderr=err)
            try:
                R.wait_for(lambda: proc.poll() is not None or
                           os.path.exists(ready), timeout=20,
                           what="serve to exit")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                    started = True
                else:
                    started = False
            out.seek(0)
            err.seek(0)
            out, err = out.read(), err.read()
        self.assertFalse(started, "serve started with a config it should "
                         "refuse:\n" + err.decode("utf-8", "replace"))
        self.assertEqual(proc.returncode, 1, err)
        self.assertSecretsNotIn(out, err)
        return err.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
class VersionAndHelp(CliTestCase):
    def project_version(self):
        with open(os.path.join(R.SOURCE, "CMakeLists.txt")) as f:
            m = re.search(r"project\([^)]*VERSION\s+(\d+\.\d+\.\d+)",
                          f.read())
        return m.group(1)

    def test_version_prints_name_and_semver(self):
        want = "glivi-relay %s\n" % self.project_version()
        for arg in ("--version", "version", "-V"):
            with self.subTest(arg=arg):
                r = run(arg)
                self.assertEqual(r.returncode, 0)
                self.assertRegex(r.stdout.decode(),
                                 r"^glivi-relay \d+\.\d+\.\d+\n$")
                self.assertEqual(r.stdout.decode(), want)

    def test_help_lists_the_commands(self):
        for arg in ("--help", "help", "-h"):
            with self.subTest(arg=arg):
                r = run(arg)
                self.assertEqual(r.returncode, 0)
                out = r.stdout.decode()
                for cmd in ("serve", "agent", "inspect", "sample-config"):
                    self.assertRegex(out, r"(?m)^\s+%s\b" % cmd)

    def test_unknown_command_exits_2_naming_it(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("frobnicate", r.stderr.decode())
        self.assertIn("unknown command", r.stderr.decode())
        self.assertEqual(r.stdout, b"")

    def test_no_command_exits_2_with_usage(self):
        r = run()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr.decode())

    def test_serve_without_config_exits_2(self):
        r = run("serve")
        self.assertEqual(r.returncode, 2)
        self.assertIn("-c FILE", r.stderr.decode())


# ---------------------------------------------------------------------------
class ConfigErrors(CliTestCase):
    """Each mistake stops start-up with exit 1 and "FILE:LINE: what"."""

    @classmethod
    def setUpClass(cls):
        cls.cd = ConfigDir()

    @classmethod
    def tearDownClass(cls):
        cls.cd.close()

    def refused_at(self, text, line, *words):
        path = self.cd.write(text)
        err = self.serve_refused(path)
        self.assertIn("%s:%d: " % (path, line), err)
        for w in words:
            self.assertIn(w, err)
        return err

    def serves(self, path):
        """Starts serve on path, waits until it listens, stops it."""
        ready = path + ".ready"
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([R.RELAY, "serve", "-c", path,
                                     "--ready-file", ready],
                                    stdout=subprocess.DEVNULL, stderr=err)
            try:
                R.wait_for(lambda: os.path.exists(ready) or
                           proc.poll() is not None,
                           what="the relay to start")
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        rc = proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                        raise
                    self.assertEqual(rc, 0)
                    return
            err.seek(0)
            self.fail("serve exited with %s:\n%s" % (
                proc.returncode, err.read().decode("utf-8", "replace")))

    def test_valid_config_serves(self):
        """The control: the base config the other tests break starts."""
        self.serves(self.cd.write(self.cd.text()))

    def test_changed_phone_number_id_gets_a_clear_answer(self):
        db = os.path.join(self.cd.dir, "renumbered.db")
        self.serves(self.cd.write(self.cd.text(db=db)))
        changed = self.cd.write(self.cd.text(
            db=db, numbers="[number.main]\nphone_number_id = %s\n" %
            R.SECOND))
        r = run("agent", "-c", changed, "list")
        err = r.stderr.decode()
        if r.returncode == 0:
            self.serves(changed)  # the change was applied: fine
            return
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("constraint failed", err)
        self.assertIn("number.main", err)
        self.assertIn(R.SECOND, err)

    def test_unknown_key_in_server(self):
        text = self.cd.text(server="colour = blue\n")
        self.refused_at(text, line_no(text, "colour = blue"),
                        "unknown key 'colour'", "[server]")

    def test_unknown_section(self):
        text = self.cd.text(tail="\n[nonsense]\nx = 1\n")
        self.refused_at(text, line_no(text, "[nonsense]"), "[nonsense]")

    def test_bad_boolean_for_plain_http(self):
        text = self.cd.text(server="plain_http = maybe\n")
        self.refused_at(text, line_no(text, "plain_http = maybe"),
                        "plain_http", "'maybe'")

    def test_bad_size_for_max_body(self):
        text = self.cd.text(server="max_body = 12q\n")
        self.refused_at(text, line_no(text, "max_body = 12q"),
                        "max_body", "'12q'")

    def test_size_out_of_range(self):
        text = self.cd.text(server="max_body = 1G\n")
        self.refused_at(text, line_no(text, "max_body = 1G"), "max_body",
                        "range")

    def test_key_outside_any_section(self):
        text = self.cd.text(head="listen = 127.0.0.1:0\n")
        self.refused_at(text, 1, "'listen'", "outside")

    def test_line_without_equals(self):
        text = self.cd.text(server="just some words\n")
        self.refused_at(text, line_no(text, "just some words"), "key")

    def test_duplicate_key_in_server(self):
        text = self.cd.text(server="listen = 127.0.0.1:0\n")
        self.refused_at(text, line_no(text, "listen = 127.0.0.1:0", 2),
                        "listen", "twice")

    def test_duplicate_key_in_number_section(self):
        text = self.cd.text(numbers="[number.main]\nphone_number_id = %s\n"
                            "phone_number_id = %s\n" % (R.MAIN, R.SECOND))
        self.refused_at(text, line_no(text, "phone_number_id = %s" %
                                      R.SECOND), "phone_number_id", "twice")

    def test_same_number_section_twice(self):
        text = self.cd.text(numbers="[number.main]\nphone_number_id = %s\n"
                            "\n[number.main]\nphone_number_id = %s\n" % (
                                R.MAIN, R.SECOND))
        self.refused_at(text, line_no(text, "[number.main]", 2),
                        "[number.main]", "twice")

    def duplicate_id_lines(self, text):
        """Lines a duplicate phone_number_id error may rightly name: the
        second phone_number_id line or the header of its section."""
        return (line_no(text, "phone_number_id = %s" % R.MAIN, 2),
                line_no(text, "[number.b]"))

    # A duplicate phone_number_id is refused at its own line, wherever
    # the section stands (finish_number() used to check it only when the
    # section closed: no line when it was last, the next header otherwise).
    def test_two_sections_with_same_phone_number_id_last_in_file(self):
        text = self.cd.text(numbers="[number.a]\nphone_number_id = %s\n\n"
                            "[number.b]\nphone_number_id = %s\n" % (
                                R.MAIN, R.MAIN))
        path = self.cd.write(text)
        err = self.serve_refused(path)
        self.assertIn(R.MAIN, err)
        self.assertIn("[number.a]", err)
        self.assertTrue(any("%s:%d: " % (path, n) in err
                            for n in self.duplicate_id_lines(text)), err)

    def test_two_sections_with_same_phone_number_id_then_another(self):
        text = self.cd.text(numbers="[number.a]\nphone_number_id = %s\n\n"
                            "[number.b]\nphone_number_id = %s\n" % (
                                R.MAIN, R.MAIN),
                            tail="\n[log]\nlevel = info\n")
        path = self.cd.write(text)
        err = self.serve_refused(path)
        self.assertIn(R.MAIN, err)
        self.assertTrue(any("%s:%d: " % (path, n) in err
                            for n in self.duplicate_id_lines(text)), err)

    def test_no_number_section(self):
        path = self.cd.write(self.cd.text(numbers=""))
        err = self.serve_refused(path)
        self.assertIn(path, err)
        self.assertIn("no [number.", err)

    def test_plain_http_refused_off_loopback(self):
        text = self.cd.text(tls=False, server="plain_http = true\n").replace(
            "listen = 127.0.0.1:0", "listen = 0.0.0.0:8443")
        path = self.cd.write(text)
        err = self.serve_refused(path)
        self.assertIn(path, err)
        self.assertIn("plain_http", err)
        self.assertIn("loopback", err)

    def test_plain_http_refused_on_ipv6_any(self):
        text = self.cd.text(tls=False, server="plain_http = true\n").replace(
            "listen = 127.0.0.1:0", "listen = [::]:0")
        self.assertIn("loopback", self.serve_refused(self.cd.write(text)))

    def test_missing_tls_cert_without_plain_http(self):
        text = self.cd.text(tls=False)
        path = self.cd.write(text)
        err = self.serve_refused(path)
        self.assertIn(path, err)
        self.assertIn("tls_cert", err)

    def test_tls_cert_file_missing(self):
        missing = os.path.join(self.cd.dir, "no-such-cert.pem")
        text = self.cd.text().replace(self.cd.cert, missing)
        err = self.serve_refused(self.cd.write(text))
        self.assertIn(missing, err)
        self.assertIn("No such file", err)

    def test_other_commands_refuse_a_bad_config_too(self):
        text = self.cd.text(server="colour = blue\n")
        path = self.cd.write(text)
        where = "%s:%d: " % (path, line_no(text, "colour = blue"))
        for args in (("inspect", "-c", path, "counts"),
                     ("agent", "-c", path, "list")):
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 1)
                self.assertIn(where, r.stderr.decode())

    def test_missing_config_file(self):
        path = os.path.join(self.cd.dir, "nope.conf")
        err = self.serve_refused(path)
        self.assertIn(path, err)
        self.assertIn("No such file", err)


# ---------------------------------------------------------------------------
class SecretFiles(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cd = ConfigDir()

    @classmethod
    def tearDownClass(cls):
        cls.cd.close()

    def with_secret(self, which, data=None, mode=0o600, create=True):
        """A config whose app secret (or verify token) file is replaced by
        a new file with data and mode; returns (config path, file path)."""
        self.cd.n += 1
        path = os.path.join(self.cd.dir, "%s-%d" % (which, self.cd.n))
        if create:
            with open(path, "wb") as f:
                f.write(data if data is not None else
                        (APP_SECRET_TEXT + "\n").encode())
            os.chmod(path, mode)
        original = (self.cd.app_secret if which == "app_secret" else
                    self.cd.verify_token)
        text = self.cd.text().replace(original, path)
        return self.cd.write(text), path

    def test_world_readable_app_secret_is_refused(self):
        config, path = self.with_secret("app_secret", mode=0o644)
        err = self.serve_refused(config)
        self.assertIn(path, err)
        self.assertIn("chmod 600", err)

    def test_group_readable_app_secret_is_refused(self):
        config, path = self.with_secret("app_secret", mode=0o640)
        err = self.serve_refused(config)
        self.assertIn(path, err)
        self.assertIn("chmod 600", err)

    def test_group_writable_verify_token_is_refused(self):
        config, path = self.with_secret("verify_token", mode=0o620)
        err = self.serve_refused(config)
        self.assertIn(path, err)
        self.assertIn("chmod 600", err)

    def test_missing_app_secret_file_is_refused(self):
        config, path = self.with_secret("app_secret", create=False)
        err = self.serve_refused(config)
        self.assertIn(path, err)
        self.assertIn("No such file", err)

    def test_empty_app_secret_file_is_refused(self):
        for data in (b"", b"\n"):
            with self.subTest(data=data):
                config, path = self.with_secret("app_secret", data=data)
                err = self.serve_refused(config)
                self.assertIn(path, err)
                self.assertIn("empty", err)

    def test_symlinked_secret_is_refused(self):
        link = os.path.join(self.cd.dir, "app_secret-link")
        if not os.path.lexists(link):
            os.symlink(self.cd.app_secret, link)
        text = self.cd.text().replace(self.cd.app_secret, link)
        err = self.serve_refused(self.cd.write(text))
        self.assertIn(link, err)

    def test_two_line_secret_is_refused(self):
        config, path = self.with_secret(
            "app_secret",
            data=(APP_SECRET_TEXT + "\nsecond-xyz\n").encode())
        err = self.serve_refused(config)
        self.assertIn(path, err)
        self.assertNotIn("second-xyz", err)

    def test_serving_relay_logs_no_secret(self):
        """A relay that starts, answers a handshake and a webhook at debug
        level never writes the app secret or verify token to its log."""
        rel = R.Relay()
        self.addCleanup(rel.close)
        rel.start()
        status, _, _ = rel.request(
            "GET", "/webhook?hub.mode=subscribe&hub.verify_token=%s"
            "&hub.challenge=12345" % R.VERIFY_TOKEN)
        self.assertEqual(status, 200)
        rel.request("GET", "/webhook?hub.mode=subscribe&hub.verify_token="
                    "guess-%s&hub.challenge=1" % R.VERIFY_TOKEN)
        with open(os.path.join(R.FIXTURES, "text-compact.json"), "rb") as f:
            self.assertEqual(rel.post_webhook(f.read())[0], 200)
        self.assertEqual(rel.stop(), 0)
        log = rel.read_log()
        self.assertIn("stopped", log)
        self.assertNotIn(R.VERIFY_TOKEN, log)
        self.assertNotIn(R.APP_SECRET.decode(), log)


# ---------------------------------------------------------------------------
SAMPLE = os.path.join(R.SOURCE, "glivi-relay.conf")


def set_key(text, key, value):
    """Sets key (commented out or not) in sample text; exactly one line."""
    new, n = re.subn(r"(?m)^;?%s =.*$" % re.escape(key),
                     "%s = %s" % (key, value), text)
    assert n == 1, "%s appears %d times in the sample" % (key, n)
    return new


class SampleConfig(CliTestCase):
    def sample(self):
        r = run("sample-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_sample_config_equals_repository_file(self):
        if not os.path.exists(SAMPLE):
            self.fail("%s is missing: create it with 'glivi-relay "
                      "sample-config > glivi-relay.conf'" % SAMPLE)
        with open(SAMPLE, "rb") as f:
            want = f.read()
        self.assertEqual(self.sample(), want,
                         "glivi-relay.conf is out of step with "
                         "'glivi-relay sample-config'")

    def test_sample_config_with_real_paths_serves(self):
        rel = R.Relay()
        self.addCleanup(rel.close)
        text = self.sample().decode()
        for key, value in (("listen", "127.0.0.1:0"),
                           ("tls_cert", rel.cert), ("tls_key", rel.key),
                           ("data_dir", rel.dir),
                           ("url", "sqlite:" + rel.db),
                           ("app_secret_file", rel.app_secret_file),
                           ("verify_token_file", rel.verify_token_file)):
            text = set_key(text, key, value)
        with open(rel.config, "w") as f:
            f.write(text)
        rel.start()
        status, _, body = rel.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})
        with open(os.path.join(R.FIXTURES, "text-compact.json"), "rb") as f:
            self.assertEqual(rel.post_webhook(f.read())[0], 200)
        self.assertIsNotNone(rel.message("wamid.T-text-compact-1"))
        self.assertEqual(rel.stop(), 0)

    def test_every_sample_comment_line_is_a_comment(self):
        """Loading the sample with only the paths changed must not trip on
        its own comments or blank lines (checked above); here: every line
        is a comment, blank, a section header or key = value."""
        for i, line in enumerate(self.sample().decode().split("\n"), 1):
            self.assertRegex(line, r"^(|;.*|\[[a-z.]+\]|[a-z_]+ = .*)$",
                             "line %d" % i)


# ---------------------------------------------------------------------------
def agent_list(rel):
    r = rel.cli("agent", "list")
    rows = {}
    for line in r.stdout.decode().splitlines():
        parts = line.split()
        if parts:
            rows[parts[0]] = parts[1:]
    return rows


class Agents(CliTestCase):
    """One store shared by the tests; each test uses its own names."""

    @classmethod
    def setUpClass(cls):
        cls.relay = R.Relay()

    @classmethod
    def tearDownClass(cls):
        cls.relay.close()

    def add(self, name, *role, check=True):
        return self.relay.cli("agent", "add", name, *role, check=check)

    def test_agent_add_prints_one_token_line_and_a_note(self):
        r = self.add("alice", "--role", "admin")
        out = r.stdout.decode()
        self.assertRegex(out, r"^glv_[A-Za-z0-9_-]{20,}\n$")
        token = out.strip()
        err = r.stderr.decode()
        self.assertIn("alice", err)
        self.assertNotIn(token, err)
        self.assertEqual(agent_list(self.relay)["alice"],
                         ["admin", "active"])

    def test_each_token_is_new(self):
        a = self.add("tok-1").stdout.strip()
        b = self.add("tok-2").stdout.strip()
        self.assertNotEqual(a, b)

    def test_agent_add_defaults_to_role_agent(self):
        self.add("bob")
        self.assertEqual(agent_list(self.relay)["bob"], ["agent", "active"])

    def test_agent_list_shows_names_roles_and_state(self):
        self.add("list-admin", "--role", "admin")
        self.add("list-agent", "--role", "agent")
        rows = agent_list(self.relay)
        self.assertEqual(rows["list-admin"], ["admin", "active"])
        self.assertEqual(rows["list-agent"], ["agent", "active"])

    def test_adding_an_existing_name_fails(self):
        self.add("carol")
        before = self.relay.counts()["agents"]
        r = self.add("carol", "--role", "admin", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists already", r.stderr.decode())
        self.assertEqual(r.stdout, b"")  # no token for a failed add
        self.assertEqual(agent_list(self.relay)["carol"],
                         ["agent", "active"])
        self.assertEqual(self.relay.counts()["agents"], before)

    def test_bad_agent_names_are_refused(self):
        before = self.relay.counts()["agents"]
        for name in ("", "a b", "x" * 65, "../x", "a/b", "\u00e9ric",
                     "tab\tname", "new\nline", "semi;colon"):
            with self.subTest(name=name):
                r = self.add(name, check=False)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("bad agent name", r.stderr.decode())
                self.assertEqual(r.stdout, b"")
        self.assertEqual(self.relay.counts()["agents"], before)

    def test_name_that_looks_like_an_option_is_refused(self):
        r = self.add("--role", check=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertEqual(r.stdout, b"")
        self.assertNotIn("--role", agent_list(self.relay))

    def test_64_char_name_is_accepted(self):
        name = "n" * 64
        self.add(name)
        self.assertEqual(agent_list(self.relay)[name], ["agent", "active"])

    def test_bad_role_is_refused(self):
        before = self.relay.counts()["agents"]
        for role in ("root", "Admin", ""):
            with self.subTest(role=role):
                r = self.add("dan", "--role", role, check=False)
                self.assertEqual(r.returncode, 1)
                self.assertIn("bad role", r.stderr.decode())
                self.assertEqual(r.stdout, b"")
        self.assertNotIn("dan", agent_list(self.relay))
        self.assertEqual(self.relay.counts()["agents"], before)

    def test_revoke_marks_revoked_and_twice_fails(self):
        self.add("dave")
        self.add("dora")
        r = self.relay.cli("agent", "revoke", "dave")
        self.assertIn("dave", r.stderr.decode())
        rows = agent_list(self.relay)
        self.assertEqual(rows["dave"], ["agent", "revoked"])
        self.assertEqual(rows["dora"], ["agent", "active"])
        r = self.relay.cli("agent", "revoke", "dave", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(agent_list(self.relay)["dave"],
                         ["agent", "revoked"])

    def test_revoking_an_unknown_agent_fails(self):
        r = self.relay.cli("agent", "revoke", "nobody-at-all", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nobody-at-all", r.stderr.decode())

    def test_revoked_name_cannot_be_added_again(self):
        self.add("eve")
        self.relay.cli("agent", "revoke", "eve")
        r = self.add("eve", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(agent_list(self.relay)["eve"], ["agent", "revoked"])

    def test_token_is_not_stored_in_the_database(self):
        token = self.add("frank").stdout.decode().strip()
        secret_part = token[len("glv_"):].encode()
        files = glob.glob(self.relay.db + "*")
        self.assertIn(self.relay.db, files)
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            with self.subTest(file=os.path.basename(path)):
                self.assertNotIn(token.encode(), data)
                self.assertNotIn(secret_part, data)
                self.assertNotIn(secret_part[:16], data)

    def test_agent_usage_errors_exit_2(self):
        for args in (("agent",), ("agent", "frobnicate"),
                     ("agent", "add"), ("agent", "add", "x", "--role"),
                     ("agent", "revoke")):
            with self.subTest(args=args):
                r = self.relay.cli(*args, check=False)
                self.assertEqual(r.returncode, 2)
                self.assertIn("usage", r.stderr.decode())


class AgentsWhileServing(CliTestCase):
    def test_agent_commands_work_while_the_relay_serves(self):
        rel = R.Relay()
        self.addCleanup(rel.close)
        rel.start()
        r = rel.cli("agent", "add", "grace", "--role", "admin")
        self.assertTrue(r.stdout.startswith(b"glv_"))
        self.assertEqual(rel.request("GET", "/healthz")[0], 200)
        with open(os.path.join(R.FIXTURES, "text-compact.json"), "rb") as f:
            self.assertEqual(rel.post_webhook(f.read())[0], 200)
        rel.cli("agent", "add", "heidi")
        rel.cli("agent", "revoke", "heidi")
        rows = agent_list(rel)
        self.assertEqual(rows["grace"], ["admin", "active"])
        self.assertEqual(rows["heidi"], ["agent", "revoked"])
        self.assertEqual(rel.request("GET", "/healthz")[0], 200)
        self.assertEqual(rel.counts()["agents"], 2)


# ---------------------------------------------------------------------------
class Inspect(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.relay = R.Relay()
        try:
            cls.relay.start()
            with open(os.path.join(R.FIXTURES, "text-compact.json"),
                      "rb") as f:
                status = cls.relay.post_webhook(f.read())[0]
            assert status == 200, status
        except BaseException:
            cls.relay.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.relay.close()

    def test_inspect_counts_prints_table_counts_as_json(self):
        r = self.relay.cli("inspect", "counts")
        counts = json.loads(r.stdout)
        for table in ("webhooks", "messages", "statuses", "contacts",
                      "conversations", "agents"):
            self.assertIsInstance(counts[table], int, table)
        self.assertEqual(counts["webhooks"], 1)
        self.assertEqual(counts["messages"], 1)
        self.assertEqual(counts["contacts"], 1)
        self.assertEqual(counts["agents"], 0)

    def test_inspect_message_known_prints_it(self):
        m = self.relay.message("wamid.T-text-compact-1")
        self.assertIsNotNone(m)

    def test_inspect_message_unknown_exits_1(self):
        r = self.relay.cli("inspect", "message", "wamid.NOPE", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("wamid.NOPE", r.stderr.decode())
        self.assertEqual(r.stdout, b"")

    def test_inspect_unknown_subcommand_exits_2(self):
        r = self.relay.cli("inspect", "frobnicate", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr.decode())


if __name__ == "__main__":
    unittest.main()
