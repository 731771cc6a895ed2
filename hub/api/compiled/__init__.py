"""Compiled reads: a GraphQL read's root field answered by one Cypher statement that returns
the nested answer (issue 28; docs/architecture.md, "Compiled reads")."""
