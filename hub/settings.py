"""The hub's one typed settings tree, read from ``HUB_*`` environment variables and ``.env``.

Sections map to variables by their first word: ``HUB_GRAPH_URL`` is ``graph.url``,
``HUB_HTTP_PORT`` is ``http.port``; top-level fields (``HUB_DATA_DIR``, ``HUB_LOG_LEVEL``) have
no section. ``load_settings`` turns validation errors into one message that names each variable.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph_schema.connect import check_graph_url
from graph_schema.errors import ConfigurationError
from hub.roles import Role

ENV_PREFIX = "HUB_"
# A browser origin: scheme://host[:port], no path (RFC 6454 serialization).
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")
# Query parameters that carry credentials (?user=…&pwd=…, ?auth=…, ?token=…, ?sig=…).
_SECRET_PARAM_RE = re.compile(
    r"(?i)([?&;][^=&;#]*(?:user|pass|pwd|auth|token|key|secret|sig|cred|session|login)"
    r"[^=&;#]*=)([^&;#]*)"
)


def mask_url(url: str) -> str:
    """A URL with nothing secret left: ``scheme://user:secret@host`` becomes
    ``scheme://user:***@host`` (the password whole, even one holding ``@`` or ``/``; a userinfo
    without a colon, a bare token, becomes ``***``), and the value of every query parameter
    that looks like a credential becomes ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _SECRET_PARAM_RE.sub(r"\1***", url)
    # The userinfo ends at the last '@' before any query or fragment: an unencoded password
    # may itself hold '@' or '/'.
    end = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, end)
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, colon, _ = userinfo.partition(":")
        rest = (f"{user}:***@" if colon and "/" not in user else "***@") + rest
    return scheme + sep + _SECRET_PARAM_RE.sub(r"\1***", rest)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if isinstance(value, str) and "://" in value else value


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def _check_mqtt_url(url: str) -> str:
    if not re.match(r"^mqtts?://[^/\s]+", url):
        raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
    return url


def _check_telemetry_url(url: str) -> str:
    if not re.match(r"^(sqlite://|postgres(ql)?://)", url):
        raise ValueError("must be sqlite:// (embedded), sqlite:///path/file.db or postgresql://")
    return url


class GraphSettings(_Section):
    """The graph store."""

    url: Annotated[str, AfterValidator(check_graph_url)] = Field(
        default="embedded://",
        description="embedded:// (FalkorDB under the data dir), embedded:///abs/dir, "
        "falkordb://host:6379/graph, or bolt:// / neo4j:// (Neo4j 5).",
    )
    user: str | None = Field(default=None, description="Neo4j or FalkorDB user, if not in URL.")
    password: SecretStr | None = Field(default=None, description="Password; never logged.")
    database: str | None = Field(default=None, description="Neo4j database name.")
    name: str = Field(
        default="hub", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="FalkorDB graph key."
    )
    pool_size: int = Field(default=16, ge=1, le=500, description="Connections in the pool.")
    timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="Per-statement time limit, s."
    )
    batch_size: int = Field(default=5000, ge=1, le=100_000, description="Rows per write batch.")


class TelemetrySettings(_Section):
    """The telemetry store for raw readings and rollups, and how ingest writes to it."""

    url: Annotated[str, AfterValidator(_check_telemetry_url)] = Field(
        default="sqlite://",
        description="sqlite:// (under the data dir), sqlite:///path/file.db or postgresql://...",
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="Zone whose local days the daily rollups use."
    )
    retention_days: int = Field(
        default=400, ge=0, le=36500, description="Raw readings kept this long; 0 keeps all."
    )
    batch_size: int = Field(
        default=2000, ge=1, le=100_000, description="Most messages committed in one batch."
    )
    batch_latency_ms: float = Field(
        default=10.0, ge=0, le=10_000, description="Longest wait for a batch to fill, ms."
    )
    future_tolerance_s: float = Field(
        default=300.0, ge=0, le=86400, description="Clock skew allowed before FUTURE, s."
    )
    synchronous: str = Field(
        default="FULL",
        pattern=r"^(NORMAL|FULL|EXTRA)$",
        description="SQLite synchronous: FULL makes an acknowledged reading survive power loss.",
    )
    live_queue: int = Field(
        default=1000, ge=1, le=1_000_000, description="Events a slow live subscriber may lag."
    )
    inactivity_timeout_s: float = Field(
        default=1800.0,
        gt=0,
        le=30 * 86400,
        description="A sensor silent this long is stale (two missed 15-minute reports); a "
        "sensor's own stale_after_s overrides it.",
    )
    labor_salt: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 salt for worker ids; required to ingest labor."
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
        return value


