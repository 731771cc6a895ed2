"""JSON as the hub writes it on the wire: UTF-8, no ``\\uXXXX`` escapes, no spaces.

orjson writes the same JSON values as ``json.dumps``: floats as the shortest text that reads
back the same, which differs in form only for small magnitudes (``0.000015`` where json writes
``1.5e-05``, ``1e-7`` for ``1e-07``); NaN and infinities, which GraphQL's Float never carries,
as ``null``. Chinese text takes a third less, and encoding is several times faster. A value
orjson refuses (an integer over 64 bits in a JSON scalar) falls back to ``json.dumps``, so no
answer that was written before fails now.
"""

from __future__ import annotations

import json

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(data: object) -> bytes:
    try:
        return orjson.dumps(data, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
