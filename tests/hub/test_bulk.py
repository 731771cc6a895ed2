"""hub import / hub export: lossless round trips, idempotence, and rejects with reasons."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from graph_schema.catalog import vocabulary
from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect, UniqueKey
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.identifiers import make_uscc
from graph_schema.store import GraphStore
from graph_schema.writer import Outcome
from hub.bulk import export_files, graph_counts, import_files
from hub.bulk.formats import FILE_STEMS, FormatError
from tests.graphs import _DROP_INDEX, _ddl
from tests.waiting import wait_until

pytestmark = pytest.mark.anyio


# Financing, land tracking, schedules and approvals (issue 9) live outside the model's
# entity table and are not in the export format yet: the round trip covers the entities.
_LABELS, _TYPES, _ = vocabulary()
_NAME_INDEX = Statement(
    "test.region_name_index",
    "SHOW INDEXES YIELD name, type, labelsOrTypes, properties "
    "WHERE type = 'RANGE' AND labelsOrTypes = ['Region'] AND properties = ['name'] "
    "RETURN name",
)
_CONSTRAINTS = Statement(
    "test.constraints", "CALL db.constraints() YIELD label, status RETURN label, status"
)


def _without_schema(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k != "SchemaVersion" and k not in _LABELS}


def _entity_relationships(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k not in _TYPES}


# The second import (idempotence: everything UNCHANGED) re-reads the whole province once, in
# JSON Lines (~15 s); in CSV it re-reads the projects, the file with every kind of value
# (dates, amounts, lists, empty cells), since the writer's comparison comes after parsing.
@pytest.mark.cross_stores
async def test_export_then_import_reproduces_the_graph(
    demo_store: GraphStore, store: GraphStore, tmp_path: Path
) -> None:
    """JSON Lines from each store into each store (the formats' store-dependent part: what a
    store returns, and what it makes of what it is given)."""
    await _round_trip(demo_store, store, tmp_path, ".jsonl", None)


async def test_csv_export_then_import_reproduces_the_projects(
    falkordb_demo: GraphStore, falkordb_store: GraphStore, tmp_path: Path
) -> None:
    """CSV on one store: the format's own work (cells, lists, empty values) is the same
    whatever store the records come from, and JSON Lines above crosses the stores (the CSV
    round trips through Neo4j took 35-43 s each at load 9, for nothing more)."""
    await _round_trip(falkordb_demo, falkordb_store, tmp_path, ".csv", "project")


async def _round_trip(
    demo_store: GraphStore, store: GraphStore, tmp_path: Path, fmt: str, reimport: str | None
) -> None:
    exported = await export_files(demo_store, tmp_path / "out", fmt=fmt, page_size=700)
    assert exported["project"] == 924
    summary = await import_files(store, [tmp_path / "out"], rejects_path=tmp_path / "rejects.jsonl")
    assert summary.total(Outcome.REJECTED) == 0, (tmp_path / "rejects.jsonl").read_text()
    source_nodes, source_rels = await graph_counts(demo_store)
    nodes, rels = await graph_counts(store)
    assert _without_schema(nodes) == _without_schema(source_nodes)
    assert rels == _entity_relationships(source_rels)

    source = tmp_path / "out"
    if reimport is not None:
        source = source / f"{FILE_STEMS[reimport]}{fmt}"
    again = await import_files(store, [source], rejects_path=tmp_path / "r2.jsonl")
    assert again.total(Outcome.CREATED) == 0
    assert again.total(Outcome.UPDATED) == 0
    expected = sum(exported.values()) if reimport is None else exported[reimport]
    assert again.total(Outcome.UNCHANGED) == expected

    # Exporting the copy gives byte-identical files: nothing was lost or reordered.
    await export_files(store, tmp_path / "copy", fmt=fmt)
    for original in sorted((tmp_path / "out").iterdir()):
        assert original.read_bytes() == (tmp_path / "copy" / original.name).read_bytes(), original


async def test_bad_rows_are_rejected_with_reasons_and_the_rest_lands(
    store: FalkorDBStore, tmp_path: Path
) -> None:
    (tmp_path / "regions.csv").write_text(
        "code,name,level,parent_code\n"
        "330000,浙江省,province,\n"
        "330100,杭州市,city,330000\n"
        "330106,西湖区,county,330100\n"
        "33010X,坏的,county,330100\n",
        encoding="utf-8",
    )
    good = make_uscc("330106", "MA0000001")
    lines = [
        {"uscc": good, "name": "好企业", "region_code": "330106"},
        {
            "uscc": good[:-1] + ("0" if good[-1] != "0" else "1"),
            "name": "校验位错",
            "region_code": "330106",
        },
        {"uscc": make_uscc("330106", "MA0000002"), "name": "无此区", "region_code": "330109"},
        {
            "uscc": make_uscc("330106", "MA0000003"),
            "name": "负产值",
            "region_code": "330106",
            "output": -1,
        },
    ]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    (tmp_path / "enterprises.jsonl").write_text(text + "\n{not json\n[1, 2]\n", encoding="utf-8")

    rejects = tmp_path / "rejects.jsonl"
    summary = await import_files(store, [tmp_path], rejects_path=rejects)
    assert summary.counts["region"] == {Outcome.CREATED: 3, Outcome.REJECTED: 1}
    assert summary.counts["enterprise"] == {Outcome.CREATED: 1, Outcome.REJECTED: 5}
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    reasons = {(Path(e["file"]).name, e["line"]): " ".join(e["reasons"]) for e in entries}
    assert "six digits" in reasons[("regions.csv", 5)]
    assert "check character" in reasons[("enterprises.jsonl", 2)]
    assert "no region 330109" in reasons[("enterprises.jsonl", 3)]
    assert "greater than or equal to 0" in reasons[("enterprises.jsonl", 4)]
    assert "not JSON" in reasons[("enterprises.jsonl", 5)]
    assert "one JSON object" in reasons[("enterprises.jsonl", 6)]
    nodes, _ = await graph_counts(store)
    assert (nodes["Region"], nodes["Enterprise"]) == (3, 1)


async def test_files_named_after_no_entity_are_refused(
    tmp_path: Path, store: FalkorDBStore
) -> None:
    (tmp_path / "stuff.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(FormatError, match="cannot tell the entity"):
        await import_files(store, [tmp_path / "stuff.csv"], rejects_path=tmp_path / "r.jsonl")


async def test_text_the_store_refuses_is_one_rejected_row(
    store: FalkorDBStore, tmp_path: Path
) -> None:
    """One NUL made FalkorDB refuse a whole batch: `hub import` stored 0 of 2. Now the row is
    rejected with INVALID_TEXT and the other lands; the rejects file still parses."""
    rows = [
        {"code": "330000", "name": "浙江省", "level": "province"},
        {"code": "320000", "name": "江苏\u0000省", "level": "province"},
        {"code": "310000", "name": "上海\ud800", "level": "province"},
    ]
    (tmp_path / "regions.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    rejects = tmp_path / "rejects.jsonl"
    summary = await import_files(store, [tmp_path / "regions.jsonl"], rejects_path=rejects)
    assert summary.counts["region"][Outcome.REJECTED] == 2
    assert summary.total(Outcome.REJECTED) == 2
    assert sum(summary.total(o) for o in Outcome) == 3
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(e["line"], e["codes"]) for e in entries] == [
        (2, ["INVALID_TEXT"]),
        (3, ["INVALID_TEXT"]),
    ]
    assert entries[1]["data"]["name"] == "上海\ud800"  # written back as its JSON escape
    assert rejects.stat().st_mode & 0o777 == 0o600


async def test_a_symlinked_rejects_path_is_refused(store: FalkorDBStore, tmp_path: Path) -> None:
    (tmp_path / "regions.csv").write_text("code,name,level\n33000X,坏,province\n", encoding="utf-8")
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious\n", encoding="utf-8")
    link = tmp_path / "rejects.jsonl"
    link.symlink_to(target)
    with pytest.raises(FormatError, match="symbolic link"):
        await import_files(store, [tmp_path / "regions.csv"], rejects_path=link)
    assert target.read_text(encoding="utf-8") == "precious\n"


async def test_a_row_the_store_refuses_is_one_rejected_row_and_the_rest_lands(
    store: FalkorDBStore, tmp_path: Path
) -> None:
    """The writer sends a chunk of rows in one transaction; when the store refuses it (here a
    uniqueness rule on region names that the model does not have, so only the store can tell),
    the chunk is written again row by row: the refused row is rejected with the store's
    reason, the others land."""
    if store.dialect is Dialect.NEO4J:
        # Migration 8's range index on Region.name (list sorts) stands where Neo4j would build
        # the constraint's own index; the store fixture restores the migrated set afterwards.
        for row in await store.run(_NAME_INDEX):
            await store.run(_ddl(_DROP_INDEX, row["name"]))
    await store.ensure_schema(UniqueKey("Region", "name"))
    loop = asyncio.get_running_loop()

    def operational() -> bool:
        rows = asyncio.run_coroutine_threadsafe(store.run(_CONSTRAINTS), loop).result()
        return any(r["label"] == "Region" and r["status"] == "OPERATIONAL" for r in rows)

    if store.dialect is Dialect.FALKORDB:  # its constraints build in the background
        await asyncio.to_thread(wait_until, operational, ceiling=60, what="constraint built")
    else:  # Neo4j: the constraint's index, through the port
        await store.wait_until_indexed(timeout_s=60)
    (tmp_path / "regions.csv").write_text(
        "code,name,level,parent_code\n"
        "330000,浙江省,province,\n"
        "330100,杭州市,city,330000\n"
        "330200,杭州市,city,330000\n"
        "330300,温州市,city,330000\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.jsonl"
    summary = await import_files(store, [tmp_path / "regions.csv"], rejects_path=rejects)
    assert summary.counts["region"] == {Outcome.CREATED: 3, Outcome.REJECTED: 1}
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(e["line"], e["codes"], e["data"]["code"]) for e in entries] == [
        (4, ["BAD_USER_INPUT"], "330200")
    ]
    assert "unique constraint" in entries[0]["reasons"][0]
    nodes, _ = await graph_counts(store)
    assert nodes["Region"] == 3
    again = await import_files(store, [tmp_path / "regions.csv"], rejects_path=rejects)
    assert again.counts["region"] == {Outcome.UNCHANGED: 3, Outcome.REJECTED: 1}


async def test_a_sensor_of_a_kind_no_feed_declares_is_rejected(
    store: FalkorDBStore, tmp_path: Path
) -> None:
    """The model checks a kind's form; the feeds' table (connectors.feeds) decides which exist."""
    project = "2025-330106-36-01-MON001"
    lines = [
        {"id": "gas-1", "kind": "gas", "project_code": project},
        {"id": "pwr-x", "kind": "Power meter", "project_code": project},
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    (tmp_path / "sensors.jsonl").write_text(text + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    summary = await import_files(store, [tmp_path], rejects_path=rejects)
    assert summary.counts["sensor"] == {Outcome.REJECTED: 2}
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    reasons = {e["line"]: " ".join(e["reasons"]) for e in entries}
    assert "'gas' is not one of power, labor, camera, satellite, water" in reasons[1]
    assert "kind" in reasons[2] and "pattern" in reasons[2]
