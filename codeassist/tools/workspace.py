"""The repositories a tool layer serves, and what every tool returns or raises."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CodeassistError

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

__all__ = ["Workspace", "ToolResult", "ToolError"]


class ToolError(CodeassistError):
    """A tool call that cannot be answered; the message tells the model what to do instead."""


@dataclass(frozen=True)
class ToolResult:
    """``data`` for programs (structured, matching the tool's output type); ``text`` for a
    model to read."""

    data: dict[str, Any]
    text: str


class Workspace:
    """The repositories served, by name (a folder's name; made unique by its parents)."""

    def __init__(self, projects: list[Project]) -> None:
        if not projects:
            raise ToolError("no repository to serve; pass --repo PATH")
        self.projects: dict[str, Project] = {}
        for project in projects:
            name = project.root.name or str(project.root)
            parent = project.root.parent
            while name in self.projects and parent != parent.parent:
                name = f"{parent.name}/{name}"
                parent = parent.parent
            self.projects[name] = project

    def project(self, repo: str | None) -> tuple[str, Project]:
        """The repository ``repo`` names (its name or its path); the only one when None."""
        if repo is None or repo == "":
            if len(self.projects) == 1:
                return next(iter(self.projects.items()))
            raise ToolError(f"several repositories are served ({', '.join(self.projects)}); pass repo= one of them")
        if repo in self.projects:
            return repo, self.projects[repo]
        try:
            wanted = Path(repo).expanduser().resolve()
        except (OSError, ValueError):
            wanted = None
        for name, project in self.projects.items():
            if wanted == project.root:
                return name, project
        raise ToolError(f"unknown repo {repo[:200]!r}; the repositories served are: {', '.join(self.projects)}")
