"""What keeps a big repository usable: answers during a cold build (partial, and said so), a
reference graph reused while few files change, symbols loaded only for the files a question
needs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import codeassist
from codeassist.context import graph as graph_module
from codeassist.index.reader import BUILD_KEY

from .conftest import generated_python_files


def _build_key(db: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (BUILD_KEY,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeassist", *args], capture_output=True, text=True, timeout=120)


def test_a_cold_build_answers_from_what_it_has_and_says_so(make_repo):
    """Also: the build says it is under way before its first batch is committed."""
    root = make_repo(generated_python_files(3000, functions=8))
    project = codeassist.open(root)
    db = project.index_dir / "index.sqlite"
    indexer = subprocess.Popen([sys.executable, "-m", "codeassist", "index", str(root), "-q", "--no-embed",
                                "--workers", "1"], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while (key := _build_key(db)) is None or json.loads(key)["done"] == 0:  # some files committed
            assert indexer.poll() is None, "the build finished before it reported progress"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(indexer.pid, signal.SIGSTOP)  # mid-build, alive
        done = _cli("search", "func_0_1 compute thing", "--repo", str(root), "--json", "-k", "3")
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert data["hits"], "a partial index answers"
        partial = data["partial"]
        assert partial["running"] and 0 < partial["files_done"] < partial["files_total"] == 3000
        assert data["freshness"]["partial"] is True
        assert "results are partial" in done.stderr
        status = _cli("status", "--repo", str(root))
        assert "so far, being built" in status.stdout, status.stdout
        os.killpg(indexer.pid, signal.SIGKILL)
        indexer.wait()
    finally:
        if indexer.poll() is None:
            os.killpg(indexer.pid, signal.SIGKILL)
            indexer.wait()
    building = project.build_progress()
    assert building is not None and not building.running  # interrupted: said so, and how to finish
    assert "interrupted" in _cli("status", "--repo", str(root)).stdout
    project.index()
    assert project.build_progress() is None
    done = _cli("search", "func_0_1", "--repo", str(root), "--json")
    assert json.loads(done.stdout)["partial"] is None
    assert project.status(check_pending=False).files == 3000


def test_a_big_repositorys_graph_is_reused_while_few_files_change(make_repo, monkeypatch):
    files = generated_python_files(60, functions=3)
    for i in range(60):  # each module uses the next one's functions: a connected graph
        files[f"pkg/sub{i % 10}/mod_{i}.py"] += f"\n\ndef use_{i}():\n    return func_{(i + 1) % 60}_0(1)\n"
    root = make_repo(files)
    project = codeassist.open(root)
    project.index()
    monkeypatch.setattr(graph_module, "STALE_MIN_FILES", 50)
    monkeypatch.setattr(graph_module, "STALE_MAX_SHARE", 0.05)  # 3 of 60 files
    cache = project.index_dir / "graph-cache"
    project.context("func_5_0", budget=4000)
    [built] = list(cache.iterdir())
    built_files = (built / "files.txt").read_text()
    assert (built / "catalog-v1.marshal").exists()  # the file list a later process reads
    edited = root / "pkg/sub3/mod_3.py"
    edited.write_text(edited.read_text() + "\n\ndef extra():\n    return func_4_1(2)\n")
    project.index()
    with project.reader() as index:
        new_id = index.file("pkg/sub3/mod_3.py").id
        graph = graph_module.load_graph(index, project.index_dir)
    [kept] = list(cache.iterdir())
    assert kept.name != built.name  # kept under the new generation ...
    assert not [p for p in kept.iterdir() if p.name == "catalog-v1.marshal" or p.name.startswith("tree-")]  # not the old's
    assert (kept / "files.txt").read_text() == built_files  # ... reused, not rebuilt: drift counts from the build
    assert new_id in graph.file_ids.tolist()  # the edited file, renumbered by its path
    assert graph.rank().file_rank[new_id] > 0
    reuse = graph_module._reuse_stale
    monkeypatch.setattr(graph_module, "_reuse_stale", lambda *_: pytest.fail("renumbered again"))
    with project.reader() as index:  # the next call maps the kept copy as it is
        assert graph_module.load_graph(index, project.index_dir).file_ids.tolist() == graph.file_ids.tolist()
    monkeypatch.setattr(graph_module, "_reuse_stale", reuse)
    for i in range(10, 13):  # with the first edit, more than the share a stale graph may miss: rebuilt
        path = root / f"pkg/sub{i % 10}/mod_{i}.py"
        path.write_text(path.read_text() + f"\n# edit {i}\n")
    project.index()
    with project.reader() as index:
        graph_module.load_graph(index, project.index_dir)
    [rebuilt] = list(cache.iterdir())
    assert (rebuilt / "files.txt").read_text() != built_files


@pytest.mark.parametrize("stale_min", [10**9])
def test_small_repositories_always_rebuild_an_exact_graph(make_repo, monkeypatch, stale_min):
    root = make_repo(generated_python_files(20, functions=2))
    project = codeassist.open(root)
    project.index()
    monkeypatch.setattr(graph_module, "STALE_MIN_FILES", stale_min)
    project.map(500)
    cache = project.index_dir / "graph-cache"
    first = sorted(p.name for p in cache.iterdir())
    (root / "pkg/sub1/mod_1.py").write_text("def changed():\n    return 1\n")
    project.index()
    codeassist.open(root).map(500)
    assert sorted(p.name for p in cache.iterdir()) != first


def test_a_question_loads_the_symbols_of_few_files(make_repo):
    root = make_repo(generated_python_files(400, functions=4))
    project = codeassist.open(root)
    project.index()
    ctx = project.context("compute thing 2 of module 17", budget=8000)
    assert any(item.path.endswith("mod_17.py") for item in ctx.items)
    loaded = project._index_snapshot().symbols._by_file
    assert 0 < len(loaded) < 200, len(loaded)


def test_the_build_is_announced_before_its_first_batch(make_repo, monkeypatch):
    """A reader that comes before the first batch is committed already learns the build is on."""
    from codeassist.index import indexer

    root = make_repo(generated_python_files(30, functions=2))
    project = codeassist.open(root)
    seen: list[object] = []
    original = indexer._apply

    def spy(store, outcome, known, stats):  # the first file, before anything is committed
        if not seen:
            with project.reader() as index:
                seen.append(index.build_progress())
        return original(store, outcome, known, stats)

    monkeypatch.setattr(indexer, "_apply", spy)
    project.index()
    assert seen and seen[0] is not None and seen[0].done == 0 and seen[0].total == 30 and seen[0].running
    assert project.build_progress() is None
