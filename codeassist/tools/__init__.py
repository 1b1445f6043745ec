"""One tool layer for models: search, symbols, references, read, outline, map, context, status
and refresh, defined once with descriptions written for a model, typed arguments and
structured results. The MCP server exposes them to other agents; our own chat can offer the
same functions to its model."""

from .definitions import TOOLS, ToolSpec
from .workspace import ToolError, ToolResult, Workspace

__all__ = ["TOOLS", "ToolSpec", "ToolError", "ToolResult", "Workspace"]
