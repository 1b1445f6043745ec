"""Indexing benchmark: cold index, no-op re-index, one-file edit, shell search, peak memory.

Measures the lexical + symbol index (``--no-embed``), the figure DESIGN §3 budgets at 10 s for
sympy; the semantic stage is measured separately (docs/benchmarks.md).

Usage (corpora are real sdists from PyPI, unpacked anywhere):

    pip download --no-deps --no-binary :all: sympy==1.14.0 textual==8.2.8 -d corpora
    for f in corpora/*.tar.gz; do tar xzf "$f" -C corpora; done
    python tests/benchmarks/bench_index.py corpora/sympy-1.14.0 corpora/textual-8.2.8 --runs 3

Every figure runs the real ``codeassist`` command in a subprocess with a fresh
CODEASSIST_HOME. Peak memory is the largest sum of RSS over the whole process tree (the CLI and
its parser workers), sampled every 20 ms. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _tree_rss_kb(root_pid: int) -> int:
    """Sum of VmRSS of ``root_pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                ppid = kb = 0
                for line in fh:
                    if line.startswith("PPid:"):
                        ppid = int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        kb = int(line.split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = kb
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(cmd: list[str], env: dict[str, str], *, memory: bool = False) -> tuple[float, int, str]:
    """Run ``cmd``; return (seconds, peak tree RSS in KB or 0, stdout).

    Memory sampling walks /proc every 20 ms and costs CPU, so timed runs leave it off.
    """
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    if memory:
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err}")
    return elapsed, peak, out


def bench(corpus: Path, runs: int, query: str, edit: str) -> dict[str, object]:
    exe = [sys.executable, "-m", "codeassist"]
    results: dict[str, list[float]] = {"cold": [], "noop": [], "edit": [], "search": [], "rss_mb": []}
    summary: dict[str, object] = {}
    edit_path = corpus / edit
    original = edit_path.read_bytes()
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="ca-bench-"))
        env = {**os.environ, "CODEASSIST_HOME": str(home)}
        try:
            seconds, _, out = run([*exe, "index", str(corpus), "--json", "-q", "--no-embed"], env)
            results["cold"].append(seconds)
            summary = json.loads(out)
            seconds, _, _ = run([*exe, "index", str(corpus), "--json", "-q", "--no-embed"], env)
            results["noop"].append(seconds)
            try:
                edit_path.write_bytes(original + b"\n# benchmark edit\n")
                seconds, _, out = run([*exe, "index", str(corpus), "--json", "-q", "--no-embed"], env)
                assert json.loads(out)["updated"] == 1
                results["edit"].append(seconds)
            finally:
                edit_path.write_bytes(original)
                run([*exe, "index", str(corpus), "-q", "--no-embed"], env)
            for _ in range(3):
                seconds, _, out = run([*exe, "search", query, "--repo", str(corpus), "--json"], env)
                assert json.loads(out)["hits"], "search found nothing"
                results["search"].append(seconds)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    home = Path(tempfile.mkdtemp(prefix="ca-bench-"))
    try:  # one more cold run, sampled for memory
        _, peak, _ = run([*exe, "index", str(corpus), "-q", "--no-embed"], {**os.environ, "CODEASSIST_HOME": str(home)},
                         memory=True)
        results["rss_mb"].append(peak / 1024)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {
        "corpus": corpus.name,
        "files": summary["files"],
        "symbols": summary["symbols"],
        "references": summary["references"],
        "chunks": summary["chunks"],
        **{k: (statistics.median(v), min(v), max(v)) for k, v in results.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--query", default="simplify a trigonometric expression")
    args = parser.parse_args()
    rows = []
    for corpus in args.corpora:
        candidates = sorted(corpus.rglob("*.py"), key=lambda p: -p.stat().st_size)
        edit = str(candidates[len(candidates) // 2].relative_to(corpus))  # a typical file
        print(f"benchmarking {corpus} (edit: {edit}) ...", file=sys.stderr)
        rows.append(bench(corpus.resolve(), args.runs, args.query, edit))
    print(f"runs per corpus: {args.runs}; median (min-max); {os.cpu_count()} cores\n")
    print("| corpus | files | symbols | refs | chunks | cold index s | no-op s | one edit s | search s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    fmt = lambda t: f"{t[0]:.2f} ({t[1]:.2f}-{t[2]:.2f})"  # noqa: E731
    for r in rows:
        print(
            f"| {r['corpus']} | {r['files']:,} | {r['symbols']:,} | {r['references']:,} | {r['chunks']:,} "
            f"| {fmt(r['cold'])} | {fmt(r['noop'])} | {fmt(r['edit'])} | {fmt(r['search'])} "
            f"| {r['rss_mb'][0]:.0f} |"
        )


if __name__ == "__main__":
    main()
