"""Lint Cypher statements with Neo4j's own parser and semantic analysis, offline.

Thin wrapper over ``tools/cypher-lint/lint.mjs`` (npm package
``@neo4j-cypher/language-support``, pinned in ``tools/cypher-lint/package.json``).
All statements of a test process are linted by ONE long-lived node process
(``lint.mjs --lines``, JSON lines on stdin/stdout): the analysis has about a
second of warm-up and then costs about 0.09 CPU-seconds per statement (Neo4j's
semantic analysis, TeaVM-compiled; package 2.0.0-next.38 on Node 20, measured
2026-12-07), so it is paid once, and statements go in batches of ``BATCH`` so
that a slow machine shows progress instead of one long silence. The ceiling is
per batch (``BATCH_TIMEOUT_S``, far above the ~12 s a batch takes on an idle
machine).

Schema declarations follow the package: a declared parameter is never reported
as undefined, an undeclared one is an error. Labels and relationship types are
only checked when at least one of ``labels``/``relationship_types`` is given
(then both lists are taken as complete); property keys only when
``property_keys`` is given. With nothing declared there are no "not present in
the database" warnings at all.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOL_DIR = REPO_ROOT / "tools" / "cypher-lint"
LINT_SCRIPT = TOOL_DIR / "lint.mjs"
PACKAGE = "@neo4j-cypher/language-support"
MIN_NODE_MAJOR = 20
INSTALL_TIMEOUT_S = 600.0
BATCH = 64
# A hang detector, not a speed check: 64 statements cost ~6 CPU-s, and at a load average of
# 20 on two cores a batch took over 120 s (the first ceiling) in a passing run.
BATCH_TIMEOUT_S = 900.0


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


def pinned_version() -> str:
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
    wanted = pinned_version()
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
    timeout: float = BATCH_TIMEOUT_S,
) -> list[LintDiagnostic]:
    """Lint ``(name, query, declared_params)`` triples; return every diagnostic.

    Errors and warnings alike are returned, in statement order. With
    ``check_functions``/``check_procedures`` unknown function/procedure names
    are errors, judged against the Neo4j 5 (+APOC/GDS) registry shipped with
    the package. Raises RuntimeError when the tool itself fails.
    """
    if not statements:
        return []
    # Identical statements (same text and parameters) are linted once.
    unique: dict[tuple[str, tuple[str, ...]], str] = {}
    for _, query, params in statements:
        unique.setdefault((query, tuple(params)), f"s{len(unique)}")
    payload: dict[str, object] = {
        "checkFunctions": check_functions,
        "checkProcedures": check_procedures,
    }
    if labels or relationship_types:
        payload["labels"] = list(labels)
        payload["relationshipTypes"] = list(relationship_types)
    if property_keys:
        payload["propertyKeys"] = list(property_keys)
    todo = [
        {"name": key, "query": query, "params": list(params)}
        for (query, params), key in unique.items()
    ]
    answers: list[object] = []
    for first in range(0, len(todo), BATCH):
        batch = {**payload, "statements": todo[first : first + BATCH]}
        answers.extend(_linter().request(batch, timeout))
    by_key: dict[str, list[LintDiagnostic]] = {}
    for d in _parse_output(json.dumps(answers), [str(t["name"]) for t in todo]):
        by_key.setdefault(d.statement, []).append(d)
    return [
        replace(d, statement=name)
        for name, query, params in statements
        for d in by_key.get(unique[(query, tuple(params))], [])
    ]


class _LintProcess:
    """``node lint.mjs --lines``: one request line in, one answer line out."""

    def __init__(self, tool_dir: Path) -> None:
        node = shutil.which("node") or "node"
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (closed in close())
        try:
            self._process = subprocess.Popen(
                [node, str(tool_dir / "lint.mjs"), "--lines"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
                env={**os.environ, "NODE_NO_WARNINGS": "1"},
            )
        except OSError as exc:
            raise RuntimeError(f"cypher-lint could not start: {exc}") from exc
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name="cypher-lint-reader").start()
        self._lock = threading.Lock()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def alive(self) -> bool:
        return self._process.poll() is None

    def _failure(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().strip()[-4000:]

    def request(self, payload: dict[str, object], timeout: float) -> list[object]:
        with self._lock:
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(json.dumps(payload) + "\n")
                self._process.stdin.flush()
            except OSError as exc:
                raise RuntimeError(f"cypher-lint died: {exc}: {self._failure()}") from exc
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self.close()
                raise RuntimeError(
                    f"cypher-lint answered nothing for {timeout:.0f} s on a batch of "
                    f"{len(payload['statements'])} statements"  # type: ignore[arg-type]
                ) from None
        if line is None:
            raise RuntimeError(f"cypher-lint exited ({self._process.wait()}): {self._failure()}")
        answer: Any = json.loads(line)
        if isinstance(answer, dict):
            kind = "bad input" if answer.get("badInput") else "failed"
            raise RuntimeError(f"cypher-lint {kind}: {answer.get('error')}")
        if not isinstance(answer, list):
            raise RuntimeError(f"cypher-lint printed no JSON list: {line[:2000]!r}")
        return answer

    def close(self) -> None:
        if self._process.stdin is not None:
            with suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stderr.close()


_process: _LintProcess | None = None
_process_lock = threading.Lock()


def _linter() -> _LintProcess:
    """This process's linter, started on first use and stopped at exit."""
    global _process
    with _process_lock:
        if _process is None or not _process.alive():
            _process = _LintProcess(ensure_installed())
            atexit.register(_process.close)
        return _process
