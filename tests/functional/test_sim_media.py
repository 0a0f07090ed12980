"""glivi-sim's media endpoints as a relay sees them: uploads checked the
way Meta checks them (parts, types, sizes), GET /{media-id} with a
download URL that expires, the download that needs the bearer token,
DELETE, files registered through the control API that simulated
customers send, sends that name an uploaded id, and the media errors a
test can inject. A Python HTTPS receiver stands in for the relay.
"""
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as R  # noqa: E402
import test_sim as S  # noqa: E402

MB = 1024 * 1024


def multipart(fields=(), files=(), boundary="glivi-test-boundary-7d1f"):
    """A multipart/form-data body: fields are (name, text), files are
    (name, filename, content type, bytes). Returns (body, content type)."""
    out = []
    for name, value in fields:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\""
                   b"\r\n\r\n%s\r\n" % (boundary.encode(), name.encode(),
                                         value.encode()))
    for name, filename, ctype, data in files:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                   b"filename=\"%s\"\r\nContent-Type: %s\r\n\r\n"
                   % (boundary.encode(), name.encode(), filename.encode(),
                      ctype.encode()) + data + b"\r\n")
    out.append(b"--%s--\r\n" % boundary.encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def upload_body(data, mime="image/jpeg", product="whatsapp",
                filename="photo.jpg"):
    fields = []
    if product is not None:
        fields.append(("messaging_product", product))
    if mime is not None:
        fields.append(("type", mime))
    files = [("file", filename, mime or "application/octet-stream", data)]
    return multipart(fields, files)


def download(sim, url, token=S.TOKEN):
    """GET of a download URL the simulator handed out: (status, content
    type, bytes)."""
    u = urllib.parse.urlsplit(url)
    assert u.scheme == "https" and u.port == sim.port, url
    conn = sim.connection()
    try:
        h = {"Authorization": b"Bearer " + token} if token else {}
        conn.request("GET", u.path + "?" + u.query, headers=h)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


class MediaCase(S.SimCase):

    def upload(self, data, mime="image/jpeg", number=R.MAIN, **kw):
        body, ctype = upload_body(data, mime, **kw)
        return self.sim.request("POST", "/v25.0/%s/media" % number, body,
                                headers={"Content-Type": ctype})

    def uploaded(self, data, mime="image/jpeg", number=R.MAIN):
        status, doc = self.upload(data, mime, number)
        self.assertEqual(status, 200, doc)
        self.assertEqual(list(doc), ["id"])
        self.assertTrue(doc["id"].isdigit(), doc)
        return doc["id"]

    def resolve(self, media_id, query="", token=S.TOKEN):
        return self.sim.request("GET", "/v25.0/%s%s" % (media_id, query),
                                token=token)

    def download(self, url, token=S.TOKEN):
        return download(self.sim, url, token)

    def media(self, media_id):
        return [m for m in self.sim.control("GET", "media")
                if m["id"] == media_id][0]


class TestUpload(MediaCase):

    def test_upload_resolve_download__round_trips_bytes_and_sha256(self):
        data = os.urandom(70000)
        media_id = self.uploaded(data)
        status, doc = self.resolve(media_id)
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["messaging_product"], "whatsapp")
        self.assertEqual(doc["id"], media_id)
        self.assertEqual(doc["mime_type"], "image/jpeg")
        self.assertEqual(doc["sha256"], hashlib.sha256(data).hexdigest())
        # A string, as in Meta's example.
        self.assertEqual(doc["file_size"], str(len(data)))
        self.assertIn("/whatsapp_business/attachments/?mid=%s&" % media_id,
                      doc["url"])
        status, ctype, got = self.download(doc["url"])
        self.assertEqual((status, ctype), (200, "image/jpeg"))
        self.assertEqual(got, data)
        # The download needs the token, like Meta's.
        status, _, _ = self.download(doc["url"], token=None)
        self.assertEqual(status, 401)
        status, _, _ = self.download(doc["url"], token=b"wrong")
        self.assertEqual(status, 401)
        m = self.media(media_id)
        self.assertEqual((m["origin"], m["number"], m["file_size"],
                          m["sha256"], m["filename"],
                          m["part_content_type"], m["resolves"],
                          m["downloads"], m["deleted"]),
                         ("upload", R.MAIN, len(data),
                          hashlib.sha256(data).hexdigest(), "photo.jpg",
                          "image/jpeg", 1, 1, False))
        self.assertEqual(m["sha256_base64"], base64.b64encode(
            hashlib.sha256(data).digest()).decode())
        st = self.stats()
        self.assertEqual((st["media_uploads"], st["media_resolves"],
                          st["media_downloads"],
                          st["media_downloads_refused"]), (1, 1, 1, 2), st)
        self.assertNotIn(S.TOKEN.decode(), self.sim.read_log())

    def test_upload_refusals__are_meta_shaped_and_counted(self):
        ok = os.urandom(100)
        cases = [
            ("no messaging_product", upload_body(ok, product=None), 100,
             "messaging_product is required"),
            ("another product", upload_body(ok, product="messenger"), 100,
             "{WHATSAPP}"),
            ("no type", multipart([("messaging_product", "whatsapp")],
                                  [("file", "a.jpg", "image/jpeg", ok)]),
             100, "type is required"),
            ("no file", multipart([("messaging_product", "whatsapp"),
                                   ("type", "image/jpeg")]), 100,
             "file is required"),
            ("file as a plain field", multipart(
                [("messaging_product", "whatsapp"), ("type", "image/jpeg"),
                 ("file", "not a file part")]), 100, "file is required"),
            ("unsupported type", upload_body(ok, mime="image/gif"), 100,
             "Received file of type 'image/gif'"),
            ("hostile type", upload_body(ok, mime="image/jpeg\r\nX: y"), 100,
             "Received file of type '?'"),
            ("empty file", upload_body(b""), 100, "must not be empty"),
            ("image over 5 MB", upload_body(b"\xff" * (5 * MB + 1)), 131053,
             "at most 5242880 bytes"),
            ("sticker over 500 KB", upload_body(b"R" * (500 * 1024 + 1),
                                                mime="image/webp"), 131053,
             "sticker files may be at most 512000 bytes"),
        ]
        for name, (body, ctype), code, text in cases:
            with self.subTest(name):
                got = self.sim.request("POST", "/v25.0/%s/media" % R.MAIN,
                                       body, headers={"Content-Type": ctype})
                e = self.assertMetaError(got, 400, code)
                self.assertIn(text, e["message"] + str(e.get("error_data")))
        # Exactly at the limits is fine.
        self.uploaded(b"\xff" * (5 * MB))
        self.uploaded(b"R" * (500 * 1024), mime="image/webp")
        st = self.stats()
        self.assertEqual((st["media_uploads"], st["media_uploads_refused"]),
                         (2, len(cases)), st)

    def test_upload_malformed_bodies__are_refused_not_guessed(self):
        good, ctype = upload_body(b"abc")
        cases = [
            ("not multipart", good, "application/json"),
            ("no boundary", good, "multipart/form-data"),
            ("another boundary", good, "multipart/form-data; boundary=zzz"),
            ("no closing boundary", good[:-30], ctype),
            ("no part headers end", b"--b\r\nContent-Disposition: form-"
             b"data; name=\"x\"", "multipart/form-data; boundary=b"),
            ("nameless part", b"--b\r\nContent-Type: text/plain\r\n\r\nx"
             b"\r\n--b--\r\n", "multipart/form-data; boundary=b"),
            ("boundary too long", good, "multipart/form-data; boundary=" +
             "b" * 71),
            ("too many parts", b"".join(
                b"--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n"
                b"\r\nv\r\n" % i for i in range(40)) + b"--b--\r\n",
             "multipart/form-data; boundary=b"),
            ("empty body", b"", ctype),
        ]
        for name, body, ct in cases:
            with self.subTest(name):
                got = self.sim.request("POST", "/v25.0/%s/media" % R.MAIN,
                                       body, headers={"Content-Type": ct})
                self.assertMetaError(got, 400, 100)
        self.assertEqual(self.stats()["media_uploads"], 0)

    def test_upload_needs_the_token_and_a_served_number(self):
        body, ctype = upload_body(b"abc")
        got = self.sim.request("POST", "/v25.0/%s/media" % R.MAIN, body,
                               token=None, headers={"Content-Type": ctype})
        self.assertMetaError(got, 401, 190)
        got = self.sim.request("POST", "/v25.0/999/media", body,
                               headers={"Content-Type": ctype})
        self.assertMetaError(got, 400, 100, subcode=33)
        self.assertEqual(self.stats()["media_uploads_refused"], 2)

    def test_quoted_boundary_and_preamble__are_read(self):
        data = os.urandom(64)
        body, _ = multipart([("messaging_product", "whatsapp"),
                             ("type", "application/pdf")],
                            [("file", "a.pdf", "application/pdf", data)],
                            boundary="a b")
        got = self.sim.request("POST", "/v25.0/%s/media" % R.MAIN,
                               b"preamble\r\n" + body, headers={
                                   "Content-Type":
                                   'multipart/form-data; boundary="a b"'})
        self.assertEqual(got[0], 200, got)
        m = self.media(got[1]["id"])
        self.assertEqual((m["mime_type"], m["file_size"]),
                         ("application/pdf", 64))


