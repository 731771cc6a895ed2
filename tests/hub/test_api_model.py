"""The GraphQL schema shows the model: every model enum is a GraphQL enum with the same values and
descriptions, unless it is declared hidden here."""

from __future__ import annotations

import inspect
from enum import Enum

import graphql
import pytest

from graph_schema import model
from hub.api.enums import MODEL_ENUMS
from hub.api.schema import build_schema

# Model enums the API deliberately does not show (none today).
HIDDEN_ENUMS: frozenset[type[Enum]] = frozenset()


@pytest.fixture(scope="module")
def sdl() -> graphql.GraphQLSchema:
    return graphql.build_schema(build_schema().as_str())


def _model_enums() -> list[type[Enum]]:
    return [
        value
        for value in vars(model).values()
        if inspect.isclass(value)
        and issubclass(value, Enum)
        and value.__module__ == model.__name__
        and value is not model.Term
    ]


def test_every_model_enum_is_shown_or_hidden() -> None:
    enums = _model_enums()
    assert model.ProjectStage in enums
    missing = sorted(e.__name__ for e in enums if e not in MODEL_ENUMS and e not in HIDDEN_ENUMS)
    assert not missing, "model enums without a GraphQL enum (add to MODEL_ENUMS): " + str(missing)


@pytest.mark.parametrize("term", list(MODEL_ENUMS), ids=lambda t: t.__name__)
def test_graphql_enum_has_every_model_value(
    sdl: graphql.GraphQLSchema, term: type[model.Term]
) -> None:
    shown = sdl.get_type(MODEL_ENUMS[term])
    assert isinstance(shown, graphql.GraphQLEnumType)
    assert shown.description == term.__doc__
    assert {name: v.description for name, v in shown.values.items()} == {
        m.name: m.description for m in term
    }
    assert all(m.description for m in term), f"{term.__name__}: every value needs its description"
