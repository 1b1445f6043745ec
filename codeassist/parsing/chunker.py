"""Chunking: syntax-tree chunks for code (cAST split-then-merge) and plain chunks for text.

Size is measured in non-whitespace characters, as in the cAST paper, so indentation does not
count against the budget. A node bigger than the budget is split into its children; adjacent
small siblings are merged until the budget is reached. The traversal is iterative, so deeply
nested code cannot exhaust the Python stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import tree_sitter

__all__ = ["LineSpan", "NonWhitespaceCounter", "chunk_tree", "chunk_text"]


@dataclass(frozen=True, slots=True)
class LineSpan:
    """A chunk as an inclusive, 0-based line range."""

    start: int
    end: int


class NonWhitespaceCounter:
    """O(1) non-whitespace character counts for byte ranges, via a prefix sum."""

    __slots__ = ("_cum", "line_starts")

    def __init__(self, data: bytes) -> None:
        import numpy as np

        arr = np.frombuffer(data, dtype=np.uint8)
        #: byte offset where each line starts
        self.line_starts: list[int] = [0, *(np.flatnonzero(arr == 10) + 1).tolist()]
        # whitespace: space, \t, \n, \v, \f, \r
        ws = (arr == 32) | ((arr >= 9) & (arr <= 13))
        cum = np.empty(len(arr) + 1, dtype=np.int64)
        cum[0] = 0
        np.cumsum(~ws, out=cum[1:])
        self._cum = cum

    def count(self, start: int, end: int) -> int:
        return int(self._cum[end] - self._cum[start])


def chunk_tree(
    root: tree_sitter.Node, counter: NonWhitespaceCounter, budget: int, line_starts: Sequence[int]
) -> list[LineSpan]:
    """Split-then-merge chunking of a syntax tree into line spans of at most ~``budget``."""
    spans: list[LineSpan] = []
    # Work items: (sibling nodes to pack, line where a small header left over from the parent
    # starts, or -1). A header such as ``class Foo(Base):`` joins the first chunk of its body
    # instead of becoming a one-line chunk of its own.
    work: list[tuple[list[tree_sitter.Node], int]] = [(list(root.children), -1)]
    while work:
        siblings, carry = work.pop()
        group_start, group_end, group_size = carry, carry, 0
        deferred: list[tuple[list[tree_sitter.Node], int]] = []
        for node in siblings:
            size = counter.count(node.start_byte, node.end_byte)
            if size > budget:
                header = -1
                if group_start >= 0:
                    if group_size * 4 <= budget:
                        header = group_start  # small: hand it down to the first child chunk
                    else:
                        spans.append(LineSpan(group_start, group_end))
                    group_start, group_size = -1, 0
                children = node.children
                if children:
                    deferred.append((children, header))
                else:  # an enormous leaf (a string, a comment): split by lines
                    first = node.start_point[0] if header < 0 else header
                    spans.extend(_split_lines(first, node.end_point[0], counter, budget, line_starts))
                continue
            start, end = node.start_point[0], node.end_point[0]
            if group_size and group_size + size > budget:
                spans.append(LineSpan(group_start, group_end))
                group_start, group_size = -1, 0
            if group_start < 0:
                group_start, group_end = start, end
            else:
                group_end = max(group_end, end)
            group_size += size
        if group_start >= 0 and (group_size or group_start != carry):
            spans.append(LineSpan(group_start, group_end))
        work.extend(reversed(deferred))
    spans.sort(key=lambda s: (s.start, s.end))
    return _dedupe(spans)


def _split_lines(
    first: int, last: int, counter: NonWhitespaceCounter, budget: int, line_starts: Sequence[int]
) -> list[LineSpan]:
    spans: list[LineSpan] = []
    start, size = first, 0
    n = len(line_starts)
    for line in range(first, last + 1):
        b0 = line_starts[line]
        b1 = line_starts[line + 1] if line + 1 < n else b0
        line_size = counter.count(b0, b1) if b1 > b0 else 0
        if size and size + line_size > budget:
            spans.append(LineSpan(start, line - 1))
            start, size = line, 0
        size += line_size
    spans.append(LineSpan(start, last))
    return spans


def _dedupe(spans: list[LineSpan]) -> list[LineSpan]:
    """Drop spans wholly inside the previous one (siblings sharing a line)."""
    out: list[LineSpan] = []
    for span in spans:
        if out and span.start >= out[-1].start and span.end <= out[-1].end:
            continue
        out.append(span)
    return out


_MD_HEADING = re.compile(rb"^#{1,6} ", re.M)


def chunk_text(data: bytes, language: str, budget: int, line_starts: Sequence[int]) -> list[LineSpan]:
    """Plain chunks for text files: Markdown by headings, others by blank-line blocks."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    if not lines:
        return []
    blocks: list[tuple[int, int]] = []  # inclusive line ranges
    start = 0
    if language in ("markdown", "rst"):
        for i, line in enumerate(lines):
            is_heading = line.startswith(b"#") and _MD_HEADING.match(line) is not None
            if language == "rst" and i + 1 < len(lines):
                nxt = lines[i + 1]
                is_heading = bool(nxt) and len(set(nxt.strip())) == 1 and nxt[:1] in b"=-~^*#" and len(
                    nxt.strip()
                ) >= max(3, len(line.strip())) and bool(line.strip())
            if is_heading and i > start:
                blocks.append((start, i - 1))
                start = i
    else:
        for i, line in enumerate(lines):
            if not line.strip() and i > start:
                blocks.append((start, i))
                start = i + 1
    if start < len(lines):
        blocks.append((start, len(lines) - 1))

    sizes = [len(line) - line.count(b" ") - line.count(b"\t") for line in lines]
    spans: list[LineSpan] = []
    cur_start, cur_end, cur_size = -1, -1, 0
    for b0, b1 in blocks:
        size = sum(sizes[b0 : b1 + 1])
        if size > budget:
            if cur_start >= 0:
                spans.append(LineSpan(cur_start, cur_end))
                cur_start, cur_size = -1, 0
            s, acc = b0, 0
            for i in range(b0, b1 + 1):
                if acc and acc + sizes[i] > budget:
                    spans.append(LineSpan(s, i - 1))
                    s, acc = i, 0
                acc += sizes[i]
            spans.append(LineSpan(s, b1))
            continue
        if cur_start >= 0 and cur_size + size > budget:
            spans.append(LineSpan(cur_start, cur_end))
            cur_start, cur_size = -1, 0
        if cur_start < 0:
            cur_start = b0
        cur_end, cur_size = b1, cur_size + size
    if cur_start >= 0:
        spans.append(LineSpan(cur_start, cur_end))
    # trim blank lines at the edges of each span; drop empty ones
    out: list[LineSpan] = []
    for span in spans:
        s, e = span.start, span.end
        while s <= e and not lines[s].strip():
            s += 1
        while e >= s and not lines[e].strip():
            e -= 1
        if s <= e:
            out.append(LineSpan(s, e))
    return out
