"""The exceptions codeassist raises. Every message says how to fix the problem.

Tree::

    CodeassistError
    ├── ConfigError              a setting is invalid or missing
    ├── RepositoryError          the repository path is unusable (missing, not a directory)
    ├── IndexError_              the index cannot be used
    │   ├── IndexNotBuiltError   no index yet: run `codeassist index`
    │   ├── IndexLockedError     another process is indexing this repository
    │   └── IndexCorruptError    the index files are damaged: rebuild with --rebuild
    └── QueryError               a search/query string cannot be used

``IndexError_`` carries a trailing underscore so it does not shadow the builtin.
"""

from __future__ import annotations

__all__ = [
    "CodeassistError",
    "ConfigError",
    "RepositoryError",
    "IndexError_",
    "IndexNotBuiltError",
    "IndexLockedError",
    "IndexCorruptError",
    "QueryError",
]


class CodeassistError(Exception):
    """Base class of every error codeassist raises on purpose."""

    #: process exit status the CLI uses for this error
    exit_code: int = 1


class ConfigError(CodeassistError):
    """A configuration value is invalid."""

    exit_code = 2


class RepositoryError(CodeassistError):
    """The repository path does not exist or is not a directory."""

    exit_code = 2


class IndexError_(CodeassistError):
    """The index cannot be used."""

    exit_code = 3


class IndexNotBuiltError(IndexError_):
    """The repository has not been indexed yet."""


class IndexLockedError(IndexError_):
    """Another process holds the index's writer lock."""

    exit_code = 4


class IndexCorruptError(IndexError_):
    """The index's files are damaged."""


class QueryError(CodeassistError):
    """A query string is empty or unusable."""

    exit_code = 2
