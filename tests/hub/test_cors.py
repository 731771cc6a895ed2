"""CORS: browser pages on an allowed origin may call /graphql (a preflight, then the request);
pages on any other origin get no CORS header at all, so the browser blocks them. Off by default:
a production hub answers no cross-origin page. The browser itself: tests/web/test_cors.py."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest
from starlette.applications import Starlette

from graph_schema.errors import ConfigurationError
from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from hub.cors import LOOPBACK_ORIGINS
from hub.settings import load_settings
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio

APP_ORIGIN = "https://app.example.org"
QUERY = {"query": "{ industryChains { totalCount } }"}


def _preflight(
    origin: str, method: str = "POST", headers: str = "authorization,content-type"
) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def _app(store: FalkorDBStore, env: Mapping[str, str]) -> Starlette:
    return create_app(api_settings({**ANONYMOUS_VIEWER, **env}), store=store)


async def test_a_preflight_from_an_allowed_origin_gets_the_policy(
    falkordb_demo: FalkorDBStore,
) -> None:
    env = {"HUB_HTTP_CORS_ORIGINS": f"{APP_ORIGIN}, http://localhost:5173"}
    async with started(_app(falkordb_demo, env)) as http:
        preflight = await http.options("/graphql", headers=_preflight(APP_ORIGIN))
        response = await http.post("/graphql", json=QUERY, headers={"Origin": APP_ORIGIN})
        get = await http.get("/graphql", params=QUERY, headers={"Origin": APP_ORIGIN})
    assert preflight.status_code == 204, preflight.text
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    assert preflight.headers["access-control-allow-methods"] == "GET, POST"
    allowed = {
        h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert preflight.headers["access-control-max-age"] == "600"
    assert "Origin" in preflight.headers["vary"]
    for answer in (response, get):
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["industryChains"]["totalCount"] > 0
        assert answer.headers["access-control-allow-origin"] == APP_ORIGIN
        exposed = answer.headers["access-control-expose-headers"]
        assert "ETag" in exposed
        assert "Origin" in answer.headers["vary"]


async def test_another_origin_gets_no_cors_header(falkordb_demo: FalkorDBStore) -> None:
    env = {"HUB_HTTP_CORS_ORIGINS": APP_ORIGIN}
    async with started(_app(falkordb_demo, env)) as http:
        preflight = await http.options("/graphql", headers=_preflight("https://evil.example"))
        response = await http.post(
            "/graphql", json=QUERY, headers={"Origin": "https://evil.example"}
        )
        # An allowed origin asking for a method or a header outside the policy: refused too.
        put = await http.options("/graphql", headers=_preflight(APP_ORIGIN, method="PUT"))
        odd = await http.options("/graphql", headers=_preflight(APP_ORIGIN, headers="x-odd"))
    assert preflight.status_code == 403
    assert "origin https://evil.example is not allowed" in preflight.text
    assert _cors_headers(preflight) == {}
    # The server still answers (CORS is enforced by the browser), without letting it read.
    assert response.status_code == 200
    assert _cors_headers(response) == {}
    assert put.status_code == 403 and "method PUT" in put.text and _cors_headers(put) == {}
    assert odd.status_code == 403 and "x-odd" in odd.text and _cors_headers(odd) == {}


async def test_cors_is_off_by_default(falkordb_demo: FalkorDBStore) -> None:
    async with started(_app(falkordb_demo, {})) as http:
        preflight = await http.options("/graphql", headers=_preflight("http://localhost:5173"))
        response = await http.post(
            "/graphql", json=QUERY, headers={"Origin": "http://localhost:5173"}
        )
    assert preflight.status_code == 405  # no CORS: OPTIONS is not a method /graphql serves
    assert _cors_headers(preflight) == {} and _cors_headers(response) == {}
    assert "Origin" not in response.headers.get("vary", "")


async def test_the_demos_loopback_origins(falkordb_demo: FalkorDBStore) -> None:
    env = {"HUB_HTTP_CORS_ORIGIN_REGEX": LOOPBACK_ORIGINS}
    async with started(_app(falkordb_demo, env)) as http:
        for origin in ("http://localhost:5173", "http://127.0.0.1:8000", "http://[::1]:3000"):
            answer = await http.options("/graphql", headers=_preflight(origin))
            assert answer.status_code == 204, origin
            assert answer.headers["access-control-allow-origin"] == origin
        for origin in ("http://localhost.example.org", "http://127.0.0.2:8000", "null"):
            answer = await http.options("/graphql", headers=_preflight(origin))
            assert answer.status_code == 403, origin
            assert _cors_headers(answer) == {}


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"HUB_HTTP_CORS_ORIGINS": "https://app.example.org/"}, "HUB_HTTP_CORS_ORIGINS"),
        ({"HUB_HTTP_CORS_ORIGINS": "app.example.org"}, "not an origin"),
        ({"HUB_HTTP_CORS_ORIGIN_REGEX": "http://(localhost"}, "HUB_HTTP_CORS_ORIGIN_REGEX"),
        ({"HUB_HTTP_CORS_METHODS": "GET,DELETE"}, "DELETE"),
    ],
)
def test_bad_cors_settings_name_the_variable(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        load_settings(env)
