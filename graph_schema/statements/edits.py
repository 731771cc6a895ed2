"""Linking, unlinking and deleting, with one outcome per item.

Only relationships a record may hold any number of can be linked and unlinked one at a time
(a project's segments and parcels, an enterprise's segments and products, supplies between
segments); a to-one link such as a project's owner changes through an upsert of the record.
A node is deleted only when nothing that needs it points at it (a region with projects, an
enterprise that owns projects); optional links to it go with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from graph_schema.cypher import Statement, identifier
from graph_schema.errors import Problem
from graph_schema.model import ENTITIES, SPECS, EntitySpec
from graph_schema.statements import entities as st
from graph_schema.store import GraphStore


@dataclass(frozen=True, slots=True)
class Linkable:
    name: str
    source: str  # entity
    type: str  # relationship type
    target: str  # entity


LINKABLE: Final[dict[str, Linkable]] = {
    x.name: x
    for x in (
        Linkable("project_segment", "project", "BUILDS_IN", "segment"),
        Linkable("project_parcel", "project", "ON_PARCEL", "parcel"),
        Linkable("enterprise_segment", "enterprise", "IN_SEGMENT", "segment"),
        Linkable("enterprise_product", "enterprise", "MAKES", "product"),
        Linkable("segment_supplies", "segment", "SUPPLIES", "segment"),
        Linkable("project_list_project", "project_list", "INCLUDES", "project"),
    )
}


class Change(StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    UNLINKED = "unlinked"
    NOT_LINKED = "not_linked"
    DELETED = "deleted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    change: Change
    problems: tuple[Problem, ...] = ()
    # NOT_FOUND when an end or the node is missing, BAD_USER_INPUT otherwise.
    code: str | None = None


def _node(spec: EntitySpec, var: str, key: str) -> str:
    return f"({var}:{identifier(spec.label)} {{{identifier(spec.key)}: {key}}})"


@cache
def existing_pairs(kind: Linkable) -> Statement:
    a, b = SPECS[kind.source], SPECS[kind.target]
    return Statement(
        f"{kind.name}.pairs",
        f"UNWIND $rows AS row MATCH {_node(a, 'a', 'row.source')}"
        f"-[:{identifier(kind.type)}]->{_node(b, 'b', 'row.target')} "
        "RETURN row.source AS source, row.target AS target",
    )


@cache
def link_pairs(kind: Linkable) -> Statement:
    a, b = SPECS[kind.source], SPECS[kind.target]
    return Statement(
        f"{kind.name}.link",
        f"UNWIND $rows AS row MATCH {_node(a, 'a', 'row.source')} "
        f"MATCH {_node(b, 'b', 'row.target')} "
        f"MERGE (a)-[:{identifier(kind.type)}]->(b) RETURN count(*) AS linked",
        write=True,
    )


@cache
def unlink_pairs(kind: Linkable) -> Statement:
    a, b = SPECS[kind.source], SPECS[kind.target]
    return Statement(
        f"{kind.name}.unlink",
        f"UNWIND $rows AS row MATCH {_node(a, 'a', 'row.source')}"
        f"-[r:{identifier(kind.type)}]->{_node(b, 'b', 'row.target')} "
        "DELETE r RETURN count(*) AS unlinked",
        write=True,
    )


def _required_dependents(spec: EntitySpec) -> list[tuple[EntitySpec, str, str]]:
    """(dependent spec, relationship, field) for every to-one link into ``spec``'s nodes."""
    return [
        (other, link.type, link.field)
        for other in ENTITIES
        for link in other.links
        if link.target == spec.name and not link.many
    ]


@cache
def dependents(spec: EntitySpec) -> Statement:
    """Per key, how many nodes need it (hold a to-one link to it)."""
    parts = [
        f"size([(d:{identifier(other.label)})-[:{identifier(rel)}]->(n) | d]) AS d{i}"
        for i, (other, rel, _) in enumerate(_required_dependents(spec))
    ]
    tail = ", " + ", ".join(parts) if parts else ""
    return Statement(
        f"{spec.name}.dependents",
        f"UNWIND $keys AS key MATCH {_node(spec, 'n', 'key')} RETURN key{tail}",
    )


