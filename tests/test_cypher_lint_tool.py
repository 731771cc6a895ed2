"""The offline Cypher checker is real: Neo4j's parser and semantic analysis answer.

Every statement is linted in one node process (module fixture); the tests then
assert on specific diagnostics, so an empty answer from the tool fails them.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.cypher_lint import (
    LINT_SCRIPT,
    LintDiagnostic,
    ensure_installed,
    format_diagnostics,
    lint_cypher,
    node_available,
)

pytestmark = pytest.mark.skipif(
    not node_available(), reason="cypher-lint needs node >= 20 and npm on PATH"
)

VALID_NEO4J5 = (
    "MATCH (a:Account {code: $code})\n"
    "WHERE a.createdAt >= datetime($since)\n"
    "  AND EXISTS { MATCH (a)<-[:POSTED_TO]-(:Entry {status: $status}) }\n"
    "RETURN elementId(a) AS id, a.name AS name, datetime() AS seenAt\n"
    "ORDER BY name LIMIT $limit"
)

STATEMENTS: list[tuple[str, str, list[str]]] = [
    ("valid", VALID_NEO4J5, ["code", "since", "status", "limit"]),
    ("syntax_error", "MATCH (n:Account)\nRETURN (n", []),
    ("unclosed_node", "MATCH (n RETURN n", []),
    ("undefined_variable", "MATCH (n) RETURN m", []),
    (
        "half_declared",
        "MATCH (n:Account) WHERE n.code = $code AND n.name = $name RETURN n",
        ["code"],
    ),
    ("undeclared_only", "RETURN $undeclared", []),
    (
        "constraint",
        "CREATE CONSTRAINT x IF NOT EXISTS FOR (n:L) REQUIRE n.p IS UNIQUE",
        [],
    ),
    (
        "fulltext",
        "CREATE FULLTEXT INDEX x IF NOT EXISTS FOR (n:L) ON EACH [n.name]",
        [],
    ),
    ("range_index", "CREATE INDEX y IF NOT EXISTS FOR (n:L) ON (n.p)", []),
    (
        "call_importing_with",
        "UNWIND $xs AS x CALL { WITH x RETURN x * 2 AS y } RETURN x, y",
        ["xs"],
    ),
    (
        "call_scope_clause",
        "UNWIND $xs AS x CALL (x) { RETURN x * 2 AS y } RETURN x, y",
        ["xs"],
    ),
    ("unknown_schema", "MATCH (n:NoSuchLabel)-[:NO_SUCH_TYPE]->() RETURN n.noSuchKey", []),
    ("old_index_syntax", "CREATE INDEX ON :L(p)", []),
]


@pytest.fixture(scope="module")
def diagnostics() -> list[LintDiagnostic]:
    return lint_cypher(STATEMENTS)


def _for(diagnostics: list[LintDiagnostic], statement: str) -> list[LintDiagnostic]:
    return [d for d in diagnostics if d.statement == statement]


def _clean(diagnostics: list[LintDiagnostic], statement: str) -> list[LintDiagnostic]:
    """Diagnostics of ``statement``, after checking that the same run did find errors.

    An empty answer for a statement only means "clean" if the linter was alive.
    """
    broken = [d for d in diagnostics if d.statement == "unclosed_node" and d.severity == "error"]
    assert broken, "the linter reported nothing for a broken statement in the same run"
    return _for(diagnostics, statement)


def test_valid_neo4j5_statement_with_declared_params_is_clean(
    diagnostics: list[LintDiagnostic],
) -> None:
    found = _clean(diagnostics, "valid")
    assert found == [], format_diagnostics(found)


def test_syntax_error_is_an_error_naming_the_statement(
    diagnostics: list[LintDiagnostic],
) -> None:
    found = _for(diagnostics, "syntax_error")
    errors = [d for d in found if d.severity == "error"]
    assert errors, format_diagnostics(diagnostics)
    assert errors[0].statement == "syntax_error"
    assert "Invalid input" in errors[0].message
    # Reported on the second line, where the expression is left unfinished.
    assert errors[0].line == 2, format_diagnostics(errors)
    unclosed = [d for d in _for(diagnostics, "unclosed_node") if d.severity == "error"]
    assert [d.message for d in unclosed] == [
        "Invalid input 'RETURN': expected a graph pattern, a parameter, ')', ':', 'IS', "
        "'WHERE' or '{'"
    ]
    assert unclosed[0].offset == len("MATCH (n ")
    assert (unclosed[0].line, unclosed[0].column) == (1, len("MATCH (n ") + 1)


def test_undefined_variable_is_a_semantic_error(diagnostics: list[LintDiagnostic]) -> None:
    found = _for(diagnostics, "undefined_variable")
    assert [(d.severity, d.message) for d in found] == [("error", "Variable `m` not defined")], (
        format_diagnostics(found)
    )


def test_undeclared_parameter_is_reported_and_declared_one_is_not(
    diagnostics: list[LintDiagnostic],
) -> None:
    found = _for(diagnostics, "half_declared")
    assert [(d.severity, d.message) for d in found] == [
        ("error", "Parameter $name is not defined.")
    ], format_diagnostics(found)
    only = _for(diagnostics, "undeclared_only")
    assert [(d.severity, d.message) for d in only] == [
        ("error", "Parameter $undeclared is not defined.")
    ], format_diagnostics(only)


@pytest.mark.parametrize("statement", ["constraint", "fulltext", "range_index"])
def test_neo4j5_ddl_lints_clean(diagnostics: list[LintDiagnostic], statement: str) -> None:
    found = _clean(diagnostics, statement)
    assert found == [], format_diagnostics(found)


def test_pre_neo4j5_index_syntax_is_rejected(diagnostics: list[LintDiagnostic]) -> None:
    found = _for(diagnostics, "old_index_syntax")
    assert [d.severity for d in found] == ["error"], format_diagnostics(found)
    assert "CREATE INDEX FOR" in found[0].message


def test_call_subquery_importing_with_is_valid_but_deprecated(
    diagnostics: list[LintDiagnostic],
) -> None:
    """Neo4j >= 5.23 deprecates `CALL { WITH x ... }` in favour of `CALL (x) { ... }`."""
    found = _for(diagnostics, "call_importing_with")
    assert [d.severity for d in found] == ["warning"], format_diagnostics(found)
    assert "variable scope clause is deprecated" in found[0].message
    scoped = _clean(diagnostics, "call_scope_clause")
    assert scoped == [], format_diagnostics(scoped)


def test_undeclared_schema_gives_no_label_or_property_noise(
    diagnostics: list[LintDiagnostic],
) -> None:
    found = _clean(diagnostics, "unknown_schema")
    assert found == [], format_diagnostics(found)


def test_declared_schema_flags_only_unknown_names() -> None:
    found = lint_cypher(
        [
            ("ours", "MATCH (a:Account)<-[:POSTED_TO]-(e:Entry) RETURN a.code, e.amount", []),
            ("typo", "MATCH (a:Acount)<-[:POSTED]-(e:Entry) RETURN a.cod", []),
        ],
        labels=["Account", "Entry"],
        relationship_types=["POSTED_TO"],
        property_keys=["code", "amount"],
    )
    assert _for(found, "ours") == [], format_diagnostics(found)
    typo = _for(found, "typo")
    assert all(d.severity == "warning" for d in typo), format_diagnostics(typo)
    messages = " | ".join(d.message for d in typo)
    assert "Label Acount is not present" in messages, messages
    assert "Relationship type POSTED is not present" in messages, messages
    assert "cod is not present" in messages, messages
    assert len(typo) == 3, format_diagnostics(typo)


def test_bad_input_is_a_tool_failure() -> None:
    tool_dir = ensure_installed()
    done = subprocess.run(
        ["node", str(LINT_SCRIPT)],
        input='{"statement": []}',
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tool_dir,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert 'unknown top-level key "statement"' in done.stderr
