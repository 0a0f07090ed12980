"""Media through the real glivi-relay, both ways, against glivi-sim over
HTTPS (and, for answers Meta should never give, a hostile Graph API played
by this process).

In: a customer's file (bytes registered at the simulator) is fetched on
the first GET /api/v1/media/{id}, checked against the sha256 Graph
advertises, kept under data_dir/media and served from disk afterwards;
an expired download URL is looked up again once; a wrong digest, an
oversize file, a 5xx or a hostile answer gives 502 and keeps nothing;
ids no message names, and malformed ones, are refused.

Out: an agent uploads a file (POST /api/v1/media), sends it by the id the
relay gave, and the simulator receives the same bytes by upload and a
send that names that upload; upload failures are retried or fail the
message like sends; restarts lose nothing.

Each test starts its own processes and stops them; every wait is on a
condition with a deadline.
"""
import base64
import hashlib
import http.server
import json
import os
import shutil
import socket
import ssl
import stat
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
import test_outbound as O  # noqa: E402
import test_sim as S  # noqa: E402
from apiclient import api  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def b64(digest):
    return base64.b64encode(digest).decode()


class MediaPair(O.Pair):
    """A relay and a simulator, with extra [server] keys for the relay."""

    def __init__(self, certs, server_extra="", **kw):
        super().__init__(certs, **kw)
        self.relay.close()
        self.relay = R.Relay(certs=certs, extra=self._extra(0),
                             server_extra=server_extra)

    # -- the simulator's side ------------------------------------------
    def register(self, data, mime="image/jpeg", number=R.MAIN):
        status, doc = self.sim.request(
            "POST", "/_sim/media?number=" + number, data, token=None,
            headers={"Content-Type": mime})
        assert status == 200, (status, doc)
        return doc

    def customer_sends(self, media_id, kind="image", wa_id=None, **extra):
        """A customer's media message naming a registered file; returns
        (wa_id, the relay's message)."""
        wa_id = wa_id or O.customer()
        body = {"number": R.MAIN, "from": wa_id, "type": kind,
                "media_id": media_id}
        body.update(extra)
        doc = self.control("POST", "inbound", body)
        assert doc["relay_status"] == 200, doc
        m = self.relay.message(doc["wamid"])
        assert m is not None, doc
        return wa_id, m

    def inject_any(self, error, **kw):
        """An injection for any customer (media requests have none)."""
        body = {"error": error}
        body.update(kw)
        return self.control("POST", "inject", body)

    def sim_media(self, media_id=None):
        files = self.control("GET", "media")
        if media_id is None:
            return files
        return [f for f in files if f["id"] == media_id][0]

    # -- the relay's side ------------------------------------------------
    def get_media(self, media_id, token=None):
        return api(self.relay, self.agent if token is None else token,
                   "GET", "/api/v1/media/" + media_id, timeout=30)

    def upload(self, data, mime, token=None, headers=None):
        h = {"Content-Type": mime}
        h.update(headers or {})
        return api(self.relay, self.agent if token is None else token,
                   "POST", "/api/v1/media", data, headers=h, timeout=30)

    def media_dir(self):
        return os.path.join(self.relay.dir, "media")

    def media_files(self):
        return sorted(os.listdir(self.media_dir()))

    def relay_media_rows(self):
        return self.relay.counts()["media"]


class MediaCase(O.OutboundCase):

    def pair(self, **kw):
        p = MediaPair(self.certs, **kw)
        self.addCleanup(p.close)
        return p.start()

    def assertApiError(self, got, status, code):
        st, _, body = got
        self.assertEqual(st, status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertTrue(body["error"]["message"], body)
        return body["error"]["message"]

    def assertServes(self, p, media_id, data, mime):
        status, h, body = p.get_media(media_id)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, data)
        self.assertEqual(h["content-type"], mime)
        self.assertEqual(int(h["content-length"]), len(data))
        self.assertEqual(h["x-content-type-options"], "nosniff")
        self.assertEqual(h["repr-digest"], "sha-256=:%s:" %
                         b64(hashlib.sha256(data).digest()))
        return h


