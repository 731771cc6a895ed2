"""The API's scalars (hub.api.scalars) and the global-id argument rule (hub.api.paging.key_of)."""

from __future__ import annotations

import datetime as dt

import pytest
from graphql import GraphQLScalarType

from graph_schema.errors import InvalidInput
from hub.api.paging import encode_global_id, key_of
from hub.api.scalars import SCALAR_OVERRIDES, Period, period_text
from hub.api.schema import build_schema


@pytest.mark.parametrize("text", ["2026", "2026-Q1", "2026-Q4", "2026-01", "2026-12", "2026-09-H1",
                                  "2026-09-H2", " 2026-Q3 "])  # fmt: skip
def test_a_period_in_every_form_is_accepted_as_its_canonical_text(text: str) -> None:
    assert period_text(text) == text.strip()


MALFORMED = ["26", "2026-Q5", "2026-Q0", "2026-13", "2026-00", "2026-9", "2026-09-H3", "2026-Q3-H1",
             "1899", "2201-Q1", "2026/09", ""]  # fmt: skip


@pytest.mark.parametrize("text", MALFORMED)
def test_a_malformed_period_is_refused_with_the_grammar_in_the_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"YYYY-Qn|out of range|not a period"):
        period_text(text)


def test_a_period_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(ValueError, match="is a string"):
        period_text(202609)


def _scalar(name: str) -> GraphQLScalarType:
    scalar = build_schema()._schema.get_type(name)
    assert isinstance(scalar, GraphQLScalarType)
    return scalar


def test_date_and_date_time_carry_specified_by_and_date_times_their_offset() -> None:
    date, date_time = _scalar("Date"), _scalar("DateTime")
    assert date.specified_by_url == "https://scalars.graphql.org/andimarek/local-date.html"
    assert date_time.specified_by_url == "https://scalars.graphql.org/andimarek/date-time.html"
    assert date.serialize(dt.date(2026, 9, 30)) == "2026-09-30"
    # A naive time is the hub's UTC; an aware one keeps its instant.
    assert date_time.serialize(dt.datetime(2026, 9, 30, 8, 0)) == "2026-09-30T08:00:00+00:00"
    east = dt.timezone(dt.timedelta(hours=8))
    assert date_time.serialize(dt.datetime(2026, 9, 30, 8, tzinfo=east)).endswith("+08:00")
    utc_eight = dt.datetime(2026, 9, 30, 8, tzinfo=dt.UTC)
    assert date_time.parse_value("2026-09-30T08:00:00Z") == utc_eight
    assert date_time.parse_value("2026-09-30T08:00:00").tzinfo == dt.UTC
    assert date.parse_value("2026-09-30") == dt.date(2026, 9, 30)


def test_period_scalar_parses_and_refuses_like_period_text() -> None:
    period = SCALAR_OVERRIDES[Period]
    assert period.parse_value is not None
    assert period.parse_value("2026-09-H2") == "2026-09-H2"
    with pytest.raises(Exception, match="YYYY-MM-H1/H2"):
        period.parse_value("2026-09-H3")
    assert period.specified_by_url == "/spec/scalars#period"


def test_an_entity_argument_takes_the_global_id_or_for_one_release_the_bare_key() -> None:
    assert key_of(encode_global_id("IndustryChain", "nev"), "IndustryChain") == "nev"
    assert key_of("nev", "IndustryChain") == "nev"
    assert key_of("2101-330100-04-01-000001", "Project") == "2101-330100-04-01-000001"
    assert key_of("91330100MA2XXXXX1A", "Enterprise") == "91330100MA2XXXXX1A"
    with pytest.raises(InvalidInput, match="the id of a Project, not of a IndustryChain"):
        key_of(encode_global_id("Project", "2101-330100-04-01-000001"), "IndustryChain")
