"""The Python API: a :class:`Project` is one repository and its index.

The CLI and the terminal UI are thin layers over this class. Every call opens its own short
SQLite connection, so a Project can be shared between threads.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from .config import Settings, load_settings
from .errors import QueryError, RepositoryError
from .index.indexer import IndexStats, ProgressCallback, build_index
from .index.location import index_dir
from .index.store import DB_NAME, Store
from .results import Context, IndexStatus, ReferenceInfo, SearchHit, SymbolInfo

__all__ = ["Project", "open_project"]

#: the columns of a SymbolInfo, for a WHERE clause to follow
_SYMBOL_INFO_SQL = (
    "SELECT f.path, s.name, s.qualname, s.kind, s.start_line, s.end_line, s.signature, s.doc,"
    " p.qualname FROM symbols s JOIN files f ON f.id=s.file_id LEFT JOIN symbols p ON p.id=s.parent_id"
)


class Project:
    """A repository on disk plus its index under the data directory."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.index_dir = index_dir(settings.home, root)
        self._dense_backends: tuple | None = None  # (embedder, vector store, mirror key), on first use
        self._snapshot: Any = None  # context.IndexSnapshot: graph and symbols between calls

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    @contextmanager
    def _store(self) -> Iterator[Store]:
        store = Store.open(self.index_dir)
        try:
            yield store
        finally:
            store.close()

    # ------------------------------------------------------------------ indexing
    def index(self, progress: ProgressCallback | None = None, *, rebuild: bool = False) -> IndexStats:
        """Build or update the index (incremental); ``progress`` receives Progress reports."""
        return build_index(self.root, self.index_dir, self.settings, progress, rebuild=rebuild)

    def status(self, *, check_pending: bool = True) -> IndexStatus:
        """What the index holds; ``pending_changes`` counts files changed on disk since."""
        db = self.index_dir / DB_NAME
        if not db.exists():
            return IndexStatus(str(self.root), str(self.index_dir), indexed=False)
        with self._store() as store:
            languages = {
                (lang or "text"): n
                for lang, n in store.rows(
                    "SELECT language, COUNT(*) FROM files WHERE skip IS NULL GROUP BY language"
                    " ORDER BY COUNT(*) DESC, language"
                )
            }
            skipped = dict(
                store.rows("SELECT skip, COUNT(*) FROM files WHERE skip IS NOT NULL GROUP BY skip")
            )
            count = lambda table: store.rows(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: E731
            last = store.meta("last_indexed")
            pending = self._pending(store) if check_pending else 0
            symbols, refs, chunks = count("symbols"), count("refs"), count("chunks")
            from .index.embedding import total_units

            embedded = count("embedded")
            embed_units = total_units(store, self.settings) if self.settings.embed else 0
        size = sum(p.stat().st_size for p in self.index_dir.glob(DB_NAME + "*") if p.is_file())
        return IndexStatus(
            root=str(self.root),
            index_dir=str(self.index_dir),
            indexed=True,
            files=sum(languages.values()),
            languages=languages,
            symbols=symbols,
            references=refs,
            chunks=chunks,
            skipped=skipped,
            last_indexed=float(last) if last else None,
            index_bytes=size,
            pending_changes=pending,
            embed_units=embed_units,
            embedded=embedded,
        )

    def _pending(self, store: Store) -> int:
        from .walker import walk

        known = store.known_files()
        walked = walk(self.root, self.settings)
        pending = 0
        for entry in walked.files:
            row = known.pop(entry.relpath, None)
            if row is None or row.size != entry.size or row.mtime_ns != entry.mtime_ns:
                pending += 1
        return pending + len(known)

    # ------------------------------------------------------------------ querying
    def search(self, query: str, k: int = 10, *, sources: set[str] | None = None) -> list[SearchHit]:
        """Hybrid search: the ``k`` best hits for ``query`` (``sources`` limits the fusion to
        some of ``lexical``, ``symbol``, ``path``, ``dense``, ``graph``)."""
        from .retrieval import search

        with self._store() as store:
            dense = self._dense_search(store) if sources is None or "dense" in sources else None
            return search(store, query, k, sources, dense)

    def _dense_search(self, store: Store):  # -> DenseSearch | None
        """A dense-retrieval function when this index has vectors, else None."""
        from .index.embedding import stored_spec

        stored = stored_spec(store)
        if not self.settings.embed or stored is None:
            return None
        if store.rows("SELECT 1 FROM embedded LIMIT 1").fetchone() is None:
            return None
        from .vectors.mirror import META_KEY, VectorMirror

        key = store.meta(META_KEY)
        if self._dense_backends is not None and self._dense_backends[2] != key:
            self._dense_backends = None  # re-indexed since: open again
        elif (self._dense_backends is not None and not self.settings.chroma_url
              and not isinstance(self._dense_backends[1], VectorMirror)):
            mirror = VectorMirror.open(self.index_dir / "mirror", key)  # is the mirror back?
            if mirror is not None:
                self._dense_backends = (self._dense_backends[0], mirror, key)
        if self._dense_backends is None:
            from .backends import make_query_embedder, make_vector_store
            from .errors import CodeassistError
            from .index.embedding import stored_collection_spec

            embedder = make_query_embedder(self.settings)
            model_id, _dims, _chroma_url = stored
            if model_id != embedder.model_id:
                return None  # the vectors come from other settings: re-index to use them
            # the numpy mirror answers without importing chromadb (0.8 s) when it is current
            vectors = VectorMirror.open(self.index_dir / "mirror", store.meta(META_KEY)) \
                if not self.settings.chroma_url else None
            if vectors is None:
                spec = stored_collection_spec(store, self.index_dir, self.settings)
                try:
                    vectors = make_vector_store(self.settings, self.index_dir, spec)
                except CodeassistError:
                    return None  # vector store unavailable: words, symbols and paths still answer
            self._dense_backends = (embedder, vectors, key)
        embedder, vectors, _key = self._dense_backends
        # embedded Chroma without a current mirror may lack a small re-index's staged vectors
        staged = not self.settings.chroma_url and not isinstance(vectors, VectorMirror)

        def dense(query: str, depth: int) -> list[int]:
            vector = embedder.embed_query(query)
            if staged:
                from .index.embedding import nearest_with_staged

                found = nearest_with_staged(store, vectors, vector, depth)
            else:
                found = vectors.query(vector, depth)
            if not found:
                return []
            marks = ",".join("?" * len(found))
            symbol_of = dict(store.rows(
                f"SELECT vector_id, symbol_id FROM embedded WHERE vector_id IN ({marks})", [v for v, _ in found]))
            return [symbol_of[v] for v, _ in found if v in symbol_of]

        return dense

    def context(self, query: str, budget: int | None = None, *, format: str = "markdown",
                held_files: Sequence[str] = (), exclude: Sequence[tuple[str, int, int]] = (),
                question_only: bool = False, pinned: Sequence[tuple[str, int, int]] = ()) -> Context:
        """What the model would read for ``query``: as much of the project as fits in ``budget``
        tokens (cl100k), most relevant code verbatim, its surroundings in less detail.

        ``held_files`` (paths the conversation already holds) steer the ranking; ``exclude``
        lists (path, start, end) ranges sent earlier, which are not repeated; ``question_only``
        leaves out the question-independent sections (for a follow-up turn); ``pinned``
        (path, start, end) ranges are included in full first (as skeletons if they cannot fit).
        """
        from .context import IndexSnapshot, assemble_context
        from .retrieval import CONTEXT_RRF_K, CONTEXT_SOURCES, ranked_chunks

        if self._snapshot is None:
            self._snapshot = IndexSnapshot()
        budget = self.settings.context_budget if budget is None else budget
        with self._store() as store:
            ranked = []
            if query and query.strip():
                ranked = ranked_chunks(store, query, 60, CONTEXT_SOURCES, self._dense_search(store),
                                       rrf_k=CONTEXT_RRF_K)
            return assemble_context(
                store, self.root, self.index_dir, query or "", budget, fmt=format, ranked=ranked,
                held_files=held_files, exclude=exclude, question_only=question_only, pinned=pinned,
                minified_line_length=self.settings.minified_line_length,
                line_numbers=self.settings.line_numbers, snapshot=self._snapshot)

    def map(self, budget: int = 4000, *, query: str = "", held_files: Sequence[str] = ()) -> Context:
        """A ranked outline of the project (the repository map) within ``budget`` tokens,
        personalised on ``query`` and ``held_files`` when given."""
        from .context import IndexSnapshot, render_map
        from .retrieval import CONTEXT_RRF_K, CONTEXT_SOURCES, ranked_chunks

        if self._snapshot is None:
            self._snapshot = IndexSnapshot()
        with self._store() as store:
            ranked = ranked_chunks(store, query, 20, CONTEXT_SOURCES, None,
                                   rrf_k=CONTEXT_RRF_K) if query.strip() else []
            return render_map(store, self.root, self.index_dir, budget, query=query, ranked=ranked,
                              held_files=held_files, snapshot=self._snapshot)

    def chat(self, *, budget: int | None = None, backend: Any = None):  # -> Chat
        """A multi-turn conversation about this project with the configured model backend;
        ``chat.stream(question)`` yields events as the answer arrives, ``chat.ask`` blocks."""
        from .assistant import Chat
        from .backends import make_chat_backend

        return Chat(self, backend if backend is not None else make_chat_backend(self.settings), budget=budget)

    def ask(self, question: str, *, budget: int | None = None):  # -> Answer
        """Ask one question; the answer cites ``path:start-end`` (checked against the index)."""
        return self.chat(budget=budget).ask(question)

    def files(self) -> list[str]:
        """Paths of the indexed files (relative, ``/``-separated), sorted."""
        with self._store() as store:
            return [r[0] for r in store.rows("SELECT path FROM files WHERE skip IS NULL ORDER BY path")]

    def source(self, path: str) -> list[str]:
        """The lines of an indexed file as the index saw them (line 1 is ``[0]``)."""
        from .context.sources import FileTexts

        with self._store() as store:
            texts = FileTexts(store, self.root, self.settings.minified_line_length)
            info = texts.by_path.get(path)
            if info is None:
                raise QueryError(f"{path} is not in the index; run `codeassist index` or check the path")
            return texts.lines(info.id)

    def outline(self, path: str) -> list[SymbolInfo]:
        """The symbols of one indexed file, in line order."""
        with self._store() as store:
            rows = store.rows(
                _SYMBOL_INFO_SQL + " WHERE f.path=? ORDER BY s.start_line, s.id",
                (path,)).fetchall()
        return [SymbolInfo(*r) for r in rows]

    def find_symbols(self, text: str, *, limit: int = 50) -> list[SymbolInfo]:
        """Definitions whose name contains ``text`` (case-insensitive), shortest names first."""
        text = text.strip()
        if not text:
            return []
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._store() as store:
            rows = store.rows(
                _SYMBOL_INFO_SQL + " WHERE lower(s.name) LIKE ? ESCAPE '\\'"
                " ORDER BY length(s.name), s.name, f.path LIMIT ?", (pattern, limit)).fetchall()
        return [SymbolInfo(*r) for r in rows]

    def symbols(self, name: str, *, limit: int = 100) -> list[SymbolInfo]:
        """Definitions named ``name`` (a plain, qualified or ``Class::method`` name; case and
        underscores ignored), exact-case matches first."""
        from .parsing.terms import normalize_name

        parts = [p for p in re.split(r"\.|::|#|->", name.strip()) if p]
        if not parts:
            return []
        last = parts[-1]
        dotted = ".".join(parts).lower() if len(parts) > 1 else ""
        with self._store() as store:
            rows = store.rows(
                _SYMBOL_INFO_SQL + " WHERE s.norm=?",
                (normalize_name(last),),
            ).fetchall()
        if dotted:
            rows = [r for r in rows if r[2].lower().endswith(dotted)]
        rows.sort(key=lambda r: (r[1] != last, r[1].startswith("_"), r[0], r[4]))
        return [SymbolInfo(*r) for r in rows[:limit]]

    def references(self, symbol: str, *, limit: int = 500) -> list[ReferenceInfo]:
        """Uses of ``symbol`` (by its last name component): calls, imports, types, bases."""
        parts = [p for p in re.split(r"\.|::|#|->", symbol.strip()) if p]
        if not parts:
            return []
        name = parts[-1]
        with self._store() as store:
            rows = store.rows(
                "SELECT f.path, r.lines, r.name, r.kind, s.qualname, r.file_id FROM refs r"
                " JOIN files f ON f.id=r.file_id LEFT JOIN symbols s ON s.id=r.symbol_id"
                " WHERE r.last=?",
                (name,),
            ).fetchall()
            uses = sorted(
                (path, int(line), ref_name, kind, enclosing, file_id)
                for path, lines, ref_name, kind, enclosing, file_id in rows
                for line in lines.split(",")
            )[:limit]
            out = []
            for path, line, ref_name, kind, enclosing, file_id in uses:
                chunk = store.chunk_at(file_id, line)
                text = ""
                if chunk:
                    lines_ = chunk[1].split("\n")
                    idx = line - chunk[2]
                    text = lines_[idx].strip() if 0 <= idx < len(lines_) else ""
                out.append(ReferenceInfo(path, line, ref_name, kind, enclosing, text))
        return out


def open_project(path: str | os.PathLike[str] = ".", **settings: Any) -> Project:
    """Open the repository at ``path`` (the index is not built: call ``.index()``).

    Keyword arguments override settings (see :class:`codeassist.config.Settings`).
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise RepositoryError(f"{root} does not exist; pass the path of a repository folder")
    if not root.is_dir():
        raise RepositoryError(f"{root} is not a folder; pass the path of a repository folder")
    return Project(root.resolve(), load_settings(settings))

