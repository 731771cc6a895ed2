"""Supervision (督办): an alert becomes a case someone must answer for.

A case is opened from an alert, at the level of the alert's own region (a county project's
case starts with the county), with a responsible unit and person and a reply deadline. The
unit comments and sends a rectification reply (整改回复) with attachments; the supervisor closes
the case, or reopens it (a new deadline) when the reply does not hold. An open case past its
deadline escalates on its own, one level a round, county → city → province (三级协调), each
level with a fresh deadline; at the province it stays overdue. Every transition records when,
who and what, in order (``Case.events``).

States: OPEN (waiting for the reply) → REPLIED → CLOSED; REPLIED or CLOSED → OPEN (reopen).
Overdue: OPEN and past the deadline. The problem ledger counts cases per region and per
project by state and overdue.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graph_schema.errors import HubError, InvalidInput, NotFound
from graph_schema.statements import supervision as gs
from graph_schema.store import GraphStore
from hub.monitoring.alerts import Alert, stamp

SYSTEM = "system:escalation"


class Conflict(HubError):
    """The case is not in a state that allows this, or it already exists."""

    code = "CONFLICT"


# Days to reply, by the level the case is at (a higher level answers faster).
REPLY_DAYS: Mapping[str, int] = {"county": 5, "city": 3, "province": 2}
MAX_TEXT = 2000
MAX_ATTACHMENTS = 20


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    REPLIED = "REPLIED"
    CLOSED = "CLOSED"


class Action(StrEnum):
    OPENED = "OPENED"
    ASSIGNED = "ASSIGNED"
    COMMENTED = "COMMENTED"
    REPLIED = "REPLIED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"
    ESCALATED = "ESCALATED"


@dataclass(frozen=True, slots=True)
class Event:
    at: dt.datetime
    by: str
    action: Action
    status: CaseStatus  # the state it led to
    level: str
    note: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def dump(self) -> dict[str, Any]:
        return {
            "at": stamp(self.at), "by": self.by, "action": self.action.value,
            "status": self.status.value, "level": self.level, "note": self.note,
            "params": dict(self.params),
        }  # fmt: skip

    @classmethod
    def load(cls, row: Mapping[str, Any]) -> Event:
        return cls(
            at=dt.datetime.fromisoformat(row["at"]), by=str(row["by"]),
            action=Action(row["action"]), status=CaseStatus(row["status"]),
            level=str(row["level"]), note=row.get("note"), params=row.get("params") or {},
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    url: str
    sha256: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    alert_id: str
    alert_type: str
    alert_severity: str
    project_code: str | None
    regions: tuple[str, ...]
    chain: tuple[str, ...]  # the regions it can escalate through, own level first
    level: str
    level_region: str | None
    status: CaseStatus
    unit: str
    person: str
    deadline: dt.datetime
    opened_at: dt.datetime
    opened_by: str
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    escalations: int
    events: tuple[Event, ...]
    reply: Mapping[str, Any] | None
    version: int

    def overdue(self, now: dt.datetime) -> bool:
        return self.status is CaseStatus.OPEN and self.deadline < now

    @classmethod
    def of(cls, p: Mapping[str, Any]) -> Case:
        return cls(
            id=str(p["id"]),
            alert_id=str(p["alert_id"]),
            alert_type=str(p["alert_type"]),
            alert_severity=str(p["alert_severity"]),
            project_code=p.get("project_code"),
            regions=tuple(p.get("regions") or ()),
            chain=tuple(p.get("chain") or ()),
            level=str(p["level"]),
            level_region=p.get("level_region"),
            status=CaseStatus(p["status"]),
            unit=str(p["unit"]),
            person=str(p["person"]),
            deadline=dt.datetime.fromisoformat(p["deadline"]),
            opened_at=dt.datetime.fromisoformat(p["opened_at"]),
            opened_by=str(p["opened_by"]),
            updated_at=dt.datetime.fromisoformat(p["updated_at"]),
            closed_at=dt.datetime.fromisoformat(p["closed_at"]) if p.get("closed_at") else None,
            escalations=int(p.get("escalations") or 0),
            events=tuple(Event.load(e) for e in json.loads(p.get("events") or "[]")),
            reply=json.loads(p["reply"]) if p.get("reply") else None,
            version=int(p.get("version") or 0),
        )


def level_name(chain: Sequence[str], index: int) -> str:
    """A region's level by its place in the chain: the last is the province, the one
    before it the city, anything below a county."""
    from_top = len(chain) - 1 - index
    return {0: "province", 1: "city"}.get(from_top, "county")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    key: str  # region code or project code
    total: int
    open: int
    replied: int
    closed: int
    overdue: int
    escalated: int


def _text(value: str | None, what: str, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{what}: required")
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what}: at most {MAX_TEXT} characters")
    return value.strip()


CaseHook = Callable[[Case, Event], Awaitable[None]]


class Supervision:
    """Opens, moves and escalates cases in the graph; ``on_change`` hears every transition
    (notifications)."""

    def __init__(self, store: GraphStore, *, reply_days: Mapping[str, int] = REPLY_DAYS) -> None:
        self.store = store
        self.reply_days = dict(reply_days)
        self.on_change: list[CaseHook] = []

    def _deadline(self, level: str, now: dt.datetime) -> dt.datetime:
        return now + dt.timedelta(days=self.reply_days.get(level, 5))

    async def get(self, case_id: str) -> Case:
        rows = await self.store.run(gs.BY_ID, {"id": case_id})
        if not rows:
            raise NotFound(f"no supervision case {case_id[:80]!r}")
        return Case.of(rows[0]["props"])

    async def open(
        self,
        alert: Alert,
        *,
        unit: str,
        person: str,
        by: str,
        now: dt.datetime,
        deadline: dt.datetime | None = None,
        note: str | None = None,
    ) -> Case:
        """A case from ``alert`` (one open case per alert: opening again is a CONFLICT)."""
        unit_ = _text(unit, "unit", required=True)
        person_ = _text(person, "person", required=True)
        if await self.store.run(gs.OF_ALERT, {"alert_id": alert.id}):
            raise Conflict(f"alert {alert.id} already has an open supervision case")
        if deadline is not None and deadline <= now:
            raise InvalidInput("deadline: must be in the future")
        chain = tuple(alert.regions)
        level = level_name(chain, 0) if chain else "county"
        due = deadline or self._deadline(level, now)
        event = Event(now, by, Action.OPENED, CaseStatus.OPEN, level, _text(note, "note"),
                      {"unit": unit_, "person": person_, "deadline": stamp(due)})  # fmt: skip
        props = {
            "id": uuid.uuid4().hex,
            "alert_id": alert.id,
            "alert_type": alert.type.value,
            "alert_severity": alert.severity.value,
            "project_code": alert.project_code,
            "regions": list(alert.regions),
            "chain": list(chain),
            "level": level,
            "level_region": chain[0] if chain else None,
            "status": CaseStatus.OPEN.value,
            "unit": unit_,
            "person": person_,
            "deadline": stamp(due),
            "opened_at": stamp(now),
            "opened_by": by,
            "updated_at": stamp(now),
            "closed_at": None,
            "escalations": 0,
            "events": json.dumps([event.dump()], ensure_ascii=False),
            "reply": None,
            "version": 1,
        }
        rows = await self.store.run(gs.OPEN, {"alert_id": alert.id, "props": props})
        if not rows:
            raise NotFound(f"no alert {alert.id[:80]!r}")
        case = Case.of(rows[0]["props"])
        await self._tell(case, event)
        return case

    async def _move(
        self,
        case_id: str,
        allowed: set[CaseStatus],
        make: Callable[[Case], tuple[Event, dict[str, Any]]],
    ) -> Case:
        for _ in range(5):
            case = await self.get(case_id)
            if case.status not in allowed:
                names = ", ".join(sorted(s.value for s in allowed))
                raise Conflict(f"case {case_id} is {case.status.value}; needs one of: {names}")
            event, props = make(case)
            events = [e.dump() for e in case.events] + [event.dump()]
            props |= {
                "status": event.status.value,
                "updated_at": stamp(event.at),
                "events": json.dumps(events, ensure_ascii=False),
            }
            rows = await self.store.run(
                gs.UPDATE, {"id": case_id, "version": case.version, "props": props}
            )
            if rows:
                moved = Case.of(rows[0]["props"])
                await self._tell(moved, event)
                return moved
        raise Conflict(f"case {case_id} keeps changing; try again")

    async def assign(
        self, case_id: str, *, unit: str, person: str, by: str, now: dt.datetime,
        deadline: dt.datetime | None = None,
    ) -> Case:  # fmt: skip
        unit_ = _text(unit, "unit", required=True)
        person_ = _text(person, "person", required=True)
        if deadline is not None and deadline <= now:
            raise InvalidInput("deadline: must be in the future")

        def make(c: Case) -> tuple[Event, dict[str, Any]]:
            due = deadline or c.deadline
            params = {"unit": unit_, "person": person_, "deadline": stamp(due)}
            event = Event(now, by, Action.ASSIGNED, c.status, c.level, None, params)
            return event, {"unit": unit_, "person": person_, "deadline": stamp(due)}

        return await self._move(case_id, {CaseStatus.OPEN, CaseStatus.REPLIED}, make)

    async def comment(self, case_id: str, *, text: str, by: str, now: dt.datetime) -> Case:
        note = _text(text, "text", required=True)

        def make(c: Case) -> tuple[Event, dict[str, Any]]:
            return Event(now, by, Action.COMMENTED, c.status, c.level, note), {}

        return await self._move(case_id, set(CaseStatus), make)

    async def reply(
        self,
        case_id: str,
        *,
        text: str,
        attachments: Sequence[Attachment],
        by: str,
        now: dt.datetime,
    ) -> Case:
        """The rectification reply: what was done, with its evidence (attachments by URL and
        digest; the files live where the unit keeps them)."""
        note = _text(text, "text", required=True)
        if len(attachments) > MAX_ATTACHMENTS:
            raise InvalidInput(f"attachments: at most {MAX_ATTACHMENTS}")
        files = []
        for i, a in enumerate(attachments):
            if not a.name.strip() or not a.url.startswith(("https://", "http://")):
                raise InvalidInput(f"attachments[{i}]: a name and an http(s) URL")
            if a.sha256 is not None and (
                len(a.sha256) != 64 or any(ch not in "0123456789abcdef" for ch in a.sha256)
            ):
                raise InvalidInput(f"attachments[{i}].sha256: 64 lowercase hex digits")
            files.append({"name": a.name.strip(), "url": a.url, "sha256": a.sha256,
                          "size": a.size})  # fmt: skip

        def make(c: Case) -> tuple[Event, dict[str, Any]]:
            body = {"text": note, "attachments": files, "at": stamp(now), "by": by}
            event = Event(now, by, Action.REPLIED, CaseStatus.REPLIED, c.level, note,
                          {"attachments": len(files)})  # fmt: skip
            return event, {"reply": json.dumps(body, ensure_ascii=False)}

        return await self._move(case_id, {CaseStatus.OPEN}, make)

    async def close(
        self, case_id: str, *, by: str, now: dt.datetime, note: str | None = None
    ) -> Case:
        """Close a replied case (the reply is accepted)."""
        text = _text(note, "note")

        def make(c: Case) -> tuple[Event, dict[str, Any]]:
            event = Event(now, by, Action.CLOSED, CaseStatus.CLOSED, c.level, text)
            return event, {"closed_at": stamp(now)}

        return await self._move(case_id, {CaseStatus.REPLIED}, make)

    async def reopen(
        self, case_id: str, *, by: str, now: dt.datetime, note: str,
        deadline: dt.datetime | None = None,
    ) -> Case:  # fmt: skip
        """The reply does not hold, or the problem came back: open again with a new deadline."""
        text = _text(note, "note", required=True)
        if deadline is not None and deadline <= now:
            raise InvalidInput("deadline: must be in the future")

        def make(c: Case) -> tuple[Event, dict[str, Any]]:
            due = deadline or self._deadline(c.level, now)
            event = Event(now, by, Action.REOPENED, CaseStatus.OPEN, c.level, text,
                          {"deadline": stamp(due)})  # fmt: skip
            return event, {"deadline": stamp(due), "closed_at": None}

        return await self._move(case_id, {CaseStatus.REPLIED, CaseStatus.CLOSED}, make)

    async def escalate_due(self, now: dt.datetime) -> list[Case]:
        """One level up for every open case past its deadline (with a fresh deadline at the
        new level); a case at the top of its chain stays where it is, overdue."""
        rows = await self.store.run(gs.DUE, {"now": stamp(now)})
        moved = []
        for row in rows:
            case = Case.of(row["props"])
            index = case.chain.index(case.level_region) if case.level_region in case.chain else 0
            if index + 1 >= len(case.chain):
                continue
            up = index + 1
            level, region = level_name(case.chain, up), case.chain[up]

            def make(
                c: Case, level: str = level, region: str = region
            ) -> tuple[Event, dict[str, Any]]:
                due = self._deadline(level, now)
                params = {"from": c.level, "to": level, "region": region,
                          "missed": stamp(c.deadline), "deadline": stamp(due)}  # fmt: skip
                event = Event(now, SYSTEM, Action.ESCALATED, CaseStatus.OPEN, level, None, params)
                return event, {
                    "level": level,
                    "level_region": region,
                    "deadline": stamp(due),
                    "escalations": c.escalations + 1,
                }

            try:
                moved.append(await self._move(case.id, {CaseStatus.OPEN}, make))
            except Conflict:
                continue  # replied or moved meanwhile: nothing to escalate
        return moved

    async def find(
        self,
        *,
        region: str | None = None,
        statuses: Sequence[CaseStatus] | None = None,
        project_code: str | None = None,
        limit: int = 1000,
    ) -> list[Case]:
        if not 0 < limit <= 10_000:
            raise InvalidInput("limit: between 1 and 10000")
        rows = await self.store.run(
            gs.LIST,
            {
                "region": region,
                "statuses": [s.value for s in statuses] if statuses else None,
                "project": project_code,
                "limit": limit,
            },
        )
        return [Case.of(r["props"]) for r in rows]

    async def ledger(self, *, region: str | None, by: str, now: dt.datetime) -> list[LedgerRow]:
        """The problem ledger (问题台账): cases counted by state and overdue, per region (the
        level the case is at) or per project."""
        if by not in ("region", "project"):
            raise InvalidInput("by: region or project")
        counts: dict[str, dict[str, int]] = {}
        for c in await self.find(region=region, limit=10_000):
            key = (c.level_region if by == "region" else c.project_code) or "-"
            row = counts.setdefault(key, dict.fromkeys(
                ("total", "open", "replied", "closed", "overdue", "escalated"), 0))  # fmt: skip
            row["total"] += 1
            row[c.status.value.lower()] += 1
            row["overdue"] += c.overdue(now)
            row["escalated"] += c.escalations > 0
        return [LedgerRow(k, **v) for k, v in sorted(counts.items())]

    async def _tell(self, case: Case, event: Event) -> None:
        for hook in self.on_change:
            await hook(case, event)
