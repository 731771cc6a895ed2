"""The demo generator: deterministic, complete, linked, and faithful to the seed figures."""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shapely.geometry import shape
from shapely.strtree import STRtree

from graph_schema import geometry
from graph_schema.identifiers import uscc_problem
from graph_schema.model import (
    EDGE_SPECS,
    ENTITIES,
    LOAD_ORDER,
    SPECS,
    EnterpriseTag,
    Project,
    ProjectKind,
    ProjectLevel,
    ProjectStage,
    Record,
    link_targets,
    validate,
)
from hub.demo import DemoData, Scale, generate

AS_OF_ISO = "2026-11-15"
YEAR_FRACTION = 319 / 365  # days of 2026 up to and including 15 November


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(Scale.DEMO)


@pytest.fixture(scope="module")
def hubei() -> tuple[DemoData, float]:
    started = time.perf_counter()
    data = generate(Scale.HUBEI)
    return data, time.perf_counter() - started


def _digest(data: DemoData) -> str:
    h = hashlib.sha256()
    for entity, records in data:
        for record in records:
            row = record.model_dump(mode="json")
            h.update(entity.encode() + json.dumps(row, sort_keys=True).encode())
    return h.hexdigest()


def _by_key(data: DemoData, entity: str) -> dict[str, Record]:
    return {record.key(): record for record in data.records(entity)}


def _start_rate(projects: tuple[Project, ...]) -> float:
    due = [
        p
        for p in projects
        if p.kind is ProjectKind.NEW
        and p.planned_start is not None
        and p.planned_start.isoformat() <= AS_OF_ISO
    ]
    return sum(p.actual_start is not None for p in due) / len(due)


def _annual_completion(projects: tuple[Project, ...]) -> float:
    planned = sum(p.annual_plan_investment for p in projects) * YEAR_FRACTION
    return sum(p.year_completed_investment for p in projects) / planned


def test_same_seed_gives_equal_data(demo: DemoData) -> None:
    again = generate(Scale.DEMO)
    assert again == demo
    assert _digest(again) == _digest(demo)


def test_another_seed_gives_other_data(demo: DemoData) -> None:
    other = generate(Scale.DEMO, seed=7)
    assert other.counts()["project"] == 924
    assert {e.uscc for e in other.enterprise}.isdisjoint({e.uscc for e in demo.enterprise})
    assert [p.code for p in other.project] != [p.code for p in demo.project]
    # Regions, chains and banks are the real ones whatever the seed.
    assert other.region == demo.region
    assert other.segment == demo.segment


def test_output_does_not_depend_on_the_hash_seed(demo: DemoData) -> None:
    script = (
        "from hub.demo import generate, Scale\n"
        "from tests.hub.test_demo import _digest\n"
        "print(_digest(generate(Scale.DEMO)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=root,
    )
    assert out.stdout.strip() == _digest(demo)


def test_demo_counts(demo: DemoData) -> None:
    counts = demo.counts()
    assert list(counts) == list(LOAD_ORDER)
    assert [entity for entity, _ in demo] == list(LOAD_ORDER)
    assert counts["project"] == 924
    assert sum(p.leader_project for p in demo.project) == 368
    assert all(p.level is ProjectLevel.PROVINCIAL for p in demo.project)
    assert 1_900 <= counts["enterprise"] <= 2_100
    levels = collections.Counter(r.level.value for r in demo.region)
    assert levels == {"province": 1, "city": 11, "county": 90}
    per_city = collections.Counter(r.parent_code for r in demo.region if r.level.value == "county")
    assert [per_city[f"33{n:02d}00"] for n in range(1, 12)] == [13, 10, 12, 7, 5, 6, 9, 6, 4, 9, 9]
    assert {c.id for c in demo.chain} == {"nev", "ic", "bio", "materials"}
    assert 15 <= counts["bank"] <= 30
    assert counts["parcel"] >= 700
    assert counts["sensor"] >= 4 * sum(p.stage is ProjectStage.CONSTRUCTION for p in demo.project)


