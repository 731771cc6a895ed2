"""Sums of money as the hub serves them."""

from __future__ import annotations


def to_the_yuan(wan: float) -> float:
    """A sum of 万元 amounts, to the yuan (4 decimals). Each store adds in the order it meets
    the rows, and that order differs between stores: the last bits of a float sum differ with
    it (547633.7000000001 on FalkorDB, 547633.7 on Neo4j for the same enterprises). Rounded,
    both stores answer alike, and rates computed from the sums agree too."""
    return round(wan, 4)
