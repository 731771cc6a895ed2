"""br or gzip for large responses (a 924-project activity list is hundreds of KB of JSON that
compresses more than tenfold), as the client's Accept-Encoding allows. Never for event streams
(each event must reach the client when it is sent) nor WebSockets (not HTTP here), never for
partial (206) or bodiless answers.

A compressed response is another representation, so its strong ETag differs: ``"tag"``
becomes ``"tag-br"`` or ``"tag-gzip"``. Incoming If-None-Match tags lose the suffix before the
app compares them, so the app (the GraphQL view, static files) only ever sees its own tags."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# zlib's default level, and brotli's 5: most of the best ratio for a fraction of the CPU
# (brotli's default, 11, is meant for static files compressed once).
_GZIP_LEVEL = 6
_BROTLI_QUALITY = 5


class _Stream:
    """Compresses a body that comes in chunks."""

    def __init__(self, compress: Callable[[bytes], bytes], finish: Callable[[], bytes]) -> None:
        self.compress = compress
        self.finish = finish


@dataclass(frozen=True, slots=True)
class Coding:
    name: str
    whole: Callable[[bytes], bytes]
    stream: Callable[[], _Stream]

    @property
    def suffix(self) -> str:
        return f"-{self.name}"


def _gzip_stream() -> _Stream:
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: the gzip container
    return _Stream(compressor.compress, compressor.flush)


def _brotli_stream() -> _Stream:
    compressor = brotli.Compressor(quality=_BROTLI_QUALITY)
    return _Stream(compressor.process, compressor.finish)


BROTLI = Coding(
    "br", lambda body: bytes(brotli.compress(body, quality=_BROTLI_QUALITY)), _brotli_stream
)
# mtime=0: the same body gives the same bytes.
GZIP = Coding(
    "gzip", lambda body: gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0), _gzip_stream
)
_CODINGS = (BROTLI, GZIP)  # our preference when the client weighs them equally


@lru_cache(maxsize=64)  # clients send a few distinct headers; parsed once each
def negotiate(accept_encoding: str) -> Coding | None:
    """The coding an Accept-Encoding header asks for (RFC 9110 §12.5.3; ``*`` covers both),
    the client's weight first, then br; None for identity."""
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
    best: tuple[float, Coding] | None = None
    for coding in _CODINGS:
        names = (coding.name, "x-gzip") if coding is GZIP else (coding.name,)
        quality = next((qualities[n] for n in names if n in qualities), qualities.get("*", 0.0))
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, coding)
    return best[1] if best else None


def _identity_tags(if_none_match: str) -> tuple[str, str]:
    """If-None-Match with the coding suffix taken off each tag; and the suffix it had."""
    tags, found = [], ""
    for tag in if_none_match.split(","):
        tag = tag.strip()
        for coding in _CODINGS:
            end = coding.suffix + '"'
            if tag.endswith(end):
                tag, found = tag[: -len(end)] + '"', coding.suffix
                break
        tags.append(tag)
    return ", ".join(tags), found


def _tagged(etag: str, suffix: str) -> str:
    return etag[:-1] + suffix + '"' if etag.endswith('"') else etag


class Compression:
    """ASGI middleware: compresses responses of at least ``minimum_size`` bytes."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        coding = negotiate(headers.get("accept-encoding", ""))
        suffix = ""
        if "if-none-match" in headers:
            tags, suffix = _identity_tags(headers["if-none-match"])
            raw = [(k, v) for k, v in scope["headers"] if k.lower() != b"if-none-match"]
            scope = {**scope, "headers": [*raw, (b"if-none-match", tags.encode("latin-1"))]}
        await self.app(scope, receive, _Responder(send, coding, self.minimum_size, suffix))


class _Responder:
    def __init__(self, send: Send, coding: Coding | None, minimum_size: int, suffix: str) -> None:
        self.send = send
        self.coding = coding
        self.minimum_size = minimum_size
        self.suffix = suffix  # of the tag the client revalidates
        self.start: Message | None = None
        self.stream: _Stream | None = None

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
            # Not modified: the representation the client holds, by the tag it sent.
            if self.suffix and "etag" in headers:
                headers["etag"] = _tagged(headers["etag"], self.suffix)
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
        coding = self.coding
        if coding is None or (not more and len(body) < self.minimum_size):
            await self._pass(start, headers, message)
            return
        headers["content-encoding"] = coding.name
        if "etag" in headers:
            headers["etag"] = _tagged(headers["etag"], coding.suffix)
        if not more:
            compressed = coding.whole(body)
            headers["content-length"] = str(len(compressed))
            await self.send({**start, "headers": headers.raw})
            await self.send({**message, "body": compressed})
            return
        # A streamed body (a large static file): compressed as it comes, length unknown.
        del headers["content-length"]
        self.stream = coding.stream()
        await self.send({**start, "headers": headers.raw})
        await self._next(message)

    async def _pass(self, start: Message, headers: MutableHeaders, message: Message) -> None:
        await self.send({**start, "headers": headers.raw})
        await self.send(message)

    async def _next(self, message: Message) -> None:
        if self.stream is None:
            await self.send(message)
            return
        chunk = self.stream.compress(message.get("body", b""))
        if not message.get("more_body", False):
            chunk += self.stream.finish()
        await self.send({**message, "body": chunk})
