"""FalkorDB's compact reply read into rows without the client's per-value coroutines.

``falkordb.asyncio.QueryResult`` awaits one coroutine per value (``parse_scalar`` and the
parser it dispatches to), about 1,500 of them for a page of 50 projects with their owner,
region and segments. A read reply made only of nulls, strings, integers, booleans, doubles,
arrays, maps and points needs no graph schema, so it is read here in plain loops with the
same results as the client's parsers (maps are plain dicts, in the same order, where the client
builds OrderedDicts). A reply holding anything else (nodes, edges, paths,
temporal values, vectors) or an error returns ``None``, and the caller hands it to the
client's own parser, which also refreshes its schema on a version mismatch.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

from graph_schema.store import Row

# The compact format's value types (falkordb.asyncio.query_result.PARSE_SCALAR_TYPES).
_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY, _MAP, _POINT = 1, 2, 3, 4, 5, 6, 10, 11


class _Other(Exception):
    """A value the client's parser must read (it needs the graph schema or a library type)."""


def rows(response: Any) -> list[Row] | None:
    """The rows of a ``GRAPH.RO_QUERY ... --compact`` reply, or ``None`` when the client's
    ``QueryResult`` must parse it."""
    if not isinstance(response, list) or not response:
        return None
    if isinstance(response[0], ResponseError) or isinstance(response[-1], ResponseError):
        return None
    if len(response) == 1:
        return []  # statistics only
    header = [column[1] if isinstance(column, list) else column for column in response[0]]
    if not header:
        return []
    try:
        return [
            dict(zip(header, [_value(cell) for cell in record], strict=True))
            for record in response[1]
        ]
    except _Other:
        return None


def _value(cell: Any) -> Any:
    kind = int(cell[0])
    value = cell[1]
    if kind == _STRING:
        if isinstance(value, str):
            return value
        return value.decode() if isinstance(value, bytes) else str(value)
    if kind == _INTEGER:
        return int(value)
    if kind == _NULL:
        return None
    if kind == _ARRAY:
        return [_value(item) for item in value]
    if kind == _DOUBLE:
        return float(value)
    if kind == _BOOLEAN:
        return (value.decode() if isinstance(value, bytes) else value) == "true"
    if kind == _MAP:
        found: dict[str, Any] = {}
        for i in range(0, len(value), 2):
            key = value[i]
            if not isinstance(key, str):
                key = key.decode() if isinstance(key, bytes) else str(key)
            found[key] = _value(value[i + 1])
        return found
    if kind == _POINT:
        return {"latitude": float(value[0]), "longitude": float(value[1])}
    raise _Other(kind)
