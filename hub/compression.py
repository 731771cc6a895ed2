"""gzip for large responses (a 924-project activity list is hundreds of KB of JSON that
compresses about tenfold), when the client's Accept-Encoding allows it. Never for event
streams (each event must reach the client when it is sent) nor WebSockets (not HTTP here),
never for partial (206) or bodiless answers.

A compressed response is another representation, so its strong ETag differs: ``"tag"``
becomes ``"tag-gzip"``. Incoming If-None-Match tags lose the suffix before the app compares
them, so the app (the GraphQL view, static files) only ever sees its own tags."""

from __future__ import annotations

import gzip
import zlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SUFFIX = "-gzip"
_LEVEL = 6  # zlib's default: most of level 9's ratio at a fraction of its CPU


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110 §12.5.3; ``*`` covers it)."""
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[name.lower()] = quality
    if "gzip" in qualities:
        return qualities["gzip"] > 0
    if "x-gzip" in qualities:
        return qualities["x-gzip"] > 0
    return qualities.get("*", 0.0) > 0


def _identity_tags(if_none_match: str) -> tuple[str, bool]:
    """If-None-Match with the gzip suffix taken off each tag; and whether any had it."""
    tags, suffixed = [], False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag.endswith(_SUFFIX + '"'):
            tag, suffixed = tag[: -len(_SUFFIX) - 1] + '"', True
        tags.append(tag)
    return ", ".join(tags), suffixed


def _gzip_tag(etag: str) -> str:
    return etag[:-1] + _SUFFIX + '"' if etag.endswith('"') else etag


class Compression:
    """ASGI middleware: gzip-compresses responses of at least ``minimum_size`` bytes."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        accepted = accepts_gzip(headers.get("accept-encoding", ""))
        suffixed = False
        if "if-none-match" in headers:
            tags, suffixed = _identity_tags(headers["if-none-match"])
            raw = [(k, v) for k, v in scope["headers"] if k.lower() != b"if-none-match"]
            scope = {**scope, "headers": [*raw, (b"if-none-match", tags.encode("latin-1"))]}
        responder = _Responder(send, accepted, self.minimum_size, suffixed)
        await self.app(scope, receive, responder)


class _Responder:
    def __init__(self, send: Send, accepted: bool, minimum_size: int, suffixed: bool) -> None:
        self.send = send
        self.accepted = accepted
        self.minimum_size = minimum_size
        self.suffixed = suffixed
        self.start: Message | None = None
        self.compressor: zlib._Compress | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        if self.start is not None:
            start, self.start = self.start, None
            await self._first(start, message)
            return
        await self._next(message)

    async def _first(self, start: Message, message: Message) -> None:
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        status = start["status"]
        content_type = headers.get("content-type", "")
        if status == 304:
            if self.suffixed and self.accepted and "etag" in headers:
                headers["etag"] = _gzip_tag(headers["etag"])
            await self._pass(start, headers, message)
            return
        eligible = (
            status == 200
            and "content-encoding" not in headers
            and content_type != ""
            and not content_type.startswith("text/event-stream")
        )
        if not eligible:
            await self._pass(start, headers, message)
            return
        headers.add_vary_header("Accept-Encoding")
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if not self.accepted or (not more and len(body) < self.minimum_size):
            await self._pass(start, headers, message)
            return
        headers["content-encoding"] = "gzip"
        if "etag" in headers:
            headers["etag"] = _gzip_tag(headers["etag"])
        if not more:
            # The whole body at once; mtime=0 keeps the bytes the same for the same body.
            compressed = gzip.compress(body, compresslevel=_LEVEL, mtime=0)
            headers["content-length"] = str(len(compressed))
            await self.send({**start, "headers": headers.raw})
            await self.send({**message, "body": compressed})
            return
        # A streamed body (a large static file): compressed as it comes, length unknown.
        del headers["content-length"]
        self.compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, 31)
        await self.send({**start, "headers": headers.raw})
        await self._next(message)

    async def _pass(self, start: Message, headers: MutableHeaders, message: Message) -> None:
        await self.send({**start, "headers": headers.raw})
        await self.send(message)

    async def _next(self, message: Message) -> None:
        if self.compressor is None:
            await self.send(message)
            return
        more = bool(message.get("more_body", False))
        chunk = self.compressor.compress(message.get("body", b""))
        if not more:
            chunk += self.compressor.flush()
        await self.send({**message, "body": chunk})
