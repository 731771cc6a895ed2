"""Every aggregate type reads each of its amounts from the aggregate rows by the amount's own
name (``hub.api.aggregates.Totals``): the enterprise and parcel totals, like the project ones in
test_api_reads, match the generated demo records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import Enterprise, LandParcel
from hub.app import create_app
from hub.demo import DemoData
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER
from tests.hub.test_api_reads import gql

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(demo_store: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    async with started(create_app(api_settings(ANONYMOUS_VIEWER), store=demo_store)) as http:
        yield http


def _stats(values: Sequence[float]) -> dict[str, Any]:
    return {
        "sum": pytest.approx(sum(values)),
        "avg": pytest.approx(sum(values) / len(values)),
        "min": pytest.approx(min(values)),
        "max": pytest.approx(max(values)),
    }


async def test_enterprise_totals_match_the_records(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    query = """{ enterprises { aggregate { count
        output { sum avg min max } employees { sum avg min max } patents { sum avg min max }
    } } }"""
    got = (await gql(client, query))["enterprises"]["aggregate"]
    mine = [e for e in demo_data.records("enterprise") if isinstance(e, Enterprise)]
    assert got == {
        "count": len(mine),
        "output": _stats([e.output for e in mine]),
        "employees": _stats([e.employees for e in mine]),
        "patents": _stats([e.patents for e in mine]),
    }


async def test_parcel_totals_per_use_match_the_records(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    query = (
        """{ parcels { groups(by: USE) { key aggregate { count areaM2 { sum avg min max } } } } }"""
    )
    got = (await gql(client, query))["parcels"]["groups"]
    mine = [p for p in demo_data.records("parcel") if isinstance(p, LandParcel)]
    uses = sorted({p.use.value for p in mine})
    expected = {}
    for use in uses:
        areas = [p.area_m2 for p in mine if p.use.value == use]
        expected[use] = {"count": len(areas), "areaM2": _stats(areas)}
    assert {g["key"]: g["aggregate"] for g in got} == expected
