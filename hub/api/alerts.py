"""Alerts in GraphQL: ``alerts(where, sort)`` as a Relay connection, ``alert``,
``acknowledgeAlert`` and ``clearAlert``, and the ``alertFeed(region)`` subscription. An
``Alert`` is a Node (``NODES``); every argument naming one takes its global id, and for one
release its bare ``alertId`` (``key_of``).

Reading needs a monitoring role (not the bank); acknowledging and clearing need an API key of
the monitor, operator or admin role (an anonymous monitor reads only). Who acknowledged or
cleared is recorded as ``<role>:<key id>``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncGenerator, Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_schema.errors import HubError, InvalidInput, NotFound
from graph_schema.statements import alerts as ga
from hub.api import lists
from hub.api.access import MONITORING_READERS, allow
from hub.api.context import Context
from hub.api.enums import ProjectStage, SortDirection
from hub.api.inputs import _DIRECTION, _NOT, _OR
from hub.api.logic import check
from hub.api.paging import decode_cursor, encode_cursor, key_of, window
from hub.api.relay import _W, After, Before, Node, NodeLookup, PageInfo
from hub.clock import clock_of
from hub.monitoring import alerts as al
from hub.roles import Role

if TYPE_CHECKING:
    from hub.api.entities.parcel import LandParcel
    from hub.api.entities.project import Project
    from hub.api.entities.region import Region
    from hub.api.entities.sensor import Sensor
    from hub.monitoring.watch import Watch

Ctx = Info[Context, None]
ProjectRef = Annotated["Project", strawberry.lazy("hub.api.entities.project")]
RegionRef = Annotated["Region", strawberry.lazy("hub.api.entities.region")]
SensorRef = Annotated["Sensor", strawberry.lazy("hub.api.entities.sensor")]
ParcelRef = Annotated["LandParcel", strawberry.lazy("hub.api.entities.parcel")]
ALERT_HANDLERS = frozenset({Role.MONITOR, Role.OPERATOR, Role.ADMIN})


class HandlesAlerts(BasePermission):
    """Monitor, operator or admin, with an API key: an anonymous caller (HUB_AUTH_ANONYMOUS_ROLE
    may be monitor) is read-only, and the key says who acknowledged or cleared."""

    message = (
        "acknowledging or clearing alerts needs an API key of the monitor, operator or admin role"
    )
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        context = info.context
        return context.role in ALERT_HANDLERS and context.key_id is not None


# An alert is named by its global id (id: ID, what a client holds from the Alert's id field, in
# an ID variable as client generators declare it) or by its alertId (a String key): exactly one.
AlertGlobalIdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The alert's global id (its id field); give this or alertId. For one "
        "release a bare alertId is accepted here too."
    ),
]
AlertIdArg = Annotated[
    str | None,
    strawberry.argument(
        description="The alert's alertId (its business key); give this or id. For one "
        "release its global id is accepted here too."
    ),
]


def alert_key(global_id: str | None, alert_id: str | None, id_name: str = "id") -> str:
    """The alertId that the global id (argument ``id_name``) or ``alertId`` names, exactly one
    of them given."""
    if (global_id is None) == (alert_id is None):
        raise InvalidInput(f"pass either {id_name} or alertId, exactly one")
    return key_of(global_id if global_id is not None else alert_id or "", "Alert")


MAX_PAGE = 500


class WatchUnavailable(HubError):
    """Fusion, MPI and alerts are not running in this hub (HUB_ALERTS_ENABLED=false, or the
    telemetry store is not open)."""

    code = "UNAVAILABLE"


def watch_of(info: Ctx) -> Watch:
    found = info.context.watch
    if found is None:
        raise WatchUnavailable("fusion, MPI and alerts are not running in this hub")
    return found


@strawberry.enum(
    description="What an alert is about: FEED_STALE (a sensor silent past its timeout), "
    "PROJECT_IDLE (under construction and IDLE for HUB_FUSION_IDLE_DAYS days), "
    "VERIFICATION_MISMATCH (reports and evidence disagree), CAMERA_HEALTH (offline, frozen, "
    "dark, overexposed, blurred, tampered), SATELLITE_CHANGE (a change on a parcel that "
    "contradicts the project's stage or report), LAND_NODE_OVERDUE (a project's land-tracking "
    "nodes past due, one alert per project). Severity, open and clear rules: docs/alerts.md."
)
class AlertKind(Enum):
    FEED_STALE = strawberry.enum_value(
        "FEED_STALE", description="A sensor's newest reading is older than its timeout."
    )
    PROJECT_IDLE = strawberry.enum_value(
        "PROJECT_IDLE",
        description="A project under construction IDLE for HUB_FUSION_IDLE_DAYS complete days.",
    )
    VERIFICATION_MISMATCH = strawberry.enum_value(
        "VERIFICATION_MISMATCH", description="Reported progress and evidence disagree."
    )
    CAMERA_HEALTH = strawberry.enum_value(
        "CAMERA_HEALTH",
        description="A camera offline, frozen, dark, overexposed, blurred or tampered.",
    )
    SATELLITE_CHANGE = strawberry.enum_value(
        "SATELLITE_CHANGE",
        description="A change on a parcel that contradicts the project's stage or report (on "
        "a construction site whose report agrees it is evidence, not an alert).",
    )
    LAND_NODE_OVERDUE = strawberry.enum_value(
        "LAND_NODE_OVERDUE",
        description="A project's land-tracking nodes past their due dates (one alert per "
        "project; details list the nodes).",
    )


@strawberry.enum(description="ThingsBoard's severities, CRITICAL the most severe.")
class AlertSeverity(Enum):
    CRITICAL = strawberry.enum_value("CRITICAL", description="Act now (a tampered camera).")
    MAJOR = strawberry.enum_value(
        "MAJOR", description="Serious (an idle site, a mismatch, a camera offline)."
    )
    MINOR = strawberry.enum_value("MINOR", description="Worth a look (a stale meter or gate).")
    WARNING = strawberry.enum_value(
        "WARNING", description="For information (satellite change, a stale camera)."
    )
    INDETERMINATE = strawberry.enum_value("INDETERMINATE", description="Severity unknown.")


@strawberry.enum(
    description="The four-state lifecycle: ACTIVE or CLEARED, acknowledged (ACK) or not."
)
class AlertStatus(Enum):
    ACTIVE_UNACK = strawberry.enum_value(
        "ACTIVE_UNACK", description="The condition holds; nobody acknowledged it."
    )
    ACTIVE_ACK = strawberry.enum_value(
        "ACTIVE_ACK", description="The condition holds; acknowledged."
    )
    CLEARED_UNACK = strawberry.enum_value(
        "CLEARED_UNACK", description="The condition ended (or cleared by hand); not acknowledged."
    )
    CLEARED_ACK = strawberry.enum_value(
        "CLEARED_ACK", description="Cleared and acknowledged: closed."
    )


@strawberry.enum(description="What happened to an alert.")
class AlertChange(Enum):
    RAISED = strawberry.enum_value("raised", description="A new alert.")
    ACKNOWLEDGED = strawberry.enum_value("acknowledged", description="Someone acknowledged it.")
    CLEARED = strawberry.enum_value(
        "cleared", description="Its condition ended, or someone cleared it."
    )


assert {str(k.value) for k in AlertKind} == {t.value for t in al.AlertType}
assert {str(k.value) for k in AlertSeverity} == {t.value for t in al.Severity}
assert {str(k.value) for k in AlertStatus} == {t.value for t in al.Status}
assert {str(k.value) for k in AlertChange} == {t.value for t in al.Change}


async def link(info: Ctx, entity: str, key: str | None) -> Any:
    """The graph entity ``key`` names (batched with the request's other lookups), or None."""
    if key is None:
        return None
    return await lists.by_key(info, entity, key, Node)


# Links from a type that holds an entity's key in ``attr`` (its ``<entity>Code``/``Id`` field) to
# the entity itself, for the monitoring types: ``sensor = sensor_link("sensor_id", "...")``.
def project_link(attr: str, description: str = "The project.") -> Any:
    async def project(root: Any, info: Ctx) -> ProjectRef | None:
        return cast("ProjectRef | None", await link(info, "project", getattr(root, attr)))

    return strawberry.field(resolver=project, description=description)


def region_link(attr: str, description: str = "The region.") -> Any:
    async def region(root: Any, info: Ctx) -> RegionRef | None:
        return cast("RegionRef | None", await link(info, "region", getattr(root, attr)))

    return strawberry.field(resolver=region, description=description)


def sensor_link(attr: str, description: str = "The sensor (null when it was removed).") -> Any:
    async def sensor(root: Any, info: Ctx) -> SensorRef | None:
        return cast("SensorRef | None", await link(info, "sensor", getattr(root, attr)))

    return strawberry.field(resolver=sensor, description=description)


def parcel_link(attr: str, description: str = "The land parcel.") -> Any:
    async def parcel(root: Any, info: Ctx) -> ParcelRef | None:
        return cast("ParcelRef | None", await link(info, "parcel", getattr(root, attr)))

    return strawberry.field(resolver=parcel, description=description)


@strawberry.type(name="Alert", description="An alert on a sensor, project or land node.")
class Alert(Node):
    alert_id: str = strawberry.field(
        description="Stable id, its business key (id is the global id)."
    )
    type: AlertKind = strawberry.field(description="What it is about.")
    subject: str = strawberry.field(
        description="Sensor id, project code, '<project>/<mismatch kind>' or land node key."
    )
    severity: AlertSeverity = strawberry.field(description="How serious.")
    status: AlertStatus = strawberry.field(description="Lifecycle state.")
    code: str = strawberry.field(
        description="The message's stable code (the type, or MISMATCH_<kind> for a "
        "verification mismatch); with params it is the message as data."
    )
    params: JSON = strawberry.field(description="The message's parameters, by name.")
    source: strawberry.Private[al.Alert]
    project_code: str | None = strawberry.field(description="The project concerned (its code).")
    region_code: str | None = strawberry.field(description="The project's own region (its code).")
    region_codes: list[str] = strawberry.field(
        description="That region's code and the code of every region above it."
    )
    regions: list[str] = strawberry.field(
        description="That region and every one above it.",
        deprecation_reason="Holds codes: use regionCodes (or region for the link).",
    )
    sensor_id: str | None = strawberry.field(description="The sensor concerned (its id).")
    details: JSON = strawberry.field(description="Figures behind it.")
    raised_at: dt.datetime = strawberry.field(description="When it was raised.")
    updated_at: dt.datetime = strawberry.field(description="Last change or re-trigger.")
    occurrences: int = strawberry.field(description="Triggers while active (first included).")
    acknowledged_at: dt.datetime | None = strawberry.field(description="When acknowledged.")
    acknowledged_by: str | None = strawberry.field(description="Who acknowledged it.")
    cleared_at: dt.datetime | None = strawberry.field(description="When cleared.")
    cleared_by: str | None = strawberry.field(description="Who cleared it; null: automatic.")
    clear_reason: str | None = strawberry.field(description="Why it was cleared.")

    def node_key(self) -> str:
        return self.alert_id

    @strawberry.field(
        description="What is wrong, in words of the request's language (Accept-Language: "
        "zh-CN by default, en), rendered from code and params."
    )
    def message(self, info: Ctx) -> str:
        return self.source.text(info.context.language)

    @strawberry.field(description="The project concerned; null for a sensor's own alert.")
    async def project(self, info: Ctx) -> ProjectRef | None:
        return cast("ProjectRef | None", await link(info, "project", self.project_code))

    @strawberry.field(description="The project's own region.")
    async def region(self, info: Ctx) -> RegionRef | None:
        return cast("RegionRef | None", await link(info, "region", self.region_code))

    @strawberry.field(
        description="The sensor concerned; null when none is, or it was removed.",
    )
    async def sensor(self, info: Ctx) -> SensorRef | None:
        return cast("SensorRef | None", await link(info, "sensor", self.sensor_id))

    @classmethod
    def of(cls, a: al.Alert) -> Alert:
        return cls(
            alert_id=a.id,
            type=AlertKind(a.type.value),
            subject=a.subject,
            severity=AlertSeverity(a.severity.value),
            status=AlertStatus(a.status.value),
            code=a.code or a.type.value,
            params=cast(JSON, a.params),
            source=a,
            project_code=a.project_code,
            region_code=a.region_code,
            region_codes=list(a.regions),
            regions=list(a.regions),
            sensor_id=a.sensor_id,
            details=cast(JSON, a.details),
            raised_at=a.raised_at,
            updated_at=a.updated_at,
            occurrences=a.occurrences,
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=a.acknowledged_by,
            cleared_at=a.cleared_at,
            cleared_by=a.cleared_by,
            clear_reason=a.clear_reason,
        )


async def _alert_of(info: Ctx, key: str) -> Alert | None:
    try:
        return Alert.of(await watch_of(info).alerts.get(key))
    except NotFound:
        return None


@strawberry.type(description="An alert and its position in the list.")
class AlertEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as after or before.")
    node: Alert = strawberry.field(description="The alert.")


@strawberry.type(description="A page of alerts (Relay cursor connection), newest first unless "
                 "sorted otherwise.")  # fmt: skip
class AlertConnection:
    edges: list[AlertEdge] = strawberry.field(description="The page's alerts with cursors.")
    nodes: list[Alert] = strawberry.field(description="The page's alerts.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    filter_: strawberry.Private[al.AlertFilter]

    @strawberry.field(description="How many alerts match, across all pages.")
    async def total_count(self, info: Ctx) -> int:
        return await watch_of(info).alerts.count(self.filter_)


@strawberry.enum(description="What alerts can be sorted on; ties break on the alert id.")
class AlertSortField(Enum):
    RAISED_AT = strawberry.enum_value("raised_at", description="When it was raised.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="Its last change.")
    SEVERITY = strawberry.enum_value(
        "severity", description="Severity rank, INDETERMINATE lowest and CRITICAL highest."
    )


assert {str(f.value) for f in AlertSortField} == set(ga.SORT_VALUES)


@strawberry.input(description="One sort key for alerts.")
class AlertSort:
    field: AlertSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


@strawberry.input(description="Which alerts; fields combine with AND, none means all.")
class AlertFilterInput:
    region: str | None = strawberry.field(
        default=None,
        description="Alerts of projects in this region or below it (its code or global id).",
    )
    types: list[AlertKind] | None = strawberry.field(default=None, description="Only these types.")
    severities: list[AlertSeverity] | None = strawberry.field(
        default=None, description="Only these severities."
    )
    statuses: list[AlertStatus] | None = strawberry.field(
        default=None, description="Only these states."
    )
    active: bool | None = strawberry.field(
        default=None, description="true: ACTIVE_UNACK or ACTIVE_ACK; false: cleared ones."
    )
    project_code: str | None = strawberry.field(
        default=None, description="Only this project (its code or global id)."
    )
    subject: str | None = strawberry.field(default=None, description="Only this subject.")
    since: dt.datetime | None = strawberry.field(
        default=None, description="Raised at or after this moment."
    )
    stages: list[ProjectStage] | None = strawberry.field(
        default=None,
        description="Only alerts of projects that report one of these stages now (alerts "
        "without a project, such as a sensor's, are left out).",
    )

    def to_filter(self, projects: tuple[str, ...] | None = None) -> al.AlertFilter:
        statuses = [al.Status(str(s.value)) for s in self.statuses] if self.statuses else None
        if self.active is not None:
            wanted = {s for s in al.Status if s.active == self.active}
            statuses = [s for s in (statuses or list(al.Status)) if s in wanted]
        if self.since is not None and self.since.tzinfo is None:
            raise InvalidInput("filter.since: give a UTC offset")
        return al.AlertFilter(
            region=key_of(self.region, "Region") if self.region is not None else None,
            types=tuple(al.AlertType(str(t.value)) for t in self.types) if self.types else None,
            severities=(
                tuple(al.Severity(str(s.value)) for s in self.severities)
                if self.severities
                else None
            ),
            statuses=tuple(statuses) if statuses is not None else None,
            project_code=(
                key_of(self.project_code, "Project") if self.project_code is not None else None
            ),
            subject=self.subject,
            since=self.since,
            projects=projects,
        )

    async def resolve(self, info: Ctx) -> al.AlertFilter:
        """The filter, with ``stages`` turned into the projects that report them now."""
        if self.stages is None:
            return self.to_filter()
        wanted = {str(s.value) for s in self.stages}
        snap = await watch_of(info).current()
        codes = tuple(sorted(c for c, p in snap.projects.items() if p.stage in wanted))
        return self.to_filter(codes)


@strawberry.input(description="Which alerts to list; fields combine with AND, none means all.")
class AlertWhere(AlertFilterInput):
    or_: list[AlertWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: AlertWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)

    async def resolve(self, info: Ctx) -> al.AlertFilter:
        """The filter with its OR and NOT (checked against the caps of every where)."""
        check(self)
        return await self._tree(info)

    async def _tree(self, info: Ctx) -> al.AlertFilter:
        own = await super().resolve(info)
        either = [await alt._tree(info) for alt in self.or_] if self.or_ is not None else None
        return dataclasses.replace(
            own,
            any_of=tuple(either) if either is not None else None,
            none_of=await self.not_._tree(info) if self.not_ is not None else None,
        )


AlertWhereArg = Annotated[AlertWhere | None, strawberry.argument(description=_W)]
AlertFilterArg = Annotated[
    AlertFilterInput | None,
    strawberry.argument(
        description="Which alerts.", deprecation_reason="Use where (the same fields)."
    ),
]
AlertSortArg = Annotated[
    list[AlertSort] | None,
    strawberry.argument(description="One sort key (default: raisedAt, newest first)."),
]


async def _where(info: Ctx, where: AlertWhere | None, filter_: AlertFilterInput | None) -> Any:
    if where is not None and filter_ is not None:
        raise InvalidInput("give where or the deprecated filter, not both")
    return await (where or filter_ or AlertWhere()).resolve(info)


def _order(sort: list[AlertSort] | None) -> tuple[str, bool]:
    if not sort:
        return "raised_at", True
    if len(sort) > 1:
        raise InvalidInput("sort: alerts sort on one key (ties break on the alert id)")
    return str(sort[0].field.value), sort[0].direction is SortDirection.DESC


def _who(info: Ctx) -> str:
    return f"{info.context.role.value}:{info.context.key_id}"


def _now(info: Ctx) -> dt.datetime:
    return clock_of(info.context.extra)()


@strawberry.type
class AlertQuery:
    @strawberry.field(
        description="Alerts, newest first (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def alerts(
        self,
        info: Ctx,
        where: AlertWhereArg = None,
        sort: AlertSortArg = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"Page size going forward (default 20, at most {MAX_PAGE})."
            ),
        ] = None,
        after: After = None,
        last: Annotated[
            int | None,
            strawberry.argument(description=f"Page size going backward (at most {MAX_PAGE})."),
        ] = None,
        before: Before = None,
        filter: AlertFilterArg = None,
    ) -> AlertConnection:
        selected = await _where(info, where, filter)
        name, descending = _order(sort)
        win = window(first, after, last, before, MAX_PAGE)
        signature = f"alerts|{name}|{'desc' if descending else 'asc'}"
        position: tuple[Any, str] | None = None
        if win.cursor is not None:
            argument = "before" if win.backward else "after"
            value, alert_id = decode_cursor(win.cursor, signature, 2, argument)
            if not isinstance(alert_id, str):
                raise InvalidInput(f"{argument}: not a cursor this API issued")
            position = (value, alert_id)
        rows: Sequence[tuple[al.Alert, Any]] = []
        if win.size > 0:
            rows = await watch_of(info).alerts.page(
                selected,
                limit=win.size + 1,
                sort=name,
                descending=descending != win.backward,  # backward: the order reversed
                after=position,
            )
        more = len(rows) > win.size
        rows = rows[: win.size]
        if win.backward:
            rows = rows[::-1]
        edges = [
            AlertEdge(cursor=encode_cursor(signature, [v, a.id]), node=Alert.of(a)) for a, v in rows
        ]
        return AlertConnection(
            edges=edges,
            nodes=[e.node for e in edges],
            page_info=PageInfo(
                has_next_page=more if not win.backward else win.cursor is not None,
                has_previous_page=more if win.backward else win.cursor is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            filter_=selected,
        )

    @strawberry.field(
        description="One alert by its id.", permission_classes=[allow(MONITORING_READERS)]
    )
    async def alert(
        self, info: Ctx, id: AlertGlobalIdArg = None, alert_id: AlertIdArg = None
    ) -> Alert | None:
        return Alert.of(await watch_of(info).alerts.get(alert_key(id, alert_id)))


@strawberry.type(description="How many alerts have one value of a dimension.")
class AlertCount:
    key: str = strawberry.field(description="Severity, type or region code ('none': no region).")
    count: int = strawberry.field(description="Alerts.")
    dimension: strawberry.Private[str]

    @strawberry.field(description="The severity counted (in bySeverity; null elsewhere).")
    def severity(self) -> AlertSeverity | None:
        return AlertSeverity(self.key) if self.dimension == "severity" else None

    @strawberry.field(description="The type counted (in byType; null elsewhere).")
    def type(self) -> AlertKind | None:
        return AlertKind(self.key) if self.dimension == "type" else None

    @property
    def region_code(self) -> str | None:
        return self.key if self.dimension == "region" and self.key != "none" else None

    region = region_link("region_code", "The region counted (in byRegion; null for 'none').")


@strawberry.type(description="Matching alerts counted by severity, type and region.")
class AlertCounts:
    total: int = strawberry.field(description="All matching alerts.")
    by_severity: list[AlertCount] = strawberry.field(description="Most severe first.")
    by_type: list[AlertCount] = strawberry.field(description="Most frequent first.")
    by_region: list[AlertCount] = strawberry.field(
        description="By the project's own region, most frequent first."
    )


def _ranked(
    dimension: str, counts: dict[str, int], order: list[str] | None = None
) -> list[AlertCount]:
    if order is not None:
        keys = [k for k in order if k in counts]
    else:
        keys = sorted(counts, key=lambda k: (-counts[k], k))
    return [AlertCount(key=k, count=counts[k], dimension=dimension) for k in keys]


@strawberry.type
class AlertCountQuery:
    @strawberry.field(
        description="Alerts counted by severity, type and region, under the same filter as "
        "alerts (the wall's filters and headline; not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def alert_counts(
        self,
        info: Ctx,
        where: AlertWhereArg = None,
        filter: AlertFilterArg = None,
    ) -> AlertCounts:
        found = await watch_of(info).alerts.counts(await _where(info, where, filter))
        return AlertCounts(
            total=sum(found["severity"].values()),
            by_severity=_ranked("severity", found["severity"], [s.value for s in al.Severity]),
            by_type=_ranked("type", found["type"]),
            by_region=_ranked("region", found["region"]),
        )


@strawberry.type
class AlertMutation:
    @strawberry.mutation(
        description="Acknowledge an alert: ACTIVE_UNACK → ACTIVE_ACK, CLEARED_UNACK → "
        "CLEARED_ACK; an acknowledged one stays as it was (monitor, operator, admin).",
        permission_classes=[HandlesAlerts],
    )
    async def acknowledge_alert(
        self, info: Ctx, id: AlertGlobalIdArg = None, alert_id: AlertIdArg = None
    ) -> Alert:
        key = alert_key(id, alert_id)
        alert = await watch_of(info).alerts.acknowledge(key, _who(info), _now(info))
        return Alert.of(alert)

    @strawberry.mutation(
        description="Clear an active alert by hand (it reopens as a new alert if its "
        "condition still holds at the next check); a cleared one stays as it was "
        "(monitor, operator, admin).",
        permission_classes=[HandlesAlerts],
    )
    async def clear_alert(
        self, info: Ctx, id: AlertGlobalIdArg = None, alert_id: AlertIdArg = None
    ) -> Alert:
        key = alert_key(id, alert_id)
        alert = await watch_of(info).alerts.clear(key, _who(info), _now(info))
        return Alert.of(alert)


@strawberry.type(description="A change to an alert, as it happens.")
class AlertFeedEvent:
    change: AlertChange = strawberry.field(description="What happened.")
    alert: Alert = strawberry.field(description="The alert after the change.")


@strawberry.type
class AlertSubscription:
    @strawberry.subscription(
        description="Alerts raised, acknowledged and cleared, as they happen, over "
        "graphql-transport-ws; with region, only alerts of projects in that region or below. "
        "A slow client loses its oldest events beyond HUB_ALERTS_QUEUE.",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def alert_feed(
        self,
        info: Ctx,
        region: Annotated[
            str | None,
            strawberry.argument(description="A region's code (GB/T 2260) or global id."),
        ] = None,
    ) -> AsyncGenerator[AlertFeedEvent, None]:
        watch = watch_of(info)
        region = key_of(region, "Region") if region is not None else None
        if region is not None and not region.isdigit():
            raise InvalidInput("region: a GB/T 2260 code such as 330100")
        async with watch.feed.subscribe(region) as sub:
            async for event in sub:
                yield AlertFeedEvent(
                    change=AlertChange(event.change.value), alert=Alert.of(event.alert)
                )


# node(id:) finds alerts by their global id (hub.api.schema collects NODES).
NODES: Final = (NodeLookup("Alert", _alert_of, MONITORING_READERS),)


def alerts_link(description: str, where_of: Callable[[Any], AlertWhere]) -> Any:
    """An object's alerts (a project's, a region's), newest first: ``Query.alerts`` under the
    where ``where_of`` gives for the object, with its roles (not for the bank role)."""

    async def alerts(
        self: Any,
        info: Ctx,
        first: Annotated[int, strawberry.argument(description="Page size (at most 500).")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="endCursor of the previous page.")
        ] = None,
    ) -> AlertConnection | None:
        found: AlertConnection = await AlertQuery().alerts(
            info, where=where_of(self), first=first, after=after
        )
        return found

    return strawberry.field(
        resolver=alerts,
        description=description,
        permission_classes=[allow(MONITORING_READERS)],
    )
