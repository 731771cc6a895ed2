"""API keys: who a caller is.

A key reads ``elh_<id>_<secret>``: ``id`` (12 hex digits) finds its record, ``secret`` (32
random bytes, base64url) proves it. Only ``SHA-256(secret)`` is stored, in the graph beside
everything else the API replicas share (``(:ApiKey)``); a fast hash is right here because the
secret is random, not a password, and it keeps verification cheap. The key is printed once at
creation and cannot be recovered.

Requests send ``Authorization: Bearer <key>``; WebSocket clients (browsers cannot set headers
on the upgrade) send it in ``connection_init``'s payload as ``{"Authorization": "Bearer ..."}``.
A key's role decides what it may do; a bank key is bound to one bank, which becomes the
request's subject. Without a key a request gets ``HUB_AUTH_ANONYMOUS_ROLE`` (read-only roles
only), or is refused as UNAUTHENTICATED when that is unset. Verified keys are trusted for
``HUB_AUTH_CACHE_S`` seconds, so a revocation takes effect within that time on every replica.

A key may expire (``hub keys create --expires-in 90d`` or ``--expires 2027-03-31``): from its
``expires_at`` on it is refused with ``KEY_EXPIRED`` (checked on every request, cache or not,
against the authenticator's injectable clock), and open WebSockets of it are closed with 4403
like those of a revoked key. Keys without an expiry never expire.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from graph_schema.errors import GraphUnavailable, InvalidInput, NotFound, Unauthenticated
from graph_schema.model import SPECS
from graph_schema.statements.entities import existing_keys
from graph_schema.statements.keys import CREATE_KEY, FETCH_KEY, LIST_KEYS, REVOKE_KEY
from graph_schema.store import GraphStore
from hub.clock import Clock, system_clock
from hub.roles import Role

PREFIX = "elh"
_KEY_RE = re.compile(r"^elh_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# Roles a caller without a key may be given: none of them writes or sees finance details.
READ_ONLY_ROLES = frozenset({Role.VIEWER, Role.PROMOTER, Role.MONITOR})
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}
# The longest life a key may be given: ten years.
MAX_LIFE = dt.timedelta(days=3653)


class KeyExpired(Unauthenticated):
    """A real key past its expiry date: the caller needs a new one (``hub keys create``)."""

    code = "KEY_EXPIRED"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a role, the bank a bank key is bound to, the key's id."""

    role: Role
    subject: str | None = None
    key_id: str | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    name: str | None
    role: Role
    bank_id: str | None
    created_at: str
    revoked_at: str | None
    expires_at: str | None = None

    def state(self, now: dt.datetime) -> str:
        """``active``, ``revoked`` or ``expired`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and dt.datetime.fromisoformat(self.expires_at) <= now:
            return "expired"
        return "active"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def expiry(
    *, expires_in: str | None = None, expires: str | None = None, now: dt.datetime
) -> dt.datetime | None:
    """When a key made at ``now`` expires: ``expires_in`` a duration (``90d``, ``12h``,
    ``4w``) or ``expires`` a date (``2027-03-31``: the start of that day, UTC) or an ISO
    date-time (UTC when it names no offset). Neither: never. It must be after ``now`` and
    at most ``MAX_LIFE`` ahead."""
    if expires_in is not None and expires is not None:
        raise InvalidInput("give --expires-in or --expires, not both")
    if expires_in is not None:
        match = _DURATION_RE.match(expires_in)
        if match is None:
            raise InvalidInput(
                f"--expires-in {expires_in!r}: a number and a unit, h, d or w (e.g. 90d)"
            )
        count = int(match.group(1))
        if count > MAX_LIFE / _UNITS[match.group(2)]:
            raise InvalidInput(f"--expires-in {expires_in!r}: at most {MAX_LIFE.days} days")
        at = now + count * _UNITS[match.group(2)]
    elif expires is not None:
        try:
            at = dt.datetime.fromisoformat(expires.strip())
        except ValueError:
            raise InvalidInput(
                f"--expires {expires!r}: a date (2027-03-31) or an ISO date-time"
            ) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
    else:
        return None
    at = at.astimezone(dt.UTC).replace(microsecond=0)
    if at <= now:
        raise InvalidInput(f"the key would expire at {at.isoformat()}, which is not in the future")
    if at - now > MAX_LIFE:
        raise InvalidInput(f"a key may live at most {MAX_LIFE.days} days")
    return at


async def create_key(
    store: GraphStore,
    role: Role,
    *,
    name: str | None = None,
    bank_id: str | None = None,
    expires_at: dt.datetime | None = None,
    clock: Clock = system_clock,
) -> tuple[str, KeyInfo]:
    """Store a new key and return it in plain text (the only time it exists) with its record.
    With ``expires_at`` (an aware date-time after ``clock()``), it is refused from then on."""
    now = clock()
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise InvalidInput("a key's expiry must be a time zone aware moment in the future")
    if role is Role.ANONYMOUS:
        raise InvalidInput("a key needs a role other than anonymous")
    if (role is Role.BANK) != (bank_id is not None):
        raise InvalidInput("a bank key needs --bank, and only a bank key takes one")
    if bank_id is not None:
        found = await store.run(existing_keys(SPECS["bank"]), {"keys": [bank_id]})
        if not found:
            raise NotFound(f"no bank {bank_id!r}")
    if name is not None and len(name) > 200:
        raise InvalidInput("name: at most 200 characters")
    key_id = secrets.token_hex(6)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    created = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    expires = expires_at.astimezone(dt.UTC).isoformat(timespec="seconds") if expires_at else None
    await store.run(
        CREATE_KEY,
        {
            "id": key_id,
            "hash": _hash(secret),
            "role": role.value,
            "bank_id": bank_id,
            "name": name,
            "created_at": created,
            "expires_at": expires,
        },
    )
    info = KeyInfo(key_id, name, role, bank_id, created, None, expires)
    return f"{PREFIX}_{key_id}_{secret}", info


async def list_keys(store: GraphStore) -> list[KeyInfo]:
    return [
        KeyInfo(
            r["id"],
            r["name"],
            Role(r["role"]),
            r["bank_id"],
            r["created_at"],
            r["revoked_at"],
            r["expires_at"],
        )
        for r in await store.run(LIST_KEYS)
    ]


async def revoke_key(store: GraphStore, key_id: str) -> str:
    """Revoke a key by its id; return when it was revoked (the first time, if repeated)."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = await store.run(REVOKE_KEY, {"id": key_id, "at": at})
    if not rows:
        raise NotFound(f"no key {key_id!r}")
    return str(rows[0]["revoked_at"])


