"""The relay's HTTP surface as Meta and operators see it: the webhook
handshake, signature checks before anything is parsed, malformed bodies,
size and time limits, routes and methods, /healthz and /metrics,
keep-alive, plain HTTP on loopback and a clean stop on SIGTERM.

Every refusal is checked twice: by its status (and JSON error code) and by
the store, which must not have changed (`glivi-relay inspect counts`).
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import select
import signal
import socket
import ssl
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402

_serial = [0]


def text_webhook(text="hello", wamid=None, pad=0):
    """A valid, unique text-message webhook body (bytes) for number MAIN.

    pad adds that many spaces after the JSON value (allowed whitespace), so
    a test can hit an exact body size."""
    _serial[0] += 1
    wamid = wamid or "wamid.HTTP-%d-%d-%d" % (os.getpid(), time.time_ns(),
                                             _serial[0])
    body = {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881",
                                 "phone_number_id": R.MAIN},
                    "contacts": [{"profile": {"name": "Test Customer"},
                                  "wa_id": "491701234567"}],
                    "messages": [{"from": "491701234567", "id": wamid,
                                  "timestamp": "1785312010", "type": "text",
                                  "text": {"body": text}}],
                },
            }],
        }],
    }
    return json.dumps(body).encode() + b" " * pad, wamid


def padded_webhook(size):
    """A valid signed-able webhook body of exactly size bytes."""
    body, wamid = text_webhook()
    assert len(body) <= size
    return body + b" " * (size - len(body)), wamid


def read_http_response(sock, prefix=b"", deadline=15.0):
    """Reads one HTTP/1.1 response from a raw socket (prefix: bytes of it
    read already) until Content-Length bytes of body have arrived or the
    peer closes. Returns (status, headers dict with lower-case names, body
    bytes), or None if the peer closed without answering."""
    data = prefix
    end = time.monotonic() + deadline

    def more():
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("no complete response within %s s" %
                                 deadline)
        sock.settimeout(left)
        try:
            return sock.recv(65536)
        except (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return b""

    while b"\r\n\r\n" not in data:
        chunk = more()
        if not chunk:
            if not data:
                return None
            raise AssertionError("connection closed mid-head: %r" %
                                 data[:200])
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1."):
        raise AssertionError("not an HTTP response: %r" % data[:200])
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    want = int(headers.get("content-length", "-1"))
    while want < 0 or len(body) < want:
        chunk = more()
        if not chunk:
            break
        body += chunk
    return status, headers, body


def send_raw(sock, data, piece=8192, wait=0.05):
    """Writes a hand-made request in pieces and reads the answer.

    A server may answer an oversized request early (413, 414, 431) and
    close while the client is still writing; a client that only reads
    after writing everything then sees a reset instead of the answer.
    So between pieces this waits briefly for the first bytes of a
    response and stops writing once they come. Returns what
    read_http_response returns."""
    early = b""

    def answered(timeout):
        nonlocal early
        end = time.monotonic() + timeout
        while True:
            left = max(0.0, end - time.monotonic())
            if not (select.select([sock], [], [], left)[0] or
                    sock.pending()):
                return False
            sock.setblocking(False)
            try:
                chunk = sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue  # a TLS record with no data (session ticket)
            except OSError:
                chunk = b""
            finally:
                sock.setblocking(True)
            if not chunk:
                return True  # closed: the reader below sees it
            early += chunk
            return True

    for i in range(0, len(data), piece):
        try:
            sock.sendall(data[i:i + piece])
        except OSError:
            break  # closed on us; an answer may be waiting
        if answered(wait):
            break
    return read_http_response(sock, early)


def parse_metrics(text):
    """Prometheus text format -> {name: float}; checks HELP/TYPE lines."""
    values, typed = {}, set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            name, kind = line[7:].split(" ", 1)
            assert kind in ("counter", "gauge", "histogram", "summary",
                            "untyped"), line
            typed.add(name)
            continue
        assert not line.startswith("#"), line
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)",
                         line)
        assert m, "not a Prometheus sample line: %r" % line
        values[m.group(1)] = float(m.group(3))
    for name in values:
        # A summary or histogram types its base name; its samples add
        # _sum, _count and _bucket.
        base = re.sub(r"_(sum|count|bucket)$", "", name)
        assert name in typed or base in typed, \
            "%s has no # TYPE line" % name
    return values


class RelayTestCase(unittest.TestCase):
    """One relay shared by the tests of a class."""
    server_extra = ""
    plain_http = False

    @classmethod
    def setUpClass(cls):
        cls.relay = R.Relay(server_extra=cls.server_extra,
                            plain_http=cls.plain_http)
        try:
            cls.relay.start()
        except BaseException:
            cls.relay.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.relay.close()

    # -- helpers -----------------------------------------------------------
    def stored(self):
        c = self.relay.counts()
        return c["webhooks"], c["messages"]

    def assertNothingStored(self, before):
        self.assertEqual(self.stored(), before,
                         "(webhooks, messages) changed in the store")

    def assertHealthy(self):
        status, _, body = self.relay.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})

    def assertError(self, response, status, code):
        st, headers, body = response
        self.assertEqual(st, status, body)
        self.assertTrue(headers.get("Content-Type", "").startswith(
            "application/json"), headers)
        self.assertEqual(json.loads(body)["error"]["code"], code, body)

    def metrics(self):
        status, headers, body = self.relay.request("GET", "/metrics")
        self.assertEqual(status, 200)
        return headers, parse_metrics(body.decode())


# ---------------------------------------------------------------------------
class WebhookHandshake(RelayTestCase):
    """GET /webhook: Meta's subscription handshake."""

    def handshake(self, **params):
        q = {"hub.mode": "subscribe", "hub.verify_token": R.VERIFY_TOKEN,
             "hub.challenge": "1158201444"}
        q.update(params)
        q = {k: v for k, v in q.items() if v is not None}
        return self.relay.request("GET", "/webhook?" +
                                  urllib.parse.urlencode(q))

    def test_right_token_echoes_challenge_as_text_plain(self):
        before = self.stored()
        status, headers, body = self.handshake()
        self.assertEqual(status, 200)
        self.assertEqual(body, b"1158201444")
        self.assertEqual(headers["Content-Type"].split(";")[0].strip(),
                         "text/plain")
        self.assertNothingStored(before)

    def test_wrong_token_is_403(self):
        before = self.stored()
        status, _, body = self.handshake(**{"hub.verify_token": "nope"})
        self.assertEqual(status, 403)
        self.assertNotIn(b"1158201444", body)
        # A prefix of the token or the token with more appended is wrong too.
        self.assertEqual(self.handshake(**{
            "hub.verify_token": R.VERIFY_TOKEN[:-1]})[0], 403)
        self.assertEqual(self.handshake(**{
            "hub.verify_token": R.VERIFY_TOKEN + "x"})[0], 403)
        self.assertEqual(self.handshake(**{"hub.verify_token": ""})[0], 403)
        self.assertNothingStored(before)

    def test_missing_token_is_403(self):
        self.assertEqual(self.handshake(**{"hub.verify_token": None})[0],
                         403)

    def test_mode_other_than_subscribe_is_403(self):
        before = self.stored()
        for mode in ("unsubscribe", "Subscribe", "", None):
            with self.subTest(mode=mode):
                status, _, body = self.handshake(**{"hub.mode": mode})
                self.assertEqual(status, 403)
                self.assertNotIn(b"1158201444", body)
        self.assertNothingStored(before)

    def test_missing_challenge_is_403(self):
        before = self.stored()
        self.assertEqual(self.handshake(**{"hub.challenge": None})[0], 403)
        self.assertNothingStored(before)

    def test_url_encoded_challenge_is_echoed_decoded(self):
        challenge = "a b&c=d+e/\u00e9?%"
        status, _, body = self.handshake(**{"hub.challenge": challenge})
        self.assertEqual(status, 200)
        self.assertEqual(body, challenge.encode())
        status, _, body = self.relay.request(
            "GET", "/webhook?hub.mode=subscribe&hub.verify_token=%s"
            "&hub.challenge=x%%20y%%2Bz" % R.VERIFY_TOKEN)
        self.assertEqual((status, body), (200, b"x y+z"))

    def test_challenge_of_256_chars_is_answered(self):
        status, _, body = self.handshake(**{"hub.challenge": "7" * 256})
        self.assertEqual((status, body), (200, b"7" * 256))

    def test_over_long_challenge_is_403(self):
        before = self.stored()
        status, _, body = self.handshake(**{"hub.challenge": "7" * 300})
        self.assertEqual(status, 403)
        self.assertNotIn(b"7" * 300, body)
        self.assertNothingStored(before)


