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
from .assistant import Answer, AnswerReady, Chat, ChatEvent, ChatSource, Restart
from .citations import Citation
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
from .index.indexer import IndexStats, Progress
from .index.reader import IndexReader
from .llm.events import Content, Finished, Notice, Reasoning, StreamEvent, Usage
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
