"""Statements the monitoring API sends: a project's sensors, and the projects of a region.

Readings themselves live in the telemetry store; the graph says which sensors exist, what they
watch and where those projects are.
"""

from __future__ import annotations

from typing import Final

from graph_schema.cypher import Statement
from graph_schema.statements.reads import IN_REGION

SENSORS_OF_PROJECTS = Statement(
    "monitoring.sensors_of_projects",
    "UNWIND $keys AS key MATCH (p:Project {code: key})<-[:MONITORS]-(s:Sensor) "
    "RETURN key, properties(s) AS props ORDER BY s.id",
)

# The region itself and up to two levels below it, as the API's region filters.
PROJECTS_IN_REGION = Statement(
    "monitoring.projects_in_region",
    "MATCH " + IN_REGION.format(x="r:Region {code: $region}", n="p:Project") + " "
    "RETURN DISTINCT p.code AS code",
)


# Feeds of one kind with the project each watches (the demo's feed simulator walks these).
SENSORS_OF_KIND = Statement(
    "monitoring.sensors_of_kind",
    "MATCH (s:Sensor)-[:MONITORS]->(p:Project) WHERE s.kind IN $kinds "
    "RETURN s.id AS id, s.kind AS kind, p.code AS project_code, p.stage AS stage "
    "ORDER BY s.id",
)


# Written by the statements below, outside the model's spec table (for the Neo4j linter).
LABELS: Final[tuple[str, ...]] = ()
TYPES: Final[tuple[str, ...]] = ()
PROPERTIES: Final = ("camera_baseline_at",)


# Cameras with a configuration, for the hub's camera poller (the JSON text is parsed there).
CONFIGURED_CAMERAS = Statement(
    "monitoring.configured_cameras",
    "MATCH (s:Sensor)-[:MONITORS]->(p:Project) WHERE s.kind = $kind AND s.camera IS NOT NULL "
    "RETURN s.id AS id, p.code AS project_code, s.camera AS camera, "
    "s.camera_baseline_at AS baseline_at ORDER BY s.id",
)

# An operator accepted each camera's current view (issue 24): its capture process takes a new
# reference and a MOVED camera becomes OK. Returns the cameras found.
REBASELINE_CAMERAS = Statement(
    "monitoring.rebaseline_cameras",
    "UNWIND $ids AS id MATCH (s:Sensor {id: id}) WHERE s.kind = $kind AND s.camera IS NOT NULL "
    "SET s.camera_baseline_at = $at RETURN s.id AS id ORDER BY s.id",
    write=True,
)


def catalog() -> list[Statement]:
    return [
        SENSORS_OF_PROJECTS,
        PROJECTS_IN_REGION,
        SENSORS_OF_KIND,
        CONFIGURED_CAMERAS,
        REBASELINE_CAMERAS,
    ]
