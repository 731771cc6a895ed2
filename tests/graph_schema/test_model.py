from __future__ import annotations

from typing import Any

import pytest

from graph_schema.errors import InvalidRecord
from graph_schema.identifiers import make_uscc
from graph_schema.model import SPECS, Project, to_properties, validate

USCC = make_uscc("330106", "MA2B3C4D5")


def _square(lon: float = 120.1, lat: float = 30.2, d: float = 0.001) -> dict[str, Any]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _project(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "2024-330106-04-01-A1B2C3",
        "name": "年产10GWh动力电池项目",
        "owner_uscc": USCC,
        "region_code": "330106",
        "stage": "construction",
        "kind": "new",
        "level": "provincial",
        "total_investment": 500000,
        "annual_plan_investment": 120000,
        "completed_investment": 80000,
        "year_completed_investment": 60000,
        "planned_start": "2024-03-01",
        "planned_end": "2026-12-31",
        "actual_start": "2024-03-20",
    }
    data.update(overrides)
    return data


def test_a_valid_project_round_trips_to_portable_properties() -> None:
    record = validate("project", _project())
    assert isinstance(record, Project)
    props = to_properties(SPECS["project"], record)
    assert props["actual_start"] == "2024-03-20"
    assert props["stage"] == "construction"
    assert "owner_uscc" not in props  # links are relationships, not properties


def test_every_problem_of_a_record_is_reported_at_once() -> None:
    with pytest.raises(InvalidRecord) as caught:
        validate(
            "project",
            _project(owner_uscc=USCC[:-1] + "0", total_investment=-5, stage="digging"),
        )
    fields = {p.field for p in caught.value.problems}
    assert {"owner_uscc", "total_investment", "stage"} <= fields
    assert caught.value.key == "2024-330106-04-01-A1B2C3"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"planned_end": "2023-01-01"}, "before planned_start"),
        ({"actual_start": None}, "needs actual_start"),
        ({"annual_plan_investment": 600000}, "exceeds total_investment"),
        ({"total_investment": float("nan")}, "finite"),
        ({"unknown_field": 1}, "Extra inputs"),
        ({"planned_start": "2024-02-30"}, "date"),
    ],
)
def test_amounts_and_dates_are_checked(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        validate("project", _project(**overrides))
    assert reason in str(caught.value)


def _parcel(geometry: Any, area: float = 10_700) -> dict[str, Any]:
    return {
        "id": "330106-2024-0001",
        "region_code": "330106",
        "use": "industrial",
        "area_m2": area,
        "geometry": geometry,
    }


def test_parcel_geometry_is_checked() -> None:
    assert validate("parcel", _parcel(_square())).key() == "330106-2024-0001"
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[120.1, 30.2], [120.101, 30.201], [120.101, 30.2], [120.1, 30.201], [120.1, 30.2]]
        ],
    }
    cases = [
        (bowtie, "not valid"),
        ({"type": "Point", "coordinates": [120.1, 30.2]}, "Polygon or MultiPolygon"),
        (_square(lon=30.2, lat=120.1), "outside China"),
        ({"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2]]]}, "polygon"),
        ("POLYGON((1 2))", "valid dictionary"),
    ]
    for geometry, reason in cases:
        with pytest.raises(InvalidRecord) as caught:
            validate("parcel", _parcel(geometry))
        assert reason in str(caught.value), (geometry, str(caught.value))


def test_parcel_area_must_match_its_polygon() -> None:
    with pytest.raises(InvalidRecord, match="far from the polygon"):
        validate("parcel", _parcel(_square(), area=100_000))


def test_region_level_and_parent_must_agree() -> None:
    with pytest.raises(InvalidRecord, match="does not match code"):
        validate(
            "region",
            {"code": "330100", "name": "杭州市", "level": "county", "parent_code": "330000"},
        )
    with pytest.raises(InvalidRecord, match="needs parent_code"):
        validate("region", {"code": "330100", "name": "杭州市", "level": "city"})
