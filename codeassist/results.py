"""Result types of the Python API: small frozen dataclasses mirroring the CLI's JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["SearchHit", "SymbolInfo", "ReferenceInfo", "IndexStatus", "Context", "ContextItem"]


@dataclass(frozen=True)
class SearchHit:
    """A retrieved piece of code. Lines are 1-based and inclusive; paths use ``/``."""

    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str | None
    score: float
    text: str
    #: rank of this hit in each retrieval source that found it (1 = best)
    sources: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SymbolInfo:
    """A definition found in the index."""

    path: str
    name: str
    qualname: str
    kind: str
    start_line: int
    end_line: int
    signature: str
    doc: str
    parent: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ReferenceInfo:
    """A use of a name: where it is, what kind of use, and which symbol it sits in."""

    path: str
    line: int
    name: str
    kind: str
    symbol: str | None
    text: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class IndexStatus:
    """What the index of a repository holds."""

    root: str
    index_dir: str
    indexed: bool
    files: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    symbols: int = 0
    references: int = 0
    chunks: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    last_indexed: float | None = None
    index_bytes: int = 0
    #: files added, changed or removed on disk since the last index run
    pending_changes: int = 0
    #: symbols that get a vector, and how many have one so far (semantic search coverage)
    embed_units: int = 0
    embedded: int = 0
    #: the process keeping this index current (``codeassist watch``, the UI, an MCP server):
    #: pid, since, polling, updates, last_update; None when nothing watches it
    watcher: dict[str, object] | None = None
    #: an unfinished big index run: files_done, files_total, running, started; None when none
    building: dict[str, object] | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ContextItem:
    """One piece of the context: a file range at some level of detail.

    ``detail`` is ``full`` (verbatim source), ``skeleton`` (signatures and doc comments, bodies
    elided) or ``outline`` (names only); ``tokens`` counts its rendered text.
    """

    path: str
    start_line: int
    end_line: int
    detail: str
    tokens: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Context:
    """What would be sent to the model: ``text`` has ``tokens`` cl100k tokens, never more than
    ``budget``. ``mode`` is ``whole-project`` (everything verbatim), ``graded`` or ``map``."""

    query: str
    budget: int
    tokens: int
    mode: str
    items: tuple[ContextItem, ...]
    text: str
    format: str = "markdown"
    #: things the user should know about the material, e.g. invisible characters made visible
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "warnings": list(self.warnings),
            "query": self.query,
            "budget": self.budget,
            "tokens": self.tokens,
            "mode": self.mode,
            "format": self.format,
            "items": [item.to_dict() for item in self.items],
            "text": self.text,
        }
