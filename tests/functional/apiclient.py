"""Helpers shared by the agent API's functional tests: one request, an
SSE reader, the relay's routes table, and a text webhook stamped now.
"""
import itertools
import json
import os
import re
import socket
import ssl
import time
import urllib.parse

import relay as R

SERVER_C = os.path.join(R.SOURCE, "src", "relay", "server.c")
DEADLINE = 10.0
_serial = itertools.count(1)


def parse_routes(path=SERVER_C):
    """The relay's routes[] as (method, path, role, takes_json) tuples:
    takes_json is true for routes whose body is a JSON object (1), false
    for those with none (0) or a file streamed to disk (2)."""
    with open(path) as f:
        src = f.read()
    m = re.search(r"\broutes\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if m is None:
        raise AssertionError("no routes[] table in " + path)
    table = m.group(1)
    rows = re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*'
                      r'(ROLE_[A-Z]+)\s*,\s*([012])\s*,\s*\w+\s*\}', table)
    # Every row must have been understood: one match per role named.
    if len(rows) != len(re.findall(r"\bROLE_[A-Z]+\b", table)):
        raise AssertionError("routes[] has rows this parser missed:\n" +
                             table)
    return [(meth, p, role, takes == "1") for meth, p, role, takes in rows]


def api(r, token, method, path, body=None, headers=None, timeout=10):
    """One request on its own connection. Returns (status, headers with
    lower-case names, body: parsed JSON, raw bytes, or None for an event
    stream, which is closed unread)."""
    h = {}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    if body is not None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn = r.connection(timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        if hdrs.get("content-type", "").startswith("text/event-stream"):
            return resp.status, hdrs, None
        data = resp.read()
    finally:
        conn.close()
    if hdrs.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(data)
        except ValueError:
            pass
    return resp.status, hdrs, data


class Stream:
    """A client of GET /api/v1/events over a raw TLS socket: it parses the
    HTTP head, decodes the chunked body itself and splits it into
    server-sent events, so nothing is held back in a library's buffer.
    Every read has a deadline."""

    def __init__(self, r, token, since=None, last_event_id=None):
        path = "/api/v1/events"
        if since is not None:
            path += "?since=" + urllib.parse.quote(since, safe="")
        req = ("GET %s HTTP/1.1\r\nHost: localhost\r\n"
               "Accept: text/event-stream\r\n" % path)
        if token is not None:
            req += "Authorization: Bearer %s\r\n" % token
        if last_event_id is not None:
            req += "Last-Event-ID: %s\r\n" % last_event_id
        self.sock = r.raw_socket()
        self.raw = b""      # bytes received, not yet decoded
        self.body = b""     # decoded body bytes not yet split into lines
        self.chunk_left = None
        self.ended = False  # the terminating chunk arrived
        self.closed = False  # the peer closed the connection
        self.fields = {}
        self.retry = None
        self.sock.sendall(req.encode() + b"\r\n")
        end = time.monotonic() + DEADLINE
        while b"\r\n\r\n" not in self.raw:
            if not self._recv(end):
                raise AssertionError("stream closed before its head")
        head, _, self.raw = self.raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in self.headers.get(
            "transfer-encoding", "").lower()
        self.error = None
        if not self.chunked:
            n = int(self.headers.get("content-length", "0"))
            while len(self.raw) < n and self._recv(end):
                pass
            self.error = self.raw[:n]
            self.ended = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _recv(self, end):
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out reading the event stream")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError("timed out reading the event stream")
        except (ConnectionError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.raw += data
        return True

    def _decode(self):
        """Moves whole chunks' data from raw to body; False if it needs
        more bytes."""
        progress = False
        while not self.ended:
            if self.chunk_left is None:
                line, sep, rest = self.raw.partition(b"\r\n")
                if not sep:
                    return progress
                size = int(line.split(b";")[0], 16)
                self.raw = rest
                if size == 0:
                    self.ended = True
                    return True
                self.chunk_left = size
            if len(self.raw) < self.chunk_left + 2:
                # Hand on what is here: a chunk need not end a line.
                take = min(len(self.raw), self.chunk_left)
                if take:
                    self.body += self.raw[:take]
                    self.raw = self.raw[take:]
                    self.chunk_left -= take
                    progress = True
                return progress
            self.body += self.raw[:self.chunk_left]
            if self.raw[self.chunk_left:self.chunk_left + 2] != b"\r\n":
                raise AssertionError("bad chunk framing")
            self.raw = self.raw[self.chunk_left + 2:]
            self.chunk_left = None
            progress = True
        return progress

    def readline(self, end):
        """One line of the body (str, without its end), or None at its
        end."""
        while True:
            i = self.body.find(b"\n")
            if i >= 0:
                line, self.body = self.body[:i], self.body[i + 1:]
                return line.rstrip(b"\r").decode("utf-8")
            if self.ended:
                return None
            if not self._decode():
                if not self._recv(end):
                    return None

    def next(self, timeout=DEADLINE):
        """The next item: ("comment", text), ("event", {"event", "id",
        "data"}) or None when the stream ended."""
        end = time.monotonic() + timeout
        while True:
            line = self.readline(end)
            if line is None:
                return None
            if line.startswith(":"):
                return ("comment", line[1:].strip())
            if line == "":
                if "data" in self.fields or "event" in self.fields:
                    ev = {"event": self.fields.get("event", "message"),
                          "id": self.fields.get("id"),
                          "data": self.fields.get("data")}
                    self.fields = {}
                    return ("event", ev)
                self.fields = {}
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "retry":
                self.retry = int(value)
            elif name == "data" and "data" in self.fields:
                self.fields["data"] += "\n" + value
            else:
                self.fields[name] = value

    def until_end(self, timeout=DEADLINE):
        """Every event up to the end of the stream (which must come before
        the deadline)."""
        end = time.monotonic() + timeout
        events = []
        while True:
            item = self.next(max(0.0, end - time.monotonic()))
            if item is None:
                return events
            if item[0] == "event":
                events.append(item[1])

    def until(self, pred, timeout=DEADLINE):
        """Events up to and including the first for which pred is true."""
        end = time.monotonic() + timeout
        events = []
        while True:
            item = self.next(max(0.0, end - time.monotonic()))
            if item is None:
                raise AssertionError("stream ended; got %r" % events)
            if item[0] == "event":
                events.append(item[1])
                if pred(item[1]):
                    return events


def stop_relay(r):
    """Stops a relay with SIGTERM; it must exit 0 (an ASan build also
    reports leaks that way)."""
    try:
        rc = r.stop()
    finally:
        r.close()
    assert rc == 0, "the relay exited %s on SIGTERM" % rc


def text_webhook(wa_id, text="hello", ts=None, name="Customer"):
    """(body bytes, wamid): one inbound text message from wa_id to number
    MAIN, stamped now unless ts is given (the 24-hour window is open)."""
    wamid = "wamid.API-%d-%d-%d" % (os.getpid(), time.time_ns(),
                                    next(_serial))
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
                    "contacts": [{"profile": {"name": name},
                                  "wa_id": wa_id}],
                    "messages": [{"from": wa_id, "id": wamid,
                                  "timestamp": str(ts or int(time.time())),
                                  "type": "text", "text": {"body": text}}],
                },
            }],
        }],
    }
    return json.dumps(body).encode(), wamid
