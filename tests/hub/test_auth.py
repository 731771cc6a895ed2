"""API keys end to end: stored hashed, sent as Bearer, roles and bank binding, revocation,
anonymous access only when a setting allows it (and then read-only), the `hub keys` command."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph_schema.errors import ConfigurationError, InvalidInput, NotFound
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import validate
from graph_schema.statements.keys import FETCH_KEY
from hub.app import create_app
from hub.auth import MAX_LIFE, create_key, expiry, list_keys, revoke_key
from hub.bulk import import_records
from hub.cli import main
from hub.roles import Role
from hub.settings import load_settings
from tests.hub.apps import api_settings, started

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
REGIONS = "{ regions { totalCount } }"
UPSERT = """mutation { upsertRegions(items: [{code: "330000", name: "浙江省",
            level: PROVINCE}]) { created updated unchanged } }"""


@pytest.fixture
async def graph(store: FalkorDBStore) -> FalkorDBStore:
    """A graph of the test's own on the shared embedded FalkorDB (tests/conftest.py)."""
    region = {"code": "330000", "name": "浙江省", "level": "province"}
    await import_records(store, "region", [validate("region", region)])
    bank = {"id": "bank-zj-1", "name": "测试银行浙江分行", "kind": "state_owned",
            "region_code": "330000"}  # fmt: skip
    await import_records(store, "bank", [validate("bank", bank)])
    return store


async def _post(
    store: FalkorDBStore, query: str, key: str | None = None, **env: str
) -> httpx.Response:
    app = create_app(api_settings(env), store=store)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with started(app, headers=headers) as client:
        return await client.post("/graphql", json={"query": query})


def _codes(response: httpx.Response) -> list[str]:
    body: dict[str, Any] = response.json()
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_without_a_key_requests_are_refused_unless_anonymous_reads_are_allowed(
    graph: FalkorDBStore,
) -> None:
    refused = await _post(graph, REGIONS)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert _codes(refused) == ["UNAUTHENTICATED"]
    assert "data" not in refused.json()
    allowed = await _post(graph, REGIONS, HUB_AUTH_ANONYMOUS_ROLE="viewer")
    assert allowed.status_code == 200 and allowed.json()["data"]["regions"]["totalCount"] == 1
    # ... and then only to read.
    write = await _post(graph, UPSERT, HUB_AUTH_ANONYMOUS_ROLE="viewer")
    assert _codes(write) == ["FORBIDDEN"]
    with pytest.raises(ConfigurationError, match="HUB_AUTH_ANONYMOUS_ROLE"):
        load_settings({"HUB_AUTH_ANONYMOUS_ROLE": "admin"})


async def test_a_key_carries_its_role(graph: FalkorDBStore) -> None:
    viewer, _ = await create_key(graph, Role.VIEWER, name="screen")
    operator, info = await create_key(graph, Role.OPERATOR, name="etl")
    assert info.role is Role.OPERATOR and operator.startswith(f"elh_{info.id}_")
    assert (await _post(graph, REGIONS, viewer)).json()["data"]["regions"]["totalCount"] == 1
    assert _codes(await _post(graph, UPSERT, viewer)) == ["FORBIDDEN"]
    done = (await _post(graph, UPSERT, operator)).json()
    assert done["data"]["upsertRegions"]["unchanged"] == 1


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-key",
        "Bearer elh_000000000000_" + "A" * 43,  # well formed, unknown
    ],
)
async def test_bad_credentials_are_unauthenticated_not_anonymous(
    graph: FalkorDBStore, header: str
) -> None:
    # Even with anonymous reads allowed, a wrong key is an error, not a silent downgrade.
    app = create_app(api_settings({"HUB_AUTH_ANONYMOUS_ROLE": "viewer"}), store=graph)
    async with started(app) as client:
        response = await client.post(
            "/graphql", json={"query": REGIONS}, headers={"Authorization": header}
        )
    assert response.status_code == 401 and _codes(response) == ["UNAUTHENTICATED"]


async def test_a_wrong_secret_for_a_real_id_is_refused(graph: FalkorDBStore) -> None:
    key, info = await create_key(graph, Role.ADMIN)
    forged = f"elh_{info.id}_" + ("B" * 43 if not key.endswith("B" * 43) else "C" * 43)
    assert _codes(await _post(graph, REGIONS, forged)) == ["UNAUTHENTICATED"]


