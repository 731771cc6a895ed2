"""Partial upserts at the API's edge: which input fields were sent, and problems named as the
schema spells them.

An upsert input's fields other than its key default to ``UNSET``: a field the client left out
stays unchanged, an explicit null clears it (``graph_schema.patch`` merges and writes). Item
errors name fields the way the schema does (``plannedStart``, not ``planned_start``), in the
field path and in the message, so a form can put each message beside its input.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from functools import cache
from typing import Any, Final, get_args

from pydantic import BaseModel
from strawberry import UNSET
from strawberry.utils.str_converters import to_camel_case

from hub.api.inputs import plain

INPUT: Final = (
    " Partial: a field left out keeps its stored value, an explicit null clears it, and a "
    "list of links (ids) becomes exactly those links ([] or null: none). Creating an object "
    "needs its required fields (marked so); an item without them is rejected naming them."
)
MUTATION: Final = (
    " Partial updates: fields left out of an item are unchanged, explicit nulls clear them "
    "(see the input type)."
)
REQUIRED: Final = " Required to create one."


def sent(item: Any) -> dict[str, Any]:
    """The fields of an input object the client sent (null included), as the model takes
    them (enum values, ISO dates, nested inputs as maps)."""
    return {
        f.name: plain(getattr(item, f.name))
        for f in dataclasses.fields(item)
        if getattr(item, f.name) is not UNSET
    }


_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def schema_path(field: str) -> str:
    """A dotted model field path as the schema spells it: ``camera.dark_luma`` ->
    ``camera.darkLuma`` (list positions stay numbers)."""
    return ".".join(to_camel_case(part) for part in field.split("."))


@cache
def field_names(model: type[BaseModel]) -> frozenset[str]:
    """The field names of ``model`` and of the models nested in it (a sensor's camera)."""
    names = set(model.model_fields)
    for f in model.model_fields.values():
        for t in (f.annotation, *get_args(f.annotation)):
            if isinstance(t, type) and issubclass(t, BaseModel):
                names |= field_names(t)
    return frozenset(names)


def schema_message(message: str, names: Collection[str]) -> str:
    """``message`` with each of the model field ``names`` in it spelt as the schema does."""
    return _SNAKE.sub(lambda m: to_camel_case(m[0]) if m[0] in names else m[0], message)
