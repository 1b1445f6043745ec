"""Helpers shared by tests: a canonical dump of an index, for "equals a fresh build" checks."""

from __future__ import annotations

from pathlib import Path

from codeassist.index.store import Store


def dump_index(folder: Path) -> dict[str, object]:
    """Everything the index holds, without row ids, so two builds can be compared."""
    store = Store.open(folder)
    try:
        problems = store.integrity_problems()
        assert problems == [], problems
        q = lambda sql: sorted(store.rows(sql).fetchall(), key=repr)  # noqa: E731
        files = q("SELECT path, language, size, hash, skip, lines FROM files")
        symbols = q(
            "SELECT f.path, s.qualname, s.kind, s.start_line, s.end_line, s.signature, s.doc, p.qualname"
            " FROM symbols s JOIN files f ON f.id=s.file_id LEFT JOIN symbols p ON p.id=s.parent_id"
        )
        refs = q(
            "SELECT f.path, r.name, r.kind, r.lines, s.qualname FROM refs r JOIN files f ON f.id=r.file_id"
            " LEFT JOIN symbols s ON s.id=r.symbol_id"
        )
        chunks = q(
            "SELECT f.path, c.start_line, c.end_line, c.text, s.qualname FROM chunks c"
            " JOIN files f ON f.id=c.file_id LEFT JOIN symbols s ON s.id=c.symbol_id"
        )
        # the lexical index must answer exactly as a fresh one: every distinct word of every chunk
        words = sorted({w for _, _, _, text, _ in chunks for w in text.split() if w.isalnum()})[:300]
        fts = {}
        for word in words:
            rows = store.rows(
                "SELECT f.path, c.start_line FROM chunks_fts JOIN chunks c ON c.id=chunks_fts.rowid"
                " JOIN files f ON f.id=c.file_id WHERE chunks_fts MATCH ?",
                (f'"{word}"',),
            ).fetchall()
            fts[word] = sorted(rows)
        orphans = store.rows(
            "SELECT COUNT(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)"
        ).fetchone()[0] + store.rows(
            "SELECT COUNT(*) FROM symbols WHERE file_id NOT IN (SELECT id FROM files)"
        ).fetchone()[0] + store.rows(
            "SELECT COUNT(*) FROM refs WHERE file_id NOT IN (SELECT id FROM files)"
        ).fetchone()[0]
        assert orphans == 0
        return {"files": files, "symbols": symbols, "refs": refs, "chunks": chunks, "fts": fts}
    finally:
        store.close()