class MqttSettings(_Section):
    """The MQTT broker the ingest workers subscribe to."""

    url: Annotated[str, AfterValidator(_check_mqtt_url)] = Field(
        default="mqtt://127.0.0.1:1883", description="Broker URL: mqtt://host:port or mqtts://."
    )
    username: str | None = Field(default=None, description="Broker user.")
    password: SecretStr | None = Field(default=None, description="Broker password; never logged.")
    client_id: str = Field(default="e-ledger-hub", description="Fixed id for a persistent session.")
    protocol: int = Field(default=5, description="MQTT protocol version: 5 or 4 (3.1.1).")
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="Keep-alive interval, s.")
    session_expiry_s: int = Field(
        default=7 * 86400, ge=0, description="MQTT 5 session expiry: how long the broker queues."
    )
    shared_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Subscribe as $share/<group>/... so several workers split the load. With "
        "Mosquitto 2.0 a broker restart forgets shared subscriptions: what devices publish "
        "before the members subscribe again is lost (docs/operations.md); prefer partition.",
    )
    partition: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,2}/[1-9][0-9]{0,2}$",
        description="k/n: this worker subscribes to the topics of the registered sensors whose "
        "id hash modulo n is k-1, so the broker splits the feed between n workers 1/n..n/n on "
        "plain persistent subscriptions, which survive broker restarts (not with shared_group). "
        "Readings from unregistered sensors reach no worker: register sensors first.",
    )
    adopt_after_s: float = Field(
        default=30.0,
        ge=0,
        description="With partition: a worker down this long (crashed or stopped) has its "
        "partition adopted by a live one, which takes over its broker session, queue included, "
        "until it returns; 0: never (its share then waits on the broker).",
    )
    tls_ca_file: Path | None = Field(default=None, description="CA bundle for mqtts://.")
    tls_cert_file: Path | None = Field(default=None, description="Client certificate (mutual TLS).")
    tls_key_file: Path | None = Field(default=None, description="Client key (mutual TLS).")
    republish: bool = Field(default=True, description="Republish events to hub/v1/events/...")
    ingest: bool = Field(
        default=True,
        description="Run the MQTT subscriber inside the hub; off when stand-alone workers do.",
    )
    relay: bool = Field(
        default=False,
        description="Follow hub/v1/events/... (what ingest workers and other replicas publish) "
        "and feed this hub's live feeds with it: for API replicas that do not ingest.",
    )

    @model_validator(mode="after")
    def _one_way_to_split(self) -> MqttSettings:
        if self.partition is not None:
            k, n = (int(x) for x in self.partition.split("/"))
            if k > n:
                raise ValueError(f"HUB_MQTT_PARTITION {self.partition}: k must be 1..n")
            if self.shared_group is not None:
                raise ValueError("HUB_MQTT_PARTITION and HUB_MQTT_SHARED_GROUP exclude each other")
        return self

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: int) -> int:
        if value not in (4, 5):
            raise ValueError("must be 5 (MQTT 5) or 4 (MQTT 3.1.1)")
        return value


