"""Print .env.example: the variables docker-compose.yml needs, then every HUB_* setting with its
default and description (commented out). `python scripts/env_example.py > .env.example`;
tests/test_deploy.py checks the file against the settings both ways."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel, SecretStr

from hub.settings import ENV_PREFIX, Settings, _is_section

HEAD = """\
# Environment for docker-compose.yml (copy to .env and fill in) and for any hub process.
# Every hub setting is a HUB_* variable; a wrong value stops the hub at start with a message
# naming the variable. Secrets never appear in logs. docs/operations.md explains the stack.

# --- Required by docker-compose.yml -------------------------------------------------------
# Neo4j's password (user neo4j); the hub logs in with it (HUB_GRAPH_PASSWORD in the compose file).
NEO4J_PASSWORD=
# The broker account `hub` (the hub, its workers and replicas); start.sh writes it to the
# broker's password file.
HUB_MQTT_PASSWORD=
# The broker account `healthcheck`, used only by the mosquitto container's health check.
MQTT_HEALTHCHECK_PASSWORD=
# Secret salt for hashing worker ids (labor attendance); keep it with the backups' secrets:
# without the same salt, new hashes do not match old ones. e.g. `openssl rand -hex 32`.
HUB_TELEMETRY_LABOR_SALT=
# Bearer token Prometheus presents to /metrics (Authorization: Bearer ...).
HUB_METRICS_TOKEN=

# --- Optional for docker-compose.yml -------------------------------------------------------
# The broker account `events-reader` (dashboards that follow hub/v1/events/#); unset: none.
MQTT_EVENTS_READER_PASSWORD=
# With `--profile postgres`: the password of PostgreSQL's `hub` user; then set
# HUB_TELEMETRY_URL=postgresql://hub:<POSTGRES_PASSWORD>@postgres:5432/telemetry
POSTGRES_PASSWORD=
# With `--profile scale`: false, so the hub stops ingesting and the two workers (partitions
# 1/2 and 2/2) take the whole feed; the hub relays their events (docs/operations.md).
INGEST_IN_HUB=true
# Neo4j memory: heap (initial = max) and page cache; size them to the host (docs/operations.md).
NEO4J_HEAP=1G
NEO4J_PAGECACHE=2G

# --- Every hub setting, with its default --------------------------------------------------
# (the compose file already sets the graph, broker, data dir and HTTP ones for its services)
"""


def _default(value: Any) -> str:
    if value is None or isinstance(value, SecretStr):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "value"):
        return str(value.value)
    return str(value)


def _lines(prefix: str, model: type[BaseModel]) -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        var = f"{prefix}{name}".upper()
        if _is_section(info.annotation):
            continue
        default = None if info.default_factory is not None else info.default
        out.append(f"# {info.description}")
        out.append(f"# {var}={_default(default)}")
    return out


def main() -> None:
    body = [HEAD.rstrip("\n")]
    body += ["", *_lines(ENV_PREFIX, Settings)]
    for name, info in Settings.model_fields.items():
        section = info.annotation
        if isinstance(section, type) and _is_section(section):
            doc = (section.__doc__ or "").strip().splitlines()[0]
            body += ["", f"# [{name}] {doc}", *_lines(f"{ENV_PREFIX}{name}_", section)]
    sys.stdout.write("\n".join(body) + "\n")


if __name__ == "__main__":
    main()
