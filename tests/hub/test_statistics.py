"""Chain statistics: import files with good and bad rows, re-import, and the series served.

The graph holds Zhejiang (330000) with Hangzhou (330100), chains nev and ic, and the nev
segments cells and packs; every expected figure below is written out in the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graph_schema.errors import InvalidInput
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import validate
from graph_schema.periods import Granularity, parse_period
from graph_schema.writer import Outcome
from hub import cli
from hub.app import create_app
from hub.bulk import import_records
from hub.promotion import statistics
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER
from tests.hub.test_api_reads import gql, gql_errors

pytestmark = pytest.mark.anyio

GRAPH = {
    "region": [
        {"code": "330000", "name": "浙江省", "level": "province"},
        {"code": "330100", "name": "杭州市", "level": "city", "parent_code": "330000"},
    ],
    "chain": [{"id": "nev", "name": "新能源汽车"}, {"id": "ic", "name": "集成电路"}],
    "segment": [
        {"id": "nev.cells", "chain_id": "nev", "name": "电芯", "tier": "midstream"},
        {"id": "nev.packs", "chain_id": "nev", "name": "电池包", "tier": "midstream"},
        {"id": "ic.design", "chain_id": "ic", "name": "芯片设计", "tier": "midstream"},
    ],
}

CSV = """chain_id,segment_id,region_code,period,output,project_count,employment,patents
nev,,330100,2025-Q1,100,3,50,7
nev,nev.cells,330100,2025-Q1,40,,20,
nev,,330100,2025-13,1,,,
nev,ic.design,330100,2025,1,,,
nev,nev.unknown,330100,2025,1,,,
nev,,330200,2025,1,,,
nev,,330100,2025-Q1,999,,,
nev,,330100,2025-Q2,abc,,,
nev,,330100,2025,,,,
nev,,330100,2025,400,5,60,9
nev,,330100,2025-Q2,120,4,55,8
nev,nev.cells,330000,2025-Q1,70,,,
"""
# line → (code, field) of each rejected row of CSV (the header is line 1)
CSV_BAD = {
    4: ("BAD_USER_INPUT", "period"),
    5: ("BAD_USER_INPUT", "segment_id"),  # segment of another chain
    6: ("NOT_FOUND", "segment_id"),
    7: ("NOT_FOUND", "region_code"),
    8: ("BAD_USER_INPUT", ""),  # the same key as line 2
    9: ("BAD_USER_INPUT", "output"),
    10: ("BAD_USER_INPUT", ""),  # no figure at all
}


@pytest.fixture
async def graph(store: FalkorDBStore) -> FalkorDBStore:
    for entity, rows in GRAPH.items():
        await import_records(store, entity, [validate(entity, r) for r in rows])
    return store


def _bad(report: statistics.StatsReport) -> dict[int, tuple[str, str]]:
    return {b.line: (b.code, b.field) for b in report.bad}


async def test_a_csv_file_lands_its_good_rows_and_reports_each_bad_one(
    graph: FalkorDBStore, tmp_path: Path
) -> None:
    path = tmp_path / "nev.csv"
    path.write_text(CSV, encoding="utf-8")
    report = await statistics.import_statistics(graph, [path])
    assert report.counts[Outcome.CREATED] == 5
    assert report.counts[Outcome.REJECTED] == len(CSV_BAD)
    assert _bad(report) == CSV_BAD
    assert all(b.path == path and b.message for b in report.bad)
    assert "2025-13" in next(b.message for b in report.bad if b.line == 4)
    # Importing again changes nothing and reports the same rows.
    again = await statistics.import_statistics(graph, [path])
    assert (again.counts[Outcome.UNCHANGED], again.counts[Outcome.CREATED]) == (5, 0)
    assert _bad(again) == CSV_BAD
    # A corrected figure updates its row in place.
    path.write_text(CSV.replace("400,5,60,9", "410,5,60,9"), encoding="utf-8")
    fixed = await statistics.import_statistics(graph, [path])
    assert (fixed.counts[Outcome.UPDATED], fixed.counts[Outcome.UNCHANGED]) == (1, 4)
    series = await statistics.series(graph, chain="nev", region="330100")
    assert [(p.period.label, p.output) for p in series] == [
        ("2025", 410.0),  # a year sorts before its first quarter
        ("2025-Q1", 100.0),
        ("2025-Q2", 120.0),
    ]
    q1 = series[1]
    assert (q1.project_count, q1.employment, q1.patents) == (3, 50, 7)
    cells = await statistics.series(graph, chain="nev", segment="nev.cells", region="330100")
    assert [(p.period.label, p.output, p.project_count, p.patents) for p in cells] == [
        ("2025-Q1", 40.0, None, None)
    ]
    quarters = await statistics.series(
        graph, chain="nev", region="330100", granularity=Granularity.QUARTER, first="2025-Q2"
    )
    assert [p.period.label for p in quarters] == ["2025-Q2"]
    until = await statistics.series(graph, chain="nev", region="330100", last="2025-02")
    assert [p.period.label for p in until] == []  # Q1 ends after February
    until = await statistics.series(graph, chain="nev", region="330100", last="2025-03")
    assert [p.period.label for p in until] == ["2025-Q1"]  # ... and with March
    until = await statistics.series(graph, chain="nev", region="330100", last="2025-Q1")
    assert [p.period.label for p in until] == ["2025-Q1"]
    province = await statistics.series(graph, chain="nev", segment="nev.cells", region="330000")
    assert [p.output for p in province] == [70.0]


async def test_json_and_json_lines_report_the_line_of_each_bad_row(
    graph: FalkorDBStore, tmp_path: Path
) -> None:
    array = tmp_path / "stats.json"
    array.write_text(
        "[\n"
        '  {"chain_id": "nev", "region_code": "330100", "period": "2026-01", "output": 5},\n'
        '  "not an object",\n'
        '  {"chain_id": "nev", "region_code": "330100", "period": "2026-02",\n'
        '   "employment": -1},\n'
        '  {"chain_id": "nev", "region_code": "330100", "period": "2026-02", "patents": 2,\n'
        '   "colour": "red"}\n'
        "]\n",
        encoding="utf-8",
    )
    lines = tmp_path / "stats.jsonl"
    lines.write_text(
        '{"chain_id": "nev", "region_code": "330100", "period": "2026-03", "output": 7}\n'
        "{broken\n"
        "\n"
        '{"chain_id": "nev", "region_code": "330100", "period": "2026-04", "output": 8,'
        ' "id": "nev/-/330100/2026-05"}\n',
        encoding="utf-8",
    )
    report = await statistics.import_statistics(graph, [array, lines])
    assert report.counts[Outcome.CREATED] == 2
    found = {(b.path.name, b.line, b.code, b.field) for b in report.bad}
    assert found == {
        ("stats.json", 3, "BAD_USER_INPUT", ""),
        ("stats.json", 4, "BAD_USER_INPUT", "employment"),
        ("stats.json", 6, "BAD_USER_INPUT", "colour"),
        ("stats.jsonl", 2, "BAD_USER_INPUT", ""),
        ("stats.jsonl", 4, "BAD_USER_INPUT", ""),  # an id that contradicts its parts
    }
    months = await statistics.series(graph, chain="nev", region="330100")
    assert [(p.period.label, p.output) for p in months] == [("2026-01", 5.0), ("2026-03", 7.0)]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("x.csv", "chain_id,region_code,period,colour\nnev,330100,2025,red\n"),
        ("x.json", '{"chain_id": "nev"}'),
        ("x.xml", "<stats/>"),
    ],
)
async def test_a_file_that_cannot_be_read_as_a_whole_is_refused(
    graph: FalkorDBStore, tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput):
        await statistics.import_statistics(graph, [path])


SERIES = """query($chain: String!, $region: String!, $segment: String, $from: Period,
                  $to: Period, $granularity: PeriodGranularity) {
  chainStatistics(chain: $chain, region: $region, segment: $segment, from: $from, to: $to,
                  granularity: $granularity) {
    period granularity from to output projectCount employment patents
  }
}"""


async def test_chain_statistics_over_graphql(graph: FalkorDBStore, tmp_path: Path) -> None:
    path = tmp_path / "nev.csv"
    path.write_text(CSV, encoding="utf-8")
    await statistics.import_statistics(graph, [path])
    app = create_app(api_settings(ANONYMOUS_VIEWER, tmp_path), store=graph)
    async with started(app) as client:
        base: dict[str, Any] = {"chain": "nev", "region": "330100"}
        data = await gql(client, SERIES, **base, granularity="QUARTER")
        assert data["chainStatistics"] == [
            {
                "period": "2025-Q1",
                "granularity": "QUARTER",
                "from": "2025-01-01",
                "to": "2025-03-31",
                "output": 100.0,
                "projectCount": 3,
                "employment": 50,
                "patents": 7,
            },
            {
                "period": "2025-Q2",
                "granularity": "QUARTER",
                "from": "2025-04-01",
                "to": "2025-06-30",
                "output": 120.0,
                "projectCount": 4,
                "employment": 55,
                "patents": 8,
            },
        ]
        year = await gql(client, SERIES, **base, **{"from": "2025", "to": "2025"})
        assert [p["period"] for p in year["chainStatistics"]] == ["2025", "2025-Q1", "2025-Q2"]
        segment = await gql(client, SERIES, **base, segment="nev.cells")
        assert [(p["period"], p["output"]) for p in segment["chainStatistics"]] == [
            ("2025-Q1", 40.0)
        ]
        nothing = await gql(client, SERIES, chain="ic", region="330100")
        assert nothing["chainStatistics"] == []
        for bad in ({"from": "2025-Q5"}, {"segment": "ic.design"}):
            errors = await gql_errors(client, SERIES, **base, **bad)
            assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]


def test_periods_parse_and_order() -> None:
    year, q2, june = parse_period("2024"), parse_period("2024-Q2"), parse_period("2024-06")
    assert (year.start.isoformat(), year.end.isoformat()) == ("2024-01-01", "2024-12-31")
    assert (q2.start.isoformat(), q2.end.isoformat()) == ("2024-04-01", "2024-06-30")
    assert (june.start.isoformat(), june.end.isoformat()) == ("2024-06-01", "2024-06-30")
    assert parse_period("2024-02").end.isoformat() == "2024-02-29"
    assert sorted([june, q2, parse_period("2024-Q1"), year]) == [
        year,
        parse_period("2024-Q1"),
        q2,
        june,
    ]
    for bad in ("2024-Q0", "2024-13", "24", "2024-1", "1800"):
        with pytest.raises(ValueError, match=r"period|range"):
            parse_period(bad)


def test_the_cli_imports_statistics_and_lists_bad_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HUB_LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)
    graph_files = tmp_path / "graph"
    graph_files.mkdir()
    for entity, rows in GRAPH.items():
        name = {"region": "regions", "chain": "chains", "segment": "segments"}[entity]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        (graph_files / f"{name}.jsonl").write_text(text, encoding="utf-8")
    assert cli.main(["import", str(graph_files), "--rejects", str(tmp_path / "r.jsonl")]) == 0
    path = tmp_path / "nev.csv"
    path.write_text(CSV, encoding="utf-8")
    rejects = tmp_path / "stats-rejects.jsonl"
    # Every file read, some rows rejected: exit status 3, as for the telemetry imports.
    assert cli.main(["import-stats", str(path), "--rejects", str(rejects)]) == 3
    err = capsys.readouterr().err
    assert f"{path}:6: NOT_FOUND segment_id: no segment nev.unknown" in err
    assert "created 5" in err and "rejected 7" in err
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert {(e["line"], e["code"], e["field"]) for e in entries} == {
        (line, code, field) for line, (code, field) in CSV_BAD.items()
    }
    assert cli.main(["import-stats", str(path)]) == 3
    assert "unchanged 5" in capsys.readouterr().err
