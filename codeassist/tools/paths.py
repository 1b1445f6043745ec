"""Which file a tool may read: only an indexed file of the repository, however the path is spelled.

Never outside the root (``..``, absolute paths elsewhere, symlinks pointing out), never an
ignored, skipped or secret file: the path must name, exactly, a file the index holds, whose real
location is still inside the root and which the current ignore and secret rules still admit.
Nothing is decoded (``%2e%2e`` is not ``..``), case is not folded, NUL is refused.
"""

from __future__ import annotations

import difflib
import os
import posixpath
from typing import TYPE_CHECKING

from ..walker import IgnoreRules
from .workspace import ToolError

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

__all__ = ["readable_path", "MAX_PATH_CHARS"]

MAX_PATH_CHARS = 4096


def readable_path(project: Project, requested: str) -> str:
    """The indexed path ``requested`` names, or ToolError saying why it cannot be read."""
    if not isinstance(requested, str) or not requested.strip():
        raise ToolError("path is empty; pass a path relative to the repository root, e.g. from search hits")
    if "\x00" in requested:
        raise ToolError("the path contains a NUL character; pass a plain relative path")
    if len(requested) > MAX_PATH_CHARS:
        raise ToolError(f"the path is {len(requested):,} characters long; at most {MAX_PATH_CHARS}")
    path = requested.strip().replace("\\", "/")
    root = str(project.root).replace("\\", "/").rstrip("/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        if not path.startswith(root + "/"):
            raise ToolError(f"{requested[:200]!r} is outside the repository; pass a path relative to its root")
        path = path[len(root) + 1:]
    path = posixpath.normpath(path)
    if path == ".." or path.startswith("../") or path in (".", ""):
        raise ToolError(f"{requested[:200]!r} is outside the repository; pass a path relative to its root")
    with project.reader() as index:
        known = index.file(path) is not None
        indexed = [] if known else index.paths()
    if not known:
        close = difflib.get_close_matches(path, indexed, n=3, cutoff=0.75)
        hint = f"; did you mean {', '.join(close)}?" if close else "; search or outline find indexed files"
        raise ToolError(f"{path[:200]!r} is not an indexed file of this repository (it may not exist, or be "
                        f"ignored, skipped or a secret file){hint}")
    real_root = os.path.realpath(project.root)
    real = os.path.realpath(os.path.join(real_root, path))
    if real != real_root and not real.startswith(real_root + os.sep):
        raise ToolError(f"{path!r} now points outside the repository; it is not served")
    if IgnoreRules(project.root, project.settings).skips(path):
        raise ToolError(f"{path!r} is ignored or a secret file by the current rules; it is not served")
    return path
