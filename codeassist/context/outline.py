"""Outlines of code from the index: the repository map and file skeletons.

Both are rendered from stored symbols (signature, docstring, line range), so they work the
same for every language the parser knows. Each line starts with its line number and a tab.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..index.reader import IndexReader
from ..invisible import reveal

__all__ = ["SymbolRow", "FileSymbols", "load_symbols", "outline_lines", "skeleton_lines"]

_DOC_PREFIX = {"python": '"""', "ruby": "#", "bash": "#", "lua": "--"}
_INDENT = "    "


@dataclass(frozen=True, slots=True)
class SymbolRow:
    id: int
    name: str
    qualname: str
    kind: str
    start_line: int
    end_line: int
    signature: str
    doc: str
    parent_id: int | None


class FileSymbols:
    """The symbols of some files, with each symbol's nesting depth."""

    def __init__(self, rows: list[tuple[int, SymbolRow]]) -> None:
        self.by_file: dict[int, list[SymbolRow]] = {}
        self.by_id: dict[int, SymbolRow] = {}
        for file_id, sym in rows:
            self.by_file.setdefault(file_id, []).append(sym)
            self.by_id[sym.id] = sym
        for syms in self.by_file.values():
            syms.sort(key=lambda s: (s.start_line, -s.end_line, s.id))

    def depth(self, sym: SymbolRow) -> int:
        depth, parent = 0, sym.parent_id
        while parent is not None and parent in self.by_id and depth < 50:
            depth += 1
            parent = self.by_id[parent].parent_id
        return depth

    def ancestors(self, sym: SymbolRow) -> list[SymbolRow]:
        out, parent = [], sym.parent_id
        while parent is not None and parent in self.by_id and len(out) < 50:
            out.append(self.by_id[parent])
            parent = self.by_id[parent].parent_id
        return out[::-1]


def load_symbols(index: IndexReader, file_ids: list[int] | None = None) -> FileSymbols:
    """Symbols of ``file_ids`` (default: every file)."""
    return FileSymbols([
        (d.file_id, SymbolRow(d.id, d.name, d.qualname, d.kind, d.start_line, d.end_line, d.signature, d.doc,
                              d.parent_id))
        for d in index.symbols_in_files(file_ids)])


def outline_line(sym: SymbolRow, depth: int) -> str:
    signature = reveal(sym.signature.strip() or f"{sym.kind} {sym.name}")[0]
    return f"{sym.start_line}\t{_INDENT * depth}{signature}"


def outline_lines(symbols: FileSymbols, chosen: list[SymbolRow]) -> list[str]:
    """Outline of ``chosen`` symbols of one file, with their enclosing symbols, in line order."""
    wanted: dict[int, SymbolRow] = {}
    for sym in chosen:
        wanted[sym.id] = sym
        for parent in symbols.ancestors(sym):
            wanted.setdefault(parent.id, parent)
    ordered = sorted(wanted.values(), key=lambda s: (s.start_line, -s.end_line, s.id))
    return [outline_line(s, symbols.depth(s)) for s in ordered]


def skeleton_lines(symbols: FileSymbols, file_id: int, language: str | None,
                   start: int = 1, end: int | None = None,
                   hidden: list[tuple[int, int]] = ()) -> list[str]:
    """Signatures and first doc lines of the symbols of a file within ``start..end`` (bodies
    elided), leaving out symbols inside ``hidden`` line ranges (shown in full elsewhere)."""
    prefix = _DOC_PREFIX.get(language or "", "//")
    suffix = '"""' if prefix == '"""' else ""
    out: list[str] = []
    for sym in symbols.by_file.get(file_id, []):
        if sym.start_line < start or (end is not None and sym.start_line > end):
            continue
        if any(a <= sym.start_line and sym.end_line <= b for a, b in hidden):
            continue
        depth = symbols.depth(sym)
        line = outline_line(sym, depth)
        if sym.end_line > sym.start_line:
            line += f"  … (to line {sym.end_line})"
        out.append(line)
        doc = reveal(sym.doc.strip().split("\n", 1)[0].strip())[0]
        if doc:
            out.append(f"\t{_INDENT * (depth + 1)}{prefix} {doc}{(' ' + suffix) if suffix else ''}")
    return out
