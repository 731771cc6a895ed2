"""Apollo Client 4 from npm (tests/clients/apollo.mjs) against a hub on a loopback port, on a
copy of the demo province: the README's screens through the automatic-persisted-queries link
and the normalized cache, and an alert the test raises arriving on the alert feed over
graphql-ws.

On FalkorDB only: what is under test is the wire between an npm client and the hub, which does
not depend on the graph store (tests/hub runs the README's queries on Neo4j too), and a Neo4j
demo province costs a seed of its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import SPECS
from graph_schema.statements.entities import export_page
from graph_schema.store import GraphStore
from hub.auth import create_key
from hub.projects import land
from hub.roles import Role
from tests.clients.hubs import gql, served
from tests.clients.node import CLIENTS, node, run_async
from tests.hub.metrics_text import sample
from tests.hub.test_readme_queries import readme_queries

pytestmark = pytest.mark.anyio

# A project whose land the test starts tracking from long ago: its nodes are overdue at once,
# and the hub's next land check raises LAND_NODE_OVERDUE for it.
TRACK = """mutation ($code: String!, $start: Date!) {
  trackLand(projectCode: $code, template: APPROVED, startOn: $start) { projectCode } }"""
ALERT = "LAND_NODE_OVERDUE"
CEILING_S = 120.0


async def _untracked_project(graph: GraphStore) -> str:
    """A demo project whose land is not tracked (built more than a year ago)."""
    tracked = {t.code for t in await land.tracked(graph)}
    rows = await graph.run(export_page(SPECS["project"]), {"after": "", "limit": 500})
    return str(next(r["key"] for r in rows if r["key"] not in tracked))


async def _subscribers(url: str) -> float:
    async with httpx.AsyncClient(timeout=30) as client:
        text = (await client.get(url.replace("/graphql", "/metrics"))).text
    return sample(text, "hub_alert_feed_subscribers")


async def _when_subscribed(url: str, script: asyncio.Task[str]) -> None:
    """Until the hub counts the script's alert-feed subscription (or the script ended)."""
    count = 0.0

    async def poll() -> None:
        nonlocal count
        while not script.done():
            count = await _subscribers(url)
            if count >= 1:
                return
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), CEILING_S)
    except TimeoutError:
        raise AssertionError(f"no alert-feed subscriber after {CEILING_S:.0f} s") from None
    if script.done():
        await script  # its own failure, with its output
    assert count >= 1


def _hash_groups(exchanges: list[dict[str, Any]]) -> dict[str | None, list[tuple[Any, ...]]]:
    groups: dict[str | None, list[tuple[Any, ...]]] = defaultdict(list)
    for e in exchanges:
        groups[e["hash"]].append((e["method"], e["withQuery"], e["status"], e["codes"]))
    return groups


async def test_apollo_client_runs_the_readme_screens_and_the_alert_feed(
    demo_template: FalkorDBStore, tmp_path: Path
) -> None:
    queries = readme_queries()
    async with demo_template.snapshot() as graph:
        key, _ = await create_key(graph, Role.OPERATOR, name="apollo client test")
        code = await _untracked_project(graph)
        env = {"HUB_ALERTS_ENABLED": "true", "HUB_ALERTS_CHECK_INTERVAL_S": "0.5"}
        async with served(graph, tmp_path / "data", env) as url:
            # What each screen answers to a plain POST, to compare with what Apollo's cache
            # gives back.
            plain = [await gql(url, q) for q in queries]
            plan = tmp_path / "plan.json"
            plan.write_text(
                json.dumps({
                    "url": url, "queries": queries, "timeoutMs": CEILING_S * 1000,
                    "alert": {"type": ALERT, "projectCode": code},
                }),
                encoding="utf-8",
            )  # fmt: skip
            args = [node(), str(CLIENTS / "apollo.mjs"), str(plan)]
            started = time.monotonic()
            script = asyncio.create_task(run_async(args, timeout=CEILING_S * 2))
            try:
                await _when_subscribed(url, script)
                subscribed = time.monotonic()
                print(f"apollo: screens, cache and subscription in {subscribed - started:.1f} s")
                await gql(url, TRACK, key=key, code=code, start=str(dt.date(2020, 1, 1)))
                seen = json.loads(await script)
                print(f"apollo: the alert arrived {time.monotonic() - subscribed:.1f} s after")
            finally:
                script.cancel()  # a no-op once it finished; else it stops the node process

    # The README's screens: the same answers through Apollo's normalized cache, again from
    # the network and from the cache alone.
    assert [s["data"] for s in seen["readme"]] == plain
    assert all(s["sameAgain"] and s["sameFromCache"] for s in seen["readme"]), seen["readme"]

    # Automatic persisted queries: every request carried a hash; a document the hub had not
    # seen was refused with PERSISTED_QUERY_NOT_FOUND over GET, sent again with its text over
    # POST, and from then on travelled as its hash alone.
    groups = _hash_groups(seen["exchanges"])
    assert None not in groups, groups[None]
    assert len(groups) == len(queries) + 2  # the README's, ProjectsPage, ProjectById
    for exchanges in groups.values():
        assert exchanges[0] == ("GET", False, 200, ["PERSISTED_QUERY_NOT_FOUND"]), exchanges
        assert exchanges[1] == ("POST", True, 200, []), exchanges
        assert all(e == ("GET", False, 200, []) for e in exchanges[2:]), exchanges
    assert sorted(len(e) for e in groups.values()) == [2, 2] + [3] * len(queries)

    # The normalized cache: one entry per project, keyed by typename and id, which both the
    # list and node(id:) point at; it holds the fields of both, so a query of both is
    # answered from the cache with no request.
    cache = seen["cache"]
    assert cache["key"] == f"Project:{cache['id']}"
    assert len(cache["projectKeys"]) == 3 and cache["key"] in cache["projectKeys"]
    assert cache["pageRefs"][0] == cache["key"] and cache["nodeRef"] == cache["key"]
    entry = cache["entry"]
    assert {"id", "code", "name", "totalInvestment"} <= set(entry), entry
    assert cache["both"] == {
        "node": {"id": cache["id"], "name": entry["name"], "totalInvestment": cache["byIdTotal"]}
    }
    assert cache["bothRequests"] == 0

    # The alert feed over graphql-ws delivered the alert the test raised.
    event = seen["alert"]["event"]
    assert (event["change"], event["alert"]["type"]) == ("RAISED", ALERT)
    assert event["alert"]["projectCode"] == code
    assert event["alert"]["status"] == "ACTIVE_UNACK"