class ChainSettings(_Section):
    """Thresholds of the industry-chain analytics (chokepoints)."""

    min_enterprises: int = Field(
        default=3, ge=1, le=1000, description="Fewer local enterprises in a segment is weak."
    )
    peer_ratio: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Weak below this share of the peer regions' median count.",
    )
    external_share: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="Weak when this share of local downstream demand comes from outside.",
    )
    single_supplier_share: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="Weak when one local enterprise makes this share of local output.",
    )


class HttpSettings(_Section):
    """The HTTP server."""

    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port.")
    graphiql: bool = Field(default=True, description="Serve GraphiQL at /graphql in a browser.")
    max_page_size: int = Field(
        default=100, ge=1, le=1000, description="Largest page a list returns."
    )
    # Defaults as strict as graphql-armor's.
    max_depth: int = Field(default=6, ge=2, le=50, description="Deepest selection nesting.")
    max_tokens: int = Field(
        default=1000, ge=100, le=1_000_000, description="Most tokens in one GraphQL document."
    )
    max_aliases: int = Field(default=15, ge=0, le=10_000, description="Most aliases per document.")
    max_cost: int = Field(
        default=5000,
        ge=10,
        le=10_000_000,
        description="Highest price of one operation (lists multiply by their page size, "
        "analytic fields have a declared cost); priced before it runs.",
    )
    rate_per_s: float = Field(
        default=50.0,
        gt=0,
        le=100_000,
        description="Requests per second one caller (API key, "
        "else address) may send, sustained; over it: 429 with Retry-After.",
    )
    rate_burst: int = Field(
        default=200, ge=1, le=1_000_000, description="Requests one caller may send at once."
    )
    concurrency: int = Field(
        default=8, ge=1, le=10_000, description="Requests of one caller in flight at once."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=100 * 1_048_576, description="Largest request body."
    )
    timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="Longest a query or mutation may run, s."
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Worker processes serving HTTP on one listening socket (hub serve, hub "
        "demo); unset: one per usable core. Ingest, the watch and the other singletons run "
        "once, in the supervisor (docs/architecture.md).",
    )

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: object) -> object:
        # Empty is unset: docker-compose passes ${HUB_HTTP_WORKERS:-} through as "".
        return None if isinstance(value, str) and not value.strip() else value

    shutdown_timeout_s: int = Field(
        default=15,
        ge=1,
        le=600,
        description="On stop: longest wait for open connections, then for each part "
        "(telemetry, broker, stores) to close, s; a part that overruns is logged and left.",
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins (scheme://host[:port]) whose browser pages may "
        "call the API (CORS); * allows any; empty (the default): none, same-origin only.",
    )
    cors_origin_regex: str = Field(
        default="",
        description="Origins matching this regular expression (whole origin) are allowed too; "
        "hub demo sets any loopback origin (http://localhost:<port>, 127.0.0.1, [::1]).",
    )
    cors_methods: str = Field(
        default="GET,POST", description="Comma-separated methods a preflight may ask for."
    )
    cors_headers: str = Field(
        default="Authorization,Content-Type,Accept,Accept-Language,X-Request-Id",
        description="Comma-separated request headers a preflight may ask for.",
    )
    cors_expose_headers: str = Field(
        default="ETag,Retry-After,X-Request-Id",
        description="Comma-separated response headers a browser page may read.",
    )
    cors_max_age_s: int = Field(
        default=600, ge=0, le=86_400, description="How long a browser may cache a preflight, s."
    )
    persisted_queries: bool = Field(
        default=True,
        description="Automatic persisted queries (Apollo's extensions.persistedQuery): "
        "a query sent once by its SHA-256 is remembered, then may be sent by hash alone.",
    )
    persisted_cache_size: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Automatic persisted queries remembered (least recently used dropped).",
    )
    trusted_documents: Path | None = Field(
        default=None,
        description="A JSON manifest of trusted documents {id: document} (graphql-codegen's "
        "persisted-documents.json, Relay's persisted_queries.json); requests name one by "
        "documentId, doc_id or its persisted-query hash.",
    )
    trusted_only: bool = Field(
        default=False,
        description="Run only documents of the trusted-documents manifest; any other query "
        "is refused (PERSISTED_QUERY_NOT_ALLOWED).",
    )
    compress_min_bytes: int = Field(
        default=1024,
        ge=0,
        le=100 * 1_048_576,
        description="Responses at least this large are compressed (br, else gzip) when "
        "the client accepts it (never event streams or WebSockets).",
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _split(value):
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin such as https://app.example.org or "
                    "http://localhost:5173 (scheme, host, optional port; no path)"
                )
        return value

    @field_validator("cors_origin_regex")
    @classmethod
    def _origin_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("cors_methods")
    @classmethod
    def _methods(cls, value: str) -> str:
        unknown = {m.upper() for m in _split(value)} - {"GET", "POST"}
        if unknown:
            raise ValueError(f"/graphql answers GET and POST only, not {sorted(unknown)}")
        return value

    @model_validator(mode="after")
    def _trusted_only_needs_a_manifest(self) -> HttpSettings:
        if self.trusted_only and self.trusted_documents is None:
            raise ValueError("trusted_only needs HUB_HTTP_TRUSTED_DOCUMENTS (the manifest)")
        return self


