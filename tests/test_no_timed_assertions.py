"""No test asserts on wall-clock time: speed belongs to ``bench/`` (see tests/waiting.py).

A time limit in a test fails on a busy machine while proving nothing a benchmark does not
prove better. This test reads every test file and fails on

* an upper bound on a measured duration: an ``assert`` comparing something timed (a call to
  ``time.monotonic``/``perf_counter``/``time.time``, or a name such as ``elapsed``, ``took``,
  ``waited``, ``latency``) as less than a limit. Lower bounds ("not before the timeout") hold
  however busy the machine is and are allowed, and so is a wait's ceiling in a polling loop
  (``assert time.monotonic() < deadline``): it stops a hang, and tests set it generously;
* a test named for a time limit (``..._within_2_s``, ``..._quickly``, ``..._in_time``).

Tests on an injected clock compare that clock's values, not wall time, and pass through; a test
whose name states a limit in such a clock's time (footage time, a simulated day) says so with
``@pytest.mark.injected_clock``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).parent
TIMED_NAME = re.compile(
    r"(elapsed|took|waited|latenc|duration|seconds|^span$|^started$|^began$|^sent$|^t0$)",
    re.IGNORECASE,
)
TIME_CALLS = {"monotonic", "perf_counter", "monotonic_ns", "perf_counter_ns"}
TIMED_TEST_NAME = re.compile(
    r"_within_\d+(_\d+)?_?(s|ms|sec|seconds|min)(_|$)|_quickly(_|$)|_in_time(_|$)"
)


def _timed(node: ast.AST) -> bool:
    """Does this expression measure wall time?"""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and TIMED_NAME.search(sub.id):
            return True
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            func = sub.func
            if func.attr in TIME_CALLS or (
                func.attr == "time" and isinstance(func.value, ast.Name) and func.value.id == "time"
            ):
                return True
    return False


def _deadline(node: ast.AST) -> bool:
    return any(isinstance(s, ast.Name) and "deadline" in s.id for s in ast.walk(node))


def _upper_bounds(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        for compare in ast.walk(node.test):
            if not isinstance(compare, ast.Compare):
                continue
            operands = [compare.left, *compare.comparators]
            for left, op, right in zip(operands, compare.ops, operands[1:], strict=False):
                if _deadline(left) or _deadline(right):
                    continue
                if (isinstance(op, ast.Lt | ast.LtE) and _timed(left)) or (
                    isinstance(op, ast.Gt | ast.GtE) and _timed(right)
                ):
                    lines.append(node.lineno)
    return lines


def find_timed_assertions(root: Path = TESTS) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(root.parent)
        found += [f"{where}:{line}: an upper bound on wall time" for line in _upper_bounds(tree)]
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name.startswith("test")
                and TIMED_TEST_NAME.search(node.name)
                and not any("injected_clock" in ast.unparse(d) for d in node.decorator_list)
            ):
                found.append(f"{where}:{node.lineno}: {node.name} is named for a time limit")
    return found


def test_no_test_asserts_on_wall_clock_time() -> None:
    found = find_timed_assertions()
    assert found == [], "\n".join(found)


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    # Proof it is not vacuous: each kind of timed assertion is reported, lower bounds are not.
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import time\n"
        "def test_ready_within_2_s():\n"
        "    started = time.monotonic()\n"
        "    elapsed = time.monotonic() - started\n"
        "    assert elapsed < 2.0\n"
        "    assert 0.5 <= elapsed < 3\n"
        "    assert time.perf_counter() - started <= 5\n"
        "    assert 10 > elapsed\n"
        "    assert elapsed >= 0.3\n"
        "    assert clock.now() < limit\n"
        "    assert time.monotonic() < deadline\n"
        "def test_answers_quickly():\n"
        "    pass\n"
        "@pytest.mark.injected_clock\n"
        "def test_moved_within_30_s_of_footage():\n"
        "    pass\n"
        "def test_moved_within_30_s_and_more():\n"
        "    pass\n",
        encoding="utf-8",
    )
    found = find_timed_assertions(tmp_path / "tests")
    assert [f.split(": ", 1)[0].rsplit(":", 1)[1] for f in found] == [
        "5", "6", "7", "8", "2", "12", "17",
    ], found  # fmt: skip
