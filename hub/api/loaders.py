"""Batch loading: every statement that takes ``$keys`` is run once per request tick for all the
keys the resolvers asked for (Strawberry's DataLoader), so a page of N parents costs one round
trip per related field, not N."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from strawberry.dataloader import DataLoader

from graph_schema.cypher import Statement
from graph_schema.store import GraphStore, Row


class Loaders:
    def __init__(self, store: GraphStore, *, batching: bool = True) -> None:
        self._store = store
        self._batching = batching
        self._loaders: dict[tuple[str, str, str], DataLoader[str, list[Row]]] = {}

    def rows(self, statement: Statement, params: dict[str, Any]) -> DataLoader[str, list[Row]]:
        """The loader of ``statement`` with these other parameters: key → rows with that key."""
        ident = (statement.name, statement.text, _freeze(params))
        loader = self._loaders.get(ident)
        if loader is None:
            store = self._store

            async def load(keys: list[str]) -> list[list[Row]]:
                found = await store.run(statement, {**params, "keys": keys})
                grouped: dict[str, list[Row]] = defaultdict(list)
                for row in found:
                    grouped[row["key"]].append(row)
                return [grouped.get(key, []) for key in keys]

            if self._batching:
                loader = DataLoader(load)
            else:
                loader = DataLoader(load, max_batch_size=1, cache=False)
            self._loaders[ident] = loader
        return loader

    @property
    def statements(self) -> frozenset[str]:
        """Names of the statements this request has sent through a loader."""
        return frozenset(name for name, _, _ in self._loaders)

    async def one(self, statement: Statement, params: dict[str, Any], key: str) -> Row | None:
        rows = await self.rows(statement, params).load(key)
        return rows[0] if rows else None


def _freeze(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)
