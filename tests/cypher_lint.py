"""Lint Cypher statements with Neo4j's own parser and semantic analysis, offline.

Thin wrapper over ``tools/cypher-lint/lint.mjs`` (npm package
``@neo4j-cypher/language-support``, pinned in ``tools/cypher-lint/package.json``).
All statements are linted by ONE node process: the analysis has about a second
of warm-up and then costs roughly 30 ms per statement, so batch them.

Schema declarations follow the package: a declared parameter is never reported
as undefined, an undeclared one is an error. Labels and relationship types are
only checked when at least one of ``labels``/``relationship_types`` is given
(then both lists are taken as complete); property keys only when
``property_keys`` is given. With nothing declared there are no "not present in
the database" warnings at all.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOL_DIR = REPO_ROOT / "tools" / "cypher-lint"
LINT_SCRIPT = TOOL_DIR / "lint.mjs"
PACKAGE = "@neo4j-cypher/language-support"
MIN_NODE_MAJOR = 20
INSTALL_TIMEOUT_S = 600.0
DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class LintDiagnostic:
    """One diagnostic for one statement; positions are None when not reported.

    ``offset``/``end_offset`` are 0-based character offsets into the query,
    ``line``/``column`` are 1-based.
    """

    statement: str
    severity: str
    message: str
    offset: int | None = None
    end_offset: int | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f":{self.line}:{self.column}" if self.line is not None else ""
        return f"{self.statement}{where}: {self.severity}: {self.message}"


def format_diagnostics(diagnostics: Sequence[LintDiagnostic]) -> str:
    """One diagnostic per line, for assertion messages."""
    return "\n".join(str(d) for d in diagnostics) or "(no diagnostics)"


def node_available() -> bool:
    """True when ``node`` (major version >= 20) and ``npm`` are on PATH."""
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        return False
    try:
        done = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    match = re.match(r"v(\d+)\.", done.stdout.strip())
    return done.returncode == 0 and match is not None and int(match.group(1)) >= MIN_NODE_MAJOR


def _pinned_version() -> str:
    manifest: Any = json.loads((TOOL_DIR / "package.json").read_text(encoding="utf-8"))
    version = manifest["dependencies"][PACKAGE]
    if not isinstance(version, str):
        raise RuntimeError(f"{TOOL_DIR / 'package.json'}: {PACKAGE} is not pinned to a version")
    return version


def _installed_version() -> str | None:
    manifest_path = TOOL_DIR / "node_modules" / PACKAGE / "package.json"
    try:
        manifest: Any = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


@contextmanager
def _install_lock() -> Iterator[None]:
    """Serialise ``npm ci`` between concurrent test processes (e.g. pytest-xdist)."""
    key = hashlib.sha256(str(TOOL_DIR).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"cypher-lint-{key}.lock"
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed() -> Path:
    """Install the linter's npm dependencies if missing or stale; return the tool dir.

    Runs ``npm ci --no-audit --no-fund`` in ``tools/cypher-lint`` (from the
    committed lock file). Raises RuntimeError with the reason on failure.
    """
    if not node_available():
        raise RuntimeError(
            f"cypher-lint needs node >= {MIN_NODE_MAJOR} and npm on PATH (tool: {TOOL_DIR})"
        )
    if not LINT_SCRIPT.is_file():
        raise RuntimeError(f"cypher-lint script missing: {LINT_SCRIPT}")
    wanted = _pinned_version()
    if _installed_version() == wanted:
        return TOOL_DIR
    with _install_lock():
        if _installed_version() == wanted:
            return TOOL_DIR
        npm = shutil.which("npm") or "npm"
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=TOOL_DIR,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"`npm ci` in {TOOL_DIR} did not run: {exc}") from exc
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip()[-4000:]
            raise RuntimeError(
                f"`npm ci --no-audit --no-fund` in {TOOL_DIR} failed "
                f"(exit {done.returncode}):\n{tail}"
            )
        installed = _installed_version()
        if installed != wanted:
            raise RuntimeError(
                f"`npm ci` in {TOOL_DIR} left {PACKAGE} at {installed!r}, expected {wanted}"
            )
    return TOOL_DIR


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _parse_output(stdout: str, names: Sequence[str]) -> list[LintDiagnostic]:
    try:
        data: Any = json.loads(stdout)
    except ValueError as exc:
        raise RuntimeError(f"cypher-lint printed no JSON: {stdout[:2000]!r}") from exc
    if not isinstance(data, list) or len(data) != len(names):
        raise RuntimeError(
            f"cypher-lint returned {type(data).__name__} for {len(names)} statements"
        )
    diagnostics: list[LintDiagnostic] = []
    for name, entry in zip(names, data, strict=True):
        if not isinstance(entry, dict) or entry.get("name") != name:
            raise RuntimeError(f"cypher-lint output out of order at statement {name!r}")
        items = entry.get("diagnostics")
        if not isinstance(items, list):
            raise RuntimeError(f"cypher-lint output has no diagnostics list for {name!r}")
        for item in items:
            if not isinstance(item, dict):
                raise RuntimeError(f"cypher-lint output: bad diagnostic for {name!r}")
            severity, message = item.get("severity"), item.get("message")
            if not isinstance(severity, str) or not isinstance(message, str):
                raise RuntimeError(f"cypher-lint output: bad diagnostic for {name!r}")
            diagnostics.append(
                LintDiagnostic(
                    statement=name,
                    severity=severity,
                    message=message,
                    offset=_opt_int(item.get("offset")),
                    end_offset=_opt_int(item.get("endOffset")),
                    line=_opt_int(item.get("line")),
                    column=_opt_int(item.get("column")),
                )
            )
    return diagnostics


def lint_cypher(
    statements: Sequence[tuple[str, str, Sequence[str]]],
    *,
    labels: Sequence[str] = (),
    relationship_types: Sequence[str] = (),
    property_keys: Sequence[str] = (),
    check_functions: bool = False,
    check_procedures: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[LintDiagnostic]:
    """Lint ``(name, query, declared_params)`` triples; return every diagnostic.

    Errors and warnings alike are returned, in statement order. With
    ``check_functions``/``check_procedures`` unknown function/procedure names
    are errors, judged against the Neo4j 5 (+APOC/GDS) registry shipped with
    the package. Raises RuntimeError when the tool itself fails.
    """
    if not statements:
        return []
    tool_dir = ensure_installed()
    payload: dict[str, object] = {
        "statements": [
            {"name": name, "query": query, "params": list(params)}
            for name, query, params in statements
        ],
        "checkFunctions": check_functions,
        "checkProcedures": check_procedures,
    }
    if labels or relationship_types:
        payload["labels"] = list(labels)
        payload["relationshipTypes"] = list(relationship_types)
    if property_keys:
        payload["propertyKeys"] = list(property_keys)
    node = shutil.which("node") or "node"
    try:
        done = subprocess.run(
            [node, str(tool_dir / "lint.mjs")],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"cypher-lint timed out after {timeout:.0f}s on {len(statements)} statements"
        ) from exc
    except OSError as exc:
        raise RuntimeError(f"cypher-lint could not start: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"cypher-lint failed (exit {done.returncode}): {done.stderr.strip()[-4000:]}"
        )
    return _parse_output(done.stdout, [name for name, _, _ in statements])