class ExecutionMode(StrEnum):
    """How GraphQL reads run (``hub.api.compiled``)."""

    COMPILED = "compiled"
    RESOLVERS = "resolvers"
    COMPARE = "compare"


class ApiSettings(_Section):
    """How the GraphQL API executes operations."""

    execution: ExecutionMode = Field(
        default=ExecutionMode.COMPILED,
        description="compiled: a read's root field that compiles answers from one Cypher "
        "statement (others run their resolvers); resolvers: every field runs its resolver; "
        "compare: both, and any difference is logged and answered with an INTERNAL error "
        "(for tests: it costs both).",
    )


class AuthSettings(_Section):
    """Who may call the API: API keys (``hub keys create``) and what callers without one get."""

    anonymous_role: Role | None = Field(
        default=None,
        description="Role of requests without a key: unset refuses them (UNAUTHENTICATED); "
        "viewer, promoter or monitor allow read-only access, e.g. for a demo.",
    )
    cache_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long a verified key is trusted, s: a revocation takes effect within it.",
    )
    guesses_per_min: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="Wrong API keys one address may send per minute (a burst of as many); "
        "past it, its requests get 429 until the allowance refills.",
    )

    @field_validator("anonymous_role")
    @classmethod
    def _read_only(cls, value: Role | None) -> Role | None:
        if value is not None and value not in (Role.VIEWER, Role.PROMOTER, Role.MONITOR):
            raise ValueError("anonymous access may only be read-only: viewer, promoter or monitor")
        return value


class BackupSettings(_Section):
    """`hub export DIR` and `hub restore DIR`."""

    signing_key: SecretStr | None = Field(
        default=None,
        description="Key of the HMAC-SHA256 signature of backup manifests: exports are signed, "
        "and restore refuses a backup that is unsigned or signed with another key.",
    )

    @property
    def key(self) -> bytes | None:
        return self.signing_key.get_secret_value().encode() if self.signing_key else None


