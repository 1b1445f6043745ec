"""The tool layer offered to a chat model as functions: JSON schemas from the tools' typed
signatures, arguments validated, results capped, failures turned into text the model reads."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..errors import CodeassistError
from .definitions import TOOLS, ToolSpec
from .history import is_git_repository
from .workspace import Workspace

__all__ = ["ToolRunner", "ToolOutcome", "CHAT_TOOLS", "GIT_TOOLS", "arguments_model"]

#: what our own chat's model may call (status, refresh and context are the user's business)
CHAT_TOOLS = ("search", "symbols", "references", "read", "outline", "map")
GIT_TOOLS = ("history", "diff")


@dataclass(frozen=True)
class ToolOutcome:
    """What a call gave: the text the model reads, the structured data, and whether it failed."""

    text: str
    data: dict[str, Any] | None
    error: bool = False


def arguments_model(spec: ToolSpec) -> type[BaseModel]:
    """A pydantic model of the tool's arguments (its signature minus the workspace)."""
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(spec.run, eval_str=True).parameters.items():
        if name in ("workspace", "progress"):
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (param.annotation, default)
    return create_model(f"{spec.name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)


def _schema(spec: ToolSpec, model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return {"type": "function", "function": {"name": spec.name, "description": spec.description,
                                             "parameters": schema}}


class ToolRunner:
    """Runs the chat's tools for one repository; ``definitions()`` is what the model is offered."""

    def __init__(self, workspace: Workspace, names: tuple[str, ...] = CHAT_TOOLS) -> None:
        from .definitions import GIT_SPECS

        self.workspace = workspace
        specs = {s.name: s for s in (*TOOLS, *GIT_SPECS)}
        wanted = list(names)
        if any(is_git_repository(p.root) for p in workspace.projects.values()):
            wanted += [n for n in GIT_TOOLS if n not in wanted]
        self.specs = {name: specs[name] for name in wanted}
        self._models = {name: arguments_model(spec) for name, spec in self.specs.items()}
        # built once: every request of a conversation carries them, and counts them
        self._definitions = [_schema(spec, self._models[spec.name]) for spec in self.specs.values()]

    def definitions(self) -> list[dict[str, Any]]:
        return self._definitions

    def call(self, name: str, arguments: str) -> ToolOutcome:
        spec = self.specs.get(name)
        if spec is None:
            return ToolOutcome(f"error: there is no tool {name[:100]!r}; the tools are {', '.join(self.specs)}",
                               None, True)
        try:
            raw = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            return ToolOutcome(f"error: the arguments are not valid JSON ({exc}); call {name} again with a JSON "
                               "object", None, True)
        if not isinstance(raw, dict):
            return ToolOutcome(f"error: the arguments must be a JSON object, not {type(raw).__name__}", None, True)
        try:
            checked = self._models[name].model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()[:5])
            return ToolOutcome(f"error: wrong arguments for {name}: {problems}", None, True)
        try:
            result = spec.run(self.workspace, **checked.model_dump())
        except CodeassistError as exc:
            return ToolOutcome(f"error: {exc}", None, True)
        return ToolOutcome(result.text, result.data)