class MediaIn(MediaCase):

    def test_inbound_media_round_trips_with_matching_sha256(self):
        p = self.pair()
        data = os.urandom(200 * 1024)
        reg = p.register(data, "image/jpeg")
        _, m = p.customer_sends(reg["id"], caption="the broken part")
        self.assertEqual(m["media"]["id"], reg["id"])
        self.assertEqual(m["media"]["sha256"], reg["sha256_base64"])
        self.assertServes(p, reg["id"], data, "image/jpeg")
        # Kept under data_dir/media, private, under Meta's id; no
        # temporary file left.
        self.assertEqual(p.media_files(), [reg["id"]])
        path = os.path.join(p.media_dir(), reg["id"])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(p.media_dir()).st_mode),
                         0o700)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)
        f = p.sim_media(reg["id"])
        self.assertEqual((f["resolves"], f["downloads"]), (1, 1), f)
        self.assertEqual(p.relay_media_rows(), 1)
        log = p.relay.read_log()
        self.assertNotIn(S.TOKEN.decode(), log)
        self.assertIn("media: fetched %s" % reg["id"], log)

    def test_second_fetch_is_served_from_disk(self):
        p = self.pair()
        data = os.urandom(5000)
        reg = p.register(data, "application/pdf")
        p.customer_sends(reg["id"], kind="document", filename="a.pdf")
        self.assertServes(p, reg["id"], data, "application/pdf")
        before = p.stats()
        for _ in range(3):
            self.assertServes(p, reg["id"], data, "application/pdf")
        after = p.stats()
        self.assertEqual((after["media_resolves"], after["media_downloads"]),
                         (before["media_resolves"],
                          before["media_downloads"]), after)
        self.assertEqual(p.sim_media(reg["id"])["downloads"], 1)
        # A restart does not forget it either.
        p.restart_relay()
        self.assertServes(p, reg["id"], data, "application/pdf")
        self.assertEqual(p.stats()["media_downloads"],
                         after["media_downloads"])

    def test_concurrent_first_requests_share_one_fetch(self):
        p = self.pair()
        data = os.urandom(300 * 1024)
        reg = p.register(data, "video/mp4")
        p.customer_sends(reg["id"], kind="video")
        # The lookup takes a while, so every request below arrives while
        # the first fetch is in flight.
        p.inject_any("slow", on="resolve", ms=700)
        results = [None] * 8

        def get(i):
            results[i] = p.get_media(reg["id"])
        threads = [threading.Thread(target=get, args=(i,))
                   for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for status, h, body in results:
            self.assertEqual(status, 200, body)
            self.assertEqual(body, data)
        f = p.sim_media(reg["id"])
        self.assertEqual((f["resolves"], f["downloads"]), (1, 1), f)
        self.assertEqual(p.media_files(), [reg["id"]])

    def test_expired_url_is_resolved_again(self):
        p = self.pair()
        data = os.urandom(1000)
        reg = p.register(data, "audio/ogg; codecs=opus")
        p.customer_sends(reg["id"], kind="audio", voice=True)
        p.control("POST", "inject", {"error": "media_url_expired",
                                     "media_id": reg["id"]})
        self.assertServes(p, reg["id"], data, "audio/ogg; codecs=opus")
        f = p.sim_media(reg["id"])
        self.assertEqual((f["resolves"], f["downloads"]), (2, 1), f)
        self.assertEqual(p.stats()["media_downloads_refused"], 1)
        self.assertIn("looking it up again", p.relay.read_log())

    def test_url_refused_after_a_fresh_lookup_too_is_502_then_recovers(
            self):
        p = self.pair()
        data = os.urandom(1000)
        reg = p.register(data)
        p.customer_sends(reg["id"])
        p.control("POST", "inject", {"error": "media_url_expired",
                                     "count": 2})
        msg = self.assertApiError(p.get_media(reg["id"]), 502,
                                  "media_unavailable")
        self.assertIn("fresh URL", msg)
        self.assertEqual(p.sim_media(reg["id"])["resolves"], 2)
        self.assertEqual(p.media_files(), [])
        self.assertServes(p, reg["id"], data, "image/jpeg")

    def test_sha256_mismatch_is_502_and_nothing_is_stored(self):
        p = self.pair()
        data = os.urandom(4000)
        reg = p.register(data)
        p.customer_sends(reg["id"])
        p.control("POST", "inject", {"error": "media_wrong_sha256"})
        msg = self.assertApiError(p.get_media(reg["id"]), 502,
                                  "media_sha256_mismatch")
        self.assertIn("nothing was kept", msg)
        self.assertEqual(p.media_files(), [])
        self.assertEqual(p.relay_media_rows(), 0)
        # Nothing stuck either: the next request fetches it right.
        self.assertServes(p, reg["id"], data, "image/jpeg")

    def test_download_5xx_is_502_then_recovers(self):
        p = self.pair()
        data = os.urandom(4000)
        reg = p.register(data)
        p.customer_sends(reg["id"])
        p.control("POST", "inject", {"error": "media_download_error"})
        msg = self.assertApiError(p.get_media(reg["id"]), 502,
                                  "media_unavailable")
        self.assertIn("HTTP 500", msg)
        self.assertEqual(p.media_files(), [])
        self.assertServes(p, reg["id"], data, "image/jpeg")

    def test_graph_lookup_refused_is_502_with_metas_reason(self):
        p = self.pair()
        reg = p.register(os.urandom(100))
        p.customer_sends(reg["id"])
        p.inject_any("token_expired", on="resolve")
        msg = self.assertApiError(p.get_media(reg["id"]), 502,
                                  "media_unavailable")
        self.assertIn("HTTP 401", msg)
        self.assertIn("Session has expired", msg)

    def test_oversize_media_is_refused_and_nothing_is_stored(self):
        p = self.pair(server_extra="media_max = 64k\n")
        big = p.register(os.urandom(64 * 1024 + 1))
        p.customer_sends(big["id"])
        msg = self.assertApiError(p.get_media(big["id"]), 502,
                                  "media_too_large")
        self.assertIn("media_max", msg)
        # Graph's advertised size says so: not even downloaded.
        self.assertEqual(p.sim_media(big["id"])["downloads"], 0)
        self.assertEqual(p.media_files(), [])
        exact = os.urandom(64 * 1024)
        ok = p.register(exact)
        p.customer_sends(ok["id"])
        self.assertServes(p, ok["id"], exact, "image/jpeg")

    def test_unknown_ids_are_404_malformed_and_traversal_ids_refused(self):
        p = self.pair()
        # Media the simulator holds, but no message names: the relay is no
        # proxy for any id an agent guesses.
        reg = p.register(os.urandom(100))
        self.assertApiError(p.get_media(reg["id"]), 404, "not_found")
        self.assertApiError(p.get_media("1" * 128), 404, "not_found")
        for bad in ("..", ".", "a.b", "%2E%2E", "%20", "~root",
                    "%7Bid%7D", "%C3%A9", "a%0Ab"):
            with self.subTest(bad):
                got = p.get_media(bad)
                self.assertApiError(got, 400, "invalid")
        for path in ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd",
                     "a/b", "1" * 129, "", "x%00y"):
            with self.subTest(path):
                status, _, body = p.get_media(path)
                self.assertIn(status, (400, 404), body)
                self.assertIn(body["error"]["code"],
                              ("invalid", "not_found"), body)
        self.assertApiError(p.get_media(reg["id"], token="nope"), 401,
                            "unauthorized")
        st = p.stats()
        self.assertEqual((st["media_resolves"], st["media_downloads"]),
                         (0, 0), st)
        self.assertEqual(p.media_files(), [])


