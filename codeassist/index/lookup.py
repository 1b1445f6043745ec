"""Lookups that answer the public API's questions about definitions, uses and the index's state,
as its result types (:mod:`codeassist.results`)."""

from __future__ import annotations

import re
from pathlib import Path

from ..config import Settings
from ..parsing.terms import normalize_name
from ..results import IndexStatus, ReferenceInfo, SymbolInfo
from .reader import IndexReader, SymbolDetail
from .store import DB_NAME, open_reader

__all__ = ["file_lines", "definitions", "definitions_containing", "file_outline", "references", "index_status",
           "pending_changes", "name_parts"]

_NAME_SEPARATORS = re.compile(r"\.|::|#|->")


def name_parts(name: str) -> list[str]:
    """``pkg.Class.method``, ``Class::method``, ``Class#method``, ``obj->method`` → their parts."""
    return [p for p in _NAME_SEPARATORS.split(name.strip()) if p]


def _info(d: SymbolDetail) -> SymbolInfo:
    return SymbolInfo(d.path, d.name, d.qualname, d.kind, d.start_line, d.end_line, d.signature, d.doc, d.parent)


def file_lines(index: IndexReader, root: Path, settings: Settings, path: str) -> list[str]:
    """The lines of an indexed file as the index saw it (line 1 is ``[0]``)."""
    from ..errors import QueryError
    from .texts import FileTexts

    indexed = index.file(path)
    if indexed is None:
        raise QueryError(f"{path} is not in the index; run `codeassist index` or check the path")
    texts = FileTexts(index, root, settings.minified_line_length, [indexed])
    return texts.lines(indexed.id)


def definitions(index: IndexReader, name: str, *, limit: int = 100) -> list[SymbolInfo]:
    """Definitions named ``name`` (a plain, qualified or ``Class::method`` name; case and
    underscores ignored), exact-case matches first."""
    parts = name_parts(name)
    if not parts:
        return []
    last = parts[-1]
    found = index.symbol_details(norm=normalize_name(last))
    if len(parts) > 1:
        dotted = ".".join(parts).lower()
        found = [d for d in found if d.qualname.lower().endswith(dotted)]
    found.sort(key=lambda d: (d.name != last, d.name.startswith("_"), d.path, d.start_line))
    return [_info(d) for d in found[:limit]]


def definitions_containing(index: IndexReader, text: str, *, limit: int = 50) -> list[SymbolInfo]:
    """Definitions whose name contains ``text`` (case-insensitive), shortest names first."""
    text = text.strip()
    if not text:
        return []
    return [_info(d) for d in index.symbol_details(name_like=text, limit=limit)]


def file_outline(index: IndexReader, path: str) -> list[SymbolInfo]:
    """The symbols of one indexed file, in line order."""
    return [_info(d) for d in index.symbol_details(path=path)]


def references(index: IndexReader, symbol: str, *, limit: int = 500) -> list[ReferenceInfo]:
    """Uses of ``symbol`` (by its last name component): calls, imports, types, bases; by path
    and line."""
    parts = name_parts(symbol)
    if not parts:
        return []
    uses = sorted((ref.path, line, ref.name, ref.kind, ref.symbol, ref.file_id)
                  for ref in index.references_to(parts[-1]) for line in ref.lines)[:limit]
    texts = index.line_texts((file_id, line) for _p, line, _n, _k, _e, file_id in uses)
    return [ReferenceInfo(path, line, name, kind, enclosing, texts[file_id, line].strip())
            for path, line, name, kind, enclosing, file_id in uses]


def pending_changes(index: IndexReader, root: Path, settings: Settings) -> int:
    """Files added, changed (size or mtime) or removed on disk since the last index run."""
    from ..walker import walk

    known = index.known_files()
    pending = 0
    for entry in walk(root, settings).files:
        row = known.pop(entry.relpath, None)
        if row is None or row.size != entry.size or row.mtime_ns != entry.mtime_ns:
            pending += 1
    return pending + len(known)


def index_status(root: Path, index_dir: Path, settings: Settings, *, check_pending: bool = True) -> IndexStatus:
    """What the index of ``root`` holds; ``pending_changes`` counts files changed on disk since."""
    if not (index_dir / DB_NAME).exists():
        return IndexStatus(str(root), str(index_dir), indexed=False)
    with open_reader(index_dir) as index:
        counts = index.counts()
        building = index.build_progress()
        last = index.last_indexed()
        pending = pending_changes(index, root, settings) if check_pending else 0
        embed_units = 0
        if settings.embed:
            from .embed_stage import total_units

            embed_units = total_units(index, settings)
    from .watcher import watcher_info

    size = sum(_size(p) for p in index_dir.glob(DB_NAME + "*"))
    return IndexStatus(
        root=str(root), index_dir=str(index_dir), indexed=True, files=counts.files,
        languages=counts.languages, symbols=counts.symbols, references=counts.references,
        chunks=counts.chunks, skipped=counts.skipped, last_indexed=last, index_bytes=size,
        pending_changes=pending, embed_units=embed_units, embedded=counts.embedded,
        watcher=watcher_info(index_dir), building=building.to_dict() if building else None)


def _size(path: Path) -> int:
    """A file's size; 0 when it vanished (SQLite deletes its -wal file when the last connection
    closes, which another process may do at any moment)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
