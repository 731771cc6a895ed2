"""Reads of chain statistics: one chain's (or one segment's) reported figures in one region.

``(:ChainStat)`` nodes hang off their chain, segment and region (``OF_CHAIN``, ``OF_SEGMENT``,
``FOR_REGION``, see ``model.ChainStat``). A series starts at the region (a few hundred rows
at most) and keeps the rows of the chain or segment; a chain's own rows are those without a
segment. Periods are sorted and filtered by the caller, which knows how to compare them.
"""

from __future__ import annotations

from graph_schema.cypher import Statement

CHAIN_SERIES = Statement(
    "statistics.chain_series",
    "MATCH (r:Region {code: $region}) "
    "MATCH (r)<-[:FOR_REGION]-(s:ChainStat)-[:OF_CHAIN]->(:IndustryChain {id: $chain}) "
    "WITH s WHERE NOT (s)-[:OF_SEGMENT]->(:ChainSegment) "
    "RETURN properties(s) AS props",
)
SEGMENT_SERIES = Statement(
    "statistics.segment_series",
    "MATCH (r:Region {code: $region}) "
    "MATCH (r)<-[:FOR_REGION]-(s:ChainStat)-[:OF_SEGMENT]->(:ChainSegment {id: $segment}) "
    "RETURN properties(s) AS props",
)


def catalog() -> list[Statement]:
    return [CHAIN_SERIES, SEGMENT_SERIES]
