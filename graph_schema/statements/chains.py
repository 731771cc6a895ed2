"""Statements of the industry-chain analytics: chain maps per region, the figures chokepoints and
targets are judged on, and the supply graph.

A region always includes its sub-regions. Figures come back per home region (where an enterprise
or project is registered) and are summed up the region tree in ``hub.promotion.chains``.
Every statement takes its inputs as parameters; nothing here is built from input.
"""

from __future__ import annotations

from typing import Final

from graph_schema.cypher import Statement

REGIONS: Final = Statement(
    "chains.regions",
    "MATCH (r:Region) OPTIONAL MATCH (r)-[:PART_OF]->(p:Region) "
    "RETURN r.code AS code, r.name AS name, r.level AS level, p.code AS parent",
)

CHAIN_SEGMENTS: Final = Statement(
    "chains.segments",
    "MATCH (c:IndustryChain {id: $chain}) MATCH (c)<-[:PART_OF]-(s:ChainSegment) "
    "RETURN properties(s) AS props",
)

# Every SUPPLIES edge: the supply graph is small (segments, not enterprises), so
# neighbourhoods and paths are walked in memory.
SUPPLY_GRAPH: Final = Statement(
    "chains.supply_graph",
    "MATCH (a:ChainSegment)-[:SUPPLIES]->(b:ChainSegment) RETURN a.id AS source, b.id AS target",
)

SEGMENTS_BY_ID: Final = Statement(
    "chains.segments_by_id",
    "UNWIND $segments AS sid MATCH (s:ChainSegment {id: sid}) RETURN properties(s) AS props",
)

# Per segment and home region (where the enterprises are registered, a county or city): the
# enterprises and their totals. Any region's figures are sums over the home regions under it,
# so one statement serves a map at any level and its peers. (Filtering on the region inside
# the statement instead took 51 ms for a county and 1.56 s for the province at hubei scale;
# this takes 73-81 ms for a whole chain whatever the region, 45 ms split over two reads.)
ENTERPRISES_BY_HOME: Final = Statement(
    "chains.enterprises_by_home",
    "UNWIND $segments AS sid MATCH (s:ChainSegment {id: sid}) "
    "MATCH (s)<-[:IN_SEGMENT]-(e:Enterprise) MATCH (e)-[:LOCATED_IN]->(home:Region) "
    "RETURN sid AS segment, home.code AS home, count(e) AS enterprises, "
    "sum(CASE WHEN 'chain_leader' IN coalesce(e.tags, []) THEN 1 ELSE 0 END) AS leaders, "
    "sum(CASE WHEN size(coalesce(e.tags, [])) > 0 THEN 1 ELSE 0 END) AS tagged, "
    "sum(coalesce(e.output, 0.0)) AS output, max(coalesce(e.output, 0.0)) AS top_output, "
    "sum(coalesce(e.employees, 0)) AS employment, sum(coalesce(e.patents, 0)) AS patents",
)

PROJECTS_BY_HOME: Final = Statement(
    "chains.projects_by_home",
    "UNWIND $segments AS sid MATCH (s:ChainSegment {id: sid}) "
    "MATCH (s)<-[:BUILDS_IN]-(p:Project) MATCH (p)-[:LOCATED_IN]->(home:Region) "
    "RETURN sid AS segment, home.code AS home, count(p) AS projects, "
    "sum(coalesce(p.total_investment, 0.0)) AS planned_investment, "
    "sum(coalesce(p.completed_investment, 0.0)) AS completed_investment",
)

# Enterprises in $segment registered outside $within (the codes of a region and its
# sub-regions) that own no project inside it, with where they are.
TARGET_CANDIDATES: Final = Statement(
    "chains.target_candidates",
    "MATCH (s:ChainSegment {id: $segment}) "
    "MATCH (s)<-[:IN_SEGMENT]-(e:Enterprise) MATCH (e)-[:LOCATED_IN]->(home:Region) "
    "WITH e, home WHERE NOT home.code IN $within "
    "OPTIONAL MATCH (e)<-[:OWNED_BY]-(p:Project)-[:LOCATED_IN]->(site:Region) "
    "WITH e, home, sum(CASE WHEN site.code IN $within THEN 1 ELSE 0 END) AS projects_there "
    "WHERE projects_there = 0 "
    "RETURN properties(e) AS props, home.code AS region_code",
)

# Enterprises registered in $within that are in any of $segments, with which ones.
LOCAL_IN_SEGMENTS: Final = Statement(
    "chains.local_in_segments",
    "UNWIND $segments AS sid MATCH (s:ChainSegment {id: sid}) "
    "MATCH (s)<-[:IN_SEGMENT]-(e:Enterprise) MATCH (e)-[:LOCATED_IN]->(home:Region) "
    "WITH sid, e, home WHERE home.code IN $within "
    "RETURN properties(e) AS props, home.code AS region_code, collect(sid) AS segments",
)

ENTERPRISE_SEGMENTS: Final = Statement(
    "chains.enterprise_segments",
    "MATCH (e:Enterprise {uscc: $uscc}) MATCH (e)-[:IN_SEGMENT]->(s:ChainSegment) "
    "RETURN s.id AS segment",
)


def catalog() -> list[Statement]:
    return [
        REGIONS,
        CHAIN_SEGMENTS,
        SUPPLY_GRAPH,
        SEGMENTS_BY_ID,
        ENTERPRISES_BY_HOME,
        PROJECTS_BY_HOME,
        TARGET_CANDIDATES,
        LOCAL_IN_SEGMENTS,
        ENTERPRISE_SEGMENTS,
    ]
