"""The shell's short-lived commands, compared between codeassist checkouts, interleaved.

    python tests/benchmarks/bench_shell.py REPO --tree before=/path/to/old --tree after=/path/to/new
        [--home before=/data/old] [--query Q] [--symbol NAME] [--runs 3] [--bytecode]

Each ``--tree NAME=PATH`` is a codeassist source tree (put on ``PYTHONPATH``); ``--home NAME=DIR``
gives that tree its own ``CODEASSIST_HOME`` (an index of another schema). The repository must be
indexed by each already. Run ``runs`` rounds; in each, every tree runs every command once, so
that a machine whose speed drifts treats them alike. ``--bytecode`` lets Python keep compiled
bytecode (an installed wheel has it; an editable checkout under ``PYTHONDONTWRITEBYTECODE=1``
compiles codeassist's modules on every run). Commands run with ``CODEASSIST_NO_SERVER=1``.

Prints one JSON object: for each tree and command, the seconds of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

EXE = [sys.executable, "-m", "codeassist"]


def _pairs(values: list[str]) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo")
    parser.add_argument("--tree", action="append", required=True, help="NAME=PATH of a codeassist source tree")
    parser.add_argument("--home", action="append", default=[], help="NAME=DIR: that tree's CODEASSIST_HOME")
    parser.add_argument("--query", default="how does schedule_timeout put the task to sleep")
    parser.add_argument("--symbol", default="schedule_timeout")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bytecode", action="store_true")
    args = parser.parse_args()
    trees, homes = _pairs(args.tree), _pairs(args.home)
    commands = {
        "context 128k": ["context", args.query, "--budget", "128000"],
        "context 1M": ["context", args.query, "--budget", "1000000"],
        "search": ["search", args.query],
        "symbols": ["symbols", args.symbol],
        "refs": ["refs", args.symbol],
        "map 8k": ["map", "--budget", "8000"],
    }
    results: dict[str, dict[str, list[float]]] = {name: {c: [] for c in commands} for name in trees}
    for _ in range(args.runs + 1):  # a first, untimed round builds what each tree caches
        for name, path in trees.items():
            env = {**os.environ, "PYTHONPATH": path, "CODEASSIST_NO_SERVER": "1"}
            if name in homes:
                env["CODEASSIST_HOME"] = homes[name]
            if args.bytecode:
                env.pop("PYTHONDONTWRITEBYTECODE", None)
            for command, argv in commands.items():
                started = time.perf_counter()
                # run in the tree: ``-m`` puts the working directory first on sys.path, before PYTHONPATH
                done = subprocess.run([*EXE, *argv, "--repo", os.path.abspath(args.repo)], env=env, cwd=path,
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"{name}: {command} failed: {done.stderr[-2000:]}")
                results[name][command].append(round(time.perf_counter() - started, 2))
    print(json.dumps({name: {c: runs[1:] for c, runs in by.items()} for name, by in results.items()}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
