"""The terminal UI (Textual). One factory builds the app for the command line and for tests."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .app import CodeassistApp

__all__ = ["make_app", "run_tui"]


def make_app(path: str | os.PathLike[str] = ".", *, index_on_start: bool = True, watch: bool = True,
             **settings: Any) -> CodeassistApp:
    """The app for the repository at ``path`` (keyword arguments override settings); ``watch``
    keeps the index current while files change."""
    from multiprocessing import resource_tracker

    from ..project import open_project
    from .app import CodeassistApp

    project = open_project(path, **settings)
    # Indexing starts parser processes from a worker thread while Textual has replaced
    # sys.stderr (its fileno() is -1 then, which multiprocessing cannot pass on): start the
    # resource tracker now, while the real stderr is in place.
    resource_tracker.ensure_running()
    return CodeassistApp(project, index_on_start=index_on_start, watch=watch)


def run_tui(path: str | os.PathLike[str] = ".", **settings: Any) -> None:
    make_app(path, **settings).run()
