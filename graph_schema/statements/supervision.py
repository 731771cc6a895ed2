"""Supervision cases (督办): statements.

``(:SupervisionCase {id, alert_id, status, level, ...})-[:SUPERVISES]->(:Alert)``. A case's
transitions (who, when, what) are kept on the node as a JSON list (``events``), written
together with the state they lead to; every write names the ``version`` it read, so two
people acting on one case at once cannot overwrite each other (the second gets no row and
re-reads). Times are ISO-8601 strings in UTC with microseconds, so they sort as strings.
"""

from __future__ import annotations

from typing import Final

from graph_schema.cypher import Statement

LABELS: Final = ("SupervisionCase",)
TYPES: Final = ("SUPERVISES",)
PROPERTIES: Final = (
    "id",
    "alert_id",
    "alert_type",
    "alert_severity",
    "project_code",
    "regions",
    "chain",
    "level",
    "level_region",
    "status",
    "unit",
    "person",
    "deadline",
    "opened_at",
    "opened_by",
    "updated_at",
    "closed_at",
    "escalations",
    "events",
    "reply",
    "version",
)

OPEN: Final = Statement(
    "supervision.open",
    "MATCH (a:Alert {id: $alert_id}) CREATE (c:SupervisionCase) SET c = $props "
    "CREATE (c)-[:SUPERVISES]->(a) RETURN properties(c) AS props",
    write=True,
)
# Optimistic: only the version that was read is replaced.
UPDATE: Final = Statement(
    "supervision.update",
    "MATCH (c:SupervisionCase {id: $id}) WHERE c.version = $version "
    "SET c += $props, c.version = $version + 1 RETURN properties(c) AS props",
    write=True,
)
BY_ID: Final = Statement(
    "supervision.by_id",
    "MATCH (c:SupervisionCase {id: $id}) RETURN properties(c) AS props",
)
OF_ALERT: Final = Statement(
    "supervision.of_alert",
    "MATCH (c:SupervisionCase) WHERE c.alert_id = $alert_id AND c.status <> 'CLOSED' "
    "RETURN properties(c) AS props",
)
LIST: Final = Statement(
    "supervision.list",
    "MATCH (c:SupervisionCase) WHERE ($region IS NULL OR $region IN c.regions) "
    "AND ($statuses IS NULL OR c.status IN $statuses) "
    "AND ($project IS NULL OR c.project_code = $project) "
    "RETURN properties(c) AS props ORDER BY c.opened_at DESC, c.id DESC LIMIT $limit",
)
# Open cases past their reply deadline: what the escalation round looks at.
DUE: Final = Statement(
    "supervision.due",
    "MATCH (c:SupervisionCase) WHERE c.status = 'OPEN' AND c.deadline < $now "
    "RETURN properties(c) AS props ORDER BY c.deadline",
)


def catalog() -> list[Statement]:
    return [OPEN, UPDATE, BY_ID, OF_ALERT, LIST, DUE]
