"""The one table of differences between the Cypher FalkorDB and Neo4j accept.

Everything else the hub sends is written once, in the subset both understand. What differs:
index and constraint DDL (FalkorDB creates uniqueness with the ``GRAPH.CONSTRAINT`` command, not
Cypher, and has no named ``IF NOT EXISTS`` DDL), full-text indexes and their query procedure,
element ids (``id(n)`` vs ``elementId(n)``), the current time (no ``datetime()`` in FalkorDB) and
existential subqueries (no ``EXISTS { }`` in FalkorDB).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph_schema.cypher import Statement, identifier


class Dialect(StrEnum):
    FALKORDB = "falkordb"
    NEO4J = "neo4j"


@dataclass(frozen=True, slots=True)
class RangeIndex:
    label: str
    prop: str

    @property
    def name(self) -> str:
        return f"idx_{self.label.lower()}_{self.prop}"


@dataclass(frozen=True, slots=True)
class UniqueKey:
    label: str
    prop: str

    @property
    def name(self) -> str:
        return f"uq_{self.label.lower()}_{self.prop}"


@dataclass(frozen=True, slots=True)
class FulltextIndex:
    label: str
    props: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"ft_{self.label.lower()}"


SchemaElement = RangeIndex | UniqueKey | FulltextIndex


@dataclass(frozen=True, slots=True)
class DialectRules:
    dialect: Dialect
    # Expression for a node's opaque store id, given the variable name.
    element_id: str
    # Expression for "now" as epoch milliseconds (both have timestamp()); kept for symmetry.
    now_millis: str
    # Whether `EXISTS { MATCH ... }` subqueries are available.
    exists_subquery: bool

    def element_id_of(self, var: str) -> str:
        return self.element_id.format(var=identifier(var))

    def schema_statement(self, element: SchemaElement) -> Statement | None:
        """The Cypher DDL for a schema element, or ``None`` where the dialect uses a command."""
        label = identifier(element.label)
        if self.dialect is Dialect.NEO4J:
            match element:
                case RangeIndex(prop=prop):
                    text = (
                        f"CREATE INDEX {element.name} IF NOT EXISTS "
                        f"FOR (n:{label}) ON (n.{identifier(prop)})"
                    )
                case UniqueKey(prop=prop):
                    text = (
                        f"CREATE CONSTRAINT {element.name} IF NOT EXISTS "
                        f"FOR (n:{label}) REQUIRE n.{identifier(prop)} IS UNIQUE"
                    )
                case FulltextIndex(props=props):
                    # Names are Chinese: the CJK analyzer indexes character bigrams.
                    fields = ", ".join(f"n.{identifier(p)}" for p in props)
                    text = (
                        f"CREATE FULLTEXT INDEX {element.name} IF NOT EXISTS "
                        f"FOR (n:{label}) ON EACH [{fields}] "
                        "OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}"
                    )
            return Statement(f"schema.{element.name}", text, write=True)
        match element:
            case RangeIndex(prop=prop):
                text = f"CREATE INDEX FOR (n:{label}) ON (n.{identifier(prop)})"
            case UniqueKey():
                return None  # GRAPH.CONSTRAINT CREATE, issued by the adapter
            case FulltextIndex(props=props):
                # RediSearch segments Chinese text only with language 'chinese' (friso).
                args = ", ".join(f"'{identifier(p)}'" for p in props)
                text = (
                    f"CALL db.idx.fulltext.createNodeIndex("
                    f"{{label: '{label}', language: 'chinese'}}, {args})"
                )
        return Statement(f"schema.{element.name}", text, write=True)

    def fulltext_call(self, element: FulltextIndex, param: str) -> str:
        """The procedure call of a full-text search over ``element``, yielding ``node, score``."""
        if self.dialect is Dialect.NEO4J:
            return f"CALL db.index.fulltext.queryNodes('{element.name}', ${identifier(param)})"
        return f"CALL db.idx.fulltext.queryNodes('{element.label}', ${identifier(param)})"

    def fulltext_query(self, element: FulltextIndex, tail: str) -> str:
        """A full-text search over ``element`` yielding ``node`` and ``score``, then ``tail``."""
        return f"{self.fulltext_call(element, 'search')} YIELD node, score {tail}"

    def fulltext_text(self, text: str) -> str:
        """User text as a query of literal terms: every character the index's query language
        treats as syntax (RediSearch for FalkorDB, Lucene for Neo4j) is escaped, so input can
        neither change the query nor make it fail to parse. All terms must match."""
        special = _LUCENE_SPECIAL if self.dialect is Dialect.NEO4J else _REDISEARCH_SPECIAL
        terms = []
        for term in text.split():
            escaped = "".join("\\" + ch if ch in special else ch for ch in term)
            # Lucene's word operators are upper case; its analyzers lower-case terms anyway.
            terms.append(escaped.lower() if escaped in ("AND", "OR", "NOT") else escaped)
        joiner = " AND " if self.dialect is Dialect.NEO4J else " "
        return joiner.join(terms)


_LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')
# RediSearch: punctuation separates and most of it is query syntax; escape all of it.
_REDISEARCH_SPECIAL = frozenset(",.<>{}[]\"':;!@#$%^&*()-+=~|/\\?`")

RULES = {
    Dialect.FALKORDB: DialectRules(Dialect.FALKORDB, "id({var})", "timestamp()", False),
    Dialect.NEO4J: DialectRules(Dialect.NEO4J, "elementId({var})", "timestamp()", True),
}
