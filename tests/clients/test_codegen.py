"""graphql-codegen (client preset) generates TypeScript from the live endpoint's introspection
and the README's queries, and `tsc --noEmit` passes on a typed client that uses them
(tests/clients/typed/client.ts), whose @ts-expect-error lines prove the types are real. The
trusted-documents manifest the preset writes beside them (persisted-documents.json) is what a
hub in trusted-only mode then runs, and nothing else. On an empty FalkorDB graph: the schema
and the HTTP layer, not the data or the store, are under test here."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from tests.clients.hubs import served
from tests.clients.node import CLIENTS, MODULES, run_async, tool
from tests.hub.test_readme_queries import readme_queries

pytestmark = pytest.mark.anyio
TYPED = CLIENTS / "typed"


def _named(query: str) -> tuple[str, str]:
    """The README's anonymous query as `query Readme<Root> {...}` (the client preset skips
    anonymous operations), with that name."""
    match = re.match(r"\{\s*(\w+)", query)
    assert match is not None, query
    root = match.group(1)
    name = f"Readme{root[0].upper()}{root[1:]}"
    return name, f"query {name} {query}\n"


async def test_codegen_types_from_the_live_endpoint_pass_tsc(
    falkordb_store: FalkorDBStore, tmp_path: Path
) -> None:
    work = tmp_path / "typed"
    shutil.copytree(TYPED, work)
    (work / "node_modules").symlink_to(MODULES)  # packages resolve from the copy
    readme = work / "readme"
    readme.mkdir()
    names = []
    for query in readme_queries():
        name, document = _named(query)
        names.append(name)
        (readme / f"{name}.graphql").write_text(document, encoding="utf-8")
    async with served(falkordb_store, tmp_path / "data") as url:
        config = {
            "schema": url,
            "documents": ["readme/*.graphql", "client.ts"],
            "generates": {
                "gql/": {
                    "preset": "client",
                    "presetConfig": {"persistedDocuments": True},
                    "config": {
                        "scalars": {"Date": "string", "DateTime": "string", "Period": "string"},
                        "defaultScalarType": "unknown",
                        "useTypeImports": True,
                    },
                }
            },
        }
        (work / "codegen.json").write_text(json.dumps(config), encoding="utf-8")
        started = time.monotonic()
        await run_async([tool("graphql-codegen"), "--config", "codegen.json"], cwd=work)
        print(f"codegen: {time.monotonic() - started:.1f} s")
    generated = (work / "gql" / "graphql.ts").read_text(encoding="utf-8")
    for name in [*names, "LargestProjects"]:
        assert f"export const {name}Document" in generated, name
    manifest = work / "gql" / "persisted-documents.json"
    documents: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8"))
    assert len(documents) == len(names) + 1, documents
    # Trusted-only: the manifest's documents run by id; a text not in it is refused.
    env = {"HUB_HTTP_TRUSTED_DOCUMENTS": str(manifest), "HUB_HTTP_TRUSTED_ONLY": "true"}
    async with (
        served(falkordb_store, tmp_path / "data", env) as url,
        httpx.AsyncClient(timeout=120) as http,
    ):
        for digest, text in documents.items():
            variables = {"first": 2} if "$first" in text else {}
            answer = await http.post(
                url, json={"documentId": f"sha256:{digest}", "variables": variables}
            )
            body = answer.json()
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
            # Executed (on an empty graph a screen may answer NOT_FOUND), not refused.
            assert answer.status_code == 200 and "data" in body, (text, body)
            assert not [c for c in codes if str(c).startswith("PERSISTED_QUERY")], body
        free = await http.post(url, json={"query": "{ projects { totalCount } }"})
    assert free.status_code == 400
    assert free.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    started = time.monotonic()
    await run_async([tool("tsc"), "--noEmit", "-p", "tsconfig.json"], cwd=work)
    print(f"tsc --noEmit: {time.monotonic() - started:.1f} s")
