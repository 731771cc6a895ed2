"""Alerts: ThingsBoard's lifecycle, one active alert per (type, subject), and a live feed.

An alert is raised for a *subject* (a sensor id, a project code, a land node key) and a
*type*; while its condition holds it stays ACTIVE (UNACK until someone acknowledges it), and
when the condition ends it is CLEARED (automatically, or by a person). So the four states are
ACTIVE_UNACK, ACTIVE_ACK, CLEARED_UNACK and CLEARED_ACK, each change recording who and when.

Exactly one active alert per (type, subject): raising is a ``MERGE`` on the active key
(``graph_schema.statements.alerts``), unique in the graph, so concurrent triggers — two commits, the
scheduled check and a reading — all land on the same node and only the first one reports
``created``. A raise that finds the alert active refreshes its severity, message and details
and counts the occurrence, without an event.

Every state change is published on the ``AlertFeed`` (GraphQL ``alertFeed``) and, when the hub
has an MQTT link, republished to ``hub/v1/events/alerts/<region>/<type>``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graph_schema.errors import InvalidInput, NotFound
from graph_schema.statements import alerts as ga
from graph_schema.store import GraphStore
from hub import texts
from hub.projects.financing import RegionTree
from ingest.bus import BoundedQueue

log = logging.getLogger(__name__)

EVENTS_TOPIC = "hub/v1/events/alerts"


class AlertType(StrEnum):
    FEED_STALE = "FEED_STALE"
    PROJECT_IDLE = "PROJECT_IDLE"
    VERIFICATION_MISMATCH = "VERIFICATION_MISMATCH"
    CAMERA_HEALTH = "CAMERA_HEALTH"
    SATELLITE_CHANGE = "SATELLITE_CHANGE"
    LAND_NODE_OVERDUE = "LAND_NODE_OVERDUE"


class Severity(StrEnum):
    """ThingsBoard's severities, most severe first."""

    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"


class Status(StrEnum):
    ACTIVE_UNACK = "ACTIVE_UNACK"
    ACTIVE_ACK = "ACTIVE_ACK"
    CLEARED_UNACK = "CLEARED_UNACK"
    CLEARED_ACK = "CLEARED_ACK"

    @property
    def active(self) -> bool:
        return self in (Status.ACTIVE_UNACK, Status.ACTIVE_ACK)


class Change(StrEnum):
    """What happened to an alert, as the feed reports it."""

    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


