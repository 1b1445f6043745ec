"""codeassist: ask questions about a code repository, answered from its own code.

    import codeassist
    project = codeassist.open("path/to/repo")
    project.index()
    for hit in project.search("where are retries configured?"):
        print(hit.path, hit.start_line, hit.symbol)
"""

from __future__ import annotations

from .config import Settings, load_settings
from .errors import (
    CodeassistError,
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
from .results import IndexStatus, ReferenceInfo, SearchHit, SymbolInfo

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
    "CodeassistError",
    "ConfigError",
    "RepositoryError",
    "IndexError_",
    "IndexNotBuiltError",
    "IndexLockedError",
    "IndexCorruptError",
    "QueryError",
    "__version__",
]
