"""The MCP server: every tool of :data:`codeassist.tools.TOOLS`, registered with the official SDK's
``MCPServer``, with structured output (``outputSchema`` + ``structuredContent``) and a text
rendering for models; read-only tools annotated as such; ``refresh`` reports progress.

The server keeps each served index current with a watcher (``watch=False`` turns it off) and
reads the index afresh on every call, so changes made by other processes (a CLI ``index``, a
watcher elsewhere) are seen without a restart.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from typing import Annotated, Any, Callable

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as McpToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from .. import __version__
from ..errors import CodeassistError
from ..index.watcher import Watcher
from ..tools import GIT_SPECS, TOOLS, ToolResult, ToolSpec, Workspace
from ..tools.history import is_git_repository
from .security import HttpGuard, default_origins, is_loopback

__all__ = ["build_server", "serve_stdio", "serve_http", "start_watchers"]

INSTRUCTIONS = (
    "codeassist indexes the repository (symbols, references, syntax-aware chunks, embeddings) so you can find "
    "code without reading whole files. Start with `search` (plain-language questions, identifiers or paths) or "
    "`map` for orientation; `symbols` and `references` follow definitions and callers; `read` and `outline` open "
    "what you found; `context` gives everything for one question in one call. `status` says whether the index "
    "is current; paths are relative to the repository root; lines are 1-based and inclusive."
)
log = logging.getLogger("codeassist.mcp")


def _to_result(result: ToolResult) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=result.text)], structured_content=result.data)


def _tool_function(spec: ToolSpec, workspace: Workspace) -> Callable[..., CallToolResult]:
    """A function with the tool's own signature (minus the workspace) for the SDK to read."""
    sig = inspect.signature(spec.run, eval_str=True)
    params = [p for name, p in sig.parameters.items() if name not in ("workspace", "progress")]

    def call(**arguments: Any) -> CallToolResult:
        try:
            return _to_result(spec.run(workspace, **arguments))
        except CodeassistError as exc:  # ToolError and every other error of ours: the model reads it
            raise McpToolError(str(exc)) from None
        except Exception as exc:  # a defect of ours: say what, log it, keep serving
            log.exception("tool %s failed", spec.name)
            raise McpToolError(f"internal error in {spec.name}: {type(exc).__name__}: {exc}") from None

    call.__name__ = spec.name
    call.__doc__ = spec.description
    call.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=Annotated[CallToolResult, spec.output])
    return call


def _refresh_function(spec: ToolSpec, workspace: Workspace) -> Callable[..., Any]:
    """``refresh`` runs the index in a worker thread and reports its progress (0-100)."""
    import anyio
    import anyio.from_thread
    import anyio.to_thread

    sig = inspect.signature(spec.run, eval_str=True)
    params = [p for name, p in sig.parameters.items() if name not in ("workspace", "progress")]
    shares = {"walk": (0, 5), "parse": (5, 80), "finish": (80, 85), "embed": (85, 100)}

    async def refresh(ctx: Context, **arguments: Any) -> CallToolResult:
        state = {"sent": -1.0, "at": 0.0}

        def progress(p: Any) -> None:
            low, high = shares.get(p.phase, (0, 100))
            value = low + (high - low) * (p.done / p.total if p.total else 1.0)
            now = time.monotonic()
            if value > state["sent"] and (now - state["at"] > 0.2 or value >= 100):
                state["sent"], state["at"] = value, now
                message = f"{p.phase} {p.done}/{p.total}" if p.total else p.phase
                try:
                    anyio.from_thread.run(ctx.report_progress, round(value, 1), 100.0, message)
                except Exception:  # noqa: BLE001 - the client went away: indexing goes on
                    pass

        def run() -> ToolResult:
            return spec.run(workspace, progress=progress, **arguments)

        try:
            result = await anyio.to_thread.run_sync(run)
        except CodeassistError as exc:
            raise McpToolError(str(exc)) from None
        await ctx.report_progress(100.0, 100.0, "done")
        return _to_result(result)

    ctx_param = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    refresh.__name__ = spec.name
    refresh.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[*[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params], ctx_param],
        return_annotation=Annotated[CallToolResult, spec.output])
    refresh.__annotations__ = {"ctx": Context, "return": Annotated[CallToolResult, spec.output]}
    return refresh


def build_server(workspace: Workspace) -> MCPServer:
    """An MCP server offering every tool over ``workspace``."""
    server = MCPServer("codeassist", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    git = any(is_git_repository(p.root) for p in workspace.projects.values())
    for spec in (*TOOLS, *(GIT_SPECS if git else ())):
        fn = _refresh_function(spec, workspace) if spec.name == "refresh" else _tool_function(spec, workspace)
        server.add_tool(fn, name=spec.name, title=spec.title, description=spec.description, structured_output=True,
                        annotations=ToolAnnotations(title=spec.title, read_only_hint=spec.read_only,
                                                    destructive_hint=False, idempotent_hint=True,
                                                    open_world_hint=False))
    return server


def start_watchers(workspace: Workspace, stop: threading.Event,
                   notice: Callable[[str], None]) -> list[threading.Thread]:
    """A watcher thread per served repository (they build a missing index first)."""
    threads = []
    for name, project in workspace.projects.items():
        watcher = Watcher(project.root, project.index_dir, project.settings,
                          on_notice=lambda message, n=name: notice(f"{n}: {message}"))

        def run(w: Watcher = watcher, n: str = name) -> None:
            try:
                w.run(stop)
            except CodeassistError as exc:
                notice(f"{n}: stopped watching: {exc}")
            except Exception as exc:  # noqa: BLE001 - a watcher failing must not take the server down
                notice(f"{n}: stopped watching after an unexpected error: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=run, name=f"codeassist-watch-{name}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def serve_stdio(workspace: Workspace) -> None:
    """Serve over stdin/stdout until the client closes them."""
    build_server(workspace).run("stdio")


def serve_http(workspace: Workspace, host: str, port: int, *, token: str | None,
               allowed_origins: list[str] = (), ready: Callable[[int], None] | None = None) -> None:
    """Serve over Streamable HTTP at ``http://HOST:PORT/mcp`` until interrupted. Off loopback a
    token is required (the caller makes sure of it)."""
    import socket

    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    if not is_loopback(host) and not token:
        raise CodeassistError(f"serving on {host} needs a bearer token (--token-env NAME, or one is generated)")
    server = build_server(workspace)
    if not 0 <= port <= 65535:
        raise CodeassistError(f"port {port} is out of range; pick one from 1 to 65535")
    sock = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise CodeassistError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another port or "
                              "stop what uses it") from None
    port = sock.getsockname()[1]
    origins = [*default_origins(port), *allowed_origins]
    if is_loopback(host):
        security = TransportSecuritySettings(  # Host must be a loopback name (DNS rebinding)
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"], allowed_origins=origins)
    else:  # any Host: clients reach this machine by its names; the token and Origin guard it
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = HttpGuard(server.streamable_http_app(transport_security=security, host=host), token=token,
                    allowed_origins=origins)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    uv = uvicorn.Server(config)
    if ready is not None:
        ready(port)
    uv.run(sockets=[sock])
