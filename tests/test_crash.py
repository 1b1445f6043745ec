"""Crash safety and concurrency: kill -9 mid-index, two indexers at once, search while indexing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import codeassist
from codeassist.index.faults import FaultPlan
from codeassist.index.indexer import build_index
from codeassist.index.store import DB_NAME

from .conftest import generated_python_files
from .helpers import dump_index


def _start_indexer(root: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "codeassist", "index", str(root), "-q", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a kill reaches the worker processes too
    )


def _kill9(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def big_files() -> dict[str, str]:
    return generated_python_files(400, functions=20)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_kill_9_at_many_points_then_the_next_run_completes(make_repo, tmp_path, big_files, workers):
    root = make_repo(big_files)
    project = codeassist.open(root)
    reference = codeassist.open(root, home=tmp_path / "ref-home")
    reference.index()
    expected = dump_index(reference.index_dir)

    kills = 0
    for delay in (0.05, 0.3, 0.6, 1.0, 1.5, 2.2):
        proc = _start_indexer(root, "--workers", workers)
        time.sleep(delay)
        if proc.poll() is not None:
            break  # finished before the kill: later delays would too
        _kill9(proc)
        kills += 1
        if (project.index_dir / DB_NAME).exists():
            # what was committed is consistent: opens, passes integrity checks, no orphans
            dump_index(project.index_dir)
            project.search("func_1_1")  # never raises on a partial index
    assert kills >= 3, "indexing finished too fast to be interrupted; grow the fixture"
    stats = project.index()
    assert stats.files == 400
    assert dump_index(project.index_dir) == expected


def test_second_indexer_fails_fast_or_queues_behind_the_lock_holder(make_repo):
    root = make_repo(generated_python_files(5, functions=2))
    project = codeassist.open(root)
    from codeassist.index.lock import WriterLock

    with WriterLock(project.index_dir):  # this test process plays the running indexer
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "codeassist", "index", str(root), "-q"],
            capture_output=True, text=True, timeout=60,
        )
        assert second.returncode == 4
        assert f"another codeassist process (pid {os.getpid()})" in second.stderr
        assert "--wait" in second.stderr and second.stderr.count("\n") == 1
        assert time.monotonic() - started < 10
        queued = _start_indexer(root, "--wait", "60")
        time.sleep(1.0)
        assert queued.poll() is None  # waiting, not failing
    assert queued.wait(timeout=60) == 0
    assert project.status().files == 5


@pytest.mark.slow
def test_two_real_indexers_racing_leave_a_correct_index(make_repo, tmp_path, big_files):
    root = make_repo(big_files)
    reference = codeassist.open(root, home=tmp_path / "ref-home")
    reference.index()
    first = _start_indexer(root, "--workers", "1")
    second = _start_indexer(root, "--workers", "2", "--wait", "120")
    codes = sorted([first.wait(timeout=180), second.wait(timeout=180)])
    assert codes in ([0, 0], [0, 4]), (codes, first.stderr.read(), second.stderr.read())
    project = codeassist.open(root)
    assert dump_index(project.index_dir) == dump_index(reference.index_dir)


@pytest.mark.slow
def test_search_while_indexing_never_fails(make_repo, big_files):
    root = make_repo(big_files)
    project = codeassist.open(root)
    indexer = _start_indexer(root, "--workers", "1")
    searches = 0
    try:
        while indexer.poll() is None:
            try:
                hits = project.search("compute thing func_7_3")
            except codeassist.IndexNotBuiltError:
                time.sleep(0.02)  # not created yet
                continue
            assert all(h.path.startswith("pkg/") for h in hits)
            searches += 1
    finally:
        if indexer.poll() is None:
            _kill9(indexer)
    assert indexer.returncode == 0
    assert searches >= 3
    assert project.search("func_7_3")[0].symbol == "pkg.sub7.mod_7.func_7_3"


@pytest.mark.slow
def test_a_crashing_parser_process_does_not_hang_or_lose_other_files(make_repo):
    files = generated_python_files(100, functions=2)
    root = make_repo(files)
    # the worker handling this file dies as if the grammar had segfaulted
    project = codeassist.open(root, workers=2)
    stats = build_index(project.root, project.index_dir, project.settings,
                        faults=FaultPlan(crash_parsing="mod_42.py"))
    assert stats.skipped == {"parse-crash": 1}
    assert stats.files == 99
    assert any("mod_42.py: the parser process crashed" in e for e in stats.errors)
    project = codeassist.open(root)
    assert project.symbols("func_41_1") and project.symbols("func_43_1")


def _processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment carries ``marker`` (our indexer's children
    inherit it: parser processes and multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def test_a_parser_process_whose_indexer_died_before_it_started_exits():
    """A ``kill -9`` can come before a parser process runs its initializer (a loaded machine, a
    slow spawn): the process has another parent by then, and must exit, not watch that one."""
    code = ("import os, sys, time; from codeassist.index.worker import init_worker; "
            "init_worker(None, parent_pid=int(sys.argv[1])); print('started', flush=True); time.sleep(30)")
    started = time.monotonic()
    orphan = subprocess.run([sys.executable, "-c", code, str(os.getpid() + 1)], capture_output=True, text=True,
                            timeout=25)
    assert orphan.returncode == 0 and orphan.stdout == "", orphan.stderr  # exited in the initializer
    assert time.monotonic() - started < 20
    live = subprocess.run([sys.executable, "-c", code.replace("time.sleep(30)", "pass"), str(os.getpid())],
                          capture_output=True, text=True, timeout=25)
    assert live.stdout == "started\n", live.stderr  # its indexer alive: it works


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc to find processes")
def test_kill_9_of_the_indexer_alone_leaves_no_process_behind(make_repo):
    """Only the indexer's pid is killed (not its process group): its parser processes and
    resource tracker must notice and exit by themselves."""
    root = make_repo(generated_python_files(1500, functions=20))
    kills = 0
    for n, delay in enumerate((0.8, 1.4, 2.0, 3.0)):
        marker = f"CODEASSIST_TEST_ORPHAN_MARK={os.getpid()}-{n}"
        env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
        proc = subprocess.Popen([sys.executable, "-m", "codeassist", "index", str(root), "-q", "--workers", "2",
                                 "--no-embed", "--rebuild"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        children = _processes_with(marker)
        if proc.poll() is not None:
            continue
        assert len(children) >= 2, "the parser processes should be running at this point"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        deadline = time.monotonic() + 5
        while _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with(marker) == [], f"left behind after kill -9 at {delay} s"
    assert kills >= 2, "indexing finished too fast to be interrupted; grow the fixture"
    # the index stays usable after all that
    assert codeassist.open(root, embed=False).index().files == 1500
