"""Supervision cases a page at a time (``supervisionCasesConnection``).

Apart from ``hub.api.supervision`` because the page type comes from ``hub.api.pages``, which
imports the mutations and through them the entity types, while ``Project`` imports
``hub.api.supervision`` for its cases: one module for both would close an import circle.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph_schema.errors import InvalidInput
from hub.api.access import MONITORING_READERS, allow
from hub.api.alerts import Ctx, _now
from hub.api.enums import SortDirection
from hub.api.pages import ListPage
from hub.api.paging import args
from hub.api.relay import _W, After, Before, First, Last
from hub.api.supervision import (
    _CASE_SORT,
    SupervisionCase,
    SupervisionCaseSort,
    SupervisionCaseWhere,
    _cases,
)


@strawberry.type(description="A page of supervision cases (Relay cursor connection).")
class SupervisionCaseConnection(ListPage[SupervisionCase]):
    pass


@strawberry.type
class SupervisionCaseListQuery:
    @strawberry.field(
        description="Supervision cases, a page at a time (default: newest first; not for the "
        "bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def supervision_cases_connection(
        self,
        info: Ctx,
        where: Annotated[SupervisionCaseWhere | None, strawberry.argument(description=_W)] = None,
        sort: Annotated[
            list[SupervisionCaseSort] | None,
            strawberry.argument(description="One sort key (default: openedAt, newest first)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> SupervisionCaseConnection:
        found = await _cases(info, where or SupervisionCaseWhere())
        name, descending = "opened_at", True
        if sort:
            if len(sort) > 1:
                raise InvalidInput("sort: cases sort on one key (ties break on the case id)")
            name, descending = str(sort[0].field.value), sort[0].direction is SortDirection.DESC
        value = _CASE_SORT[name]
        found.sort(key=lambda c: (value(c), c.id), reverse=descending)
        now = _now(info)
        return SupervisionCaseConnection.of(
            info.context,
            f"supervisionCases|{name}|{descending}",
            found,
            lambda c: c.id,
            lambda c: SupervisionCase.of(c, now),
            args(first, after, last, before),
        )
