"""Partial upserts over HTTP, for every upsert of a graph record, on both graph stores: a field
left out is unchanged, an explicit null clears it, links likewise; a new object needs its
required fields; item errors name fields as the schema spells them and list every problem.

What is stored is read back from the graph store itself (and, for the issue's case, through
the API), so the check does not trust the mutation's own answer.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from strawberry.utils.str_converters import to_camel_case

from graph_schema.cypher import Statement
from graph_schema.errors import InvalidRecord
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.identifiers import make_uscc
from graph_schema.model import (
    SPECS,
    ChainSegment,
    Enterprise,
    Indicator,
    LandParcel,
    Project,
    Record,
    Region,
    validate,
)
from graph_schema.patch import stored_fields
from graph_schema.statements import entities as st
from graph_schema.statements import schedules as ss
from graph_schema.store import GraphStore
from hub.api.items import ItemError
from hub.api.partial import field_names
from hub.demo import DemoData
from tests.hub.test_api_mutations import _client
from tests.hub.test_api_reads import gql

pytestmark = pytest.mark.anyio


@pytest.fixture
async def operator(writable: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(writable, "operator") as http:
        yield http


# --- one case per upsert ------------------------------------------------------------------------

Item = dict[str, Any]


@dataclass(frozen=True)
class Case:
    entity: str
    mutation: str
    input: str
    create: Callable[[DemoData], Item]  # every field, as a client sends it
    change: tuple[str, Any]  # a field to change while leaving the rest out
    required: str  # a field a stored object needs (null is refused)
    clear: str | None = None  # an optional field an explicit null clears
    links: tuple[str, Callable[[DemoData], list[str]]] | None = None  # a to-many link, other ids

    @property
    def keys(self) -> tuple[str, ...]:
        spec = SPECS[self.entity]
        return tuple(to_camel_case(f) for f in (spec.record.key_parts or (spec.key,)))


def _first[R: Record](demo: DemoData, entity: str, kind: type[R]) -> R:
    return next(r for r in demo.records(entity) if isinstance(r, kind))


def _county(demo: DemoData) -> str:
    return _first(demo, "project", Project).region_code


def _segments(demo: DemoData) -> list[str]:
    return [s.id for s in demo.records("segment") if isinstance(s, ChainSegment)]


def _projects(demo: DemoData) -> list[str]:
    return [p.code for p in demo.records("project") if isinstance(p, Project)]


def _project_code(demo: DemoData, suffix: str) -> str:
    return f"2026-{_county(demo)}-35-01-{suffix}"


def _region(demo: DemoData) -> Item:
    codes = {r.code for r in demo.records("region") if isinstance(r, Region)}
    code = next(c for c in (f"3301{n:02d}" for n in range(97, 0, -1)) if c not in codes)
    return {
        "code": code,
        "name": "测试区",
        "level": "COUNTY",
        "nameEn": "Test district",
        "parentCode": "330100",
        "lon": 120.2,
        "lat": 30.3,
    }


def _enterprise(demo: DemoData) -> Item:
    product = next(p for p in demo.records("product"))
    return {
        "uscc": make_uscc(_county(demo), "77777772X"),
        "name": "测试部分更新有限公司",
        "regionCode": _county(demo),
        "segmentIds": _segments(demo)[:2],
        "productIds": [product.key()],
        "tags": ["HIGH_TECH"],
        "output": 1234.5,
        "employees": 120,
        "patents": 7,
        "founded": "2019-05-01",
        "outputGrowth": 12.5,
    }


def _parcel(demo: DemoData) -> Item:
    base = _first(demo, "parcel", LandParcel)
    return {
        "id": f"{base.region_code}-2026-TST1",
        "regionCode": base.region_code,
        "use": "INDUSTRIAL",
        "areaM2": base.area_m2,
        "geometry": base.geometry,
    }


def _project(demo: DemoData) -> Item:
    owner = _first(demo, "enterprise", Enterprise)
    parcel = _first(demo, "parcel", LandParcel)
    return {
        "code": _project_code(demo, "TSTP01"),
        "name": "测试部分更新项目",
        "ownerUscc": owner.uscc,
        "regionCode": _county(demo),
        "stage": "PREPARATION",
        "kind": "NEW",
        "level": "COUNTY",
        "totalInvestment": 12000.0,
        "segmentIds": _segments(demo)[:2],
        "parcelIds": [parcel.id],
        "leaderProject": True,
        "annualPlanInvestment": 3000.0,
        "completedInvestment": 500.0,
        "yearCompletedInvestment": 200.0,
        "plannedStart": "2026-03-01",
        "plannedEnd": "2028-12-31",
        "actualStart": "2026-04-01",
        "actualEnd": "2028-06-30",
        "permitDate": "2026-02-15",
    }


CASES = [
    Case(
        "region", "upsertRegions", "RegionInput", _region, ("name", "测试新区"), "level", "nameEn"
    ),
    Case(
        "chain",
        "upsertIndustryChains",
        "IndustryChainInput",
        lambda d: {"id": "tstchain", "name": "测试链", "nameEn": "Test", "industryCodes": ["3841"]},
        ("name", "测试产业链"),
        "name",
        "nameEn",
    ),
    Case(
        "segment",
        "upsertSegments",
        "ChainSegmentInput",
        lambda d: {
            "id": "nev.tst-partial",
            "chainId": "nev",
            "name": "测试环节",
            "nameEn": "Test segment",
            "tier": "UPSTREAM",
            "position": 9,
            "industryCodes": ["3841"],
        },
        ("tier", "MIDSTREAM"),
        "tier",
        "nameEn",
    ),
    Case(
        "product",
        "upsertProducts",
        "ProductInput",
        lambda d: {"id": "nev.tst-partial-product", "name": "测试产品", "segmentId": "nev.cathode"},
        ("name", "测试产品二"),
        "segmentId",
    ),
    Case(
        "enterprise",
        "upsertEnterprises",
        "EnterpriseInput",
        _enterprise,
        ("employees", 150),
        "regionCode",
        "outputGrowth",
        ("segmentIds", lambda d: _segments(d)[2:3]),
    ),
    Case("parcel", "upsertParcels", "LandParcelInput", _parcel, ("use", "WAREHOUSING"), "use"),
    Case(
        "project",
        "upsertProjects",
        "ProjectInput",
        _project,
        ("name", "测试部分更新项目（二期）"),
        "ownerUscc",
        "plannedStart",
        ("segmentIds", lambda d: _segments(d)[3:4]),
    ),
    Case(
        "bank",
        "upsertBanks",
        "BankInput",
        lambda d: {
            "id": "tst-bank",
            "name": "测试银行",
            "kind": "CITY_COMMERCIAL",
            "regionCode": "330000",
        },
        ("name", "测试银行二"),
        "kind",
    ),
    Case(
        "sensor",
        "upsertSensors",
        "SensorInput",
        lambda d: {
            "id": "pwr-TSTPART",
            "kind": "POWER",
            "projectCode": _projects(d)[0],
            "name": "测试电表",
            "unit": "kWh",
            "staleAfterS": 3600.0,
        },
        ("name", "测试电表二"),
        "projectCode",
        "unit",
    ),
    Case(
        "project_list",
        "upsertProjectLists",
        "ProjectListInput",
        lambda d: {
            "id": "tst-partial",
            "name": "测试清单",
            "description": "For the partial-update test.",
            "projectCodes": _projects(d)[:2],
        },
        ("name", "测试清单二"),
        "name",
        "description",
        ("projectCodes", lambda d: _projects(d)[2:3]),
    ),
    Case(
        "indicator",
        "upsertIndicators",
        "IndicatorInput",
        lambda d: {
            "id": "tst_partial",
            "name": "测试指标",
            "unit": "%",
            "frequency": "MONTHLY",
            "nameEn": "Test indicator",
            "polarity": "NEGATIVE",
            "barometerWeight": 1.0,
            "raceWeight": 0.5,
            "description": "For the partial-update test.",
        },
        ("barometerWeight", 2.0),
        "unit",
        "raceWeight",
    ),
    Case(
        "indicator_value",
        "upsertIndicatorValues",
        "IndicatorValueInput",
        lambda d: {
            "indicatorId": _first(d, "indicator", Indicator).id,
            "regionCode": "330000",
            "period": "2031-01",
            "value": 1.5,
        },
        ("value", 2.5),
        "value",
    ),
    Case(
        "indicator_target",
        "upsertIndicatorTargets",
        "IndicatorTargetInput",
        lambda d: {
            "indicatorId": "fai_growth",
            "regionCode": "330100",
            "year": 2031,
            "target": 6.5,
            "basis": "TOTAL",
        },
        ("target", 7.0),
        "target",
        "basis",
    ),
]

ENUM_FIELDS = {"level", "tier", "tags", "use", "kind", "stage", "frequency", "polarity", "basis"}


def _model_name(name: str) -> str:
    return re.sub(r"([A-Z0-9])", r"_\1", name).lower().replace("_m_2", "_m2")


def _model_value(name: str, value: Any) -> Any:
    if name in ENUM_FIELDS:
        return [v.lower() for v in value] if isinstance(value, list) else value.lower()
    return value


def _expected(case: Case, sent: Item) -> Record:
    data = {_model_name(k): _model_value(k, v) for k, v in sent.items() if v is not None}
    return validate(case.entity, data)


async def _stored(store: GraphStore, case: Case, key: str) -> Record | None:
    spec = SPECS[case.entity]
    rows = await store.run(st.fetch_existing(spec), {"keys": [key]})
    return validate(case.entity, stored_fields(spec, rows[0])) if rows else None


async def _upsert(http: httpx.AsyncClient, case: Case, *items: Item) -> list[dict[str, Any]]:
    query = f"""mutation($items: [{case.input}!]!) {{ {case.mutation}(items: $items) {{
        items {{ key outcome errors {{ code field message }} }} }} }}"""
    result: list[dict[str, Any]] = (await gql(http, query, items=list(items)))[case.mutation][
        "items"
    ]
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.entity for c in CASES])
async def test_an_upsert_changes_only_what_it_sent(
    case: Case, operator: httpx.AsyncClient, writable: GraphStore, demo_data: DemoData
) -> None:
    full = case.create(demo_data)
    key_fields = {k: full[k] for k in case.keys}

    # A new object needs its required fields: all are named, as the schema spells them.
    (missing,) = await _upsert(operator, case, key_fields)
    spec = SPECS[case.entity]
    required = {
        to_camel_case(name)
        for name, f in spec.record.model_fields.items()
        if f.is_required() and to_camel_case(name) not in case.keys
    }
    assert missing["outcome"] == "REJECTED"
    assert {e["field"] for e in missing["errors"]} == required
    assert all(e["message"] == f"required to create a {spec.label}" for e in missing["errors"])

    # Created with every field: stored exactly so.
    (created,) = await _upsert(operator, case, full)
    assert (created["outcome"], created["errors"]) == ("CREATED", []), created
    key = created["key"]
    assert await _stored(writable, case, key) == _expected(case, full)

    # One field sent, the rest left out: only that field changes.
    field, value = case.change
    (changed,) = await _upsert(operator, case, {**key_fields, field: value})
    assert changed["outcome"] == "UPDATED", changed
    now = {**full, field: value}
    assert await _stored(writable, case, key) == _expected(case, now)
    (again,) = await _upsert(operator, case, {**key_fields, field: value})
    assert again["outcome"] == "UNCHANGED"

    # An explicit null clears an optional field (to the model's default) and nothing else.
    if case.clear is not None:
        (cleared,) = await _upsert(operator, case, {**key_fields, case.clear: None})
        assert cleared["outcome"] == "UPDATED", cleared
        now = {**now, case.clear: None}
        assert await _stored(writable, case, key) == _expected(case, now)

    # A field the object needs cannot be cleared; the item is refused and nothing changes.
    (refused,) = await _upsert(operator, case, {**key_fields, case.required: None})
    assert refused["outcome"] == "REJECTED"
    assert refused["errors"] == [
        {
            "code": "BAD_USER_INPUT",
            "field": case.required,
            "message": "required: it cannot be cleared",
        }
    ]
    assert await _stored(writable, case, key) == _expected(case, now)

    # Links: a list is exactly those, left out is unchanged, [] and null clear them.
    if case.links is not None:
        name, others = case.links
        targets = others(demo_data)
        assert targets and set(targets).isdisjoint(full[name])
        steps: list[tuple[Item, list[str]]] = [
            ({name: targets}, targets),
            ({field: value}, targets),
            ({name: []}, []),
            ({name: full[name]}, full[name]),
            ({name: None}, []),
        ]
        for sent, links in steps:
            (done,) = await _upsert(operator, case, {**key_fields, **sent})
            assert done["errors"] == [], (sent, done)
            now = {**now, name: links}
            assert await _stored(writable, case, key) == _expected(case, now), sent


PROJECT_READ = """query($c: String!) { project(code: $c) {
    name plannedStart segments { nodes { segmentId } } parcels { nodes { parcelId } } } }"""


async def test_an_edit_form_that_leaves_out_planned_start_and_segments_keeps_them(
    operator: httpx.AsyncClient, demo_data: DemoData
) -> None:
    """The issue's case: an edit form sent the name only, and plannedStart and segmentIds were
    cleared. Now they stay; nulls clear them."""
    case = next(c for c in CASES if c.entity == "project")
    full = {**_project(demo_data), "code": _project_code(demo_data, "TSTP02")}
    (created,) = await _upsert(operator, case, full)
    assert created["outcome"] == "CREATED", created
    (renamed,) = await _upsert(operator, case, {"code": full["code"], "name": "只改名称"})
    assert renamed["outcome"] == "UPDATED", renamed
    found = (await gql(operator, PROJECT_READ, c=full["code"]))["project"]
    assert found["name"] == "只改名称"
    assert found["plannedStart"] == "2026-03-01"
    assert sorted(s["segmentId"] for s in found["segments"]["nodes"]) == sorted(full["segmentIds"])
    assert [p["parcelId"] for p in found["parcels"]["nodes"]] == full["parcelIds"]

    cleared = {"code": full["code"], "plannedStart": None, "segmentIds": None}
    (done,) = await _upsert(operator, case, cleared)
    assert done["outcome"] == "UPDATED", done
    found = (await gql(operator, PROJECT_READ, c=full["code"]))["project"]
    assert (found["name"], found["plannedStart"], found["segments"]["nodes"]) == (
        "只改名称",
        None,
        [],
    )
    assert [p["parcelId"] for p in found["parcels"]["nodes"]] == full["parcelIds"]


async def test_an_item_lists_every_problem_in_the_schema_s_spelling(
    operator: httpx.AsyncClient, demo_data: DemoData
) -> None:
    case = next(c for c in CASES if c.entity == "project")
    bad = {
        **_project(demo_data),
        "code": _project_code(demo_data, "TSTP03"),
        "stage": "CONSTRUCTION",
        "annualPlanInvestment": 99999.0,
        "plannedEnd": "2020-01-01",
        "actualStart": None,
    }
    (item,) = await _upsert(operator, case, bad)
    assert item["outcome"] == "REJECTED"
    assert [(e["code"], e["field"], e["message"]) for e in item["errors"]] == [
        ("BAD_USER_INPUT", "annualPlanInvestment", "annualPlanInvestment exceeds totalInvestment"),
        ("BAD_USER_INPUT", "plannedEnd", "plannedEnd 2020-01-01 is before plannedStart 2026-03-01"),
        ("BAD_USER_INPUT", "actualStart", "stage construction needs actualStart"),
    ]

    # Field errors come all at once too, each with its field.
    wrong = {**bad, "totalInvestment": -1.0, "ownerUscc": "91330000000000000X", "name": ""}
    (item,) = await _upsert(operator, case, wrong)
    assert {e["field"] for e in item["errors"]} == {"totalInvestment", "ownerUscc", "name"}

    # An empty key is named along with the other problems of the values sent.
    (item,) = await _upsert(operator, case, {"code": " ", "totalInvestment": -1.0})
    first = item["errors"][0]
    assert (first["field"], first["message"]) == ("code", "required: it names the object")
    assert {e["field"] for e in item["errors"]} == {"code", "totalInvestment"}


async def test_a_partial_item_is_checked_with_what_is_stored(
    operator: httpx.AsyncClient, demo_data: DemoData, writable: GraphStore
) -> None:
    """The merged record is validated whole: a total below the stored annual plan is refused,
    naming the stored field; a second item for the same key in the batch sees the first."""
    case = next(c for c in CASES if c.entity == "project")
    full = {**_project(demo_data), "code": _project_code(demo_data, "TSTP04")}
    (created,) = await _upsert(operator, case, full)
    assert created["outcome"] == "CREATED", created
    (item,) = await _upsert(operator, case, {"code": full["code"], "totalInvestment": 1000.0})
    assert item["outcome"] == "REJECTED"
    assert [(e["field"], e["message"]) for e in item["errors"]] == [
        ("annualPlanInvestment", "annualPlanInvestment exceeds totalInvestment")
    ]
    first = {"code": full["code"], "annualPlanInvestment": 800.0}
    second = {"code": full["code"], "totalInvestment": 1000.0}
    both = await _upsert(operator, case, first, second)
    assert [i["outcome"] for i in both] == ["UPDATED", "UPDATED"], both
    now = {**full, **first, **second}
    assert await _stored(writable, case, full["code"]) == _expected(case, now)

    region = next(c for c in CASES if c.entity == "region")
    county = {**_region(demo_data), "code": "330198"}
    (made,) = await _upsert(operator, region, county)
    assert made["outcome"] == "CREATED", made
    (lone,) = await _upsert(operator, region, {"code": county["code"], "lon": None})
    assert [(e["field"], e["message"]) for e in lone["errors"]] == [
        ("lon", "lon and lat go together")
    ]
    (pair,) = await _upsert(operator, region, {"code": county["code"], "lon": None, "lat": None})
    assert pair["outcome"] == "UPDATED", pair


# --- schedule tasks, investment months and approval items ----------------------------------------


@dataclass(frozen=True)
class ScheduleCase:
    name: str
    mutation: str
    input: str
    record: type[BaseModel]
    read: Statement
    id_parts: tuple[str, str]
    create: Callable[[str], Item]  # every field, for a project code
    change: tuple[str, Any]
    clear: str
    required: str | None


SCHEDULE_CASES = [
    ScheduleCase(
        "task",
        "upsertScheduleTasks",
        "ScheduleTaskInput",
        ss.ScheduleTask,
        ss.TASKS,
        ("projectCode", "code"),
        lambda p: {
            "projectCode": p,
            "code": "tst-task",
            "name": "测试任务",
            "owner": "测试责任单位",
            "position": 3,
            "plannedStart": "2026-03-01",
            "plannedEnd": "2026-06-30",
            "actualStart": "2026-03-05",
            "actualEnd": "2026-06-20",
        },
        ("owner", "新责任单位"),
        "actualEnd",
        "plannedStart",
    ),
    ScheduleCase(
        "month",
        "upsertInvestmentMonths",
        "InvestmentMonthInput",
        ss.InvestmentMonth,
        ss.MONTHS,
        ("projectCode", "month"),
        lambda p: {"projectCode": p, "month": "2031-01", "planned": 100.0, "actual": 80.0},
        ("planned", 120.0),
        "actual",
        None,
    ),
    ScheduleCase(
        "approval",
        "upsertApprovalItems",
        "ApprovalItemInput",
        ss.ApprovalItem,
        ss.APPROVALS,
        ("projectCode", "code"),
        lambda p: {
            "projectCode": p,
            "code": "tst-approval",
            "name": "测试审批事项",
            "phase": "PREPARATION",
            "regime": "ENTERPRISE",
            "authority": "测试审批机关",
            "position": 2,
            "startedOn": "2026-01-05",
            "completedOn": "2026-01-20",
        },
        ("authority", "新审批机关"),
        "completedOn",
        "phase",
    ),
]


def _schedule_record(case: ScheduleCase, sent: Item) -> BaseModel:
    enums = ENUM_FIELDS | {"phase", "regime"}
    data = {
        _model_name(k): (v.lower() if k in enums else v) for k, v in sent.items() if v is not None
    }
    return case.record.model_validate(data)


async def _schedule_stored(store: GraphStore, case: ScheduleCase, full: Item) -> BaseModel:
    key = "/".join(str(full[p]) for p in case.id_parts)
    rows = await store.run(case.read, {"projects": [full["projectCode"]]})
    (props,) = [r["props"] for r in rows if r["props"]["id"] == key]
    fields = case.record.model_fields
    return case.record.model_validate({k: v for k, v in props.items() if k in fields})


async def _batch(http: httpx.AsyncClient, case: ScheduleCase, item: Item) -> dict[str, Any]:
    query = f"""mutation($items: [{case.input}!]!) {{ {case.mutation}(items: $items) {{
        items {{ key ok errors {{ code field message }} }} }} }}"""
    (done,) = (await gql(http, query, items=[item]))[case.mutation]["items"]
    result: dict[str, Any] = done
    return result


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=[c.name for c in SCHEDULE_CASES])
async def test_a_schedule_upsert_changes_only_what_it_sent(
    case: ScheduleCase, operator: httpx.AsyncClient, writable: GraphStore, demo_data: DemoData
) -> None:
    full = case.create(_projects(demo_data)[0])
    keys = {k: full[k] for k in case.id_parts}
    required = {
        to_camel_case(n)
        for n, f in case.record.model_fields.items()
        if f.is_required() and to_camel_case(n) not in keys
    }
    if required:
        missing = await _batch(operator, case, keys)
        assert not missing["ok"]
        assert {e["field"] for e in missing["errors"]} == required
        label = case.record.__name__
        assert all(e["message"] == f"required to create a {label}" for e in missing["errors"])

    created = await _batch(operator, case, full)
    assert created["ok"], created
    assert await _schedule_stored(writable, case, full) == _schedule_record(case, full)

    field, value = case.change
    changed = await _batch(operator, case, {**keys, field: value})
    assert changed["ok"], changed
    now = {**full, field: value}
    assert await _schedule_stored(writable, case, full) == _schedule_record(case, now)

    cleared = await _batch(operator, case, {**keys, case.clear: None})
    assert cleared["ok"], cleared
    now = {**now, case.clear: None}
    assert await _schedule_stored(writable, case, full) == _schedule_record(case, now)

    if case.required is not None:
        refused = await _batch(operator, case, {**keys, case.required: None})
        assert not refused["ok"]
        assert refused["errors"] == [
            {
                "code": "BAD_USER_INPUT",
                "field": case.required,
                "message": "required: it cannot be cleared",
            }
        ]
        assert await _schedule_stored(writable, case, full) == _schedule_record(case, now)


def test_a_nested_problem_is_named_by_its_schema_path() -> None:
    """A camera configuration's cross-field rule names its field inside the sensor input."""
    camera = {"url": "rtsp://cam", "dark_luma": 200, "bright_luma": 100}
    data = {"id": "cam-x", "kind": "camera", "project_code": "2026-330106-35-01-TSTC01"}
    with pytest.raises(InvalidRecord) as caught:
        validate("sensor", {**data, "camera": camera})
    (problem,) = caught.value.problems
    error = ItemError.of("BAD_USER_INPUT", problem, field_names(SPECS["sensor"].record))
    assert (error.field, error.message) == ("camera.darkLuma", "darkLuma must be below brightLuma")