# ---------------------------------------------------------------------------
class WebhookSignature(RelayTestCase):
    """POST /webhook with a missing or wrong X-Hub-Signature-256: 401 and
    nothing stored. The body is a valid webhook that would store a message
    if the relay accepted it."""

    def refused(self, body, signature, headers=None):
        before = self.stored()
        h = {"Content-Type": "application/json"}
        if signature is not None:
            h["X-Hub-Signature-256"] = signature
        h.update(headers or {})
        response = self.relay.request("POST", "/webhook", body, h)
        self.assertError(response, 401, "bad_signature")
        self.assertNothingStored(before)
        return response

    def test_missing_signature_is_401(self):
        body, _ = text_webhook()
        self.refused(body, None)

    def test_sha1_signature_is_401(self):
        body, _ = text_webhook()
        sha1 = "sha1=" + hmac.new(R.APP_SECRET, body,
                                  hashlib.sha1).hexdigest()
        self.refused(body, sha1)
        # The right digest under the wrong algorithm name is no better.
        self.refused(body, "sha1=" + R.sign(body)[7:])

    def test_signature_with_another_secret_is_401(self):
        body, _ = text_webhook()
        self.refused(body, R.sign(body, b"another-secret"))
        # The secret's bytes matter exactly: the same text without its
        # last (non-ASCII) character, or in Latin-1, is another secret.
        self.refused(body, R.sign(body, R.APP_SECRET[:-2]))
        self.refused(body, R.sign(body, "test-app-secret-\u00e9".encode(
            "latin-1")))

    def test_tampered_body_byte_is_401(self):
        body, _ = text_webhook("pay 10 EUR")
        signature = R.sign(body)
        tampered = body.replace(b"pay 10 EUR", b"pay 90 EUR")
        self.assertEqual(len(tampered), len(body))
        self.refused(tampered, signature)

    def test_non_hex_signature_of_right_length_is_401(self):
        body, _ = text_webhook()
        good = R.sign(body)
        self.refused(body, "sha256=" + "g" * 64)
        self.refused(body, good[:-1] + "z")
        self.refused(body, good[:-2] + " 0")

    def test_signature_of_wrong_length_is_401(self):
        body, _ = text_webhook()
        good = R.sign(body)
        self.refused(body, good[:-1])
        self.refused(body, good + "0")
        self.refused(body, "sha256=")
        self.refused(body, "")

    def test_signature_over_a_body_one_byte_different_is_401(self):
        body, _ = text_webhook()
        self.refused(body, R.sign(body + b" "))
        self.refused(body + b" ", R.sign(body))
        self.refused(body[:-1], R.sign(body))

    def test_correct_signature_is_stored(self):
        """The control: the same kind of body, signed right, is stored."""
        body, wamid = text_webhook()
        webhooks, messages = self.stored()
        status, _, out = self.relay.post_webhook(body)
        self.assertEqual(status, 200, out)
        self.assertEqual(self.stored(), (webhooks + 1, messages + 1))
        self.assertIsNotNone(self.relay.message(wamid))


