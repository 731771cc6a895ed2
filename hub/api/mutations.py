"""Mutations: idempotent upserts per entity, link/unlink, delete; one result per item.

Items are validated by the same model (``graph_schema.model.validate``) and written by the same
writer as file imports, so an item the API accepts is one the importer would accept. Upserts are
partial (``graph_schema.patch``): an item changes only the fields it sent. A bad item comes back
REJECTED with every problem found, fields named as the schema spells them, and never stops the
good ones beside it. Only the operator and admin roles may write.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph_schema.errors import InvalidInput, Problem
from graph_schema.model import SPECS
from graph_schema.patch import patch
from graph_schema.statements import edits
from hub.api import cameras, lists, partial
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.entities.bank import BankInput
from hub.api.entities.chain import IndustryChainInput
from hub.api.entities.enterprise import EnterpriseInput
from hub.api.entities.parcel import LandParcelInput
from hub.api.entities.product import ProductInput
from hub.api.entities.project import ProjectInput
from hub.api.entities.region import RegionInput
from hub.api.entities.segment import ChainSegmentInput
from hub.api.entities.sensor import SensorInput
from hub.api.items import ItemError
from hub.api.paging import decode_global_id, key_of
from hub.api.relay import Node

Ctx = Info[Context, None]
MAX_ITEMS = 1000


# --- results ----------------------------------------------------------------------------------


@strawberry.enum(description="What an upsert did with one item.")
class WriteOutcome(Enum):
    CREATED = strawberry.enum_value("created", description="A new object was stored.")
    UPDATED = strawberry.enum_value("updated", description="An existing object changed.")
    UNCHANGED = strawberry.enum_value("unchanged", description="Already exactly so; no write.")
    REJECTED = strawberry.enum_value("rejected", description="Not applied; see errors.")


@strawberry.type(description="The result of one upserted item.")
class UpsertItem:
    index: int = strawberry.field(description="Position of the item in the input list.")
    key: str | None = strawberry.field(description="The item's key (code, id or USCC).")
    outcome: WriteOutcome = strawberry.field(description="What happened to it.")
    errors: list[ItemError] = strawberry.field(description="Why it was rejected; empty if not.")
    entity: strawberry.Private[str]

    @strawberry.field(
        description="The object as stored now; null when rejected, and for records that are "
        "not nodes of the API (indicators, their values and targets)."
    )
    async def node(self, info: Ctx) -> Node | None:
        if self.outcome is WriteOutcome.REJECTED or self.key is None:
            return None
        if self.entity not in lists.surface_of(info).node_types:
            return None
        node: Node | None = await lists.by_key(info, self.entity, self.key, Node)
        return node


@strawberry.type(description="The result of an upsert: counts and one entry per item.")
class UpsertResult:
    created: int = strawberry.field(description="Items stored as new objects.")
    updated: int = strawberry.field(description="Items that changed an existing object.")
    unchanged: int = strawberry.field(description="Items identical to what was stored.")
    rejected: int = strawberry.field(description="Items not applied.")
    items: list[UpsertItem] = strawberry.field(description="One result per input item, in order.")


@strawberry.enum(description="What a link, unlink or delete did with one item.")
class ChangeOutcome(Enum):
    LINKED = strawberry.enum_value("linked", description="The relationship was created.")
    ALREADY_LINKED = strawberry.enum_value("already_linked", description="It already existed.")
    UNLINKED = strawberry.enum_value("unlinked", description="The relationship was removed.")
    NOT_LINKED = strawberry.enum_value("not_linked", description="There was none to remove.")
    DELETED = strawberry.enum_value("deleted", description="The object was deleted.")
    REJECTED = strawberry.enum_value("rejected", description="Not applied; see errors.")


@strawberry.type(description="The result of one link, unlink or delete item.")
class ChangeItem:
    index: int = strawberry.field(description="Position of the item in the input list.")
    outcome: ChangeOutcome = strawberry.field(description="What happened to it.")
    errors: list[ItemError] = strawberry.field(description="Why it was rejected; empty if not.")


@strawberry.type(description="The result of link, unlink or delete: counts and one entry per item.")
class ChangeResult:
    applied: int = strawberry.field(description="Items that changed the graph.")
    unchanged: int = strawberry.field(description="Items that found the graph already so.")
    rejected: int = strawberry.field(description="Items not applied.")
    items: list[ChangeItem] = strawberry.field(description="One result per input item, in order.")


# --- inputs (field names and types mirror graph_schema.model; a test holds them together) -------


INPUTS: dict[str, type] = {
    "region": RegionInput,
    "chain": IndustryChainInput,
    "segment": ChainSegmentInput,
    "product": ProductInput,
    "enterprise": EnterpriseInput,
    "parcel": LandParcelInput,
    "project": ProjectInput,
    "bank": BankInput,
    "sensor": SensorInput,
}


@strawberry.enum(description="Relationships that link and unlink one pair at a time.")
class LinkType(Enum):
    PROJECT_SEGMENT = strawberry.enum_value(
        "project_segment", description="Project (code) builds in segment (id)."
    )
    PROJECT_PARCEL = strawberry.enum_value(
        "project_parcel", description="Project (code) is built on parcel (id)."
    )
    ENTERPRISE_SEGMENT = strawberry.enum_value(
        "enterprise_segment", description="Enterprise (USCC) is active in segment (id)."
    )
    ENTERPRISE_PRODUCT = strawberry.enum_value(
        "enterprise_product", description="Enterprise (USCC) makes product (id)."
    )
    SEGMENT_SUPPLIES = strawberry.enum_value(
        "segment_supplies", description="Segment (id) supplies segment (id)."
    )
    PROJECT_LIST_PROJECT = strawberry.enum_value(
        "project_list_project", description="Stored project list (id) includes project (code)."
    )


@strawberry.input(description="One relationship to create or remove.")
class LinkInput:
    type: LinkType = strawberry.field(description="Which relationship.")
    from_: strawberry.ID = strawberry.field(
        name="from",
        description="The source object's global id (its id field); for one release its "
        "business key is accepted here too.",
    )
    to: strawberry.ID = strawberry.field(
        description="The target object's global id (its id field); for one release its "
        "business key is accepted here too."
    )


# --- resolvers -----------------------------------------------------------------------------


def _record_data(item: Any) -> dict[str, Any]:
    """The non-null fields an input sent, as a record's data (null and left out alike fall
    back to the model's defaults, as in an import file)."""
    return {k: v for k, v in partial.sent(item).items() if v is not None}


