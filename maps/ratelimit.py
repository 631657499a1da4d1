"""Per-client limits on submissions (concerns, walk stops, access codes), without keeping anyone's
address.

Convive stores no IP address (see DESIGN.md, "Anonymous by default"). To count a client's
submissions we keep only a keyed hash of its address: HMAC-SHA256 keyed with SECRET_KEY plus the
current UTC date, truncated. Without the secret the hash cannot be turned back into an address, and
because the key changes every day, yesterday's counters cannot be linked to today's. Counters live
in Django's cache (Redis in production) and expire with their window.

Settings (read with defaults so the module works in any environment):

- ``CONVIVE_RATE_LIMIT``: ``"N/seconds"``, default ``"20/3600"``.
- ``CONVIVE_RATE_LIMIT_ENABLED``: default True (off in the test settings).
- ``CONVIVE_TRUSTED_PROXY_HEADER``: empty by default, so ``REMOTE_ADDR`` is used. Behind a reverse
  proxy that you control, name the header it sets (``X-Forwarded-For`` or ``X-Real-IP``); the
  right-most address in it is taken, the one your proxy added. Never set it when the site is
  reachable without the proxy: clients could then pick their own address.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

DEFAULT_RATE = "20/3600"
DIGEST_CHARS = 32  # 128 bits: collisions between clients are negligible, reversal impossible


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the current window ends


def rate_parse(value: str) -> tuple[int, int]:
    """ "20/3600" → (20, 3600). A malformed setting falls back to the default, never to no limit."""
    try:
        count, seconds = (int(part) for part in str(value).split("/", 1))
    except ValueError:
        count, seconds = (int(part) for part in DEFAULT_RATE.split("/"))
    return max(count, 1), max(seconds, 1)


def client_address(request: HttpRequest) -> str:
    """The client's address as this deployment can trust it (see the module docstring)."""
    header = getattr(settings, "CONVIVE_TRUSTED_PROXY_HEADER", "") or ""
    if header:
        meta_name = header.upper().replace("-", "_")
        if not meta_name.startswith("HTTP_"):
            meta_name = f"HTTP_{meta_name}"
        forwarded = request.META.get(meta_name, "")
        candidates = [part.strip() for part in forwarded.split(",") if part.strip()]
        if candidates:
            return candidates[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_key(request: HttpRequest, *, now: float | None = None) -> str:
    """A keyed, daily-rotating hash of the client's address: the only trace of it we keep."""
    day = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC).date().isoformat()
    key = f"{settings.SECRET_KEY}:{day}".encode()
    digest = hmac.new(key, client_address(request).encode(), hashlib.sha256).hexdigest()
    return digest[:DIGEST_CHARS]


def rate_limit_exempt(request: HttpRequest) -> bool:
    """Facilitators entering residents' paper forms must not be slowed down."""
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_staff or user.has_perm("wagtailadmin.access_admin"))
    )


def rate_limit_hit(*, request: HttpRequest, scope: str, rate: str | None = None) -> RateLimitResult:
    """Count one attempt by this client in `scope` and say whether it is within the limit.

    The window opens at a client's first attempt and lasts `seconds` (so there is no clock
    boundary at which a burst of twice the limit gets through). Two cache keys, both created with
    `add()` and expiring with the window: the counter (incremented atomically on Redis, under a
    lock on local memory; increments keep the expiry) and the window's start, for Retry-After.
    `rate` ("N/seconds") overrides `CONVIVE_RATE_LIMIT` for scopes with their own limit.
    """
    limit, seconds = rate_parse(rate or getattr(settings, "CONVIVE_RATE_LIMIT", DEFAULT_RATE))
    if not getattr(settings, "CONVIVE_RATE_LIMIT_ENABLED", True) or rate_limit_exempt(request):
        return RateLimitResult(allowed=True, count=0, limit=limit, retry_after=0)
    now = time.time()
    base = f"convive:rl:{scope}:{client_key(request, now=now)}"
    cache.add(f"{base}:start", int(now), timeout=seconds)
    cache.add(base, 0, timeout=seconds)
    try:
        count = cache.incr(base)
    except ValueError:  # expired between add() and incr()
        cache.set(base, 1, timeout=seconds)
        count = 1
    started = cache.get(f"{base}:start") or int(now)
    retry_after = min(seconds, max(1, int(started + seconds - now) + 1))
    return RateLimitResult(
        allowed=count <= limit, count=count, limit=limit, retry_after=retry_after
    )