# ---------------------------------------------------------------------------
class WebhookMalformed(RelayTestCase):
    """Signed bodies that are not a webhook: 400 "malformed", nothing
    stored, and the relay keeps working."""

    def refused(self, body):
        before = self.stored()
        response = self.relay.post_webhook(body)
        self.assertError(response, 400, "malformed")
        self.assertNothingStored(before)
        return response

    def test_invalid_json_is_400(self):
        self.refused(b'{"object":"whatsapp_business_account","entry":[')
        self.refused(b'{entry: []}')
        self.refused(b"\xff\xfe{}")

    def test_trailing_garbage_after_the_object_is_400(self):
        body, _ = text_webhook()
        self.refused(body + b"x")
        self.refused(body + b"{}")
        self.refused(body + b"\x00")

    def test_top_level_array_is_400(self):
        body, _ = text_webhook()
        self.refused(b"[" + body + b"]")

    def test_top_level_scalars_are_400(self):
        for body in (b'"entry"', b"42", b"null", b"true"):
            with self.subTest(body=body):
                self.refused(body)

    def test_object_without_entry_is_400(self):
        self.refused(b'{"object":"whatsapp_business_account"}')
        self.refused(b'{"object":"whatsapp_business_account","entry":{}}')

    def test_200000_deep_nesting_is_400(self):
        self.refused(b'{"entry":' + b"[" * 200000 + b"]" * 200000 + b"}")
        self.refused(b'{"entry":[' + b'{"a":' * 200000 + b"1" +
                     b"}" * 200000 + b"]}")

    def test_empty_body_is_400(self):
        self.refused(b"")

    def test_valid_webhook_after_malformed_ones_is_stored(self):
        self.refused(b"[" * 200000)
        self.refused(b"")
        body, wamid = text_webhook()
        webhooks, messages = self.stored()
        status, _, out = self.relay.post_webhook(body)
        self.assertEqual(status, 200, out)
        self.assertEqual(self.stored(), (webhooks + 1, messages + 1))
        self.assertIsNotNone(self.relay.message(wamid))
        self.assertHealthy()


