"""The README's first command, end to end: `hub demo` seeds once, serves, and keeps its data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _query(port: int, query: str, *, key: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers=headers,
    )
    # A ceiling, not a speed target: under a loaded CI a first query after start took over 10 s.
    with urllib.request.urlopen(request, timeout=60) as response:
        body: dict[str, Any] = json.loads(response.read())
        return body


def _start(tmp_path: Path, port: int, log: Path, broker: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_HTTP_PORT": str(port),
        "HUB_LOG_LEVEL": "WARNING",
    }
    env.pop("HUB_MQTT_URL", None)  # the demo starts its own broker only without one
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "demo", "--broker-port", str(broker)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path, limit: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"not ready after {limit} s: {log.read_text(encoding='utf-8')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0


STATUS = "{ ingestStatus { brokerConnected stored deadLettered liveSubscribers } }"


def _feeds_flow(port: int, limit: float = 300) -> dict[str, Any]:
    """Wait until the simulator's readings are stored and a malformed message is dead-lettered
    (a ceiling, not a speed target: idle, they flow within seconds)."""
    deadline = time.monotonic() + limit
    while True:
        status: dict[str, Any] = _query(port, STATUS)["data"]["ingestStatus"]
        if status["brokerConnected"] and status["stored"] > 0 and status["deadLettered"] > 0:
            return status
        assert time.monotonic() < deadline, f"the demo feeds do not flow: {status}"
        time.sleep(0.5)


# Readiness waits have ceilings ten times the idle figures (tens of seconds to seed and serve);
# the time taken is printed. How fast the demo starts is bench/'s business, not a test's.
@pytest.mark.slow
@pytest.mark.timing
def test_demo_serves_and_restarts_without_reseeding(tmp_path: Path) -> None:
    port, broker = _free_port(), _free_port()
    first_log = tmp_path / "first.log"
    first = _start(tmp_path, port, first_log, broker)
    try:
        took = _wait_ready(first, port, first_log, 900)
        print(f"first demo start (seeding) ready after {took:.1f} s")
        body = _query(
            port,
            "{ regions(where: {level: CITY}) { totalCount } industryChains { totalCount } }",
        )
        assert body["data"]["regions"]["totalCount"] == 11
        assert body["data"]["industryChains"]["totalCount"] >= 4
        # The embedded broker and the simulator: readings stored, bad messages dead-lettered.
        _feeds_flow(port)
        # One key per role, printed and kept for the demo: the operator's may write, a
        # viewer (anonymous) may not.
        keys = json.loads((tmp_path / "data" / "demo-keys.json").read_text(encoding="utf-8"))
        assert set(keys) == {"viewer", "promoter", "monitor", "bank", "operator", "admin"}
        write = "mutation { replayDeadLetters(code: KIND_MISMATCH) { stored } }"
        assert _query(port, write)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        done = _query(port, write, key=keys["operator"])
        assert done["data"]["replayDeadLetters"]["stored"] == 0
    finally:
        _stop(first)
    output = first_log.read_text(encoding="utf-8")
    assert f"GraphQL endpoint: http://127.0.0.1:{port}/graphql" in output
    assert "import summary" in output
    assert "demo API keys" in output

    second_log = tmp_path / "second.log"
    second = _start(tmp_path, port, second_log, broker)
    try:
        took = _wait_ready(second, port, second_log, 300)
        print(f"second demo start (no reseeding) ready after {took:.1f} s")
        body = _query(port, "{ regions(where: {level: CITY}) { totalCount } }")
        assert body["data"]["regions"]["totalCount"] == 11
        _feeds_flow(port)
    finally:
        _stop(second)
    output = second_log.read_text(encoding="utf-8")
    assert "already present; not reseeding" in output
    assert "import summary" not in output
