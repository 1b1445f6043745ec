"""Context assembly figures for docs/benchmarks.md.

    python tests/benchmarks/bench_context.py REPO [--part timing|needle|cache|all]
           [--needle-limit 60] [--embed]

* timing: cl100k counting speed (MB/s) on the repository's text, and context assembly time for
  128k and 1M budgets (median of 5 after one warm-up call) on an index that is already built;
* needle: documented functions, described by their doc text with the docs removed from an
  indexed copy; share that appears in full in the 4k, 8k and 16k contexts;
* cache: a scripted 5-question conversation; for each prompt, the share of its tokens that
  repeats the previous prompt's prefix (what a provider's prefix cache can reuse), for a budget
  that holds the whole project and one that does not.

The repository is indexed first (incrementally) under $CODEASSIST_HOME; --embed also builds
embeddings (dense retrieval joins the context's search).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

QUESTIONS = [
    "How is the project structured and what are its main entry points?",
    "Where are errors handled and reported to the user?",
    "How does configuration get loaded?",
    "What happens when the main command runs?",
    "Which tests cover the core behaviour?",
]


def timing(project) -> None:
    from codeassist.context import token_counter

    counter = token_counter()
    texts = []
    for path in project.files():
        try:
            texts.append((project.root / path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            pass
    data = "".join(texts)
    mb = len(data.encode()) / 1e6
    start = time.perf_counter()
    counter.count(data)
    one = time.perf_counter() - start
    start = time.perf_counter()
    counter.count_many(texts)
    many = time.perf_counter() - start
    print(f"token counting: {mb:.1f} MB, one thread {mb / one:.1f} MB/s, per-file batch on 2 threads "
          f"{mb / many:.1f} MB/s")
    question = "how does the app handle key bindings and focus?"
    project.context(question, 4_000)  # warm: token encoder, graph cache, disk cache
    for budget in (128_000, 1_000_000):
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            ctx = project.context(question, budget)
            runs.append(time.perf_counter() - start)
        print(f"context {budget:>9,} tokens: median {statistics.median(runs):.3f} s "
              f"(min {min(runs):.3f}), {ctx.tokens:,} tokens, {ctx.mode}, {len(ctx.items)} items")


def needle(project, limit: int) -> None:
    from codeassist.evaluation import needle_check

    report = needle_check(project, limit=limit, progress=lambda m: print(f"  {m} …", flush=True))
    print(f"needle: {report.targets} functions, {report.seconds:.0f} s")
    for budget, share in report.found.items():
        print(f"  {budget:>6,} tokens: {share:.1%} in full")
        for path, qualname in report.missed[budget][:5]:
            print(f"      missed {qualname} ({path})")


def cache(project, budgets: list[int]) -> None:
    from codeassist.context import token_counter

    counter = token_counter()
    for budget in budgets:
        previous = None
        shares = []
        mode = ""
        for question in QUESTIONS:
            ctx = project.context(question, budget)
            mode = ctx.mode
            prompt = ctx.text + "\n\nQuestion: " + question
            if previous is not None:
                common = os.path.commonprefix([previous, prompt])
                shares.append(counter.count(common) / counter.count(prompt))
            previous = prompt
        print(f"cache, budget {budget:,} ({mode}): prefix share per follow-up "
              f"{', '.join(f'{s:.2f}' for s in shares)}; mean {statistics.mean(shares):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--part", choices=("timing", "needle", "cache", "all"), default="all")
    parser.add_argument("--needle-limit", type=int, default=60)
    parser.add_argument("--embed", action="store_true", help="build embeddings too (dense retrieval)")
    parser.add_argument("--cache-budgets", default="", help="comma-separated budgets for the cache part")
    args = parser.parse_args()
    import codeassist

    project = codeassist.open(args.repo, embed=args.embed)
    start = time.perf_counter()
    stats = project.index()
    print(f"index: {stats.files} files in {time.perf_counter() - start:.1f} s "
          f"(embedded {stats.embedded} symbols)")
    if args.part in ("timing", "all"):
        timing(project)
    if args.part in ("needle", "all"):
        needle(project, args.needle_limit)
    if args.part in ("cache", "all"):
        budgets = [int(b) for b in args.cache_budgets.split(",") if b] or [1_000_000, 32_000]
        cache(project, budgets)


if __name__ == "__main__":
    main()
