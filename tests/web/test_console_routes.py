"""How the hub serves the console: the page revalidated on every load, its hashed assets
cached for a year, and a clear 503 with build instructions when there is no build. Also that
the real app serves it at / beside /graphql, /healthz and /readyz."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from hub.console import CONSOLE_DIR, IMMUTABLE, console_routes

pytestmark = pytest.mark.anyio


def _client(dist: Path) -> httpx.AsyncClient:
    app = Starlette(routes=console_routes(dist))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


async def test_without_a_build_the_page_says_how_to_make_one(tmp_path: Path) -> None:
    async with _client(tmp_path / "dist") as client:
        page = await client.get("/")
        assert page.status_code == 503
        assert "make web" in page.text and "npm" in page.text and "/graphql" in page.text
        assert (await client.get("/assets/main-ABC.js")).status_code == 404


async def test_the_page_is_revalidated_and_hashed_assets_are_cached_for_a_year(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<script src="/assets/main-ABC.js"></script>')
    (dist / "assets" / "main-ABC.js").write_text("console.log(1)")
    async with _client(dist) as client:
        page = await client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert "main-ABC.js" in page.text
        asset = await client.get("/assets/main-ABC.js")
        assert asset.status_code == 200 and asset.text == "console.log(1)"
        assert asset.headers["cache-control"] == IMMUTABLE
        assert (await client.get("/assets/missing.js")).status_code == 404
        assert (await client.get("/assets/../index.html")).status_code == 404
        # A build made while the hub runs is served at once.
        (dist / "index.html").write_text("rebuilt")
        assert (await client.get("/")).text == "rebuilt"


async def test_the_hub_serves_the_console_at_root_beside_its_api(tmp_path: Path) -> None:
    from hub.app import create_app
    from hub.settings import load_settings

    app = create_app(load_settings({"HUB_DATA_DIR": str(tmp_path)}))
    paths = [getattr(route, "path", None) for route in app.routes]
    assert paths[:4] == ["/graphql", "/graphql", "/healthz", "/readyz"]
    assert "/" in paths and "/assets" in paths
    assert Path(__file__).resolve().parents[2] / "hub" / "web" / "dist" == CONSOLE_DIR


async def test_the_scalars_specified_by_url_is_served_with_each_grammar(tmp_path: Path) -> None:
    from graphql import GraphQLScalarType

    from hub.api.schema import build_schema

    period = build_schema()._schema.get_type("Period")
    assert isinstance(period, GraphQLScalarType)
    assert period.specified_by_url == "/spec/scalars#period"
    async with _client(tmp_path / "dist") as client:
        page = await client.get("/spec/scalars")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/markdown")
        # Each section an @specifiedBy anchor names, and the half-month form it defines.
        for heading in ("## Date", "## DateTime", "## Period"):
            assert heading in page.text
        assert "2026-09-H2" in page.text and "days 1-15" in page.text
