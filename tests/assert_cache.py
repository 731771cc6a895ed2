"""Write pytest's assertion-rewritten bytecode once, before the suite (``make bytecode``).

pytest rewrites the asserts of every test module and conftest, and of every module of the
pytest plugins it loads (schemathesis, hypothesis, anyio, xdist: about 300), then caches the
result beside them (``__pycache__/*.cpython-312-pytest-<version>.pyc``), unless
PYTHONDONTWRITEBYTECODE is set, as on the CI machine: then each pytest process (every xdist
worker) rewrote all ~430 modules again, 11-12 of its 12 CPU-s of collection instead of 6
(measured 2026-12-08). pytest reads a cached file whatever PYTHONDONTWRITEBYTECODE says, and
checks it against the source's mtime and size, so an edited module is rewritten as before.

``python -m tests.assert_cache``: a pytest start that collects nothing writes the plugins'
(pytest rewrites them as it loads them); the test modules are rewritten with pytest's own
function, without importing them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# pytest's default python_files (pyproject.toml sets none) and conftest.py.
PATTERNS = ("test_*.py", "*_test.py", "conftest.py")


def rewrite_tests() -> int:
    # pytest's internals (pinned in uv.lock): if a new pytest moves them, the cache is only
    # skipped, and each process rewrites the test modules as before.
    try:
        from _pytest.assertion.rewrite import (
            PYC_TAIL,
            _read_pyc,
            _rewrite_test,
            _write_pyc_fp,
            get_cache_dir,
        )
        from _pytest.pathlib import fnmatch_ex
    except ImportError as exc:
        print(f"assert-cache: pytest's rewrite functions moved ({exc}); test modules skipped")
        return 0
    written = 0
    for source in sorted(TESTS.rglob("*.py")):
        if not any(fnmatch_ex(pattern, source) for pattern in PATTERNS):
            continue
        pyc = get_cache_dir(source) / (source.name[:-3] + PYC_TAIL)
        if _read_pyc(source, pyc) is not None:
            continue
        # config None: the rewrite pytest does when enable_assertion_pass_hook is off (default).
        stat, code = _rewrite_test(source, None)  # type: ignore[arg-type]
        pyc.parent.mkdir(exist_ok=True)
        partial = pyc.with_name(f"{pyc.name}.tmp")
        with partial.open("wb") as handle:
            _write_pyc_fp(handle, stat, code)
        partial.replace(pyc)
        written += 1
    return written


def main() -> int:
    sys.dont_write_bytecode = False
    code = pytest.main(
        [
            "--collect-only",
            "-q",
            "--noconftest",
            "-p",
            "no:cacheprovider",
            "-p",
            "pytester",
            str(TESTS / "waiting.py"),
        ]
    )
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        return int(code)
    print(f"assert-cache: {rewrite_tests()} test modules rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
