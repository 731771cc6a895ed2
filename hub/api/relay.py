"""Relay plumbing every entity type shares (the Node interface, PageInfo, edges and
connections) and the pagination and filter arguments, described once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import GenericAlias
from typing import Annotated, Any, Self, TypeVar

import strawberry
from strawberry.types.lazy_type import LazyType

from hub.api import lists
from hub.api.paging import MAX_OFFSET, encode_global_id
from hub.roles import Role

NodeT = TypeVar("NodeT")

# --- pagination and filter arguments, described once ----------------------------------------

First = Annotated[
    int | None, strawberry.argument(description="Page size going forward (default 20, capped).")
]
After = Annotated[
    str | None, strawberry.argument(description="Start after this cursor (from a previous page).")
]
Last = Annotated[
    int | None, strawberry.argument(description="Page size going backward from the end/before.")
]
Before = Annotated[str | None, strawberry.argument(description="End before this cursor.")]
Offset = Annotated[
    int | None,
    strawberry.argument(
        description=f"Rows to skip before the page, for page-N tables (at most {MAX_OFFSET:,}; "
        "forward only, with first and optionally after). The store still reads the rows it "
        "skips, so the operation's cost grows with it; cursors page through long lists better."
    ),
]
_W = "Filters; every one given must hold."
_S = "Sort keys, most significant first (at most 3); ties break on the key."
SubRegions = Annotated[
    bool, strawberry.argument(description="Include the sub-regions' objects (default true).")
]


def lazy_list_arguments(name: str, module: str) -> tuple[Any, Any]:
    """The where and sort arguments of lists of an entity whose inputs (``<name>Where``,
    ``<name>Sort``) live in ``module``, which the caller cannot import (it would close an import
    circle). Strawberry resolves a LazyType inside Optional; a lazy string there it does not."""
    where: Any = Annotated[
        LazyType(f"{name}Where", module) | None, strawberry.argument(description=_W)
    ]
    keys = GenericAlias(list, (LazyType(f"{name}Sort", module),))  # list[<name>Sort]
    sort: Any = Annotated[keys | None, strawberry.argument(description=_S)]
    return where, sort


# --- Relay plumbing -------------------------------------------------------------------------


@strawberry.interface(
    description="An object with a global id (Relay Global Object Identification)."
)
class Node:
    @strawberry.field(description="Global, opaque id: node(id:) finds the object again.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id(type(self).__name__, self.node_key()))

    def node_key(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class NodeLookup:
    """How ``node(id:)`` finds a Node type that is not one of the graph's entities (alerts,
    cases, financing needs, ...). A module declaring such a type exports ``NODES``, a tuple of
    these, and ``hub.api.schema`` collects them (nothing registers itself on import)."""

    type_name: str
    # (info, key) -> the object, or None when it no longer exists or the caller may not see it.
    fetch: Callable[[Any, str], Awaitable[Any]]
    # Roles that may read the type; others get FORBIDDEN. None: every role.
    readers: frozenset[Role] | None = None


@strawberry.type(description="Where a page sits in its list (Relay PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More nodes follow this page.")
    has_previous_page: bool = strawberry.field(description="More nodes precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first node.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last node.")


@strawberry.type(description="A node and its position in the list.")
class Edge[NodeT]:
    cursor: str = strawberry.field(description="Opaque position: pass it as after or before.")
    node: NodeT = strawberry.field(description="The object at this position.")


@strawberry.type(description="A page of a list (Relay cursor connection).")
class Connection[NodeT]:
    # Edges and cursors are built only when asked for: most clients read nodes.
    @strawberry.field(description="The page's nodes with cursors.")
    def edges(self) -> list[Edge[NodeT]]:
        return [Edge(cursor=self.page.cursor(i), node=n) for i, n in enumerate(self.nodes)]

    nodes: list[NodeT] = strawberry.field(description="The page's nodes, without cursors.")

    @strawberry.field(description="Cursors and whether more pages exist.")
    def page_info(self) -> PageInfo:
        page = self.page
        return PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursor(0) if page.nodes else None,
            end_cursor=page.cursor(len(page.nodes) - 1) if page.nodes else None,
        )

    page: strawberry.Private[lists.Page]

    # Not async: a total known already (nested lists) is returned without an await.
    @strawberry.field(description="How many nodes match, across all pages.", graphql_type=int)
    def total_count(self) -> int | Awaitable[int]:
        return self.page.total()

    @classmethod
    def of(cls, page: lists.Page) -> Self:
        return cls(nodes=page.nodes, page=page)
