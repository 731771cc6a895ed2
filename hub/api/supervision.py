"""GraphQL for supervision (督办): cases raised from alerts, their transitions and the problem
ledger (``hub.monitoring.supervision``).

Who may do what: every monitoring reader (not the bank) reads cases and the ledger; a
supervisor (monitor or admin, with an API key) opens, assigns, closes and reopens; the
responsible side (operator or admin, with a key) replies; supervisors and the responsible
side comment. Escalation is the system's own (``Watch.check_cases``).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Final, cast

import strawberry
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_schema.errors import InvalidInput, NotFound
from hub.api.access import MONITORING_READERS, allow
from hub.api.alerts import (
    Alert,
    AlertGlobalIdArg,
    AlertIdArg,
    AlertKind,
    AlertSeverity,
    Ctx,
    ProjectRef,
    RegionRef,
    _alert_of,
    _now,
    _who,
    alert_key,
    link,
    project_link,
    region_link,
    watch_of,
)
from hub.api.enums import RegionLevel, SortDirection
from hub.api.inputs import _DIRECTION, _NOT, _OR
from hub.api.logic import check, matching
from hub.api.paging import key_of
from hub.api.relay import Node, NodeLookup
from hub.monitoring import supervision as sv
from hub.roles import Role

SUPERVISORS = frozenset({Role.MONITOR, Role.ADMIN})
RESPONDERS = frozenset({Role.OPERATOR, Role.ADMIN})


def _keyed(roles: frozenset[Role], what: str) -> type[BasePermission]:
    names = ", ".join(sorted(r.value for r in roles))

    class Keyed(BasePermission):
        message = f"{what} needs an API key of the role: {names}"
        error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
            return info.context.role in roles and info.context.key_id is not None

    Keyed.__name__ = Keyed.__qualname__ = "Keyed_" + "_".join(sorted(r.value for r in roles))
    return Keyed


Supervises = _keyed(SUPERVISORS, "opening, assigning, closing or reopening a case")
Responds = _keyed(RESPONDERS, "replying to a case")
Comments = _keyed(SUPERVISORS | RESPONDERS, "commenting on a case")


@strawberry.enum(description="A case's state.")
class CaseState(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Waiting for the rectification reply.")
    REPLIED = strawberry.enum_value("REPLIED", description="Replied; waiting for review.")
    CLOSED = strawberry.enum_value("CLOSED", description="The reply was accepted.")


@strawberry.enum(description="What happened to a case.")
class CaseAction(Enum):
    OPENED = strawberry.enum_value("OPENED", description="Raised from an alert.")
    ASSIGNED = strawberry.enum_value("ASSIGNED", description="Unit, person or deadline changed.")
    COMMENTED = strawberry.enum_value("COMMENTED", description="A comment.")
    REPLIED = strawberry.enum_value("REPLIED", description="The rectification reply.")
    CLOSED = strawberry.enum_value("CLOSED", description="Closed.")
    REOPENED = strawberry.enum_value("REOPENED", description="Opened again.")
    ESCALATED = strawberry.enum_value(
        "ESCALATED", description="Past its deadline: up one level (county → city → province)."
    )


assert {str(k.value) for k in CaseState} == {s.value for s in sv.CaseStatus}
assert {str(k.value) for k in CaseAction} == {a.value for a in sv.Action}


@strawberry.type(description="One transition of a case: when, who, what.")
class CaseEvent:
    at: dt.datetime = strawberry.field(description="When.")
    by: str = strawberry.field(description="Who: '<role>:<key id>', or system:escalation.")
    action: CaseAction = strawberry.field(description="What happened.")
    status: CaseState = strawberry.field(description="The state it led to.")
    level: RegionLevel = strawberry.field(description="COUNTY, CITY or PROVINCE after it.")
    note: str | None = strawberry.field(description="Comment, reply or reason text.")
    params: JSON = strawberry.field(description="Figures of the transition (deadline, unit…).")


@strawberry.type(description="A file behind a rectification reply.")
class CaseAttachment:
    name: str = strawberry.field(description="File name.")
    url: str = strawberry.field(description="Where the responsible unit keeps it.")
    sha256: str | None = strawberry.field(description="Its digest, when given.")
    size: int | None = strawberry.field(description="Bytes, when given.")


@strawberry.type(description="A supervision case (督办) raised from an alert.")
class SupervisionCase(Node):
    case_id: str = strawberry.field(description="Stable id, its business key (id is the "
                                    "global id).")  # fmt: skip
    alert_id: str = strawberry.field(description="The alert it was raised from (its alertId).")
    alert_type: AlertKind = strawberry.field(description="That alert's type.")
    alert_severity: AlertSeverity = strawberry.field(
        description="That alert's severity when opened."
    )
    project_code: str | None = strawberry.field(description="The project concerned (its code).")
    region_codes: list[str] = strawberry.field(
        description="The project's region's code and the codes of those above."
    )
    regions: list[str] = strawberry.field(
        description="The project's region and those above.",
        deprecation_reason="Holds codes: use regionCodes.",
    )
    level: RegionLevel = strawberry.field(
        description="COUNTY, CITY or PROVINCE: who supervises now."
    )
    level_region_code: str | None = strawberry.field(
        description="The code of the region at that level (see supervisingRegion)."
    )
    level_region: str | None = strawberry.field(
        description="The region at that level.",
        deprecation_reason="Holds a code: use levelRegionCode, or supervisingRegion (the link).",
    )
    status: CaseState = strawberry.field(description="Its state.")
    unit: str = strawberry.field(description="The responsible unit.")
    person: str = strawberry.field(description="The responsible person.")
    deadline: dt.datetime = strawberry.field(description="Reply due by.")
    overdue: bool = strawberry.field(description="OPEN and past the deadline (as of now).")
    escalations: int = strawberry.field(description="Times escalated.")
    opened_at: dt.datetime = strawberry.field(description="When it was opened.")
    opened_by: str = strawberry.field(description="Who opened it.")
    updated_at: dt.datetime = strawberry.field(description="Last transition.")
    closed_at: dt.datetime | None = strawberry.field(description="When it was closed.")
    reply_text: str | None = strawberry.field(description="The rectification reply.")
    attachments: list[CaseAttachment] = strawberry.field(description="The reply's files.")
    events: list[CaseEvent] = strawberry.field(description="Every transition, oldest first.")

    def node_key(self) -> str:
        return self.case_id

    @strawberry.field(description="The alert it was raised from (null if that is gone).")
    async def alert(self, info: Ctx) -> Alert | None:
        return await _alert_of(info, self.alert_id)

    @strawberry.field(description="The project concerned.")
    async def project(self, info: Ctx) -> ProjectRef | None:
        return cast("ProjectRef | None", await link(info, "project", self.project_code))

    @strawberry.field(description="The region supervising the case now (at its level).")
    async def supervising_region(self, info: Ctx) -> RegionRef | None:
        return cast("RegionRef | None", await link(info, "region", self.level_region_code))

    @classmethod
    def of(cls, c: sv.Case, now: dt.datetime) -> SupervisionCase:
        reply = c.reply or {}
        return cls(
            case_id=c.id,
            alert_id=c.alert_id,
            alert_type=AlertKind(c.alert_type),
            alert_severity=AlertSeverity(c.alert_severity),
            project_code=c.project_code,
            region_codes=list(c.regions),
            regions=list(c.regions),
            level=RegionLevel(c.level),
            level_region_code=c.level_region,
            level_region=c.level_region,
            status=CaseState(c.status.value),
            unit=c.unit,
            person=c.person,
            deadline=c.deadline,
            overdue=c.overdue(now),
            escalations=c.escalations,
            opened_at=c.opened_at,
            opened_by=c.opened_by,
            updated_at=c.updated_at,
            closed_at=c.closed_at,
            reply_text=reply.get("text"),
            attachments=[
                CaseAttachment(
                    name=a["name"], url=a["url"], sha256=a.get("sha256"), size=a.get("size")
                )
                for a in reply.get("attachments") or []
            ],
            events=[
                CaseEvent(
                    at=e.at,
                    by=e.by,
                    action=CaseAction(e.action.value),
                    status=CaseState(e.status.value),
                    level=RegionLevel(e.level),
                    note=e.note,
                    params=cast(JSON, dict(e.params)),
                )
                for e in c.events
            ],
        )


async def _case_of(info: Ctx, key: str) -> SupervisionCase | None:
    try:
        return SupervisionCase.of(await _service(info).get(key), _now(info))
    except NotFound:
        return None


@strawberry.enum(description="What supervision cases can be sorted on; ties break on the id.")
class SupervisionCaseSortField(Enum):
    OPENED_AT = strawberry.enum_value("opened_at", description="When it was opened.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="Its last transition.")
    DEADLINE = strawberry.enum_value("deadline", description="When the reply is due.")


@strawberry.input(description="One sort key for supervision cases.")
class SupervisionCaseSort:
    field: SupervisionCaseSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


@strawberry.input(description="Which supervision cases; fields combine with AND.")
class SupervisionCaseWhere:
    region: str | None = strawberry.field(
        default=None,
        description="Cases of projects in this region or below (its code or global id).",
    )
    statuses: list[CaseState] | None = strawberry.field(
        default=None, description="Only these states."
    )
    project_code: str | None = strawberry.field(
        default=None, description="Only this project (its code or global id)."
    )
    overdue: bool | None = strawberry.field(
        default=None, description="true: only overdue ones; false: only the others."
    )
    or_: list[SupervisionCaseWhere] | None = strawberry.field(
        default=None, name="OR", description=_OR
    )
    not_: SupervisionCaseWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.type(description="Cases of one region or project, counted (问题台账).")
class LedgerEntry:
    key: str = strawberry.field(description="Region code (the level a case is at) or project code.")
    by: strawberry.Private[str]
    region = region_link("region_code", "The region, when grouped by region.")
    project = project_link("project_code", "The project, when grouped by project.")

    @property
    def region_code(self) -> str | None:
        return self.key if self.by == "region" else None

    @property
    def project_code(self) -> str | None:
        return self.key if self.by == "project" else None

    total: int = strawberry.field(description="All cases.")
    open: int = strawberry.field(description="OPEN.")
    replied: int = strawberry.field(description="REPLIED.")
    closed: int = strawberry.field(description="CLOSED.")
    overdue: int = strawberry.field(description="OPEN and past the deadline.")
    escalated: int = strawberry.field(description="Escalated at least once.")


@strawberry.enum(description="How the ledger groups cases.")
class LedgerBy(Enum):
    REGION = strawberry.enum_value("region", description="By the region supervising now.")
    PROJECT = strawberry.enum_value("project", description="By project.")


@strawberry.input(description="A file behind a reply: where it is kept and, best, its digest.")
class AttachmentInput:
    name: str = strawberry.field(description="File name.")
    url: str = strawberry.field(description="http(s) URL.")
    sha256: str | None = strawberry.field(default=None, description="64 lowercase hex digits.")
    size: int | None = strawberry.field(default=None, description="Bytes.")


# A case is named by its global id (id: ID) or by its caseId (a String key), exactly one, as
# alerts are (hub.api.alerts.alert_key).
CaseGlobalIdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The case's global id (its id field); give this or caseId. For one "
        "release a bare caseId is accepted here too."
    ),
]
CaseIdArg = Annotated[
    str | None,
    strawberry.argument(
        description="The case's caseId (its business key); give this or id. For one "
        "release its global id is accepted here too."
    ),
]
MAX_CASES = 10_000
UnitArg = Annotated[str, strawberry.argument(description="The responsible unit.")]
PersonArg = Annotated[str, strawberry.argument(description="The responsible person.")]
NoteArg = Annotated[str | None, strawberry.argument(description="A note on the transition.")]
ReasonArg = Annotated[str, strawberry.argument(description="Why it is reopened.")]
TextArg = Annotated[str, strawberry.argument(description="The text.")]
RegionArg = Annotated[
    str | None,
    strawberry.argument(
        description="Cases of projects in this region or below (its code or global id)."
    ),
]
Deadline = Annotated[
    dt.datetime | None,
    strawberry.argument(description="Reply due by (with a UTC offset); default by level."),
]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput("deadline: give a UTC offset")
    return value


def _service(info: Ctx) -> sv.Supervision:
    return watch_of(info).supervision


async def _cases(info: Ctx, where: SupervisionCaseWhere) -> list[sv.Case]:
    check(where)
    now = _now(info)
    found = await _service(info).find(
        region=_region(where.region),
        statuses=[sv.CaseStatus(str(s.value)) for s in where.statuses] if where.statuses else None,
        project_code=key_of(where.project_code, "Project") if where.project_code else None,
        limit=MAX_CASES,
    )

    def keep(c: sv.Case, w: SupervisionCaseWhere) -> bool:
        region = _region(w.region)
        return (
            (region is None or region in c.regions)
            and (w.statuses is None or c.status.value in {str(s.value) for s in w.statuses})
            and (w.project_code is None or c.project_code == key_of(w.project_code, "Project"))
            and (w.overdue is None or c.overdue(now) == w.overdue)
        )

    return matching(found, where, keep)


def _key(global_id: str | None, case_id: str | None) -> str:
    if (global_id is None) == (case_id is None):
        raise InvalidInput("pass either id or caseId, exactly one")
    return key_of(global_id if global_id is not None else case_id or "", "SupervisionCase")


def _region(value: str | None) -> str | None:
    return key_of(value, "Region") if value is not None else None


_CASE_SORT: dict[str, Any] = {
    "opened_at": lambda c: c.opened_at,
    "updated_at": lambda c: c.updated_at,
    "deadline": lambda c: c.deadline,
}


@strawberry.type
class SupervisionQuery:
    @strawberry.field(
        description="Supervision cases, newest first; with region, cases of projects in it "
        "or below (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
        deprecation_reason="Use supervisionCasesConnection (paged, with where and sort).",
    )
    async def supervision_cases(
        self,
        info: Ctx,
        region: RegionArg = None,
        statuses: Annotated[
            list[CaseState] | None, strawberry.argument(description="Only these states.")
        ] = None,
        project_code: Annotated[
            str | None, strawberry.argument(description="Only this project.")
        ] = None,
        overdue: Annotated[
            bool | None, strawberry.argument(description="true: only overdue ones.")
        ] = None,
    ) -> list[SupervisionCase]:
        where = SupervisionCaseWhere(
            region=region, statuses=statuses, project_code=project_code, overdue=overdue
        )
        now = _now(info)
        return [SupervisionCase.of(c, now) for c in await _cases(info, where)]

    @strawberry.field(
        description="One case by its id.", permission_classes=[allow(MONITORING_READERS)]
    )
    async def supervision_case(
        self, info: Ctx, id: CaseGlobalIdArg = None, case_id: CaseIdArg = None
    ) -> SupervisionCase:
        case = await _service(info).get(_key(id, case_id))
        return SupervisionCase.of(case, _now(info))

    @strawberry.field(
        description="The problem ledger: cases per region or project by state and overdue.",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def problem_ledger(
        self,
        info: Ctx,
        region: RegionArg = None,
        by: Annotated[
            LedgerBy, strawberry.argument(description="Group by region or by project.")
        ] = LedgerBy.REGION,
    ) -> list[LedgerEntry]:
        rows = await _service(info).ledger(region=_region(region), by=str(by.value), now=_now(info))
        return [
            LedgerEntry(key=r.key, by=str(by.value), total=r.total, open=r.open, replied=r.replied,
                        closed=r.closed, overdue=r.overdue, escalated=r.escalated)
            for r in rows
        ]  # fmt: skip


@strawberry.type
class SupervisionMutation:
    @strawberry.mutation(
        description="Raise a case from an alert, with the responsible unit and person "
        "(monitor, admin).",
        permission_classes=[Supervises],
    )
    async def open_supervision_case(
        self,
        info: Ctx,
        unit: UnitArg,
        person: PersonArg,
        deadline: Deadline = None,
        note: NoteArg = None,
        alert: AlertGlobalIdArg = None,
        alert_id: AlertIdArg = None,
    ) -> SupervisionCase:
        watch = watch_of(info)
        found = await watch.alerts.get(alert_key(alert, alert_id, "alert"))
        case = await watch.supervision.open(
            found, unit=unit, person=person, by=_who(info), now=_now(info),
            deadline=_aware(deadline), note=note,
        )  # fmt: skip
        return SupervisionCase.of(case, _now(info))

    @strawberry.mutation(
        description="Change the responsible unit, person or deadline (monitor, admin).",
        permission_classes=[Supervises],
    )
    async def assign_supervision_case(
        self,
        info: Ctx,
        unit: UnitArg,
        person: PersonArg,
        deadline: Deadline = None,
        id: CaseGlobalIdArg = None,
        case_id: CaseIdArg = None,
    ) -> SupervisionCase:
        case = await _service(info).assign(
            _key(id, case_id), unit=unit, person=person, by=_who(info), now=_now(info),
            deadline=_aware(deadline),
        )  # fmt: skip
        return SupervisionCase.of(case, _now(info))

    @strawberry.mutation(
        description="Comment on a case (monitor, operator, admin).",
        permission_classes=[Comments],
    )
    async def comment_supervision_case(
        self, info: Ctx, text: TextArg, id: CaseGlobalIdArg = None, case_id: CaseIdArg = None
    ) -> SupervisionCase:
        case = await _service(info).comment(
            _key(id, case_id), text=text, by=_who(info), now=_now(info)
        )
        return SupervisionCase.of(case, _now(info))

    @strawberry.mutation(
        description="The rectification reply, with attachments (operator, admin).",
        permission_classes=[Responds],
    )
    async def reply_supervision_case(
        self,
        info: Ctx,
        text: TextArg,
        attachments: Annotated[
            list[AttachmentInput] | None,
            strawberry.argument(description="Files behind the reply."),
        ] = None,
        id: CaseGlobalIdArg = None,
        case_id: CaseIdArg = None,
    ) -> SupervisionCase:
        files = [sv.Attachment(a.name, a.url, a.sha256, a.size) for a in attachments or []]
        case = await _service(info).reply(
            _key(id, case_id), text=text, attachments=files, by=_who(info), now=_now(info)
        )
        return SupervisionCase.of(case, _now(info))

    @strawberry.mutation(
        description="Close a replied case: the reply is accepted (monitor, admin).",
        permission_classes=[Supervises],
    )
    async def close_supervision_case(
        self,
        info: Ctx,
        note: NoteArg = None,
        id: CaseGlobalIdArg = None,
        case_id: CaseIdArg = None,
    ) -> SupervisionCase:
        case = await _service(info).close(
            _key(id, case_id), by=_who(info), now=_now(info), note=note
        )
        return SupervisionCase.of(case, _now(info))

    @strawberry.mutation(
        description="Open a replied or closed case again, with a reason (monitor, admin).",
        permission_classes=[Supervises],
    )
    async def reopen_supervision_case(
        self,
        info: Ctx,
        note: ReasonArg,
        deadline: Deadline = None,
        id: CaseGlobalIdArg = None,
        case_id: CaseIdArg = None,
    ) -> SupervisionCase:
        case = await _service(info).reopen(
            _key(id, case_id), by=_who(info), now=_now(info), note=note, deadline=_aware(deadline)
        )
        return SupervisionCase.of(case, _now(info))


# node(id:) finds cases by their global id (hub.api.schema collects NODES).
NODES: Final = (NodeLookup("SupervisionCase", _case_of, MONITORING_READERS),)
