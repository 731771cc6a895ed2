"""Per-caller request rate and concurrency, and per-source key guessing: 429 with Retry-After.

A caller is its API key (the Authorization value, hashed) or, without one, its address. Each
has a token bucket (``rate_per_s`` sustained, ``burst`` at once) and at most ``concurrency``
requests in flight. Failed authentications are counted per source address in a bucket of their
own (``guesses_per_min``): a source that keeps guessing keys is refused before its guesses reach
the store. The clock is injected (tests step it).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_MAX_TRACKED = 10_000  # buckets kept; past it, the full (idle) ones are forgotten


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    in_flight: int = 0


class _Buckets:
    def __init__(self, rate_per_s: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self.buckets: dict[str, _Bucket] = {}

    def get(self, who: str) -> _Bucket:
        now = self.clock()
        bucket = self.buckets.get(who)
        if bucket is None:
            if len(self.buckets) >= _MAX_TRACKED:
                self._prune(now)
            bucket = self.buckets[who] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def wait_s(self, bucket: _Bucket) -> float:
        """Seconds until ``bucket`` has a whole token again."""
        return max(0.0, (1 - bucket.tokens) / self.rate)

    def _prune(self, now: float) -> None:
        for who, b in list(self.buckets.items()):
            if b.in_flight == 0 and b.tokens + (now - b.at) * self.rate >= self.burst:
                del self.buckets[who]
        if len(self.buckets) >= _MAX_TRACKED:  # everyone busy: forget the oldest half
            for who in sorted(self.buckets, key=lambda w: self.buckets[w].at)[: _MAX_TRACKED // 2]:
                if self.buckets[who].in_flight == 0:
                    del self.buckets[who]


@lru_cache(maxsize=1024)  # a hash per request otherwise; the keys in use are few
def _key_caller(authorization: str) -> str:
    return "key:" + hashlib.sha256(authorization.strip().encode()).hexdigest()[:32]


class Throttle:
    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: int,
        concurrency: int,
        guesses_per_min: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency
        self._requests = _Buckets(rate_per_s, burst, clock)
        self._guesses = _Buckets(guesses_per_min / 60.0, guesses_per_min, clock)

    @staticmethod
    def caller(authorization: str | None, source: str) -> str:
        if authorization and authorization.strip():
            return _key_caller(authorization)
        return "addr:" + source

    def admit(self, caller: str, source: str) -> float | None:
        """Take one request for ``caller``: ``None`` when admitted (call ``release`` after),
        else the seconds to wait before trying again."""
        guesses = self._guesses.get(source)
        if guesses.tokens < 1:
            return _retry(self._guesses.wait_s(guesses))
        bucket = self._requests.get(caller)
        if bucket.in_flight >= self.concurrency:
            return 1.0
        if bucket.tokens < 1:
            return _retry(self._requests.wait_s(bucket))
        bucket.tokens -= 1
        bucket.in_flight += 1
        return None

    def release(self, caller: str) -> None:
        bucket = self._requests.buckets.get(caller)
        if bucket is not None and bucket.in_flight > 0:
            bucket.in_flight -= 1

    def failed_authentication(self, source: str) -> None:
        """A wrong or revoked key from ``source``: one guess spent."""
        bucket = self._guesses.get(source)
        bucket.tokens = max(0.0, bucket.tokens - 1)


def _retry(seconds: float) -> float:
    return float(max(1, math.ceil(seconds)))
