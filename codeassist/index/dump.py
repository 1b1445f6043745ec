"""A canonical dump of an index, without row ids: two indexes of the same files dump equal.

The reliability tests compare an index that lived through crashes, kills and incremental runs
with a clean build of the same tree; a user can do the same to check an index."""

from __future__ import annotations

from pathlib import Path

from .reader import QUALNAME, REF_NAME
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
        symbols = sorted(((d.path, d.qualname, d.kind, d.start_line, d.end_line, d.signature, d.doc, d.parent)
                          for d in store.reader.symbols_in_files()), key=repr)
        refs = q(
            "SELECT f.path, " + REF_NAME.format(r="r") + ", r.kind, r.lines, " + QUALNAME.format(s="s")
            + " FROM refs r JOIN files f ON f.id=r.file_id LEFT JOIN symbols s ON s.id=r.symbol_id")
        reader = store.reader
        rows = conn.execute("SELECT c.id, f.path, " + QUALNAME.format(s="s") + " FROM chunks c"
                            " JOIN files f ON f.id=c.file_id LEFT JOIN symbols s ON s.id=c.symbol_id").fetchall()
        texts = reader.chunks(row[0] for row in rows)
        chunks = sorted(((path, texts[i].start_line, texts[i].end_line, texts[i].text, qualname)
                         for i, path, qualname in rows), key=repr)
        # the lexical index must answer exactly as a fresh one: every distinct word of every chunk
        words = sorted({w for _, _, _, text, _ in chunks for w in text.split() if w.isalnum()})[:fts_words]
        fts = {word: sorted(conn.execute(
            "SELECT f.path, c.start_line FROM chunks_fts JOIN chunks c ON c.id=chunks_fts.rowid"
            " JOIN files f ON f.id=c.file_id WHERE chunks_fts MATCH ?", (f'"{word}"',)).fetchall())
            for word in words}
        orphans = sum(conn.execute(f"SELECT COUNT(*) FROM {table} WHERE file_id NOT IN (SELECT id FROM files)")
                      .fetchone()[0] for table in ("chunks", "symbols", "refs", "sources", "signatures"))
        # each file's symbols and references are the id range its row names, no more, no less
        orphans += sum(conn.execute(
            f"SELECT COUNT(*) FROM {table} x JOIN files f ON f.id=x.file_id"
            f" WHERE x.id NOT BETWEEN f.{table}_from AND f.{table}_to").fetchone()[0] for table in ("symbols", "refs"))
        orphans += conn.execute("SELECT COUNT(*) FROM files f WHERE symbols_to - symbols_from + 1 !="
                                " (SELECT COUNT(*) FROM symbols s WHERE s.file_id=f.id)").fetchone()[0]
        return {"files": files, "symbols": symbols, "refs": refs, "chunks": chunks, "fts": fts,
                "problems": store.integrity_problems(), "orphans": orphans}
    finally:
        store.close()
