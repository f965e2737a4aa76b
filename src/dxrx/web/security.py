"""Security primitives: API token checks, CSRF double-submit, rate limiting, response headers.

The token is compared with :func:`hmac.compare_digest` so a wrong guess takes
as long as a right one. Browsers reach the UI with HTTP Basic (any user name,
the token as password: the browser prompts for it on a 401), API clients with
``Authorization: Bearer``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict

from fastapi import HTTPException, Request

CSRF_COOKIE = "dxrx_csrf"
CSRF_FIELD = "csrf_token"
CSRF_STATE_KEY = "csrf_new_token"  # request.state key: a token minted this request
_CSRF_BYTES = 32

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ("cross-origin-opener-policy", "same-origin"),
)


# ---- API token -------------------------------------------------------------------


def token_matches(expected: str, presented: str | None) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def token_fingerprint(token: str) -> str:
    """A stable, non-secret name for a token holder in logs and the audit trail."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def credentials(authorization: str | None) -> tuple[str | None, str | None]:
    """(user name, token) from a Bearer or Basic ``Authorization`` header; Nones if absent."""
    if not authorization:
        return None, None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return None, value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        user, sep, password = decoded.partition(":")
        if sep and password:
            return (user.strip()[:64] or None), password
    return None, None


def token_actor(token: str, user: str | None = None) -> str:
    """Who the audit log names for a token holder (a Basic user name is self-declared)."""
    holder = f"token:{token_fingerprint(token)}"
    return f"{user} via {holder}" if user else holder


# ---- CSRF (double submit) ------------------------------------------------------------


def _well_formed(value: str | None) -> bool:
    return bool(value) and len(value or "") <= 128 and (value or "").isascii()


def csrf_token(request: Request) -> str:
    """The CSRF token to put in a form: the cookie's, or a new one the response will set.

    Double submit: a POST is accepted only when the form field equals the
    cookie, which another site can neither read nor set.
    """
    fresh = getattr(request.state, CSRF_STATE_KEY, None)
    if isinstance(fresh, str):
        return fresh
    existing = request.cookies.get(CSRF_COOKIE)
    if existing is not None and _well_formed(existing):
        return existing
    token = secrets.token_urlsafe(_CSRF_BYTES)
    setattr(request.state, CSRF_STATE_KEY, token)  # ResponseHeaders sets the cookie
    return token


def verify_csrf(request: Request, form_token: str) -> None:
    """Raise 403 unless ``form_token`` matches the CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if (
        cookie is None
        or not _well_formed(cookie)
        or not _well_formed(form_token)
        or not hmac.compare_digest(cookie.encode("ascii"), form_token.encode("ascii"))
    ):
        raise HTTPException(
            status_code=403,
            detail="CSRF check failed: reload the page and submit the form again",
        )


def csrf_cookie_header(token: str, *, secure: bool) -> str:
    flags = "Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    return f"{CSRF_COOKIE}={token}; {flags}"


# ---- rate limiting -------------------------------------------------------------------


class RateLimiter:
    """Token buckets per client: ``per_minute`` requests a minute, bursts up to that many.

    Buckets refill continuously; the least recently seen clients are dropped
    beyond ``max_clients`` (a dropped client just starts with a full bucket).
    """

    def __init__(self, per_minute: int, *, max_clients: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def acquire(self, key: str, now: float | None = None) -> float:
        """0.0 if ``key`` may proceed (a token is spent), else seconds until it may."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
