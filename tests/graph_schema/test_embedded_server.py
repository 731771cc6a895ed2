"""The embedded FalkorDB process is ready when it answers, not when its socket file appears."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import redis

from graph_schema.falkordb_server import EmbeddedServer


def test_start_returns_only_after_the_data_is_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = EmbeddedServer(tmp_path / "g")
    server.start()
    try:
        client = redis.Redis(unix_socket_path=str(server.socket_path))
        # About 60 MB in memory: Redis takes a second or more to load it again, and while
        # it loads it accepts connections and answers LOADING.
        pipe = client.pipeline(transaction=False)
        for start in range(0, 1_000_000, 1000):
            pipe.mset({f"k{i}": "x" * 20 for i in range(start, start + 1000)})
            if start % 100_000 == 0:
                pipe.execute()
        pipe.execute()
        client.close()
    finally:
        server.stop()

    with caplog.at_level(logging.INFO, logger="graph_schema.falkordb_server"):
        server.start()
    try:
        client = redis.Redis(unix_socket_path=str(server.socket_path))
        # The first command after start: no BusyLoadingError, no ConnectionError.
        assert client.dbsize() == 1_000_000
        client.close()
    finally:
        server.stop()
    assert "is loading its data" in caplog.text  # the wait was exercised, not skipped
    assert "loaded in" in caplog.text
