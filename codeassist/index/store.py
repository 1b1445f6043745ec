"""The durable index: SQLite in WAL mode with an FTS5 lexical index.

Tables: ``files`` (one row per file seen, with its stat, content hash, language or skip
reason), ``symbols`` (their signatures a file at a time, compressed, in ``signatures``), ``refs``
(references by name), ``sources`` (each file's bytes as parsed, compressed), ``chunks`` (line
ranges of a file; their text is cut from its source) and the contentless FTS5 table
``chunks_fts`` whose rowid is the chunk id. Each file's rows are written in the same transaction
as its ``files`` row, so a crash at any moment leaves a consistent index that the next run
completes. Readers never block the writer (WAL).
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Iterable

from ..errors import IndexCorruptError, IndexNotBuiltError
from ..parsing.extract import EXTRACTOR_VERSION, ParsedFile
from ..parsing.terms import TermExpander
from .reader import QUALNAME, FileRow, IndexReader, SourceText

__all__ = ["Store", "open_reader", "FileRow", "SCHEMA_VERSION", "DB_NAME", "last_component"]

SCHEMA_VERSION = 7  # bump on any change to tables, FTS columns or term rules
DB_NAME = "index.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    language TEXT,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT,
    skip TEXT,
    lines INTEGER NOT NULL DEFAULT 0,
    parse_errors INTEGER NOT NULL DEFAULT 0,
    -- its symbols' and references' ids (each file's are consecutive: no index by file needed)
    symbols_from INTEGER,
    symbols_to INTEGER,
    refs_from INTEGER,
    refs_to INTEGER
);
CREATE TABLE IF NOT EXISTS symbols(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    norm TEXT NOT NULL,
    qualname TEXT NOT NULL,       -- "" when it is the name (most are: C's macros and functions)
    kind TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    doc TEXT NOT NULL,            -- (its signature is in ``signatures``)
    parent_id INTEGER
);
CREATE TABLE IF NOT EXISTS refs(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,           -- "" when it is ``last`` (most are)
    last TEXT NOT NULL,           -- the name's last component: "b" for an import of "a.b"
    kind TEXT NOT NULL,
    lines TEXT NOT NULL,          -- every line of this use inside the symbol: "12,40,41"
    symbol_id INTEGER             -- the enclosing symbol, NULL at file level
);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    symbol_id INTEGER              -- its text is cut from the file's source (reader.SourceText)
);
CREATE TABLE IF NOT EXISTS sources(
    file_id INTEGER PRIMARY KEY,
    data BLOB NOT NULL            -- the file's bytes as parsed, zlib-compressed
);
CREATE TABLE IF NOT EXISTS signatures(
    file_id INTEGER PRIMARY KEY,
    data BLOB NOT NULL            -- its symbols' signatures in id order, one a line, zlib-compressed
);
CREATE TABLE IF NOT EXISTS embedded(
    symbol_id INTEGER PRIMARY KEY,   -- a symbol whose vector is in the vector store
    vector_id TEXT NOT NULL UNIQUE   -- its id there
);
-- changes not yet applied to the vector store (a small re-index stages them; see embedding.py)
CREATE TABLE IF NOT EXISTS vector_trash(
    vector_id TEXT PRIMARY KEY       -- a deleted symbol's vector, still in the vector store
);
CREATE TABLE IF NOT EXISTS vector_outbox(
    vector_id TEXT PRIMARY KEY,      -- a new vector, in the query mirror but not yet in the store
    path TEXT NOT NULL,
    vector BLOB NOT NULL             -- float32
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    path, symbol, body, extra, content='', tokenize='porter unicode61 remove_diacritics 2'
);
"""

# Secondary indexes are created after a cold bulk load (much faster than maintaining them).
_INDEXES = """
CREATE INDEX IF NOT EXISTS symbols_norm ON symbols(norm);
CREATE INDEX IF NOT EXISTS refs_last ON refs(last);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
"""


_SEPARATORS = re.compile(r"\.|::|->|#|/|\\")


def last_component(name: str) -> str:
    """``a.b.c`` → ``c``; also for ``::``, ``->``, ``#`` and path separators."""
    return _SEPARATORS.split(name)[-1] or name


def open_reader(folder: Path) -> IndexReader:
    """A reader of the index in ``folder`` with a connection of its own; close it (or use it as
    a context manager). Raises IndexNotBuiltError when there is no index."""
    conn = Store.open(folder).conn
    conn.execute("BEGIN")  # one snapshot for the reader's life: a writer committing meanwhile is not seen halfway
    return IndexReader(conn, owns_connection=True)


