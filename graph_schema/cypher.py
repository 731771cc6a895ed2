"""Cypher statements as values: a name for metrics and errors, the text, and whether it writes.

The store ports accept only ``Statement`` objects, never bare strings, so every statement the hub
sends is built here, in ``graph_schema``, from constants of the model and parameters, never from
input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def identifier(name: str) -> str:
    """A label, type or property name from the model, checked so it can never carry syntax."""
    if not _IDENTIFIER_RE.match(name):
        raise ValueError(f"{name!r} is not a plain Cypher identifier")
    return name


@dataclass(frozen=True, slots=True)
class Statement:
    """One parameterized Cypher statement."""

    name: str
    text: str
    write: bool = False
    params: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", frozenset(_PARAM_RE.findall(self.text)))
