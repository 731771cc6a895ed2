"""Bulk import and export of entity files (CSV, JSON Lines, GeoJSON)."""

from hub.bulk.formats import FormatError
from hub.bulk.transfer import (
    ImportSummary,
    export_files,
    graph_counts,
    import_files,
    import_records,
    order_files,
)

__all__ = [
    "FormatError",
    "ImportSummary",
    "export_files",
    "graph_counts",
    "import_files",
    "import_records",
    "order_files",
]