def active_key(kind: AlertType, subject: str) -> str:
    return f"{kind.value}|{subject}"


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition that holds now: what a check or a reading wants raised."""

    type: AlertType
    subject: str
    severity: Severity
    message: str
    project_code: str | None = None
    sensor_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    # The message as data (hub.texts): a stable code (default: the type) and its parameters.
    code: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    type: AlertType
    subject: str
    severity: Severity
    status: Status
    message: str
    project_code: str | None
    region_code: str | None
    regions: tuple[str, ...]
    sensor_id: str | None
    details: dict[str, Any]
    raised_at: dt.datetime
    updated_at: dt.datetime
    occurrences: int
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    cleared_at: dt.datetime | None
    cleared_by: str | None
    clear_reason: str | None
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: texts.Lang = texts.DEFAULT) -> str:
        """The message in ``lang`` from code and parameters (alerts stored before texts were
        data keep their stored message)."""
        if not self.code:
            return self.message
        return texts.render(self.code, self.params, lang)

    @classmethod
    def of(cls, p: Mapping[str, Any]) -> Alert:
        return cls(
            id=str(p["id"]),
            type=AlertType(p["type"]),
            subject=str(p["subject"]),
            severity=Severity(p["severity"]),
            status=Status(p["status"]),
            message=str(p["message"]),
            project_code=p.get("project_code"),
            region_code=p.get("region_code"),
            regions=tuple(p.get("regions") or ()),
            sensor_id=p.get("sensor_id"),
            details=json.loads(p.get("details") or "{}"),
            raised_at=_time(p["raised_at"]),
            updated_at=_time(p["updated_at"]),
            occurrences=int(p.get("occurrences") or 1),
            acknowledged_at=_opt_time(p.get("acknowledged_at")),
            acknowledged_by=p.get("acknowledged_by"),
            cleared_at=_opt_time(p.get("cleared_at")),
            cleared_by=p.get("cleared_by"),
            clear_reason=p.get("clear_reason"),
            code=str(p.get("code") or ""),
            params=json.loads(p.get("params") or "{}"),
        )


@dataclass(frozen=True, slots=True)
class AlertEvent:
    change: Change
    alert: Alert


def stamp(moment: dt.datetime) -> str:
    """The stored form of a time: UTC, microseconds, so strings sort as times."""
    if moment.tzinfo is None:
        raise ValueError("alert times carry an offset")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _opt_time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


# --- the live feed -------------------------------------------------------------------------


class AlertSubscription(BoundedQueue[AlertEvent]):
    """Alert events for one client (of one region, when given), with a bounded queue."""

    def __init__(self, feed: AlertFeed, region: str | None, maxsize: int) -> None:
        super().__init__(maxsize, feed.remove)  # type: ignore[arg-type]
        self.region = region

    def offer(self, event: AlertEvent) -> None:
        if self.region is None or self.region in event.alert.regions:
            self.put(event)


class AlertFeed:
    """Fan-out of alert changes to subscribers and to an optional MQTT publisher."""

    def __init__(self, *, queue: int = 1000) -> None:
        self._subscribers: list[AlertSubscription] = []
        self._queue = queue
        self.publisher: Callable[[str, bytes], None] | None = None
        self.published = 0

    def subscribe(self, region: str | None = None) -> AlertSubscription:
        sub = AlertSubscription(self, region, self._queue)
        self._subscribers.append(sub)
        return sub

    def remove(self, sub: AlertSubscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, events: Iterable[AlertEvent]) -> None:
        for event in events:
            self.deliver(event)
            if self.publisher is not None:
                try:
                    self.publisher(*event_message(event))
                except (OSError, ValueError, RuntimeError) as exc:  # a broker hiccup, not ours
                    log.warning("alert republish failed: %s", exc)

    def deliver(self, event: AlertEvent) -> None:
        """To this hub's subscribers only: for changes another hub made and MQTT relayed."""
        self.published += 1
        for sub in list(self._subscribers):
            sub.offer(event)

    def close(self) -> None:
        for sub in list(self._subscribers):
            sub.close()


def event_message(event: AlertEvent) -> tuple[str, bytes]:
    """MQTT topic and JSON body of an alert change: ``hub/v1/events/alerts/<region>/<type>``."""
    a = event.alert
    topic = f"{EVENTS_TOPIC}/{a.region_code or 'none'}/{a.type.value}"
    body = {
        "type": "alert",
        "change": event.change.value,
        "id": a.id,
        "alert_type": a.type.value,
        "subject": a.subject,
        "severity": a.severity.value,
        "status": a.status.value,
        "message": a.message,
        "code": a.code,
        "params": a.params,
        "project_code": a.project_code,
        "regions": list(a.regions),
        "raised_at": a.raised_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
    }
    return topic, json.dumps(body, ensure_ascii=False).encode()


# --- the service ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertFilter:
    region: str | None = None
    types: tuple[AlertType, ...] | None = None
    severities: tuple[Severity, ...] | None = None
    statuses: tuple[Status, ...] | None = None
    project_code: str | None = None
    subject: str | None = None
    since: dt.datetime | None = None
    projects: tuple[str, ...] | None = None  # only these projects' alerts (the stage filter)
    # OR: any of these holds as well (an empty tuple matches nothing); NOT: this one does not.
    any_of: tuple[AlertFilter, ...] | None = None
    none_of: AlertFilter | None = None

    def _own(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "types": [t.value for t in self.types] if self.types is not None else None,
            "severities": [s.value for s in self.severities] if self.severities else None,
            "statuses": [s.value for s in self.statuses] if self.statuses is not None else None,
            "project": self.project_code,
            "projects": list(self.projects) if self.projects is not None else None,
            "subject": self.subject,
            "since": stamp(self.since) if self.since is not None else None,
        }

    def shape(self) -> ga.Shape:
        """The statement shape of this filter (``graph_schema.statements.alerts.Shape``)."""
        names = tuple(sorted(k for k, v in self._own().items() if v is not None))
        return (
            names,
            tuple(f.shape() for f in self.any_of) if self.any_of is not None else None,
            self.none_of.shape() if self.none_of is not None else None,
        )

    def params(self, prefix: str = "") -> dict[str, Any]:
        """The statement parameters: every filter at the top, the set ones below it."""
        own = self._own()
        out = {f"{prefix}{k}": v for k, v in own.items() if not prefix or v is not None}
        for i, alt in enumerate(self.any_of or ()):
            out |= alt.params(f"{prefix}or{i}_")
        if self.none_of is not None:
            out |= self.none_of.params(f"{prefix}not_")
        return out


