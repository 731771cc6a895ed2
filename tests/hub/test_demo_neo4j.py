"""`hub demo` with the Neo4j setting (HUB_GRAPH_URL=bolt://..., user, password), end to end on
this process's test Neo4j: it seeds the province into Neo4j, serves, and answers the README's
example queries; `hub doctor`'s graph checks are clean against it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.doctor import Status, _graph
from hub.settings import load_settings
from tests.graphs import Neo4jDatabase
from tests.hub.test_cli import _free_port, _query, _stop, _wait_ready
from tests.hub.test_readme_queries import NON_EMPTY, QUERIES, _root

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timing
async def test_hub_demo_on_neo4j_seeds_serves_and_answers_the_readme(
    neo4j: Neo4jDatabase, tmp_path: Path
) -> None:
    port, broker = _free_port(), _free_port()
    env = {
        **os.environ,
        **neo4j.env(),
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_HTTP_PORT": str(port),
        "HUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HUB_MQTT_URL", None)  # the demo starts its own broker only without one
    log = tmp_path / "demo.log"
    async with neo4j.empty():  # migrated and empty: the demo seeds it
        with log.open("wb") as out:
            demo = subprocess.Popen(
                [sys.executable, "-m", "hub", "demo", "--broker-port", str(broker)],
                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            took = _wait_ready(demo, port, log, 900)
            print(f"hub demo on Neo4j (seeding) ready after {took:.1f} s")
            for query in QUERIES:
                body = _query(port, query)
                assert "errors" not in body, (query, body)
                path = NON_EMPTY.get(_root(query), ())
                found = body["data"]
                for step in path:
                    found = found[step]
                assert found, (query, body)
            counts = _query(port, "{ projects(first: 1) { totalCount } }")
            assert counts["data"]["projects"]["totalCount"] == 924
            settings = load_settings({k: v for k, v in env.items() if k.startswith("HUB_")})
            graph = await _graph(settings, timeout_s=30)
            assert [f for f in graph if f.status is not Status.OK] == [], graph
            assert any(f.check == "graph server" and "5.26" in f.message for f in graph)
        finally:
            _stop(demo)
    output = log.read_text(encoding="utf-8")
    assert "import summary" in output
