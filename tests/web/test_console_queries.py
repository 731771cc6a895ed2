"""Every GraphQL document the console sends passes the API's own validation, the cost limit
included, at the default limits: a console query refused with COST_LIMIT is a blank page."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from graphql import GraphQLSyntaxError, build_ast_schema, parse, print_schema, validate
from graphql.validation import NoDeprecatedCustomRule
from strawberry.extensions.max_aliases import create_validator as create_alias_validator
from strawberry.extensions.query_depth_limiter import create_validator

from hub.api.cost import cost_rule
from hub.api.schema import build_schema
from hub.settings import load_settings

SOURCES = Path(__file__).resolve().parents[2] / "hub" / "web" / "src"
# A template literal that starts like a GraphQL document and has no ${...} in it.
DOCUMENT = re.compile(r"`\s*((?:query|mutation|subscription|\{)[^`]*)`")


def _documents() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SOURCES.rglob("*.ts")):
        for text in DOCUMENT.findall(path.read_text(encoding="utf-8")):
            if "${" not in text:  # a template with interpolations is not a document
                found.append((path.name, text))
    return found


def test_every_console_query_is_valid_and_within_the_cost_limit() -> None:
    documents = _documents()
    assert len(documents) >= 10  # the scan really finds the console's queries
    http = load_settings({}).http
    schema = build_schema()._schema
    rules = [
        create_validator(http.max_depth, None, None),
        create_alias_validator(http.max_aliases),
        cost_rule(http.max_cost, http.max_page_size),
    ]
    problems = [
        (name, text[:60], [e.message for e in errors])
        for name, text in documents
        if (errors := validate(
schema, parse(text, max_tokens=http.max_tokens), rules))
    ]  # fmt: skip
    assert problems == []


def _fill(constants: dict[str, str], match: re.Match[str]) -> str:
    return constants.get(match.group(1), "1")


def _every_document() -> list[tuple[str, str]]:
    """Every document, templates included: ``${NAME}`` of a string constant in the same file
    (a field list) filled in; a template that still does not parse is not a document."""
    found = []
    for path in sorted(SOURCES.rglob("*.ts")):
        source = path.read_text(encoding="utf-8")
        constants = dict(re.findall(r'const (\w+) = "([^"]*)"', source))
        constants["mutation"] = "acknowledgeAlert"  # the alert buttons' mutations
        for text in DOCUMENT.findall(source):
            text = re.sub(r"\$\{(\w+)\}", partial(_fill, constants), text)
            try:
                parse(text)
            except GraphQLSyntaxError:
                continue
            found.append((path.name, text))
    return found


def test_no_console_query_reads_a_deprecated_field() -> None:
    # From the printed SDL: graphql-core's rule reads each field's AST node, which a schema
    # built in code lacks.
    schema = build_ast_schema(parse(print_schema(build_schema()._schema)))
    documents = _every_document()
    assert len(documents) > len(_documents())  # the templates are in too
    problems = [
        (name, [e.message for e in errors])
        for name, text in documents
        if (errors := validate(schema, parse(text), [NoDeprecatedCustomRule]))
    ]
    assert problems == []
