"""Open the telemetry store a URL names: ``sqlite://`` (embedded) or ``postgresql://``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from graph_schema.errors import ConfigurationError
from ingest.model import MetricSpec
from ingest.store import DEFAULT_TZ, TelemetryStore

SCHEMES = ("sqlite", "postgresql", "postgres")


def sqlite_path(url: str, data_dir: Path) -> Path:
    """``sqlite://`` is ``telemetry.db`` under the data dir; ``sqlite:///abs/file.db`` a file."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ConfigurationError(f"HUB_TELEMETRY_URL: not a sqlite:// URL: {parts.scheme}://")
    if parts.path in ("", "/"):
        return data_dir / "telemetry.db"
    return Path(unquote(parts.path))


async def open_telemetry_store(
    url: str,
    metrics: Mapping[str, MetricSpec],
    *,
    data_dir: Path,
    tz: str = DEFAULT_TZ,
    synchronous: str = "FULL",
) -> TelemetryStore:
    """Open (and migrate) the store; ``synchronous`` applies to SQLite only."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from ingest.sqlite_store import SQLiteTelemetryStore

        return await SQLiteTelemetryStore.open(
            sqlite_path(url, data_dir), metrics, tz=tz, synchronous=synchronous
        )
    if scheme in ("postgresql", "postgres"):
        from ingest.postgres_store import PostgresTelemetryStore

        return await PostgresTelemetryStore.open(url, metrics, tz=tz)
    raise ConfigurationError(
        f"HUB_TELEMETRY_URL: unknown scheme {scheme}://; use sqlite:// or postgresql://"
    )
