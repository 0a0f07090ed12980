"""Who may use the agent API: every route of the relay's route table
(parsed out of src/relay/server.c, so a new route is covered the day it is
added) refuses a missing, malformed, unknown, oversized or revoked token
with 401 and an agent token on an admin route with 403. Revoking an agent
(by the CLI or by an admin over the API) ends its open event streams with
`event: revoked`, and leaves other agents' streams running. A token made
by POST /api/v1/agents is shown once, works, and is never written to the
store or the log.
"""
import base64
import json
import os
import re
import socket
import ssl
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
from apiclient import (DEADLINE, SERVER_C, Stream, api,  # noqa: E402
                       parse_routes, stop_relay)



def fill(path, ident=1):
    return path.replace("{id}", str(ident))


class RouteAuth(unittest.TestCase):
    """The whole route table against bad credentials."""

    @classmethod
    def setUpClass(cls):
        cls.routes = parse_routes()
        cls.relay = r = R.Relay()
        try:
            r.start()
            # Agent 1 is revoked before the tests, so no route with {id}
            # = 1 can harm the agents the tests use.
            cls.revoked = cls.add(r, "gone")
            r.cli("agent", "revoke", "gone")
            cls.admin = cls.add(r, "boss", "admin")
            cls.agent = cls.add(r, "worker")
        except BaseException:
            r.close()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_relay(cls.relay)

    @staticmethod
    def add(r, name, role="agent"):
        token = r.cli("agent", "add", name, "--role",
                      role).stdout.decode().strip()
        assert token, "agent add printed no token"
        return token

    def protected(self, role=None):
        rows = [x for x in self.routes if x[2] != "ROLE_PUBLIC"
                and (role is None or x[2] == role)]
        self.assertTrue(rows, "no %s routes parsed" % (role or "protected"))
        return rows

    def call(self, route, headers):
        method, path, _, takes_body = route
        return api(self.relay, None, method, fill(path),
                   b"{}" if takes_body else None,
                   dict(headers, **({"Content-Type": "application/json"}
                                    if takes_body else {})))

    def assert_unauthorized(self, status, body):
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"]["code"], "unauthorized", body)

    def test_route_table_parses_and_covers_the_documented_routes(self):
        got = {(m, p, role) for m, p, role, _ in self.routes}
        for want in [("GET", "/api/v1/sync", "ROLE_AGENT"),
                     ("GET", "/api/v1/events", "ROLE_AGENT"),
                     ("POST", "/api/v1/presence", "ROLE_AGENT"),
                     ("DELETE", "/api/v1/notes/{id}", "ROLE_AGENT"),
                     ("POST", "/api/v1/agents", "ROLE_ADMIN"),
                     ("DELETE", "/api/v1/agents/{id}", "ROLE_ADMIN"),
                     ("POST", "/api/v1/labels", "ROLE_ADMIN"),
                     ("PATCH", "/api/v1/labels/{id}", "ROLE_ADMIN"),
                     ("DELETE", "/api/v1/labels/{id}", "ROLE_ADMIN"),
                     ("POST", "/api/v1/canned_replies", "ROLE_ADMIN"),
                     ("PATCH", "/api/v1/canned_replies/{id}", "ROLE_ADMIN"),
                     ("DELETE", "/api/v1/canned_replies/{id}", "ROLE_ADMIN"),
                     ("GET", "/api/v1/presence", "ROLE_AGENT"),
                     ("GET", "/healthz", "ROLE_PUBLIC")]:
            self.assertIn(want, got)
        # Every route under /api/ needs a token.
        for m, p, role, _ in self.routes:
            if p.startswith("/api/"):
                self.assertNotEqual(role, "ROLE_PUBLIC", (m, p))

    def test_every_protected_route_refuses_missing_and_bad_tokens(self):
        before = self.relay.changes()
        basic = base64.b64encode(b"boss:" + self.admin.encode()).decode()
        cases = {
            "no Authorization": {},
            "unknown bearer token": {"Authorization": "Bearer nonsense"},
            "Basic credentials": {"Authorization": "Basic " + basic},
            "a valid token under Basic": {"Authorization":
                                          "Basic " + self.admin},
            "empty bearer": {"Authorization": "Bearer "},
            "bare token, no scheme": {"Authorization": self.admin},
            "valid token with a trailing space": {
                "Authorization": "Bearer " + self.admin + " "},
            "valid token cut short": {
                "Authorization": "Bearer " + self.admin[:-1]},
            "revoked agent's token": {
                "Authorization": "Bearer " + self.revoked},
        }
        for route in self.protected():
            for name, headers in cases.items():
                with self.subTest(route=route[:2], case=name):
                    status, _, body = self.call(route, headers)
                    self.assert_unauthorized(status, body)
        self.assertEqual(self.relay.changes(), before)

    def test_every_protected_route_refuses_oversized_tokens_and_stays_up(
            self):
        # 10 KB fits in max_header (32 KiB); 40 KB does not.
        for size in (10240, 40960):
            huge = "A" * size
            for route in self.protected():
                with self.subTest(route=route[:2], size=size):
                    try:
                        status, _, body = self.call(
                            route, {"Authorization": "Bearer " + huge})
                    except (ConnectionError, ssl.SSLError) as e:
                        # Over max_header the relay answers 431 and
                        # closes at once; the rest of the request, still
                        # on its way, can make the kernel reset the
                        # connection before the client reads the answer.
                        # Refused either way (never for a token that fits).
                        self.assertGreater(size, 32768, repr(e))
                        status, body = None, repr(e)
                    if status is not None:
                        # 401 for the token, or 431 if the relay refuses
                        # the header's size first; never a server error.
                        self.assertTrue(400 <= status < 500, (status, body))
                        if status != 431:
                            self.assert_unauthorized(status, body)
                    status, _, _ = api(self.relay, None, "GET", "/healthz")
                    self.assertEqual(status, 200)
        status, _, body = api(self.relay, self.agent, "GET", "/api/v1/sync")
        self.assertEqual(status, 200, body)

    def test_agent_token_is_refused_on_admin_routes_with_403(self):
        before = self.relay.changes()
        for route in self.protected("ROLE_ADMIN"):
            with self.subTest(route=route[:2]):
                status, _, body = self.call(
                    route, {"Authorization": "Bearer " + self.agent})
                self.assertEqual(status, 403, body)
                self.assertEqual(body["error"]["code"], "forbidden")
        self.assertEqual(self.relay.changes(), before)

    def test_admin_token_passes_authorization_on_admin_routes(self):
        for route in self.protected("ROLE_ADMIN"):
            with self.subTest(route=route[:2]):
                status, _, body = self.call(
                    route, {"Authorization": "Bearer " + self.admin})
                self.assertNotIn(status, (401, 403), body)
                self.assertLess(status, 500, body)

    def test_agent_and_admin_tokens_pass_authorization_on_agent_routes(self):
        for token in (self.agent, self.admin):
            for route in self.protected("ROLE_AGENT"):
                with self.subTest(route=route[:2], admin=token is self.admin):
                    status, _, body = self.call(
                        route, {"Authorization": "Bearer " + token})
                    self.assertNotIn(status, (401, 403), body)
                    self.assertLess(status, 500, body)

    def test_public_routes_need_no_token(self):
        for path in ("/healthz", "/metrics"):
            status, _, _ = api(self.relay, None, "GET", path)
            self.assertEqual(status, 200, path)