class ScoreboardSettings(_Section):
    """Warning thresholds of the city scoreboard (shares: 0.8 is 80%).

    A rate below ``*_red`` is red, below ``*_yellow`` yellow, otherwise green. The completion
    thresholds apply to the completion rate divided by the share of the plan year elapsed
    (序时进度), so 0.9 means "below 90% of schedule"."""

    landing_red: float = Field(default=0.7, ge=0.0, le=10.0, description="Landing rate below: red.")
    landing_yellow: float = Field(
        default=0.85, ge=0.0, le=10.0, description="Landing rate below: yellow."
    )
    completion_red: float = Field(
        default=0.8, ge=0.0, le=10.0, description="Completion against schedule below: red."
    )
    completion_yellow: float = Field(
        default=0.95, ge=0.0, le=10.0, description="Completion against schedule below: yellow."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ScoreboardSettings:
        for kind in ("landing", "completion"):
            if getattr(self, f"{kind}_red") > getattr(self, f"{kind}_yellow"):
                name = f"HUB_SCOREBOARD_{kind.upper()}"
                raise ValueError(f"{name}_RED must not exceed {name}_YELLOW")
        return self


class SensingSettings(_Section):
    """Investment sensing and evaluation (issue 10): barometer bands, forecast, tracking, race.

    Percentiles run 0 (lowest on record) to 100 (highest); a heat level starts at its bound."""

    heat_cool_from: float = Field(default=20.0, ge=0, le=100, description="Cool from here.")
    heat_normal_from: float = Field(default=40.0, ge=0, le=100, description="Normal from here.")
    heat_warm_from: float = Field(default=60.0, ge=0, le=100, description="Warm from here.")
    heat_hot_from: float = Field(default=80.0, ge=0, le=100, description="Hot from here.")
    min_history: int = Field(
        default=12, ge=2, le=1000, description="Values (current included) a percentile needs."
    )
    history_window: int = Field(
        default=0, ge=0, le=10_000, description="Latest values a percentile ranks among; 0: all."
    )
    investment_indicator: str = Field(
        default="fai_growth", description="Fixed-asset investment growth: forecast target."
    )
    gdp_indicator: str = Field(default="gdp_growth", description="GDP growth, for targets.")
    forecast_max_lag: int = Field(
        default=6, ge=1, le=24, description="Longest lead (periods) an indicator may have."
    )
    forecast_min_train: int = Field(
        default=24, ge=6, le=1000, description="Periods the first backtest fit trains on."
    )
    confidence: float = Field(
        default=0.9, gt=0, lt=1, description="Level of forecast and target intervals."
    )
    tracking_red: float = Field(
        default=0.8, ge=0, le=10, description="Progress ratio below this: red."
    )
    tracking_yellow: float = Field(
        default=0.95, ge=0, le=10, description="Progress ratio below this: yellow."
    )
    race_leaders: int = Field(default=3, ge=1, le=100, description="Places that lead the race.")
    race_normalisation: str = Field(
        default="min_max", pattern=r"^(min_max|z_score)$", description="min_max or z_score."
    )

    @model_validator(mode="after")
    def _ordered(self) -> SensingSettings:
        bands = ("cool", "normal", "warm", "hot")
        for low, high in itertools.pairwise(bands):
            if getattr(self, f"heat_{low}_from") > getattr(self, f"heat_{high}_from"):
                raise ValueError(
                    f"HUB_SENSING_HEAT_{low.upper()}_FROM must not exceed "
                    f"HUB_SENSING_HEAT_{high.upper()}_FROM"
                )
        if self.tracking_red > self.tracking_yellow:
            raise ValueError("HUB_SENSING_TRACKING_RED must not exceed HUB_SENSING_TRACKING_YELLOW")
        return self


class FusionSettings(_Section):
    """Daily evidence per project (issue 8): how power, labor, camera and satellite readings
    become an activity status, and when reported progress and evidence disagree.

    Shares are of the project's own baseline (power: median kWh of its active days; labor:
    median headcount of its days with workers). A feed's day is active at or above
    ``resumption_share`` (the grid's 30% rule), low above ``low_share``, idle below."""

    resumption_share: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="Day's figure over baseline from which a feed is active.",
    )
    low_share: float = Field(
        default=0.1, ge=0, le=1, description="Over baseline from which a feed is low, not idle."
    )
    baseline_days: int = Field(
        default=90, ge=7, le=400, description="Days of history a baseline is taken from."
    )
    permit_grace_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="Attendance is expected from this long after the permit.",
    )
    camera_active: float = Field(
        default=0.2, ge=0, le=1, description="Daily active_fraction from which a camera is active."
    )
    camera_low: float = Field(
        default=0.05, ge=0, le=1, description="Daily active_fraction from which a camera is low."
    )
    satellite_days: int = Field(
        default=30, ge=1, le=365, description="A satellite observation counts this many days."
    )
    weight_power: float = Field(default=0.4, ge=0, le=10, description="Weight of power evidence.")
    weight_labor: float = Field(default=0.3, ge=0, le=10, description="Weight of labor evidence.")
    weight_camera: float = Field(default=0.2, ge=0, le=10, description="Weight of camera evidence.")
    weight_satellite: float = Field(
        default=0.1, ge=0, le=10, description="Weight of satellite evidence."
    )
    active_score: float = Field(
        default=0.6, ge=0, le=1, description="Weighted score from which a project is ACTIVE."
    )
    low_score: float = Field(
        default=0.25, ge=0, le=1, description="Weighted score from which a project is LOW."
    )
    window_days: int = Field(
        default=31,
        ge=1,
        le=400,
        description="Days of evidence kept in memory (a half-month and more).",
    )
    mismatch_days: int = Field(
        default=7, ge=1, le=90, description="Idle days under construction that make a mismatch."
    )
    idle_days: int = Field(
        default=3, ge=1, le=90, description="Consecutive IDLE days that raise PROJECT_IDLE."
    )
    jump_factor: float = Field(
        default=2.0,
        gt=1,
        le=100,
        description="A month's reported investment over this × earlier months' median: a jump.",
    )
    jump_active_share: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="A jump needs at least this share of ACTIVE days in its month.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> FusionSettings:
        if self.low_share > self.resumption_share:
            raise ValueError("HUB_FUSION_LOW_SHARE must not exceed HUB_FUSION_RESUMPTION_SHARE")
        if self.camera_low > self.camera_active:
            raise ValueError("HUB_FUSION_CAMERA_LOW must not exceed HUB_FUSION_CAMERA_ACTIVE")
        if self.low_score > self.active_score:
            raise ValueError("HUB_FUSION_LOW_SCORE must not exceed HUB_FUSION_ACTIVE_SCORE")
        return self


