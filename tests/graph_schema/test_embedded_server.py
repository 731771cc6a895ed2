"""The embedded FalkorDB process is ready when it answers PING, not when its socket file appears.

Redis binds its Unix socket a moment before it listens, and once listening answers ``-LOADING``
until its data is in memory; both windows are too short to hit on purpose with the real server,
so the probe that start() waits on is checked against a Unix socket in each of those states."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_schema.falkordb_server import EmbeddedServer


@contextlib.contextmanager
def _answering(path: Path, reply: bytes | None) -> Iterator[None]:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(64)
                if reply is not None:
                    conn.sendall(reply)
                else:
                    stop.wait(3)  # accepted, but busy: never answers within the probe's time

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (b"+PONG\r\n", "ready"),
        (b"-LOADING Redis is loading the dataset in memory\r\n", "loading"),
        (None, "loading"),
        (b"-ERR unknown\r\n", "refused"),
    ],
)
def test_probe_reads_the_server_state_from_its_answer(
    tmp_path: Path, reply: bytes | None, state: str
) -> None:
    server = EmbeddedServer(tmp_path)
    with _answering(server.socket_path, reply):
        assert server._probe() == state


def test_probe_tells_a_missing_socket_from_one_not_listening(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    assert server._probe() == "absent"
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound.bind(str(server.socket_path))  # the file exists, nobody listens: Connection refused
    try:
        assert server._probe() == "refused"
    finally:
        bound.close()


def test_start_waits_for_a_real_server_to_answer(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "g")
    server.start()
    try:
        assert server._probe() == "ready"
    finally:
        server.stop()
