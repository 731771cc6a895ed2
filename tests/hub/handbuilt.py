"""A small hand-built graph for the financing, land and schedule tests, and a way to run
GraphQL as any role with a fixed clock (the schema executed in process, no HTTP)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import strawberry

from graph_schema.identifiers import make_uscc
from graph_schema.model import validate
from graph_schema.store import GraphStore
from hub.api.context import Context
from hub.api.schema import build_schema
from hub.bulk import import_records
from hub.clock import ZONE, fixed
from hub.roles import Role

OWNER = make_uscc("330106", "000000001")
OWNER_NAME = "杭州甬能电池科技有限公司"
OTHER = make_uscc("330203", "000000002")
OTHER_NAME = "宁波芯途微电子有限公司"
P1 = "2025-330106-36-01-F00001"  # Hangzhou (西湖区), nev
P2 = "2025-330203-36-01-F00002"  # Ningbo (海曙区), ic
P1_NAME = "年产20GWh动力电池项目"
P2_NAME = "车规级芯片设计中心项目"
NOW = dt.datetime(2025, 6, 16, 10, 0, tzinfo=ZONE)
PARCEL = "330106-L001"  # P1's parcel: 0.01° × 0.01° from (120.00, 30.00)


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


_REGIONS = [
    ("330000", "浙江省", "province", None),
    ("330100", "杭州市", "city", "330000"),
    ("330106", "西湖区", "county", "330100"),
    ("330200", "宁波市", "city", "330000"),
    ("330203", "海曙区", "county", "330200"),
]


async def build(store: GraphStore) -> None:
    async def load(entity: str, rows: list[dict[str, Any]]) -> None:
        await import_records(store, entity, [validate(entity, r) for r in rows])

    await load(
        "region",
        [{"code": c, "name": n, "level": lv, "parent_code": p} for c, n, lv, p in _REGIONS],
    )
    await load("chain", [{"id": "nev", "name": "新能源汽车"}, {"id": "ic", "name": "集成电路"}])
    await load(
        "segment",
        [
            {"id": "nev.cells", "chain_id": "nev", "name": "动力电池电芯", "tier": "midstream"},
            {"id": "ic.design", "chain_id": "ic", "name": "芯片设计", "tier": "midstream"},
        ],
    )
    await load(
        "enterprise",
        [
            {"uscc": OWNER, "name": OWNER_NAME, "region_code": "330106"},
            {"uscc": OTHER, "name": OTHER_NAME, "region_code": "330203"},
        ],
    )
    parcel = {
        "id": PARCEL,
        "region_code": "330106",
        "use": "industrial",
        "area_m2": 1_068_000,
        "geometry": box(120.00, 30.00, 120.01, 30.01),
    }
    await load("parcel", [parcel])
    base = {"kind": "new", "level": "provincial", "stage": "preparation"}
    await load(
        "project",
        [
            {
                **base,
                "code": P1,
                "name": P1_NAME,
                "owner_uscc": OWNER,
                "region_code": "330106",
                "segment_ids": ["nev.cells"],
                "parcel_ids": [PARCEL],
                "total_investment": 120000,
            },
            {
                **base,
                "code": P2,
                "name": P2_NAME,
                "owner_uscc": OTHER,
                "region_code": "330203",
                "segment_ids": ["ic.design"],
                "total_investment": 8000,
            },
        ],
    )
    await load(
        "bank",
        [
            {
                "id": "bank-a",
                "name": "甲银行杭州分行",
                "kind": "state_owned",
                "region_code": "330100",
            },
            {
                "id": "bank-b",
                "name": "乙银行宁波分行",
                "kind": "joint_stock",
                "region_code": "330200",
            },
            {"id": "bank-c", "name": "丙农商银行", "kind": "rural", "region_code": "330100"},
        ],
    )


_SCHEMA: strawberry.Schema | None = None


def schema() -> strawberry.Schema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = build_schema()
    return _SCHEMA


async def run(
    store: GraphStore,
    query: str,
    *,
    role: Role,
    subject: str | None = None,
    now: dt.datetime = NOW,
    **variables: Any,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Data and errors (as dicts with message, path and code) of one operation."""
    context = Context(store=store, role=role, subject=subject, extra={"clock": fixed(now)})
    result = await schema().execute(query, variable_values=variables, context_value=context)
    errors = [
        {
            "message": e.message,
            "path": e.path,
            "code": (e.extensions or {}).get("code") or getattr(e.original_error, "code", None),
        }
        for e in result.errors or []
    ]
    return result.data, errors


async def ok(store: GraphStore, query: str, *, role: Role, **kwargs: Any) -> dict[str, Any]:
    data, errors = await run(store, query, role=role, **kwargs)
    assert not errors, errors
    assert data is not None
    return data


def text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
