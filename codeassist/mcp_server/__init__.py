"""codeassist as an MCP server: the tool layer (:mod:`codeassist.tools`) over stdio or Streamable
HTTP, for Claude Code, Cursor, Codex, Zed, VS Code and any other MCP client."""

from .server import build_server, serve_http, serve_stdio
from .security import HttpGuard, is_loopback

__all__ = ["build_server", "serve_stdio", "serve_http", "HttpGuard", "is_loopback"]
