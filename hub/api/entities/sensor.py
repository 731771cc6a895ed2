"""Sensor (传感器), the API's surface of ``graph_schema.model.Sensor``: its object type, where,
sort, mutation input and connection, and its share of the schema's ``lists.Surface``. Its kinds
are the feeds of ``connectors.feeds`` (hub.api.enums.SensorKind). See
``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import lists, partial
from hub.api.cameras import CameraConfigInput, CameraSettings
from hub.api.context import Context
from hub.api.enums import SensorKind, SortDirection
from hub.api.inputs import _DIRECTION, _NOT, _OR
from hub.api.monitoring import LatestReading, SensorStatus, latest_of, status_of, telemetry_of
from hub.api.relay import _S, _W, Connection, Node

if TYPE_CHECKING:
    from hub.api.entities.project import Project

Ctx = Info[Context, None]
ProjectRef = Annotated["Project", strawberry.lazy("hub.api.entities.project")]

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which sensors to list.")
class SensorWhere:
    kind: list[SensorKind] | None = strawberry.field(
        default=None, description="Any of these kinds."
    )
    project: str | None = strawberry.field(
        default=None, description="Monitoring the project with this code."
    )
    region: str | None = strawberry.field(
        default=None, description="Monitoring projects in this region or its sub-regions."
    )
    or_: list[SensorWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: SensorWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields sensors sort on.")
class SensorSortField(Enum):
    ID = strawberry.enum_value("id", description="Sensor id.")


@strawberry.input(description="One sort key for sensor lists.")
class SensorSort:
    field: SensorSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


SensorWhereArg = Annotated[SensorWhere | None, strawberry.argument(description=_W)]
SensorSortArg = Annotated[list[SensorSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


@strawberry.type(description="A sensor that monitors a project: meter, gate, camera or satellite.")
class Sensor(Node):
    id_: str = strawberry.field(name="sensorId", description="Sensor id, as in MQTT topics.")
    kind: SensorKind = strawberry.field(description="What it reports.")
    name: str | None = strawberry.field(description="Human-readable name.")
    unit: str | None = strawberry.field(description="Unit of its readings, e.g. kWh.")
    stale_after_s: float | None = strawberry.field(
        description="Silence after which it counts as stale, s; null: the hub's default "
        "(HUB_TELEMETRY_INACTIVITY_TIMEOUT_S)."
    )
    raw_camera: strawberry.Private[str | None] = None

    def node_key(self) -> str:
        return self.id_

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Sensor:
        stale = p.get("stale_after_s")
        return cls(
            id_=p["id"],
            kind=SensorKind(p["kind"]),
            name=p.get("name"),
            unit=p.get("unit"),
            stale_after_s=float(stale) if stale is not None else None,
            raw_camera=p.get("camera"),
        )

    @strawberry.field(description="Cameras: how it is read and analysed; null for other kinds.")
    def camera(self) -> CameraSettings | None:
        return CameraSettings.from_json(self.raw_camera, self.id_) if self.raw_camera else None

    @strawberry.field(
        description="ONLINE, STALE or NO_DATA from its newest reading's time; cameras OFFLINE "
        "or DEGRADED from their newest health."
    )
    async def status(self, info: Ctx) -> SensorStatus:
        latest = await latest_of(info, self.id_)
        return status_of(latest, telemetry_of(info), self.stale_after_s)

    @strawberry.field(description="When its newest stored reading was measured.")
    async def last_reading_at(self, info: Ctx) -> dt.datetime | None:
        latest = await latest_of(info, self.id_)
        return max((row.ts for row in latest), default=None)

    @strawberry.field(description="When ingest last stored a reading from it.")
    async def last_received_at(self, info: Ctx) -> dt.datetime | None:
        latest = await latest_of(info, self.id_)
        return max((row.seen_at for row in latest), default=None)

    @strawberry.field(description="Its newest reading of each metric.")
    async def latest(self, info: Ctx) -> list[LatestReading]:
        return [LatestReading.of(row) for row in await latest_of(info, self.id_)]

    @strawberry.field(description="The project it monitors.")
    async def project(self, info: Ctx) -> ProjectRef:
        return cast("Project", await lists.required_one(info, self, object))


@strawberry.type(description="A page of sensors.")
class SensorConnection(Connection[Sensor]):
    pass


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="A sensor to create or update." + partial.INPUT)
class SensorInput:
    id: str = strawberry.field(description="Sensor id (no '/', '+', '#' or spaces).")
    kind: SensorKind | None = strawberry.field(
        default=UNSET, description="What it reports." + partial.REQUIRED
    )
    project_code: str | None = strawberry.field(
        default=UNSET, description="The project it monitors." + partial.REQUIRED
    )
    name: str | None = strawberry.field(default=UNSET, description="Human-readable name.")
    unit: str | None = strawberry.field(default=UNSET, description="Unit, e.g. kWh.")
    stale_after_s: float | None = strawberry.field(
        default=UNSET, description="Silence after which it is stale, s (default: the hub's)."
    )
    camera: CameraConfigInput | None = strawberry.field(
        default=UNSET,
        description="Cameras: stream, sampling, masks, zones and thresholds; a configuration "
        "sent replaces the stored one whole.",
    )


# --- this entity's share of the schema's lists.Surface ---------------------------------------

PART: Final = lists.Part(
    "sensor",
    Sensor,
    SensorConnection,
    ("id", "kind"),
    {"project": lists.ToOne("sensor.project")},
    {"status": ("stale_after_s",), "camera": ("camera",)},
)
