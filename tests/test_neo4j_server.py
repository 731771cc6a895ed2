"""tests/neo4j.py: the Neo4j test server fails loudly, never quietly, when it cannot start."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests import neo4j


def test_no_java_is_an_error_that_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(neo4j.Neo4jUnavailable, match=r"no `java` on PATH.*OpenJDK 17"):
        neo4j.Neo4jProcess(tmp_path / "data").start()


def test_an_unbuilt_launcher_is_an_error_that_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neo4j, "JAR", neo4j.ROOT / "tools" / "neo4j-server" / "missing.jar")
    with pytest.raises(neo4j.Neo4jUnavailable, match=r"is not built: run ./scripts/bootstrap"):
        neo4j.Neo4jProcess(tmp_path / "data").start()


def test_a_store_test_without_a_server_errors_instead_of_skipping(
    pytester: pytest.Pytester,
) -> None:
    # The suite's own conftest, with a launcher that is not built: the Neo4j half of a
    # `store` test is an error naming the cause, and nothing is skipped.
    pytester.makeconftest(
        textwrap.dedent(
            """
            import pytest
            from tests import neo4j as launcher
            from tests.conftest import *  # noqa: F403

            @pytest.fixture(autouse=True, scope="session")
            def _unbuilt():
                launcher.JAR = launcher.ROOT / "tools" / "neo4j-server" / "missing.jar"
            """
        )
    )
    pytester.makepyfile(
        test_one="""
        import pytest
        pytestmark = pytest.mark.anyio
        async def test_x(store):
            assert store is not None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "0", "-k", "neo4j")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Neo4jUnavailable*is not built*"])
    assert "skipped" not in result.stdout.str()