class MpiSettings(_Section):
    """The Major Project Progress Index (重大项目推进指数): weights of its four rates and the
    red/yellow thresholds of the index (0–100)."""

    weight_resumption: float = Field(
        default=0.3, ge=0, le=10, description="Weight of the continuing-project resumption rate."
    )
    weight_start: float = Field(
        default=0.3, ge=0, le=10, description="Weight of the new-project start rate."
    )
    weight_completion: float = Field(
        default=0.25,
        ge=0,
        le=10,
        description="Weight of annual investment completion (against schedule).",
    )
    weight_verification: float = Field(
        default=0.15, ge=0, le=10, description="Weight of the big-data verification rate."
    )
    red: float = Field(default=80.0, ge=0, le=100, description="An index below this is red.")
    yellow: float = Field(default=90.0, ge=0, le=100, description="An index below this is yellow.")
    list: str = Field(default="provincial", description="Built-in project list the index covers.")
    interval_s: float = Field(
        default=300.0, ge=1, le=86400, description="Scheduled recomputation and snapshot interval."
    )

    @model_validator(mode="after")
    def _ordered(self) -> MpiSettings:
        if self.red > self.yellow:
            raise ValueError("HUB_MPI_RED must not exceed HUB_MPI_YELLOW")
        weights = (self.weight_resumption, self.weight_start, self.weight_completion)
        if sum(weights) + self.weight_verification <= 0:
            raise ValueError("HUB_MPI_WEIGHT_*: at least one weight must be positive")
        if self.list not in ("all", "leaders", "provincial", "city", "county"):
            raise ValueError("HUB_MPI_LIST: one of all, leaders, provincial, city, county")
        return self


class AlertsSettings(_Section):
    """The alert lifecycle: how often conditions are checked, and how fast evidence follows
    readings."""

    check_interval_s: float = Field(
        default=60.0,
        ge=0.05,
        le=3600,
        description="How often stale feeds and other conditions are checked.",
    )
    debounce_s: float = Field(
        default=1.0,
        ge=0,
        le=600,
        description="Readings are gathered this long before evidence is recomputed.",
    )
    queue: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Alert events an alertFeed client may fall behind.",
    )
    enabled: bool = Field(default=True, description="Run fusion, MPI and alert checks in the hub.")
    notify_config: Path | None = Field(
        default=None,
        description="JSON file of notification channels and rules (docs/alerts.md); unset: "
        "no notifications.",
    )


