"""Helpers shared by tests: a canonical dump of an index, for "equals a fresh build" checks."""

from __future__ import annotations

from pathlib import Path

from codeassist.index.dump import dump_index as _dump


def dump_index(folder: Path) -> dict[str, object]:
    """Everything the index holds, without row ids, so two builds can be compared; the index
    must be healthy (no integrity problem, no orphaned rows)."""
    dump = _dump(folder)
    assert dump.pop("problems") == [], dump
    assert dump.pop("orphans") == 0
    return dump
