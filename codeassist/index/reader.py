"""The typed read side of the index: every question the package asks of it, by name.

Nothing outside :mod:`codeassist.index` writes SQL. Search, context assembly, citations,
evaluation and the facade read the index through an :class:`IndexReader`; the indexer writes
through :class:`~codeassist.index.store.Store` (the writer), whose connection a reader can share
(``store.reader``). Rows come back as small named records, never as positional tuples.

A reader is not thread-safe (one SQLite connection): open one per thread or per call
(``with open_reader(folder) as index: ...``, from :mod:`.store`). Readers never block the writer (WAL).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable, NamedTuple, TypeVar

from ..parsing.extract import unpack_signatures
from ..parsing.kinds import CALLABLE_KINDS, EMBEDDED_KINDS

__all__ = [
    "IndexReader", "IndexedFile", "FileRow", "ChunkRow", "SymbolRef", "SymbolDetail", "ReferenceRow",
    "IndexCounts", "StoredVectorSpec", "StagedVectors", "EmbedUnit", "LANDMARKS_KEY", "BUILD_KEY", "BuildProgress",
    "SEMANTIC_KEY", "SemanticProgress", "signature_at",
]

#: SQLite's default limit on host parameters is 32766 in current builds, 999 in old ones
_PARAMETER_BATCH = 500
_LIVE = "skip IS NULL"
#: meta key of the walk's landmarks: folders and ignore files with their mtimes (``walker``)
BUILD_KEY = "build_progress"  # a big run under way: {"pid", "done", "total", "started"}
SEMANTIC_KEY = "embed_progress"  # an unfinished embedding stage: {"pid" (0 once it ended), "units"}
LANDMARKS_KEY = "walk_landmarks"  # an indexed file (not skipped as binary, too large, secret ...)

T = TypeVar("T")


def in_batches(values: Iterable[T], size: int = _PARAMETER_BATCH) -> Iterator[list[T]]:
    """``values`` (deduplicated, sorted) in lists of at most ``size``, for ``IN (...)`` queries."""
    unique = sorted(set(values))  # type: ignore[type-var]
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def _alive(pid: int) -> bool:
    import os

    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's
        return True
    return True


#: a symbol's qualified name (stored as "" when it is the name) of the symbols row aliased ``s``
QUALNAME = "COALESCE(NULLIF({s}.qualname, ''), {s}.name)"
#: a reference's name (stored as "" when it is its last component) of the refs row aliased ``r``
REF_NAME = "COALESCE(NULLIF({r}.name, ''), {r}.last)"


class SourceText:
    """A file's bytes as the indexer parsed them: chunk texts are cut from it exactly as parsing
    made them (``extract._make_chunks`` cuts bytes at line starts; a newline never falls inside
    a UTF-8 sequence, so cutting by lines decodes alike)."""

    __slots__ = ("data", "_lines")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._lines: list[bytes] | None = None

    @classmethod
    def unpack(cls, stored: bytes) -> SourceText:
        import zlib

        return cls(zlib.decompress(stored))

    def _split(self) -> list[bytes]:
        if self._lines is None:
            self._lines = self.data.split(b"\n")
        return self._lines

    @property
    def line_count(self) -> int:
        """Lines as parsing counts them (a final newline starts one more, empty)."""
        return len(self._split())

    def span(self, start: int, end: int) -> str:
        """Lines ``start``..``end`` (1-based, inclusive) as a chunk holds them."""
        return b"\n".join(self._split()[max(start, 1) - 1 : end]).decode("utf-8", "replace").rstrip("\n")

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


@dataclass(frozen=True, slots=True)
class FileRow:
    """A file the indexer has seen, indexed or skipped (``skip`` says why)."""

    id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None
    skip: str | None


class IndexedFile(NamedTuple):
    """A file whose content is in the index (a named tuple: a kernel has 83k of them, and every
    context call reads them all)."""

    id: int
    path: str
    language: str | None
    lines: int
    size: int
    hash: str


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """A big index run (a cold build) that has not finished: the index holds ``done`` of
    ``total`` files so far. ``running``: its process is alive (else it was interrupted, and
    the next ``codeassist index`` resumes it)."""

    done: int
    total: int
    running: bool
    started: float

    def describe(self) -> str:
        if self.running:
            return (f"the index is being built ({self.done:,} of {self.total:,} files so far): "
                    "results are partial")
        return (f"the index build was interrupted at {self.done:,} of {self.total:,} files: results are "
                "partial; run `codeassist index` to finish it")

    def to_dict(self) -> dict[str, object]:
        return {"files_done": self.done, "files_total": self.total, "running": self.running,
                "started": self.started}


@dataclass(frozen=True, slots=True)
class SemanticProgress:
    """An embedding stage that has not finished: ``embedded`` of ``units`` symbols have vectors so
    far (the most used first), and dense search works on those. ``running``: its process is
    alive (else it stopped early, and the next ``codeassist index`` goes on from there)."""

    embedded: int
    units: int
    running: bool

    def describe(self) -> str:
        covers = f"semantic search covers {self.embedded:,} of {self.units:,} symbols"
        if self.running:
            return f"{covers} so far (the embedding stage is running, most-used symbols first)"
        return f"{covers}: the embedding stage stopped early; run `codeassist index` to finish it"

    def to_dict(self) -> dict[str, object]:
        return {"embedded": self.embedded, "units": self.units, "running": self.running}


class ChunkSpan(NamedTuple):
    """Where a stored chunk is: lines ``start_line..end_line`` of a file, inside ``symbol_id`` if
    any (a :class:`ChunkRow` without the text, which is cut from the file's source)."""

    id: int
    file_id: int
    start_line: int
    end_line: int
    symbol_id: int | None


class ChunkRow(NamedTuple):
    """A stored chunk: lines ``start_line..end_line`` of a file, inside ``symbol_id`` if any."""

    id: int
    file_id: int
    start_line: int
    end_line: int
    symbol_id: int | None
    text: str


class SymbolRef(NamedTuple):
    """The identity of a definition: enough to rank it and find its file."""

    id: int
    file_id: int
    name: str
    qualname: str
    kind: str


class SymbolDetail(NamedTuple):
    """A definition with everything an outline shows; ``parent_id`` is the enclosing one."""

    id: int
    file_id: int
    path: str
    name: str
    qualname: str
    kind: str
    start_line: int
    end_line: int
    signature: str
    doc: str
    parent_id: int | None
    parent: str | None
    #: not None when asked not to resolve signatures: ``signature`` is then "", and this is its
    #: index among its file's (``IndexReader.signature_lists``)
    signature_index: int | None = None


class ReferenceRow(NamedTuple):
    """A use of a name, on every line in ``lines`` of the file, inside ``symbol`` if any."""

    file_id: int
    path: str
    name: str
    kind: str
    lines: tuple[int, ...]
    symbol: str | None


class EmbedUnit(NamedTuple):
    """A definition that gets a vector, with what its embedded text is made from."""

    symbol_id: int
    path: str
    qualname: str
    signature_index: int  # of its file's signatures (``IndexReader.signature_lists``)
    doc: str
    start_line: int
    file_id: int

    def signature_in(self, signatures: dict[int, list[str]]) -> str:
        """Its signature, from its file's (``signature_lists``)."""
        return signature_at(signatures, self.file_id, self.signature_index)


def signature_at(signatures: dict[int, list[str]], file_id: int, index: int) -> str:
    """The ``index``-th signature of a file, from :meth:`IndexReader.signature_lists` ("" when
    it has none there)."""
    found = signatures.get(file_id, ())
    return found[index] if 0 <= index < len(found) else ""


@dataclass(frozen=True)
class IndexCounts:
    """What the index holds: one count feeds ``status`` and the summary of an index run."""

    files: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    symbols: int = 0
    references: int = 0
    chunks: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    parse_errors: int = 0
    embedded: int = 0


@dataclass(frozen=True, slots=True)
class StoredVectorSpec:
    """What the index's vectors were made with, as recorded in its ``vector_spec`` meta key."""

    collection: str
    model_id: str
    dimensions: int
    chunker_version: str
    chroma_url: str

    def key(self) -> str:
        return "|".join(map(str, (self.collection, self.model_id, self.dimensions, self.chunker_version,
                                  self.chroma_url)))

    @classmethod
    def parse(cls, key: str | None) -> StoredVectorSpec | None:
        if key is None:
            return None
        collection, model_id, dims, chunker, chroma_url = key.split("|", 4)
        return cls(collection, model_id, int(dims), chunker, chroma_url)


@dataclass(frozen=True, slots=True)
class StagedVectors:
    """Changes a small re-index staged for the vector store (see ``embed_stage``)."""

    #: deleted symbols' vector ids, still in the vector store
    trash: list[str]
    #: (vector id, path, float32 bytes) of new vectors not yet in the vector store
    outbox: list[tuple[str, str, bytes]]


_SYMBOL_COLUMNS = (
    "SELECT s.id, s.file_id, f.path, s.name, " + QUALNAME.format(s="s") + ", s.kind, s.start_line, s.end_line,"
    " s.id - f.symbols_from, s.doc, s.parent_id, " + QUALNAME.format(s="p")
)
_SYMBOL_DETAIL = _SYMBOL_COLUMNS + " FROM symbols s JOIN files f ON f.id=s.file_id LEFT JOIN symbols p ON p.id=s.parent_id"
#: the same, for a WHERE on files: each file's symbols are a range of ids
_FILE_SYMBOLS = (_SYMBOL_COLUMNS + " FROM files f JOIN symbols s ON s.id BETWEEN f.symbols_from AND f.symbols_to"
                 " LEFT JOIN symbols p ON p.id=s.parent_id")
#: a file's references (its rows aliased ``f``, a range of ids)
_FILE_REFS = "files f JOIN refs r ON r.id BETWEEN f.refs_from AND f.refs_to"


_SYMBOL_REF = "SELECT id, file_id, name, " + QUALNAME.format(s="symbols") + ", kind FROM symbols"


class IndexReader:
    """Named, typed queries over one repository's index."""

    def __init__(self, conn: sqlite3.Connection, *, owns_connection: bool = False) -> None:
        self._conn = conn
        self._owns_connection = owns_connection

    def close(self) -> None:
        if self._owns_connection:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")  # ends the read snapshot
            self._conn.close()

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _all(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    def _one(self, sql: str, params: Iterable[object] = ()) -> tuple | None:
        return self._conn.execute(sql, tuple(params)).fetchone()

    def _rows_in(self, sql: str, values: Iterable[object], extra: tuple[object, ...] = ()) -> Iterator[tuple]:
        """Rows of ``sql`` whose ``{marks}`` stands for ``values`` (batched under SQLite's
        parameter limit); ``extra`` parameters follow each batch's."""
        for part in in_batches(values):
            yield from self._conn.execute(sql.format(marks=_marks(part)), (*part, *extra))

    def _count(self, sql: str, params: Iterable[object] = ()) -> int:
        row = self._one(sql, params)
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> str | None:
        """A value of the index's meta table (``last_indexed``, ``vector_spec`` ...)."""
        try:
            row = self._one("SELECT value FROM meta WHERE key=?", (key,))
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def _meta_record(self, key: str, **fields: Callable[[Any], Any]) -> dict[str, Any] | None:
        """The ``fields`` of a JSON record in the meta table, each converted (``pid=int``);
        None when the record is absent or malformed."""
        raw = self.meta(key)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return {name: convert(data[name]) for name, convert in fields.items()}
        except (ValueError, KeyError, TypeError):
            return None

    def build_progress(self) -> BuildProgress | None:
        """The unfinished big index run, if any (see :class:`BuildProgress`)."""
        run = self._meta_record(BUILD_KEY, pid=int, done=int, total=int, started=float)
        return None if run is None else BuildProgress(run["done"], run["total"], _alive(run["pid"]), run["started"])

    def semantic_progress(self) -> SemanticProgress | None:
        """The unfinished embedding stage, if any (see :class:`SemanticProgress`)."""
        stage = self._meta_record(SEMANTIC_KEY, pid=int, units=int)
        if stage is None:
            return None
        return SemanticProgress(self.embedded_count(), stage["units"], stage["pid"] > 0 and _alive(stage["pid"]))

    def landmarks(self) -> list[tuple[str, int]]:
        """(relative path, mtime_ns) of the folders and ignore files the last run's walk saw."""
        import json

        raw = self.meta(LANDMARKS_KEY)
        return [(rel, int(mtime)) for rel, mtime in json.loads(raw)] if raw else []

    def last_indexed(self) -> float | None:
        """When the last index run finished (seconds since the epoch)."""
        value = self.meta("last_indexed")
        return float(value) if value else None

    # ------------------------------------------------------------------ files
    def known_files(self) -> dict[str, FileRow]:
        """Every file seen by the indexer, skipped ones too, by path."""
        return {r[1]: FileRow(*r) for r in self._conn.execute(
            "SELECT id, path, size, mtime_ns, hash, skip FROM files")}

    def file_stamps(self) -> list[tuple[str, int, int]]:
        """(path, size, mtime_ns) of every file seen by the indexer: what a freshness check
        compares with the disk."""
        return self._all("SELECT path, size, mtime_ns FROM files")

    def files(self) -> list[IndexedFile]:
        """The indexed files, by path."""
        # sorted here, not by SQL: a scan in the path index's order then fetches every row by id,
        # 2-3x slower on the kernel's 83k files (UTF-8 byte order is code point order, as in SQL)
        rows = self._all(f"SELECT id, path, language, lines, size, hash FROM files WHERE {_LIVE}")
        rows.sort(key=itemgetter(1))  # by path
        return [IndexedFile(*r) for r in rows]

    def file_count(self) -> int:
        """How many files are indexed (not skipped)."""
        return self._count(f"SELECT COUNT(*) FROM files WHERE {_LIVE}")

    def file(self, path: str) -> IndexedFile | None:
        """The indexed file at exactly ``path``, if there is one."""
        row = self._one(f"SELECT id, path, language, lines, size, hash FROM files WHERE path=? AND {_LIVE}", (path,))
        return IndexedFile(*row) if row else None

    def paths(self) -> list[str]:
        """Paths of the indexed files, sorted."""
        return sorted(r[0] for r in self._conn.execute(f"SELECT path FROM files WHERE {_LIVE}"))

    def paths_of(self, file_ids: Iterable[int]) -> dict[int, str]:
        """The path of each of these files, by id."""
        return dict(self._rows_in("SELECT id, path FROM files WHERE id IN ({marks})", file_ids))

    def line_counts(self) -> dict[str, int]:
        """Each indexed file's number of lines, by path."""
        return dict(self._all(f"SELECT path, lines FROM files WHERE {_LIVE}"))

    def content_digest(self) -> str:
        """A digest of (file id, content hash, path) of every indexed file: what the index's text
        and file list depend on (a file renamed as it was can keep its id). One string built by
        SQLite (a tuple per file costs 3x more on the kernel)."""
        import hashlib

        row = self._one(f"SELECT group_concat(id || ':' || hash || ':' || path, ';') FROM"
                        f" (SELECT id, hash, path FROM files WHERE {_LIVE} ORDER BY id)")
        return hashlib.blake2b((row[0] if row and row[0] else "").encode(), digest_size=16).hexdigest()

    def files_named(self, path: str, limit: int = 5) -> list[int]:
        """Ids of indexed files at ``path`` or ending in ``/path``, shortest paths first."""
        pattern = "%/" + path.replace("%", r"\%").replace("_", r"\_")
        return [r[0] for r in self._all(
            f"SELECT id FROM files WHERE {_LIVE} AND (path=? OR path LIKE ? ESCAPE '\\')"
            " ORDER BY length(path), path LIMIT ?", (path, pattern, limit))]

    def counts(self) -> IndexCounts:
        """Files by language and skip reason, symbols, references, chunks, vectors."""
        languages = {(lang or "text"): n for lang, n in self._all(
            f"SELECT language, COUNT(*) FROM files WHERE {_LIVE} GROUP BY language"
            " ORDER BY COUNT(*) DESC, language")}
        skipped = dict(self._all("SELECT skip, COUNT(*) FROM files WHERE skip IS NOT NULL GROUP BY skip"))
        return IndexCounts(
            files=sum(languages.values()),
            languages=languages,
            symbols=self._count("SELECT COUNT(*) FROM symbols"),
            references=self._count("SELECT COUNT(*) FROM refs"),
            chunks=self._count("SELECT COUNT(*) FROM chunks"),
            skipped=skipped,
            parse_errors=self._count("SELECT COUNT(*) FROM files WHERE parse_errors=1"),
            embedded=self.embedded_count(),
        )

    # ------------------------------------------------------------------ chunks
    def chunk_spans(self, chunk_ids: Iterable[int]) -> dict[int, ChunkSpan]:
        """Where the chunks with these ids are (missing ones are left out); cheaper than
        :meth:`chunks`, which reads their files' sources too."""
        return {r[0]: ChunkSpan(*r) for r in self._rows_in(
            "SELECT id, file_id, start_line, end_line, symbol_id FROM chunks WHERE id IN ({marks})", chunk_ids)}

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, ChunkRow]:
        """The chunks with these ids, with their text (missing ones are left out)."""
        return {row.id: row for row in self._with_texts(list(self.chunk_spans(chunk_ids).values()))}

    def chunk(self, chunk_id: int) -> ChunkSpan | None:
        """Where one chunk is (see :meth:`chunk_spans`)."""
        return self.chunk_spans((chunk_id,)).get(chunk_id)

    def chunk_at(self, file_id: int, line: int) -> ChunkSpan | None:
        """The first chunk of a file that contains ``line``."""
        row = self._one(
            "SELECT id, file_id, start_line, end_line, symbol_id FROM chunks"
            " WHERE file_id=? AND start_line<=? AND end_line>=? ORDER BY start_line LIMIT 1",
            (file_id, line, line))
        return ChunkSpan(*row) if row else None

    def line_texts(self, places: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The text of each (file id, line) as the index holds it ("" past the end), each
        file's source read once."""
        places = list(places)
        sources = self.sources(file_id for file_id, _line in places)
        return {(file_id, line): source.span(line, line) if (source := sources.get(file_id)) is not None
                and 1 <= line <= source.line_count else "" for file_id, line in places}

    def first_chunk(self, file_id: int) -> int | None:
        """The id of a file's first chunk."""
        row = self._one("SELECT id FROM chunks WHERE file_id=? ORDER BY start_line LIMIT 1", (file_id,))
        return row[0] if row else None

    def source(self, file_id: int) -> SourceText | None:
        """The file as the index saw it (None for a file without chunks: empty or blank)."""
        return self.sources((file_id,)).get(file_id)

    def sources(self, file_ids: Iterable[int]) -> dict[int, SourceText]:
        """:meth:`source` of several files, by id (ids may repeat)."""
        return {file_id: SourceText.unpack(data) for file_id, data in self._rows_in(
            "SELECT file_id, data FROM sources WHERE file_id IN ({marks})", set(file_ids))}

    def _with_texts(self, rows: Sequence[tuple]) -> list[ChunkRow]:
        """(id, file id, start, end, symbol id) rows as ChunkRows, their text cut from their
        file's source (each source read once)."""
        sources = self.sources(row[1] for row in rows)
        return [ChunkRow(*row, sources[row[1]].span(row[2], row[3]) if row[1] in sources else "") for row in rows]

    def chunks_for_symbols(self, symbol_ids: Iterable[int]) -> dict[int, int]:
        """For each symbol, the chunk where its definition starts."""
        return {sym_id: chunk_id for sym_id, chunk_id in self._rows_in(
            "SELECT s.id, (SELECT c.id FROM chunks c WHERE c.file_id=s.file_id AND c.end_line >= s.start_line"
            " ORDER BY c.start_line LIMIT 1) FROM symbols s WHERE s.id IN ({marks})", symbol_ids)
            if chunk_id is not None}

    def term_chunks(self, term: str, limit: int) -> list[int]:
        """Ids of up to ``limit`` chunks that hold ``term`` (in any column)."""
        return [r[0] for r in self._conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?",
                                                 ('"' + term.replace('"', '""') + '"', limit))]

    def chunk_files(self, chunk_ids: Iterable[int]) -> dict[int, int]:
        """The file of each of these chunks."""
        return dict(self._rows_in("SELECT id, file_id FROM chunks WHERE id IN ({marks})", chunk_ids))

    def file_lengths(self, file_ids: Iterable[int]) -> dict[int, int]:
        """Lines of each of these files."""
        return dict(self._rows_in("SELECT id, lines FROM files WHERE id IN ({marks})", file_ids))

    def length_stats(self) -> tuple[int, float]:
        """How many files the index holds, and their mean length in lines."""
        row = self._one(f"SELECT COUNT(*), AVG(lines) FROM files WHERE {_LIVE}")
        return (int(row[0]), float(row[1] or 0.0)) if row else (0, 0.0)

    def lexical_match(self, match: str, weights: Sequence[float], limit: int) -> list[int]:
        """Chunk ids for an FTS5 ``match`` expression, best BM25 first (``weights``: path,
        symbol, body, extra columns)."""
        return [r[0] for r in self._conn.execute(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts, ?, ?, ?, ?) LIMIT ?",
            (match, *weights, limit))]

    # ------------------------------------------------------------------ symbols
    def symbols_by_id(self, symbol_ids: Iterable[int]) -> dict[int, SymbolRef]:
        return {r[0]: SymbolRef(*r) for r in self._rows_in(
            _SYMBOL_REF + " WHERE id IN ({marks})", symbol_ids)}

    def symbols_by_norm(self, norm: str, *, limit: int = 500, qualname: str = "") -> list[SymbolRef]:
        """Definitions whose normalised name (case and ``_`` ignored) is ``norm``; with
        ``qualname``, only those whose qualified name is it or ends in ``.qualname``
        (case-insensitive)."""
        sql = _SYMBOL_REF + " WHERE norm=?"
        params: list[object] = [norm]
        if qualname:
            dotted = qualname.lower()
            qualified = "lower(" + QUALNAME.format(s="symbols") + ")"
            sql += f" AND ({qualified}=? OR {qualified} LIKE ? ESCAPE '\\')"
            params += [dotted, "%." + dotted.replace("_", "\\_").replace("%", "\\%")]
        return [SymbolRef(*r) for r in self._all(sql + " LIMIT ?", (*params, limit))]

    def definitions_of(self, norms: Iterable[str], kinds: Iterable[str] = ()) -> list[SymbolRef]:
        """Definitions with any of these normalised names (and of these kinds, when given)."""
        kinds = tuple(kinds)
        kind_sql = f" AND kind IN ({_marks(kinds)})" if kinds else ""
        return [SymbolRef(*r) for r in self._rows_in(
            _SYMBOL_REF + " WHERE norm IN ({marks})" + kind_sql, norms, kinds)]

    def symbol_details(self, *, path: str | None = None, norm: str | None = None,
                       name_like: str | None = None, limit: int = -1) -> list[SymbolDetail]:
        """Definitions with their outline fields: those of one file (``path``, in line order),
        of one normalised name, or whose name contains ``name_like`` (case-insensitive,
        shortest names first)."""
        source = _SYMBOL_DETAIL
        if path is not None:
            source, where, params, order = _FILE_SYMBOLS, "f.path=?", [path], "s.start_line, s.id"
        elif norm is not None:
            where, params, order = "s.norm=?", [norm], "s.id"
        elif name_like is not None:
            pattern = "%" + name_like.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where, params, order = "lower(s.name) LIKE ? ESCAPE '\\'", [pattern], "length(s.name), s.name, f.path"
        else:
            where, params, order = "1", [], "s.id"
        return self._details(self._all(f"{source} WHERE {where} ORDER BY {order} LIMIT ?", (*params, limit)))

    def _details(self, rows: Sequence[tuple], resolve: bool = True) -> list[SymbolDetail]:
        """``_SYMBOL_DETAIL`` rows (the signature's index among its file's in place of it) as
        SymbolDetails, their signatures read a file at a time, or left to the caller
        (``resolve=False``: ``signature_index`` says which of :meth:`signature_lists` it is)."""
        if not resolve:
            return [SymbolDetail(*r[:8], "", *r[9:], r[8]) for r in rows]
        lists = self.signature_lists({r[1] for r in rows})
        return [SymbolDetail(*r[:8], signature_at(lists, r[1], r[8]), *r[9:]) for r in rows]

    def signature_lists(self, file_ids: Iterable[int]) -> dict[int, list[str]]:
        """The signatures of each file's symbols, in id order, by file id."""
        return {file_id: unpack_signatures(data) for file_id, data in self._rows_in(
            "SELECT file_id, data FROM signatures WHERE file_id IN ({marks})", set(file_ids))}

    def symbols_in_files(self, file_ids: Iterable[int] | None = None, *,
                         resolve: bool = True) -> Iterator[SymbolDetail]:
        """Every definition of these files (default: of all files), in no particular order
        (``resolve``: see :meth:`_details`)."""
        ids = [r[0] for r in self._all("SELECT id FROM files")] if file_ids is None else file_ids
        for part in in_batches(ids):  # a batch's sources at a time
            yield from self._details(self._all(_FILE_SYMBOLS + f" WHERE f.id IN ({_marks(part)})", part), resolve)

    def symbols_named_in(self, pairs: Iterable[tuple[int, str]], *, resolve: bool = True) -> list[SymbolDetail]:
        """The definitions of each (file id, name), found through the name index within the
        file's range of ids (a kernel header holds thousands of macros; a map shows one)."""
        out: list[SymbolDetail] = []
        for part in in_batches(pairs, _PARAMETER_BATCH // 3):
            values = ",".join("(?,?,?)" for _ in part)
            rows = self._all(f"WITH wanted(file_id, name, norm) AS (VALUES {values}) " + _SYMBOL_COLUMNS
                             + " FROM wanted w CROSS JOIN files f ON f.id=w.file_id"
                               " JOIN symbols s ON s.norm=w.norm AND s.id BETWEEN f.symbols_from AND f.symbols_to"
                               " AND s.name=w.name LEFT JOIN symbols p ON p.id=s.parent_id",
                             [v for file_id, name in part for v in (file_id, name, name.replace("_", "").lower())])
            out.extend(self._details(rows, resolve))
        return out

    def symbols_with_ids(self, symbol_ids: Iterable[int], *, resolve: bool = True) -> list[SymbolDetail]:
        """The definitions with these ids (``resolve``: see :meth:`_details`)."""
        return self._details(list(self._rows_in(_SYMBOL_DETAIL + " WHERE s.id IN ({marks})", symbol_ids)), resolve)

    def symbols_named(self, names: Iterable[str], *, resolve: bool = True) -> list[SymbolDetail]:
        """Every definition whose name is exactly one of ``names`` (through the name index)."""
        wanted = set(names)
        norms = sorted({n.replace("_", "").lower() for n in wanted})
        rows = [r for r in self._rows_in(_SYMBOL_DETAIL + " WHERE s.norm IN ({marks})", norms) if r[3] in wanted]
        return self._details(rows, resolve)

    def defined_names(self) -> list[tuple[int, str]]:
        """(file id, name) of every name defined in a file, once each."""
        return self._all("SELECT DISTINCT file_id, name FROM symbols")

    def documented_callables(self) -> list[SymbolDetail]:
        """Functions and methods with a doc comment (the targets of ``codeassist eval``)."""
        kinds = tuple(CALLABLE_KINDS)
        return self._details(self._all(f"{_SYMBOL_DETAIL} WHERE s.kind IN ({_marks(kinds)}) AND s.doc != ''", kinds))

    # ------------------------------------------------------------------ references
    def references_to(self, last: str) -> list[ReferenceRow]:
        """Uses of a name, by its last component (``b`` for ``a.b``)."""
        return [ReferenceRow(file_id, path, name, kind, tuple(int(n) for n in lines.split(",")), symbol)
                for path, lines, name, kind, symbol, file_id in self._all(
                    "SELECT f.path, r.lines, " + REF_NAME.format(r="r") + ", r.kind, " + QUALNAME.format(s="s")
                    + ", r.file_id FROM refs r"
                    " JOIN files f ON f.id=r.file_id LEFT JOIN symbols s ON s.id=r.symbol_id"
                    " WHERE r.last=?", (last,))]

    def reference_counts(self) -> Iterator[tuple[int, str, int]]:
        """(file id, name used, number of lines using it) of every reference row."""
        return self._conn.execute(
            "SELECT file_id, last, length(lines) - length(replace(lines, ',', '')) + 1 FROM refs")

    def names_used_in(self, file_id: int, start: int, end: int) -> list[str]:
        """Names used by the symbols that lie within lines ``start..end`` of a file."""
        return [r[0] for r in self._all(
            f"SELECT DISTINCT r.last FROM {_FILE_REFS} JOIN symbols s ON s.id=r.symbol_id"
            " WHERE f.id=? AND s.start_line>=? AND s.end_line<=?", (file_id, start, end))]

    def names_used_by(self, symbols: dict[int, int]) -> list[tuple[int, str]]:
        """(symbol id, name) of what each symbol uses; ``symbols`` maps symbol id to its file
        id (refs are indexed by file, not by symbol)."""
        if not symbols:
            return []
        ids, files = sorted(symbols), sorted(set(symbols.values()))
        return self._all(
            f"SELECT DISTINCT r.symbol_id, r.last FROM {_FILE_REFS} WHERE f.id IN ({_marks(files)})"
            f" AND r.symbol_id IN ({_marks(ids)})", (*files, *ids))

    def users_of(self, name: str, limit: int) -> list[int]:
        """Up to ``limit`` symbols whose code uses ``name``."""
        return [r[0] for r in self._all(
            "SELECT DISTINCT symbol_id FROM refs WHERE last=? AND symbol_id IS NOT NULL LIMIT ?", (name, limit))]

    # ------------------------------------------------------------------ vectors
    def vector_spec(self) -> StoredVectorSpec | None:
        """What the index's vectors were made with, if it has any."""
        return StoredVectorSpec.parse(self.meta("vector_spec"))

    def embedded_count(self) -> int:
        return self._count("SELECT COUNT(*) FROM embedded")

    def has_vectors(self) -> bool:
        return self._one("SELECT 1 FROM embedded LIMIT 1") is not None

    def embedded(self) -> dict[int, str]:
        """Vector id of each symbol that has one."""
        return dict(self._all("SELECT symbol_id, vector_id FROM embedded"))

    def vector_ids(self) -> list[str]:
        """Every vector id the index knows, sorted."""
        return [r[0] for r in self._conn.execute("SELECT vector_id FROM embedded ORDER BY vector_id")]

    def symbols_of_vectors(self, vector_ids: Iterable[str]) -> dict[str, int]:
        """The symbol each vector id stands for."""
        return dict(self._rows_in("SELECT vector_id, symbol_id FROM embedded WHERE vector_id IN ({marks})", vector_ids))

    def embed_units(self, *, pending_only: bool = False) -> list[EmbedUnit]:
        """Definitions of the kinds that get a vector (only those without one yet, with
        ``pending_only``), by path and line. Test code is not filtered here."""
        kinds = tuple(EMBEDDED_KINDS)
        pending = " AND s.id NOT IN (SELECT symbol_id FROM embedded)" if pending_only else ""
        return [EmbedUnit(*r) for r in self._all(
            "SELECT s.id, f.path, " + QUALNAME.format(s="s") + ", s.id - f.symbols_from, s.doc, s.start_line,"
            " s.file_id FROM symbols s"
            f" JOIN files f ON f.id=s.file_id WHERE s.kind IN ({_marks(kinds)}){pending}"
            " ORDER BY f.path, s.start_line", kinds)]

    def files_using(self) -> dict[str, int]:
        """For every name used anywhere (its last component), how many files use it."""
        return dict(self._all("SELECT last, COUNT(DISTINCT file_id) FROM refs GROUP BY last"))

    def embed_unit_paths(self) -> list[tuple[int, str]]:
        """(symbol id, path) of every definition of the kinds that get a vector."""
        kinds = tuple(EMBEDDED_KINDS)
        return self._all(
            f"SELECT s.id, f.path FROM symbols s JOIN files f ON f.id=s.file_id WHERE s.kind IN ({_marks(kinds)})",
            kinds)

    def staged_vectors(self) -> StagedVectors:
        """Vector-store changes a small re-index staged and no run has applied yet."""
        trash = [r[0] for r in self._conn.execute("SELECT vector_id FROM vector_trash ORDER BY vector_id")]
        outbox = self._all("SELECT vector_id, path, vector FROM vector_outbox ORDER BY vector_id")
        return StagedVectors(trash, outbox)

    def staged_counts(self) -> tuple[int, int]:
        """(staged deletions, staged additions)."""
        return (self._count("SELECT COUNT(*) FROM vector_trash"), self._count("SELECT COUNT(*) FROM vector_outbox"))

    def staged_vector_blobs(self, vector_ids: Iterable[str]) -> dict[str, bytes]:
        """Float32 bytes of staged new vectors, by id (missing ids are left out)."""
        return dict(self._rows_in("SELECT vector_id, vector FROM vector_outbox WHERE vector_id IN ({marks})", vector_ids))
