"""Static cost analysis: an operation is priced before it runs, and refused over budget.

Depth, alias and token limits bound a document's shape, not its work: a depth-11 fan-out
(projects -> segments -> projects ..., ``first: 100`` each) passed them all and held the API for
41 s, and 50 aliases of ``investmentForecast`` for 24 s. The price of an operation is what it
would make the hub resolve at most:

- every field that returns an object (or a list of them) costs 1 per time it is resolved;
- a field taking ``first`` (or ``last``) resolves its selection that many times (a variable or
  no value: the largest page, ``max_page_size``); the connection's ``edges``/``nodes`` inside
  are that same page, not another multiplication;
- any other list of objects is assumed ``LIST_SIZE`` long (a project's segments, a race's
  entries);
- analytic fields cost what ``FIELD_COSTS`` declares (measured, relative to a node), times the
  number of times they are resolved;
- an ``offset`` costs the rows it skips, one node per ``OFFSET_ROWS`` (a variable: the largest
  offset, ``MAX_OFFSET``), times the number of times the list is resolved;
- scalars are free: their parent object paid for them.

The price of a fragment is counted where it is spread. A document over ``max_cost`` is refused
in validation (HTTP 400, ``extensions.code`` ``COST_LIMIT``), before any resolver runs.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from hub.api.paging import MAX_OFFSET

COST_LIMIT = "COST_LIMIT"
LIST_SIZE = 10
# Declared prices of the analytic fields, in nodes' worth of work: a forecast fits and
# backtests a penalised regression on the region's history; a race normalises and ranks every
# region on every race indicator, per period.
FIELD_COSTS: dict[tuple[str, str], int] = {
    ("Query", "investmentForecast"): 400,
    ("Query", "investmentTarget"): 200,
    ("Query", "raceHistory"): 400,
    ("Query", "regionalRace"): 100,
    ("Query", "barometer"): 100,
    # Up to 240 periods, each read over the region's history: 240 months measured about 2x a
    # forecast's CPU; priced as the other histories.
    ("Query", "barometerHistory"): 400,
    ("Query", "indicatorTracking"): 100,
}
_PAGE_ARGS = ("first", "last")
# Rows an offset skips per node's worth of price: skipping reads rows without resolving them.
OFFSET_ROWS = 20
_PAGED_LISTS = frozenset({"edges", "nodes"})


def _unwrap(gtype: Any) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    while isinstance(gtype, GraphQLNonNull | GraphQLList):
        if isinstance(gtype, GraphQLList):
            is_list = True
        gtype = gtype.of_type
    named: GraphQLNamedType = gtype
    return named, is_list


class _Pricer:
    def __init__(self, context: ValidationContext, max_page: int, stop_at: int) -> None:
        self.context = context
        self.max_page = max_page
        self.stop_at = stop_at  # pricing stops once the budget is certainly exceeded
        self.spreading: set[str] = set()

    def selection(
        self,
        parent: GraphQLNamedType,
        selections: SelectionSetNode | None,
        times: int,
        page: int | None = None,
    ) -> int:
        """The price of ``selections`` on ``parent`` resolved ``times`` times; ``page`` is the
        size of the connection ``parent`` is, which its edges/nodes lists have."""
        total = 0
        for node in self._fields(parent, selections):
            field_on, field = node
            total += self.field(field_on, field, times, page)
            if total > self.stop_at:
                break
        return total

    def _fields(
        self, parent: GraphQLNamedType, selections: SelectionSetNode | None
    ) -> list[tuple[GraphQLNamedType, FieldNode]]:
        """The fields selected, with inline fragments and fragment spreads opened."""
        out: list[tuple[GraphQLNamedType, FieldNode]] = []
        if selections is None:
            return out
        for node in selections.selections:
            if isinstance(node, FieldNode):
                out.append((parent, node))
            elif isinstance(node, InlineFragmentNode):
                on = parent
                if node.type_condition is not None:
                    on = self.context.schema.get_type(node.type_condition.name.value) or parent
                out.extend(self._fields(on, node.selection_set))
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in self.spreading:
                    continue  # unknown or cyclic: other rules refuse the document
                self.spreading.add(name)
                on = self.context.schema.get_type(fragment.type_condition.name.value) or parent
                out.extend(self._fields(on, fragment.selection_set))
                self.spreading.discard(name)
        return out

    def field(self, parent: GraphQLNamedType, node: FieldNode, times: int, page: int | None) -> int:
        definition = _field(parent, node.name.value)
        if definition is None:
            return 0  # __typename, or an unknown field other rules refuse
        named, is_list = _unwrap(definition.type)
        declared = FIELD_COSTS.get((parent.name, node.name.value))
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return times * (declared or 0)
        cost = times * (declared if declared is not None else 1)
        cost += times * self._skipped(node, definition)
        size = self._page_size(node, definition)
        if size is not None and not is_list:
            # A connection: resolved once, its edges/nodes `size` long.
            return cost + self.selection(named, node.selection_set, times, size)
        if size is not None:
            inner = times * size
        elif is_list and page is not None and node.name.value in _PAGED_LISTS:
            inner = times * page
        elif is_list:
            inner = times * LIST_SIZE
        else:
            inner = times
        return cost + self.selection(named, node.selection_set, inner)

    def _skipped(self, node: FieldNode, definition: GraphQLField) -> int:
        """The price of an ``offset``: the rows the store reads and drops, ``OFFSET_ROWS`` to a
        node (a variable: the largest offset a list takes)."""
        if "offset" not in definition.args:
            return 0
        given = next((a.value for a in node.arguments or () if a.name.value == "offset"), None)
        if given is None:
            return 0
        rows = int(given.value) if isinstance(given, IntValueNode) else MAX_OFFSET
        return max(0, min(rows, MAX_OFFSET)) // OFFSET_ROWS

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        if not any(arg in definition.args for arg in _PAGE_ARGS):
            return None
        given = {a.name.value: a.value for a in node.arguments or ()}
        for arg in _PAGE_ARGS:
            value = given.get(arg)
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), self.max_page))
            if value is not None:
                return self.max_page  # a variable: the largest page it could ask for
        default = definition.args["first"].default_value if "first" in definition.args else None
        if isinstance(default, int) and default > 0:
            return min(default, self.max_page)
        return self.max_page


def _field(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def operation_cost(
    context: ValidationContext, operation: OperationDefinitionNode, max_page: int, stop_at: int
) -> int:
    schema = context.schema
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0
    return _Pricer(context, max_page, stop_at).selection(root, operation.selection_set, 1, False)


def cost_rule(max_cost: int, max_page: int) -> type[ValidationRule]:
    """A validation rule refusing each operation priced over ``max_cost``."""

    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = operation_cost(self.context, node, max_page, max_cost)
            if cost > max_cost:
                name = f" '{node.name.value}'" if node.name else ""
                self.report_error(
                    GraphQLError(
                        f"Operation{name} costs more than {max_cost} (the cost limit): lists "
                        "multiply by their `first`, analytic fields have a declared cost. Ask "
                        "for smaller pages or fewer nested lists.",
                        node,
                        extensions={"code": COST_LIMIT, "cost": cost, "limit": max_cost},
                    )
                )

    return CostLimit
