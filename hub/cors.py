"""Cross-origin resource sharing (the Fetch standard's CORS protocol) for browser pages served
from another origin: a front-end on its own dev server, a console hosted elsewhere.

Unlike Starlette's CORSMiddleware, nothing CORS-related is sent to an origin that is not
allowed (no Allow-Methods on a refused preflight, no Expose-Headers on its responses): the
browser blocks the page, and a person reading the response with curl sees why in its body."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.settings import HttpSettings

# hub demo: a front-end dev server on any port of this machine (Vite's 5173, 3000, ...).
LOOPBACK_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"


@dataclass(frozen=True, slots=True)
class Policy:
    """Who may call from a browser page on another origin, and with what."""

    origins: frozenset[str]
    origin_regex: re.Pattern[str] | None
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age_s: int

    @classmethod
    def of(cls, http: HttpSettings) -> Policy:
        return cls(
            origins=frozenset(_split(http.cors_origins)),
            origin_regex=re.compile(http.cors_origin_regex) if http.cors_origin_regex else None,
            methods=tuple(m.upper() for m in _split(http.cors_methods)),
            headers=tuple(_split(http.cors_headers)),
            expose_headers=tuple(_split(http.cors_expose_headers)),
            max_age_s=http.cors_max_age_s,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.origins) or self.origin_regex is not None

    def allows(self, origin: str) -> bool:
        if "*" in self.origins or origin in self.origins:
            return True
        return self.origin_regex is not None and self.origin_regex.fullmatch(origin) is not None


class CORS:
    """ASGI middleware: answers preflights (OPTIONS with Access-Control-Request-Method) itself
    and adds Access-Control-Allow-Origin and -Expose-Headers to responses to allowed origins."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy
        self._allowed_headers = frozenset(h.lower() for h in policy.headers)
        # Safelisted request headers need no permission (Fetch standard, CORS-safelisted).
        self._allowed_headers |= {"accept", "accept-language", "content-language"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.policy.enabled:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers)(scope, receive, send)
            return
        allowed = origin is not None and self.policy.allows(origin)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Every answer varies by Origin once CORS is on: a cache must not hand one
                # origin's answer (with or without Allow-Origin) to another.
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                headers.add_vary_header("Origin")
                if allowed:
                    assert origin is not None
                    headers["Access-Control-Allow-Origin"] = origin
                    if self.policy.expose_headers:
                        exposed = ", ".join(self.policy.expose_headers)
                        headers["Access-Control-Expose-Headers"] = exposed
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, sending)

    def _preflight(self, origin: str | None, headers: Headers) -> Response:
        method = headers["access-control-request-method"].strip().upper()
        requested = [
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        refused: list[str] = []
        if origin is None or not self.policy.allows(origin):
            refused.append(f"origin {origin or '(none)'} is not allowed")
        if method not in self.policy.methods:
            refused.append(f"method {method} is not allowed")
        unknown = [h for h in requested if h not in self._allowed_headers]
        if unknown:
            refused.append(f"headers {', '.join(unknown)} are not allowed")
        if refused:
            # No CORS headers: the browser refuses the request.
            return PlainTextResponse(
                "CORS preflight refused: " + "; ".join(refused),
                status_code=403,
                headers={"Vary": "Origin"},
            )
        assert origin is not None
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ", ".join(self.policy.methods),
                "Access-Control-Allow-Headers": ", ".join(self.policy.headers),
                "Access-Control-Max-Age": str(self.policy.max_age_s),
                "Vary": "Origin",
            },
        )


def _split(value: str) -> Iterable[str]:
    return (part.strip() for part in value.split(",") if part.strip())