class MediaOut(MediaCase):

    def test_upload_then_send_reaches_meta_with_the_same_sha256(self):
        p = self.pair()
        wa_id = O.customer()
        conv = p.customer_writes(wa_id)
        data = PNG + os.urandom(50000)
        status, _, up = p.upload(data, "image/png")
        self.assertEqual(status, 201, up)
        self.assertTrue(up["id"].startswith("up"), up)
        self.assertEqual((up["mime_type"], up["sha256"], up["size"]),
                         ("image/png", hashlib.sha256(data).hexdigest(),
                          len(data)))
        self.assertEqual(p.media_files(), [up["id"]])
        # The same file again is the same upload.
        self.assertEqual(p.upload(data, "image/png")[2]["id"], up["id"])
        # The agent can read back what it uploaded.
        self.assertServes(p, up["id"], data, "image/png")

        id = p.queue(conv, {"type": "image", "media": {
            "id": up["id"], "caption": "your receipt"}})
        msg = p.message(id)
        self.assertEqual(msg["media"]["id"], up["id"])
        self.assertEqual(msg["media"]["sha256"], up["sha256"])
        self.assertEqual(msg["media"]["mime_type"], "image/png")
        self.assertEqual(msg["media"]["file_size"], len(data))
        m = p.wait_message(id, self.ended({"read"}), "the image to be read")

        files = [f for f in p.sim_media() if f["origin"] == "upload"]
        self.assertEqual(len(files), 1, files)
        f = files[0]
        self.assertEqual((f["sha256"], f["file_size"], f["mime_type"],
                          f["part_content_type"], f["number"]),
                         (up["sha256"], len(data), "image/png", "image/png",
                          R.MAIN))
        s = self.assertSentOnce(p, id, type="image", outcome="accepted")
        self.assertEqual((s["media_id"], s["media_known"]), (f["id"], True))
        self.assertEqual(s["request"]["image"], {"id": f["id"],
                                                 "caption": "your receipt"})
        self.assertEqual(m["wamid"], s["wamid"])
        # Sent again: Meta's id is reused, not uploaded twice.
        id2 = p.queue(conv, {"type": "document", "media": {
            "id": up["id"], "filename": "receipt.png"}})
        p.wait_message(id2, self.ended({"read"}), "the document to be read")
        s2 = self.assertSentOnce(p, id2, type="document")
        self.assertEqual(s2["media_id"], f["id"])
        self.assertEqual(p.stats()["media_uploads"], 1)

    def test_upload_refusals(self):
        p = self.pair(server_extra="media_max = 64k\n")
        cases = [
            (b"x", "image/gif", 415, "unsupported_media_type"),
            (b"x", "application/zip", 415, "unsupported_media_type"),
            (b"x", "image/png x", 415, "unsupported_media_type"),
            (b"x", "", 415, "unsupported_media_type"),
            (b"", "image/png", 400, "empty"),
            # Over media_max (64k), under Meta's 5 MB for images.
            (os.urandom(70 * 1024), "image/png", 413, "too_large"),
        ]
        for data, mime, status, code in cases:
            with self.subTest(mime=mime, size=len(data)):
                try:
                    got = p.upload(data, mime)
                except (ConnectionError, ssl.SSLError):
                    # Refused before the body was read: the relay may
                    # close while the client still sends.
                    self.assertEqual(status, 413)
                    continue
                self.assertApiError(got, status, code)
        # Sent chunked, without a Content-Length: cut off as it comes.
        conn = p.relay.connection(timeout=30)
        try:
            conn.request("POST", "/api/v1/media",
                         body=iter([os.urandom(32 * 1024)] * 3),
                         headers={"Authorization": "Bearer " + p.agent,
                                  "Content-Type": "image/png"},
                         encode_chunked=True)
            r = conn.getresponse()
            self.assertEqual(r.status, 413)
            self.assertEqual(json.loads(r.read())["error"]["code"],
                             "too_large")
        finally:
            conn.close()
        self.assertApiError(p.upload(b"x", "image/png", token="nope"), 401,
                            "unauthorized")
        wait_for_no_temp(self, p)
        self.assertEqual(p.media_files(), [])

    def test_upload_over_metas_limit_is_refused_before_the_body(self):
        p = self.pair()
        # Headers only, announcing 6 MB of PNG (Meta takes 5 MB): the
        # answer comes without a byte of the body sent.
        s = p.relay.raw_socket()
        try:
            s.sendall(("POST /api/v1/media HTTP/1.1\r\nHost: localhost\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: image/png"
                       "\r\nContent-Length: %d\r\n\r\n"
                       % (p.agent, 6 * 1024 * 1024)).encode())
            head = read_answer(s)
        finally:
            s.close()
        self.assertTrue(head.startswith("HTTP/1.1 413"), head)
        self.assertIn("Meta's limit for image files", head)
        # And a stranger is refused before a byte too.
        s = p.relay.raw_socket()
        try:
            s.sendall(b"POST /api/v1/media HTTP/1.1\r\nHost: localhost\r\n"
                      b"Content-Type: image/png\r\nContent-Length: 1000000"
                      b"\r\n\r\n")
            head = read_answer(s)
        finally:
            s.close()
        self.assertTrue(head.startswith("HTTP/1.1 401"), head)
        wait_for_no_temp(self, p)

    def test_send_naming_a_missing_or_unsuitable_upload_is_refused(self):
        p = self.pair()
        conv = p.customer_writes(O.customer())
        status, _, up = p.upload(PNG + b"1234", "image/png")
        self.assertEqual(status, 201, up)
        for body, field in [
                ({"type": "image", "media": {"id": "up" + "0" * 32}}, "id"),
                ({"type": "audio", "media": {"id": up["id"]}}, "type"),
                ({"type": "sticker", "media": {"id": up["id"]}}, "type")]:
            with self.subTest(body):
                status, err = p.send(conv, body)
                self.assertEqual(status, 422, err)
                self.assertEqual(err["error"]["field"], field, err)
        self.assertEqual(p.sent(), [])
        self.assertEqual(p.stats()["media_uploads"], 0)

    def test_transient_upload_failure_is_retried(self):
        p = self.pair()
        conv = p.customer_writes(O.customer())
        up = p.upload(PNG + os.urandom(100), "image/png")[2]
        p.inject_any("server_error", on="upload")
        id = p.queue(conv, {"type": "image", "media": {"id": up["id"]}})
        m = p.wait_message(id, self.ended({"read"}),
                           "the image to be read after a retried upload")
        self.assertIsNone(m["failure"], m)
        st = p.stats()
        self.assertEqual((st["media_uploads"], st["media_uploads_refused"],
                          st["sends_accepted"]), (1, 1, 1), st)
        self.assertSentOnce(p, id, media_known=True)

    def test_permanent_upload_failure_fails_the_message_with_metas_reason(
            self):
        p = self.pair()
        conv = p.customer_writes(O.customer())
        up = p.upload(b"%PDF-1.4 " + os.urandom(100), "application/pdf")[2]
        p.inject_any("media_upload_error")
        id = p.queue(conv, {"type": "document", "media": {
            "id": up["id"], "filename": "x.pdf"}})
        m = p.wait_message(id, self.ended({"failed"}),
                           "the document to fail")
        self.assertEqual(m["failure"]["code"], 131053, m)
        self.assertEqual(m["failure"]["stage"], "upload", m)
        self.assertIn("Media upload error", m["failure"]["message"])
        self.assertIsNone(m["wamid"])
        self.assertEqual(p.sent(), [])

    def test_restart_between_upload_and_send_loses_nothing(self):
        p = self.pair()
        conv = p.customer_writes(O.customer())
        data = os.urandom(20000)
        up = p.upload(data, "video/mp4")[2]
        p.restart_relay()
        id = p.queue(conv, {"type": "video", "media": {"id": up["id"]}})
        # The restarted relay listens on another port, where the
        # simulator's status webhooks do not go: accepted is the end.
        m = p.wait_message(id, self.ended({"sent"}), "the video to be sent")
        self.assertTrue(m["wamid"], m)
        f = [x for x in p.sim_media() if x["origin"] == "upload"][0]
        self.assertEqual(f["sha256"], hashlib.sha256(data).hexdigest())
        s = self.assertSentOnce(p, id)
        self.assertEqual(s["media_id"], f["id"])

    def test_send_retried_across_a_restart_reuses_metas_media_id(self):
        p = self.pair(outbound={"max_attempts": "8"})
        conv = p.customer_writes(O.customer())
        data = os.urandom(2000)
        up = p.upload(data, "audio/mpeg")[2]
        # The upload goes through; the send after it fails and waits out
        # a backoff, during which the relay restarts.
        p.inject_any("server_error")
        id = p.queue(conv, {"type": "audio", "media": {"id": up["id"]}})
        p.wait_message(id, lambda m: m["status"] == "queued" and
                       m["failure"] is not None, "the send to fail once")
        p.restart_relay()
        # (The simulator's statuses go to the old port: sent is the end.)
        p.wait_message(id, self.ended({"sent"}), "the audio to be sent")
        st = p.stats()
        self.assertEqual((st["media_uploads"], st["sends_accepted"]), (1, 1),
                         st)
        self.assertSentOnce(p, id, media_known=True)


