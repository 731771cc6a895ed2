"""Who a caller is. Authentication (API keys) sets the role per request; until it lands every
request gets ``http.default_role`` from the settings."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    VIEWER = "viewer"
    PROMOTER = "promoter"
    MONITOR = "monitor"
    BANK = "bank"
    OPERATOR = "operator"
    ADMIN = "admin"


# Roles that may change the graph (upserts, links, deletes).
WRITERS = frozenset({Role.OPERATOR, Role.ADMIN})
