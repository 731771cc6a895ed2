"""The sample operations `hub demo` prints at start run on the demo data: taken from the code
that prints them, never copied here."""

from __future__ import annotations

import graphql
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.api.schema import Limits, build_schema
from hub.app import create_app
from hub.cli import DEMO_QUERY, DEMO_SUBSCRIPTION
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio


async def test_the_banners_query_runs_on_the_demo_data(falkordb_demo: FalkorDBStore) -> None:
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=falkordb_demo)
    async with started(app) as http:
        response = await http.post("/graphql", json={"query": DEMO_QUERY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    chains = body["data"]["industryChains"]["nodes"]
    assert chains, "the demo has industry chains"
    segments = [s for chain in chains for s in chain["segments"]["nodes"]]
    assert segments and all(s["name"] and s["tier"] for s in segments)


def test_the_banners_subscription_is_valid_against_the_schema() -> None:
    schema = build_schema(Limits())._schema
    errors = graphql.validate(schema, graphql.parse(DEMO_SUBSCRIPTION))
    assert errors == []
