"""Outlines of code from the index: the repository map and file skeletons.

Both are rendered from stored symbols (signature, docstring, line range), so they work the
same for every language the parser knows. Each line starts with its line number and a tab.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..index.reader import IndexReader, SymbolDetail, signature_at
from ..invisible import reveal

__all__ = ["SymbolRow", "SymbolTable", "outline_lines", "skeleton_lines"]

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
    file_id: int = 0
    #: not None: the signature is read when shown (``SymbolTable.signature``), the index-th of its file's
    signature_index: int | None = None


def _row(d: SymbolDetail) -> SymbolRow:
    return SymbolRow(d.id, d.name, d.qualname, d.kind, d.start_line, d.end_line, d.signature, d.doc,
                     d.parent_id, d.file_id, d.signature_index)


class SymbolTable:
    """The symbols of an index, loaded a file at a time when first asked for (a kernel holds
    millions; a question needs those of a few hundred files), and definitions by exact name
    through the index's name column."""

    def __init__(self, index: IndexReader) -> None:
        self._index = index
        self._by_file: dict[int, list[SymbolRow]] = {}
        self._by_id: dict[int, SymbolRow] = {}
        self._named: dict[str, list[tuple[int, SymbolRow]]] = {}
        self._signatures: dict[int, list[str]] = {}  # of files whose signatures were shown
        #: (file id, name) -> its definitions, for files not loaded whole (``load_named``)
        self._named_in: dict[tuple[int, str], list[SymbolRow]] = {}

    def use(self, index: IndexReader) -> None:
        """Read through ``index`` from now on (a later call's reader of the same index)."""
        self._index = index

    def load(self, file_ids: Iterable[int]) -> None:
        """Load the symbols of these files in one batch (those not loaded yet)."""
        missing = sorted({f for f in file_ids if f not in self._by_file})
        if not missing:
            return
        for file_id in missing:
            self._by_file[file_id] = []
        for d in self._index.symbols_in_files(missing, resolve=False):
            sym = _row(d)
            self._by_file[d.file_id].append(sym)
            self._by_id[sym.id] = sym
        for file_id in missing:
            self._by_file[file_id].sort(key=lambda s: (s.start_line, -s.end_line, s.id))

    def load_named(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Load the definitions of each (file id, name) and the symbols enclosing them in one
        batch, without the rest of their files' symbols; and the signatures of the files that
        have them."""
        missing = {p for p in pairs if p[0] not in self._by_file and p not in self._named_in}
        if not missing:
            return
        for pair in missing:
            self._named_in[pair] = []
        found = [_row(d) for d in self._index.symbols_named_in(missing, resolve=False)]
        for sym in found:
            self._by_id.setdefault(sym.id, sym)
            self._named_in[(sym.file_id, sym.name)].append(sym)
        for pair in missing:
            self._named_in[pair].sort(key=lambda s: (s.start_line, -s.end_line, s.id))
        parents = {s.parent_id for s in found if s.parent_id is not None and s.parent_id not in self._by_id}
        for _level in range(50):  # enclosing symbols, a level at a time
            if not parents:
                break
            rows = [_row(d) for d in self._index.symbols_with_ids(parents, resolve=False)]
            for sym in rows:
                self._by_id.setdefault(sym.id, sym)
            parents = {s.parent_id for s in rows if s.parent_id is not None and s.parent_id not in self._by_id}
        self.load_signatures(s.file_id for s in found)  # a file with none of the names shows none

    def named_in_file(self, file_id: int, name: str) -> list[SymbolRow]:
        """A file's definitions named ``name``, in line order."""
        if file_id in self._by_file:
            return [s for s in self._by_file[file_id] if s.name == name]
        self.load_named(((file_id, name),))
        return self._named_in[(file_id, name)]

    def load_signatures(self, file_ids: Iterable[int]) -> None:
        """Read the signatures of these files in one batch (those not read yet)."""
        missing = {f for f in file_ids if f not in self._signatures}
        if missing:
            lists = self._index.signature_lists(missing)
            for file_id in missing:
                self._signatures[file_id] = lists.get(file_id, [])

    def of_file(self, file_id: int) -> list[SymbolRow]:
        """A file's symbols in line order (outer before inner)."""
        if file_id not in self._by_file:
            self.load((file_id,))
        return self._by_file[file_id]

    def get(self, symbol_id: int | None) -> SymbolRow | None:
        if symbol_id is None:
            return None
        sym = self._by_id.get(symbol_id)
        if sym is None:
            ref = self._index.symbols_by_id((symbol_id,)).get(symbol_id)
            if ref is not None and ref.file_id not in self._by_file:
                self.load((ref.file_id,))
                sym = self._by_id.get(symbol_id)
        return sym

    def named(self, names: Iterable[str]) -> dict[str, list[tuple[int, SymbolRow]]]:
        """(file id, symbol) of every definition of each of ``names`` that any file defines."""
        names = set(names)
        missing = [n for n in names if n not in self._named]
        if missing:
            for n in missing:
                self._named[n] = []
            for d in self._index.symbols_named(missing, resolve=False):
                self._named[d.name].append((d.file_id, self._by_id.get(d.id) or _row(d)))
            for n in missing:
                self._named[n].sort(key=lambda fs: (fs[0], fs[1].start_line, fs[1].id))
        return {n: self._named[n] for n in names if self._named[n]}

    def signature(self, sym: SymbolRow) -> str:
        """The symbol's signature (its file's are read once, when one of them is first shown)."""
        if sym.signature_index is None:
            return sym.signature
        self.load_signatures((sym.file_id,))
        return signature_at(self._signatures, sym.file_id, sym.signature_index)

    def definitions(self, name: str) -> list[tuple[int, SymbolRow]]:
        return self.named((name,)).get(name, [])

    def depth(self, sym: SymbolRow) -> int:
        return len(self.ancestors(sym))

    def ancestors(self, sym: SymbolRow) -> list[SymbolRow]:
        """The symbols enclosing ``sym``, outermost first (all in its own file)."""
        out, parent = [], sym.parent_id
        if parent is not None and parent not in self._by_id:
            self.load((sym.file_id,))
        while parent is not None and parent in self._by_id and len(out) < 50:
            out.append(self._by_id[parent])
            parent = self._by_id[parent].parent_id
        return out[::-1]


def outline_line(sym: SymbolRow, depth: int, signature: str) -> str:
    signature = reveal(signature.strip() or f"{sym.kind} {sym.name}")[0]
    return f"{sym.start_line}\t{_INDENT * depth}{signature}"


def outline_lines(symbols: SymbolTable, chosen: list[SymbolRow]) -> list[str]:
    """Outline of ``chosen`` symbols of one file, with their enclosing symbols, in line order."""
    wanted: dict[int, SymbolRow] = {}
    for sym in chosen:
        wanted[sym.id] = sym
        for parent in symbols.ancestors(sym):
            wanted.setdefault(parent.id, parent)
    ordered = sorted(wanted.values(), key=lambda s: (s.start_line, -s.end_line, s.id))
    return [outline_line(s, symbols.depth(s), symbols.signature(s)) for s in ordered]


def skeleton_lines(symbols: SymbolTable, file_id: int, language: str | None,
                   start: int = 1, end: int | None = None,
                   hidden: list[tuple[int, int]] = ()) -> list[str]:
    """Signatures and first doc lines of the symbols of a file within ``start..end`` (bodies
    elided), leaving out symbols inside ``hidden`` line ranges (shown in full elsewhere)."""
    prefix = _DOC_PREFIX.get(language or "", "//")
    suffix = '"""' if prefix == '"""' else ""
    out: list[str] = []
    for sym in symbols.of_file(file_id):
        if sym.start_line < start or (end is not None and sym.start_line > end):
            continue
        if any(a <= sym.start_line and sym.end_line <= b for a, b in hidden):
            continue
        depth = symbols.depth(sym)
        line = outline_line(sym, depth, symbols.signature(sym))
        if sym.end_line > sym.start_line:
            line += f"  … (to line {sym.end_line})"
        out.append(line)
        doc = reveal(sym.doc.strip().split("\n", 1)[0].strip())[0]
        if doc:
            out.append(f"\t{_INDENT * (depth + 1)}{prefix} {doc}{(' ' + suffix) if suffix else ''}")
    return out
