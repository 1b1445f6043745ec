"""What a long-lived process saves: the same question asked again in one process, and the
shell's commands answered by a running ``codeassist watch``.

    python tests/benchmarks/bench_long_lived.py REPO [--query Q] [--calls 4] [--runs 3]

The repository must be indexed already (``codeassist index REPO --no-embed``). Three parts:

* in-process: ``calls`` x ``Project.context(query, 128_000)`` and ``Project.search`` on one
  Project (what the MCP server and the terminal UI do), seconds per call;
* local: each command from the shell with ``CODEASSIST_NO_SERVER=1``, ``runs`` times;
* served: ``codeassist watch REPO --no-embed`` started, the same commands from the shell, the
  first request (which loads the watch's project) reported apart.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

EXE = [sys.executable, "-m", "codeassist"]


def _timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    return round(time.perf_counter() - started, 2)


def _commands(repo: str, query: str, symbol: str) -> dict[str, list[str]]:
    return {
        "context 128k": ["context", query, "--repo", repo, "--budget", "128000"],
        "context 1M": ["context", query, "--repo", repo, "--budget", "1000000"],
        "map 8k": ["map", "--repo", repo, "--budget", "8000"],
        "search": ["search", query, "--repo", repo],
        "symbols": ["symbols", symbol, "--repo", repo],
        "refs": ["refs", symbol, "--repo", repo],
    }


def in_process(repo: str, query: str, calls: int) -> dict[str, list[float]]:
    import codeassist

    project = codeassist.open(repo)
    out: dict[str, list[float]] = {"context 128k": [], "search": []}
    for _ in range(calls):
        started = time.perf_counter()
        project.context(query, 128_000)
        out["context 128k"].append(round(time.perf_counter() - started, 2))
        started = time.perf_counter()
        project.search(query)
        out["search"].append(round(time.perf_counter() - started, 2))
    return out


def from_the_shell(repo: str, query: str, symbol: str, runs: int) -> dict[str, object]:
    from codeassist.served import socket_path

    commands = _commands(repo, query, symbol)
    local_env = {**os.environ, "CODEASSIST_NO_SERVER": "1"}
    local = {name: [_timed([*EXE, *args], local_env) for _ in range(runs)] for name, args in commands.items()}
    import codeassist

    sock = socket_path(codeassist.open(repo).index_dir)
    watch = subprocess.Popen([*EXE, "watch", repo, "--no-embed"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        while True:  # serving, and past the catch-up it does at start
            line = watch.stderr.readline() if watch.stderr else ""
            if not line:
                raise SystemExit("the watch stopped before serving")
            if "answering" in line:
                break
        deadline = time.monotonic() + 60
        while sock is None or not sock.exists():
            if time.monotonic() > deadline:
                raise SystemExit("no socket")
            time.sleep(0.2)
        time.sleep(10)  # its catch-up at start
        served: dict[str, object] = {}
        for name, args in commands.items():
            first = _timed([*EXE, *args], dict(os.environ))
            served[name] = {"first": first, "then": [_timed([*EXE, *args], dict(os.environ)) for _ in range(runs)]}
        rss = Path(f"/proc/{watch.pid}/status").read_text().split("VmRSS:")[1].split()[0]
        served["watch_rss_mb"] = round(int(rss) / 1024)
    finally:
        watch.terminate()
        watch.wait(timeout=60)
    return {"local": local, "served": served}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo")
    parser.add_argument("--query", default="how does schedule_timeout put the task to sleep")
    parser.add_argument("--symbol", default="schedule_timeout")
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    repo = str(Path(args.repo).resolve())
    result = {"repo": repo, "in_process": in_process(repo, args.query, args.calls),
              **from_the_shell(repo, args.query, args.symbol, args.runs)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
