"""Idempotent batched upserts of validated records, with per-record outcomes.

A batch costs a fixed number of round trips whatever its size: one reference check per linked
entity type, one fetch of current state, and one transaction that writes nodes and relationships.
Each record comes out ``created``, ``updated``, ``unchanged`` (nothing written) or ``rejected``
(with reasons; the rest of the batch still lands).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graph_schema.errors import GraphQueryError, InvalidInput, Problem
from graph_schema.model import (
    DERIVED_PROPERTIES,
    EDGE_SPECS,
    SPECS,
    EdgeSpec,
    EntitySpec,
    Record,
    link_targets,
    to_properties,
)
from graph_schema.statements import entities as st
from graph_schema.store import GraphStore, Step


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int  # position of the record in the input sequence
    key: str | None
    problems: tuple[Problem, ...]


@dataclass
class WriteResult:
    counts: Counter[Outcome] = field(default_factory=Counter)
    outcomes: list[Outcome] = field(default_factory=list)  # one per input record, in order
    rejections: list[Rejection] = field(default_factory=list)

    def merge(self, other: WriteResult, offset: int) -> None:
        self.counts.update(other.counts)
        self.outcomes.extend(other.outcomes)
        self.rejections.extend(
            Rejection(r.index + offset, r.key, r.problems) for r in other.rejections
        )


# The fields of a record to write over a stored node: None for all of them (a whole record, as
# in an import file), or the fields a partial upsert sent.
Sent = frozenset[str] | None


async def upsert(
    store: GraphStore,
    entity: str,
    records: Sequence[Record],
    sent: Sequence[Sent] | None = None,
) -> WriteResult:
    """Write one batch of records of ``entity`` (all validated already). ``sent`` (one per
    record) limits what is written over a node that exists to those fields, properties and
    links; a node that does not exist yet is written whole."""
    if entity in EDGE_SPECS:
        return await _upsert_edges(store, EDGE_SPECS[entity], records)
    spec = SPECS[entity]
    fields: Sequence[Sent] = sent if sent is not None else [None] * len(records)
    keys = [r.key() for r in records]
    rounds = _rounds(keys)
    outcomes: list[Outcome] = [Outcome.REJECTED] * len(records)
    result = WriteResult()
    # A key repeated within a batch is applied in order: each round has unique keys and sees
    # what the earlier rounds wrote.
    for indexes in rounds:
        part = await _upsert_round(
            store, spec, [records[i] for i in indexes], [fields[i] for i in indexes]
        )
        for local, outcome in enumerate(part.outcomes):
            outcomes[indexes[local]] = outcome
        result.counts.update(part.counts)
        result.rejections.extend(
            Rejection(indexes[r.index], r.key, r.problems) for r in part.rejections
        )
    result.outcomes = outcomes
    result.rejections.sort(key=lambda r: r.index)
    return result


def _rounds(keys: list[str]) -> list[list[int]]:
    rounds: list[list[int]] = []
    seen: list[set[str]] = []
    for i, key in enumerate(keys):
        for index, used in enumerate(seen):
            if key not in used:
                used.add(key)
                rounds[index].append(i)
                break
        else:
            seen.append({key})
            rounds.append([i])
    return rounds


async def _missing_references(
    store: GraphStore, spec: EntitySpec, records: Sequence[Record]
) -> dict[int, list[Problem]]:
    problems: dict[int, list[Problem]] = {}
    batch_keys = {r.key() for r in records}
    for link in spec.links:
        wanted = {t for r in records for t in link_targets(link, r)}
        if link.target == spec.name:
            wanted -= batch_keys
        if not wanted:
            continue
        rows = await store.run(st.existing_keys(SPECS[link.target]), {"keys": sorted(wanted)})
        missing = wanted - {row["key"] for row in rows}
        if not missing:
            continue
        for i, record in enumerate(records):
            absent = [t for t in link_targets(link, record) if t in missing]
            if absent:
                problems.setdefault(i, []).append(
                    Problem(link.field, f"no {link.target} {', '.join(absent)}")
                )
    return problems


async def _upsert_round(
    store: GraphStore, spec: EntitySpec, records: Sequence[Record], sent: Sequence[Sent]
) -> WriteResult:
    result = WriteResult()
    problems = await _missing_references(store, spec, records)
    accepted = [(i, r) for i, r in enumerate(records) if i not in problems]
    current: dict[str, dict[str, Any]] = {}
    if accepted:
        rows = await store.run(st.fetch_existing(spec), {"keys": [r.key() for _, r in accepted]})
        current = {row["key"]: row for row in rows}

    outcomes: dict[int, Outcome] = {}
    to_write: list[_Write] = []
    written: list[int] = []  # the record index of each item of to_write
    for i, record in accepted:
        props = to_properties(spec, record)
        before = current.get(record.key())
        if before is None:
            outcomes[i] = Outcome.CREATED
        elif _same(spec, record, props, before):
            outcomes[i] = Outcome.UNCHANGED
            continue
        else:
            outcomes[i] = Outcome.UPDATED
        if before is None:  # a new node is written whole, whatever was sent
            to_write.append(_Write(record, props, existed=False, fields=None))
        else:
            patch = _sent_props(spec, props, sent[i])
            to_write.append(_Write(record, patch, existed=True, fields=sent[i]))
        written.append(i)

    if to_write:
        refused = await _write_chunk(store, to_write, lambda items: _write_steps(spec, items))
        for local, problem in refused.items():
            i = written[local]
            problems[i] = [problem]
            del outcomes[i]

    for i in range(len(records)):
        if i in problems:
            result.outcomes.append(Outcome.REJECTED)
            result.rejections.append(Rejection(i, records[i].key(), tuple(problems[i])))
        else:
            result.outcomes.append(outcomes[i])
        result.counts[result.outcomes[-1]] += 1
    return result


async def _write_chunk[Item](
    store: GraphStore, items: Sequence[Item], steps_of: Callable[[list[Item]], list[Step]]
) -> dict[int, Problem]:
    """Write ``items`` in one transaction; if the store refuses it, write them one by one, so
    that an item the store refuses (a uniqueness constraint, say) is that item's rejection and
    the rest land. Returns the refused items by position, with the store's reason. When every
    item of several is refused, the statement is at fault, not the items: that error is raised.
    Writing the items again after a partly applied transaction is safe: the writes MERGE."""
    try:
        await store.run_in_transaction(steps_of(list(items)))
        return {}
    except (GraphQueryError, InvalidInput) as exc:
        first = exc
    refused: dict[int, Problem] = {}
    for index, item in enumerate(items):
        try:
            await store.run_in_transaction(steps_of([item]))
        except (GraphQueryError, InvalidInput) as exc:
            code = exc.code if isinstance(exc, InvalidInput) else InvalidInput.code
            refused[index] = Problem("", f"the graph store refused it: {exc}", code)
    if len(items) > 1 and len(refused) == len(items):
        raise first
    return refused


def _same(spec: EntitySpec, record: Record, props: dict[str, Any], before: dict[str, Any]) -> bool:
    stored = dict(before["props"])
    wanted = {k: v for k, v in props.items() if v is not None}
    wanted[spec.key] = record.key()
    if stored != wanted:
        return False
    return all(
        sorted(before[link.field] or []) == sorted(link_targets(link, record))
        for link in spec.links
    )


@dataclass(frozen=True, slots=True)
class _Write:
    record: Record
    props: dict[str, Any]  # what to set (a null removes the property)
    existed: bool
    fields: Sent  # the fields to write; None: all of them

    def writes(self, field: str) -> bool:
        return self.fields is None or field in self.fields


def _sent_props(spec: EntitySpec, props: dict[str, Any], sent: Sent) -> dict[str, Any]:
    if sent is None:
        return props
    derived = DERIVED_PROPERTIES.get(spec.name, ())
    return {k: v for k, v in props.items() if k in sent or k in derived}


def _write_steps(spec: EntitySpec, items: list[_Write]) -> list[Step]:
    whole = [{"key": w.record.key(), "props": w.props} for w in items if w.fields is None]
    patched = [
        {"key": w.record.key(), "props": w.props} for w in items if w.fields is not None and w.props
    ]
    steps: list[Step] = []
    if whole:
        steps.append((st.upsert_nodes(spec), {"rows": whole}))
    if patched:
        steps.append((st.patch_nodes(spec), {"rows": patched}))
    for link in spec.links:
        # A partial record changes only the links it sent.
        changing = [w for w in items if w.writes(link.field)]
        existed = [
            {"key": w.record.key(), "targets": link_targets(link, w.record)}
            for w in changing
            if w.existed
        ]
        if existed:
            steps.append((st.unlink_stale(spec, link), {"rows": existed}))
        linking = [
            {"key": w.record.key(), "targets": link_targets(link, w.record)}
            for w in changing
            if link_targets(link, w.record)
        ]
        if linking:
            steps.append((st.link_targets(spec, link), {"rows": linking}))
    return steps


async def _upsert_edges(
    store: GraphStore, edge: EdgeSpec, records: Sequence[Record]
) -> WriteResult:
    result = WriteResult()
    pairs = [
        {"source": getattr(r, edge.source_field), "target": getattr(r, edge.target_field)}
        for r in records
    ]
    ends = {p["source"] for p in pairs} | {p["target"] for p in pairs}
    source_spec = SPECS[edge.source]
    found = await store.run(st.existing_keys(source_spec), {"keys": sorted(ends)})
    known = {row["key"] for row in found}
    existing_rows = await store.run(st.fetch_edges(edge), {"rows": pairs})
    existing = {(row["source"], row["target"]) for row in existing_rows}
    new: list[dict[str, Any]] = []
    created: list[int] = []  # the record index of each pair in new
    seen: set[tuple[str, str]] = set()
    for i, pair in enumerate(pairs):
        missing = [p for p in (pair["source"], pair["target"]) if p not in known]
        if missing:
            result.outcomes.append(Outcome.REJECTED)
            result.rejections.append(
                Rejection(
                    i, records[i].key(), (Problem("", f"no {edge.source} {', '.join(missing)}"),)
                )
            )
        elif (ends_of := (pair["source"], pair["target"])) in existing or ends_of in seen:
            result.outcomes.append(Outcome.UNCHANGED)
        else:
            seen.add(ends_of)
            new.append(pair)
            created.append(i)
            result.outcomes.append(Outcome.CREATED)
    if new:
        refused = await _write_chunk(
            store, new, lambda rows: [(st.merge_edges(edge), {"rows": rows})]
        )
        for local, problem in refused.items():
            i = created[local]
            result.outcomes[i] = Outcome.REJECTED
            result.rejections.append(Rejection(i, records[i].key(), (problem,)))
        result.rejections.sort(key=lambda r: r.index)
    result.counts.update(result.outcomes)
    return result
