"""Every benchmark runs in its quick mode (``python -m bench --quick``): tiny data, a few
requests, its answers checked. A benchmark that no longer runs, or gets a wrong answer, fails
here instead of when someone next needs its figures.

In-process (``Entry.run(quick=True)``), so the demo province is generated once per test
process and no interpreter starts per benchmark; each benchmark still starts the servers it
measures (stores, hub subprocesses, brokers, the peers)."""

from __future__ import annotations

import asyncio

import pytest

import bench  # noqa: F401  (registers every benchmark)
from bench import graphs
from bench.registry import BENCHMARKS, Entry, NoQuickMode, quick_names
from tests.graphs import Contents, Neo4jDatabase

# The benchmarks without a quick mode, each with its reason. Nothing may join this list
# quietly: a new benchmark takes ``quick`` like the others.
WITHOUT_QUICK: set[str] = set()


NEO4J_BENCHMARKS = {"neo4j_graphql"}


@pytest.mark.parametrize("name", sorted(set(quick_names()) - NEO4J_BENCHMARKS))
def test_quick(name: str) -> None:
    graphs.select("falkordb")  # the default store, as `python -m bench --quick` runs them
    figures = asyncio.run(BENCHMARKS[name].run(quick=True))
    assert figures, f"{name} returned no figures"


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(NEO4J_BENCHMARKS))
async def test_quick_on_the_suites_neo4j(name: str, neo4j: Neo4jDatabase) -> None:
    """A Neo4j benchmark runs on this test process's Neo4j server, emptied first and left
    dirty for the next user, instead of starting a JVM of its own."""
    graphs.select("falkordb")
    async with neo4j.empty():
        pass
    try:
        with graphs.lend_neo4j(neo4j.server):
            figures = await BENCHMARKS[name].run(quick=True)
    finally:
        neo4j.contents = Contents.UNKNOWN
    assert figures, f"{name} returned no figures"


def test_every_benchmark_has_a_quick_mode() -> None:
    assert {n for n, e in BENCHMARKS.items() if not e.quick} == WITHOUT_QUICK


def test_quick_refuses_a_benchmark_without_one() -> None:
    async def slow_only() -> dict[str, float | int | str]:
        return {"figure": 1}

    entry = Entry("slow-only", "a benchmark registered without a quick parameter", slow_only, False)
    with pytest.raises(NoQuickMode, match="slow-only"):
        _ = entry.run(quick=True)
    for name in WITHOUT_QUICK:
        with pytest.raises(NoQuickMode, match=name):
            _ = BENCHMARKS[name].run(quick=True)
