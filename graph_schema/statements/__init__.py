"""Every Cypher statement the hub sends, grouped by what it serves: ``entities`` (generated from
the model's spec table: fetch, merge, export per entity and relationship) and one module per
domain (alerts, chains, financing, land, monitoring, ...). Statements are data (``Statement``),
written once in the subset both FalkorDB and Neo4j accept, with values always as parameters;
the few dialect differences live in ``graph_schema.dialect``. ``graph_schema.catalog`` gathers
them all for the Neo4j lint. Adapters, migrations, the writer and backup stay one level up."""