# ---------------------------------------------------------------------------
class RequestLimits(RelayTestCase):
    """max_body, max_header and the URL length. Oversized requests go
    through send_raw(), which copes with an early answer and close."""
    server_extra = "max_body = 64k\n"
    MAX_BODY = 64 * 1024

    def raw(self, data):
        s = self.relay.raw_socket()
        try:
            return send_raw(s, data)
        finally:
            s.close()

    def post(self, body, chunked=False, extra=b""):
        """POST /webhook, signed, with Content-Length or chunked."""
        head = (b"POST /webhook HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\n"
                b"X-Hub-Signature-256: " + R.sign(body).encode() + b"\r\n" +
                extra + b"Connection: close\r\n")
        if not chunked:
            return self.raw(head + b"Content-Length: %d\r\n\r\n" %
                            len(body) + body)
        data = b""
        for i in range(0, len(body), 4096):
            c = body[i:i + 4096]
            data += b"%x\r\n" % len(c) + c + b"\r\n"
        return self.raw(head + b"Transfer-Encoding: chunked\r\n\r\n" +
                        data + b"0\r\n\r\n")

    def assertTooLarge(self, response):
        self.assertIsNotNone(response, "closed without an answer")
        status, headers, out = response
        self.assertEqual(status, 413, out)
        self.assertTrue(headers["content-type"].startswith(
            "application/json"), headers)
        self.assertEqual(json.loads(out)["error"]["code"], "too_large")

    def test_body_at_max_body_is_accepted(self):
        body, wamid = padded_webhook(self.MAX_BODY)
        status, _, out = self.post(body)
        self.assertEqual(status, 200, out)
        self.assertIsNotNone(self.relay.message(wamid))

    def test_body_one_byte_over_max_body_is_413(self):
        body, wamid = padded_webhook(self.MAX_BODY + 1)
        before = self.stored()
        self.assertTooLarge(self.post(body))
        self.assertNothingStored(before)
        self.assertIsNone(self.relay.message(wamid))

    def test_100k_body_with_content_length_is_413(self):
        body, wamid = padded_webhook(100 * 1024)
        before = self.stored()
        self.assertTooLarge(self.post(body))
        self.assertNothingStored(before)
        self.assertIsNone(self.relay.message(wamid))
        self.assertHealthy()

    def test_chunked_body_under_max_body_is_stored(self):
        body, wamid = text_webhook()
        status, _, out = self.post(body, chunked=True)
        self.assertEqual(status, 200, out)
        self.assertIsNotNone(self.relay.message(wamid))

    def test_100k_chunked_body_is_413(self):
        body, wamid = padded_webhook(100 * 1024)
        before = self.stored()
        self.assertTooLarge(self.post(body, chunked=True))
        self.assertNothingStored(before)
        self.assertIsNone(self.relay.message(wamid))
        self.assertHealthy()

    def test_headers_far_over_max_header_are_refused(self):
        body, wamid = text_webhook()
        before = self.stored()
        response = self.post(body, extra=b"X-Padding: " +
                             b"p" * (100 * 1024) + b"\r\n")
        if response is not None:  # closing without an answer is fine too
            self.assertTrue(400 <= response[0] < 500, response[:2])
            self.assertIn(response[0], (431, 413, 400), response[:2])
        self.assertNothingStored(before)
        self.assertIsNone(self.relay.message(wamid))
        self.assertHealthy()

    def test_100k_url_is_414(self):
        response = self.raw(b"GET /healthz?" + b"a" * (100 * 1024) +
                            b" HTTP/1.1\r\nHost: localhost\r\n"
                            b"Connection: close\r\n\r\n")
        self.assertIsNotNone(response, "closed without an answer")
        self.assertTrue(400 <= response[0] < 500, response[:2])
        self.assertEqual(response[0], 414)
        self.assertHealthy()


