"""GraphQL over HTTP as the draft spec (graphql.github.io/graphql-over-http) describes it, and the
schema contract front-end teams generate clients from. The API tests speak HTTP to the real app
on a real embedded FalkorDB; the drift test runs `hub schema` itself."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
from collections.abc import AsyncIterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.store import GraphStore
from hub.app import create_app
from hub.cli import main
from hub.graphiql import GRAPHIQL_DIR
from hub.headers import CONSOLE_CSP
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
GRAPHQL_RESPONSE = "application/graphql-response+json; charset=utf-8"
JSON = "application/json; charset=utf-8"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CITIES = "query($l: RegionLevel) { regions(where: {level: $l}) { totalCount } }"
# A resolver error on a non-null root field: execution ran, and data is null.
TOO_LARGE_PAGE = "{ projects(first: 100000) { totalCount } }"


def _client(
    store: GraphStore, env: Mapping[str, str] | None = None
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **(env or {})}), store=store)
    return started(app)


@pytest.fixture
async def client(demo_store: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(demo_store) as http:
        yield http


async def _post(
    client: httpx.AsyncClient, body: object, *, accept: str | None = "*/*"
) -> httpx.Response:
    request = client.build_request("POST", "/graphql", json=body)
    if accept is None:
        del request.headers["accept"]
    else:
        request.headers["accept"] = accept
    return await client.send(request)


def _only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    (error,) = body["errors"]
    assert isinstance(error, dict)
    return error


# --- content negotiation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        None,  # no Accept: graphql-response+json since the draft's 2025-01-01 watershed
        "*/*",
        "application/*",
        "application/graphql-response+json",
        "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
        "application/json;q=0.9, application/graphql-response+json",
    ],
)
async def test_graphql_response_json_when_the_client_accepts_it(
    client: httpx.AsyncClient, accept: str | None
) -> None:
    response = await _post(client, {"query": CITIES, "variables": {"l": "CITY"}}, accept=accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["data"]["regions"]["totalCount"] == 11


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/graphql-response+json;q=0.5, application/json",
        "application/json, application/graphql-response+json",  # equal weight: client's order
        "application/graphql-response+json;q=0, */*",
        "application/graphql-response+json; charset=latin1, application/json",
    ],
)
async def test_application_json_when_the_client_prefers_only_that(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await _post(client, {"query": CITIES, "variables": {"l": "CITY"}}, accept=accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    assert response.json()["data"]["regions"]["totalCount"] == 11


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/xml, text/plain",
        "application/json; charset=iso-8859-1",
        "application/graphql-response+json;q=0, application/json;q=0, text/csv",
    ],
)
async def test_406_when_the_client_accepts_neither(client: httpx.AsyncClient, accept: str) -> None:
    response = await _post(client, {"query": CITIES}, accept=accept)
    assert response.status_code == 406
    assert "application/graphql-response+json" in response.text
    assert "regions" not in response.text


# --- status codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables", "operation", "says"),
    [
        ("{ regions { code }", None, None, "Syntax Error"),
        ("{ nothingHere }", None, None, "nothingHere"),
        (CITIES, {"l": "MOON"}, None, "MOON"),
        (
            "query A { regions { totalCount } } query B { industryChains { totalCount } }",
            None,
            "C",
            '"C"',
        ),
        ("", None, None, "empty"),
    ],
    ids=["parse", "validation", "variables", "operation", "empty-document"],
)
async def test_request_errors_are_400_with_codes_and_no_data(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
    says: str,
) -> None:
    body = {"query": query, "variables": variables, "operationName": operation}
    response = await _post(client, body, accept="application/graphql-response+json")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json()  # nothing ran: the GraphQL spec omits data
    error = _only_error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert says in error["message"]

    # The same request from a legacy application/json client is a 200 GraphQL response.
    legacy = await _post(client, body, accept="application/json")
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == JSON
    assert legacy.json() == response.json()


async def test_an_executed_document_is_200_even_when_its_data_is_null(
    client: httpx.AsyncClient,
) -> None:
    response = await _post(client, {"query": TOO_LARGE_PAGE})
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert body["data"] is None  # present, null: execution ran and the non-null field failed
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["projects"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"query":', "not valid JSON"),
        (b"NONSENSE", "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        (b'"{ regions { totalCount } }"', "JSON object"),
        (b'[{"query": "{ regions { totalCount } }"}]', "JSON object"),
        (b'{"qeury": "{ regions { totalCount } }"}', "no query"),
        (b'{"query": 42}', "query must be a string"),
        (b'{"query": "{ regions { totalCount } }", "variables": [7]}', "variables"),
        (b'{"query": "{ regions { totalCount } }", "operationName": 1}', "operationName"),
        (b'{"query": "{ regions { totalCount } }", "extensions": "x"}', "extensions"),
    ],
)
@pytest.mark.parametrize("accept", ["application/graphql-response+json", "application/json"])
async def test_malformed_requests_are_400_with_a_clear_error(
    client: httpx.AsyncClient, content: bytes, says: str, accept: str
) -> None:
    response = await client.post(
        "/graphql",
        content=content,
        headers={"Content-Type": "application/json", "Accept": accept},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    error = _only_error(response)
    assert says in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin1",
        "application/jsonx",
    ],
)
async def test_unsupported_request_content_types_are_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(
        "/graphql", content=json.dumps({"query": CITIES}).encode(), headers=headers
    )
    assert response.status_code == 415, response.text
    error = _only_error(response)
    assert "Content-Type: application/json" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_json_content_type_is_case_and_charset_tolerant(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": "{ industryChains { totalCount } }"}).encode(),
        headers={"Content-Type": "Application/JSON; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["industryChains"]


# --- GET -----------------------------------------------------------------------------------


async def test_queries_over_get_with_variables(client: httpx.AsyncClient) -> None:
    params = {"query": CITIES, "variables": json.dumps({"l": "CITY"}), "operationName": ""}
    response = await client.get("/graphql", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["data"]["regions"]["totalCount"] == 11


async def test_get_with_variables_that_are_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": CITIES, "variables": "{l: CITY}"})
    assert response.status_code == 400
    error = _only_error(response)
    assert "variables parameter is not valid JSON" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_mutations_over_get_are_405_and_name_post(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { regions { totalCount } }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json()
    error = _only_error(response)
    assert "POST" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_operation_name_picks_the_operation_over_get(client: httpx.AsyncClient) -> None:
    document = (
        "query Chains { industryChains { totalCount } } "
        "query Cities { regions(where: {level: CITY}) { totalCount } }"
    )
    response = await client.get("/graphql", params={"query": document, "operationName": "Cities"})
    assert response.status_code == 200, response.text
    assert list(response.json()["data"]) == ["regions"]


async def test_get_is_refused_for_the_named_mutation_before_validation(
    client: httpx.AsyncClient,
) -> None:
    # The method is checked against the operation that would run, before the document is
    # validated: a mutation over GET is a 405 whatever the rest of the document says.
    document = (
        "query Read { industryChains { totalCount } } mutation Write { regions { totalCount } }"
    )
    write = await client.get("/graphql", params={"query": document, "operationName": "Write"})
    assert write.status_code == 405
    assert write.headers["allow"] == "POST"
    read = await client.get("/graphql", params={"query": document, "operationName": "Read"})
    assert read.status_code == 400  # not refused for its method; the document fails validation
    assert "allow" not in read.headers


async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    response = await client.request("HEAD", "/graphql", params={"query": CITIES})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert (await client.put("/graphql", json={"query": CITIES})).status_code == 405


# --- GraphiQL ------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/html", BROWSER_ACCEPT])
async def test_browsers_get_graphiql_in_development(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.get("/graphql", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>E-Ledger Hub · GraphiQL</title>" in response.text


class _PageParts(HTMLParser):
    """What an HTML page loads (script src, stylesheet href) and any inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []  # (tag, url)
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "style" in found:
            self.inline.append(f"style attribute on <{tag}>")
        if any(name.startswith("on") for name in found):
            self.inline.append(f"event handler on <{tag}>")
        if tag == "script":
            if found.get("src"):
                self.loads.append((tag, str(found["src"])))
            else:
                self._in = tag
        elif tag == "link":
            self.loads.append((tag, str(found.get("href"))))
        elif tag == "style":
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None and data.strip():
            self.inline.append(f"inline <{self._in}>")