class TestLookup(MediaCase):

    def test_unknown_deleted_or_other_numbers_media__is_unknown_object(self):
        media_id = self.uploaded(b"x" * 10)
        self.assertMetaError(self.resolve("123456789"), 400, 100, 33)
        self.assertMetaError(self.resolve(media_id, "?phone_number_id=" +
                                          R.SECOND), 400, 100, 33)
        status, doc = self.resolve(media_id, "?phone_number_id=" + R.MAIN)
        self.assertEqual(status, 200, doc)
        self.assertMetaError(self.resolve(media_id, token=b"nope"), 401, 190)
        status, doc = self.sim.request("DELETE", "/v25.0/" + media_id)
        self.assertEqual((status, doc), (200, {"success": True}))
        self.assertMetaError(self.resolve(media_id), 400, 100, 33)
        self.assertMetaError(self.sim.request("DELETE", "/v25.0/" +
                                              media_id), 400, 100, 33)
        self.assertTrue(self.media(media_id)["deleted"])
        self.assertEqual(self.stats()["media_deleted"], 1)

    def test_download_url__is_refused_once_media_is_deleted(self):
        media_id = self.uploaded(b"y" * 10)
        url = self.resolve(media_id)[1]["url"]
        self.sim.request("DELETE", "/v25.0/" + media_id)
        self.assertEqual(self.download(url)[0], 404)

    def test_download_url__with_a_made_up_hash_or_media_id_is_404(self):
        media_id = self.uploaded(b"z" * 10)
        other = self.uploaded(b"w" * 10)
        url = self.resolve(media_id)[1]["url"]
        self.assertEqual(self.download(url.replace("hash=", "hash=0"))[0],
                         404)
        self.assertEqual(self.download(url.replace(media_id, other))[0],
                         404)
        self.assertEqual(self.download(url)[0], 200)