async def _existing(store: GraphStore, entity: str, keys: set[str]) -> set[str]:
    if not keys:
        return set()
    rows = await store.run(st.existing_keys(SPECS[entity]), {"keys": sorted(keys)})
    return {row["key"] for row in rows}


async def change_links(
    store: GraphStore, kind: Linkable, pairs: Sequence[tuple[str, str]], *, link: bool
) -> list[ItemOutcome]:
    """Link (or unlink) each (source key, target key) pair; a fixed number of round trips."""
    sources = await _existing(store, kind.source, {s for s, _ in pairs})
    targets = await _existing(store, kind.target, {t for _, t in pairs})
    rows = [{"source": s, "target": t} for s, t in pairs]
    found = await store.run(existing_pairs(kind), {"rows": rows}) if rows else []
    present = {(r["source"], r["target"]) for r in found}
    outcomes: list[ItemOutcome] = []
    todo: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for source, target in pairs:
        missing = [
            Problem(field, f"no {entity} {key}")
            for field, entity, key, known in (
                ("from", kind.source, source, sources),
                ("to", kind.target, target, targets),
            )
            if key not in known
        ]
        if missing:
            outcomes.append(ItemOutcome(Change.REJECTED, tuple(missing), "NOT_FOUND"))
            continue
        if kind.source == kind.target and source == target:
            problem = Problem("to", f"a {kind.source} cannot be linked to itself")
            outcomes.append(ItemOutcome(Change.REJECTED, (problem,), "BAD_USER_INPUT"))
            continue
        exists = ((source, target) in present) != ((source, target) in seen)
        if link:
            if exists:
                outcomes.append(ItemOutcome(Change.ALREADY_LINKED))
                continue
            outcomes.append(ItemOutcome(Change.LINKED))
        else:
            if not exists:
                outcomes.append(ItemOutcome(Change.NOT_LINKED))
                continue
            outcomes.append(ItemOutcome(Change.UNLINKED))
        seen.add((source, target))
        todo.append({"source": source, "target": target})
    if todo:
        await store.run(link_pairs(kind) if link else unlink_pairs(kind), {"rows": todo})
    return outcomes


async def delete(store: GraphStore, entity: str, keys: Sequence[str]) -> list[ItemOutcome]:
    """Delete each node unless something needs it; a fixed number of round trips."""
    spec = SPECS[entity]
    rows = await store.run(dependents(spec), {"keys": sorted(set(keys))})
    found = {row["key"]: row for row in rows}
    needs = _required_dependents(spec)
    outcomes: list[ItemOutcome] = []
    doomed: list[str] = []
    for key in keys:
        row = found.get(key)
        if row is None:
            problem = Problem("id", f"no {entity} {key}")
            outcomes.append(ItemOutcome(Change.REJECTED, (problem,), "NOT_FOUND"))
            continue
        problems = [
            Problem("id", f"{row[f'd{i}']} {other.name} record(s) still need it ({field})")
            for i, (other, _, field) in enumerate(needs)
            if row[f"d{i}"]
        ]
        if problems:
            outcomes.append(ItemOutcome(Change.REJECTED, tuple(problems), "BAD_USER_INPUT"))
        else:
            if key not in doomed:
                doomed.append(key)
            outcomes.append(ItemOutcome(Change.DELETED))
    if doomed:
        await store.run(st.delete_nodes(spec), {"keys": doomed})
    return outcomes


def catalog() -> list[Statement]:
    out: list[Statement] = []
    for kind in LINKABLE.values():
        out += [existing_pairs(kind), link_pairs(kind), unlink_pairs(kind)]
    out += [dependents(spec) for spec in ENTITIES]
    return out