# ---------------------------------------------------------------------------
class SlowClient(RelayTestCase):
    """A client that stops half-way through a request is cut off after the
    configured timeout instead of holding a connection forever."""
    server_extra = "timeout = 2s\n"

    def test_half_request_line_is_closed_after_timeout(self):
        s = self.relay.raw_socket()
        try:
            s.sendall(b"GET /heal")
            started = time.monotonic()
            deadline = started + 15.0
            closed = False
            data = b""
            while not closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    break
                except (ssl.SSLError, OSError):
                    closed = True
                    break
                if not chunk:
                    closed = True
                data += chunk  # a 408 before closing is fine too
            self.assertTrue(closed, "the relay did not close a stalled "
                            "connection within 15 s")
            self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)
            self.assertGreater(time.monotonic() - started, 1.0,
                               "closed long before the 2 s timeout")
        finally:
            s.close()
        self.assertHealthy()


# ---------------------------------------------------------------------------
class RoutesAndOps(RelayTestCase):
    """Methods, paths, /healthz, /metrics, keep-alive."""

    def test_put_webhook_is_405_with_allow_get_post(self):
        body, _ = text_webhook()
        before = self.stored()
        status, headers, out = self.relay.request(
            "PUT", "/webhook", body, {"X-Hub-Signature-256": R.sign(body)})
        self.assertEqual(status, 405, out)
        allow = {m.strip() for m in headers.get("Allow", "").split(",")}
        self.assertEqual(allow, {"GET", "POST"})
        self.assertNothingStored(before)

    def test_delete_healthz_is_405(self):
        status, headers, _ = self.relay.request("DELETE", "/healthz")
        self.assertEqual(status, 405)
        self.assertIn("GET", headers.get("Allow", ""))

    def test_unknown_path_is_404(self):
        self.assertError(self.relay.request("GET", "/nope"), 404,
                         "not_found")

    def test_webhook_with_trailing_slash_is_404(self):
        body, _ = text_webhook()
        status, _, _ = self.relay.post_webhook(body)  # control: no slash
        self.assertEqual(status, 200)
        before = self.stored()
        status, _, _ = self.relay.request(
            "POST", "/webhook/", body, {"X-Hub-Signature-256": R.sign(body)})
        self.assertEqual(status, 404)
        self.assertEqual(self.relay.request("GET", "/webhook/")[0], 404)
        self.assertNothingStored(before)

    def test_healthz_is_200_ok(self):
        status, headers, body = self.relay.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith(
            "application/json"))
        self.assertEqual(json.loads(body), {"status": "ok"})

    def test_metrics_count_webhooks_and_bad_signatures(self):
        headers, m0 = self.metrics()
        self.assertTrue(headers["Content-Type"].startswith("text/plain"),
                        headers)
        self.assertIn("glivi_webhooks_total", m0)
        self.assertIn("glivi_webhooks_bad_signature_total", m0)
        good, _ = text_webhook()
        for _ in range(3):
            body, _ = text_webhook()
            self.assertEqual(self.relay.post_webhook(
                body, signature=R.sign(body, b"wrong"))[0], 401)
        self.assertEqual(self.relay.post_webhook(good)[0], 200)
        self.assertEqual(self.relay.post_webhook(good)[0], 200)  # retry
        _, m1 = self.metrics()
        self.assertEqual(m1["glivi_webhooks_total"] -
                         m0["glivi_webhooks_total"], 5)
        self.assertEqual(m1["glivi_webhooks_bad_signature_total"] -
                         m0["glivi_webhooks_bad_signature_total"], 3)

    def test_two_webhooks_on_one_keep_alive_connection(self):
        conn = self.relay.connection()
        try:
            sock = None
            for _ in range(2):
                body, wamid = text_webhook()
                conn.request("POST", "/webhook", body,
                             {"Content-Type": "application/json",
                              "X-Hub-Signature-256": R.sign(body)})
                r = conn.getresponse()
                out = r.read()
                self.assertEqual(r.status, 200, out)
                self.assertNotEqual(
                    (r.getheader("Connection") or "").lower(), "close")
                if sock is None:
                    sock = conn.sock
                else:
                    self.assertIs(conn.sock, sock, "the connection was "
                                  "not reused")
                self.assertIsNotNone(self.relay.message(wamid))
        finally:
            conn.close()


