"""What the quick mode of the benchmarks shares (``python -m bench --quick``): the tiny data,
generated once per process, and the check that fails a quick run on a wrong answer."""

from __future__ import annotations

import dataclasses
import functools

import redis.asyncio as redis_asyncio

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.store import GraphStore
from hub.demo import Scale, generate
from hub.demo.generator import DemoData
from hub.seed import seed_demo


class WrongAnswer(Exception):
    """A benchmark got an answer that is not the right one: it is broken, whatever its figures."""


def check(ok: bool, what: str) -> None:
    """Raise ``WrongAnswer`` saying ``what`` was expected unless ``ok``."""
    if not ok:
        raise WrongAnswer(what)


@functools.cache
def _demo() -> DemoData:
    return generate(Scale.DEMO)


@functools.cache
def _tiny() -> DemoData:
    # Four fifths of the demo records are statistics (indicator values, chain statistics) that
    # only the analytics read; nothing else refers to them.
    return dataclasses.replace(_demo(), indicator_value=(), indicator_target=(), chain_stat=())


def province(quick: bool, *, statistics: bool = False) -> DemoData:
    """The hubei-scale province, or for a quick run the demo one (924 projects, 2,000
    enterprises, 3,537 sensors), without its statistics unless ``statistics``; generated once
    per process and shared by every quick benchmark."""
    if not quick:
        return generate(Scale.HUBEI)
    return _demo() if statistics else _tiny()


# DUMPs of the graphs seeded in this process, by the data seeded
_dumps: dict[int, bytes] = {}


async def seed(store: GraphStore, data: DemoData, *, quick: bool, batch_size: int = 5000) -> None:
    """``seed_demo(store, ..., data=data)``. In a quick run on FalkorDB the first seeding of
    ``data`` in this process is kept as a ``DUMP`` of the graph and later ones ``RESTORE`` it:
    the same graph, indexes and schema version included, without loading it again (the quick
    benchmarks check what they measure, not the loader, which ``load_hubei`` and the suite
    check)."""
    socket = store._socket_path if isinstance(store, FalkorDBStore) else None
    if quick and socket is not None:
        assert isinstance(store, FalkorDBStore)
        # The store's own client decodes replies as text; a DUMP is bytes.
        raw = redis_asyncio.Redis(unix_socket_path=str(socket), decode_responses=False)
        try:
            cached = _dumps.get(id(data))
            if cached is not None:
                await raw.restore(store._graph_name, 0, cached, replace=True)
                return
            await seed_demo(store, "demo", batch_size=batch_size, data=data)
            dump = await raw.dump(store._graph_name)
            check(dump is not None, "a DUMP of the seeded graph")
            assert dump is not None
            _dumps[id(data)] = dump
            return
        finally:
            await raw.aclose()
    await seed_demo(store, "hubei", batch_size=batch_size, data=data)
