"""A loopback stand-in for the receivers of notifications (as ``connectors.sentinel.loopback``
is for Sentinel Hub): a generic webhook, a DingTalk/浙政钉 robot, a WeCom robot and an SMS
gateway on one local HTTP server, speaking their wire formats and checking their signatures.

Paths: ``/webhook`` (``X-Hub-Signature-256`` checked when a secret is set), ``/robot/send``
(DingTalk: ``timestamp`` and ``sign`` checked, answers ``errcode`` 310000 on a bad sign),
``/cgi-bin/webhook/send`` (WeCom: ``key`` required), ``/sms`` (``X-Signature`` over
``"<X-Timestamp>\\n<body>"`` checked). ``down`` makes every path answer 503; ``fail_next``
fails that many requests first. Every request is recorded with whether it was accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    accepted: bool


class LoopbackReceivers:
    def __init__(self, *, secret: str, wecom_key: str = "wecom-key") -> None:
        self.secret = secret
        self.wecom_key = wecom_key
        self.down = False
        self.fail_next = 0
        self.received: list[Received] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer = owner._handle(self.path, dict(self.headers.items()), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LoopbackReceivers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path and r.accepted]

    def _handle(self, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        parts = urllib.parse.urlsplit(target)
        query = dict(urllib.parse.parse_qsl(parts.query))
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            failing = self.down or self.fail_next > 0
            if self.fail_next > 0:
                self.fail_next -= 1
        if failing:
            status, answer, ok = 503, {"error": "unavailable"}, False
        else:
            status, answer, ok = self._answer(parts.path, query, lower, raw, body)
        with self._lock:
            self.received.append(Received(parts.path, query, lower, body, ok))
        return status, answer

    def _answer(
        self, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes, body: Any
    ) -> tuple[int, Any, bool]:
        if body is None:
            return 400, {"error": "not JSON"}, False
        if path == "/webhook":
            want = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(headers.get("x-hub-signature-256", ""), want)
            return (200, {"ok": True}, True) if ok else (401, {"error": "bad signature"}, False)
        if path == "/robot/send":
            ts, sign = query.get("timestamp", ""), query.get("sign", "")
            digest = hmac.new(
                self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256
            ).digest()
            ok = bool(ts) and hmac.compare_digest(sign, base64.b64encode(digest).decode())
            ok = ok and body.get("msgtype") == "text" and bool(body.get("text", {}).get("content"))
            if not ok:
                return 200, {"errcode": 310000, "errmsg": "sign not match"}, False
            return 200, {"errcode": 0, "errmsg": "ok"}, True
        if path == "/cgi-bin/webhook/send":
            if query.get("key") != self.wecom_key:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, False
            ok = body.get("msgtype") == "text" and bool(body.get("text", {}).get("content"))
            return 200, ({"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 40008}), ok
        if path == "/sms":
            ts = headers.get("x-timestamp", "")
            want = hmac.new(
                self.secret.encode(), ts.encode() + b"\n" + raw, hashlib.sha256
            ).hexdigest()
            ok = hmac.compare_digest(headers.get("x-signature", ""), want) and bool(body.get("to"))
            return (200, {"code": "OK"}, True) if ok else (401, {"code": "BAD_SIGNATURE"}, False)
        return 404, {"error": "no such path"}, False
