"""Versioned, idempotent schema migrations for both graph dialects.

Each migration names the schema elements it needs; the adapter renders them in its dialect and
skips what already exists, so running ``migrate`` twice, or on a store another hub migrated,
changes nothing. The applied version is recorded on a ``(:SchemaVersion {id: 'graph'})`` node.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from graph_schema.cypher import Statement
from graph_schema.dialect import RULES, Dialect, FulltextIndex, RangeIndex, SchemaElement, UniqueKey
from graph_schema.model import ENTITIES
from graph_schema.statements.entities import SCHEMA_VERSION, SET_SCHEMA_VERSION
from graph_schema.store import GraphStore


@dataclass(frozen=True, slots=True)
class NotOn:
    """``element`` on every store but ``dialect``'s."""

    dialect: Dialect
    element: SchemaElement


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    elements: tuple[SchemaElement | NotOn, ...]

    def elements_for(self, dialect: Dialect) -> list[SchemaElement]:
        return [
            e if not isinstance(e, NotOn) else e.element
            for e in self.elements
            if not (isinstance(e, NotOn) and e.dialect is dialect)
        ]


@dataclass
class MigrationReport:
    from_version: int
    to_version: int
    created: list[str] = field(default_factory=list)


# Labels whose keys a later migration adds (stores at an earlier version lack them).
_LISTS_AND_STATS = frozenset({"ProjectList", "ChainStat"})
_SENSING = frozenset({"Indicator", "IndicatorValue", "IndicatorTarget"})
_LATER = _LISTS_AND_STATS | _SENSING

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "unique keys for every entity, full-text search on names",
        (
            *(UniqueKey(spec.label, spec.key) for spec in ENTITIES if spec.label not in _LATER),
            UniqueKey("SchemaVersion", "id"),
            FulltextIndex("Enterprise", ("name",)),
            FulltextIndex("Project", ("name",)),
        ),
    ),
    Migration(
        2,
        "filter and sort properties the API uses",
        (
            RangeIndex("Project", "stage"),
            RangeIndex("Project", "total_investment"),
            RangeIndex("Project", "planned_start"),
            RangeIndex("Region", "level"),
            RangeIndex("Sensor", "kind"),
        ),
    ),
    Migration(
        3,
        "stored project lists and chain statistics (issue 4)",
        tuple(
            UniqueKey(spec.label, spec.key) for spec in ENTITIES if spec.label in _LISTS_AND_STATS
        ),
    ),
    Migration(
        4,
        "financing, land tracking, red lines, schedules and approvals (issue 9)",
        (
            UniqueKey("FinancingNeed", "id"),
            UniqueKey("FinancingPreference", "bank_id"),
            UniqueKey("LandStage", "id"),
            UniqueKey("LandNode", "id"),
            UniqueKey("RedLineLayer", "id"),
            UniqueKey("ScheduleTask", "id"),
            UniqueKey("InvestmentMonth", "id"),
            UniqueKey("ApprovalItem", "id"),
        ),
    ),
    Migration(
        5,
        "indicators, their values and targets (issue 10)",
        tuple(UniqueKey(spec.label, spec.key) for spec in ENTITIES if spec.label in _SENSING),
    ),
    Migration(6, "API keys (issue 11)", (UniqueKey("ApiKey", "id"),)),
    Migration(
        7,
        "alerts (one active per type and subject) and MPI history (issue 8)",
        (
            UniqueKey("Alert", "id"),
            UniqueKey("Alert", "active_key"),
            RangeIndex("Alert", "type"),
            RangeIndex("Alert", "raised_at"),
            UniqueKey("MpiScore", "id"),
        ),
    ),
    Migration(
        8,
        "the sort keys lists page by, so a keyset page seeks from its cursor (issue 28)",
        # Neo4j only: FalkorDB 4.22's range indexes answer some ranges wrongly (a numeric one
        # leaves out the value 0, so `completedInvestmentMin: 0`, a filter FalkorDB answers
        # from an index, would miss the zeros); there a page seeks on the entity key alone
        # (graph_schema.statements.reads._seek).
        tuple(
            NotOn(Dialect.FALKORDB, RangeIndex(label, prop))
            for label, prop in (
                ("Region", "name"),
                ("IndustryChain", "name"),
                ("ChainSegment", "name"),
                ("ChainSegment", "position"),
                ("Product", "name"),
                ("Enterprise", "name"),
                ("Enterprise", "output"),
                ("Enterprise", "employees"),
                ("Enterprise", "patents"),
                ("LandParcel", "area_m2"),
                ("Project", "name"),
                ("Project", "annual_plan_investment"),
                ("Project", "completed_investment"),
                ("Project", "year_completed_investment"),
                ("ProjectList", "name"),
                ("Bank", "name"),
            )
        ),
    ),
)

LATEST = MIGRATIONS[-1].version


async def current_version(store: GraphStore) -> int:
    rows = await store.run(SCHEMA_VERSION)
    return int(rows[0]["version"]) if rows else 0


async def migrate(store: GraphStore) -> MigrationReport:
    """Bring the store's schema to ``LATEST``; safe to call on every start."""
    start = await current_version(store)
    report = MigrationReport(start, start)
    for migration in MIGRATIONS:
        if migration.version <= start:
            continue
        for element in migration.elements_for(store.dialect):
            if await store.ensure_schema(element):
                report.created.append(element.name)
        await store.run(
            SET_SCHEMA_VERSION,
            {
                "version": migration.version,
                "applied_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "dialect": store.dialect.value,
            },
        )
        report.to_version = migration.version
    return report


def statements(dialect: Dialect) -> list[Statement]:
    """The DDL statements the migrations can send in ``dialect``."""
    rules = RULES[dialect]
    out = []
    for migration in MIGRATIONS:
        for element in migration.elements_for(dialect):
            statement = rules.schema_statement(element)
            if statement is not None:
                out.append(statement)
            if isinstance(element, UniqueKey) and dialect is Dialect.FALKORDB:
                # FalkorDB's uniqueness rule needs an exact-match index on the property first.
                index = rules.schema_statement(RangeIndex(element.label, element.prop))
                assert index is not None
                out.append(index)
    return out