def _errors(code: str, problems: Sequence[Problem], names: Collection[str] = ()) -> list[ItemError]:
    return [ItemError.of(code, p, names) for p in problems]


def _check_size(items: list[Any]) -> None:
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"items: at most {MAX_ITEMS} per request")


async def _upsert(info: Ctx, entity: str, items: list[Any]) -> UpsertResult:
    """Partial upserts (``graph_schema.patch``): each item changes only the fields it sent."""
    _check_size(items)
    names = partial.field_names(SPECS[entity].record)
    done = await patch(info.context.store, entity, [partial.sent(item) for item in items])
    results = [
        UpsertItem(
            index=i,
            key=p.key,
            outcome=WriteOutcome(p.outcome.value),
            errors=_errors(p.code or "BAD_USER_INPUT", p.problems, names),
            entity=entity,
        )
        for i, p in enumerate(done)
    ]
    counts = {o: sum(1 for r in results if r.outcome is o) for o in WriteOutcome}
    return UpsertResult(
        created=counts[WriteOutcome.CREATED],
        updated=counts[WriteOutcome.UPDATED],
        unchanged=counts[WriteOutcome.UNCHANGED],
        rejected=counts[WriteOutcome.REJECTED],
        items=results,
    )


def _change_result(outcomes: list[tuple[int, edits.ItemOutcome]]) -> ChangeResult:
    items = [
        ChangeItem(
            index=i,
            outcome=ChangeOutcome(o.change.value),
            errors=_errors(o.code or "BAD_USER_INPUT", o.problems),
        )
        for i, o in sorted(outcomes, key=lambda x: x[0])
    ]
    unchanged = {ChangeOutcome.ALREADY_LINKED, ChangeOutcome.NOT_LINKED}
    rejected = sum(1 for x in items if x.outcome is ChangeOutcome.REJECTED)
    same = sum(1 for x in items if x.outcome in unchanged)
    return ChangeResult(
        applied=len(items) - rejected - same, unchanged=same, rejected=rejected, items=items
    )


async def _change_links(info: Ctx, items: list[LinkInput], *, link: bool) -> ChangeResult:
    _check_size(items)
    by_type: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_type.setdefault(str(item.type.value), []).append(i)
    outcomes: list[tuple[int, edits.ItemOutcome]] = []
    types = {e: cls.__name__ for e, cls in lists.surface_of(info).node_types.items()}
    for name, indexes in by_type.items():
        kind = edits.LINKABLE[name]
        keyed: list[int] = []
        pairs: list[tuple[str, str]] = []
        for i in indexes:
            # Either end may be the object's global id or (for one release) its business key.
            try:
                ends = (
                    _end_key(items[i].from_, types.get(kind.source), "from"),
                    _end_key(items[i].to, types.get(kind.target), "to"),
                )
            except _BadEnd as exc:
                outcomes.append((i, edits.ItemOutcome(edits.Change.REJECTED, (exc.problem,))))
                continue
            keyed.append(i)
            pairs.append(ends)
        if pairs:
            done = await edits.change_links(info.context.store, kind, pairs, link=link)
            outcomes += list(zip(keyed, done, strict=True))
    return _change_result(outcomes)


