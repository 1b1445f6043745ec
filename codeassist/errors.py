"""The exceptions codeassist raises. Every message says how to fix the problem.

Tree::

    CodeassistError
    ├── ConfigError              a setting is invalid or missing
    ├── UsageError               the command line is wrong (an unknown command: the closest is named)
    ├── RepositoryError          the repository path is unusable (missing, not a directory)
    ├── IndexError_              the index cannot be used
    │   ├── IndexNotBuiltError   no index yet: run `codeassist index`
    │   ├── IndexLockedError     another process is indexing this repository
    │   └── IndexCorruptError    the index files are damaged: rebuild with --rebuild
    ├── QueryError               a search/query string cannot be used
    └── BackendError             the model backend failed (exit code 7)
        ├── BackendNotConfiguredError  no backend: says how to configure one (exit code 2)
        ├── BackendUnavailableError    cannot connect, or no answer before the deadline
        ├── RateLimitedError           still 429/503 after the retries
        ├── ContextOverflowError       the prompt is too long even after shrinking the context
        └── IncompleteAnswerError      the stream broke off or carried an error event; the
                                       partial answer is in ``.partial``

(``EmbeddingError`` and ``VectorStoreError`` live beside their backends and also derive from
``CodeassistError``.)

``IndexError_`` carries a trailing underscore so it does not shadow the builtin.

Warnings (``warnings.warn``; the CLI prints them as ``codeassist: warning: ...``)::

    CodeassistWarning
    └── ConfigWarning            a config file key or table is unknown (the closest known one is named)
"""

from __future__ import annotations

__all__ = [
    "CodeassistWarning",
    "ConfigWarning",
    "CodeassistError",
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
]


class CodeassistError(Exception):
    """Base class of every error codeassist raises on purpose."""

    #: process exit status the CLI uses for this error
    exit_code: int = 1


class CodeassistWarning(UserWarning):
    """Something the user should fix, though codeassist can go on."""


class ConfigWarning(CodeassistWarning):
    """The config file holds a key or table codeassist does not know (a typo, usually)."""


class ConfigError(CodeassistError):
    """A configuration value is invalid."""

    exit_code = 2


class UsageError(CodeassistError):
    """The command line is wrong: an unknown command, two repositories (exit code 2)."""

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


class BackendError(CodeassistError):
    """The model backend failed."""

    exit_code = 7


class BackendNotConfiguredError(BackendError):
    """No model backend is configured."""

    exit_code = 2


class BackendUnavailableError(BackendError):
    """The backend cannot be reached or gave no answer before the deadline."""


class RateLimitedError(BackendError):
    """The backend kept answering 429/503 through every retry."""


class ContextOverflowError(BackendError):
    """The prompt exceeds the model's context window even after shrinking the context.
    ``window``: the model's window when the server's message states it, else None."""

    def __init__(self, message: str, window: int | None = None) -> None:
        super().__init__(message)
        self.window = window


class IncompleteAnswerError(BackendError):
    """The answer stream ended early or carried an error; ``partial`` holds what arrived."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial
