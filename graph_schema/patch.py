"""Partial upserts: what an edit form sent, merged over what is stored.

An item is a map of the fields that were sent. A field left out keeps its stored value; a field
sent as None is cleared (set to the model's default: None, 0, false or no links); a list of
links becomes exactly those links. The merged record is validated whole, so the model's
cross-field rules hold for the result, and only the sent fields are written over a node that
exists (``writer.upsert``'s ``sent``). A new object needs the model's required fields; they
are named when missing. A key given twice in one batch is merged in order, as it is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from graph_schema.errors import InvalidRecord, Problem
from graph_schema.model import SPECS, EntitySpec, Record, derived_key, validate
from graph_schema.statements import entities as st
from graph_schema.store import GraphStore
from graph_schema.writer import Outcome, Sent, upsert


@dataclass(frozen=True, slots=True)
class Patched:
    """What became of one item: its key (None when it names none), the outcome, and when
    rejected every problem, with the code of the rejection (BAD_USER_INPUT for an invalid
    value, NOT_FOUND for a missing reference; a problem may carry a more precise one)."""

    key: str | None
    outcome: Outcome
    problems: tuple[Problem, ...] = ()
    code: str | None = None


def key_of(spec: EntitySpec, item: Mapping[str, Any]) -> str:
    """The key an item names: its key field, or the key derived from its parts."""
    parts = spec.record.key_parts
    fields = spec.record.model_fields
    names = [f for f in parts if fields[f].is_required()] if parts else [spec.key]
    missing = [f for f in names if str(item.get(f) or "").strip() == ""]
    if missing:
        problems = [Problem(f, "required: it names the object") for f in missing]
        raise InvalidRecord(spec.name, None, problems)
    if parts:
        return derived_key(dict(item), parts)
    return str(item[spec.key]).strip()


def stored_fields(spec: EntitySpec, row: Mapping[str, Any]) -> dict[str, Any]:
    """A ``fetch_existing`` row as record fields (properties and link targets)."""
    props = row["props"]
    data: dict[str, Any] = {}
    for name in spec.property_fields:
        value = props.get(name)
        if value is None:
            continue
        data[name] = json.loads(value) if name in spec.json_fields else value
    for link in spec.links:
        targets = list(row.get(link.field) or [])
        if link.many:
            data[link.field] = sorted(targets)
        elif targets:
            data[link.field] = targets[0]
    return data


def overlay(
    record: type[BaseModel], before: Mapping[str, Any] | None, item: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """The fields of ``record`` that ``item`` makes of ``before``: each sent value replaces the
    stored one, a None clears it to the model's default; a None for a field without a default
    is a problem instead."""
    fields = record.model_fields
    data = dict(before or {})
    cleared: list[Problem] = []
    for name, value in item.items():
        if value is not None:
            data[name] = value
        elif name in fields and fields[name].is_required():
            cleared.append(Problem(name, "required: it cannot be cleared"))
        else:
            data.pop(name, None)  # the model's default applies
    return data, cleared


def for_new(label: str, problem: Problem) -> Problem:
    """A missing-field problem of a new object, saying that creating one needs it."""
    if problem.message == "Field required":
        return Problem(problem.field, f"required to create a {label}", problem.code)
    return problem


def merge(
    spec: EntitySpec, before: Mapping[str, Any] | None, item: Mapping[str, Any]
) -> tuple[Record, dict[str, Any]]:
    """The record ``item`` makes of ``before`` (None: a new object), and its fields."""
    data, cleared = overlay(spec.record, before, item)
    try:
        record = validate(spec.name, data)
    except InvalidRecord as exc:
        new = before is None
        problems = [*cleared, *(for_new(spec.label, p) if new else p for p in exc.problems)]
        raise InvalidRecord(spec.name, exc.key, problems) from None
    if cleared:
        raise InvalidRecord(spec.name, record.key(), cleared)
    return record, data


def _other_problems(
    spec: EntitySpec, item: Mapping[str, Any], found: Sequence[Problem]
) -> list[Problem]:
    """The problems of the values an item without a key sent, so that it learns of all of them
    at once (not of the fields it left out: without a key nothing says it is a new object)."""
    try:
        validate(spec.name, {k: v for k, v in item.items() if v is not None})
    except InvalidRecord as exc:
        named = {p.field for p in found}
        return [p for p in exc.problems if p.field not in named and p.message != "Field required"]
    return []


async def patch(
    store: GraphStore, entity: str, items: Sequence[Mapping[str, Any]]
) -> list[Patched]:
    """Apply partial items of ``entity``; one result per item, in order. A fixed number of
    round trips: one fetch of the stored objects, then ``writer.upsert``'s."""
    spec = SPECS[entity]
    results: list[Patched | None] = [None] * len(items)
    keys: list[str | None] = []
    for i, item in enumerate(items):
        try:
            keys.append(key_of(spec, item))
        except InvalidRecord as exc:
            keys.append(None)
            problems = (*exc.problems, *_other_problems(spec, item, exc.problems))
            results[i] = Patched(None, Outcome.REJECTED, problems, "BAD_USER_INPUT")
    wanted = sorted({k for k in keys if k is not None})
    rows = await store.run(st.fetch_existing(spec), {"keys": wanted}) if wanted else []
    state: dict[str, dict[str, Any]] = {row["key"]: stored_fields(spec, row) for row in rows}
    valid: list[tuple[int, Record, Sent]] = []
    for i, (item, key) in enumerate(zip(items, keys, strict=True)):
        if key is None:
            continue
        before = state.get(key)
        try:
            record, data = merge(spec, before, item)
        except InvalidRecord as exc:
            results[i] = Patched(key, Outcome.REJECTED, exc.problems, "BAD_USER_INPUT")
            continue
        state[key] = data
        valid.append((i, record, None if before is None else frozenset(item)))
    if valid:
        written = await upsert(
            store, entity, [r for _, r, _ in valid], sent=[s for _, _, s in valid]
        )
        refused = {r.index: r.problems for r in written.rejections}
        for local, (i, record, _) in enumerate(valid):
            problems = refused.get(local, ())
            code = "NOT_FOUND" if problems else None
            results[i] = Patched(record.key(), written.outcomes[local], problems, code)
    return [r for r in results if r is not None]
