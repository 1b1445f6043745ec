"""MCP server figures for docs/benchmarks.md: a real `codeassist mcp` process driven by the
official SDK client over stdio, on an index that already exists.

    CODEASSIST_HOME=H python tests/benchmarks/bench_mcp.py CORPUS [--part latency|memory|tokens|all]
           [--calls 5000] [--targets 20]

* latency: first answer after start-up; then, warm, `search` (p50/p95 of 100 questions),
  `context` at 32k, `read` of a function, `symbols`;
* memory: server RSS after the first 100 and after --calls mixed calls;
* tokens: for --targets documented functions, described by the first sentence of their doc, the
  tokens an agent reads with `search` (k=5) + `read` of the hit it picks, against opening the
  files a plain `grep -l` for the description's rarest word would list (at most 5 files, whole),
  and whether each finds the function.

Index the corpus first (`codeassist index CORPUS`, embeddings on) under the same CODEASSIST_HOME.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

QUESTIONS = [
    "simplify a trigonometric expression", "solve a system of linear equations", "integrate a rational function",
    "series expansion around a point", "pretty print a matrix", "compute the determinant", "factor a polynomial",
    "limit of a function at infinity", "parse a string into an expression", "differentiate with respect to x",
]


def _server(corpus: Path) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "codeassist", "mcp", str(corpus), "--no-watch"],
                                 env=dict(os.environ))


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]) / 1024


def _server_pid() -> int:
    out = subprocess.run(["pgrep", "-n", "-f", "codeassist mcp"], capture_output=True, text=True).stdout.split()
    return int(out[0])


async def _timed(client: Client, tool: str, arguments: dict) -> tuple[float, object]:
    start = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    elapsed = time.perf_counter() - start
    assert not result.is_error, (tool, result.content[0].text[:300])
    return elapsed, result


async def latency(corpus: Path) -> None:
    started = time.perf_counter()
    async with Client(_server(corpus)) as client:
        first, _ = await _timed(client, "search", {"query": QUESTIONS[0]})
        print(f"first answer after start-up (process start, handshake, first search): "
              f"{time.perf_counter() - started:.2f} s (the search itself {first:.2f} s)")
        times = []
        for n in range(100):
            elapsed, _ = await _timed(client, "search", {"query": f"{QUESTIONS[n % len(QUESTIONS)]} {n}"})
            times.append(elapsed)
        q = statistics.quantiles(times, n=20)
        print(f"search, warm, 100 calls: p50 {statistics.median(times) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms")
        ctx = [(await _timed(client, "context", {"question": QUESTIONS[n], "budget": 32_000}))[0] for n in range(6)]
        print(f"context 32k: median {statistics.median(ctx[1:]) * 1000:.0f} ms (first {ctx[0] * 1000:.0f} ms)")
        reads = [(await _timed(client, "read", {"path": "sympy/simplify/simplify.py", "start_line": 400 + n,
                                                "end_line": 460 + n}))[0] for n in range(20)]
        print(f"read (60 lines): median {statistics.median(reads) * 1000:.1f} ms, max {max(reads) * 1000:.1f} ms")
        syms = [(await _timed(client, "symbols", {"name": "simplify"}))[0] for _ in range(20)]
        print(f"symbols: median {statistics.median(syms) * 1000:.1f} ms")


async def memory(corpus: Path, calls: int) -> None:
    mixed = [("search", {"query": q}) for q in QUESTIONS] + [
        ("symbols", {"name": "Matrix"}), ("references", {"name": "simplify"}),
        ("read", {"path": "sympy/core/basic.py", "start_line": 1, "end_line": 200}),
        ("outline", {"path": "sympy/core/expr.py"}), ("status", {}), ("map", {"budget": 2000}),
        ("context", {"question": "how does simplify work?", "budget": 8000})]
    async with Client(_server(corpus)) as client:
        pid = _server_pid()
        samples = {}
        started = time.perf_counter()
        for n in range(calls):
            tool, arguments = mixed[n % len(mixed)]
            await _timed(client, tool, arguments)
            if n + 1 in (100, 1000, 2000, 3000, 4000, calls):
                samples[n + 1] = round(_rss_mb(pid))
        print(f"memory: RSS MB after N mixed calls {samples} ({calls} calls in {time.perf_counter() - started:.0f} s); "
              f"last/first-100 {samples[calls] / samples[100]:.3f}")


def _count(text: str) -> int:
    from codeassist.context import token_counter

    return token_counter().count(text)


async def tokens(corpus: Path, targets: int) -> None:
    import codeassist

    project = codeassist.open(corpus)
    with project.reader() as index:
        candidates = [d for d in index.documented_callables() if "/tests/" not in d.path and len(d.doc.split()) >= 8]
    candidates.sort(key=lambda d: hashlib.blake2b(f"{d.path}{d.qualname}".encode()).digest())
    chosen = []
    for d in candidates:
        sentence = re.split(r"(?<=[.!?])\s", d.doc.strip().replace("\n", " "), maxsplit=1)[0]
        if 6 <= len(sentence.split()) <= 40 and d.name.lower() not in sentence.lower():
            chosen.append((d, sentence))
        if len(chosen) == targets:
            break
    files = {p: (corpus / p).read_text(encoding="utf-8", errors="replace") for p in project.files()}
    frequency: dict[str, int] = {}
    for text in files.values():
        for word in set(re.findall(r"[a-z]{4,}", text.lower())):
            frequency[word] = frequency.get(word, 0) + 1
    ours = grep = found_ours = found_grep = 0
    async with Client(_server(corpus)) as client:
        for target, sentence in chosen:
            _t, result = await _timed(client, "search", {"query": sentence, "k": 5})
            hits = result.structured_content["hits"]
            spent = _count(result.content[0].text)
            pick = next((h for h in hits if h["path"] == target.path and h["start_line"] <= target.end_line
                         and h["end_line"] >= target.start_line), hits[0] if hits else None)
            if pick:
                _t, read = await _timed(client, "read", {"path": pick["path"], "start_line": pick["start_line"],
                                                         "end_line": pick["end_line"]})
                spent += _count(read.content[0].text)
                found_ours += pick["path"] == target.path and pick["start_line"] <= target.end_line
            ours += spent
            words = [w for w in re.findall(r"[a-z]{4,}", sentence.lower()) if w in frequency]
            rarest = min(words, key=lambda w: frequency[w]) if words else ""
            listed = [p for p, text in files.items() if rarest and rarest in text.lower()][:5]
            grep += sum(_count(files[p]) for p in listed)
            found_grep += target.path in listed
    print(f"tokens to find {len(chosen)} described functions: search+read {ours:,} (found {found_ours}/{len(chosen)}), "
          f"grep -l of the rarest word + open up to 5 files {grep:,} (found {found_grep}/{len(chosen)}); "
          f"ratio {grep / max(ours, 1):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--part", choices=("latency", "memory", "tokens", "all"), default="all")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--targets", type=int, default=20)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if args.part in ("latency", "all"):
        anyio.run(latency, corpus)
    if args.part in ("memory", "all"):
        anyio.run(memory, corpus, args.calls)
    if args.part in ("tokens", "all"):
        anyio.run(tokens, corpus, args.targets)


if __name__ == "__main__":
    main()
