"""Index a repository, then search it and navigate definitions and uses from Python.

    python examples/search_and_navigate.py PATH "where are retries configured?" RetryPolicy
"""

from __future__ import annotations

import sys

import codeassist


def main(path: str, question: str, name: str) -> None:
    project = codeassist.open(path)

    def show(progress: codeassist.Progress) -> None:
        if progress.phase == "parse" and progress.total and progress.done == progress.total:
            print(f"parsed {progress.total} changed files", file=sys.stderr)

    stats = project.index(show)  # incremental: only what changed is parsed again
    print(f"{stats.files} files, {stats.symbols} symbols, {stats.chunks} chunks, "
          f"skipped {sum(stats.skipped.values())} ({stats.seconds:.2f}s)")

    print(f"\nsearch: {question}")
    for hit in project.search(question, k=5):
        why = ", ".join(f"{source} #{rank}" for source, rank in hit.sources.items())
        print(f"  {hit.path}:{hit.start_line}-{hit.end_line}  {hit.symbol or ''}  ({why})")

    print(f"\nwhere is {name} defined?")
    for symbol in project.symbols(name):
        print(f"  {symbol.path}:{symbol.start_line}  {symbol.kind} {symbol.qualname}")
        print(f"      {symbol.signature}")

    print(f"\nwho uses {name}?")
    for ref in project.references(name)[:20]:
        print(f"  {ref.path}:{ref.line}  {ref.kind:<7} {ref.symbol or '<module>'}: {ref.text}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
