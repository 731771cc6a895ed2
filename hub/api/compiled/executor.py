"""Where compiled reads hook into execution: a graphql-core executor whose root fields of a
query, when they compile, answer from one statement (``hub.api.compiled.run``) instead of
resolving field by field. Parsing, validation, the schema's extensions, error stamping and
masking and HTTP handling run exactly as before: only the execution of the root field's value
changes.

``HUB_API_EXECUTION`` picks the mode: ``compiled`` (the default) answers compilable root fields
from their statement and falls back to the resolvers when the plan or its arguments are not
covered; ``resolvers`` never compiles; ``compare`` runs both and turns any difference into a
logged error and an INTERNAL error at the root field (the test suite runs this way).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, OperationType
from graphql.execution.values import VariableValues
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph_schema.errors import GraphQueryError, HubError
from hub.api import lists
from hub.api.compiled.plan import NotCompilable, Request, Root, root_plan
from hub.api.compiled.run import run_root
from hub.roles import Role
from hub.settings import ExecutionMode

log = logging.getLogger(__name__)


class CompiledMismatch(HubError):
    """Compare mode: compiled and resolver execution answered a root field differently."""

    code = "INTERNAL"


_PLANS = 512
_NONE = object()


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """The executor; ``executor_class`` makes one per mode and schema."""

    mode = ExecutionMode.COMPILED
    # (document text, operation, root response key, role, variables' shape) → plan or None.
    plans: OrderedDict[tuple[Any, ...], Root | None]

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        if (
            path.prev is None
            and self.operation.operation is OperationType.QUERY
            and self.mode is not ExecutionMode.RESOLVERS
            and getattr(self.context_value, "batching", False)
        ):
            planned = self._plan(parent_type, field_details_list, path)
            if planned is not None:
                root, request = planned
                if self.mode is ExecutionMode.COMPARE:
                    return self._compare(
                        root,
                        request,
                        parent_type,
                        source,
                        field_details_list,
                        path,
                        position_context,
                    )
                return self._compiled(
                    root,
                    request,
                    parent_type,
                    source,
                    field_details_list,
                    path,
                    position_context,
                )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    # --- plans ---------------------------------------------------------------------------------

    def _request(self) -> Request:
        variables = self.variable_values
        if not isinstance(variables, VariableValues):
            variables = VariableValues(sources={}, coerced=dict(variables))
        surface: lists.Surface = self.strawberry_schema.surface
        return Request(self.schema, surface, self.fragment_definitions, variables)

    def _plan(
        self, parent_type: GraphQLObjectType, field_details_list: Any, path: Path
    ) -> tuple[Root, Request] | None:
        details = field_details_list[0]
        if getattr(details, "fragment_variable_values", None) is not None:
            return None
        loc = self.operation.loc
        if loc is None:
            return None
        variables = self.variable_values
        coerced = variables.coerced if isinstance(variables, VariableValues) else variables
        key = (
            loc.source.body,
            loc.start,
            path.key,
            getattr(self.context_value, "role", Role.ANONYMOUS),
            _shape(coerced),
        )
        cached = self.plans.get(key, _NONE)
        request = self._request()
        if cached is _NONE:
            nodes = [d.node for d in field_details_list]
            try:
                cached = root_plan(request, parent_type, nodes)
            except NotCompilable as exc:
                log.debug("root field %s runs its resolvers: %s", path.key, exc)
                cached = None
            self.plans[key] = cached
            if len(self.plans) > _PLANS:
                self.plans.popitem(last=False)
        assert cached is not _NONE
        return None if cached is None else (cached, request)  # type: ignore[return-value]

    # --- execution -----------------------------------------------------------------------------

    async def _resolved(
        self, parent_type: Any, source: Any, field_details_list: Any, path: Path, position: Any
    ) -> Any:
        result = super().execute_field(parent_type, source, field_details_list, path, position)
        if self.is_awaitable(result):
            return await result
        return result

    async def _compiled(
        self,
        root: Root,
        request: Request,
        parent_type: Any,
        source: Any,
        field_details_list: Any,
        path: Path,
        position: Any,
    ) -> Any:
        try:
            return await run_root(self.context_value, request, self.strawberry_schema, root)
        except GraphQueryError as exc:
            # The store refused the compiled statement: a compiler bug, answered correctly by
            # the resolvers but worth a look.
            log.warning("compiled %s refused by the store, resolvers answer: %s", path.key, exc)
        except (NotCompilable, HubError) as exc:
            # Invalid arguments, a store that failed, a required link missing: the resolvers
            # answer, so errors appear exactly where and as they always have.
            log.debug("compiled %s fell back to its resolvers: %r", path.key, exc)
        except Exception:  # e.g. a stored record that from_props refuses
            # The resolvers meet the same data and report it at the field it belongs to (an
            # escaping exception here would null the whole operation instead).
            log.warning("compiled %s failed, resolvers answer", path.key, exc_info=True)
        return await self._resolved(parent_type, source, field_details_list, path, position)

    async def _compare(
        self,
        root: Root,
        request: Request,
        parent_type: Any,
        source: Any,
        field_details_list: Any,
        path: Path,
        position: Any,
    ) -> Any:
        compiled: Any = _NONE
        failure: BaseException | None = None
        try:
            compiled = await run_root(self.context_value, request, self.strawberry_schema, root)
        except GraphQueryError as exc:  # the store refused the compiled statement
            failure = exc
        except (NotCompilable, HubError) as exc:
            log.debug("compiled %s fell back to its resolvers: %r", path.key, exc)
        except Exception as exc:  # noqa: BLE001 - a compiler bug, reported below
            failure = exc
        before = len(self.collected_errors.errors)
        resolved = await self._resolved(parent_type, source, field_details_list, path, position)
        if compiled is _NONE and failure is None:
            return resolved
        errors = self.collected_errors.errors[before:]
        if failure is None and not errors and compiled == resolved:
            log.debug("compiled %s agrees with its resolvers", path.key)
            return resolved
        log.error(
            "compiled and resolver execution differ at %s: compiled %r (%r), resolvers %r "
            "(errors %s)",
            path.key,
            compiled if compiled is not _NONE else None,
            failure,
            resolved,
            [e.message for e in errors],
        )
        mismatch = CompiledMismatch(f"compiled execution of {path.key} differs")
        self.handle_field_error(
            GraphQLError(mismatch.args[0], original_error=mismatch),
            root.field.type,
            field_details_list,
            path,
        )
        return None

    @property
    def strawberry_schema(self) -> Any:
        return self.schema._strawberry_schema  # type: ignore[attr-defined]


def _shape(value: Any) -> Any:
    """What of the variables' values a plan depends on: booleans (``@skip``/``@include``) by
    value, everything else by whether it is null."""
    if isinstance(value, dict):
        return tuple(sorted((k, _shape(v)) for k, v in value.items()))
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    if isinstance(value, list):
        return ("list", len(value))
    return type(value).__name__


def executor_class(mode: ExecutionMode) -> type[CompiledExecutor]:
    """An executor class of its own (its plan cache with it) for one schema."""
    return type(
        "CompiledExecutor",
        (CompiledExecutor,),
        {"mode": mode, "plans": OrderedDict()},
    )


__all__ = ["CompiledExecutor", "CompiledMismatch", "ExecutionMode", "executor_class"]
