"""Build the context yourself: inspect what the model would read, then send it anywhere.

    python examples/custom_context.py PATH "how is a request authenticated?" [--budget 16000]

Prints the items (path, lines, detail level, tokens) of the context and writes the exact text to
context.md, e.g. to paste into a chat UI or feed another tool. Nothing is sent to any model.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import codeassist


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("question")
    parser.add_argument("--budget", type=int, default=16_000)
    parser.add_argument("--format", default="markdown", choices=("markdown", "xml"))
    args = parser.parse_args()

    project = codeassist.open(args.path)
    project.index()
    ctx = project.context(args.question, budget=args.budget, format=args.format)
    print(f"{ctx.tokens:,} of {ctx.budget:,} tokens ({ctx.mode}); items by detail: "
          f"{dict(Counter(i.detail for i in ctx.items))}")
    for item in ctx.items:
        if item.detail != "outline":
            print(f"  {item.detail:<8} {item.path}:{item.start_line}-{item.end_line}  {item.tokens} tokens")
    # a ranked outline of the project on its own, personalised on the question
    print(project.map(800, query=args.question).text)
    Path("context.md").write_text(ctx.text, encoding="utf-8")
    print("wrote context.md")


if __name__ == "__main__":
    main()