def test_every_chain_has_segments_in_every_tier_and_supplies(demo: DemoData) -> None:
    chain_of = {s.id: s.chain_id for s in demo.segment}
    for chain in demo.chain:
        segments = [s for s in demo.segment if s.chain_id == chain.id]
        assert len(segments) >= 10, chain.id
        assert {s.tier.value for s in segments} == {"upstream", "midstream", "downstream"}
        inside = [e for e in demo.supply if chain_of[e.from_segment] == chain_of[e.to_segment]]
        assert any(chain_of[e.from_segment] == chain.id for e in inside), chain.id
    crossing = {(e.from_segment, e.to_segment) for e in demo.supply}
    assert ("materials.rare-earths", "nev.magnets") in crossing
    assert ("materials.electronic-chemicals", "ic.gases-chemicals") in crossing
    assert ("materials.alloys", "nev.body-chassis") in crossing
    assert ("nev.cathode", "nev.cells") in crossing
    assert ("nev.recycling", "nev.battery-metals") in crossing
    assert ("ic.design", "ic.fabrication") in crossing
    assert ("bio.distribution", "bio.pharmacies") in crossing
    products = collections.Counter(p.segment_id for p in demo.product)
    assert all(products[s.id] >= 2 for s in demo.segment)
    assert "12英寸硅片" in {p.name for p in demo.product}
    assert "磷酸铁锂正极材料" in {p.name for p in demo.product}


def test_every_link_points_at_an_existing_record(demo: DemoData) -> None:
    keys = {entity: set(_by_key(demo, entity)) for entity in SPECS}
    checked = 0
    for spec in ENTITIES:
        for record in demo.records(spec.name):
            for link in spec.links:
                for target in link_targets(link, record):
                    assert target in keys[link.target], (spec.name, record.key(), link.field)
                    checked += 1
    for edge in demo.supply:
        assert edge.from_segment in keys[EDGE_SPECS["supply"].source]
        assert edge.to_segment in keys[EDGE_SPECS["supply"].target]
    assert checked > 10_000
    # Counties, not cities, are where enterprises, parcels and projects are.
    counties = {r.code for r in demo.region if r.level.value == "county"}
    assert all(e.region_code in counties for e in demo.enterprise)
    assert all(p.region_code in counties for p in demo.project)
    assert all(p.region_code in counties for p in demo.parcel)


def test_every_key_and_code_is_unique(demo: DemoData) -> None:
    for entity, records in demo:
        if entity == "supply":
            continue
        keys = [r.key() for r in records]
        assert len(keys) == len(set(keys)), entity
    edges = [e.key() for e in demo.supply]
    assert len(edges) == len(set(edges))
    names = [e.name for e in demo.enterprise]
    assert len(names) == len(set(names))
    orgs = [e.uscc[8:17] for e in demo.enterprise]
    assert len(orgs) == len(set(orgs))
    tails = [p.code[-6:] for p in demo.project]
    assert len(tails) == len(set(tails))


