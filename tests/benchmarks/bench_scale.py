"""How codeassist's costs grow with the repository: textual -> sympy -> the Linux kernel.

    python tests/benchmarks/bench_scale.py CORPUS [CORPUS ...] [--runs 1]
    python tests/benchmarks/bench_scale.py --kernel-deb linux-source-6.1_*.deb [CORPUS ...]

``--kernel-deb`` unpacks Debian's ``linux-source-6.1`` package once (``apt-get download
linux-source-6.1``; kept next to the .deb as ``linux-source-6.1/``) and drops the two packaging
lines its top ``.gitignore`` ends with (``/*`` and ``!/debian/``; upstream has neither), then
benchmarks it after the other corpora. The kernel is kept out of CI.

Every figure runs the real ``codeassist`` command in a subprocess (a fresh CODEASSIST_HOME per
corpus), lexical + symbol index only (``--no-embed``):

* cold index: seconds, peak RSS of the whole process tree, index size on disk against the bytes
  of the files it indexed and against the whole tree;
* first answer: during a second cold run, ``search`` is asked every 2 s; the time of the first
  answer with hits, its duration, and whether it said the results are partial;
* no-op re-index, re-index after appending a line to one typical source file;
* ``search``, ``symbols``, ``refs`` from the shell (median of 3);
* ``context`` at 128k and 1M tokens and ``map`` at 8k: the first call after the index changed
  (it builds the reference graph) and the median of 3 later calls, with peak RSS.

Prints a Markdown table for docs/benchmarks.md and docs/scale.md.
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_index import run  # noqa: E402  (the RSS-sampling runner)

QUERIES = {  # a question, a symbol to look up, a file to edit
    "linux": ("how does schedule_timeout put the task to sleep", "schedule_timeout", "kernel/time/timer.c"),
    "sympy": ("simplify a trigonometric expression", "trigsimp", "sympy/simplify/trigsimp.py"),
    "textual": ("how does a widget refresh its layout", "refresh", "src/textual/widget.py"),
}


def unpack_kernel(deb: Path) -> Path:
    """The kernel tree from Debian's linux-source package, unpacked once next to the .deb."""
    target = deb.parent / "linux-source-6.1"
    if (target / "Makefile").exists():
        return target
    work = deb.parent / "pkg"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work)], check=True)
    tarball = next((work / "usr" / "src").glob("linux-source-*.tar.xz"))
    subprocess.run(["tar", "xJf", str(tarball), "-C", str(deb.parent)], check=True)
    unpacked = next(p for p in deb.parent.iterdir() if p.is_dir() and p.name.startswith("linux-source-"))
    if unpacked != target:
        unpacked.rename(target)
    gitignore = target / ".gitignore"
    lines = gitignore.read_text().split("\n")
    gitignore.write_text("\n".join(ln for ln in lines if ln.strip() not in ("/*", "!/debian/")))
    shutil.rmtree(work)
    return target


def _du(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
               .stdout.split()[0])


def _timed(cmd: list[str], env: dict[str, str], runs: int = 3, memory: bool = False) -> tuple[float, float, str]:
    """Median seconds of ``runs`` runs, the largest peak RSS (MB) seen, the last stdout."""
    times, peaks, out = [], [], ""
    for _ in range(runs):
        seconds, peak, out = run(cmd, env, memory=memory)
        times.append(seconds)
        peaks.append(peak / 1024)
    return statistics.median(times), max(peaks), out


