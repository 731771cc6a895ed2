"""Reads of indicator series and targets (issue 10).

``(:IndicatorValue)`` and ``(:IndicatorTarget)`` nodes hang off their indicator
(``OF_INDICATOR``) and region (``FOR_REGION``), see ``model.IndicatorValue``. Values are read
per region (the barometer, forecast and target derivation need one region's series; the race
needs a few indicators in a dozen regions), starting at each region in a clause of its own, as
FalkorDB's planner needs. Periods are compared and filtered by the caller.
"""

from __future__ import annotations

from graph_schema.cypher import Statement

INDICATORS = Statement(
    "indicators.all",
    "MATCH (i:Indicator) RETURN properties(i) AS props",
)
VALUES = Statement(
    "indicators.values",
    "UNWIND $regions AS code "
    "MATCH (r:Region {code: code}) "
    "MATCH (r)<-[:FOR_REGION]-(v:IndicatorValue)-[:OF_INDICATOR]->(i:Indicator) "
    "WITH r, v, i WHERE i.id IN $indicators "
    "RETURN r.code AS region, i.id AS indicator, v.period AS period, v.value AS value",
)
# By key (``indicator/region/period``, unique and indexed): the race needs a few periods of a
# few indicators, and reading whole series to keep one period cost 10x more.
VALUES_BY_KEY = Statement(
    "indicators.values_by_key",
    "UNWIND $keys AS key MATCH (v:IndicatorValue {id: key}) RETURN key, v.value AS value",
)
TARGETS = Statement(
    "indicators.targets",
    "MATCH (t:IndicatorTarget) WHERE t.year = $year "
    "MATCH (t)-[:FOR_REGION]->(r:Region) "
    "WITH t, r WHERE $region IS NULL OR r.code = $region "
    "MATCH (t)-[:OF_INDICATOR]->(i:Indicator) "
    "RETURN i.id AS indicator, r.code AS region, t.target AS target, t.basis AS basis",
)
REGIONS = Statement(
    "indicators.regions",
    "UNWIND $codes AS code MATCH (r:Region {code: code}) "
    "RETURN r.code AS code, r.name AS name, r.level AS level",
)
CHILDREN = Statement(
    "indicators.children",
    "MATCH (w:Region {code: $within}) MATCH (w)<-[:PART_OF]-(c:Region) "
    "RETURN c.code AS code, c.name AS name, c.level AS level",
)


def catalog() -> list[Statement]:
    return [INDICATORS, VALUES, VALUES_BY_KEY, TARGETS, REGIONS, CHILDREN]