class _BadEnd(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _end_key(value: str, type_name: str | None, field: str) -> str:
    if type_name is None:
        return value
    try:
        return key_of(value, type_name)
    except InvalidInput as exc:
        raise _BadEnd(Problem(field, str(exc))) from None


async def _delete(info: Ctx, ids: list[strawberry.ID]) -> ChangeResult:
    _check_size(ids)
    by_entity: dict[str, list[tuple[int, str]]] = {}
    outcomes: list[tuple[int, edits.ItemOutcome]] = []
    surface = lists.surface_of(info)
    for i, global_id in enumerate(ids):
        try:
            type_name, key = decode_global_id(global_id)
            entity = surface.entity_of_type[type_name]
        except (InvalidInput, KeyError):
            problem = Problem("id", f"{global_id[:80]!r} is not a global id this API issued")
            outcomes.append((i, edits.ItemOutcome(edits.Change.REJECTED, (problem,), None)))
            continue
        by_entity.setdefault(entity, []).append((i, key))
    for entity, entries in by_entity.items():
        done = await edits.delete(info.context.store, entity, [k for _, k in entries])
        outcomes += [(i, o) for (i, _), o in zip(entries, done, strict=True)]
    return _change_result(outcomes)


_WRITE = [allow(WRITERS)]
_ITEMS = f"Items to write (at most {MAX_ITEMS}); each is validated and applied on its own."


@strawberry.type(description="Changes to the graph (operator and admin roles only).")
class Mutation:
    @strawberry.mutation(
        description="Create or update regions." + partial.MUTATION, permission_classes=_WRITE
    )
    async def upsert_regions(
        self,
        info: Ctx,
        items: Annotated[list[RegionInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "region", items)

    @strawberry.mutation(
        description="Create or update industry chains." + partial.MUTATION,
        permission_classes=_WRITE,
    )
    async def upsert_industry_chains(
        self,
        info: Ctx,
        items: Annotated[list[IndustryChainInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "chain", items)

    @strawberry.mutation(
        description="Create or update chain segments." + partial.MUTATION, permission_classes=_WRITE
    )
    async def upsert_segments(
        self,
        info: Ctx,
        items: Annotated[list[ChainSegmentInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "segment", items)

    @strawberry.mutation(
        description="Create or update products." + partial.MUTATION, permission_classes=_WRITE
    )
    async def upsert_products(
        self,
        info: Ctx,
        items: Annotated[list[ProductInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "product", items)

    @strawberry.mutation(
        description="Create or update enterprises; segment and product links sent become "
        "exactly those given." + partial.MUTATION,
        permission_classes=_WRITE,
    )
    async def upsert_enterprises(
        self,
        info: Ctx,
        items: Annotated[list[EnterpriseInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "enterprise", items)

    @strawberry.mutation(
        description="Create or update land parcels." + partial.MUTATION, permission_classes=_WRITE
    )
    async def upsert_parcels(
        self,
        info: Ctx,
        items: Annotated[list[LandParcelInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "parcel", items)

    @strawberry.mutation(
        description="Create or update projects; segment and parcel links sent become exactly "
        "those given." + partial.MUTATION,
        permission_classes=_WRITE,
    )
    async def upsert_projects(
        self,
        info: Ctx,
        items: Annotated[list[ProjectInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "project", items)

    @strawberry.mutation(
        description="Create or update banks." + partial.MUTATION, permission_classes=_WRITE
    )
    async def upsert_banks(
        self, info: Ctx, items: Annotated[list[BankInput], strawberry.argument(description=_ITEMS)]
    ) -> UpsertResult:
        return await _upsert(info, "bank", items)

    @strawberry.mutation(
        description="Create or update sensors." + partial.MUTATION, permission_classes=_WRITE
    )
    async def upsert_sensors(
        self,
        info: Ctx,
        items: Annotated[list[SensorInput], strawberry.argument(description=_ITEMS)],
    ) -> UpsertResult:
        return await _upsert(info, "sensor", items)

    @strawberry.mutation(
        description="Accept cameras' current views as right (re-baseline): each takes a new "
        "reference view, and a MOVED camera becomes OK. Returns the camera ids found.",
        permission_classes=_WRITE,
    )
    async def rebaseline_cameras(self, info: Ctx, ids: cameras.RebaselineIds) -> list[str]:
        return await cameras.rebaseline(info, ids)

    @strawberry.mutation(
        description="Create relationships, one pair per item.", permission_classes=_WRITE
    )
    async def link(
        self, info: Ctx, items: Annotated[list[LinkInput], strawberry.argument(description=_ITEMS)]
    ) -> ChangeResult:
        return await _change_links(info, items, link=True)

    @strawberry.mutation(
        description="Remove relationships, one pair per item.", permission_classes=_WRITE
    )
    async def unlink(
        self, info: Ctx, items: Annotated[list[LinkInput], strawberry.argument(description=_ITEMS)]
    ) -> ChangeResult:
        return await _change_links(info, items, link=False)

    @strawberry.mutation(
        description="Delete objects by global id. An object something still needs (a region "
        "with projects, an owner of projects) is refused; optional links to it are removed.",
        permission_classes=_WRITE,
    )
    async def delete_nodes(
        self,
        info: Ctx,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Global ids of the objects.")
        ],
    ) -> ChangeResult:
        return await _delete(info, ids)
