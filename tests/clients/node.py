"""Running the npm clients of tests/clients (installed by scripts/build-clients, which `make test`
runs first): Node scripts and the packages' own commands, from this directory, so that they
resolve its node_modules."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

CLIENTS = Path(__file__).resolve().parent
MODULES = CLIENTS / "node_modules"
ROOT = CLIENTS.parents[1]


def node() -> str:
    """The node binary, once the packages are installed; otherwise the test fails saying how
    to install them (never a skip: CI must run these)."""
    found = shutil.which("node")
    if found is None:
        raise AssertionError("node is not installed (Debian: apt-get install nodejs npm)")
    if not (MODULES / ".lock-sha256").is_file():
        raise AssertionError(
            f"{MODULES} is not installed: run scripts/build-clients (make clients)"
        )
    return found


def tool(name: str) -> str:
    """An installed package's command (node_modules/.bin/<name>)."""
    node()
    return str(MODULES / ".bin" / name)


def run(args: list[str], *, cwd: Path = CLIENTS, timeout: float = 300) -> str:
    """Run a command to completion and return its stdout; a failure shows both streams."""
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}\n--- stdout\n{done.stdout}\n"
        f"--- stderr\n{done.stderr}"
    )
    return done.stdout


async def run_async(args: list[str], *, cwd: Path = CLIENTS, timeout: float = 300) -> str:
    """:func:`run` without blocking the event loop (for a hub served in this process)."""
    process = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.CancelledError:  # the test gave up on it: never leave it running
        process.kill()
        await process.wait()
        raise
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(
            f"{' '.join(args)} did not finish in {timeout:.0f} s\n--- stdout\n{out.decode()}\n"
            f"--- stderr\n{err.decode()}"
        ) from None
    assert process.returncode == 0, (
        f"{' '.join(args)} exited {process.returncode}\n--- stdout\n{out.decode()}\n"
        f"--- stderr\n{err.decode()}"
    )
    return out.decode()
