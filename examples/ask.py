"""Ask questions about a repository from Python, streaming the answer as it arrives.

    DEEPSEEK_API_KEY=... python examples/ask.py PATH "how does the cache work?" "and who calls it?"
    python examples/ask.py PATH "question" --backend ollama --model qwen2.5-coder

The first question gets the whole project (or as much as fits, most relevant code verbatim);
follow-ups reuse that prefix, so a provider's prompt cache makes them cheap.
"""

from __future__ import annotations

import argparse
import sys

import codeassist
from codeassist.assistant import AnswerReady, Restart
from codeassist.llm.events import Content, Notice, Reasoning


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("questions", nargs="+")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    project = codeassist.open(args.path, backend=args.backend, model=args.model)
    project.index()
    chat = project.chat()
    for question in args.questions:
        print(f"\n>>> {question}\n")
        try:
            for event in chat.stream(question):
                if isinstance(event, Reasoning):
                    print(event.text, end="", file=sys.stderr, flush=True)
                elif isinstance(event, Content):
                    print(event.text, end="", flush=True)
                elif isinstance(event, Notice):
                    print(f"\n[{event.message}]", file=sys.stderr)
                elif isinstance(event, Restart):
                    print("\n[answer discarded, asking again]\n")
                elif isinstance(event, AnswerReady):
                    answer = event.answer
                    print(f"\n\n[{answer.usage.summary()}]")
                    for citation in answer.invalid_citations:
                        print(f"[citation {citation} points nowhere: {citation.problem}]")
        except codeassist.CodeassistError as exc:
            sys.exit(f"codeassist: {exc}")


if __name__ == "__main__":
    main()
