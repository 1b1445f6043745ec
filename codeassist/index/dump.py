"""A canonical dump of an index, without row ids: two indexes of the same files dump equal.

The reliability tests compare an index that lived through crashes, kills and incremental runs
with a clean build of the same tree; a user can do the same to check an index."""

from __future__ import annotations

from pathlib import Path

from .reader import unpack_text
from .store import Store

__all__ = ["dump_index"]


def dump_index(folder: Path, *, fts_words: int = 300) -> dict[str, object]:
    """Everything the index in ``folder`` holds, sorted: files, symbols, references, chunks,
    what the lexical index answers for up to ``fts_words`` distinct words of the chunks, and
    its health (``problems`` from SQLite's and FTS5's checks, ``orphans``: rows whose file is
    gone)."""
    store = Store.open(folder)
    try:
        conn = store.conn
        q = lambda sql: sorted(conn.execute(sql).fetchall(), key=repr)  # noqa: E731
        files = q("SELECT path, language, size, hash, skip, lines FROM files")
        symbols = q(
            "SELECT f.path, s.qualname, s.kind, s.start_line, s.end_line, s.signature, s.doc, p.qualname"
            " FROM symbols s JOIN files f ON f.id=s.file_id LEFT JOIN symbols p ON p.id=s.parent_id")
        refs = q(
            "SELECT f.path, r.name, r.kind, r.lines, s.qualname FROM refs r JOIN files f ON f.id=r.file_id"
            " LEFT JOIN symbols s ON s.id=r.symbol_id")
        chunks = sorted(((path, start, end, unpack_text(text), qualname) for path, start, end, text, qualname in
                         conn.execute("SELECT f.path, c.start_line, c.end_line, c.text, s.qualname FROM chunks c"
                                      " JOIN files f ON f.id=c.file_id LEFT JOIN symbols s ON s.id=c.symbol_id")),
                        key=repr)
        # the lexical index must answer exactly as a fresh one: every distinct word of every chunk
        words = sorted({w for _, _, _, text, _ in chunks for w in text.split() if w.isalnum()})[:fts_words]
        fts = {word: sorted(conn.execute(
            "SELECT f.path, c.start_line FROM chunks_fts JOIN chunks c ON c.id=chunks_fts.rowid"
            " JOIN files f ON f.id=c.file_id WHERE chunks_fts MATCH ?", (f'"{word}"',)).fetchall())
            for word in words}
        orphans = sum(conn.execute(f"SELECT COUNT(*) FROM {table} WHERE file_id NOT IN (SELECT id FROM files)")
                      .fetchone()[0] for table in ("chunks", "symbols", "refs"))
        return {"files": files, "symbols": symbols, "refs": refs, "chunks": chunks, "fts": fts,
                "problems": store.integrity_problems(), "orphans": orphans}
    finally:
        store.close()
