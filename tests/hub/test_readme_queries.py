"""The README's example queries, as written there, on the demo province on each graph store:
each answers without errors, with data, and Neo4j answers exactly as FalkorDB does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from graph_schema.store import GraphStore
from hub.app import create_app
from tests.hub.apps import api_settings, started

pytestmark = pytest.mark.anyio
README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)


def readme_queries() -> list[str]:
    """Every ```graphql block of the README that is a query (not a mutation or subscription)."""
    blocks = [b.strip() for b in _BLOCK.findall(README.read_text(encoding="utf-8"))]
    return [b for b in blocks if b.startswith("{")]


QUERIES = readme_queries()
# What each query must find in the demo province: a path into the answer that is not empty.
NON_EMPTY = {
    "projects": ("projects", "nodes"),
    "industryChain": ("industryChain", "map", "nodes"),
    "cityScoreboard": ("cityScoreboard", "cities"),
    "barometer": ("barometer", "indicators"),
}


def _root(query: str) -> str:
    match = re.match(r"\{\s*(\w+)", query)
    assert match is not None, query
    return match.group(1)


async def _answers(store: GraphStore) -> list[dict[str, Any]]:
    # Anonymous viewers read, as in `hub demo`; nothing is written to the shared store.
    app = create_app(api_settings({"HUB_AUTH_ANONYMOUS_ROLE": "viewer"}), store=store)
    out = []
    async with started(app) as http:
        for query in QUERIES:
            response = await http.post("/graphql", json={"query": query})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert "errors" not in body, (query, body["errors"])
            out.append(body["data"])
    return out


def test_the_readme_has_the_example_queries() -> None:
    assert {_root(q) for q in QUERIES} >= set(NON_EMPTY), [_root(q) for q in QUERIES]


async def test_the_readme_queries_answer_with_data(demo_store: GraphStore) -> None:
    for query, data in zip(QUERIES, await _answers(demo_store), strict=True):
        path = NON_EMPTY.get(_root(query))
        if path is None:
            continue
        found: Any = data
        for step in path:
            found = found[step]
        assert found, (query, data)


async def test_neo4j_answers_the_readme_queries_as_falkordb_does(
    falkordb_demo: GraphStore, neo4j_demo: GraphStore
) -> None:
    falkordb, neo4j = await _answers(falkordb_demo), await _answers(neo4j_demo)
    for query, expected, found in zip(QUERIES, falkordb, neo4j, strict=True):
        assert found == expected, query
