"""Statements the satellite connector sends: which parcels each satellite sensor watches.

A satellite sensor monitors a project; the parcels it looks at are the project's
(``(:Sensor {kind:'satellite'})-[:MONITORS]->(:Project)-[:ON_PARCEL]->(:LandParcel)``).
"""

from __future__ import annotations

from graph_schema.cypher import Statement

SATELLITE_TARGETS = Statement(
    "satellite.targets",
    "MATCH (s:Sensor)-[:MONITORS]->(p:Project)-[:ON_PARCEL]->(l:LandParcel) "
    "WHERE s.kind = $kind "
    "RETURN s.id AS sensor_id, p.code AS project_code, l.id AS parcel_id, "
    "l.geometry AS geometry, l.area_m2 AS area_m2 ORDER BY s.id, l.id",
)


def catalog() -> list[Statement]:
    return [SATELLITE_TARGETS]