def read_answer(s):
    """What a raw socket gets until the relay closes it (or 10 s)."""
    s.settimeout(10)
    got = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, ConnectionError, ssl.SSLError):
        pass
    return got.decode("latin-1")


def wait_for_no_temp(case, p):
    """No temporary file is left in the media directory (a refused
    upload's is removed when its request ends)."""
    O.wait_for(lambda: not [f for f in p.media_files()
                            if f.startswith(".tmp.")],
               "temporary upload files to be removed")


# -- a Graph API that answers what Meta never should ------------------------

class HostileGraph:
    """An HTTPS server on a free port whose answers each test scripts:
    handler(path) -> (status, headers, body). Records (path,
    Authorization) of every request."""

    def __init__(self, cert, key):
        self.seen = []
        self.handler = None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.seen.append((self.path,
                                   self.headers.get("Authorization")))
                status, headers, body = outer.handler(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(30)


def image_webhook(media_id, sha256=None, mime="image/jpeg"):
    wa_id = O.customer()
    wamid = "wamid.HOSTILE-%d-%d" % (os.getpid(), time.time_ns())
    image = {"id": media_id, "mime_type": mime}
    if sha256 is not None:
        image["sha256"] = sha256
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": S.WABA, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": S.DISPLAY,
                         "phone_number_id": R.MAIN},
            "contacts": [{"profile": {"name": "H"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid,
                          "timestamp": str(int(time.time())),
                          "type": "image", "image": image}]}}]}]}).encode()