def test_enterprises_look_real(demo: DemoData) -> None:
    segment_chain = {s.id: s.chain_id for s in demo.segment}
    product_segment = {p.id: p.segment_id for p in demo.product}
    n = len(demo.enterprise)
    tags: collections.Counter[EnterpriseTag] = collections.Counter()
    for e in demo.enterprise:
        assert uscc_problem(e.uscc) is None
        assert e.uscc[2:8] == e.region_code
        assert e.name.endswith("公司")
        assert 1 <= len(e.segment_ids) <= 2
        assert len({segment_chain[s] for s in e.segment_ids}) == 1
        assert e.product_ids
        assert {product_segment[p] for p in e.product_ids} <= set(e.segment_ids)
        assert e.founded is not None
        assert e.founded.isoformat() <= AS_OF_ISO
        tags.update(e.tags)
    assert 0.005 <= tags[EnterpriseTag.CHAIN_LEADER] / n <= 0.02
    assert 0.30 <= tags[EnterpriseTag.ABOVE_DESIGNATED_SIZE] / n <= 0.42
    assert 0.02 <= tags[EnterpriseTag.LITTLE_GIANT] / n <= 0.04
    assert 0.17 <= tags[EnterpriseTag.HIGH_TECH] / n <= 0.23
    assert 0.01 <= tags[EnterpriseTag.LISTED] / n <= 0.03
    # A leader in every chain in both Hangzhou and Ningbo, and leaders far larger than the rest.
    leaders = [e for e in demo.enterprise if EnterpriseTag.CHAIN_LEADER in e.tags]
    for city in ("3301", "3302"):
        found = {segment_chain[e.segment_ids[0]] for e in leaders if e.region_code[:4] == city}
        assert found == {"nev", "ic", "bio", "materials"}, city
    others = sorted(e.output for e in demo.enterprise if e not in leaders)
    assert min(e.output for e in leaders) > others[len(others) // 2] * 10
    # Employees and patents grow with output.
    small = [e for e in demo.enterprise if e.output < 500]
    big = [e for e in demo.enterprise if e.output > 20_000]
    assert sum(e.employees for e in big) / len(big) > 10 * sum(e.employees for e in small) / len(
        small
    )
    assert sum(e.patents for e in big) / len(big) > 5 * sum(e.patents for e in small) / len(small)
    # Hangzhou and Ningbo lead; Zhoushan, Quzhou and Lishui are the smallest.
    by_city = collections.Counter(e.region_code[:4] for e in demo.enterprise)
    ranked = [city for city, _ in by_city.most_common()]
    assert ranked[:2] == ["3301", "3302"]
    assert set(ranked[-3:]) == {"3308", "3309", "3311"}


def test_projects_are_consistent(demo: DemoData) -> None:
    firms = {e.uscc: e for e in demo.enterprise}
    segment_chain = {s.id: s.chain_id for s in demo.segment}
    same_city = 0
    for p in demo.project:
        owner = firms[p.owner_uscc]
        assert p.segment_ids == owner.segment_ids
        assert p.code[5:11] == p.region_code
        assert p.code[15:17] in {"01", "02", "03", "04", "05"}
        assert p.total_investment >= 10_000
        assert p.completed_investment <= p.total_investment
        assert p.annual_plan_investment <= p.total_investment
        same_city += owner.region_code[:4] == p.region_code[:4]
        dates = (p.actual_start, p.actual_end, p.permit_date)
        assert all(d is None or d.isoformat() <= AS_OF_ISO for d in dates)
        if p.actual_start is not None and p.permit_date is not None:
            assert 0 <= (p.actual_start - p.permit_date).days <= 60
        if p.actual_start is None:
            assert p.stage in (
                ProjectStage.PLANNING,
                ProjectStage.PREPARATION,
                ProjectStage.SUSPENDED,
            )
            assert p.completed_investment == 0
        if p.stage is ProjectStage.COMPLETED:
            assert p.completed_investment >= 0.9 * p.total_investment
        if p.kind is ProjectKind.CONTINUING:
            assert p.actual_start is not None
            assert p.actual_start.year < 2026
        elif p.actual_start is not None:
            assert p.actual_start.year == 2026
        assert len({segment_chain[s] for s in p.segment_ids}) == 1
    assert same_city / len(demo.project) > 0.9
    stages = collections.Counter(p.stage for p in demo.project)
    assert set(stages) == set(ProjectStage)
    assert stages[ProjectStage.CONSTRUCTION] > len(demo.project) / 2
    assert stages[ProjectStage.SUSPENDED] < len(demo.project) * 0.03
    new = sum(p.kind is ProjectKind.NEW for p in demo.project) / len(demo.project)
    assert 0.40 <= new <= 0.50
    totals = sorted(p.total_investment for p in demo.project)
    assert 40_000 <= totals[len(totals) // 2] <= 65_000
    assert totals[-1] >= 1_000_000  # a 100亿元 project or more
    shares = sorted(p.annual_plan_investment / p.total_investment for p in demo.project)
    assert 0.2 <= shares[len(shares) // 2] <= 0.4


def test_seed_figures(demo: DemoData) -> None:
    assert _start_rate(demo.project) == pytest.approx(0.887, abs=0.002)
    assert _annual_completion(demo.project) == pytest.approx(0.937, abs=0.0005)
    continuing = [p for p in demo.project if p.kind is ProjectKind.CONTINUING]
    resumed = [
        p for p in continuing if p.stage in (ProjectStage.CONSTRUCTION, ProjectStage.COMPLETED)
    ]
    assert len(resumed) == len(continuing)


def test_parcels_sit_near_their_county_seat_without_overlapping(demo: DemoData) -> None:
    seats = {r.code: (r.lon, r.lat) for r in demo.region}
    for parcel in demo.parcel:
        assert geometry.geometry_problem(parcel.geometry) is None
        lon, lat = geometry.centroid(parcel.geometry)
        seat_lon, seat_lat = seats[parcel.region_code]
        assert seat_lon is not None and seat_lat is not None
        assert math.hypot(lon - seat_lon, lat - seat_lat) < 0.3, parcel.id
        assert parcel.area_m2 == pytest.approx(geometry.area_m2(parcel.geometry), rel=1e-3)
        assert 19_000 <= parcel.area_m2 <= 404_000
        assert parcel.id.startswith(parcel.region_code + "-")
    uses = collections.Counter(p.use.value for p in demo.parcel)
    assert uses["industrial"] > 0.75 * len(demo.parcel)
    shapes = [shape(p.geometry) for p in demo.parcel]
    tree = STRtree(shapes)
    for i, poly in enumerate(shapes):
        assert all(j == i or not poly.intersects(shapes[j]) for j in tree.query(poly))
    parcel_county = {p.id: p.region_code for p in demo.parcel}
    for project in demo.project:
        assert all(parcel_county[pid] == project.region_code for pid in project.parcel_ids)
    counts = collections.Counter(len(p.parcel_ids) for p in demo.project)
    assert counts[1] > 0.7 * len(demo.project)
    assert counts[2] > 0
    assert counts[0] > 0


def test_sensors_watch_the_sites(demo: DemoData) -> None:
    by_project: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for sensor in demo.sensor:
        by_project[sensor.project_code][sensor.kind] += 1
        prefix = {"power": "pwr-", "labor": "lab-", "camera": "cam-", "satellite": "sat-"}
        assert sensor.id.startswith(prefix[sensor.kind])
        assert sensor.id.split("-")[1] == sensor.project_code[-6:]
        if sensor.kind == "power":
            assert sensor.unit == "kWh"
        if sensor.kind == "labor":
            assert sensor.unit == "person"
    for p in demo.project:
        kinds = by_project[p.code]
        if p.stage is ProjectStage.CONSTRUCTION:
            assert kinds["power"] == 1 and kinds["labor"] == 1
            assert 1 <= kinds["camera"] <= 3
        elif p.stage is not ProjectStage.COMPLETED:
            assert kinds["power"] == kinds["labor"] == kinds["camera"] == 0
        assert kinds["satellite"] == (1 if p.parcel_ids else 0)
    completed = [p for p in demo.project if p.stage is ProjectStage.COMPLETED]
    metered = [p for p in completed if by_project[p.code]["power"]]
    assert 0 < len(metered) < len(completed)


@pytest.mark.slow
@pytest.mark.timing
def test_hubei_scale(hubei: tuple[DemoData, float]) -> None:
    data, seconds = hubei
    counts = data.counts()
    assert counts["enterprise"] >= 50_000
    assert counts["project"] == 11_287
    assert all(p.total_investment >= 10_000 for p in data.project)
    levels = collections.Counter(p.level for p in data.project)
    assert levels[ProjectLevel.PROVINCIAL] == 584
    assert levels[ProjectLevel.CITY] > 0 and levels[ProjectLevel.COUNTY] > 0
    # Hubei's 2022 database held 10.06 万亿元; ours lands within a tenth of that.
    total = sum(p.total_investment for p in data.project)
    assert 9.0e8 <= total <= 1.1e9
    assert _start_rate(data.project) == pytest.approx(0.887, abs=0.001)
    assert _annual_completion(data.project) == pytest.approx(0.937, abs=0.0005)
    assert len({e.name for e in data.enterprise}) == counts["enterprise"]
    assert len({p.code for p in data.project}) == 11_287
    # Its speed is a benchmark's business (python -m bench load_hubei), not an assertion's.
    print(f"generated and validated hubei scale in {seconds:.1f} s")


def test_records_round_trip_through_validation(demo: DemoData) -> None:
    # What the generator hands out is exactly what an import of its JSON would produce.
    for entity, records in demo:
        for record in records[:50]:
            assert validate(entity, record.model_dump(mode="json")) == record
