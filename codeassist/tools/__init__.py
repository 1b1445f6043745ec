"""One tool layer for models: search, symbols, references, read, outline, map, context, status
and refresh, defined once with descriptions written for a model, typed arguments and
structured results. The MCP server exposes them to other agents; our own chat can offer the
same functions to its model."""

from .definitions import GIT_SPECS, TOOLS, ToolSpec
from .runner import ToolRunner
from .workspace import ToolError, ToolResult, Workspace

__all__ = ["TOOLS", "GIT_SPECS", "ToolSpec", "ToolError", "ToolResult", "Workspace", "ToolRunner"]