class SatelliteSettings(_Section):
    """The satellite connector (issue 7): Sentinel Hub or Copernicus Data Space, quotas, and the
    change detector's thresholds. Off unless ``HUB_SATELLITE_ENABLED`` and credentials are set."""

    enabled: bool = Field(default=False, description="Refresh parcels from Sentinel Hub.")
    base_url: str = Field(
        default="https://sh.dataspace.copernicus.eu",
        description="Sentinel Hub API base (CDSE by default; services.sentinel-hub.com works).",
    )
    token_url: str = Field(
        default="https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/"
        "openid-connect/token",
        description="OAuth2 client-credentials token endpoint.",
    )
    collection_url: str | None = Field(
        default=None,
        description="Service URL of the Sentinel-2 L2A collection; unset: the base URL.",
    )
    landsat: bool = Field(
        default=False,
        description="Landsat 8/9 Collection-2 L2 passes as well as Sentinel-2's (about 45 more "
        "looks a year through clouds, under a point more sites confirmed within 60 days on "
        "the bench; a second statistics request per parcel, so a quota covers half the "
        "parcels). Off by default: CDSE, the default service, is not known to serve "
        "landsat-ot-l2; turn it on with a service that does (HUB_SATELLITE_LANDSAT_URL).",
    )
    landsat_url: str | None = Field(
        default=None,
        description="Service URL of the landsat-ot-l2 collection (Sentinel Hub serves it from "
        "https://services-uswest2.sentinel-hub.com); unset: the Sentinel-2 collection's URL.",
    )
    client_id: str | None = Field(default=None, description="OAuth2 client id.")
    client_secret: SecretStr | None = Field(
        default=None, description="OAuth2 client secret; never logged."
    )
    cache_dir: Path | None = Field(
        default=None, description="Per-parcel series cache; unset: <data dir>/satellite."
    )
    resolution_m: float = Field(default=10.0, gt=0, le=60, description="Pixel size, m.")
    history_days: int = Field(
        default=400,
        ge=30,
        le=3650,
        description="First refresh fetches this far back (the detector needs a year).",
    )
    refresh_days: float = Field(
        default=5.0, gt=0, le=90, description="Cadence of refreshes (Sentinel-2 revisits: 5)."
    )
    requests_per_minute: int = Field(
        default=300, ge=1, le=100_000, description="Account quota: requests per minute."
    )
    requests_per_month: int = Field(
        default=10_000, ge=1, le=100_000_000, description="Account quota: requests per month."
    )
    units_per_month: float | None = Field(
        default=None,
        gt=0,
        description="Account quota: processing units per month (estimated per request); unset: "
        "not counted.",
    )
    concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Parcels fetched at once (the per-minute quota still spaces the requests).",
    )
    max_attempts: int = Field(
        default=4, ge=1, le=20, description="Attempts per request on 5xx and connection errors."
    )
    retry_sleep_s: float = Field(
        default=5.0, ge=0, le=600, description="First wait before a retry (tripled each time)."
    )
    timeout_s: float = Field(default=120.0, gt=0, le=3600, description="Per-request timeout, s.")
    min_valid_share: float = Field(
        default=0.4, gt=0, le=1, description="Share of clear pixels an observation needs."
    )
    min_area_m2: float = Field(
        default=5_000.0, ge=0, description="Parcels smaller than this are marked, not judged."
    )
    min_ndvi_loss: float = Field(
        default=0.15,
        gt=0,
        le=1,
        description="NDVI fall below the same calendar window of prior years that flags a pass.",
    )
    min_soil_gain: float = Field(
        default=0.05, ge=0, le=1, description="BSI or NDBI rise over that window that flags it."
    )
    persist_days: int = Field(
        default=10,
        ge=0,
        le=365,
        description="Days flagged passes that look like a site (patchy, or as bare as graded "
        "subsoil) must last to confirm; a uniform bare run waits 75 days (ploughing).",
    )


