"""Citations in answers: find ``path:start-end`` references and check them against the index."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .index.reader import IndexReader

__all__ = ["Citation", "find_citations", "verify_citations", "link_citations"]

# path:12, path:12-40, path:12–40, path#L12-L40, optionally in backticks; a path has a / or an
# extension
_CITATION = re.compile(
    r"(?<![\w.@+/:-])(?P<path>(?:[\w.@+-]+/)*\.?[\w@+-][\w.@+-]*\.[A-Za-z0-9]{0,9}[A-Za-z][A-Za-z0-9]{0,9}"
    r"|(?:[\w.@+-]+/)+[\w.@+-]+)"
    r"(?::|#L)(?P<start>\d{1,7})(?:\s?[-–]\s?L?(?P<end>\d{1,7}))?(?![\d])"
)


@dataclass(frozen=True)
class Citation:
    path: str
    start_line: int
    end_line: int
    #: the file is in the index and the lines exist in it
    valid: bool
    #: why not, when not valid
    problem: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}" if self.end_line != self.start_line \
            else f"{self.path}:{self.start_line}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def find_citations(text: str) -> list[tuple[str, int, int]]:
    """(path, start, end) of each distinct citation, in order of appearance."""
    seen: dict[tuple[str, int, int], None] = {}
    for m in _CITATION.finditer(text):
        path = m.group("path").removeprefix("./")
        start = int(m.group("start"))
        end = int(m.group("end") or start)
        seen.setdefault((path, start, end), None)
    return list(seen)


def verify_citations(index: IndexReader, text: str) -> list[Citation]:
    """Every citation in ``text``, checked: the path is an indexed file and the lines exist."""
    files = index.line_counts()
    out = []
    for path, start, end in find_citations(text):
        real = path if path in files else next(
            (p for p in files if p.endswith("/" + path)), None) if "/" in path or "." in path else None
        if real is None:
            out.append(Citation(path, start, end, False, "no such file in the index"))
        elif start < 1 or end < start:
            out.append(Citation(real, start, end, False, "the line range is empty"))
        elif start > max(1, files[real]) or end > max(1, files[real]):
            out.append(Citation(real, start, end, False, f"the file has {files[real]} lines"))
        else:
            out.append(Citation(real, start, end, True))
    return out


def link_citations(text: str, citations: list[Citation] | tuple[Citation, ...]) -> str:
    """Markdown ``text`` with each valid citation turned into a ``cite:path:start-end`` link and
    each invalid one marked (for the terminal UI)."""
    checked = {}
    for c in citations:
        checked[(c.path, c.start_line, c.end_line)] = c
        checked.setdefault((c.path.rsplit("/", 1)[-1], c.start_line, c.end_line), c)

    def replace(m: re.Match[str]) -> str:
        raw = m.group(0).strip("`")
        inner = _CITATION.search(raw)
        if inner is None:
            return m.group(0)
        path = inner.group("path").removeprefix("./")
        start = int(inner.group("start"))
        end = int(inner.group("end") or start)
        c = checked.get((path, start, end)) or next(
            (x for x in citations if x.path.endswith("/" + path) and x.start_line == start and x.end_line == end), None)
        if c is None:
            return m.group(0)
        if not c.valid:
            return f"{m.group(0)} ⚠ *({c.problem})*"
        return f"[{raw}](cite:{c.path}:{c.start_line}-{c.end_line})"

    return re.sub(r"`?" + _CITATION.pattern + r"`?", replace, text)
