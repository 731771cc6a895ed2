"""The GraphQL schema shows the model: every model enum is a GraphQL enum with the same values and
descriptions, and every field of every entity the API shows has a counterpart on its object
type (a field, or a relation for a link), unless it is declared hidden or renamed here."""

from __future__ import annotations

import inspect
from enum import Enum

import graphql
import pytest

from graph_schema import model, reads
from graph_schema.model import SPECS
from hub.api import lists
from hub.api.enums import MODEL_ENUMS
from hub.api.schema import build_schema

SCHEMA = build_schema()

# Model enums the API deliberately does not show (none today).
HIDDEN_ENUMS: frozenset[type[Enum]] = frozenset()


@pytest.fixture(scope="module")
def sdl() -> graphql.GraphQLSchema:
    return graphql.build_schema(SCHEMA.as_str())


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


# Model fields the API deliberately does not show on the entity's object type: entity → field →
# why. Anything else missing fails, so a field added to the model shows up or is declared here.
HIDDEN_FIELDS: dict[str, dict[str, str]] = {}
# Model fields the API shows under a name of its own: entity → field → GraphQL field.
RENAMED_FIELDS: dict[str, dict[str, str]] = {
    # The list's projects are a connection filtered by the list (hub.api.scoreboard).
    "project_list": {"project_codes": "projects"},
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _shown_entities() -> list[str]:
    return sorted(e for e in SCHEMA.surface.node_types if e in SPECS)


@pytest.mark.parametrize("entity", _shown_entities())
def test_every_model_field_has_a_graphql_counterpart(entity: str) -> None:
    spec = SPECS[entity]
    type_name = SCHEMA.surface.node_types[entity].__name__
    shown = SCHEMA._schema.type_map[type_name]
    assert isinstance(shown, graphql.GraphQLObjectType)
    hidden = HIDDEN_FIELDS.get(entity, {})
    renamed = RENAMED_FIELDS.get(entity, {})
    assert all(field in shown.fields for field in renamed.values()), renamed
    missing = [
        name
        for name in spec.property_fields
        if _camel(name) not in shown.fields and name not in hidden and name not in renamed
    ]
    relations = [
        reads.RELATIONS[spec_.relation]
        for (owner, _), spec_ in SCHEMA.surface.relation_fields.items()
        if owner == type_name and isinstance(spec_, lists.ToOne | lists.ToMany)
    ]
    for link in spec.links:
        reached = any(
            f"[:{link.type}]" in r.path and r.target == link.target for r in relations
        ) or (link.many is False and _camel(link.field) in shown.fields)
        if not reached and link.field not in hidden and link.field not in renamed:
            missing.append(link.field)
    assert not missing, f"{type_name} shows no counterpart of model fields {missing}"