class Store:
    """One repository's index database: the writer (the indexer's side). Not thread-safe: one
    Store per thread. Reads go through :attr:`reader`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._expander = TermExpander()
        #: why the index was emptied when it was opened (outdated format), or ""
        self.rebuild_reason = ""
        self._reader: IndexReader | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, folder: Path, *, create: bool = False) -> Store:
        """Open the index in ``folder``; with ``create``, make it (or rebuild an outdated one)."""
        path = folder / DB_NAME
        if not path.exists() and not create:
            raise IndexNotBuiltError(
                "this repository has no index yet; run `codeassist index` in it first"
            )
        folder.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA mmap_size=268435456")
            store = cls(conn, path)
            if create:
                store._ensure_schema()
            else:
                store._check_readable()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(
                f"the index at {path} is damaged ({exc}); rebuild it with `codeassist index --rebuild`"
            ) from None
        return store

    def _ensure_schema(self) -> None:
        version = self.meta("schema_version")
        extractor = self.meta("extractor_version")
        expected = (str(SCHEMA_VERSION), str(EXTRACTOR_VERSION))
        if version is not None and (version, extractor) != expected:
            self.reset(reason=f"index format {version}/{extractor} is outdated")
        self.conn.executescript(_SCHEMA)
        if self.meta("schema_version") is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
            self.set_meta("extractor_version", str(EXTRACTOR_VERSION))
            self.set_meta("created_at", str(time.time()))

    def _check_readable(self) -> None:
        version = self.meta("schema_version")
        if version is None:
            raise IndexNotBuiltError("the index is empty; run `codeassist index` to build it")
        if version != str(SCHEMA_VERSION) or self.meta("extractor_version") != str(EXTRACTOR_VERSION):
            raise IndexNotBuiltError(
                "the index was written by another version of codeassist; run `codeassist index` "
                "to rebuild it"
            )

    def reset(self, reason: str = "") -> None:
        """Drop every table (used when the on-disk format is outdated)."""
        self.rebuild_reason = reason
        tables = [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'chunks_fts_%'"
            )
        ]
        self.conn.execute("BEGIN IMMEDIATE")
        for table in tables:
            self.conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        self.conn.execute("COMMIT")
        try:
            self.conn.execute("VACUUM")  # give the old format's pages back to the disk (quick: little is left)
        except sqlite3.Error:
            pass  # only space: the next reset tries again

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> str | None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    # ------------------------------------------------------------------ writing
    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def create_indexes(self) -> None:
        self.conn.executescript(_INDEXES)

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        self.conn.execute("UPDATE files SET size=?, mtime_ns=? WHERE id=?", (size, mtime_ns, file_id))

    def delete_file(self, file_id: int) -> None:
        """Remove a file and everything derived from it (FTS rows included)."""
        conn = self.conn
        row = conn.execute("SELECT path, symbols_from, symbols_to, refs_from, refs_to FROM files WHERE id=?",
                           (file_id,)).fetchone()
        if row is None:
            return
        path_terms = self._expander.with_extra(row[0])
        symbols, refs = (row[1] or 0, row[2] or -1), (row[3] or 0, row[4] or -1)
        source = conn.execute("SELECT data FROM sources WHERE file_id=?", (file_id,)).fetchone()
        text = SourceText.unpack(source[0]) if source else None
        deletes = [
            (chunk_id, path_terms, self._expander.with_extra(qualname or ""), chunk_text,
             self._expander.extra(chunk_text))
            for chunk_id, start, end, qualname in conn.execute(
                "SELECT c.id, c.start_line, c.end_line, " + QUALNAME.format(s="s") + " FROM chunks c"
                " LEFT JOIN symbols s ON s.id = c.symbol_id WHERE c.file_id=?",
                (file_id,),
            )
            for chunk_text in (text.span(start, end) if text else "",)
        ]
        conn.executemany(
            "INSERT INTO chunks_fts(chunks_fts, rowid, path, symbol, body, extra)"
            " VALUES('delete', ?, ?, ?, ?, ?)",
            deletes,
        )
        conn.execute("DELETE FROM sources WHERE file_id=?", (file_id,))
        conn.execute("DELETE FROM signatures WHERE file_id=?", (file_id,))
        conn.execute("DELETE FROM chunks WHERE file_id=?", (file_id,))
        # their vectors are deleted from the vector store by the next embedding stage
        conn.execute(
            "INSERT OR IGNORE INTO vector_trash(vector_id) SELECT vector_id FROM embedded"
            " WHERE symbol_id BETWEEN ? AND ?", symbols)
        conn.execute(
            "DELETE FROM vector_outbox WHERE vector_id IN (SELECT vector_id FROM embedded"
            " WHERE symbol_id BETWEEN ? AND ?)", symbols)
        conn.execute("DELETE FROM embedded WHERE symbol_id BETWEEN ? AND ?", symbols)
        conn.execute("DELETE FROM symbols WHERE id BETWEEN ? AND ?", symbols)
        conn.execute("DELETE FROM refs WHERE id BETWEEN ? AND ?", refs)
        conn.execute("DELETE FROM files WHERE id=?", (file_id,))

    def add_skipped(self, path: str, size: int, mtime_ns: int, digest: str | None, reason: str) -> None:
        self.conn.execute(
            "INSERT INTO files(path, size, mtime_ns, hash, skip) VALUES(?, ?, ?, ?, ?)",
            (path, size, mtime_ns, digest, reason),
        )

    def add_parsed(self, path: str, size: int, mtime_ns: int, digest: str, parsed: ParsedFile) -> None:
        """Insert a parsed file with its symbols, references, chunks and FTS rows."""
        conn = self.conn
        # each file's symbols and references get consecutive ids, kept with the file
        ids: list[int] = []
        if parsed.symbols:
            base = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM symbols").fetchone()[0]) + 1
            ids = list(range(base, base + len(parsed.symbols)))
        ref_base = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM refs").fetchone()[0]) + 1 if parsed.references else 0
        cur = conn.execute(
            "INSERT INTO files(path, language, size, mtime_ns, hash, lines, parse_errors, symbols_from, symbols_to,"
            " refs_from, refs_to) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (path, parsed.language, size, mtime_ns, digest, parsed.line_count, int(parsed.parse_errors),
             ids[0] if ids else None, ids[-1] if ids else None,
             ref_base or None, ref_base + len(parsed.references) - 1 if ref_base else None),
        )
        file_id = cur.lastrowid
        if parsed.symbols:
            conn.executemany(
                "INSERT INTO symbols(id, file_id, name, norm, qualname, kind, start_line, end_line,"
                " doc, parent_id) VALUES(?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        ids[i],
                        file_id,
                        s.name,
                        s.name.replace("_", "").lower(),
                        "" if s.qualname == s.name else s.qualname,
                        s.kind,
                        s.start_line,
                        s.end_line,
                        s.doc,
                        ids[s.parent] if s.parent is not None else None,
                    )
                    for i, s in enumerate(parsed.symbols)
                ],
            )
            conn.execute("INSERT INTO signatures(file_id, data) VALUES(?, ?)", (file_id, parsed.signatures))
        if parsed.references:
            conn.executemany(
                "INSERT INTO refs(id, file_id, name, last, kind, lines, symbol_id) VALUES(?,?,?,?,?,?,?)",
                [
                    (ref_base + i, file_id, "" if name == last else name, last, kind, lines,
                     None if sym is None else ids[sym])
                    for i, (name, kind, lines, sym) in enumerate(parsed.references)
                    for last in (last_component(name),)
                ],
            )
        if parsed.source:
            conn.execute("INSERT INTO sources(file_id, data) VALUES(?, ?)", (file_id, parsed.source))
        if parsed.chunks:
            base = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0]) + 1
            conn.executemany(
                "INSERT INTO chunks(id, file_id, start_line, end_line, symbol_id) VALUES(?,?,?,?,?)",
                [
                    (
                        base + i,
                        file_id,
                        c.start_line,
                        c.end_line,
                        ids[c.symbol] if c.symbol is not None else None,
                    )
                    for i, c in enumerate(parsed.chunks)
                ],
            )
            path_terms = self._expander.with_extra(path)
            conn.executemany(
                "INSERT INTO chunks_fts(rowid, path, symbol, body, extra) VALUES(?, ?, ?, ?, ?)",
                [
                    (
                        base + i,
                        path_terms,
                        c.symbol_terms,
                        c.text,
                        c.terms,
                    )
                    for i, c in enumerate(parsed.chunks)
                ],
            )

    # ------------------------------------------------------------------ vectors (see embed_stage)
    def record_vectors(self, pairs: list[tuple[int, str]]) -> None:
        """(symbol id, vector id) pairs whose vectors are now in the vector store (or staged)."""
        self.conn.executemany("INSERT OR REPLACE INTO embedded(symbol_id, vector_id) VALUES(?, ?)", pairs)

    def forget_vectors(self, symbol_ids: Iterable[int] | None = None) -> None:
        """Forget the vectors of these symbols (of every symbol when None)."""
        if symbol_ids is None:
            self.conn.execute("DELETE FROM embedded")
        else:
            self.conn.executemany("DELETE FROM embedded WHERE symbol_id=?", [(s,) for s in symbol_ids])

    def stage_vectors(self, rows: list[tuple[str, str, bytes]]) -> None:
        """(vector id, path, float32 bytes) of new vectors for the vector store's next opening;
        a staged deletion of the same id is dropped."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO vector_outbox(vector_id, path, vector) VALUES(?, ?, ?)", rows)
        self.conn.executemany("DELETE FROM vector_trash WHERE vector_id=?", [(r[0],) for r in rows])

    def clear_staged_vectors(self) -> None:
        """The staged changes reached the vector store (or were discarded with it)."""
        self.conn.execute("DELETE FROM vector_trash")
        self.conn.execute("DELETE FROM vector_outbox")

    def delete_meta(self, key: str) -> None:
        self.conn.execute("DELETE FROM meta WHERE key=?", (key,))

    # ------------------------------------------------------------------ reading
    @property
    def reader(self) -> IndexReader:
        """The typed read side, on this store's connection (sees its uncommitted writes)."""
        if self._reader is None:
            self._reader = IndexReader(self.conn)
        return self._reader

    def integrity_problems(self) -> list[str]:
        """SQLite's and FTS5's own consistency checks; empty when healthy."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        try:
            self.conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
        except sqlite3.DatabaseError as exc:
            problems.append(f"fts: {exc}")
        return problems
