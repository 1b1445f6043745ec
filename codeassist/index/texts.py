"""The text of indexed files, exactly as the index saw it.

A file is read from disk and used only when its content hash still equals the indexed one;
otherwise (edited or deleted since indexing) its text comes from the source the index keeps, so
line numbers always agree with the index and the same index always gives the same context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .reader import IndexedFile, IndexReader
from ..invisible import INVISIBLE, reveal
from ..textfile import read_text

__all__ = ["IndexedFile", "FileCatalog", "FileTexts"]


class FileCatalog:
    """The indexed files of one index generation, by id and by path, with names made visible
    (immutable: a long-lived process keeps it between calls while the index is unchanged)."""

    def __init__(self, files: Iterable[IndexedFile]) -> None:
        #: file names that held invisible characters (shown with visible markers)
        self.invisible_names: set[str] = set()
        self.disk_path: dict[int, str] = {}
        self.files: dict[int, IndexedFile] = {}
        for indexed in files:
            shown, hidden = reveal(indexed.path)
            if hidden:
                self.invisible_names.add(shown)
            self.disk_path[indexed.id] = indexed.path
            self.files[indexed.id] = indexed._replace(path=shown) if hidden else indexed
        self.by_path = {f.path: f for f in self.files.values()}

    def dump(self) -> bytes:
        """The catalog as bytes that :meth:`load` reads back (a short-lived process keeps them
        with the index generation's cache: building it from 83k rows costs ~0.5 s)."""
        import marshal

        rows = [tuple(f) for f in self.files.values()]
        hidden = {i: p for i, p in self.disk_path.items() if p != self.files[i].path}
        return marshal.dumps((1, rows, hidden, sorted(self.invisible_names)))

    @classmethod
    def load(cls, data: bytes) -> FileCatalog:
        import marshal

        version, rows, hidden, invisible = marshal.loads(data)
        if version != 1:
            raise ValueError("unknown catalog format")
        catalog = cls(())
        catalog.invisible_names = set(invisible)
        catalog.files = {row[0]: IndexedFile(*row) for row in rows}
        catalog.disk_path = {i: hidden.get(i, f.path) for i, f in catalog.files.items()}
        catalog.by_path = {f.path: f for f in catalog.files.values()}
        return catalog


class FileTexts:
    """Lazy, memoised access to the text of indexed files (one instance per assembly)."""

    def __init__(self, index: IndexReader, root: Path, minified_line_length: int,
                 files: list[IndexedFile] | None = None, catalog: FileCatalog | None = None) -> None:
        """``files``: only these (default: every indexed file, or those of ``catalog``)."""
        self._index = index
        self._root = root
        self._minified = minified_line_length
        self._texts: dict[int, list[str]] = {}
        self.stale: set[str] = set()  # files whose disk copy no longer matches the index
        #: path -> lines (1-based) where invisible characters were made visible
        self.invisible: dict[str, list[int]] = {}
        if catalog is None:
            catalog = FileCatalog(index.files() if files is None else files)
        self.invisible_names = catalog.invisible_names
        self._disk_path = catalog.disk_path
        self.files = catalog.files
        self.by_path = catalog.by_path

    def lines(self, file_id: int) -> list[str]:
        """The file's lines without their line ends (index 0 is line 1)."""
        cached = self._texts.get(file_id)
        if cached is not None:
            return cached
        info = self.files[file_id]
        result = read_text(str(self._root / self._disk_path[file_id]), self._minified)
        if result.data is not None and result.digest == info.hash:
            lines = _lines(result.data.decode("utf-8"))
        else:
            self.stale.add(info.path)
            source = self._index.source(file_id)
            lines = _lines(source.text()) if source is not None else [""] * info.lines
        for number, line in enumerate(lines):
            if INVISIBLE.search(line):
                lines[number] = reveal(line)[0]
                self.invisible.setdefault(info.path, []).append(number + 1)
        self._texts[file_id] = lines
        return lines

    def text(self, file_id: int, start: int = 1, end: int | None = None) -> str:
        lines = self.lines(file_id)
        end = len(lines) if end is None else min(end, len(lines))
        return "\n".join(lines[start - 1 : end])


def _lines(text: str) -> list[str]:
    """A file's lines without their line ends."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
