"""Relay connections over lists computed in Python (financing matches, land nodes, schedules),
and the per-item result of batch mutations.

Such lists are small (one bank's matches, one project's nodes) and already ordered by the
service, so a page is a slice. A cursor holds the item's key, tagged with the list it came
from; a cursor whose item has left the list, or from another list, is BAD_USER_INPUT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self, TypeVar

import strawberry

from graph_schema.errors import InvalidInput
from hub.api.context import Context
from hub.api.enums import SortDirection
from hub.api.lists import by_key
from hub.api.mutations import ItemError
from hub.api.paging import decode_cursor, encode_cursor, window
from hub.api.relay import PageInfo
from hub.batch import ItemOutcome

# Strawberry resolves the string annotations below in this module's globals, where the
# PEP 695 parameter is not visible: a module-level TypeVar of the same name is.
T = TypeVar("T")


@strawberry.type(description="A node and its position in the list.")
class ListEdge[T]:
    cursor: str = strawberry.field(description="Opaque position: pass it as after or before.")
    node: T = strawberry.field(description="The object at this position.")


@strawberry.type(description="A page of a list (Relay cursor connection).")
class ListPage[T]:
    @strawberry.field(description="The page's nodes with cursors.")
    def edges(self) -> list[ListEdge[T]]:
        return [ListEdge(cursor=c, node=n) for c, n in zip(self.cursors, self.nodes, strict=True)]

    nodes: list[T] = strawberry.field(description="The page's nodes, without cursors.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    total_count: int = strawberry.field(description="How many nodes match, across all pages.")
    cursors: strawberry.Private[list[str]]

    @classmethod
    def of[I](
        cls,
        ctx: Context,
        tag: str,
        items: Sequence[I],
        key: Callable[[I], str],
        convert: Callable[[I], T],
        page_args: dict[str, Any],
    ) -> Self:
        """One page of ``items`` (already in list order), converted to GraphQL objects."""
        win = window(max_size=ctx.max_page_size, **page_args)
        keys = [key(i) for i in items]
        start, end = 0, len(items)
        if win.cursor is not None:
            argument = "before" if win.backward else "after"
            (found,) = decode_cursor(win.cursor, tag, 1, argument)
            if found not in keys:
                raise InvalidInput(f"{argument}: the cursor's item is no longer in the list")
            position = keys.index(found)
            if win.backward:
                end = position
            else:
                start = position + 1
        if win.backward:
            start = max(end - win.size, start)
        else:
            end = min(start + win.size, end)
        nodes = [convert(items[i]) for i in range(start, end)]
        cursors = [encode_cursor(tag, [keys[i]]) for i in range(start, end)]
        return cls(
            cursors=cursors,
            nodes=nodes,
            page_info=PageInfo(
                has_next_page=end < len(items),
                has_previous_page=start > 0,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            total_count=len(items),
        )


@strawberry.type(description="What a batch mutation did with one item.")
class BatchItem:
    index: int = strawberry.field(description="Position of the item in the input, from 0.")
    key: str | None = strawberry.field(description="The item's id, when it has one.")
    ok: bool = strawberry.field(description="Applied; false means rejected, see errors.")
    errors: list[ItemError] = strawberry.field(description="Why the item was rejected.")


@strawberry.type(description="Per-item outcomes of a batch; a bad item never blocks the others.")
class BatchResult:
    accepted: int = strawberry.field(description="Items applied.")
    rejected: int = strawberry.field(description="Items not applied.")
    items: list[BatchItem] = strawberry.field(description="One result per input item, in order.")

    @classmethod
    def of(cls, outcomes: Sequence[ItemOutcome]) -> BatchResult:
        items = [
            BatchItem(
                index=o.index,
                key=o.key,
                ok=o.ok,
                errors=[ItemError.of(o.code, p) for p in o.problems],
            )
            for o in outcomes
        ]
        ok = sum(1 for item in items if item.ok)
        return cls(accepted=ok, rejected=len(items) - ok, items=items)


MAX_BATCH = 1000


def check_batch(items: Sequence[Any]) -> None:
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"items: at most {MAX_BATCH} per call")


# --- sorting lists computed in Python ---------------------------------------------------------

MAX_SORT_KEYS = 3


def sort_items[I](
    items: Sequence[I],
    sort: Sequence[Any] | None,
    fields: Mapping[Any, Callable[[I], Any]],
    tag: str,
) -> tuple[list[I], str]:
    """``items`` (already in their default order, which breaks ties) ordered by ``sort``, a
    list of ``<X>Sort`` inputs (``field``, ``direction``), most significant first; a missing
    value sorts last either way. Also the cursor tag for that order: a cursor from one order
    is refused in another."""
    keys = list(sort or [])
    if len(keys) > MAX_SORT_KEYS:
        raise InvalidInput(f"sort: at most {MAX_SORT_KEYS} keys")
    out = list(items)
    for key in reversed(keys):
        value = fields[key.field]
        present = [i for i in out if value(i) is not None]
        missing = [i for i in out if value(i) is None]
        descending = key.direction is SortDirection.DESC
        out = sorted(present, key=value, reverse=descending) + missing
    signature = ",".join(f"{k.field.value}:{k.direction.value}" for k in keys)
    return out, f"{tag}|{signature}" if signature else tag


# --- links from these types to the graph's entities -------------------------------------------


async def entity_of(info: Any, entity: str, key: str | None) -> Any:
    """The graph entity ``entity`` with ``key`` (batched with the request's other lookups),
    for a link field; None without a key or when it no longer exists."""
    if key is None:
        return None
    return await by_key(info, entity, key, object)


async def linked(info: Any, entity: str, key: str) -> Any:
    """The graph entity a link that the data guarantees points to (the object was read through
    it a moment ago, e.g. tracking data hangs off its project)."""
    found = await by_key(info, entity, key, object)
    assert found is not None, f"{entity} {key} vanished"
    return found
