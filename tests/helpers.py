"""Helpers shared by tests and benchmarks: a canonical dump of an index (for "equals a fresh
build" checks), a free loopback port, a real `chroma run` server."""

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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma_server(data: Path, port: int, *, timeout: float = 60):
    """A real ``chroma run`` on 127.0.0.1:``port`` storing in ``data``, once it answers its
    heartbeat; RuntimeError (the process killed) when it does not start within ``timeout`` s."""
    import shutil
    import subprocess
    import sys
    import time
    import urllib.request

    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    proc = subprocess.Popen([exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("`chroma run` did not start") from None
            time.sleep(0.1)
