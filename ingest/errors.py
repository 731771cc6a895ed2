"""Ingest's errors, in the hub's one exception tree (``graph_schema.errors``)."""

from __future__ import annotations

from graph_schema.errors import HubError


class IngestError(HubError):
    """Something in the write path for observations failed."""

    code = "UNAVAILABLE"


class TelemetryUnavailable(IngestError):
    """The telemetry store cannot be reached or refused a statement."""


class BrokerUnavailable(IngestError):
    """The MQTT broker cannot be reached or refused the connection."""
