"""Live-index figures for docs/benchmarks.md: a real `codeassist watch` process on a corpus.

    python tests/benchmarks/bench_watch.py CORPUS [--part freshness|latency|checkout|idle|soak|all]
           [--edits 20] [--embed] [--files 1000] [--soak-minutes 60]

* freshness: the staleness check of short-lived commands with nothing changed (in-process
  ``check_freshness``, median of 20) and `codeassist search` from the shell with and without it;
* latency: a saved edit that adds a new function, until `codeassist`'s API finds it by name (the
  lexical and symbol index) while a watcher runs; p50/p95 over --edits edits. With --embed, the
  watcher's own report of how long the vectors took after that;
* checkout: the corpus in a git repository with a branch that rewrites --files files; time from
  `git checkout` to the index equal to a clean build, against one incremental run of that size;
* idle: the watcher's CPU over 60 s with nothing changing (share of one core);
* soak: RSS of the watcher process tree sampled every 30 s while a file is edited every 10 s.

Works on a copy of the corpus in a temporary folder, with a fresh CODEASSIST_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "codeassist", *args]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_rss_mb(pid: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            children.setdefault(int(fields["PPid"].strip()), []).append(int(entry))
            rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total / 1024


class WatchProcess:
    """`codeassist watch --json` on ``root``; its update lines are collected on a thread."""

    def __init__(self, root: Path, env: dict[str, str], *extra: str) -> None:
        self.proc = subprocess.Popen(_cli("watch", str(root), "--json", *extra), env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.updates: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        while not self.updates:
            if self.proc.poll() is not None:
                raise SystemExit("codeassist watch exited")
            time.sleep(0.05)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.updates.append({**json.loads(line), "_seen": time.monotonic()})

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)


def freshness(root: Path, env: dict[str, str]) -> None:
    import codeassist
    from codeassist.index.freshness import check_freshness

    project = codeassist.open(root)
    with project.reader() as index:
        check_freshness(index, root)
        times = []
        for _ in range(20):
            start = time.perf_counter()
            assert check_freshness(index, root).up_to_date
            times.append(time.perf_counter() - start)
        files = len(index.known_files())
    print(f"freshness check, nothing changed: median {statistics.median(times) * 1000:.1f} ms "
          f"(max {max(times) * 1000:.1f} ms), {files} files")
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(_cli("search", "simplify a trigonometric expression", str(root), "--json"), env=env,
                       check=True, capture_output=True)
        runs.append(time.perf_counter() - start)
    print(f"`codeassist search` from the shell, freshness check included: median {statistics.median(runs):.3f} s")


def latency(root: Path, env: dict[str, str], edits: int, embed: bool) -> None:
    import codeassist

    project = codeassist.open(root, embed=embed)
    watcher = WatchProcess(root, env)
    candidates = sorted(p for p in root.rglob("*.py") if "test" not in p.name)
    targets = candidates[:: max(1, len(candidates) // edits)][:edits]
    found_after, vectors_after = [], []
    try:
        for n, path in enumerate(targets):
            time.sleep(1.0)
            name = f"bench_watch_added_{n}"
            before = len(watcher.updates)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"\n\ndef {name}(value):\n    return value + {n}\n")
            written = time.monotonic()
            while not any(s.name == name for s in project.symbols(name)):
                if time.monotonic() - written > 30:
                    raise SystemExit(f"{name} not found after 30 s")
                time.sleep(0.01)
            found_after.append(time.monotonic() - written)
            while embed and len(watcher.updates) <= before:
                time.sleep(0.01)
            if embed:
                update = watcher.updates[before]
                vectors_after.append(update["embed_seconds"])
    finally:
        watcher.stop()
    q = statistics.quantiles(found_after, n=20)
    print(f"edit -> found by name, {len(found_after)} edits: p50 {statistics.median(found_after):.2f} s, "
          f"p95 {q[18]:.2f} s, max {max(found_after):.2f} s")
    if vectors_after:
        print(f"vectors after the lexical update: p50 {statistics.median(vectors_after):.2f} s, "
              f"max {max(vectors_after):.2f} s")


def checkout(root: Path, env: dict[str, str], files: int) -> None:
    import codeassist
    from codeassist.index.dump import dump_index

    git = shutil.which("git")
    genv = {**env, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@b"}
    run = lambda *a: subprocess.run([git, *a], cwd=root, env=genv, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("add", "-A")
    run("commit", "-qm", "base")
    run("checkout", "-qb", "other")
    rewritten = sorted(root.rglob("*.py"))[:files]
    for path in rewritten:
        path.write_text(path.read_text(encoding="utf-8") + "\n# rewritten on the other branch\n", encoding="utf-8")
    run("commit", "-qam", "other")
    clean_home = Path(tempfile.mkdtemp(prefix="bench-clean-"))  # the clean build of the other branch, now
    codeassist.open(root, home=clean_home, embed=False).index()
    expected = dump_index(codeassist.open(root, home=clean_home).index_dir)
    run("checkout", "-q", "main")
    project = codeassist.open(root, embed=False)
    project.index()
    # one incremental run of that size, for reference (then back)
    run("checkout", "-q", "other")
    incremental = project.index().seconds
    run("checkout", "-q", "main")
    project.index()
    watcher = WatchProcess(root, {**env, "CODEASSIST_EMBED": "0"})
    try:
        time.sleep(1.0)
        before = len(watcher.updates)
        started = time.monotonic()
        run("checkout", "-q", "other")
        switched = time.monotonic() - started
        while True:  # until the watcher's index equals the clean build
            if len(watcher.updates) > before and dump_index(project.index_dir) == expected:
                break
            time.sleep(0.05)
        last = watcher.updates[-1]["_seen"] - started
        runs = len(watcher.updates) - before
    finally:
        watcher.stop()
        shutil.rmtree(clean_home, ignore_errors=True)
    print(f"checkout rewriting {len(rewritten)} files (git took {switched:.2f} s): index equal to a clean build "
          f"{last:.2f} s after the checkout started, in {runs} update(s); one incremental run of that size: "
          f"{incremental:.2f} s")


def idle(root: Path, env: dict[str, str]) -> None:
    watcher = WatchProcess(root, env)
    try:
        time.sleep(5)
        start_cpu, start = _cpu_seconds(watcher.proc.pid), time.monotonic()
        time.sleep(60)
        used = _cpu_seconds(watcher.proc.pid) - start_cpu
        share = used / (time.monotonic() - start)
    finally:
        watcher.stop()
    print(f"idle watcher: {used:.2f} CPU s over 60 s = {share:.2%} of one core")


def soak(root: Path, env: dict[str, str], minutes: float) -> None:
    watcher = WatchProcess(root, env)
    target = sorted(root.rglob("*.py"))[len(list(root.rglob("*.py"))) // 2]
    samples = []
    try:
        end = time.monotonic() + minutes * 60
        n = 0
        while time.monotonic() < end:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(f"\ndef soak_{n}():\n    return {n}\n")
            n += 1
            if n % 3 == 0:
                samples.append((round((time.monotonic() - end + minutes * 60) / 60, 1), round(_tree_rss_mb(watcher.proc.pid))))
            time.sleep(10)
    finally:
        watcher.stop()
    rss = [mb for _m, mb in samples]
    first = statistics.mean(rss[:3])
    print(f"soak: {n} edits over {minutes:.0f} min, {len(watcher.updates)} updates; RSS MB first {rss[:3]}, "
          f"last {rss[-3:]}, max {max(rss)}; last/first {statistics.mean(rss[-3:]) / first:.3f}")
    print("samples (minute, MB):", samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--part", choices=("freshness", "latency", "checkout", "idle", "soak", "all"), default="all")
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--embed", action="store_true")
    parser.add_argument("--soak-minutes", type=float, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    try:
        parts = ("freshness", "latency", "checkout", "idle", "soak") if args.part == "all" else (args.part,)
        for part in parts:
            root = work / f"{part}-{args.corpus.name}"
            shutil.copytree(args.corpus, root)
            home = work / f"home-{part}"
            os.environ["CODEASSIST_HOME"] = str(home)
            os.environ["CODEASSIST_EMBED"] = "1" if args.embed else "0"
            env = dict(os.environ)
            subprocess.run(_cli("index", str(root), "-q"), env=env, check=True, stdout=subprocess.DEVNULL)
            if part == "freshness":
                freshness(root, env)
            elif part == "latency":
                latency(root, env, args.edits, args.embed)
            elif part == "checkout":
                checkout(root, env, args.files)
            elif part == "idle":
                idle(root, env)
            else:
                soak(root, env, args.soak_minutes)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
