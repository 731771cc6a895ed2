"""The per-request context every resolver receives: the stores, who is asking, and the
request's batch loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph_schema.store import GraphStore
from hub.api.loaders import Loaders
from hub.promotion.chains import Rules
from hub.roles import Role
from hub.settings import ScoreboardSettings, SensingSettings
from hub.texts import Lang

if TYPE_CHECKING:
    from hub.monitoring.watch import Watch
    from hub.telemetry import Telemetry

__all__ = ["Context", "Role"]


@dataclass
class Context:
    store: GraphStore
    role: Role = Role.ANONYMOUS
    subject: str | None = None
    # The API key the request came with (None: anonymous); who acknowledged an alert.
    key_id: str | None = None
    max_page_size: int = 100
    # False resolves every related field with its own store call: the naive baseline the
    # benchmark compares against. Never turned off in production.
    batching: bool = True
    # Thresholds of the chain analytics (settings HUB_CHAINS_*).
    chain_rules: Rules = field(default_factory=Rules)
    loaders: Loaders = field(init=False)
    # Per-request memo of which sub-fields a selection asks for (see hub.api.lists).
    selections: dict[int, frozenset[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Warning thresholds of the city scoreboard (HUB_SCOREBOARD_*).
    scoreboard: ScoreboardSettings = field(default_factory=ScoreboardSettings)
    # The telemetry store, ingest and live bus; None when the hub runs without them.
    telemetry: Telemetry | None = None
    # Barometer bands, forecast, tracking and race settings (HUB_SENSING_*).
    sensing: SensingSettings = field(default_factory=SensingSettings)
    # WebSocket only: connection_init's payload (set by Strawberry) and the upgrade request's
    # Authorization header; hub.app.on_ws_connect authenticates from them.
    connection_params: dict[str, Any] | None = None
    upgrade_authorization: str | None = None
    # WebSocket only: the socket, closed (4403) when its key is revoked.
    websocket: Any = None
    # Evidence, MPI and alerts (issue 8); None when they do not run in this hub.
    watch: Watch | None = None
    # The language of rendered texts (Accept-Language; hub.texts).
    language: Lang = Lang.ZH

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store, batching=self.batching)