async def test_only_the_hash_is_stored_and_revocation_takes_effect(
    graph: FalkorDBStore,
) -> None:
    key, info = await create_key(graph, Role.VIEWER)
    secret = key.split("_", 2)[2]  # the secret itself may contain "_"
    [row] = await graph.run(FETCH_KEY, {"id": info.id})
    assert row["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(row) and key not in str(row)
    assert (await _post(graph, REGIONS, key, HUB_AUTH_CACHE_S="0")).status_code == 200
    first = await revoke_key(graph, info.id)
    assert await revoke_key(graph, info.id) == first  # revoking again keeps the first time
    refused = await _post(graph, REGIONS, key, HUB_AUTH_CACHE_S="0")
    assert _codes(refused) == ["UNAUTHENTICATED"]
    listed = {k.id: k for k in await list_keys(graph)}
    assert listed[info.id].revoked_at == first
    with pytest.raises(NotFound):
        await revoke_key(graph, "000000000000")


async def test_a_bank_key_is_bound_to_an_existing_bank_and_confined(
    graph: FalkorDBStore,
) -> None:
    with pytest.raises(InvalidInput):
        await create_key(graph, Role.BANK)
    with pytest.raises(InvalidInput):
        await create_key(graph, Role.VIEWER, bank_id="bank-zj-1")
    with pytest.raises(NotFound):
        await create_key(graph, Role.BANK, bank_id="no-such-bank")
    key, info = await create_key(graph, Role.BANK, bank_id="bank-zj-1")
    assert info.bank_id == "bank-zj-1"
    # The bank's own entry point answers (the key's bank is the request's subject) ...
    own = await _post(graph, "{ financingOpportunities(first: 5) { totalCount } }", key)
    assert own.status_code == 200 and "errors" not in own.json(), own.json()
    # ... and the general graph is out of reach.
    assert _codes(await _post(graph, REGIONS, key)) == ["FORBIDDEN"]


def test_the_keys_command_creates_lists_and_revokes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "HUB_DATA_DIR": str(data), "HUB_LOG_LEVEL": "WARNING",
           "COLUMNS": "200"}  # fmt: skip
    # Creating a key runs the real entry point (`python -m hub`); listing and revoking call the
    # same main() in this process (no interpreter start-up and imports per call).
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    created = subprocess.run(
        [sys.executable, "-m", "hub", "keys", "create", "--role", "monitor", "--name",
         "wall screen", "--expires-in", "90d"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("elh_") and "shown only this once" in created.stderr
    key_id = key.split("_")[1]

    monkeypatch.setenv("HUB_DATA_DIR", str(data))
    monkeypatch.setenv("HUB_LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)  # no stray .env

    def hub(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["keys", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, listed, _ = hub("list")
    assert code == 0
    assert key_id in listed and "wall screen" in listed
    [row] = [line for line in listed.splitlines() if key_id in line]
    # The table's cells are split by "│": created, then expires (UTC, to the minute).
    cells = [c.strip() for c in row.split("│")]
    made, expires = (
        dt.datetime.strptime(c, "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
        for c in cells
        if c.count(":") == 1
    )
    assert made >= before.replace(second=0) and expires - made == dt.timedelta(days=90)
    assert "active" in cells
    assert key not in listed and key.split("_", 2)[2] not in listed
    assert hub("revoke", key_id)[0] == 0
    assert "revoked" in hub("revoke", key_id)[2]
    code, _, err = hub("create", "--role", "bank")
    assert code == 1 and "BAD_USER_INPUT" in err


async def test_an_expired_key_is_refused_with_its_own_code_cached_or_not(
    graph: FalkorDBStore,
) -> None:
    now = [dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)]

    def clock() -> dt.datetime:
        return now[0]

    at = now[0] + dt.timedelta(days=90)
    key, info = await create_key(graph, Role.VIEWER, expires_at=at, clock=clock)
    never, _ = await create_key(graph, Role.VIEWER, clock=clock)
    assert info.expires_at == "2026-05-30T09:00:00+00:00"
    # One app throughout: its key cache (30 s by default) must not outlive the expiry.
    app = create_app(api_settings({"HUB_AUTH_GUESSES_PER_MIN": "2"}), store=graph, clock=clock)
    async with started(app) as client:

        async def post(with_key: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {with_key}"}
            return await client.post("/graphql", json={"query": REGIONS}, headers=headers)

        assert (await post(key)).status_code == 200
        now[0] = at - dt.timedelta(seconds=1)
        assert (await post(key)).status_code == 200
        now[0] = at
        for _ in range(4):  # an expired key is no guess: never throttled as one
            refused = await post(key)
            assert refused.status_code == 401 and _codes(refused) == ["KEY_EXPIRED"]
            assert "expired" in refused.json()["errors"][0]["message"]
        assert (await post(never)).status_code == 200
    listed = {k.id: k for k in await list_keys(graph)}
    assert listed[info.id].expires_at == info.expires_at
    assert listed[info.id].state(now[0]) == "expired"
    assert listed[info.id].state(at - dt.timedelta(seconds=1)) == "active"


NOW = dt.datetime(2026, 12, 7, 11, 30, 15, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("expires_in", "expires", "at"),
    [
        ("90d", None, NOW + dt.timedelta(days=90)),
        (" 12h ", None, NOW + dt.timedelta(hours=12)),
        ("4w", None, NOW + dt.timedelta(weeks=4)),
        (None, "2027-03-31", dt.datetime(2027, 3, 31, tzinfo=dt.UTC)),
        (None, "2027-03-31T12:00+08:00", dt.datetime(2027, 3, 31, 4, tzinfo=dt.UTC)),
        (None, None, None),
    ],
)
def test_a_keys_expiry_from_a_duration_or_a_date(
    expires_in: str | None, expires: str | None, at: dt.datetime | None
) -> None:
    assert expiry(expires_in=expires_in, expires=expires, now=NOW) == at


@pytest.mark.parametrize(
    ("expires_in", "expires", "message"),
    [
        ("90x", None, "h, d or w"),
        ("-1d", None, "h, d or w"),
        ("0d", None, "not in the future"),
        ("99999999999999999999w", None, "at most"),
        (None, "2026-12-07", "not in the future"),
        (None, "next tuesday", "a date"),
        (None, "2040-01-01", "at most"),
        ("1d", "2027-01-01", "not both"),
    ],
)
def test_a_bad_expiry_is_refused(expires_in: str | None, expires: str | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        expiry(expires_in=expires_in, expires=expires, now=NOW)
    assert MAX_LIFE.days == 3653


@pytest.mark.timing
async def test_keys_are_checked_concurrently_without_mixing_callers(
    graph: FalkorDBStore,
) -> None:
    viewer, _ = await create_key(graph, Role.VIEWER)
    operator, _ = await create_key(graph, Role.OPERATOR)
    results = await asyncio.gather(
        *(_post(graph, UPSERT, viewer if i % 2 else operator) for i in range(10))
    )
    assert [_codes(r) for r in results] == [[] if i % 2 == 0 else ["FORBIDDEN"] for i in range(10)]
