"""Alerts and MPI snapshots: statements.

``(:Alert {id, type, subject, severity, status, ...})-[:ABOUT]->(:Project)``. While an alert is
active it carries ``active_key = '<type>|<subject>'``, which is unique (migration 7): raising
is a ``MERGE`` on that key, so concurrent triggers for the same (type, subject) find one node
(FalkorDB runs writes one at a time; Neo4j locks the unique index entry), and clearing sets the
key to null, so the next trigger opens a new alert while the cleared one stays as history.
``regions`` lists the project's region and every region above it, so a region's screen
filters with one ``IN``.

``(:MpiScore {id: '<list>/<region>/<period>', ...})`` keeps each region's Major Project
Progress Index as computed for a half-month period: its history.

Times are ISO-8601 strings in UTC with microseconds, so they sort as strings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from graph_schema.cypher import Statement

LABELS: Final = ("Alert", "MpiScore")
TYPES: Final = ("ABOUT",)
PROPERTIES: Final = (
    "id",
    "active_key",
    "type",
    "subject",
    "severity",
    "status",
    "message",
    "project_code",
    "region_code",
    "regions",
    "sensor_id",
    "details",
    "raised_at",
    "updated_at",
    "acknowledged_at",
    "acknowledged_by",
    "cleared_at",
    "cleared_by",
    "clear_reason",
    "occurrences",
    "code",
    "params",
    "create",
    "update",
    "list_id",
    "period",
    "computed_at",
    "mpi",
    "level",
    "warning",
    "rates",
)

# One row per trigger: MERGE on the active key; ``created`` says whether this row opened it.
RAISE: Final = Statement(
    "alerts.raise",
    "UNWIND $rows AS row MERGE (a:Alert {active_key: row.active_key}) "
    "ON CREATE SET a += row.create, a.occurrences = 1 "
    "ON MATCH SET a += row.update, a.occurrences = a.occurrences + 1 "
    "WITH a, row, a.id = row.create.id AS created "
    "OPTIONAL MATCH (p:Project {code: row.create.project_code}) "
    "FOREACH (x IN CASE WHEN created AND p IS NOT NULL THEN [p] ELSE [] END | "
    "MERGE (a)-[:ABOUT]->(x)) "
    "RETURN properties(a) AS props, created",
    write=True,
)
# Auto-clear: the condition behind each key has ended.
CLEAR_KEYS: Final = Statement(
    "alerts.clear_keys",
    "UNWIND $keys AS key MATCH (a:Alert {active_key: key}) "
    "SET a.active_key = null, "
    "a.status = CASE a.status WHEN 'ACTIVE_ACK' THEN 'CLEARED_ACK' ELSE 'CLEARED_UNACK' END, "
    "a.cleared_at = $at, a.updated_at = $at, a.clear_reason = $reason "
    "RETURN properties(a) AS props",
    write=True,
)
# A person clears an alert: only an active one changes.
CLEAR_ONE: Final = Statement(
    "alerts.clear_one",
    "MATCH (a:Alert {id: $id}) WHERE a.active_key IS NOT NULL "
    "SET a.active_key = null, "
    "a.status = CASE a.status WHEN 'ACTIVE_ACK' THEN 'CLEARED_ACK' ELSE 'CLEARED_UNACK' END, "
    "a.cleared_at = $at, a.cleared_by = $by, a.updated_at = $at, a.clear_reason = $reason "
    "RETURN properties(a) AS props",
    write=True,
)
# Acknowledge: only an unacknowledged one changes; the first who and when stay.
ACKNOWLEDGE: Final = Statement(
    "alerts.acknowledge",
    "MATCH (a:Alert {id: $id}) WHERE a.status IN ['ACTIVE_UNACK', 'CLEARED_UNACK'] "
    "SET a.status = CASE a.status WHEN 'ACTIVE_UNACK' THEN 'ACTIVE_ACK' ELSE 'CLEARED_ACK' END, "
    "a.acknowledged_at = $at, a.acknowledged_by = $by, a.updated_at = $at "
    "RETURN properties(a) AS props",
    write=True,
)
BY_ID: Final = Statement(
    "alerts.by_id",
    "UNWIND $ids AS id MATCH (a:Alert {id: id}) RETURN properties(a) AS props",
)
ACTIVE_OF_TYPE: Final = Statement(
    "alerts.active_of_type",
    "MATCH (a:Alert) WHERE a.type = $type AND a.active_key IS NOT NULL "
    "RETURN a.active_key AS key, a.subject AS subject",
)
# What one alert filter asks of an alert: parameter name -> the condition on it (``{p}`` is the
# parameter). A parameter left null lets every alert through; a condition on a missing property
# is false rather than null, so a NOT of it is its exact complement.
_CONDITIONS: Final = (
    ("region", "{p} IN a.regions"),
    ("types", "a.type IN {p}"),
    ("severities", "a.severity IN {p}"),
    ("statuses", "a.status IN {p}"),
    ("project", "a.project_code = {p}"),
    ("projects", "a.project_code IN {p}"),
    ("subject", "a.subject = {p}"),
    ("since", "a.raised_at >= {p}"),
)
FILTER_PARAMS: Final = tuple(name for name, _ in _CONDITIONS)

# A filter's shape: the names of the filters it sets, the shapes of its OR's alternatives
# (None: no OR) and of its NOT (None: no NOT). The statement text depends on the shape alone;
# every value is a parameter, those of a nested filter prefixed by its place (``or0_``,
# ``not_``, ``or1_not_``...). The top level tests every filter, a null one passing all alerts,
# so a filter without OR or NOT keeps one statement whatever it sets.
type Shape = tuple[tuple[str, ...], tuple[Shape, ...] | None, Shape | None]
PLAIN: Final[Shape] = ((), None, None)
_CONDITION: Final = dict(_CONDITIONS)


def predicate(shape: Shape, prefix: str = "") -> str:
    """The WHERE condition on ``a`` of a filter of this shape (``prefix`` '' at the top)."""
    names, either, negated = shape
    if prefix:
        parts = [
            f"coalesce({_CONDITION[name].format(p=f'${prefix}{name}')}, false)"
            for name in sorted(names)
        ]
    else:
        parts = [
            f"(${name} IS NULL OR coalesce({cond.format(p=f'${name}')}, false))"
            for name, cond in _CONDITIONS
        ]
    if either is not None:
        alternatives = [f"({predicate(alt, f'{prefix}or{i}_')})" for i, alt in enumerate(either)]
        # An OR of no alternative matches nothing, as an empty disjunction.
        parts.append("(" + " OR ".join(alternatives) + ")" if alternatives else "false")
    if negated is not None:
        parts.append(f"NOT ({predicate(negated, f'{prefix}not_')})")
    return " AND ".join(parts) if parts else "true"


def tag(shape: Shape, top: bool = True) -> str:
    """A short name of a shape for statement names: '' without OR and NOT."""
    names, either, negated = shape
    out = "" if top else "+".join(sorted(names)) or "-"
    if either is not None:
        out += "|or(" + ",".join(tag(alt, False) for alt in either) + ")"
    if negated is not None:
        out += "|not(" + tag(negated, False) + ")"
    return out


def _filter(shape: Shape) -> str:
    return f"MATCH (a:Alert) WHERE {predicate(shape)} "


def _named(base: str, shape: Shape) -> str:
    return base + tag(shape)


# The orders alerts can be listed in: sort name -> the value ordered on. Severity orders by
# rank (CRITICAL highest), not by name. Every order breaks ties on the id, and the keyset
# cursor is (value, id) of the last row.
SORT_VALUES: Final = {
    "raised_at": "a.raised_at",
    "updated_at": "a.updated_at",
    "severity": "CASE a.severity WHEN 'CRITICAL' THEN 5 WHEN 'MAJOR' THEN 4 "
    "WHEN 'MINOR' THEN 3 WHEN 'WARNING' THEN 2 ELSE 1 END",
}


@lru_cache(maxsize=256)
def page(sort: str, descending: bool, shape: Shape = PLAIN) -> Statement:
    """A page of alerts in the order of ``sort``, filtered by a filter of ``shape``."""
    value, way, past = SORT_VALUES[sort], ("DESC" if descending else "ASC"), "<>"[not descending]
    return Statement(
        _named(f"alerts.page.{sort}.{way.lower()}", shape),
        _filter(shape) + f"WITH a, {value} AS v WHERE $after_v IS NULL OR v {past} $after_v "
        f"OR (v = $after_v AND a.id {past} $after_id) "
        f"WITH a, v ORDER BY v {way}, a.id {way} LIMIT $limit RETURN properties(a) AS props, v",
    )


# (sort name, descending) -> the page statement in that order.
PAGES: Final = {(sort, down): page(sort, down) for sort in SORT_VALUES for down in (False, True)}
# Newest first: the default order.
PAGE: Final = PAGES["raised_at", True]


@lru_cache(maxsize=256)
def count(shape: Shape = PLAIN) -> Statement:
    return Statement(_named("alerts.count", shape), _filter(shape) + "RETURN count(a) AS n")


@lru_cache(maxsize=256)
def groups(shape: Shape = PLAIN) -> Statement:
    """Counts by severity, type and own region (the wall's filters and headline)."""
    return Statement(
        _named("alerts.groups", shape),
        _filter(shape) + "RETURN a.severity AS severity, a.type AS type, "
        "a.region_code AS region, count(a) AS n",
    )


COUNT: Final = count()
GROUPS: Final = groups()
# One filter with an OR (of a plain filter and a NOT) and a NOT: the catalog's example of the
# nested shapes, so the dialect checks see their syntax too.
NESTED: Final[Shape] = (
    (),
    ((("types",), None, None), (("region",), None, (("severities", "since"), None, None))),
    (("statuses",), None, None),
)

UPSERT_MPI: Final = Statement(
    "alerts.upsert_mpi",
    "UNWIND $rows AS row MERGE (m:MpiScore {id: row.id}) SET m += row.props RETURN count(m) AS n",
    write=True,
)
MPI_HISTORY: Final = Statement(
    "alerts.mpi_history",
    "MATCH (m:MpiScore) WHERE m.list_id = $list AND m.region_code = $region "
    "RETURN properties(m) AS props ORDER BY m.period",
)


def catalog() -> list[Statement]:
    return [
        RAISE,
        CLEAR_KEYS,
        CLEAR_ONE,
        ACKNOWLEDGE,
        BY_ID,
        ACTIVE_OF_TYPE,
        *PAGES.values(),
        COUNT,
        GROUPS,
        page("raised_at", True, NESTED),
        count(NESTED),
        UPSERT_MPI,
        MPI_HISTORY,
    ]