# ---------------------------------------------------------------------------
class PlainHttp(RelayTestCase):
    plain_http = True

    def test_healthz_over_plain_http_on_loopback(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.relay.port,
                                          timeout=10)
        try:
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read()), {"status": "ok"})
        finally:
            conn.close()

    def test_webhook_over_plain_http_is_stored(self):
        body, wamid = text_webhook()
        self.assertEqual(self.relay.post_webhook(body)[0], 200)
        self.assertIsNotNone(self.relay.message(wamid))


# ---------------------------------------------------------------------------
class Shutdown(unittest.TestCase):
    def setUp(self):
        self.relay = R.Relay()
        self.addCleanup(self.relay.close)
        self.relay.start()

    def test_sigterm_exits_0_and_keeps_acknowledged_webhooks(self):
        body, wamid = text_webhook("before the stop")
        status, _, out = self.relay.post_webhook(body)
        self.assertEqual(status, 200, out)
        self.assertEqual(self.relay.stop(signal.SIGTERM), 0)
        log = self.relay.read_log()
        self.assertIn("stopped", log)
        self.assertNotIn("before the stop", log)  # no message text in logs

        self.relay.start()
        self.assertIsNotNone(self.relay.message(wamid))
        status, _, _ = self.relay.request("GET", "/healthz")
        self.assertEqual(status, 200)
        # After the restart the same delivery is a no-op retry.
        before = self.relay.counts()
        self.assertEqual(self.relay.post_webhook(body)[0], 200)
        self.assertEqual(self.relay.counts()["messages"], before["messages"])

    def test_sigint_exits_0(self):
        self.assertEqual(self.relay.stop(signal.SIGINT), 0)
        self.assertIn("stopped", self.relay.read_log())


if __name__ == "__main__":
    unittest.main()
