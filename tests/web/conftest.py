"""Fixtures for the web console's tests: a real `hub demo` (its own data dir, HTTP and broker
ports) started once per module, and Debian's Chromium driven by Playwright (headless; never a
browser Playwright downloads). Screenshots go to $HUB_TEST_ARTIFACTS/web, by default
tests/artifacts/web (gitignored)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CONSOLE = ROOT / "hub" / "web" / "dist" / "index.html"


def artifacts() -> Path:
    base = Path(os.environ.get("HUB_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    path = base / "web"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Demo:
    url: str
    broker_port: int
    keys: dict[str, str]
    log: Path

    def query(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(
            f"{self.url}graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=180) as response:
            body: dict[str, Any] = json.loads(response.read())
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def _stop(process: subprocess.Popen[bytes]) -> None:
    # `hub demo` can hang on shutdown (a known issue): SIGTERM, then SIGKILL after 20 s.
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not CONSOLE.is_file():
        pytest.fail(f"the web console is not built ({CONSOLE} is missing): run scripts/build-web")
    tmp = tmp_path_factory.mktemp("console-demo")
    port, broker = _free_port(), _free_port()
    log = tmp / "hub.log"
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(tmp / "data"),
        "HUB_HTTP_PORT": str(port),
        "HUB_LOG_LEVEL": "WARNING",
        # The subprocess imports this checkout's code, whatever the installed package points at.
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    env.pop("HUB_MQTT_URL", None)  # the demo starts its own broker only without one
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "demo", "--broker-port", str(broker)],
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 600  # a ceiling: idle, the demo serves in well under 60 s
        while True:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.25)
        keys = json.loads((tmp / "data" / "demo-keys.json").read_text(encoding="utf-8"))
        yield Demo(f"http://127.0.0.1:{port}/", broker, keys, log)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI has no /usr/bin/chromium: .ci/run installs Debian's chromium")
        pytest.skip("no /usr/bin/chromium (Debian package chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()
