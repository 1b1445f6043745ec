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

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    CodeassistWarning,
    ConfigWarning,
    UsageError,
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

if TYPE_CHECKING:  # pragma: no cover
    from .config import Settings, load_settings
    from .assistant import Answer, AnswerReady, Chat, ChatEvent, ChatSource, Restart
    from .citations import Citation
    from .index.indexer import IndexStats, Progress
    from .index.reader import IndexReader
    from .llm.events import Content, Finished, Notice, Reasoning, StreamEvent, Usage
    from .project import Project, open_project as open
    from .results import Context, ContextItem, IndexStatus, ReferenceInfo, SearchHit, SymbolInfo

#: the rest of the public surface, by the module that defines it: imported when first used, so
#: that a short-lived command (``codeassist symbols``) does not load the conversation or the indexer
_LAZY: dict[str, tuple[str, str]] = {
    **{name: (".config", name) for name in ("Settings", "load_settings")},
    **{name: (".assistant", name) for name in ("Answer", "AnswerReady", "Chat", "ChatEvent", "ChatSource", "Restart")},
    "Citation": (".citations", "Citation"),
    **{name: (".index.indexer", name) for name in ("IndexStats", "Progress")},
    "IndexReader": (".index.reader", "IndexReader"),
    **{name: (".llm.events", name) for name in ("Content", "Finished", "Notice", "Reasoning", "StreamEvent", "Usage")},
    "Project": (".project", "Project"),
    "open": (".project", "open_project"),
    **{name: (".results", name) for name in ("Context", "ContextItem", "IndexStatus", "ReferenceInfo", "SearchHit",
                                             "SymbolInfo")},
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'codeassist' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(import_module(module, __name__), attribute)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "IndexReader",
    "Chat",
    "ChatSource",
    "Answer",
    "Citation",
    "ChatEvent",
    "StreamEvent",
    "Content",
    "Reasoning",
    "Notice",
    "Finished",
    "Usage",
    "Restart",
    "AnswerReady",
    "CodeassistError",
    "CodeassistWarning",
    "ConfigWarning",
    "ConfigError",
    "UsageError",
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