class HostileGraphAnswers(unittest.TestCase):
    """The relay against a Graph API that lies: every answer it should
    not trust gets 502, and nothing is kept."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="glivi-media-hostile-")
        cls.certs = R.make_certs(cls.dir)
        cls.graph = HostileGraph(cls.certs[1], cls.certs[2])
        token = os.path.join(cls.dir, "access_token")
        R.write_secret(token, S.TOKEN)
        cls.relay = R.Relay(certs=cls.certs, server_extra="media_max = 64k\n",
                            extra="[meta]\naccess_token_file = %s\n"
                            "graph_url = https://localhost:%d\n"
                            "graph_version = v25.0\n\n[outbound]\n"
                            "ca_file = %s\nrequest_timeout = 5s\n"
                            % (token, cls.graph.port, cls.certs[0]))
        try:
            cls.relay.start()
            cls.agent = cls.relay.cli("agent", "add", "eve").stdout \
                .decode().strip()
        except BaseException:
            cls.relay.close()
            cls.graph.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.relay.stop()
            assert rc == 0, "the relay exited %s" % rc
        finally:
            cls.relay.close()
            cls.graph.close()
            shutil.rmtree(cls.dir, ignore_errors=True)

    _serial = [0]

    def media_id(self):
        self._serial[0] += 1
        return "77%d%06d" % (os.getpid(), self._serial[0])

    def url(self, name):
        return "https://localhost:%d/dl/%s" % (self.graph.port, name)

    def fetch(self, media_id, answer, download=None, sha256=None,
              mime="image/jpeg"):
        """Posts a webhook naming media_id, scripts Graph's answers and
        GETs the media from the relay."""
        self.last = media_id
        status, _, _ = self.relay.post_webhook(image_webhook(media_id,
                                                             sha256, mime))
        self.assertEqual(status, 200)

        def handler(path):
            if path.startswith("/v25.0/"):
                return answer
            return download or (404, {}, b"")
        self.graph.handler = handler
        return api(self.relay, self.agent, "GET", "/api/v1/media/" +
                   media_id, timeout=30)

    def meta(self, media_id, data, **over):
        doc = {"messaging_product": "whatsapp", "url": self.url(media_id),
               "mime_type": "image/jpeg",
               "sha256": hashlib.sha256(data).hexdigest(),
               "file_size": str(len(data)), "id": media_id}
        doc.update(over)
        doc = {k: v for k, v in doc.items() if v is not None}
        return (200, {"Content-Type": "application/json"},
                json.dumps(doc).encode())

    def assertRefused(self, got, code="media_unavailable", text=None):
        status, _, body = got
        self.assertEqual(status, 502, body)
        self.assertEqual(body["error"]["code"], code, body)
        if text is not None:
            self.assertIn(text, body["error"]["message"])
        files = os.listdir(os.path.join(self.relay.dir, "media"))
        self.assertNotIn(self.last, files, "nothing may be kept")
        self.assertEqual([f for f in files if f.startswith(".tmp.")], [])

    def ok(self, data):
        return (200, {"Content-Type": "image/jpeg"}, data)

    def test_malformed_lookup_answers_are_refused(self):
        data = b"d" * 100
        cases = [
            ((200, {}, b"not json"), "malformed"),
            ((200, {}, b"[]"), "malformed"),
            ((200, {}, b"{\"url\": 5}"), "no http(s) url"),
            ((200, {}, b"x" * 70000), "could not be reached"),
        ]
        for answer, text in cases:
            with self.subTest(text):
                self.assertRefused(self.fetch(self.media_id(), answer,
                                              self.ok(data)), text=text)

    def test_hostile_members_are_refused(self):
        data = b"h" * 100
        for over, text in [
                ({"url": "ftp://localhost/x"}, "no http(s) url"),
                ({"url": "file:///etc/passwd"}, "no http(s) url"),
                ({"mime_type": "image/jpeg\r\nSet-Cookie: a=b"},
                 "mime_type"),
                ({"sha256": "not a digest"}, "sha256"),
                ({"file_size": "-5"}, "file_size"),
                ({"id": "999"}, "another media id"),
                ({"url": "https://evil.example.com/steal"},
                 "the access token is not sent there"),
                ({"url": "http://localhost:%d/dl/x" % self.graph.port},
                 "the access token is not sent there")]:
            with self.subTest(over):
                mid = self.media_id()
                self.assertRefused(self.fetch(mid, self.meta(mid, data,
                                                             **over),
                                              self.ok(data)), text=text)
        # The token never went anywhere but to this Graph API.
        # (http.server reads header bytes as Latin-1.)
        self.assertEqual({auth for _, auth in self.graph.seen},
                         {"Bearer " + S.TOKEN.decode("latin-1")})

    def test_lies_about_the_file_are_refused(self):
        data = b"L" * 1000
        mid = self.media_id()
        self.assertRefused(self.fetch(mid, self.meta(mid, data,
                                                     file_size="10"),
                                      self.ok(data)), "media_size_mismatch")
        # No size advertised, and more than media_max (64k) served: cut
        # off while streaming.
        big = b"B" * (70 * 1024)
        mid = self.media_id()
        self.assertRefused(self.fetch(mid, self.meta(mid, big,
                                                     file_size=None),
                                      self.ok(big)), "media_too_large")
        mid = self.media_id()
        self.assertRefused(self.fetch(mid, self.meta(mid, data),
                                      self.ok(data[:-1] + b"x")),
                           "media_sha256_mismatch")

    def test_redirects_and_error_pages_are_not_followed_or_kept(self):
        data = b"r" * 100
        mid = self.media_id()
        self.assertRefused(self.fetch(
            mid, self.meta(mid, data),
            (302, {"Location": "https://evil.example.com/"}, b"")),
            text="HTTP 302")
        mid = self.media_id()
        self.assertRefused(self.fetch(
            mid, self.meta(mid, data), (500, {}, b"<html>oops</html>")),
            text="HTTP 500")

    def test_graph_error_is_502_with_its_reason(self):
        mid = self.media_id()
        got = self.fetch(mid, (400, {}, json.dumps({"error": {
            "message": "(#100) Media \u00e9 expired", "code": 100,
            "type": "OAuthException"}}).encode()))
        self.assertRefused(got, text="HTTP 400): (#100) Media ?? expired")

    def test_sha256_falls_back_to_the_webhooks(self):
        data = b"w" * 300
        digest = hashlib.sha256(data).digest()
        # Graph gives none; the webhook's (base64) is used.
        mid = self.media_id()
        status, h, body = self.fetch(mid, self.meta(mid, data, sha256=None),
                                     self.ok(data), sha256=b64(digest))
        self.assertEqual((status, body), (200, data))
        # Neither gives one: nothing to check against, refused.
        mid = self.media_id()
        self.assertRefused(self.fetch(mid, self.meta(mid, data, sha256=None),
                                      self.ok(data)),
                           text="nothing to check the file against")

    def test_a_good_answer_is_served_with_graphs_type(self):
        data = b"g" * 500
        mid = self.media_id()
        status, h, body = self.fetch(mid, self.meta(
            mid, data, mime_type="image/png", sha256=b64(
                hashlib.sha256(data).digest())), self.ok(data),
            mime="image/jpeg")
        self.assertEqual((status, body), (200, data))
        self.assertEqual(h["content-type"], "image/png")


if __name__ == "__main__":
    unittest.main()
