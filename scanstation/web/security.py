"""Sessions, CSRF tokens, the login rate limit and the security headers of the network service.

Sessions live in the service's memory (a restart logs everyone out): a random token in a cookie
that is HttpOnly, SameSite=Strict and Secure when the service runs with TLS; for stations, the
same kind of token sent as ``Authorization: Bearer`` (never as a cookie, so the upload API is
not reachable by cross-site requests). Each browser session has its own CSRF token, required in
every form that changes anything. Failed logins are counted per address and per user name.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "ss_session"
PRE_COOKIE = "ss_login"  # double-submit token of the login form (there is no session yet)
LANG_COOKIE = "ss_lang"
MAX_FAILURES = 5  # failed logins per window for one user name
MAX_ADDRESS_FAILURES = 20  # ... and from one address (a shared office address tries several names)
FAILURE_WINDOW = 300.0  # seconds

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


@dataclass
class WebSession:
    token: str
    user: str
    kind: str  # browser | api
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)


class SessionStore:
    def __init__(self, idle_seconds: float = 1800.0):
        self.idle = idle_seconds
        self._items: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def create(self, user: str, kind: str) -> WebSession:
        item = WebSession(secrets.token_urlsafe(32), user, kind)
        with self._lock:
            self._items[item.token] = item
        return item

    def get(self, token: str | None, kind: str) -> WebSession | None:
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            item = self._items.get(token)
            if item is None or item.kind != kind:
                return None
            if now - item.last > self.idle:
                del self._items[token]
                return None
            item.last = now
            return item

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._items.pop(token or "", None)


class LoginLimiter:
    """At most MAX_FAILURES failed logins per FAILURE_WINDOW for one user name, MAX_ADDRESS_FAILURES from one address."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = FAILURE_WINDOW,
        max_address_failures: int = MAX_ADDRESS_FAILURES,
    ):
        self.max, self.window, self.max_address = max_failures, window, max_address_failures
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = times
        return times

    def wait_seconds(self, address: str, user: str) -> int:
        """0 when a login may be tried now, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in ((f"a:{address}", self.max_address), (f"u:{user.lower()}", self.max)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(int(self.window - (now - times[0])) + 1)
            return max(waits, default=0)

    def failed(self, address: str, user: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"a:{address}", f"u:{user.lower()}"):
                self._recent(key, now).append(now)

    def succeeded(self, address: str, user: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{user.lower()}", None)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def headers(tls: bool) -> list[tuple[bytes, bytes]]:
    out = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if tls:
        out.append((b"strict-transport-security", b"max-age=31536000"))
    return out


class SecurityHeaders:
    """ASGI middleware: the security headers on every answer, and no caching of anything personal."""

    def __init__(self, app, tls: bool):
        self.app = app
        self.extra = headers(tls)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope.get("path", "").startswith("/static/")

        async def wrapped(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in self.extra if h[0] not in names]
                if not static and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        return await self.app(scope, receive, wrapped)
