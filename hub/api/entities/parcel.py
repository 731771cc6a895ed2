"""Land parcel (宗地), the API's surface of ``graph_schema.model.LandParcel``: its object type,
where, sort, mutation input, aggregate, group and connection, and its part of the schema's
``lists.Surface``. See ``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from hub.api import lists, partial
from hub.api.access import MONITORING_READERS, allow
from hub.api.aggregates import RegionLevelArg, Stats, Totals, groups, related_list
from hub.api.context import Context
from hub.api.entities.project import ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.enums import LandParcelGroupBy, LandUse, RegionLevel, SortDirection
from hub.api.inputs import _DIRECTION, _NOT, _OR, _REGION, _REGION_CODE, FloatRange
from hub.api.relay import _S, _W, Connection, Node
from hub.api.satellite import ParcelSatellite, parcel_satellite

if TYPE_CHECKING:
    from hub.api.entities.region import Region

Ctx = Info[Context, None]
RegionRef = Annotated["Region", strawberry.lazy("hub.api.entities.region")]

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which land parcels to list.")
class LandParcelWhere:
    region: str | None = strawberry.field(default=None, description=_REGION)
    use: list[LandUse] | None = strawberry.field(default=None, description="Any of these uses.")
    area_m2: FloatRange | None = strawberry.field(default=None, description="Area, m².")
    or_: list[LandParcelWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: LandParcelWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields land parcels sort on.")
class LandParcelSortField(Enum):
    ID = strawberry.enum_value("id", description="Parcel number.")
    AREA_M2 = strawberry.enum_value("area_m2", description="Area.")


@strawberry.input(description="One sort key for land parcel lists.")
class LandParcelSort:
    field: LandParcelSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


ParcelWhereArg = Annotated[LandParcelWhere | None, strawberry.argument(description=_W)]
ParcelSortArg = Annotated[list[LandParcelSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


@strawberry.type(description="A land parcel (宗地) with its surveyed boundary.")
class LandParcel(Node):
    id_: str = strawberry.field(name="parcelId", description="Parcel number (宗地编号).")
    use: LandUse = strawberry.field(description="Planned use.")
    area_m2: float = strawberry.field(description="Surveyed area, m².")
    lon: float | None = strawberry.field(description="Longitude of the boundary's centroid.")
    lat: float | None = strawberry.field(description="Latitude of the boundary's centroid.")
    raw_geometry: strawberry.Private[str | None]

    def node_key(self) -> str:
        return self.id_

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> LandParcel:
        return cls(
            id_=p["id"],
            use=LandUse(p["use"]),
            area_m2=float(p["area_m2"]),
            lon=p.get("lon"),
            lat=p.get("lat"),
            raw_geometry=p.get("geometry"),
        )

    @strawberry.field(description="Boundary as a GeoJSON Polygon or MultiPolygon (lon/lat).")
    def geometry(self) -> JSON | None:
        return json.loads(self.raw_geometry) if self.raw_geometry else None

    @strawberry.field(description="Where the parcel is.")
    async def region(self, info: Ctx) -> RegionRef:
        return cast("Region", await lists.required_one(info, self, object))

    @strawberry.field(
        description="Sentinel-2 series (NDVI, NDBI, BSI, clear share) and construction-change "
        "state from the satellite connector; days in [from, to], both optional (not for the "
        "bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    def satellite(
        self,
        info: Ctx,
        start: Annotated[
            dt.date | None, strawberry.argument(name="from", description="First day shown.")
        ] = None,
        end: Annotated[
            dt.date | None, strawberry.argument(name="to", description="Last day shown.")
        ] = None,
    ) -> ParcelSatellite | None:
        return parcel_satellite(info, self.id_, self.area_m2, start, end)

    projects = related_list(
        "Projects built on it.", ProjectConnection, ProjectWhereArg, ProjectSortArg
    )


@strawberry.type(description="Count and area over a set of land parcels.")
class LandParcelAggregate(Totals):
    count: int = strawberry.field(description="Number of parcels.")
    area_m2: Stats = strawberry.field(description="Area, m².")


@strawberry.type(description="One group of land parcels and its totals.")
class LandParcelGroup:
    key: str = strawberry.field(description="The group: a region code or a use value.")
    label: str | None = strawberry.field(description="Region name; null otherwise.")
    aggregate: LandParcelAggregate = strawberry.field(description="Totals of the group.")


# --- entities -------------------------------------------------------------------------------


@strawberry.type(description="A page of land parcels, with totals over the whole list.")
class LandParcelConnection(Connection[LandParcel]):
    @strawberry.field(description="Count and area over every matching parcel.")
    async def aggregate(self, info: Ctx) -> LandParcelAggregate:
        rows = await lists.aggregate_rows(info, self.page.scope)
        return LandParcelAggregate.of(rows[0] if rows else None)

    @strawberry.field(description="Totals per group over every matching parcel.")
    async def groups(
        self,
        info: Ctx,
        by: Annotated[LandParcelGroupBy, strawberry.argument(description="What to group by.")],
        region_level: RegionLevelArg = RegionLevel.CITY,
    ) -> list[LandParcelGroup]:
        return await groups(
            info, self.page.scope, str(by.value), region_level, LandParcelGroup, LandParcelAggregate
        )


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="A land parcel to create or update." + partial.INPUT)
class LandParcelInput:
    id: str = strawberry.field(description="Parcel number (宗地编号).")
    region_code: str | None = strawberry.field(
        default=UNSET, description=_REGION_CODE + partial.REQUIRED
    )
    use: LandUse | None = strawberry.field(
        default=UNSET, description="Planned use." + partial.REQUIRED
    )
    area_m2: float | None = strawberry.field(
        default=UNSET, description="Surveyed area, m²." + partial.REQUIRED
    )
    geometry: JSON | None = strawberry.field(
        default=UNSET, description="GeoJSON Polygon or MultiPolygon, lon/lat." + partial.REQUIRED
    )


# --- this entity's part of the schema's lists.Surface ----------------------------------------

PART: Final = lists.Part(
    "parcel",
    LandParcel,
    LandParcelConnection,
    ("id", "use", "area_m2"),
    {
        "region": lists.ToOne("parcel.region"),
        "projects": lists.ToMany("project", "parcel.projects"),
    },
    {"geometry": ("geometry",)},
)
