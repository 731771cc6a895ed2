"""Region (行政区划), the API's surface of ``graph_schema.model.Region``: its object type, where,
sort, mutation input and connection, and its share of the schema's ``lists.Surface``. See
``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import lists, partial
from hub.api.access import MONITORING_READERS, allow
from hub.api.aggregates import related_list
from hub.api.alerts import AlertWhere, alerts_link
from hub.api.context import Context
from hub.api.entities.bank import BankConnection, BankSortArg, BankWhereArg
from hub.api.entities.enterprise import (
    EnterpriseConnection,
    EnterpriseSortArg,
    EnterpriseWhereArg,
)
from hub.api.entities.parcel import LandParcelConnection, ParcelSortArg, ParcelWhereArg
from hub.api.entities.project import ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.enums import RegionLevel, SortDirection
from hub.api.inputs import _DIRECTION, _NAME, _NOT, _OR
from hub.api.relay import _S, _W, Connection, Node
from hub.api.scalars import Period

if TYPE_CHECKING:
    from hub.api.mpi import MpiSnapshot, RegionMpi

Ctx = Info[Context, None]
RegionMpiRef = Annotated["RegionMpi", strawberry.lazy("hub.api.mpi")]
MpiSnapshotRef = Annotated["MpiSnapshot", strawberry.lazy("hub.api.mpi")]
# A region lists its children before its connection type is defined.
RegionConnectionRef = Annotated["RegionConnection", strawberry.lazy(__name__)]

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which regions to list.")
class RegionWhere:
    level: RegionLevel | None = strawberry.field(default=None, description="Only this level.")
    codes: list[str] | None = strawberry.field(default=None, description="Only these codes.")
    name_contains: str | None = strawberry.field(default=None, description=_NAME)
    within: str | None = strawberry.field(
        default=None, description="Every region below this one (children and grandchildren)."
    )
    parent: str | None = strawberry.field(
        default=None, description="Only the direct children of this region."
    )
    or_: list[RegionWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: RegionWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields regions sort on.")
class RegionSortField(Enum):
    CODE = strawberry.enum_value("code", description="Division code.")
    NAME = strawberry.enum_value("name", description="Chinese name (by code point).")


@strawberry.input(description="One sort key for region lists.")
class RegionSort:
    field: RegionSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


RegionWhereArg = Annotated[RegionWhere | None, strawberry.argument(description=_W)]
RegionSortArg = Annotated[list[RegionSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


@strawberry.type(description="A GB/T 2260 administrative region: province, city or county.")
class Region(Node):
    code: str = strawberry.field(description="Six-digit division code.")
    name: str = strawberry.field(description="Chinese name, e.g. 杭州市.")
    name_en: str | None = strawberry.field(description="English name.")
    level: RegionLevel = strawberry.field(description="Province, city or county.")
    lon: float | None = strawberry.field(description="Longitude of the seat of government.")
    lat: float | None = strawberry.field(description="Latitude of the seat of government.")

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Region:
        return cls(
            code=p["code"],
            name=p["name"],
            name_en=p.get("name_en"),
            level=RegionLevel(p["level"]),
            lon=p.get("lon"),
            lat=p.get("lat"),
        )

    @strawberry.field(description="The region one level up; null for a province.")
    async def parent(self, info: Ctx) -> Region | None:
        return await lists.to_one(info, self, Region)

    children = related_list(
        "The regions one level down.", RegionConnectionRef, RegionWhereArg, RegionSortArg
    )

    projects = related_list(
        "Projects built here.", ProjectConnection, ProjectWhereArg, ProjectSortArg, sub_regions=True
    )

    enterprises = related_list(
        "Enterprises registered here.",
        EnterpriseConnection,
        EnterpriseWhereArg,
        EnterpriseSortArg,
        sub_regions=True,
    )

    parcels = related_list(
        "Land parcels here.", LandParcelConnection, ParcelWhereArg, ParcelSortArg, sub_regions=True
    )

    banks = related_list(
        "Banks (branches) here.", BankConnection, BankWhereArg, BankSortArg, sub_regions=True
    )

    alerts = alerts_link(
        "Alerts of projects here or below, newest first (not for the bank role).",
        lambda self: AlertWhere(region=self.code),
    )

    @strawberry.field(
        description="Its Major Project Progress Index for a half-month period (default: the "
        "current one), as Query.mpi ranks it; null when not ranked (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def mpi(
        self,
        info: Ctx,
        period: Annotated[
            Period | None, strawberry.argument(description="A half-month: YYYY-MM-H1 or -H2.")
        ] = None,
        list_id: Annotated[
            str | None,
            strawberry.argument(name="list", description="Built-in list (default HUB_MPI_LIST)."),
        ] = None,
        as_of: Annotated[
            dt.date | None, strawberry.argument(description="Evaluate as of this day.")
        ] = None,
    ) -> RegionMpiRef | None:
        from hub.api.entities import links  # import circle: see there

        return await links.region_mpi(info, self.code, period, list_id, as_of)

    @strawberry.field(
        description="Its stored MPI snapshots, oldest period first (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def mpi_history(
        self,
        info: Ctx,
        list_id: Annotated[
            str | None, strawberry.argument(name="list", description="Built-in list.")
        ] = None,
    ) -> list[MpiSnapshotRef] | None:
        from hub.api.entities import links  # import circle: see there

        return list(await links.region_mpi_history(info, self.code, list_id))


@strawberry.type(description="A page of regions.")
class RegionConnection(Connection[Region]):
    pass


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="A region to create or update." + partial.INPUT)
class RegionInput:
    code: str = strawberry.field(description="Six-digit GB/T 2260 code.")
    name: str | None = strawberry.field(
        default=UNSET, description="Chinese name." + partial.REQUIRED
    )
    level: RegionLevel | None = strawberry.field(
        default=UNSET, description="Must match the code." + partial.REQUIRED
    )
    name_en: str | None = strawberry.field(default=UNSET, description="English name.")
    parent_code: str | None = strawberry.field(
        default=UNSET, description="Parent region; required below province level."
    )
    lon: float | None = strawberry.field(default=UNSET, description="Longitude of the seat.")
    lat: float | None = strawberry.field(default=UNSET, description="Latitude of the seat.")


# --- this entity's share of the schema's lists.Surface ---------------------------------------

PART: Final = lists.Part(
    "region",
    Region,
    RegionConnection,
    ("code", "name", "level"),
    {
        "parent": lists.ToOne("region.parent"),
        "children": lists.ToMany("region", "region.children"),
        "projects": lists.ToMany("project", "region.projects", "region.projects_direct"),
        "enterprises": lists.ToMany(
            "enterprise", "region.enterprises", "region.enterprises_direct"
        ),
        "parcels": lists.ToMany("parcel", "region.parcels", "region.parcels_direct"),
        "banks": lists.ToMany("bank", "region.banks", "region.banks_direct"),
    },
    # The links to other modules' answers read only the region's code (its key).
    {"alerts": (), "mpi": (), "mpiHistory": ()},
)
