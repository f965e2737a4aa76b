"""Pure ASGI middleware: headers, access log and crash guard, rate limit, auth, body limit.

Order, outermost first: ResponseHeaders -> AccessLog -> RateLimit -> Auth ->
BodyLimit -> the app. So every response, errors included, carries the
security headers; the access log sees every status; unauthenticated clients
are rate-limited by address before their token is checked; and no body is
read for a request that is refused anyway.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dxrx.web.errors import error_body, scrubbed_traceback
from dxrx.web.security import (
    CSRF_STATE_KEY,
    SECURITY_HEADERS,
    RateLimiter,
    credentials,
    csrf_cookie_header,
    retry_after,
    token_actor,
    token_matches,
)
from dxrx.web.settings import Settings

access_log = logging.getLogger("dxrx.web.access")
error_log = logging.getLogger("dxrx.web")

PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/docs",
        "/docs/init.js",
        "/docs/openapi-3.0.json",
        "/openapi.json",
        "/favicon.ico",
    }
)
PUBLIC_PREFIXES = ("/static/", "/docs-static/")
UNLIMITED_PREFIXES = ("/healthz", "/static/", "/docs-static/")
API_PREFIXES = ("/v1", "/cds-services", "/openapi.json")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return f"client:{client[0]}" if client else "client:unknown"


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode("ascii")),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class ResponseHeadersMiddleware:
    """Security headers on every response; no caching of anything but static assets;
    and the CSRF cookie when :func:`csrf_token` minted a token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _state(scope)
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS:
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if not path.startswith(PUBLIC_PREFIXES) and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                minted = state.get(CSRF_STATE_KEY)
                if isinstance(minted, str):
                    cookie = csrf_cookie_header(minted, secure=scope.get("scheme") == "https")
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AccessLogMiddleware:
    """One log line per request (method, route template, status, ms, analysis id; never
    the query string or body), and a JSON 500 instead of a traceback for any crash."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _state(scope)
        start = time.perf_counter()
        status = 500
        started = False

        async def watch(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            status = 500
            error_log.error(
                "unhandled %s on %s %s\n%s",
                type(exc).__name__,
                scope.get("method", "?"),
                self._route(scope),
                scrubbed_traceback(exc),
            )
            if not started:
                detail = "an unexpected error occurred; it has been logged"
                await send_json(send, 500, error_body(500, detail, "internal error"))
        finally:
            ms = (time.perf_counter() - start) * 1000
            access_log.info(
                "%s %s %d %.1fms analysis=%s",
                scope.get("method", "?"),
                self._route(scope),
                status,
                ms,
                state.get("analysis_id") or "-",
            )

    @staticmethod
    def _route(scope: Scope) -> str:
        """The path template (``/v1/analyses/{analysis_id}``), never the concrete path."""
        route = scope.get("route")
        template = getattr(route, "path", None) or getattr(route, "path_format", None)
        if isinstance(template, str):
            return template
        path: str = scope.get("path", "")
        for prefix in PUBLIC_PREFIXES:  # the static mounts
            if path.startswith(prefix):
                return prefix + "{path}"
        return "<unmatched>"


class RateLimitMiddleware:
    """429 with Retry-After once a client (its token, else its address) runs dry."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, settings: Settings) -> None:
        self.app = app
        self.limiter = limiter
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        key = client_address(scope)
        token = self.settings.token
        if token is not None:
            _user, presented = credentials(_header(scope, b"authorization"))
            if token_matches(token, presented):
                key = token_actor(token)
        wait = self.limiter.acquire(key)
        if wait > 0:
            headers = [(b"retry-after", retry_after(wait).encode("ascii"))]
            detail = f"at most {self.settings.rate_limit_per_minute} requests a minute per client"
            await send_json(send, 429, error_body(429, detail, "rate limit exceeded"), headers)
            return
        await self.app(scope, receive, send)


class AuthMiddleware:
    """When a token is configured, every non-public path needs it; records the actor."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _state(scope)
        token = self.settings.token
        user, presented = credentials(_header(scope, b"authorization"))
        if token is not None and token_matches(token, presented):
            state["actor"] = token_actor(token, user)
        else:
            state["actor"] = client_address(scope)
            path: str = scope.get("path", "")
            if self.settings.auth_required and not is_public(path):
                await self._refuse(scope, send, path, presented is not None)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, path: str, tried: bool) -> None:
        detail = (
            "the API token is wrong"
            if tried
            else "this server needs an API token: send 'Authorization: Bearer <token>'"
        )
        challenge = b'Bearer realm="dxrx"'
        accept = _header(scope, b"accept") or ""
        if not path.startswith(API_PREFIXES) and "text/html" in accept:
            challenge = b'Basic realm="dxrx", charset="UTF-8"'  # the browser asks for it
        headers = [(b"www-authenticate", challenge)]
        await send_json(send, 401, error_body(401, detail, "unauthorized"), headers)


class BodyLimitMiddleware:
    """413 for a request body over ``max_bytes``, by Content-Length or as it streams in.

    The body is buffered (it is at most ``max_bytes``) and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and not declared.isdigit():
            detail = "the Content-Length header is not a number"
            await send_json(send, 400, error_body(400, detail))
            return
        if declared is not None and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        detail = f"the request body is larger than {self.max_bytes} bytes"
        await send_json(send, 413, error_body(413, detail, "request body too large"))
