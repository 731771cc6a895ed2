"""Who a caller is. Authentication (``hub.auth``, API keys) sets the role per request; callers
without a key get ``HUB_AUTH_ANONYMOUS_ROLE`` or are refused."""

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
