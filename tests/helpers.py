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


def git_runner(root: Path):
    """``run(*args)``: git in ``root`` with a fixed identity (skips the test without git)."""
    import os
    import shutil
    import subprocess

    import pytest

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}

    def run(*args: str) -> str:
        return subprocess.run([git, *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout

    return run
