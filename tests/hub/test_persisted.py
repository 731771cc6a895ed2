"""Persisted operations over HTTP on the real app: Apollo's automatic persisted queries (the
wire format of Apollo Client's persisted-queries link, over POST and GET) and trusted documents
from the manifests graphql-codegen and Relay write, alone or as the only thing accepted."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph_schema.errors import ConfigurationError
from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from hub.settings import load_settings
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio

CHAINS = "query Chains { industryChains { totalCount } }"
CITIES = "query Cities($l: RegionLevel) { regions(where: {level: $l}) { totalCount } }"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": _sha(text)}}


@contextlib.asynccontextmanager
async def _client(
    store: FalkorDBStore, env: Mapping[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **(env or {})}), store=store)
    async with started(app) as http:
        yield http


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "data" not in body, body
    (error,) = body["errors"]
    assert isinstance(error, dict)
    return error


def _total(response: httpx.Response, field: str = "industryChains") -> int:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    total: int = body["data"][field]["totalCount"]
    return total


# --- automatic persisted queries -----------------------------------------------------------


async def test_apq_as_apollos_link_speaks_it_over_post_and_get(
    falkordb_demo: FalkorDBStore,
) -> None:
    async with _client(falkordb_demo) as http:
        # 1. The link sends the hash alone: not seen yet.
        miss = await http.post(
            "/graphql", json={"operationName": "Chains", "extensions": _apq(CHAINS)}
        )
        # 2. It retries with the query: checked, remembered, run.
        first = await http.post(
            "/graphql",
            json={"query": CHAINS, "operationName": "Chains", "extensions": _apq(CHAINS)},
        )
        # 3. From then on the hash alone runs it, over POST and over GET (useGETForHashedQueries).
        again = await http.post("/graphql", json={"extensions": _apq(CHAINS)})
        get = await http.get(
            "/graphql",
            params={"operationName": "Chains", "extensions": json.dumps(_apq(CHAINS))},
        )
        # GET registers too, and carries variables beside the hash.
        params = {
            "query": CITIES,
            "operationName": "Cities",
            "variables": json.dumps({"l": "CITY"}),
            "extensions": json.dumps(_apq(CITIES)),
        }
        registered = await http.get("/graphql", params=params)
        del params["query"]
        by_hash = await http.get("/graphql", params=params)
    # Apollo Server's answer: HTTP 200, message and code the link looks for, never cached.
    assert miss.status_code == 200
    error = _error(miss)
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert miss.headers["cache-control"] == "no-store"
    total = _total(first)
    assert total > 0
    assert _total(again) == total == _total(get)
    assert _total(registered, "regions") == _total(by_hash, "regions") == 11


async def test_a_hash_that_is_not_the_querys_is_refused(falkordb_demo: FalkorDBStore) -> None:
    async with _client(falkordb_demo) as http:
        wrong = await http.post("/graphql", json={"query": CHAINS, "extensions": _apq(CITIES)})
        # Nothing was remembered under the wrong hash.
        after = await http.post("/graphql", json={"extensions": _apq(CITIES)})
        version = await http.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 2, "sha256Hash": _sha(CHAINS)}}},
        )
        short = await http.post(
            "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab"}}}
        )
    assert wrong.status_code == 400
    assert _error(wrong)["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert "SHA-256" in _error(wrong)["message"]
    assert _error(after)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert version.status_code == 400
    assert _error(version)["extensions"]["code"] == "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
    assert short.status_code == 400 and "64 hex digits" in _error(short)["message"]
    assert _error(short)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_remembered_mutation_is_still_refused_over_get(
    falkordb_demo: FalkorDBStore,
) -> None:
    mutation = "mutation Write { regions { totalCount } }"
    async with _client(falkordb_demo) as http:
        await http.post("/graphql", json={"query": mutation, "extensions": _apq(mutation)})
        response = await http.get("/graphql", params={"extensions": json.dumps(_apq(mutation))})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_the_remembered_queries_are_bounded_least_recently_used_first(
    falkordb_demo: FalkorDBStore,
) -> None:
    queries = [f"query Q{i} {{ industryChains {{ totalCount }} }}" for i in range(3)]
    async with _client(falkordb_demo, {"HUB_HTTP_PERSISTED_CACHE_SIZE": "2"}) as http:
        for query in queries[:2]:
            _total(await http.post("/graphql", json={"query": query, "extensions": _apq(query)}))
        _total(await http.post("/graphql", json={"extensions": _apq(queries[0])}))  # used: kept
        q2 = queries[2]
        _total(await http.post("/graphql", json={"query": q2, "extensions": _apq(q2)}))
        kept = [await http.post("/graphql", json={"extensions": _apq(q)}) for q in queries]
    assert [r.json().get("data") is not None for r in kept] == [True, False, True]
    assert _error(kept[1])["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_apq_turned_off_says_not_supported(falkordb_demo: FalkorDBStore) -> None:
    async with _client(falkordb_demo, {"HUB_HTTP_PERSISTED_QUERIES": "false"}) as http:
        miss = await http.post("/graphql", json={"extensions": _apq(CHAINS)})
        full = await http.post("/graphql", json={"query": CHAINS, "extensions": _apq(CHAINS)})
        still = await http.post("/graphql", json={"extensions": _apq(CHAINS)})
    # The link stops sending hashes on PERSISTED_QUERY_NOT_SUPPORTED and sends queries.
    assert miss.status_code == 200
    assert _error(miss)["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    assert _total(full) > 0
    assert _error(still)["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


# --- trusted documents ---------------------------------------------------------------------

RELAY_ID = "3c0ba4ac1c4aac4c2a0d2d4c8c7f1a52"  # Relay's ids are md5 hashes, not SHA-256


def _manifest(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.json"
    if kind == "codegen":  # persisted-documents.json: {sha256 of the text: text}
        data: object = {_sha(CHAINS): CHAINS, _sha(CITIES): CITIES}
    elif kind == "relay":  # persisted_queries.json: {id: text}
        data = {RELAY_ID: CHAINS, "cities": CITIES}
    else:  # Apollo's persisted query manifest
        data = {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                {"id": _sha(CHAINS), "name": "Chains", "type": "query", "body": CHAINS},
                {"id": _sha(CITIES), "name": "Cities", "type": "query", "body": CITIES},
            ],
        }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["codegen", "relay", "apollo"])
async def test_trusted_documents_by_id_doc_id_and_hash(
    falkordb_demo: FalkorDBStore, tmp_path: Path, kind: str
) -> None:
    chains_id = RELAY_ID if kind == "relay" else _sha(CHAINS)
    env = {"HUB_HTTP_TRUSTED_DOCUMENTS": str(_manifest(tmp_path, kind))}
    async with _client(falkordb_demo, env) as http:
        by_id = await http.post("/graphql", json={"documentId": chains_id})
        by_doc_id = await http.post("/graphql", json={"doc_id": chains_id})
        by_get = await http.get("/graphql", params={"documentId": chains_id})
        # The APQ hash of a trusted document finds it without a registration first.
        by_hash = await http.post("/graphql", json={"extensions": _apq(CHAINS)})
        # Free text still runs: the manifest is not the only thing accepted.
        free = await http.post("/graphql", json={"query": "{ regions { totalCount } }"})
        unknown = await http.post("/graphql", json={"documentId": "sha256:" + "0" * 64})
        both = await http.post("/graphql", json={"documentId": chains_id, "query": CHAINS})
    total = _total(by_id)
    assert total > 0
    assert _total(by_doc_id) == _total(by_get) == _total(by_hash) == total
    assert _total(free, "regions") > 0
    assert unknown.status_code == 400
    assert _error(unknown)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert both.status_code == 400 and "not both" in _error(both)["message"]


async def test_the_sha256_prefix_of_graphql_over_http(
    falkordb_demo: FalkorDBStore, tmp_path: Path
) -> None:
    env = {"HUB_HTTP_TRUSTED_DOCUMENTS": str(_manifest(tmp_path, "codegen"))}
    async with _client(falkordb_demo, env) as http:
        response = await http.post(
            "/graphql",
            json={"documentId": f"sha256:{_sha(CITIES)}", "variables": {"l": "CITY"}},
        )
    assert _total(response, "regions") == 11


async def test_trusted_only_runs_nothing_else(falkordb_demo: FalkorDBStore, tmp_path: Path) -> None:
    env = {
        "HUB_HTTP_TRUSTED_DOCUMENTS": str(_manifest(tmp_path, "codegen")),
        "HUB_HTTP_TRUSTED_ONLY": "true",
    }
    other = "{ regions { totalCount } }"
    async with _client(falkordb_demo, env) as http:
        trusted = await http.post("/graphql", json={"documentId": _sha(CHAINS)})
        same_text = await http.post("/graphql", json={"query": CHAINS})
        free = await http.post("/graphql", json={"query": other})
        free_get = await http.get("/graphql", params={"query": other})
        apq_miss = await http.post("/graphql", json={"extensions": _apq(other)})
        apq_register = await http.post("/graphql", json={"query": other, "extensions": _apq(other)})
    assert _total(trusted) == _total(same_text) > 0
    for refused in (free, free_get, apq_miss, apq_register):
        assert refused.status_code == 400, refused.text
        assert _error(refused)["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        assert "trusted documents" in _error(refused)["message"]


@pytest.mark.parametrize(
    "content", ["not json", "[1, 2]", '{"id": 7}', '{"format": "apollo-persisted-query-manifest"}']
)
def test_a_manifest_that_is_not_one_stops_the_hub_at_start(tmp_path: Path, content: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="HUB_HTTP_TRUSTED_DOCUMENTS"):
        create_app(api_settings({"HUB_HTTP_TRUSTED_DOCUMENTS": str(path)}))


def test_trusted_only_needs_a_manifest() -> None:
    with pytest.raises(ConfigurationError, match="HUB_HTTP_TRUSTED_DOCUMENTS"):
        load_settings({"HUB_HTTP_TRUSTED_ONLY": "true"})


async def test_a_browser_naming_a_document_gets_the_answer_not_graphiql(
    falkordb_demo: FalkorDBStore, tmp_path: Path
) -> None:
    env = {"HUB_HTTP_TRUSTED_DOCUMENTS": str(_manifest(tmp_path, "codegen"))}
    async with _client(falkordb_demo, env) as http:
        response = await http.get(
            "/graphql",
            params={"documentId": _sha(CHAINS)},
            headers={"Accept": "text/html, application/json;q=0.9"},
        )
    assert response.headers["content-type"].startswith("application/json")
    assert _total(response) > 0