async def test_graphiql_loads_only_this_hubs_files_under_the_strict_csp(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
    csp = page.headers["content-security-policy"]
    assert csp == CONSOLE_CSP  # the console's policy: no CDN, no inline script or style
    parts = _PageParts()
    parts.feed(page.text)
    assert parts.inline == []
    assert not re.search(r"https?://|//[a-z]", page.text, re.IGNORECASE)
    urls = {tag: [u for t, u in parts.loads if t == tag] for tag in ("script", "link")}
    assert [u.rsplit("/", 1)[-1] for u in urls["script"]] == [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "start.js",
    ]
    assert len(urls["link"]) == 2
    expected = {"script": "text/javascript; charset=utf-8", "link": "text/css; charset=utf-8"}
    for tag, url in parts.loads:
        assert url.startswith("/graphiql/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"] == expected[tag], url
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.content == (GRAPHIQL_DIR / url.removeprefix("/graphiql/")).read_bytes()
    # The bundle is the vendored release that sets the global start.js uses, with no CDN fetch.
    bundle = (await client.get("/graphiql/vendor/graphiql.min.js")).text
    assert "window.GraphiQL =" in bundle and "unpkg.com" not in bundle
    # Byte for byte the npm releases whose sums VENDOR.md records (update-vendor.sh checks
    # them against the registry).
    vendor_md = (GRAPHIQL_DIR / "VENDOR.md").read_text()
    sums = re.findall(r"^    ([0-9a-f]{64})  (\S+)$", vendor_md, re.M)
    assert {name for _, name in sums} >= {"graphiql.min.js", "react.production.min.js"}
    for digest, name in sums:
        assert hashlib.sha256((GRAPHIQL_DIR / "vendor" / name).read_bytes()).hexdigest() == digest
    # Only the listed assets: not the page's sources, licences or anything by path tricks.
    for other in ("/graphiql/index.html", "/graphiql/VENDOR.md", "/graphiql/../graphiql.py"):
        assert (await client.get(other)).status_code == 404, other


async def test_clients_that_do_not_ask_for_html_get_no_graphiql(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers={"Accept": "*/*"})
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert _only_error(response)["message"] == "the request has no query"


@pytest.mark.parametrize(
    "env",
    [{"HUB_HTTP_GRAPHIQL": "false"}, {"HUB_ENVIRONMENT": "production"}],
    ids=["graphiql-off", "production"],
)
async def test_no_graphiql_when_turned_off_or_in_production(
    demo_store: FalkorDBStore, env: dict[str, str]
) -> None:
    async with _client(demo_store, env) as http:
        page = await http.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
        html_only = await http.get("/graphql", headers={"Accept": "text/html"})
        query = await http.get("/graphql", params={"query": "{ industryChains { totalCount } }"})
        asset = await http.get("/graphiql/start.js")
    assert asset.status_code == 404  # nor GraphiQL's assets
    assert page.status_code == 400
    assert page.headers["content-type"] == GRAPHQL_RESPONSE
    assert "GraphiQL" not in page.text
    assert html_only.status_code == 406
    assert "GraphiQL" not in html_only.text
    assert query.status_code == 200  # the API itself is unaffected
    assert query.json()["data"]["industryChains"]


# --- store down ----------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed: connections are refused


async def _assert_unavailable(store: GraphStore, *secrets: str) -> None:
    async with _client(store) as http:
        response = await _post(http, {"query": "{ industryChains { totalCount } }"})
        assert response.status_code == 200  # executed: the field failed, not the request
        assert response.json()["data"] is None
        error = _only_error(response)
        assert error["extensions"] == {"code": "UNAVAILABLE"}
        assert error["message"] == "The graph store is unavailable; try again shortly."
        for secret in ("Traceback", "FalkorDB", "redis", *secrets):
            assert secret not in response.text, f"{secret!r} leaked into {response.text}"
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"


async def test_a_closed_store_is_unavailable_without_internal_detail(
    store: FalkorDBStore, tmp_path: Path
) -> None:
    # close() stops the embedded server for good; a crash would be revived on the next call.
    await store.close()
    await _assert_unavailable(store, str(tmp_path))


async def test_an_unreachable_store_is_unavailable_without_internal_detail() -> None:
    port = _closed_port()
    store = FalkorDBStore(host="127.0.0.1", port=port, socket_timeout_s=1.0)
    try:
        await _assert_unavailable(store, str(port), "127.0.0.1", "refused")
    finally:
        await store.close()


# --- schema contract -----------------------------------------------------------------------


def test_committed_schema_matches_the_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # `hub schema` needs neither valid settings nor a store: a dead graph URL and a bad port
    # would stop every other command.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUB_GRAPH_URL", f"falkordb://127.0.0.1:{_closed_port()}/hub")
    monkeypatch.setenv("HUB_HTTP_PORT", "not-a-port")
    assert main(["schema"]) == 0
    printed, _ = capsys.readouterr()
    assert "type Query {" in printed
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert printed == committed, (
        "schema.graphql differs from the schema in the code; regenerate it with "
        "`hub schema > schema.graphql` (or `make schema`) and commit it"
    )


_BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
_DESCRIPTIONS = """{ __schema { types {
    name description
    fields(includeDeprecated: true) { name description args { name description } }
    inputFields { name description }
    enumValues(includeDeprecated: true) { name description } } } }"""

# Schema elements allowed to lack a description (none today); anything new that lacks one
# fails the test.
_KNOWN_UNDESCRIBED: frozenset[str] = frozenset()


def _undescribed(types: list[dict[str, Any]]) -> set[str]:
    missing: set[str] = set()

    def check(element: dict[str, Any], name: str) -> None:
        if not (element.get("description") or "").strip():
            missing.add(name)

    for t in types:
        if t["name"].startswith("__") or t["name"] in _BUILT_IN_SCALARS:
            continue
        check(t, t["name"])
        for field in t["fields"] or []:
            check(field, f"{t['name']}.{field['name']}")
            for arg in field["args"]:
                check(arg, f"{t['name']}.{field['name']}({arg['name']})")
        for field in t["inputFields"] or []:
            check(field, f"{t['name']}.{field['name']}")
        for value in t["enumValues"] or []:
            check(value, f"{t['name']}.{value['name']}")
    return missing


async def test_every_schema_element_has_a_description(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"query": _DESCRIPTIONS})
    assert response.status_code == 200, response.text
    types = response.json()["data"]["__schema"]["types"]
    assert {"Query", "Region", "Project"} <= {t["name"] for t in types}
    missing = _undescribed(types)
    new = sorted(missing - _KNOWN_UNDESCRIBED)
    assert not new, "schema elements without a description: " + ", ".join(new)
    fixed = sorted(_KNOWN_UNDESCRIBED - missing)
    assert not fixed, "described now, remove from _KNOWN_UNDESCRIBED: " + ", ".join(fixed)


