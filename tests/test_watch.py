"""The live index: real file-system events on real temporary repositories (no mocked watcher),
the freshness check of short-lived commands, and `codeassist watch` as a process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

import codeassist
from codeassist.index.watcher import Watcher, WatchError, WatchUpdate, watcher_info

from .conftest import generated_python_files, run_cli, write_files
from .helpers import dump_index, git_runner


class Running:
    """A Watcher on a thread, with the updates it made."""

    def __init__(self, project: codeassist.Project, **options) -> None:
        self.updates: list[WatchUpdate] = []
        self.notices: list[str] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.watcher = Watcher(project.root, project.index_dir, project.settings, on_update=self.updates.append,
                               on_notice=self.notices.append, **options)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.watcher.run(self.stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def __enter__(self) -> Running:
        self.thread.start()
        wait_for(lambda: len(self.updates) >= 1, what="the catch-up update at start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the watcher did not stop when asked"

    def settled(self, since: int, quiet: float = 1.0, timeout: float = 60) -> None:
        """Wait until an update happened after the first ``since`` ones, then none for ``quiet``
        seconds."""
        wait_for(lambda: len(self.updates) > since, timeout=timeout, what="an update")
        while True:
            count = len(self.updates)
            time.sleep(quiet)
            if len(self.updates) == count:
                return


def wait_for(condition: Callable[[], object], *, timeout: float = 30, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def clean_build(root: Path, tmp_path: Path) -> dict[str, object]:
    reference = codeassist.open(root, home=tmp_path / f"clean-{time.monotonic_ns()}")
    reference.index()
    return dump_index(reference.index_dir)


def found(project: codeassist.Project, name: str) -> bool:
    return any(s.name == name for s in project.symbols(name))


def test_edit_add_delete_rename_and_move_are_indexed_within_a_second(make_repo, tmp_path):
    root = make_repo({"pkg/a.py": "def alpha():\n    return 1\n", "pkg/b.py": "def beta():\n    return 2\n",
                      "lib/c.py": "def gamma():\n    return 3\n", "README.md": "# demo\n"})
    project = codeassist.open(root)
    with Running(project) as running:
        steps = [
            (lambda: (root / "pkg/a.py").write_text("def alpha_two():\n    return 1\n"), "alpha_two"),
            (lambda: (root / "pkg/new.py").write_text("def delta():\n    return 4\n"), "delta"),
            (lambda: (root / "pkg/b.py").unlink(), None),
            (lambda: (root / "lib/c.py").rename(root / "lib/renamed.py"), "gamma"),
            (lambda: shutil.move(str(root / "lib"), str(root / "moved_lib")), "gamma"),
        ]
        for change, name in steps:
            written, mark = time.monotonic(), len(running.updates)
            change()
            if name:
                wait_for(lambda n=name: found(project, n), timeout=10, what=f"{name} to be searchable")
            running.settled(mark, quiet=0.5)
            assert time.monotonic() - written < 10
        assert not found(project, "beta") and not found(project, "alpha")
        assert project.symbols("gamma")[0].path == "moved_lib/renamed.py"
    assert running.error is None
    assert dump_index(project.index_dir) == clean_build(root, tmp_path)


def test_a_burst_of_2000_writes_is_a_few_updates_not_2000(make_repo, tmp_path):
    root = make_repo({"seed.py": "def seed():\n    pass\n"})
    project = codeassist.open(root)
    with Running(project) as running:
        before = len(running.updates)
        write_files(root, {f"gen/m{i // 100}/mod_{i}.py": f"def f_{i}():\n    return {i}\n" for i in range(2000)})
        wait_for(lambda: project.status(check_pending=False).files == 2001, timeout=60, what="2000 files")
        running.settled(before, quiet=1.5)
        assert len(running.updates) - before <= 5
    assert dump_index(project.index_dir) == clean_build(root, tmp_path)


def test_a_branch_switch_in_a_real_git_repository_leaves_a_clean_index(make_repo, tmp_path):
    root = make_repo(generated_python_files(300, functions=3))
    run = git_runner(root)
    run("init", "-q", "-b", "main")
    run("add", "-A")
    run("commit", "-qm", "base")
    run("checkout", "-qb", "feature")
    for i in range(0, 300, 2):  # half the files rewritten, some removed, some added
        (root / f"pkg/sub{i % 10}/mod_{i}.py").write_text(f"def feature_{i}():\n    return {i}\n")
    for i in range(1, 60, 3):
        (root / f"pkg/sub{i % 10}/mod_{i}.py").unlink()
    write_files(root, {f"feature/new_{i}.py": f"def new_{i}():\n    pass\n" for i in range(50)})
    run("add", "-A")
    run("commit", "-qm", "feature")
    run("checkout", "-q", "main")
    project = codeassist.open(root)
    project.index()
    with Running(project) as running:
        run("checkout", "-q", "feature")
        wait_for(lambda: found(project, "feature_0") and found(project, "new_49"), timeout=30,
                 what="the feature branch to be indexed")
        running.settled(1, quiet=1.5)
        assert dump_index(project.index_dir) == clean_build(root, tmp_path)
        mark = len(running.updates)
        run("checkout", "-q", "main")
        wait_for(lambda: not found(project, "new_49"), timeout=30, what="the switch back")
        running.settled(mark, quiet=1.5)
        assert len(running.updates) <= 1 + 6  # the catch-up, then a few per checkout
    assert dump_index(project.index_dir) == clean_build(root, tmp_path)


def test_a_file_written_in_several_chunks_is_indexed_with_its_final_content(make_repo):
    root = make_repo({"a.py": "def a():\n    pass\n"})
    project = codeassist.open(root)
    with Running(project) as running:
        mark = len(running.updates)
        with open(root / "slow.py", "w", encoding="utf-8") as fh:
            fh.write("def first_part():\n    pass\n")
            fh.flush()
            time.sleep(0.3)  # an update may run on the half-written file
            fh.write("\ndef second_part():\n    pass\n")
        wait_for(lambda: found(project, "second_part"), timeout=10, what="the final content")
        running.settled(mark, quiet=0.5)
        assert found(project, "first_part") and found(project, "second_part")


def test_editor_save_patterns_and_ignored_paths(make_repo):
    root = make_repo({"app.py": "def original():\n    pass\n", ".gitignore": "build/\n",
                      ".git/HEAD": "ref: refs/heads/main\n", "node_modules/x/index.js": "x\n"})
    project = codeassist.open(root)
    with Running(project) as running:
        # swap files, backups and ignored folders cause no update at all
        before = len(running.updates)
        (root / "4913").write_text("")  # vim's probe that the folder is writable, deleted at once
        (root / "4913").unlink()
        write_files(root, {".app.py.swp": "swap", "app.py~": "backup", ".#app.py": "lock",
                           ".git/objects/ab/cdef": "blob", "node_modules/x/more.js": "y\n",
                           "build/out.py": "def built():\n    pass\n", "__pycache__/app.cpython-311.pyc": "c"})
        time.sleep(2.0)
        assert len(running.updates) == before
        # write to a temporary file, then rename it over the original (vim, JetBrains, VS Code)
        tmp = root / "app.py.tmp"
        tmp.write_text("def saved():\n    pass\n")
        os.replace(tmp, root / "app.py")
        wait_for(lambda: found(project, "saved"), timeout=10, what="the saved file")
        running.settled(before, quiet=0.5)
        assert not found(project, "original") and not found(project, "built")
        assert project.files() == [".gitignore", "app.py"]


def test_polling_fallback_sees_changes(make_repo):
    root = make_repo({"a.py": "def a():\n    pass\n"})
    project = codeassist.open(root)
    with Running(project, force_polling=True, poll_delay_ms=100) as running:
        (root / "b.py").write_text("def polled():\n    pass\n")
        wait_for(lambda: found(project, "polled"), timeout=10, what="a polled change")
    assert running.error is None


def test_the_watched_folder_deleted_is_a_clear_error_not_a_traceback(make_repo):
    root = make_repo({"a.py": "def a():\n    pass\n"})
    project = codeassist.open(root)
    running = Running(project)
    with running:
        shutil.rmtree(root)
        wait_for(lambda: not running.thread.is_alive(), timeout=15, what="the watcher to stop")
    assert isinstance(running.error, WatchError), running.error
    assert "moved or deleted" in str(running.error)


def _start_watch(root: Path, *extra: str, stderr: object = subprocess.PIPE) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "codeassist", "watch", str(root), *extra],
                            stdout=subprocess.PIPE, stderr=stderr, text=True)


def _stops(proc: subprocess.Popen[str], errors: Path, timeout: float = 60) -> str:
    """Wait for a signalled watcher to exit with 0; its stderr (a file: a pipe nobody reads
    could fill and block it) is in the message when it does not."""
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the watcher did not stop; its stderr:\n" + errors.read_text()[-4000:]) from None
    text = errors.read_text()
    assert code == 0, text[-4000:]
    return text


def test_watch_command_prints_a_line_per_update_and_stops_cleanly(make_repo, tmp_path):
    root = make_repo({"a.py": "def a():\n    pass\n"})
    errors = tmp_path / "watch.err"
    with open(errors, "w") as sink:
        proc = _start_watch(root, "--json", stderr=sink)
    try:
        first = json.loads(proc.stdout.readline())  # the catch-up at start
        assert first["files"] == 1 and first["added"] == 1
        status = json.loads(run_cli("status", str(root), "--json").stdout)
        assert status["watcher"]["pid"] == proc.pid and status["watcher"]["polling"] is False
        (root / "b.py").write_text("def bee():\n    pass\n")
        second = json.loads(proc.stdout.readline())
        assert second["added"] == 1 and second["paths"] >= 1
        proc.send_signal(signal.SIGINT)
        assert "stopped watching; the index is consistent" in _stops(proc, errors)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert watcher_info(codeassist.open(root).index_dir) is None  # the heartbeat went with it
    with open(errors, "w") as sink:
        proc = _start_watch(root, stderr=sink)
    try:
        assert "updated" in proc.stdout.readline()
        proc.terminate()  # SIGTERM too ends it cleanly
        _stops(proc, errors)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_kill_9_of_the_watcher_mid_update_then_a_normal_start(make_repo, tmp_path):
    root = make_repo(generated_python_files(600, functions=10))
    marker = f"CODEASSIST_TEST_WATCH_MARK={os.getpid()}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    proc = subprocess.Popen([sys.executable, "-m", "codeassist", "watch", str(root), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        json.loads(proc.stdout.readline())  # indexed
        for i in range(600):  # every file changes: the update runs parser processes
            (root / f"pkg/sub{i % 10}/mod_{i}.py").write_text(f"def changed_{i}():\n    return {i}\n")
        time.sleep(1.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    from .test_crash import _processes_with

    wait_for(lambda: not _processes_with(marker), timeout=5, what="no process of ours left")
    project = codeassist.open(root)
    assert watcher_info(project.index_dir) is None  # a dead watcher's heartbeat is not believed
    with Running(project):
        pass
    assert dump_index(project.index_dir) == clean_build(root, tmp_path)


# ---------------------------------------------------------------------- freshness of short-lived commands
def test_freshness_check_notices_edits_additions_removals_and_ignore_rules(make_repo):
    root = make_repo({"a.py": "def a():\n    pass\n", "sub/b.py": "def b():\n    pass\n"})
    project = codeassist.open(root)
    project.index()
    assert project.freshness().up_to_date
    (root / "a.py").write_text("def a2():\n    pass\n")
    assert project.freshness().changed_files == 1
    project.index()
    (root / "sub/c.py").write_text("def c():\n    pass\n")
    fresh = project.freshness()
    assert fresh.changed_files == 0 and fresh.changed_folders == 1 and not fresh.up_to_date
    project.index()
    (root / "sub/b.py").unlink()
    assert project.freshness().changed_files == 1
    project.index()
    (root / ".gitignore").write_text("sub/\n")
    assert not project.freshness().up_to_date
    project.index()
    assert project.freshness().up_to_date and project.files() == [".gitignore", "a.py"]


def test_a_heartbeat_not_refreshed_is_not_believed(make_repo):
    root = make_repo({"a.py": "def a():\n    pass\n"})
    project = codeassist.open(root)
    project.index()
    beat = project.index_dir / "watcher.json"
    beat.write_text(json.dumps({"pid": os.getpid(), "since": time.time() - 3600, "last_seen": time.time() - 3600}))
    assert watcher_info(project.index_dir) is None  # the pid lives (it is this test's), but it stopped beating
    beat.write_text(json.dumps({"pid": os.getpid(), "since": time.time(), "last_seen": time.time()}))
    assert watcher_info(project.index_dir)["pid"] == os.getpid()


def test_many_new_files_are_reported_not_indexed_by_a_short_lived_command(make_repo):
    root = make_repo(generated_python_files(10, functions=2))
    assert run_cli("index", str(root), "-q").returncode == 0
    write_files(root, {f"newpkg/m{i}.py": f"def new_{i}():\n    pass\n" for i in range(30)})
    proc = run_cli("search", "new_1", str(root), "--json", env={"CODEASSIST_AUTO_UPDATE_FILES": "20"})
    data = json.loads(proc.stdout)
    assert data["freshness"]["updated_files"] == 0 and "behind" in proc.stderr
    proc = run_cli("search", "new_1", str(root), "--json", env={"CODEASSIST_AUTO_UPDATE_FILES": "40"})
    assert json.loads(proc.stdout)["freshness"]["updated_files"] == 30


def test_search_updates_a_small_change_first_and_says_so(make_repo):
    root = make_repo(generated_python_files(20, functions=2))
    assert run_cli("index", str(root), "-q").returncode == 0
    (root / "pkg/fresh.py").write_text("def freshly_written():\n    pass\n")
    proc = run_cli("search", "freshly_written", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["hits"][0]["symbol"] == "pkg.fresh.freshly_written"
    assert data["freshness"]["updated_files"] == 1 and data["freshness"]["up_to_date"] is False
    assert "updated the index first: 1 file" in proc.stderr
    again = json.loads(run_cli("search", "freshly_written", str(root), "--json").stdout)
    assert again["freshness"]["up_to_date"] is True and again["freshness"]["note"] == ""
    # `refs` and `symbols` check beside the lookup, and answer again from the update they made
    (root / "pkg/user.py").write_text("from pkg.fresh import freshly_written\n\n"
                                      "def caller():\n    return freshly_written()\n")
    proc = run_cli("refs", "freshly_written", str(root), "--json")
    assert proc.returncode == 0 and "updated the index first: 1 file" in proc.stderr
    assert any(r["path"] == "pkg/user.py" for r in json.loads(proc.stdout)["references"])
    (root / "pkg/later.py").write_text("def written_later():\n    pass\n")
    proc = run_cli("symbols", "written_later", str(root), "--json")
    assert proc.returncode == 0 and "updated the index first: 1 file" in proc.stderr
    assert [s["path"] for s in json.loads(proc.stdout)["symbols"]] == ["pkg/later.py"]


def test_a_large_change_or_auto_update_off_is_reported_not_waited_for(make_repo):
    root = make_repo(generated_python_files(20, functions=2))
    assert run_cli("index", str(root), "-q").returncode == 0
    for i in range(5):
        (root / f"pkg/sub{i % 10}/mod_{i}.py").write_text(f"def renamed_{i}():\n    pass\n")
    proc = run_cli("search", "renamed_1", str(root), "--json", env={"CODEASSIST_AUTO_UPDATE_FILES": "3"})
    data = json.loads(proc.stdout)
    assert data["freshness"]["changed_files"] == 5 and data["freshness"]["updated_files"] == 0
    assert "the index is behind the files (5 changed files)" in proc.stderr and "codeassist index" in proc.stderr
    assert not data["hits"] or data["hits"][0]["symbol"] != "pkg.sub1.mod_1.renamed_1"
    proc = run_cli("context", "renamed_1", str(root), "--format", "json", env={"CODEASSIST_AUTO_UPDATE": "0"})
    assert json.loads(proc.stdout)["freshness"]["changed_files"] == 5 and "behind" in proc.stderr
    status = json.loads(run_cli("status", str(root), "--json").stdout)
    assert status["pending_changes"] == 5 and status["last_indexed"] > 0


def test_ctrl_c_stops_the_watcher_even_when_its_parent_ignored_sigint(make_repo, tmp_path):
    """A shell's background job starts with SIGINT ignored, and Python then never raises
    KeyboardInterrupt: the watcher restores ctrl+c itself."""
    root = make_repo({"a.py": "def a():\n    pass\n"})
    errors = tmp_path / "watch.err"
    with open(errors, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "codeassist", "watch", str(root), "--json"],
                                stdout=subprocess.PIPE, stderr=sink, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert json.loads(proc.stdout.readline())["added"] == 1
        proc.send_signal(signal.SIGINT)
        assert "stopped watching" in _stops(proc, errors, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_context_answers_from_the_update_it_made_while_answering(make_repo):
    # the catch-up runs beside the assembly; when it updated the index, the context is made again
    root = make_repo(generated_python_files(20, functions=2))
    assert run_cli("index", str(root), "-q").returncode == 0
    (root / "pkg/fresh.py").write_text("def freshly_written():\n    return 'brand new'\n")
    proc = run_cli("context", "freshly_written", "--repo", str(root), "--format", "json", "--budget", "4000")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["freshness"]["updated_files"] == 1 and "updated the index first: 1 file" in proc.stderr
    assert "brand new" in data["text"] and any(i["path"] == "pkg/fresh.py" for i in data["items"])
    proc = run_cli("context", "freshly_written", "--repo", str(root), "--format", "json", "--budget", "4000")
    assert json.loads(proc.stdout)["freshness"]["up_to_date"] is True


def test_a_search_right_after_an_edit_answers_from_what_the_watcher_indexed(make_repo, tmp_path):
    # the search's catch-up waits for the watcher while the answer is made: when the watcher
    # brought the index up to date meanwhile, the answer is made again from it
    root = make_repo(generated_python_files(10, functions=2))
    errors = tmp_path / "watch.err"
    with open(errors, "w") as sink:
        proc = _start_watch(root, "--json", stderr=sink)
    try:
        json.loads(proc.stdout.readline())  # the catch-up at start
        for n in range(3):
            (root / f"pkg/late_{n}.py").write_text(f"def written_just_now_{n}():\n    pass\n")
            result = run_cli("search", f"written_just_now_{n}", str(root), "--json")
            assert result.returncode == 0, result.stderr
            hits = json.loads(result.stdout)["hits"]
            assert hits and hits[0]["symbol"] == f"pkg.late_{n}.written_just_now_{n}", (result.stderr, hits[:2])
        proc.send_signal(signal.SIGINT)
        _stops(proc, errors)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_running_watch_answers_other_shells_commands_byte_for_byte(make_repo, tmp_path):
    """`search`, `context`, `map`, `symbols` and `refs` from another shell are answered by the
    running watch (its project stays loaded): the same output and exit code as run locally;
    a client with other settings, or no watch, runs them itself."""
    from codeassist.served import ask_server, socket_path

    root = make_repo(generated_python_files(40, functions=3))
    project = codeassist.open(root)
    errors = tmp_path / "watch.err"
    with open(errors, "w") as sink:
        proc = _start_watch(root, "--json", stderr=sink)
    try:
        json.loads(proc.stdout.readline())  # indexed at start
        path = socket_path(project.index_dir)
        wait_for(lambda: path.exists(), timeout=15, what="the socket")
        assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
        commands = [("context", "compute thing 2 of module 17", "--budget", "3000"),
                    ("search", "func_3_1", "--json"), ("map", "--budget", "800"), ("symbols", "func_5_2"),
                    ("refs", "func_6_0"), ("context", "x", "--budget", "10")]  # the last one fails
        for command in commands:
            served = run_cli(*command, "--repo", str(root))
            local = run_cli(*command, "--repo", str(root), env={"CODEASSIST_NO_SERVER": "1"})
            assert (served.returncode, served.stdout, served.stderr) == (local.returncode, local.stdout, local.stderr)
        assert served.returncode == 2 and "too small" in served.stderr
        guard = tmp_path / "guard"  # a client whose own commands only fail: the answer is the watch's
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(
            "import codeassist.cli as cli\n"
            "cli._COMMANDS.update({name: lambda args: 99 for name in ('search', 'context', 'map', 'symbols', 'refs')})\n")
        guarded = {"PYTHONPATH": os.pathsep.join(filter(None, [str(guard), os.environ.get("PYTHONPATH")]))}
        proof = run_cli("symbols", "func_5_2", "--repo", str(root), env=guarded)
        assert proof.returncode == 0 and "func_5_2" in proof.stdout, proof
        assert run_cli("symbols", "func_5_2", "--repo", str(root),  # the guard works
                       env={**guarded, "CODEASSIST_NO_SERVER": "1"}).returncode == 99
        os.kill(proc.pid, signal.SIGSTOP)  # a stopped watch (ctrl+z): the shell does not wait for it
        try:
            started = time.monotonic()
            assert run_cli("symbols", "func_5_2", "--repo", str(root), env=guarded).returncode == 99  # ran here
            assert time.monotonic() - started < 20
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        config = Path(os.environ["CODEASSIST_CONFIG"])
        config.write_text("")  # the settings changed since the watch started: it declines
        assert run_cli("symbols", "func_5_2", "--repo", str(root), env=guarded).returncode == 99
        config.unlink()
        assert run_cli("symbols", "func_5_2", "--repo", str(root), env=guarded).returncode == 0  # served again
        options = {"command": "symbols", "name": "func_5_2", "json": True, "path": None, "repo": str(root)}
        from codeassist.cli import _fingerprint

        code, out, _err = ask_server(project.index_dir, options, _fingerprint())  # it did answer
        assert code == 0 and json.loads(out)["symbols"][0]["name"] == "func_5_2"
        assert ask_server(project.index_dir, options, "other settings") is None  # declined: run locally
        assert ask_server(project.index_dir, {**options, "command": "index"}, _fingerprint()) is None
        (root / "pkg/late.py").write_text("def arrived_late():\n    return 1\n")
        json.loads(proc.stdout.readline())  # the watcher indexed it
        assert "arrived_late" in run_cli("symbols", "arrived_late", "--repo", str(root)).stdout
        proc.terminate()
        _stops(proc, errors)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not path.exists()  # the socket went with it
    assert "arrived_late" in run_cli("symbols", "arrived_late", "--repo", str(root)).stdout  # local again


def test_a_socket_folder_others_can_open_is_not_used(tmp_path, monkeypatch):
    from codeassist.served import socket_path

    shared = tmp_path / "run"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    assert socket_path(tmp_path / "index") is None and not shared.exists()  # a client only looks
    (shared / "codeassist").mkdir(parents=True)
    (shared / "codeassist").chmod(0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    assert socket_path(tmp_path / "index", create=True) is None
    (shared / "codeassist").chmod(0o700)
    assert socket_path(tmp_path / "index", create=True).parent == shared / "codeassist"
