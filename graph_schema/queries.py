"""Read statements behind the GraphQL API."""

from __future__ import annotations

from functools import cache

from graph_schema.cypher import Statement
from graph_schema.dialect import RULES, Dialect

REGIONS = Statement(
    "api.regions",
    "MATCH (r:Region) WHERE $level IS NULL OR r.level = $level "
    "OPTIONAL MATCH (r)-[:PART_OF]->(p:Region) "
    "RETURN r.code AS code, r.name AS name, r.name_en AS name_en, r.level AS level, "
    "p.code AS parent_code, r.lon AS lon, r.lat AS lat ORDER BY code",
)
REGION = Statement(
    "api.region",
    "MATCH (r:Region {code: $code}) OPTIONAL MATCH (r)-[:PART_OF]->(p:Region) "
    "RETURN r.code AS code, r.name AS name, r.name_en AS name_en, r.level AS level, "
    "p.code AS parent_code, r.lon AS lon, r.lat AS lat, "
    "[(c:Region)-[:PART_OF]->(r) | c.code] AS children",
)
CHAINS = Statement(
    "api.chains",
    "MATCH (c:IndustryChain) "
    "RETURN c.id AS id, c.name AS name, c.name_en AS name_en, "
    "[(s:ChainSegment)-[:PART_OF]->(c) | s {.id, .name, .name_en, .tier, .position, "
    "enterprises: size([(e:Enterprise)-[:IN_SEGMENT]->(s) | e]), "
    "supplies: [(s)-[:SUPPLIES]->(d:ChainSegment) | d.id]}] AS segments "
    "ORDER BY id",
)
PROJECT = Statement(
    "api.project",
    "MATCH (p:Project {code: $code}) "
    "OPTIONAL MATCH (p)-[:OWNED_BY]->(e:Enterprise) "
    "OPTIONAL MATCH (p)-[:LOCATED_IN]->(r:Region) "
    "RETURN properties(p) AS props, e.uscc AS owner_uscc, e.name AS owner_name, "
    "r.code AS region_code, r.name AS region_name, "
    "[(p)-[:BUILDS_IN]->(s:ChainSegment) | s.id] AS segment_ids, "
    "[(p)-[:ON_PARCEL]->(l:LandParcel) | l.id] AS parcel_ids, "
    "[(x:Sensor)-[:MONITORS]->(p) | x.id] AS sensor_ids",
)


@cache
def project_search(dialect: Dialect) -> Statement:
    from graph_schema.dialect import FulltextIndex

    rules = RULES[dialect]
    return Statement(
        "api.project_search",
        rules.fulltext_query(
            FulltextIndex("Project", ("name",)),
            "RETURN node.code AS code, node.name AS name, score ORDER BY score DESC, code "
            "LIMIT $limit",
        ),
    )


def catalog(dialect: Dialect) -> list[Statement]:
    return [REGIONS, REGION, CHAINS, PROJECT, project_search(dialect)]
