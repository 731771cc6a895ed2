"""Notifications through ports: alerts and supervision cases reach people outside the console.

Channels (ports), each a wire format its receiver documents:

- **webhook**: a generic JSON POST of the notice; with a secret, ``X-Hub-Signature-256:
  sha256=<hex HMAC-SHA256 of the body>``.
- **dingtalk** (DingTalk and 浙政钉 custom robots): ``{"msgtype": "text", "text": {"content"}}``;
  with a secret the URL carries ``timestamp`` (ms) and ``sign`` = URL-encoded Base64 of
  HMAC-SHA256(secret, ``"<timestamp>\\n<secret>"``), as DingTalk documents; the answer's
  ``errcode`` must be 0.
- **wecom** (WeCom group robot): ``{"msgtype": "text", "text": {"content",
  "mentioned_mobile_list"}}`` to the robot's key URL (WeCom does not sign); ``errcode`` 0.
- **sms**: an SMS gateway port: ``{"to", "template", "params", "text"}`` with ``X-Timestamp``
  and ``X-Signature`` = hex HMAC-SHA256(secret, ``"<timestamp>\\n<body>"``); any 2xx is taken.

Rules choose, by severity, region (the alert's region or any above it) and type, which channels
a notice goes to. Every notice is first written to an **outbox** (SQLite, in the data
directory), then delivered; a failed delivery is retried with exponential back-off
(``backoff_s`` × 2^(attempt-1)), and after ``max_attempts`` it is **dead-lettered**, kept with
its last error: nothing is lost. Delivery reads an injected clock, so tests move time instead of
sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import sqlite3
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from graph_schema.errors import InvalidInput
from hub import texts
from hub.clock import Clock, system_clock
from hub.monitoring.alerts import AlertEvent, Change

log = logging.getLogger(__name__)


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    DINGTALK = "dingtalk"
    WECOM = "wecom"
    SMS = "sms"


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    kind: ChannelKind
    url: str
    secret: str | None = None
    phones: tuple[str, ...] = ()  # SMS recipients; mentions on DingTalk and WeCom

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Channel:
        try:
            kind = ChannelKind(str(raw["kind"]))
            url = str(raw["url"])
            name = str(raw["name"])
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"notification channel: {exc}") from None
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"notification channel {name}: url must be http(s)")
        return cls(name, kind, url, raw.get("secret"), tuple(raw.get("phones") or ()))


@dataclass(frozen=True, slots=True)
class Rule:
    """Notices whose severity, region (chain) and type match go to ``channels``; an empty
    criterion matches everything."""

    channels: tuple[str, ...]
    severities: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Rule:
        return cls(
            tuple(raw.get("channels") or ()),
            frozenset(raw.get("severities") or ()),
            frozenset(raw.get("regions") or ()),
            frozenset(raw.get("types") or ()),
        )

    def matches(self, notice: Notice) -> bool:
        return (
            (not self.severities or notice.severity in self.severities)
            and (not self.regions or bool(self.regions & set(notice.regions)))
            and (not self.types or notice.type in self.types)
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """What goes out: a code and its parameters, rendered (zh) for people."""

    key: str  # what it is about and what happened: one notice per key and channel
    type: str
    severity: str
    regions: tuple[str, ...]
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return texts.render(self.code, self.params, texts.Lang.ZH)

    def body(self) -> dict[str, Any]:
        return {
            "key": self.key, "type": self.type, "severity": self.severity,
            "regions": list(self.regions), "code": self.code, "params": dict(self.params),
            "text": self.text,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    headers: dict[str, str]
    body: bytes


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: Base64(HMAC-SHA256(secret, "<ts>\\n<secret>")), URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def build(channel: Channel, notice: Mapping[str, Any], now: dt.datetime) -> Request:
    """The HTTP request of ``notice`` (its ``body()``) on ``channel``, signed as of ``now``."""
    text = str(notice["text"])
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = channel.url
    if channel.kind is ChannelKind.WEBHOOK:
        body = json.dumps(dict(notice), ensure_ascii=False).encode()
        if channel.secret:
            mac = hmac.new(channel.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={mac}"
    elif channel.kind is ChannelKind.DINGTALK:
        payload: dict[str, Any] = {"msgtype": "text", "text": {"content": text}}
        if channel.phones:
            payload["at"] = {"atMobiles": list(channel.phones), "isAtAll": False}
        body = json.dumps(payload, ensure_ascii=False).encode()
        if channel.secret:
            ts = int(now.timestamp() * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(channel.secret, ts)}"
    elif channel.kind is ChannelKind.WECOM:
        content: dict[str, Any] = {"content": text}
        if channel.phones:
            content["mentioned_mobile_list"] = list(channel.phones)
        body = json.dumps({"msgtype": "text", "text": content}, ensure_ascii=False).encode()
    else:
        payload = {"to": list(channel.phones), "template": notice["code"],
                   "params": notice["params"], "text": text}  # fmt: skip
        body = json.dumps(payload, ensure_ascii=False).encode()
        stamp = str(int(now.timestamp()))
        headers["X-Timestamp"] = stamp
        if channel.secret:
            headers["X-Signature"] = hmac.new(
                channel.secret.encode(), stamp.encode() + b"\n" + body, hashlib.sha256
            ).hexdigest()
    return Request(url, headers, body)


def _accepted(channel: Channel, response: httpx.Response) -> str | None:
    """None when the receiver took it; else why not."""
    if response.status_code >= 300:
        return f"HTTP {response.status_code}"
    if channel.kind in (ChannelKind.DINGTALK, ChannelKind.WECOM):
        try:
            answer = response.json()
        except ValueError:
            return "answer is not JSON"
        if answer.get("errcode") != 0:
            return f"errcode {answer.get('errcode')}: {answer.get('errmsg')}"
    return None


# --- the outbox -------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  key TEXT NOT NULL,
  notice TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, dead
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL,
  created_at REAL NOT NULL,
  sent_at REAL,
  last_error TEXT,
  UNIQUE (channel, key)
)
"""


