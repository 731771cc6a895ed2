"""What the city scoreboard counts, as filters of the project node set, and its statements.

Each figure of the scoreboard is a set of projects: the list's projects in a city, narrowed
by dates. Every set is written as filters of ``reads.NODE_SETS["project"]``, so the figure
(an aggregate grouped by city) and its drill-down (a page of the same list in one city) are
built from the same conditions and cannot disagree.

Lists: the built-in ones are conditions on project properties; any other id names a stored
``(:ProjectList)-[:INCLUDES]->(:Project)`` list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect
from graph_schema.model import BUILT_IN_PROJECT_LISTS
from graph_schema.statements import reads

# Built-in list → filters (names of the project node set) and their values.
BUILT_IN: Final[Mapping[str, Mapping[str, Any]]] = {
    "all": {},
    "leaders": {"leader_project": True},
    "provincial": {"level": ["provincial"]},
    "city": {"level": ["city"]},
    "county": {"level": ["county"]},
}
assert tuple(BUILT_IN) == BUILT_IN_PROJECT_LISTS


class Figure(StrEnum):
    DUE = "due"  # due to start in the period
    LANDED = "landed"  # due, and started by its end
    NOT_LANDED = "not_landed"  # due, and not started by its end
    PLANNED = "planned"  # every project of the list (the completion basis)


def list_filters(list_id: str) -> dict[str, Any]:
    """The filters that select the projects of a list."""
    if list_id in BUILT_IN:
        return dict(BUILT_IN[list_id])
    return {"on_list": list_id}


def figure_filters(
    figure: Figure, start: dt.date, end: dt.date, *, cumulative: bool
) -> dict[str, Any]:
    """The date conditions of a figure for the period ``start``..``end`` (ISO values).

    Due: planned to start within the period (``cumulative``: on or before its end).
    Landed: due, with an actual start on or before the period's end (an early start counts).
    """
    if figure is Figure.PLANNED:
        return {}
    out: dict[str, Any] = {"planned_start_max": end.isoformat()}
    if not cumulative:
        out["planned_start_min"] = start.isoformat()
    if figure is Figure.LANDED:
        out["actual_start_max"] = end.isoformat()
    elif figure is Figure.NOT_LANDED:
        out["not_started_by"] = end.isoformat()
    return out


def aggregate_by_city(filters: tuple[str, ...], dialect: Dialect) -> Statement:
    """Count and investment sums of the projects matching ``filters``, one row per city
    (``group_key``), with ``$g_level`` = ``'city'``."""
    return reads.aggregate("project", filters, dialect, "region")


CITIES = Statement(
    "scoreboard.cities",
    "MATCH (c:Region {level: $level}) RETURN c.code AS code, c.name AS name ORDER BY code",
)
CITIES_WITHIN = Statement(
    "scoreboard.cities_within",
    "MATCH (w:Region {code: $within}) MATCH (w)<-[:PART_OF*0..1]-(c:Region {level: $level}) "
    "RETURN c.code AS code, c.name AS name ORDER BY code",
)


def _shapes() -> list[tuple[str, ...]]:
    """The filter sets the scoreboard sends, for linting: per list, its own filters alone
    and with every period and region condition a figure can add.

    Every figure's statement is the list's filters plus a subset of those conditions, each a
    fragment of ``reads``' project filters joined by AND (``reads.catalog`` lints them all
    together as well), so the two ends of each list cover the 14 combinations between them
    without the Neo4j linter paying ~1 s for each of them.
    """
    out: list[tuple[str, ...]] = []
    day = dt.date(2000, 1, 1)
    for list_id in (*BUILT_IN, "custom"):
        every: dict[str, Any] = {"region": "330000"}
        for figure in Figure:
            for cumulative in (False, True):
                every |= figure_filters(figure, day, day, cumulative=cumulative)
        out.append(tuple(sorted(list_filters(list_id))))
        out.append(tuple(sorted({**list_filters(list_id), **every})))
    return list(dict.fromkeys(out))


def catalog(dialect: Dialect) -> list[Statement]:
    """Every statement the scoreboard sends: its own two and the aggregate's shapes."""
    return [CITIES, CITIES_WITHIN, *(aggregate_by_city(s, dialect) for s in _shapes())]