class CameraSettings(_Section):
    """Camera polling inside the hub (issue 6). Per-camera settings live on the Sensor nodes."""

    enabled: bool = Field(
        default=True,
        description="Poll every camera sensor that has a configuration; false when stand-alone "
        "workers do.",
    )
    refresh_s: float = Field(
        default=30.0, gt=0, le=3600, description="How often camera configurations are re-read, s."
    )


class MetricsSettings(_Section):
    """Prometheus ``/metrics``: counts and latencies, never data (no sensor ids, project codes,
    queries or payloads).

    A scrape is allowed from ``allow_from`` (loopback by default) or with
    ``Authorization: Bearer <token>``; API keys are not used, since metrics must answer while
    the graph (where keys live) is down."""

    enabled: bool = Field(default=True, description="Serve /metrics.")
    token: SecretStr | None = Field(
        default=None, description="Bearer token a scraper may present; never logged."
    )
    allow_from: str = Field(
        default="127.0.0.0/8,::1/128",
        description="Comma-separated networks (CIDR) allowed to scrape without the token; "
        "empty: the token only.",
    )
    max_operations: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Distinct GraphQL operation names kept as labels; later ones count as "
        "'other', so clients cannot grow the label set without bound.",
    )

    @field_validator("allow_from")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in _split(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not a network such as 10.0.0.0/8") from None
        return value

    @property
    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(part, strict=False) for part in _split(self.allow_from))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Settings(BaseSettings):
    """Everything the hub reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default=Path("data"), description="Where embedded stores keep data.")
    log_level: LogLevel = Field(default=LogLevel.INFO, description="Logging threshold.")
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="text for people, json (one object a line, with request_id) for collectors.",
    )
    environment: Environment = Field(
        default=Environment.DEVELOPMENT, description="production turns off GraphiQL."
    )
    graph: GraphSettings = Field(default_factory=GraphSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    chains: ChainSettings = Field(default_factory=ChainSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    scoreboard: ScoreboardSettings = Field(default_factory=ScoreboardSettings)
    sensing: SensingSettings = Field(default_factory=SensingSettings)
    fusion: FusionSettings = Field(default_factory=FusionSettings)
    mpi: MpiSettings = Field(default_factory=MpiSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    satellite: SatelliteSettings = Field(default_factory=SatelliteSettings)
    camera: CameraSettings = Field(default_factory=CameraSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    @property
    def graphiql(self) -> bool:
        return self.http.graphiql and self.environment is Environment.DEVELOPMENT


def env_name(loc: tuple[int | str, ...]) -> str:
    """The variable behind a validation error location, e.g. ('http', 'port') → HUB_HTTP_PORT."""
    return ENV_PREFIX + "_".join(str(part).upper() for part in loc[:2])


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> Settings:
    """Read settings from ``environ`` (default: the process environment) and ``env_file``.

    Tests pass the environment as a dict; a wrong value raises ``ConfigurationError`` whose
    message names each offending variable.
    """
    try:
        if environ is None:
            return Settings(_env_file=env_file)
        return _from_mapping(environ)
    except ValidationError as exc:
        lines = [f"{env_name(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(lines)) from None


def _from_mapping(environ: Mapping[str, str]) -> Settings:
    # Same parsing rules as the real environment, without touching os.environ or .env.
    values: dict[str, Any] = {}
    sections = {name for name, f in Settings.model_fields.items() if _is_section(f.annotation)}
    for key, value in environ.items():
        if not key.upper().startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        head, _, tail = name.partition("_")
        if head in sections and tail:
            values.setdefault(head, {})[tail] = value
        else:
            values[name] = value
    return Settings.model_validate(values)


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, _Section)