_COLUMNS = "SELECT id, channel, key, notice, status, attempts, next_at, last_error FROM outbox "
_SELECT = {
    "due": _COLUMNS + "WHERE status = 'pending' AND next_at <= ? ORDER BY id",
    "all": _COLUMNS + "ORDER BY id",
    "status": _COLUMNS + "WHERE status = ? ORDER BY id",
}


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    channel: str
    key: str
    notice: dict[str, Any]
    status: str
    attempts: int
    next_at: dt.datetime
    last_error: str | None


class Outbox:
    """Notices waiting, sent and dead, in one SQLite file: written before any delivery."""

    def __init__(self, path: Path | str) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def put(self, channel: str, notice: Notice, now: dt.datetime) -> bool:
        """Queue ``notice`` for ``channel``; False when that key was queued already."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO outbox (channel, key, notice, next_at, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (channel, notice.key, json.dumps(notice.body(), ensure_ascii=False),
             now.timestamp(), now.timestamp()),
        )  # fmt: skip
        return cur.rowcount == 1

    def _entries(self, which: str, args: Sequence[Any]) -> list[Entry]:
        rows = self.conn.execute(_SELECT[which], tuple(args)).fetchall()
        return [
            Entry(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5],
                  dt.datetime.fromtimestamp(r[6], dt.UTC), r[7])
            for r in rows
        ]  # fmt: skip

    def due(self, now: dt.datetime) -> list[Entry]:
        return self._entries("due", (now.timestamp(),))

    def entries(self, status: str | None = None) -> list[Entry]:
        if status is None:
            return self._entries("all", ())
        return self._entries("status", (status,))

    def sent(self, entry_id: int, now: dt.datetime) -> None:
        self.conn.execute(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
            "last_error = NULL WHERE id = ?",
            (now.timestamp(), entry_id),
        )

    def failed(self, entry_id: int, error: str, next_at: dt.datetime | None) -> None:
        """Another failed attempt: retry at ``next_at``, or dead when None."""
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
            "status = CASE WHEN ? IS NULL THEN 'dead' ELSE 'pending' END, "
            "next_at = COALESCE(?, next_at) WHERE id = ?",
            (error[:500], ts := next_at.timestamp() if next_at else None, ts, entry_id),
        )

    def retry_dead(self, now: dt.datetime) -> int:
        """Put dead letters back in the queue (after the receiver is fixed)."""
        cur = self.conn.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_at = ? WHERE status = 'dead'",
            (now.timestamp(),),
        )
        return cur.rowcount


# --- the notifier -----------------------------------------------------------------------------


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    dead: int = 0


class Notifier:
    def __init__(
        self,
        channels: Iterable[Channel],
        rules: Iterable[Rule],
        outbox: Outbox,
        *,
        clock: Clock = system_clock,
        max_attempts: int = 5,
        backoff_s: float = 30.0,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.channels = {c.name: c for c in channels}
        self.rules = list(rules)
        unknown = {n for r in self.rules for n in r.channels} - set(self.channels)
        if unknown:
            raise InvalidInput(f"notification rules name unknown channels: {sorted(unknown)}")
        if max_attempts < 1:
            raise InvalidInput("max_attempts: at least 1")
        self.outbox = outbox
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], outbox: Outbox, **kwargs: Any) -> Notifier:
        """``{"channels": [{name, kind, url, secret?, phones?}], "rules": [{channels,
        severities?, regions?, types?}], "max_attempts"?, "backoff_s"?}``."""
        return cls(
            [Channel.of(c) for c in config.get("channels") or ()],
            [Rule.of(r) for r in config.get("rules") or ()],
            outbox,
            max_attempts=int(config.get("max_attempts", 5)),
            backoff_s=float(config.get("backoff_s", 30.0)),
            **kwargs,
        )

    async def close(self) -> None:
        await self.client.aclose()

    def route(self, notice: Notice) -> list[str]:
        names: list[str] = []
        for rule in self.rules:
            if rule.matches(notice):
                names += [n for n in rule.channels if n not in names]
        return names

    def enqueue(self, notice: Notice) -> list[str]:
        """Write the notice to the outbox for every channel its rules choose."""
        now = self.clock()
        return [n for n in self.route(notice) if self.outbox.put(n, notice, now)]

    def on_alert(self, event: AlertEvent) -> list[str]:
        """A raised alert is news; acknowledgements and clears stay in the console."""
        if event.change is not Change.RAISED:
            return []
        a = event.alert
        notice = Notice(
            key=f"alert:{a.id}:raised", type=a.type.value, severity=a.severity.value,
            regions=a.regions, code=a.code or a.type.value, params=a.params,
        )  # fmt: skip
        return self.enqueue(notice)

    def on_case(self, case: Any, event: Any) -> list[str]:
        """Supervision transitions people must hear of: opened, escalated, replied, closed,
        reopened (``hub.monitoring.supervision.Case`` and ``Event``)."""
        action = str(event.action.value)
        if action not in ("OPENED", "ESCALATED", "REPLIED", "CLOSED", "REOPENED"):
            return []
        notice = Notice(
            key=f"case:{case.id}:{len(case.events)}:{action}", type=case.alert_type,
            severity=case.alert_severity, regions=case.regions, code=f"CASE_{action}",
            params={"project": case.project_code or "", "unit": case.unit,
                    "person": case.person, "level": case.level,
                    "deadline": case.deadline.astimezone(dt.UTC).date().isoformat()},
        )  # fmt: skip
        return self.enqueue(notice)

    async def deliver_due(self) -> Report:
        """Send what is due; a failure is retried later, or dead after ``max_attempts``."""
        report = Report()
        now = self.clock()
        for entry in self.outbox.due(now):
            channel = self.channels.get(entry.channel)
            if channel is None:
                self.outbox.failed(entry.id, f"no channel {entry.channel}", None)
                report.dead += 1
                continue
            request = build(channel, entry.notice, now)
            try:
                response = await self.client.post(
                    request.url, content=request.body, headers=request.headers
                )
                error = _accepted(channel, response)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                self.outbox.sent(entry.id, now)
                report.sent += 1
                continue
            attempt = entry.attempts + 1
            if attempt >= self.max_attempts:
                self.outbox.failed(entry.id, error, None)
                report.dead += 1
                log.warning("notification %s to %s dead after %d attempts: %s",
                            entry.key, entry.channel, attempt, error)  # fmt: skip
            else:
                wait = self.backoff_s * 2 ** (attempt - 1)
                self.outbox.failed(entry.id, error, now + dt.timedelta(seconds=wait))
                report.retried += 1
        return report

    async def run(self, interval_s: float = 5.0) -> None:
        """Deliver until cancelled."""
        while True:
            with contextlib.suppress(sqlite3.Error):
                await self.deliver_due()
            await asyncio.sleep(interval_s)


def start_notifier(settings: Any, watch: Any, telemetry: Any) -> Notifier | None:
    """``HUB_ALERTS_NOTIFY_CONFIG``: notify raised alerts and supervision transitions, as
    background tasks of the telemetry runtime (``hub.app.start_watch``)."""
    path = settings.alerts.notify_config
    if path is None:
        return None
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"HUB_ALERTS_NOTIFY_CONFIG {path}: {exc}") from None
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    outbox = Outbox(Path(settings.data_dir) / "notify-outbox.db")
    notifier = Notifier.from_config(config, outbox, clock=watch.clock)

    async def on_case(case: Any, event: Any) -> None:
        notifier.on_case(case, event)

    watch.supervision.on_change.append(on_case)

    async def follow() -> None:
        async with watch.feed.subscribe() as sub:
            async for event in sub:
                notifier.on_alert(event)

    telemetry.start("notify-alerts", follow())
    telemetry.start("notify", notifier.run())
    log.info("notifications: %d channels, %d rules, outbox %s",
             len(notifier.channels), len(notifier.rules), outbox)  # fmt: skip
    return notifier
