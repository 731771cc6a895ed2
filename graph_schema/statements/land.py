"""Land tracking (地项通) and red-line layers: statements.

``(Project)-[:HAS_LAND_STAGE]->(LandStage)-[:HAS_NODE]->(LandNode)``, instantiated per project
from a template (``hub/projects/land_templates.json``); stage and node ids are
``<project code>/<stage or node code>``. Red-line layers (permanent basic farmland,
ecological protection) are ``(:RedLineLayer {id, kind, name, geometry})`` with the geometry as
GeoJSON text. Every statement takes its values as parameters.
"""

from __future__ import annotations

from typing import Final

from graph_schema.cypher import Statement

LABELS: Final = ("LandStage", "LandNode", "RedLineLayer")
TYPES: Final = ("HAS_LAND_STAGE", "HAS_NODE")
PROPERTIES: Final = (
    "id",
    "project_code",
    "template",
    "code",
    "name",
    "name_en",
    "position",
    "stage_code",
    "due_on",
    "completed_on",
    "started_on",
    "kind",
    "geometry",
    "features",
    "imported_at",
    "props",
    "nodes",
    "area_m2",
)

INSTANTIATE: Final = Statement(
    "land.instantiate",
    "MATCH (p:Project {code: $project}) UNWIND $stages AS st "
    "MERGE (s:LandStage {id: st.id}) SET s += st.props MERGE (p)-[:HAS_LAND_STAGE]->(s) "
    "WITH s, st UNWIND st.nodes AS nd "
    "MERGE (n:LandNode {id: nd.id}) SET n += nd.props MERGE (s)-[:HAS_NODE]->(n) "
    "RETURN count(n) AS nodes",
    write=True,
)
TRACKED: Final = Statement(
    "land.tracked",
    "UNWIND $projects AS code MATCH (p:Project {code: code}) "
    "MATCH (p)-[:HAS_LAND_STAGE]->(s:LandStage) RETURN DISTINCT code, s.template AS template",
)
ALL_TRACKED: Final = Statement(
    "land.all_tracked",
    "MATCH (p:Project)-[:HAS_LAND_STAGE]->(s:LandStage) "
    "OPTIONAL MATCH (p)-[:LOCATED_IN]->(r:Region) "
    "RETURN DISTINCT p.code AS code, p.name AS name, r.code AS region_code, "
    "s.template AS template",
)
PROJECT_NODES: Final = Statement(
    "land.project_nodes",
    "UNWIND $projects AS code MATCH (p:Project {code: code}) "
    "MATCH (p)-[:HAS_LAND_STAGE]->(s:LandStage) MATCH (s)-[:HAS_NODE]->(n:LandNode) "
    "RETURN code, properties(s) AS stage, properties(n) AS node",
)
# Open nodes due before $today, with their project and its region. (due_on has no range
# index on purpose: FalkorDB 4.22's index mis-answers a lone upper bound on a string, see
# docs/architecture.md.)
OVERDUE: Final = Statement(
    "land.overdue",
    "MATCH (n:LandNode) WHERE n.completed_on IS NULL AND n.due_on < $today "
    "MATCH (s:LandStage)-[:HAS_NODE]->(n) MATCH (p:Project)-[:HAS_LAND_STAGE]->(s) "
    "OPTIONAL MATCH (p)-[:LOCATED_IN]->(r:Region) "
    "RETURN p.code AS project_code, p.name AS project_name, r.code AS region_code, "
    "properties(s) AS stage, properties(n) AS node",
)
NODES_BY_ID: Final = Statement(
    "land.nodes_by_id",
    "UNWIND $ids AS id MATCH (n:LandNode {id: id}) RETURN id, n.completed_on AS completed_on",
)
COMPLETE: Final = Statement(
    "land.complete",
    "UNWIND $rows AS row MATCH (n:LandNode {id: row.id}) SET n.completed_on = row.completed_on "
    "RETURN n.id AS id",
    write=True,
)
PROJECT_PARCELS: Final = Statement(
    "land.project_parcels",
    "UNWIND $projects AS code MATCH (p:Project {code: code}) "
    "MATCH (p)-[:ON_PARCEL]->(l:LandParcel) "
    "RETURN code, l.id AS id, l.geometry AS geometry, l.area_m2 AS area_m2",
)
PARCELS_BY_ID: Final = Statement(
    "land.parcels_by_id",
    "UNWIND $ids AS id MATCH (l:LandParcel {id: id}) "
    "RETURN l.id AS id, l.geometry AS geometry, l.area_m2 AS area_m2",
)
UPSERT_LAYER: Final = Statement(
    "land.upsert_layer",
    "MERGE (r:RedLineLayer {id: $id}) SET r += $props RETURN r.id AS id",
    write=True,
)
LAYERS: Final = Statement(
    "land.layers",
    "MATCH (r:RedLineLayer) RETURN r.id AS id, r.kind AS kind, r.name AS name, "
    "r.geometry AS geometry, r.features AS features, r.imported_at AS imported_at",
)


def catalog() -> list[Statement]:
    return [
        INSTANTIATE,
        TRACKED,
        ALL_TRACKED,
        PROJECT_NODES,
        OVERDUE,
        NODES_BY_ID,
        COMPLETE,
        PROJECT_PARCELS,
        PARCELS_BY_ID,
        UPSERT_LAYER,
        LAYERS,
    ]
