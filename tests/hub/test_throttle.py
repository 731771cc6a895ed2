"""Per-caller rate and concurrency, per-source key guessing: 429 with Retry-After, on a stepped
clock for the buckets and over HTTP for the answer."""

from __future__ import annotations

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from hub.throttle import Throttle
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_over_its_rate_waits_and_others_do_not() -> None:
    clock = Clock()
    throttle = Throttle(rate_per_s=2, burst=3, concurrency=10, guesses_per_min=5, clock=clock)
    for _ in range(3):
        assert throttle.admit("key:a", "10.0.0.1") is None
        throttle.release("key:a")
    assert throttle.admit("key:a", "10.0.0.1") == 1.0  # Retry-After, whole seconds
    assert throttle.admit("key:b", "10.0.0.1") is None  # another key is not held back
    clock.now += 0.5  # one token back at 2 per second
    assert throttle.admit("key:a", "10.0.0.1") is None


def test_concurrency_per_caller() -> None:
    throttle = Throttle(rate_per_s=100, burst=100, concurrency=2, guesses_per_min=5, clock=Clock())
    assert throttle.admit("key:a", "s") is None
    assert throttle.admit("key:a", "s") is None
    assert throttle.admit("key:a", "s") is not None  # a third in flight
    throttle.release("key:a")
    assert throttle.admit("key:a", "s") is None


def test_key_guesses_are_throttled_per_source() -> None:
    clock = Clock()
    throttle = Throttle(rate_per_s=100, burst=100, concurrency=10, guesses_per_min=3, clock=clock)
    for _ in range(3):
        throttle.failed_authentication("203.0.113.9")
    assert throttle.admit(Throttle.caller("Bearer elh_x", "203.0.113.9"), "203.0.113.9") == 20.0
    assert throttle.admit("addr:198.51.100.1", "198.51.100.1") is None  # another source
    clock.now += 20
    assert throttle.admit(Throttle.caller("Bearer elh_y", "203.0.113.9"), "203.0.113.9") is None


async def test_over_http_429_with_retry_after(demo_store: FalkorDBStore) -> None:
    settings = api_settings(
        {**ANONYMOUS_VIEWER, "HUB_HTTP_RATE_PER_S": "0.01", "HUB_HTTP_RATE_BURST": "2",
         "HUB_AUTH_GUESSES_PER_MIN": "2"}
    )  # fmt: skip
    app = create_app(settings, store=demo_store)
    query = {"query": "{ regions(first: 1) { totalCount } }"}
    async with started(app) as http:
        assert (await http.post("/graphql", json=query)).status_code == 200
        assert (await http.post("/graphql", json=query)).status_code == 200
        refused = await http.post("/graphql", json=query)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # Guessing keys: two wrong ones from this address, then even a third is refused early.
        for n in range(2):
            bad = {"Authorization": f"Bearer elh_{n}guess_{'x' * 40}"}
            assert (await http.post("/graphql", json=query, headers=bad)).status_code == 401
        third = {"Authorization": "Bearer elh_2guess_" + "x" * 40}
        guessed = await http.post("/graphql", json=query, headers=third)
        assert guessed.status_code == 429
        assert int(guessed.headers["Retry-After"]) >= 1
