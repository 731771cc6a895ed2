"""The API's tables agree with the model's: every filter the statements know is an input field,
and every mutation input carries exactly the model record's fields."""

from __future__ import annotations

import dataclasses

import pytest

from graph_schema.dialect import RULES, Dialect
from graph_schema.model import SPECS
from graph_schema.statements import reads
from hub.api.entities import (
    bank,
    chain,
    enterprise,
    parcel,
    product,
    project,
    region,
    segment,
    sensor,
)
from hub.api.inputs import COMBINATORS
from hub.api.mutations import INPUTS

WHERE = {
    "region": region.RegionWhere,
    "chain": chain.IndustryChainWhere,
    "segment": segment.ChainSegmentWhere,
    "product": product.ProductWhere,
    "enterprise": enterprise.EnterpriseWhere,
    "parcel": parcel.LandParcelWhere,
    "project": project.ProjectWhere,
    "bank": bank.BankWhere,
    "sensor": sensor.SensorWhere,
}


@pytest.mark.parametrize("entity", sorted(WHERE))
def test_where_inputs_expose_exactly_the_statement_filters(entity: str) -> None:
    exposed: set[str] = set()
    for f in dataclasses.fields(WHERE[entity]):
        if f.name in COMBINATORS:  # OR and NOT hold wheres of the same type
            continue
        if "Range" in str(WHERE[entity].__annotations__[f.name]):
            exposed |= {f"{f.name}_min", f"{f.name}_max"}
        else:
            exposed.add(f.name)
    assert exposed == set(reads.NODE_SETS[entity].filters)


@pytest.mark.parametrize("entity", sorted(INPUTS))
def test_mutation_inputs_carry_the_record_fields(entity: str) -> None:
    fields = {f.name for f in dataclasses.fields(INPUTS[entity])}
    assert fields == set(SPECS[entity].record.model_fields)


@pytest.mark.parametrize(
    ("dialect", "text", "query"),
    [
        (Dialect.FALKORDB, "汽车 @name:{x}", "汽车 \\@name\\:\\{x\\}"),
        (Dialect.FALKORDB, "-a|b*", "\\-a\\|b\\*"),
        (Dialect.NEO4J, "汽车 OR x:y", "汽车 AND or AND x\\:y"),
        (Dialect.NEO4J, '"a" (b)', '\\"a\\" AND \\(b\\)'),
        (Dialect.NEO4J, "   ", ""),
    ],
)
def test_full_text_input_becomes_literal_terms(dialect: Dialect, text: str, query: str) -> None:
    assert RULES[dialect].fulltext_text(text) == query