class Alerts:
    """Raises, clears and acknowledges alerts in the graph and publishes every change.

    ``regions`` gives a project's region chain (``RegionTree``); ``project_regions`` maps a
    project to its own region. Both are refreshed by whoever owns the service (``Watch``).
    """

    def __init__(self, store: GraphStore, feed: AlertFeed) -> None:
        self.store = store
        self.feed = feed
        self.tree = RegionTree([])
        self.project_regions: dict[str, str | None] = {}

    def _regions(self, project_code: str | None) -> tuple[str | None, tuple[str, ...]]:
        region = self.project_regions.get(project_code) if project_code else None
        return region, self.tree.up(region)

    async def raise_all(self, findings: Sequence[Finding], now: dt.datetime) -> list[AlertEvent]:
        """Raise (or refresh) one alert per finding; report the alerts this call opened or
        whose severity or message changed."""
        if not findings:
            return []
        at = stamp(now)
        rows = []
        for f in findings:
            region, regions = self._regions(f.project_code)
            common = {
                "severity": f.severity.value,
                "message": f.message,
                "details": json.dumps(dict(f.details), ensure_ascii=False, default=str),
                "code": f.code or f.type.value,
                "params": json.dumps(dict(f.params), ensure_ascii=False, default=str),
                "updated_at": at,
            }
            rows.append(
                {
                    "active_key": active_key(f.type, f.subject),
                    "create": {
                        **common,
                        "id": uuid.uuid4().hex,
                        "type": f.type.value,
                        "subject": f.subject,
                        "status": Status.ACTIVE_UNACK.value,
                        "project_code": f.project_code,
                        "region_code": region,
                        "regions": list(regions),
                        "sensor_id": f.sensor_id,
                        "raised_at": at,
                    },
                    "update": common,
                }
            )
        result = await self.store.run(ga.RAISE, {"rows": rows})
        # A raise that found its alert active refreshed it quietly (severity, message,
        # details, occurrences); only the one that opened it is news.
        events = [AlertEvent(Change.RAISED, Alert.of(r["props"])) for r in result if r["created"]]
        self.feed.publish(events)
        return events

    async def raise_one(self, finding: Finding, now: dt.datetime) -> Alert:
        await self.raise_all([finding], now)
        rows = await self.list(
            AlertFilter(
                types=(finding.type,),
                subject=finding.subject,
                statuses=(Status.ACTIVE_UNACK, Status.ACTIVE_ACK),
            ),
            limit=1,
        )
        return rows[0]

    async def clear_keys(
        self, keys: Sequence[str], now: dt.datetime, reason: str
    ) -> list[AlertEvent]:
        """Auto-clear: the conditions behind these active keys have ended."""
        if not keys:
            return []
        rows = await self.store.run(
            ga.CLEAR_KEYS, {"keys": list(keys), "at": stamp(now), "reason": reason}
        )
        events = [AlertEvent(Change.CLEARED, Alert.of(r["props"])) for r in rows]
        self.feed.publish(events)
        return events

    async def reconcile(
        self,
        kind: AlertType,
        findings: Sequence[Finding],
        now: dt.datetime,
        *,
        subjects: Iterable[str] | None = None,
        reason: str = "condition ended",
    ) -> tuple[list[AlertEvent], list[AlertEvent]]:
        """Raise every finding of ``kind`` and clear its active alerts not found any more.
        With ``subjects``, only those subjects were checked: others are left alone."""
        assert all(f.type is kind for f in findings)
        raised = await self.raise_all(findings, now)
        found = {f.subject for f in findings}
        scope = set(subjects) if subjects is not None else None
        active = await self.store.run(ga.ACTIVE_OF_TYPE, {"type": kind.value})
        ended = [
            str(r["key"])
            for r in active
            if r["subject"] not in found and (scope is None or r["subject"] in scope)
        ]
        cleared = await self.clear_keys(ended, now, reason)
        return raised, cleared

    async def active_subjects(self, kind: AlertType) -> set[str]:
        rows = await self.store.run(ga.ACTIVE_OF_TYPE, {"type": kind.value})
        return {str(r["subject"]) for r in rows}

    async def get(self, alert_id: str) -> Alert:
        rows = await self.store.run(ga.BY_ID, {"ids": [alert_id]})
        if not rows:
            raise NotFound(f"no alert {alert_id[:80]!r}")
        return Alert.of(rows[0]["props"])

    async def acknowledge(self, alert_id: str, by: str, now: dt.datetime) -> Alert:
        """ACTIVE_UNACK → ACTIVE_ACK, CLEARED_UNACK → CLEARED_ACK; already acknowledged:
        unchanged (the first acknowledgement's who and when stay)."""
        rows = await self.store.run(ga.ACKNOWLEDGE, {"id": alert_id, "by": by, "at": stamp(now)})
        if not rows:
            return await self.get(alert_id)
        alert = Alert.of(rows[0]["props"])
        self.feed.publish([AlertEvent(Change.ACKNOWLEDGED, alert)])
        return alert

    async def clear(self, alert_id: str, by: str, now: dt.datetime) -> Alert:
        """A person clears an active alert; a cleared one stays as it is."""
        rows = await self.store.run(
            ga.CLEAR_ONE,
            {"id": alert_id, "by": by, "at": stamp(now), "reason": "cleared by hand"},
        )
        if not rows:
            return await self.get(alert_id)
        alert = Alert.of(rows[0]["props"])
        self.feed.publish([AlertEvent(Change.CLEARED, alert)])
        return alert

    async def list(
        self,
        where: AlertFilter,
        *,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> list[Alert]:
        """Newest first, after the keyset cursor (raised_at, id)."""
        rows = await self.page(where, limit=limit, after=after)
        return [alert for alert, _ in rows]

    async def page(
        self,
        where: AlertFilter,
        *,
        limit: int,
        sort: str = "raised_at",
        descending: bool = True,
        after: tuple[Any, str] | None = None,
    ) -> Sequence[tuple[Alert, Any]]:
        """Alerts in the order of ``sort`` (a name of ``SORT_VALUES``; ties on the id), after
        the keyset cursor (value, id); each with the value it was ordered on."""
        if not 0 < limit <= 1001:
            raise InvalidInput("alerts: page size between 1 and 1000")
        if sort not in ga.SORT_VALUES:
            raise InvalidInput(f"alerts: no order {sort!r}")
        statement = ga.page(sort, descending, where.shape())
        params = where.params() | {
            "limit": limit,
            "after_v": after[0] if after else None,
            "after_id": after[1] if after else None,
        }
        rows = await self.store.run(statement, params)
        return [(Alert.of(r["props"]), r["v"]) for r in rows]

    async def count(self, where: AlertFilter) -> int:
        rows = await self.store.run(ga.count(where.shape()), where.params())
        return int(rows[0]["n"]) if rows else 0

    async def counts(self, where: AlertFilter) -> dict[str, dict[str, int]]:
        """Matching alerts counted by severity, type and own region (None as "none")."""
        out: dict[str, dict[str, int]] = {"severity": {}, "type": {}, "region": {}}
        for r in await self.store.run(ga.groups(where.shape()), where.params()):
            n = int(r["n"])
            for key in out:
                name = str(r[key] or "none")
                out[key][name] = out[key].get(name, 0) + n
        return out


__all__ = [
    "Alert",
    "AlertEvent",
    "AlertFeed",
    "AlertFilter",
    "AlertType",
    "Alerts",
    "Change",
    "Finding",
    "Severity",
    "Status",
    "active_key",
]
