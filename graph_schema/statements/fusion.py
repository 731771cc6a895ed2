"""What fusion reads from the graph: projects with their reported status and region, the
sensors watching them, and their reported monthly investment.

Readings come from the telemetry store; these give the reported side that evidence is
compared with.
"""

from __future__ import annotations

from typing import Final

from graph_schema.cypher import Statement

PROJECTS: Final = Statement(
    "fusion.projects",
    "MATCH (p:Project) OPTIONAL MATCH (p)-[:LOCATED_IN]->(r:Region) "
    "RETURN p.code AS code, p.name AS name, p.stage AS stage, p.kind AS kind, "
    "p.level AS level, p.leader_project AS leader_project, p.permit_date AS permit_date, "
    "p.planned_start AS planned_start, p.actual_start AS actual_start, "
    "p.actual_end AS actual_end, p.annual_plan_investment AS annual_plan_investment, "
    "p.year_completed_investment AS year_completed_investment, r.code AS region_code "
    "ORDER BY code",
)
SENSORS: Final = Statement(
    "fusion.sensors",
    "MATCH (s:Sensor)-[:MONITORS]->(p:Project) "
    "RETURN s.id AS id, s.kind AS kind, p.code AS project_code, s.stale_after_s AS stale_after_s "
    "ORDER BY id",
)
MONTHS: Final = Statement(
    "fusion.months",
    "MATCH (p:Project)-[:HAS_INVESTMENT_MONTH]->(m:InvestmentMonth) WHERE m.actual IS NOT NULL "
    "RETURN p.code AS code, m.month AS month, m.actual AS actual ORDER BY code, month",
)


def catalog() -> list[Statement]:
    return [PROJECTS, SENSORS, MONTHS]
