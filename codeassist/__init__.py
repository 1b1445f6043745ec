"""codeassist: ask questions about a code repository, answered from its own code.

    import codeassist
    project = codeassist.open("path/to/repo")
    project.index()
    for hit in project.search("where are retries configured?"):
        print(hit.path, hit.start_line, hit.symbol)
    ctx = project.context("how does auth work?", budget=64_000)   # what the model would read
    answer = project.ask("how does auth work?")                    # needs a configured backend
"""

from __future__ import annotations

from .config import Settings, load_settings
from .assistant import Answer, Chat
from .citations import Citation
from .errors import (
    BackendError,
    BackendNotConfiguredError,
    BackendUnavailableError,
    CodeassistError,
    ContextOverflowError,
    IncompleteAnswerError,
    RateLimitedError,
    ConfigError,
    IndexCorruptError,
    IndexError_,
    IndexLockedError,
    IndexNotBuiltError,
    QueryError,
    RepositoryError,
)
from .index.indexer import IndexStats, Progress
from .project import Project, open_project as open
from .results import Context, ContextItem, IndexStatus, ReferenceInfo, SearchHit, SymbolInfo

__version__ = "0.1.0"

__all__ = [
    "open",
    "Project",
    "Settings",
    "load_settings",
    "IndexStats",
    "IndexStatus",
    "Progress",
    "SearchHit",
    "SymbolInfo",
    "ReferenceInfo",
    "Context",
    "ContextItem",
    "Chat",
    "Answer",
    "Citation",
    "CodeassistError",
    "ConfigError",
    "RepositoryError",
    "IndexError_",
    "IndexNotBuiltError",
    "IndexLockedError",
    "IndexCorruptError",
    "QueryError",
    "BackendError",
    "BackendNotConfiguredError",
    "BackendUnavailableError",
    "RateLimitedError",
    "ContextOverflowError",
    "IncompleteAnswerError",
    "__version__",
]
