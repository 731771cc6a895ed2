"""Statements for API keys: ``(:ApiKey {id, hash, role, bank_id, name, created_at,
expires_at, revoked_at})``. Only a key's SHA-256 hash is stored; the key itself is shown once.
``expires_at`` is null for a key that does not expire (and for keys made before it existed)."""

from __future__ import annotations

from graph_schema.cypher import Statement

LABELS = ("ApiKey",)
TYPES: tuple[str, ...] = ()
PROPERTIES = ("id", "hash", "role", "bank_id", "name", "created_at", "expires_at", "revoked_at")

CREATE_KEY = Statement(
    "keys.create",
    "CREATE (k:ApiKey {id: $id, hash: $hash, role: $role, bank_id: $bank_id, name: $name, "
    "created_at: $created_at, expires_at: $expires_at}) RETURN k.id AS id",
    write=True,
)
FETCH_KEY = Statement(
    "keys.fetch",
    "MATCH (k:ApiKey {id: $id}) "
    "RETURN k.id AS id, k.hash AS hash, k.role AS role, k.bank_id AS bank_id, "
    "k.expires_at AS expires_at, k.revoked_at AS revoked_at",
)
LIST_KEYS = Statement(
    "keys.list",
    "MATCH (k:ApiKey) RETURN k.id AS id, k.name AS name, k.role AS role, "
    "k.bank_id AS bank_id, k.created_at AS created_at, k.expires_at AS expires_at, "
    "k.revoked_at AS revoked_at "
    "ORDER BY k.created_at, k.id",
)
REVOKE_KEY = Statement(
    "keys.revoke",
    "MATCH (k:ApiKey {id: $id}) SET k.revoked_at = coalesce(k.revoked_at, $at) "
    "RETURN k.id AS id, k.revoked_at AS revoked_at",
    write=True,
)


def catalog() -> list[Statement]:
    return [CREATE_KEY, FETCH_KEY, LIST_KEYS, REVOKE_KEY]
