"""Compiled against resolver execution of the five reads of issue 28, in process.

Seeds a province (``--scale hubei`` by default: 11,287 projects, 50,000 enterprises) into an
embedded FalkorDB under a temporary directory, serves it with ``create_app`` through
``httpx.ASGITransport`` (no socket), and reports per read and execution mode: the hub's own CPU
per request (``time.process_time`` over ``--requests`` requests after a warm-up; the FalkorDB
server is a child process and not counted) and the Python calls of one request (cProfile).
Both modes must give the same answers, which it checks.

    nice -n 15 .venv/bin/python scripts/measure_compiled.py --requests 40
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hub.app import create_app
from hub.demo import Scale, generate
from hub.seed import seed_demo
from hub.settings import load_settings
from hub.store import open_store
from tests.hub.apps import started  # the app's lifespan, then an ASGITransport client

CITY_PAGE = """query City($region: String!) {
  projects(first: 50, where: {region: $region},
           sort: [{field: TOTAL_INVESTMENT, direction: DESC}]) {
    nodes { code name stage totalInvestment owner { uscc name } region { code name }
            segments { nodes { segmentId name } } }
  }
}"""
BY_CODE = """query One($code: String!) {
  project(code: $code) { code name stage totalInvestment plannedStart owner { name }
    region { code name } segments { nodes { segmentId name } } }
}"""
ENTERPRISE = """query Ent($uscc: String!) {
  enterprise(uscc: $uscc) { uscc name projects(first: 20) { totalCount
    nodes { code name stage totalInvestment } } }
}"""
BY_STAGE = """query Stages($region: String!) {
  projects(where: {region: $region}) {
    groups(by: STAGE) { key aggregate { count totalInvestment { sum } } }
  }
}"""
DEEP = """query Deep {
  projects(first: 50, offset: 5000) { pageInfo { hasNextPage endCursor }
    nodes { code name totalInvestment } }
}"""


async def main(scale: str, requests: int, top: int) -> None:
    data = generate(Scale(scale))
    cities = [r for r in data.region if r.level == "city"]
    by_city = Counter(
        next(c.code for c in cities if p.region_code[:4] == c.code[:4]) for p in data.project
    )
    city = by_city.most_common(1)[0][0]
    owners = Counter(p.owner_uscc for p in data.project)
    uscc = next(u for u, n in owners.most_common() if n <= 20)
    code = sorted(p.code for p in data.project)[len(data.project) // 2]
    reads: list[tuple[str, str, dict[str, Any]]] = [
        ("city page of 50", CITY_PAGE, {"region": city}),
        ("project by code", BY_CODE, {"code": code}),
        ("enterprise with projects", ENTERPRISE, {"uscc": uscc}),
        ("sums by stage in a city", BY_STAGE, {"region": city}),
        ("page after row 5,000", DEEP, {}),
    ]
    with tempfile.TemporaryDirectory(prefix="hub-measure-") as tmp:
        env = {
            "HUB_DATA_DIR": str(Path(tmp)),
            "HUB_MQTT_INGEST": "false",
            "HUB_ALERTS_ENABLED": "false",
            "HUB_CAMERA_ENABLED": "false",
            "HUB_AUTH_ANONYMOUS_ROLE": "viewer",
            "HUB_HTTP_RATE_PER_S": "100000",
            "HUB_HTTP_RATE_BURST": "1000000",
        }
        store = await open_store(load_settings(env))
        began = time.monotonic()
        await seed_demo(store, scale, data=data)
        print(f"seeded {scale} in {time.monotonic() - began:.0f} s")
        answers: dict[str, Any] = {}
        try:
            for mode in ("resolvers", "compiled"):
                app = create_app(load_settings({**env, "HUB_API_EXECUTION": mode}), store=store)
                async with started(app) as http:
                    for name, query, variables in reads:
                        body = {"query": query, "variables": variables}

                        async def post(body: dict[str, Any] = body) -> Any:
                            response = await http.post("/graphql", json=body)
                            found = response.json()
                            assert "errors" not in found, found
                            return found

                        for _ in range(5):
                            answer = await post()
                        if name in answers:
                            assert answers[name] == answer, f"{name}: answers differ"
                        answers[name] = answer
                        cpu = time.process_time()
                        for _ in range(requests):
                            await post()
                        per = (time.process_time() - cpu) / requests * 1000
                        profile = cProfile.Profile()
                        profile.enable()
                        await post()
                        profile.disable()
                        stats = pstats.Stats(profile)
                        calls = stats.total_calls  # type: ignore[attr-defined]
                        if top:
                            stats.sort_stats("ncalls").print_stats(top)
                        size = len(json.dumps(answer, ensure_ascii=False).encode())
                        print(
                            f"{mode:9} | {name:26} | {per:6.2f} ms CPU/request | "
                            f"{calls:7,} Python calls | {size:,} B"
                        )
        finally:
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="hubei", choices=[s.value for s in Scale])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--top", type=int, default=0, help="print the N most called functions")
    args = parser.parse_args()
    asyncio.run(main(args.scale, args.requests, args.top))
