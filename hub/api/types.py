"""GraphQL object types for the first slice of the API."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Self

import strawberry
from strawberry.scalars import JSON


@strawberry.enum(description="Administrative level of a region.")
class RegionLevel(Enum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


@strawberry.enum(description="Position of a segment along its industry chain.")
class Tier(Enum):
    UPSTREAM = "upstream"
    MIDSTREAM = "midstream"
    DOWNSTREAM = "downstream"


@strawberry.type(description="A GB/T 2260 administrative region.")
class Region:
    code: str = strawberry.field(description="Six-digit GB/T 2260 code.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str | None = strawberry.field(description="English name.")
    level: RegionLevel = strawberry.field(description="province, city or county.")
    parent_code: str | None = strawberry.field(description="Code of the parent region.")
    lon: float | None = strawberry.field(description="Longitude of the seat of government.")
    lat: float | None = strawberry.field(description="Latitude of the seat of government.")
    child_codes: list[str] | None = strawberry.field(
        description="Codes of the sub-regions (only on single-region lookups)."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        return cls(
            code=row["code"],
            name=row["name"],
            name_en=row.get("name_en"),
            level=RegionLevel(row["level"]),
            parent_code=row.get("parent_code"),
            lon=row.get("lon"),
            lat=row.get("lat"),
            child_codes=sorted(row["children"]) if row.get("children") is not None else None,
        )


@strawberry.type(description="A segment (link) of an industry chain.")
class ChainSegment:
    id: str = strawberry.field(description="'<chain>.<segment>' id.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str | None = strawberry.field(description="English name.")
    tier: Tier = strawberry.field(description="upstream, midstream or downstream.")
    position: int = strawberry.field(description="Order within the tier.")
    enterprise_count: int = strawberry.field(description="Enterprises in this segment.")
    supplies: list[str] = strawberry.field(description="Ids of the segments this one supplies.")


@strawberry.type(description="An industry chain with its segments.")
class IndustryChain:
    id: str = strawberry.field(description="Short id, e.g. nev.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str | None = strawberry.field(description="English name.")
    segments: list[ChainSegment] = strawberry.field(description="Segments by tier and position.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        order = {t.value: i for i, t in enumerate(Tier)}
        segments = sorted(row["segments"], key=lambda s: (order[s["tier"]], s["position"] or 0))
        return cls(
            id=row["id"],
            name=row["name"],
            name_en=row.get("name_en"),
            segments=[
                ChainSegment(
                    id=s["id"],
                    name=s["name"],
                    name_en=s.get("name_en"),
                    tier=Tier(s["tier"]),
                    position=int(s["position"] or 0),
                    enterprise_count=int(s["enterprises"]),
                    supplies=sorted(s["supplies"]),
                )
                for s in segments
            ],
        )


@strawberry.type(description="A major investment project. Amounts are in 万元 (10,000 CNY).")
class Project:
    code: str = strawberry.field(description="National investment-project code.")
    name: str = strawberry.field(description="Project name.")
    stage: str = strawberry.field(description="planning, preparation, construction, ...")
    kind: str = strawberry.field(description="new or continuing.")
    level: str = strawberry.field(description="provincial, city or county major project.")
    leader_project: bool = strawberry.field(description="Tracked by a provincial leader.")
    total_investment: float = strawberry.field(description="Total investment, 万元.")
    annual_plan_investment: float = strawberry.field(description="This year's plan, 万元.")
    completed_investment: float = strawberry.field(description="Completed to date, 万元.")
    planned_start: str | None = strawberry.field(description="Planned start date (ISO).")
    planned_end: str | None = strawberry.field(description="Planned end date (ISO).")
    actual_start: str | None = strawberry.field(description="Actual start date (ISO).")
    actual_end: str | None = strawberry.field(description="Actual end date (ISO).")
    owner_uscc: str | None = strawberry.field(description="Owner's unified social credit code.")
    owner_name: str | None = strawberry.field(description="Owner's name.")
    region_code: str | None = strawberry.field(description="County where it is built.")
    region_name: str | None = strawberry.field(description="Name of that county.")
    segment_ids: list[str] = strawberry.field(description="Chain segments it builds in.")
    parcel_ids: list[str] = strawberry.field(description="Land parcels it is built on.")
    sensor_ids: list[str] = strawberry.field(description="Sensors that monitor it.")
    extra: JSON = strawberry.field(description="Other stored properties, as a JSON object.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        props = dict(row["props"])
        known = {f.name for f in cls.__strawberry_definition__.fields}  # type: ignore[attr-defined]
        return cls(
            code=props["code"],
            name=props["name"],
            stage=props["stage"],
            kind=props["kind"],
            level=props["level"],
            leader_project=bool(props.get("leader_project", False)),
            total_investment=float(props.get("total_investment", 0)),
            annual_plan_investment=float(props.get("annual_plan_investment", 0)),
            completed_investment=float(props.get("completed_investment", 0)),
            planned_start=props.get("planned_start"),
            planned_end=props.get("planned_end"),
            actual_start=props.get("actual_start"),
            actual_end=props.get("actual_end"),
            owner_uscc=row.get("owner_uscc"),
            owner_name=row.get("owner_name"),
            region_code=row.get("region_code"),
            region_name=row.get("region_name"),
            segment_ids=sorted(row["segment_ids"]),
            parcel_ids=sorted(row["parcel_ids"]),
            sensor_ids=sorted(row["sensor_ids"]),
            extra=json.loads(json.dumps({k: v for k, v in props.items() if k not in known})),
        )


@strawberry.type(description="A full-text search hit.")
class ProjectHit:
    code: str = strawberry.field(description="Project code.")
    name: str = strawberry.field(description="Project name.")
    score: float = strawberry.field(description="Relevance; higher is better.")
