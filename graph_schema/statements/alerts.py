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
_FILTER = (
    "MATCH (a:Alert) WHERE ($region IS NULL OR $region IN a.regions) "
    "AND ($types IS NULL OR a.type IN $types) "
    "AND ($severities IS NULL OR a.severity IN $severities) "
    "AND ($statuses IS NULL OR a.status IN $statuses) "
    "AND ($project IS NULL OR a.project_code = $project) "
    "AND ($projects IS NULL OR a.project_code IN $projects) "
    "AND ($subject IS NULL OR a.subject = $subject) "
    "AND ($since IS NULL OR a.raised_at >= $since) "
)
# The orders alerts can be listed in: sort name -> the value ordered on. Severity orders by
# rank (CRITICAL highest), not by name. Every order breaks ties on the id, and the keyset
# cursor is (value, id) of the last row.
SORT_VALUES: Final = {
    "raised_at": "a.raised_at",
    "updated_at": "a.updated_at",
    "severity": "CASE a.severity WHEN 'CRITICAL' THEN 5 WHEN 'MAJOR' THEN 4 "
    "WHEN 'MINOR' THEN 3 WHEN 'WARNING' THEN 2 ELSE 1 END",
}


def _page(sort: str, descending: bool) -> Statement:
    value, way, past = SORT_VALUES[sort], ("DESC" if descending else "ASC"), "<>"[not descending]
    return Statement(
        f"alerts.page.{sort}.{way.lower()}",
        _FILTER + f"WITH a, {value} AS v WHERE $after_v IS NULL OR v {past} $after_v "
        f"OR (v = $after_v AND a.id {past} $after_id) "
        f"WITH a, v ORDER BY v {way}, a.id {way} LIMIT $limit RETURN properties(a) AS props, v",
    )


# (sort name, descending) -> the page statement in that order.
PAGES: Final = {(sort, down): _page(sort, down) for sort in SORT_VALUES for down in (False, True)}
# Newest first: the default order.
PAGE: Final = PAGES["raised_at", True]
COUNT: Final = Statement("alerts.count", _FILTER + "RETURN count(a) AS n")
# Counts by severity, type and own region (the wall's filters and headline).
GROUPS: Final = Statement(
    "alerts.groups",
    _FILTER + "RETURN a.severity AS severity, a.type AS type, a.region_code AS region, "
    "count(a) AS n",
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
        UPSERT_MPI,
        MPI_HISTORY,
    ]
