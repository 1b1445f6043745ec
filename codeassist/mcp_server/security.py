"""What guards the HTTP transport: a bearer token (required off loopback) and the ``Origin``
header (DNS-rebinding protection: a web page in the user's browser must not reach the server).

A pure ASGI middleware, so Server-Sent Event streams pass through unbuffered and the lifespan
(which runs the MCP session manager) reaches the app.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any, Awaitable, Callable

__all__ = ["HttpGuard", "is_loopback", "default_origins"]

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_origins(port: int) -> list[str]:
    """Origins of pages served by this machine's loopback addresses on the server's port."""
    return [f"http://{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")]


class HttpGuard:
    """401 without the right ``Authorization: Bearer`` token (when one is set); 403 when an
    ``Origin`` header names an origin not allowed. Clients that send no Origin (agents, CLIs)
    pass the Origin check; browsers always send one."""

    def __init__(self, app: ASGIApp, *, token: str | None, allowed_origins: list[str]) -> None:
        self.app = app
        self.token = token
        self.allowed = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.token is not None:
            given = headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if not (scheme.lower() == "bearer"
                    and hmac.compare_digest(value.strip().encode("latin-1"), self.token.encode("utf-8"))):
                await _deny(send, 401, "missing or wrong bearer token; send Authorization: Bearer <token>",
                            {"www-authenticate": 'Bearer realm="codeassist"'})
                return
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/").lower() not in self.allowed:
            await _deny(send, 403, f"origin {origin[:200]!r} is not allowed; start the server with --allow-origin")
            return
        await self.app(scope, receive, send)


async def _deny(send: Callable[[dict], Awaitable[None]], status: int, message: str,
                extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
