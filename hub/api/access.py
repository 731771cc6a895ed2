"""Who may read and write what, declared once and checked on the server.

Permissions attach to fields (Strawberry permission classes), so a field's visibility depends
on the caller's role without its resolver knowing; ``node(id)`` checks the same table per type.
Authentication (``hub.auth``: API keys) decides the role and, for a bank key, the bank.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import Info

from hub.roles import WRITERS, Role

__all__ = ["MONITORING_READERS", "ROOT_FIELDS", "WRITERS", "RoleScope", "allow", "may_read_type"]

# Banks see desensitized financing needs, never site monitoring. ANONYMOUS is the state of a
# WebSocket before its connection_init is authenticated: it reads nothing.
MONITORING_READERS = frozenset(Role) - {Role.BANK, Role.ANONYMOUS}

# GraphQL type name → roles that may read it (types not listed: every role).
TYPE_READERS: dict[str, frozenset[Role]] = {"Sensor": MONITORING_READERS}


def may_read_type(role: Role, type_name: str) -> bool:
    return role in TYPE_READERS.get(type_name, frozenset(Role))


_CACHE: dict[frozenset[Role], type[BasePermission]] = {}


def allow(roles: frozenset[Role]) -> type[BasePermission]:
    """A permission class admitting exactly ``roles``; others get FORBIDDEN."""
    cached = _CACHE.get(roles)
    if cached is not None:
        return cached
    names = ", ".join(sorted(r.value for r in roles))

    class Allowed(BasePermission):
        message = f"this field needs one of the roles: {names}"
        error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
            return info.context.role in roles

    Allowed.__name__ = Allowed.__qualname__ = "Allow_" + "_".join(sorted(r.value for r in roles))
    _CACHE[roles] = Allowed
    return Allowed


# Roles confined to a few entry points: any other root field is FORBIDDEN before anything
# runs. A bank reaches only the financing fields, whose types are desensitized (the test
# walks every field reachable from these), and node(id:)/nodes(ids:) for those same types.
ROOT_FIELDS: dict[Role, frozenset[str]] = {
    Role.ANONYMOUS: frozenset({"__typename"}),
    Role.BANK: frozenset(
        {
            "financingOpportunities",
            "financingOpportunity",
            "financingPreference",
            "creditTotals",
            "expressFinancingInterest",
            "setFinancingPreference",
            "recordCredit",
            # Only the types a NodeLookup names the bank for (hub.api.schema._node).
            "node",
            "nodes",
            "__typename",
            "__schema",
            "__type",
        }
    ),
}


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    """Names of the root fields an operation selects (through fragments too)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return set()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    walk(fragments[name].selection_set)

    walk(operation.selection_set)
    return names


class RoleScope(SchemaExtension):
    """Refuses, with FORBIDDEN, an operation selecting a root field outside the caller's
    ``ROOT_FIELDS`` (roles without an entry are not confined)."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        allowed = ROOT_FIELDS.get(getattr(ec.context, "role", Role.ANONYMOUS))
        if allowed is not None and ec.graphql_document is not None:
            denied = sorted(root_fields(ec.graphql_document, ec.operation_name) - allowed)
            if denied:
                role = ec.context.role
                error = GraphQLError(
                    f"the {role} role may not use: {', '.join(denied)}",
                    extensions={"code": "FORBIDDEN"},
                )
                ec.result = ExecutionResult(data=None, errors=[error])
        yield