def first_answer(exe: list[str], corpus: Path, query: str) -> dict[str, object]:
    """Cold-index in the background; ask ``search`` every 2 s until an answer has hits."""
    home = Path(tempfile.mkdtemp(prefix="ca-scale-"))
    env = {**os.environ, "CODEASSIST_HOME": str(home)}
    started = time.perf_counter()
    indexer = subprocess.Popen([*exe, "index", str(corpus), "-q", "--no-embed"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found: dict[str, object] = {"at_s": None}
    try:
        while indexer.poll() is None:
            time.sleep(2)
            t0 = time.perf_counter()
            done = subprocess.run([*exe, "search", query, "--repo", str(corpus), "--json", "-k", "5"], env=env,
                                  capture_output=True, text=True)
            took = time.perf_counter() - t0
            if done.returncode == 0 and json.loads(done.stdout).get("hits"):
                data = json.loads(done.stdout)
                found = {"at_s": round(time.perf_counter() - started, 1), "took_s": round(took, 2),
                         "partial": data.get("partial")}
                break
    finally:
        indexer.terminate()
        indexer.wait()
        shutil.rmtree(home, ignore_errors=True)
    return found


def bench(corpus: Path, runs: int) -> dict[str, object]:
    exe = [sys.executable, "-m", "codeassist"]
    key = next((k for k in QUERIES if k in corpus.name), None)
    query, symbol, edit = QUERIES[key] if key else (
        "where is the main entry point", "main", sorted(p.relative_to(corpus) for p in corpus.rglob("*.py"))[0])
    home = Path(tempfile.mkdtemp(prefix="ca-scale-"))
    env = {**os.environ, "CODEASSIST_HOME": str(home)}
    row: dict[str, object] = {"corpus": corpus.name}
    try:
        seconds, peak, out = run([*exe, "index", str(corpus), "--json", "-q", "--no-embed"], env, memory=True)
        summary = json.loads(out)
        index_dir = Path(summary["index_dir"])
        with _reader(corpus, env) as (files, indexed_bytes, lines):
            row.update(files=files, lines=lines, indexed_mb=indexed_bytes / 2**20)
        row.update(cold_s=seconds, cold_rss_mb=peak / 1024, symbols=summary["symbols"],
                   references=summary["references"], index_mb=_du(index_dir) / 2**20, tree_mb=_du(corpus) / 2**20)
        row["noop_s"] = _timed([*exe, "index", str(corpus), "-q", "--no-embed"], env, runs)[0]
        edit_path = corpus / edit
        original = edit_path.read_bytes()
        stat = edit_path.stat()
        try:
            edit_path.write_bytes(original + b"\n/* benchmark edit */\n")
            row["edit_s"] = run([*exe, "index", str(corpus), "-q", "--no-embed"], env)[0]
        finally:
            edit_path.write_bytes(original)
            os.utime(edit_path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        # the graph is built on the first context call after the index changed
        row["context128k_first_s"] = run([*exe, "context", query, "--repo", str(corpus), "--budget", "128000"],
                                         env)[0]
        row["search_s"] = _timed([*exe, "search", query, "--repo", str(corpus), "--json"], env, runs)[0]
        row["symbols_s"] = _timed([*exe, "symbols", symbol, "--repo", str(corpus)], env, runs)[0]
        row["refs_s"] = _timed([*exe, "refs", symbol, "--repo", str(corpus)], env, runs)[0]
        for name, cmd in (("context128k", ["context", query, "--budget", "128000"]),
                          ("context1m", ["context", query, "--budget", "1000000"]),
                          ("map8k", ["map", "--budget", "8000"])):
            seconds, peak, _ = _timed([*exe, *cmd, "--repo", str(corpus)], env, runs, memory=False)
            row[f"{name}_s"] = seconds
            row[f"{name}_rss_mb"] = run([*exe, *cmd, "--repo", str(corpus)], env, memory=True)[1] / 1024
    finally:
        shutil.rmtree(home, ignore_errors=True)
    row["first_answer"] = first_answer(exe, corpus, query)
    return row


class _reader:
    """(files, bytes, lines) the index holds, read through the public API."""

    def __init__(self, corpus: Path, env: dict[str, str]) -> None:
        self.corpus, self.env = corpus, env

    def __enter__(self) -> tuple[int, int, int]:
        code = ("import codeassist,sys,json;p=codeassist.open(sys.argv[1]);r=p.reader();"
                "f=r.files();print(json.dumps([len(f),sum(x.size for x in f),sum(x.lines for x in f)]))")
        out = subprocess.run([sys.executable, "-c", code, str(self.corpus)], env=self.env, capture_output=True,
                             text=True, check=True).stdout
        files, size, lines = json.loads(out)
        return files, size, lines

    def __exit__(self, *exc: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="*", type=Path)
    parser.add_argument("--kernel-deb", type=Path, help="Debian's linux-source-6.1 .deb (unpacked once)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    corpora = [c.resolve() for c in args.corpora]
    if args.kernel_deb:
        corpora.append(unpack_kernel(args.kernel_deb.resolve()))
    rows = []
    for corpus in corpora:
        print(f"benchmarking {corpus} ...", file=sys.stderr)
        rows.append(bench(corpus, args.runs))
        print(json.dumps(rows[-1]), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(f"{os.cpu_count()} cores; median of {args.runs} where repeated; --no-embed\n")
    print("| corpus | files | lines | cold s | peak RSS MB | index MB (x indexed, x tree) | first answer at s "
          "(took s, partial) | no-op s | one edit s | search s | symbols s | refs s | context 128k s "
          "(first, RSS MB) | context 1M s (RSS MB) | map 8k s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        fa = r["first_answer"]
        first = f"{fa['at_s']} ({fa.get('took_s')}, {'yes' if fa.get('partial') else 'no'})" if fa["at_s"] else "-"
        print(f"| {r['corpus']} | {r['files']:,} | {r['lines']:,} | {r['cold_s']:.1f} | {r['cold_rss_mb']:.0f} "
              f"| {r['index_mb']:.0f} ({r['index_mb'] / r['indexed_mb']:.2f}x, {r['index_mb'] / r['tree_mb']:.2f}x) "
              f"| {first} | {r['noop_s']:.2f} | {r['edit_s']:.2f} | {r['search_s']:.2f} | {r['symbols_s']:.2f} "
              f"| {r['refs_s']:.2f} | {r['context128k_s']:.2f} ({r['context128k_first_s']:.1f}, "
              f"{r['context128k_rss_mb']:.0f}) | {r['context1m_s']:.2f} ({r['context1m_rss_mb']:.0f}) "
              f"| {r['map8k_s']:.2f} |")


if __name__ == "__main__":
    main()
