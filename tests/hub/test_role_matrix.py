"""The role matrix: for each role, every root query, mutation and subscription is either allowed
or FORBIDDEN, as the issues specify it. The table below is written from the specification, not
read from the code: a query not in it is for every reader but the bank, a mutation for operator
and admin; a name in it that no longer exists fails the test.

Specification (issues 3, 5, 9, 11): writes only for operator and admin; the bank role reaches
only its desensitized financing entry points; monitoring (sensors, ingest status, the live feed)
for every role but bank; dead letters (raw payloads) for monitor, operator and admin; full
financing needs (finance details) for operator and admin only; credit totals (aggregates) for
every role.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLObjectType

from graph_schema.model import validate
from graph_schema.store import GraphStore
from hub.api.context import Context
from hub.api.schema import build_schema, error_code
from hub.bulk import import_records
from hub.roles import Role
from tests.graphs import GRAPH_STORES
from tests.hub.stores import module_graph
from tests.hub.test_injection import SCHEMA, _operation

pytestmark = pytest.mark.anyio

READERS = frozenset({Role.VIEWER, Role.PROMOTER, Role.MONITOR, Role.OPERATOR, Role.ADMIN})
WRITERS = frozenset({Role.OPERATOR, Role.ADMIN})
EVERYONE = READERS | {Role.BANK}
BANK = frozenset({Role.BANK})
BANK_OR_WRITERS = BANK | WRITERS
DEAD_LETTER_READERS = frozenset({Role.MONITOR, Role.OPERATOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.MONITOR, Role.ADMIN})

# Root fields whose audience is not the default (queries: READERS, mutations: WRITERS).
SPECIAL: dict[tuple[str, str], frozenset[Role]] = {
    ("query", "financingOpportunities"): BANK,
    ("query", "financingOpportunity"): BANK,
    ("query", "financingPreference"): BANK_OR_WRITERS,
    ("query", "creditTotals"): EVERYONE,
    # Every role; a bank finds only its own financing types through them (test_financing).
    ("query", "node"): EVERYONE,
    ("query", "nodes"): EVERYONE,
    ("query", "financingNeeds"): WRITERS,
    ("query", "deadLetters"): DEAD_LETTER_READERS,
    ("query", "readingConflicts"): DEAD_LETTER_READERS,
    ("mutation", "expressFinancingInterest"): BANK,
    ("mutation", "setFinancingPreference"): BANK_OR_WRITERS,
    ("mutation", "recordCredit"): BANK_OR_WRITERS,
    # Monitoring centres acknowledge and clear alerts (issue 8), with a key.
    ("mutation", "acknowledgeAlert"): DEAD_LETTER_READERS,
    ("mutation", "clearAlert"): DEAD_LETTER_READERS,
    # Supervision (issue 22): the monitoring centre supervises (opens, assigns, closes,
    # reopens); the responsible side (operator) replies; both comment. With a key.
    ("mutation", "openSupervisionCase"): SUPERVISORS,
    ("mutation", "assignSupervisionCase"): SUPERVISORS,
    ("mutation", "closeSupervisionCase"): SUPERVISORS,
    ("mutation", "reopenSupervisionCase"): SUPERVISORS,
    ("mutation", "commentSupervisionCase"): DEAD_LETTER_READERS,
}
ROLES = [r for r in Role if r is not Role.ANONYMOUS]
STRAWBERRY = build_schema()


def _expected(kind: str, name: str) -> frozenset[Role]:
    return SPECIAL.get((kind, name), WRITERS if kind == "mutation" else READERS)


def _fields() -> list[tuple[str, str]]:
    out = []
    for kind, root in (
        ("query", SCHEMA.query_type),
        ("mutation", SCHEMA.mutation_type),
        ("subscription", SCHEMA.subscription_type),
    ):
        assert isinstance(root, GraphQLObjectType)
        out += [(kind, name) for name in sorted(root.fields)]
    return out


FIELDS = _fields()


def _document(kind: str, name: str) -> dict[str, Any]:
    root = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type,
            "subscription": SCHEMA.subscription_type}[kind]  # fmt: skip
    assert root is not None
    built = _operation(kind, name, root.fields[name], "x", text_only=False)
    assert built is not None

    # A bank acts for itself: an argument naming a bank names the caller's (another bank's id
    # is refused as FORBIDDEN too, which is a different test).
    def own_bank(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "bank-m" if k == "bankId" else own_bank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [own_bank(v) for v in value]
        return value

    built["variables"] = own_bank(built["variables"])
    built["variables"].update({k: "bank-m" for k in built["variables"] if k == "bankId"})
    return built


@pytest.fixture(scope="module", params=GRAPH_STORES)
async def graph(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GraphStore]:
    async with module_graph(request, tmp_path_factory, "matrix") as store:
        region = {"code": "330000", "name": "浙江省", "level": "province"}
        await import_records(store, "region", [validate("region", region)])
        bank = {"id": "bank-m", "name": "矩阵银行", "kind": "state_owned", "region_code": "330000"}
        await import_records(store, "bank", [validate("bank", bank)])
        yield store


def test_every_root_field_is_in_the_specification() -> None:
    # The defaults cover the rest; this keeps SPECIAL honest about names that still exist.
    names = set(FIELDS)
    assert set(SPECIAL) <= names, set(SPECIAL) - names


async def _forbidden(graph: GraphStore, role: Role, kind: str, name: str) -> bool:
    document = _document(kind, name)
    context = Context(store=graph, role=role, subject="bank-m" if role is Role.BANK else None)
    context.key_id = "matrix"  # every caller here holds a key
    variables = document["variables"]
    errors: list[Any]
    if kind == "subscription":
        result = await STRAWBERRY.subscribe(
            document["query"], variable_values=variables, context_value=context
        )
        if isinstance(result, AsyncGenerator):
            first = await anext(result)
            errors = list(first.errors or [])
            await result.aclose()
        else:
            errors = list(result.errors or [])
    else:
        outcome = await STRAWBERRY.execute(
            document["query"], variable_values=variables, context_value=context
        )
        errors = list(outcome.errors or [])
    assert errors is not None
    codes = {error_code(e) for e in errors}
    return "FORBIDDEN" in codes


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_each_role_reaches_exactly_what_it_may(graph: GraphStore, role: Role) -> None:
    wrong = []
    for kind, name in FIELDS:
        forbidden = await _forbidden(graph, role, kind, name)
        allowed = role in _expected(kind, name)
        if forbidden == allowed:
            wrong.append(f"{kind} {name}: {'FORBIDDEN' if forbidden else 'allowed'}")
    assert not wrong, f"{role.value}: " + "; ".join(wrong)
