"""The graph model, the ``GraphStore`` port and its adapters, and every Cypher statement."""

from graph_schema.connect import open_graph_store
from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect
from graph_schema.errors import (
    ConfigurationError,
    GraphError,
    GraphQueryError,
    GraphUnavailable,
    HubError,
    InvalidInput,
    InvalidRecord,
    NotFound,
    Problem,
)
from graph_schema.migrations import migrate
from graph_schema.model import ENTITIES, LOAD_ORDER, Record, validate
from graph_schema.store import GraphStore, StoreStats
from graph_schema.writer import Outcome, WriteResult, upsert

__all__ = [
    "ENTITIES",
    "LOAD_ORDER",
    "ConfigurationError",
    "Dialect",
    "GraphError",
    "GraphQueryError",
    "GraphStore",
    "GraphUnavailable",
    "HubError",
    "InvalidInput",
    "InvalidRecord",
    "NotFound",
    "Outcome",
    "Problem",
    "Record",
    "Statement",
    "StoreStats",
    "WriteResult",
    "migrate",
    "open_graph_store",
    "upsert",
    "validate",
]
