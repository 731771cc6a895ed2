"""The per-request context every resolver receives: the stores and who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph_schema.store import GraphStore


class Role(StrEnum):
    """Who the caller is; authentication (a later issue) sets it, resolvers may read it."""

    ANONYMOUS = "anonymous"
    VIEWER = "viewer"
    PROMOTER = "promoter"
    MONITOR = "monitor"
    BANK = "bank"
    OPERATOR = "operator"
    ADMIN = "admin"


@dataclass
class Context:
    store: GraphStore
    role: Role = Role.ANONYMOUS
    subject: str | None = None
    max_page_size: int = 100
