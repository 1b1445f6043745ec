"""The Python API: a :class:`Project` is one repository and its index. A thin facade over
:mod:`.index.indexer`, :mod:`.index.reader`, :mod:`.index.lookup`, :mod:`.search`, :mod:`.context` and
:mod:`.assistant`, under the CLI and the terminal UI. Each call opens its own short SQLite connection:
a Project can be shared by threads. Modules a call needs are imported by it (commands start fast)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from .config import Settings, load_settings
from .errors import RepositoryError
from .index import lookup
from .index.location import index_dir
from .index.reader import BuildProgress, IndexReader, SemanticProgress
from .index.store import open_reader
from .results import Context, IndexStatus, ReferenceInfo, SearchHit, SymbolInfo

if TYPE_CHECKING:  # pragma: no cover
    from .assistant import Answer, Chat
    from .citations import Citation
    from .context import IndexSnapshot
    from .index.catchup import CatchUp
    from .index.freshness import Freshness
    from .index.indexer import IndexStats, ProgressCallback
    from .llm.backend import ChatBackend
    from .search import DenseSearcher

__all__ = ["Project", "open_project"]

T = TypeVar("T")


class Project:
    """A repository on disk plus its index under the data directory."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.index_dir = index_dir(settings.home, root)
        self._dense: DenseSearcher | None = None  # the query model and vectors, on first use
        self._snapshot: IndexSnapshot | None = None  # graph and symbols between calls
        self._snapshot_lock = threading.Lock()  # one assembly at a time fills the shared snapshot

    def reader(self) -> IndexReader:
        """The typed read side of the index: ``with project.reader() as index: ...``."""
        return open_reader(self.index_dir)

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def _read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.reader() as index:
            return query(index, *args, **kwargs)

    # ------------------------------------------------------------------ indexing
    def index(self, progress: ProgressCallback | None = None, *, rebuild: bool = False) -> IndexStats:
        """Build or update the index (incremental); ``progress`` receives Progress reports."""
        from .index.indexer import build_index
        return build_index(self.root, self.index_dir, self.settings, progress, rebuild=rebuild)

    def status(self, *, check_pending: bool = True) -> IndexStatus:
        """What the index holds; ``pending_changes`` counts files changed on disk since."""
        return lookup.index_status(self.root, self.index_dir, self.settings, check_pending=check_pending)

    def freshness(self) -> Freshness:
        """How far the index is behind the files on disk (a few ms: no walk)."""
        from .index.freshness import check_freshness

        return self._read(check_freshness, self.root)

    def build_progress(self) -> BuildProgress | None:
        """An unfinished big index run (the index then holds part of the repository), if any."""
        return self._read(IndexReader.build_progress)

    def semantic_progress(self) -> SemanticProgress | None:
        """An unfinished embedding stage (dense search then covers part of the symbols), if any."""
        return self._read(IndexReader.semantic_progress) if self.settings.embed else None

    def catch_up(self) -> CatchUp:
        """Update a stale index first when the change is small, else say how far behind it is."""
        from .index.catchup import catch_up
        return catch_up(self.root, self.index_dir, self.settings)

    # ------------------------------------------------------------------ querying
    def search(self, query: str, k: int = 10, *, sources: set[str] | None = None) -> list[SearchHit]:
        """Hybrid search: the ``k`` best hits (``sources``: some of lexical, symbol, path, dense, graph)."""
        from .search import search

        with self.reader() as index:
            dense = self._dense_searcher().function(index) if sources is None or "dense" in sources else None
            return search(index, query, k, sources, dense)

    @property
    def dense_source(self) -> str | None:
        """Where dense search reads vectors: ``mirror``, ``vector-store`` or None (none yet)."""
        return self._dense.source if self._dense is not None else None

    def _dense_searcher(self) -> DenseSearcher:
        from .search import DenseSearcher

        self._dense = self._dense or DenseSearcher(self.settings, self.index_dir)
        return self._dense

    def _index_snapshot(self) -> IndexSnapshot:
        from .context import IndexSnapshot

        self._snapshot = self._snapshot or IndexSnapshot()
        return self._snapshot

    def context(self, query: str, budget: int | None = None, *, format: str = "markdown",
                held_files: Sequence[str] = (), exclude: Sequence[tuple[str, int, int]] = (),
                question_only: bool = False, pinned: Sequence[tuple[str, int, int]] = ()) -> Context:
        """What the model would read for ``query`` within ``budget`` cl100k tokens.

        ``held_files`` (paths the conversation holds) steer the ranking; ``exclude`` (path,
        start, end) ranges sent earlier are not repeated; ``question_only`` leaves out the
        question-independent sections (a follow-up); ``pinned`` ranges come first, in full."""
        from .context import assemble_context, preload_token_counter
        from .search import ranked_for_context

        preload_token_counter()  # overlaps with the search and the graph's load
        budget = self.settings.context_budget if budget is None else budget
        with self.reader() as index, self._snapshot_lock:
            ranked, files = [], []
            if query and query.strip():
                ranked, files = ranked_for_context(index, query, self._dense_searcher().function(index))
            return assemble_context(
                index, self.root, self.index_dir, query or "", budget, fmt=format, ranked=ranked, depth_files=files,
                held_files=held_files, exclude=exclude, question_only=question_only, pinned=pinned,
                minified_line_length=self.settings.minified_line_length,
                line_numbers=self.settings.line_numbers, snapshot=self._index_snapshot())

    def map(self, budget: int = 4000, *, query: str = "", held_files: Sequence[str] = ()) -> Context:
        """The repository map within ``budget`` tokens, personalised on ``query`` and ``held_files``."""
        from .context import preload_token_counter, render_map
        from .search import CONTEXT_RRF_K, CONTEXT_SOURCES, ranked_chunks

        preload_token_counter()
        with self.reader() as index, self._snapshot_lock:
            ranked = ranked_chunks(index, query, 20, CONTEXT_SOURCES, None,
                                   rrf_k=CONTEXT_RRF_K) if query.strip() else []
            return render_map(index, self.root, self.index_dir, budget, query=query, ranked=ranked,
                              held_files=held_files, snapshot=self._index_snapshot())

    def chat(self, *, budget: int | None = None, backend: ChatBackend | None = None) -> Chat:
        """A multi-turn conversation with the configured model backend, which may call tools
        (``tools`` setting); ``chat.stream(question)`` yields events, ``chat.ask`` blocks."""
        from .assistant import Chat
        from .factory import make_chat_backend
        from .tools import ToolRunner, Workspace

        tools = ToolRunner(Workspace([self])) if self.settings.tools else None
        return Chat(self, backend or make_chat_backend(self.settings), budget=budget, tools=tools)

    def ask(self, question: str, *, budget: int | None = None) -> Answer:
        """Ask one question; the answer cites ``path:start-end`` (checked against the index)."""
        return self.chat(budget=budget).ask(question)

    def verify_citations(self, text: str) -> list[Citation]:
        """Every ``path:start-end`` citation in ``text``, checked against the index."""
        from .citations import verify_citations
        return self._read(verify_citations, text)

    def files(self) -> list[str]:
        """Paths of the indexed files (relative, ``/``-separated), sorted."""
        return self._read(IndexReader.paths)

    def source(self, path: str) -> list[str]:
        """The lines of an indexed file as the index saw it (line 1 is ``[0]``)."""
        return self._read(lookup.file_lines, self.root, self.settings, path)

    def outline(self, path: str) -> list[SymbolInfo]:
        """The symbols of one indexed file, in line order."""
        return self._read(lookup.file_outline, path)

    def find_symbols(self, text: str, *, limit: int = 50) -> list[SymbolInfo]:
        """Definitions whose name contains ``text`` (case-insensitive), shortest names first."""
        return self._read(lookup.definitions_containing, text, limit=limit)

    def symbols(self, name: str, *, limit: int = 100) -> list[SymbolInfo]:
        """Definitions named ``name`` (plain, dotted or ``Class::method``; case and ``_`` ignored)."""
        return self._read(lookup.definitions, name, limit=limit)

    def references(self, symbol: str, *, limit: int = 500) -> list[ReferenceInfo]:
        """Uses of ``symbol`` (by its last name component): calls, imports, types, bases."""
        return self._read(lookup.references, symbol, limit=limit)


def open_project(path: str | os.PathLike[str] = ".", **settings: Any) -> Project:
    """Open the repository at ``path`` (``.index()`` indexes it); keywords override :class:`Settings`."""
    root = Path(path).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise RepositoryError(f"{root} {what}; pass the path of a repository folder")
    return Project(root.resolve(), load_settings(settings))
