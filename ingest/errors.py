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


class BackupInvalid(IngestError):
    """A telemetry backup cannot be restored as it is; nothing was written.

    ``reason`` is stable: ``MISSING_MANIFEST``, ``BAD_MANIFEST``, ``SCHEMA_TOO_NEW``,
    ``MISSING_FILE``, ``CHECKSUM_MISMATCH``, ``BAD_ROW`` (the message names file and line) or
    ``COUNT_MISMATCH``.
    """

    code = "BAD_USER_INPUT"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}")