class TestUrlTtl(unittest.TestCase):
    """A simulator of its own with one-second download URLs."""

    def test_download_url__expires_after_the_ttl_and_a_new_lookup_works(
            self):
        d = tempfile.mkdtemp(prefix="glivi-sim-ttl-")
        self.addCleanup(shutil.rmtree, d, True)
        sim = S.Sim(d, R.make_certs(d), extra=["--media-url-ttl", "1"])
        sim.start()

        def stop():
            self.assertEqual(sim.stop(), 0, sim.read_log())
        self.addCleanup(stop)
        body, ctype = upload_body(b"ttl" * 100)
        status, doc = sim.request("POST", "/v25.0/%s/media" % R.MAIN, body,
                                  headers={"Content-Type": ctype})
        self.assertEqual(status, 200, doc)
        media_id = doc["id"]
        url = sim.request("GET", "/v25.0/" + media_id)[1]["url"]
        self.assertEqual(download(sim, url)[0], 200)
        R.wait_for(lambda: download(sim, url)[0] == 404, timeout=10,
                   what="the URL to expire")
        url2 = sim.request("GET", "/v25.0/" + media_id)[1]["url"]
        self.assertNotEqual(url, url2)
        status, _, got = download(sim, url2)
        self.assertEqual((status, got), (200, b"ttl" * 100))

    def test_media_url_ttl_option__refuses_bad_values(self):
        for bad in ("-1", "x", "86401", ""):
            r = subprocess.run([S.SIM, "serve", "--media-url-ttl", bad],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(b"--media-url-ttl", r.stderr)


class TestInjections(MediaCase):

    def test_media_url_expired__hands_out_a_dead_url_once(self):
        media_id = self.uploaded(b"e" * 50)
        self.sim.control("POST", "inject", {"error": "media_url_expired",
                                            "media_id": media_id})
        url = self.resolve(media_id)[1]["url"]
        self.assertEqual(self.download(url)[0], 404)
        url = self.resolve(media_id)[1]["url"]
        self.assertEqual(self.download(url)[0], 200)

    def test_media_wrong_sha256__advertises_a_wrong_digest_once(self):
        data = b"s" * 50
        media_id = self.uploaded(data)
        self.sim.control("POST", "inject", {"error": "media_wrong_sha256"})
        status, doc = self.resolve(media_id)
        self.assertEqual(status, 200)
        self.assertNotEqual(doc["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(len(doc["sha256"]), 64)
        # The bytes themselves are right.
        self.assertEqual(self.download(doc["url"])[2], data)
        self.assertEqual(self.resolve(media_id)[1]["sha256"],
                         hashlib.sha256(data).hexdigest())

    def test_media_download_error__answers_500_then_serves(self):
        media_id = self.uploaded(b"d" * 50)
        self.sim.control("POST", "inject", {"error": "media_download_error",
                                            "count": 2})
        url = self.resolve(media_id)[1]["url"]
        self.assertEqual(self.download(url)[0], 500)
        self.assertEqual(self.download(url)[0], 500)
        self.assertEqual(self.download(url)[0], 200)
        st = self.stats()
        self.assertEqual((st["media_downloads"],
                          st["media_downloads_refused"]), (1, 2), st)

    def test_upload_injections__transient_and_permanent(self):
        self.sim.control("POST", "inject", {"error": "server_error",
                                            "on": "upload"})
        self.sim.control("POST", "inject", {"error": "media_upload_error"})
        self.assertMetaError(self.upload(b"u" * 10), 500, 2)
        self.assertMetaError(self.upload(b"u" * 10), 400, 131053)
        self.uploaded(b"u" * 10)
        # A send is not an upload: injections for uploads leave it be.
        self.sim.control("POST", "inject", {"error": "http_429",
                                            "on": "upload"})
        to = S.customer()
        self.open_window(to)
        self.assertAccepted(self.sim.send(S.text(to)), to)
        self.assertEqual(self.stats()["injections_pending"], 1)
        self.assertMetaError(self.upload(b"u" * 10), 429, 4)

    def test_injection_combinations_that_mean_nothing__are_refused(self):
        for body in [
                {"error": "media_url_expired", "on": "download"},
                {"error": "media_upload_error", "on": "send"},
                {"error": "undeliverable", "on": "upload"},
                {"error": "window_closed", "on": "resolve"},
                {"error": "server_error", "on": "upload",
                 "recipient": "491700000"},
                {"error": "server_error", "media_id": "1"},
                {"error": "slow", "on": "everything"},
                {"error": "media_download_error", "media_id": 5}]:
            with self.subTest(body):
                status, doc = self.sim.request("POST", "/_sim/inject", body,
                                               token=None)
                self.assertEqual(status, 400, doc)
        self.assertEqual(self.stats()["injections_pending"], 0)


class TestCustomersMedia(MediaCase):

    def test_registered_file__is_sent_by_a_customer_and_downloadable(self):
        data = os.urandom(3000)
        status, reg = self.sim.request(
            "POST", "/_sim/media?filename=scan.pdf", data, token=None,
            headers={"Content-Type": "application/pdf"})
        self.assertEqual(status, 200, reg)
        self.assertEqual(reg["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(reg["sha256_base64"], base64.b64encode(
            hashlib.sha256(data).digest()).decode())
        self.assertEqual((reg["file_size"], reg["mime_type"],
                          reg["number"]), (3000, "application/pdf", R.MAIN))
        doc = self.sim.control("POST", "inbound", {
            "from": S.customer(), "type": "document",
            "media_id": reg["id"], "filename": "scan.pdf"})
        hook = self.receiver.wait(
            lambda h: doc["wamid"].encode() in h["body"], "it")[0]
        m = hook["json"]["entry"][0]["changes"][0]["value"]["messages"][0]
        self.assertEqual(m["document"]["id"], reg["id"])
        self.assertEqual(m["document"]["mime_type"], "application/pdf")
        self.assertEqual(m["document"]["sha256"], reg["sha256_base64"])
        status, info = self.resolve(reg["id"], "?phone_number_id=" + R.MAIN)
        self.assertEqual(status, 200, info)
        self.assertEqual(self.download(info["url"])[2], data)
        self.assertEqual(self.media(reg["id"])["origin"], "registered")

    def test_inbound_media_without_a_file__gets_generated_bytes(self):
        doc = self.sim.control("POST", "inbound", {
            "from": S.customer(), "type": "audio", "voice": True})
        hook = self.receiver.wait(
            lambda h: doc["wamid"].encode() in h["body"], "it")[0]
        a = hook["json"]["entry"][0]["changes"][0]["value"]["messages"][0][
            "audio"]
        info = self.resolve(a["id"])[1]
        self.assertEqual(info["mime_type"], "audio/ogg; codecs=opus")
        data = self.download(info["url"])[2]
        self.assertEqual(base64.b64encode(hashlib.sha256(data).digest())
                         .decode(), a["sha256"])

    def test_register_and_inbound_refuse_bad_requests(self):
        for path, body, ctype in [
                ("/_sim/media", b"x", None),
                ("/_sim/media", b"x", "not a type"),
                ("/_sim/media", b"", "image/png"),
                ("/_sim/media?number=1", b"x", "image/png")]:
            with self.subTest(path=path, ctype=ctype):
                h = {"Content-Type": ctype} if ctype else {
                    "Content-Type": ""}
                status, doc = self.sim.request("POST", path, body,
                                               token=None, headers=h)
                self.assertEqual(status, 400, doc)
        other = self.sim.request("POST", "/_sim/media?number=" + R.SECOND,
                                 b"x", token=None,
                                 headers={"Content-Type": "image/png"})[1]
        for body in [{"from": S.customer(), "type": "image",
                      "media_id": "404"},
                     {"from": S.customer(), "type": "image",
                      "media_id": other["id"]},
                     {"from": S.customer(), "type": "image",
                      "mime_type": "image/png\r\nX: y"}]:
            with self.subTest(body=body):
                status, doc = self.sim.request("POST", "/_sim/inbound", body,
                                               token=None)
                self.assertEqual(status, 400, doc)


class TestSendsByMediaId(MediaCase):

    def test_send_by_uploaded_id__is_recorded_with_the_id_it_names(self):
        to = S.customer()
        self.open_window(to)
        media_id = self.uploaded(b"p" * 99, mime="image/png")
        wamid = self.assertAccepted(self.sim.send({
            "messaging_product": "whatsapp", "to": to, "type": "image",
            "image": {"id": media_id, "caption": "here"}}), to)
        other = self.uploaded(b"q" * 99, number=R.SECOND)
        self.assertAccepted(self.sim.send({
            "messaging_product": "whatsapp", "to": to, "type": "image",
            "image": {"id": other}}), to)
        self.assertAccepted(self.sim.send({
            "messaging_product": "whatsapp", "to": to, "type": "document",
            "document": {"link": "https://example.com/x.pdf"}}), to)
        sent = self.sent()
        self.assertEqual(sent[0]["wamid"], wamid)
        self.assertEqual((sent[0]["media_id"], sent[0]["media_known"]),
                         (media_id, True))
        # Another number's upload is not this number's to send.
        self.assertEqual((sent[1]["media_id"], sent[1]["media_known"]),
                         (other, False))
        self.assertNotIn("media_id", sent[2])


if __name__ == "__main__":
    unittest.main()
