"""Real API keys for tests: created in the store under test, sent as a Bearer header."""

from __future__ import annotations

from graph_schema.store import GraphStore
from hub.auth import create_key
from hub.roles import Role

# Settings for tests that read as an anonymous viewer (read-only, as `hub demo` serves).
ANONYMOUS_VIEWER = {"HUB_AUTH_ANONYMOUS_ROLE": "viewer"}


async def key_headers(store: GraphStore, role: Role, *, bank: str | None = None) -> dict[str, str]:
    key, _ = await create_key(store, role, name=f"test {role.value}", bank_id=bank)
    return {"Authorization": f"Bearer {key}"}