class Authenticator:
    """Turns an ``Authorization`` value into a ``Principal``, with a short cache."""

    def __init__(
        self,
        store: GraphStore,
        *,
        anonymous_role: Role | None,
        cache_s: float = 30.0,
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._anonymous = anonymous_role
        self._cache_s = cache_s
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.strip():
            if self._anonymous is None:
                raise Unauthenticated(
                    "send an API key: Authorization: Bearer elh_... (hub keys create)"
                )
            return Principal(self._anonymous)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must read: Bearer <API key>")
        match = _KEY_RE.match(token.strip())
        if match is None:
            raise Unauthenticated("that is not an API key of this hub")
        key_id, secret = match.groups()
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > now:
            principal = hit[1]
        else:
            principal = await self._verify(key_id, secret)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now + self._cache_s, principal)
        if principal is None:
            raise Unauthenticated("unknown or revoked API key")
        if self.expired(principal):
            raise KeyExpired(f"API key {principal.key_id} expired; ask for a new one")
        return principal

    def expired(self, principal: Principal) -> bool:
        """Whether ``principal``'s key has expired by the authenticator's clock."""
        return principal.expires_at is not None and principal.expires_at <= self._clock()

    async def recheck(self, authorization: str) -> str | None:
        """Why the key of ``authorization`` is no longer good (``revoked``, ``expired``), or
        ``None`` while it is, asked of the store (not the cache): open WebSockets call this
        every cache period, so a revocation reaches them within it. A store that cannot
        answer counts as still good (the next check decides)."""
        scheme, _, token = authorization.strip().partition(" ")
        match = _KEY_RE.match(token.strip())
        if scheme.lower() != "bearer" or match is None:
            return "revoked"
        try:
            principal = await self._verify(*match.groups())
        except GraphUnavailable:
            return None
        if principal is None:
            self._cache.pop(token, None)
            return "revoked"
        return "expired" if self.expired(principal) else None

    async def _verify(self, key_id: str, secret: str) -> Principal | None:
        rows = await self._store.run(FETCH_KEY, {"id": key_id})
        if not rows or rows[0]["revoked_at"] is not None:
            return None
        row = rows[0]
        if not hmac.compare_digest(str(row["hash"]), _hash(secret)):
            return None
        expires = row.get("expires_at")
        expires_at = dt.datetime.fromisoformat(str(expires)) if expires is not None else None
        return Principal(Role(row["role"]), row["bank_id"], key_id, expires_at)