class Revocation(unittest.TestCase):
    """Revoking an agent ends its streams and its token."""

    @classmethod
    def setUpClass(cls):
        cls.relay = r = R.Relay()
        try:
            r.start()
            cls.admin = r.cli("agent", "add", "root", "--role",
                              "admin").stdout.decode().strip()
        except BaseException:
            r.close()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_relay(cls.relay)

    def new_agent(self, name, role="agent"):
        status, _, body = api(self.relay, self.admin, "POST",
                              "/api/v1/agents", {"name": name, "role": role})
        self.assertEqual(status, 201, body)
        return body

    def open_stream(self, token, **kw):
        s = Stream(self.relay, token, **kw)
        self.addCleanup(s.close)
        self.assertEqual(s.status, 200, s.error)
        self.assertTrue(s.headers["content-type"].startswith(
            "text/event-stream"))
        return s

    def read_initial(self, s):
        """Reads up to the current head, so what follows is news."""
        head = self.relay.changes()[-1]["seq"]
        s.until(lambda e: e["event"] == "change" and
                json.loads(e["data"])["seq"] >= head)

    def assert_ends_revoked(self, s, agent_id):
        events = s.until_end()
        self.assertTrue(s.ended, "the stream closed without its last chunk")
        names = [e["event"] for e in events]
        self.assertIn("revoked", names, events)
        # The revocation itself, then `event: revoked`, then the end.
        self.assertEqual(names[-1], "revoked", events)
        self.assertEqual(names.count("revoked"), 1, events)
        last_change = json.loads([e for e in events
                                  if e["event"] == "change"][-1]["data"])
        self.assertEqual((last_change["kind"], last_change["id"]),
                         ("agent", agent_id))
        self.assertIsNotNone(last_change["data"]["revoked_at"])

    def test_cli_revoke_ends_the_agents_open_stream(self):
        token = self.relay.cli("agent", "add",
                               "cli-victim").stdout.decode().strip()
        agent_id = [c["id"] for c in self.relay.changes()
                    if c["kind"] == "agent" and
                    c["data"]["name"] == "cli-victim"][0]
        s = self.open_stream(token)
        self.read_initial(s)
        self.relay.cli("agent", "revoke", "cli-victim")
        self.assert_ends_revoked(s, agent_id)
        status, _, body = api(self.relay, token, "GET", "/api/v1/sync")
        self.assertEqual(status, 401, body)
        s2 = Stream(self.relay, token)
        self.addCleanup(s2.close)
        self.assertEqual(s2.status, 401)

    def test_admin_delete_ends_the_agents_stream_and_not_others(self):
        victim = self.new_agent("api-victim")
        bystander = self.new_agent("bystander")
        vs = self.open_stream(victim["token"])
        bs = self.open_stream(bystander["token"])
        self.read_initial(vs)
        self.read_initial(bs)

        # An agent may not revoke: 403, and nothing changes.
        status, _, body = api(self.relay, bystander["token"], "DELETE",
                              "/api/v1/agents/%d" % victim["id"])
        self.assertEqual(status, 403, body)

        status, _, body = api(self.relay, self.admin, "DELETE",
                              "/api/v1/agents/%d" % victim["id"])
        self.assertEqual(status, 200, body)
        self.assertEqual((body["kind"], body["id"], body["name"]),
                         ("agent", victim["id"], "api-victim"))
        self.assertIsNotNone(body["revoked_at"])
        self.assertNotIn("token", body)
        self.assertIsNotNone(
            self.relay.entity("agent", victim["id"])["revoked_at"])
        self.assert_ends_revoked(vs, victim["id"])
        status, _, body = api(self.relay, victim["token"], "GET",
                              "/api/v1/sync")
        self.assertEqual(status, 401, body)

        # The bystander sees the revocation as a change, not as its own
        # end, and its stream goes on carrying news.
        got = bs.until(lambda e: e["event"] == "change" and
                       json.loads(e["data"])["kind"] == "agent" and
                       json.loads(e["data"])["id"] == victim["id"])
        self.assertNotIn("revoked", [e["event"] for e in got])
        later = self.new_agent("after-revoke")
        got = bs.until(lambda e: e["event"] == "change" and
                       json.loads(e["data"])["id"] == later["id"] and
                       json.loads(e["data"])["kind"] == "agent")
        self.assertNotIn("revoked", [e["event"] for e in got])

        # Revoking twice is refused, not a second revocation.
        status, _, body = api(self.relay, self.admin, "DELETE",
                              "/api/v1/agents/%d" % victim["id"])
        self.assertEqual(status, 409, body)
        status, _, body = api(self.relay, self.admin, "DELETE",
                              "/api/v1/agents/999999")
        self.assertEqual(status, 404, body)
        self.assertEqual(body["error"]["code"], "not_found")

    def test_created_token_is_shown_once_and_works(self):
        a = self.new_agent("fresh", "agent")
        token = a["token"]
        self.assertRegex(token, r"^\S{20,256}$")
        self.assertEqual((a["kind"], a["name"], a["role"]),
                         ("agent", "fresh", "agent"))
        status, _, body = api(self.relay, token, "GET", "/api/v1/sync")
        self.assertEqual(status, 200, body)
        # An agent, not an admin.
        status, _, body = api(self.relay, token, "POST", "/api/v1/agents",
                              {"name": "by-fresh"})
        self.assertEqual(status, 403, body)
        # Shown once: not in the entity, not in sync, not in a second
        # create of the same name.
        self.assertNotIn("token", self.relay.entity("agent", a["id"]))
        status, _, body = api(self.relay, self.admin, "GET",
                              "/api/v1/sync")
        self.assertEqual(status, 200)
        self.assertNotIn(token, json.dumps(body))
        status, _, body = api(self.relay, self.admin, "POST",
                              "/api/v1/agents", {"name": "fresh"})
        self.assertEqual(status, 409, body)
        self.assertNotIn("token", json.dumps(body))
        # An admin made over the API is an admin.
        b = self.new_agent("fresh-admin", "admin")
        status, _, body = api(self.relay, b["token"], "POST",
                              "/api/v1/agents", {"name": "by-fresh-admin"})
        self.assertEqual(status, 201, body)

    def test_tokens_are_not_in_the_store_files_or_the_log(self):
        a = self.new_agent("secretive")
        cli_token = self.relay.cli("agent", "add",
                                   "secretive-cli").stdout.decode().strip()
        for token in (a["token"], cli_token):
            status, _, _ = api(self.relay, token, "GET", "/api/v1/sync")
            self.assertEqual(status, 200)
        files = [f for f in os.listdir(self.relay.dir)
                 if f.startswith(os.path.basename(self.relay.db))]
        self.assertIn(os.path.basename(self.relay.db), files)
        for name in files + [os.path.basename(self.relay.log)]:
            with open(os.path.join(self.relay.dir, name), "rb") as f:
                data = f.read()
            for token in (a["token"], cli_token):
                with self.subTest(file=name):
                    self.assertNotIn(token.encode(), data)


if __name__ == "__main__":
    unittest.main()