# --- operationName ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "document",
    [
        "query A { industryChains { totalCount } } query B { regions { totalCount } }",
        "{ industryChains { totalCount } } query B { regions { totalCount } }",
        "query A { industryChains { totalCount } } mutation B { regions { totalCount } }",
    ],
    ids=["two-queries", "anonymous-first", "query-and-mutation"],
)
async def test_several_operations_without_an_operation_name_are_a_request_error(
    client: httpx.AsyncClient, method: str, document: str
) -> None:
    # The GraphQL spec (GetOperation) and GraphQL over HTTP: never "run the first".
    if method == "GET":
        response = await client.get("/graphql", params={"query": document})
    else:
        response = await _post(client, {"query": document}, accept=None)
    assert response.status_code == 400, response.text
    assert "data" not in response.json()
    error = _only_error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "operationName" in error["message"]
    assert "A, B" in error["message"] or "B" in error["message"]


async def test_answers_are_utf8_without_escapes(client: httpx.AsyncClient) -> None:
    # Chinese names go out as their UTF-8 bytes, not as \uXXXX (a third of the size), in a
    # POST and GET answer, and decode to the same values.
    query = "{ regions(first: 3, sort: [{field: CODE}]) { nodes { code name } } }"
    posted = await _post(client, {"query": query})
    assert posted.status_code == 200
    assert b"\\u" not in posted.content
    names = [n["name"] for n in json.loads(posted.content)["data"]["regions"]["nodes"]]
    assert names and all(name.encode() in posted.content for name in names)
    assert any(ord(ch) > 127 for name in names for ch in name)
    got = await client.get("/graphql", params={"query": query}, headers={"accept": JSON})
    assert got.status_code == 200 and got.headers["content-type"] == JSON
    assert got.content == posted.content
