"""Ask figures for docs/benchmarks.md, against the local OpenAI-compatible test backend.

    python tests/benchmarks/bench_ask.py REPO [--budget 128000] [--window 1000000]

* time to first streamed token added by codeassist: from calling ``chat.stream(question)`` to
  the first answer token, minus the backend's own time to first token (measured on the same
  server with the same request replayed directly); median of 5 questions on a warm index;
* a scripted 5-turn conversation: per turn, the share of prompt tokens the backend reports as
  prefix-cache hits (DeepSeek-style accounting of the real shared prefix).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

QUESTIONS = [
    "How does the app handle key bindings?",
    "Where are CSS styles parsed?",
    "How is a screen pushed and popped?",
    "What does the message pump do with events?",
    "How are widgets mounted?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--budget", type=int, default=128_000)
    parser.add_argument("--window", type=int, default=1_000_000)
    args = parser.parse_args()

    import openai

    import codeassist
    from codeassist.llm.events import Content
    from tests.openai_server import LocalOpenAIServer, Reply

    with LocalOpenAIServer() as server:
        server.state.default_reply = Reply(content="An answer citing src/a.py:1-2. " * 20)
        project = codeassist.open(args.repo, backend="custom", base_url=server.base_url, model="m",
                                  context_window=args.window, answer_tokens=8_000)
        project.index()
        project.context("warm up", 4_000)
        client = openai.OpenAI(base_url=server.base_url, api_key="x")
        added = []
        for question in QUESTIONS:
            chat = project.chat(budget=args.budget)
            start = time.perf_counter()
            for event in chat.stream(question):
                if isinstance(event, Content):
                    first = time.perf_counter() - start
                    break
            # the backend alone: the same request, sent directly
            messages = chat.last_turn.messages
            start = time.perf_counter()
            stream = client.chat.completions.create(model="m", messages=messages, stream=True)
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    backend_only = time.perf_counter() - start
                    break
            stream.close()
            added.append(first - backend_only)
            print(f"  {question!r}: first token {first:.3f} s, backend alone {backend_only:.3f} s, "
                  f"context {chat.last_turn.context.tokens:,} tokens ({chat.last_turn.context.mode})")
        print(f"time to first token added by codeassist (budget {args.budget:,}): median "
              f"{statistics.median(added):.3f} s, max {max(added):.3f} s")

        server.state.prompts.clear()
        chat = project.chat(budget=args.budget)
        print("5-turn conversation, cache-hit share of prompt tokens per turn:")
        for i, question in enumerate(QUESTIONS, start=1):
            answer = chat.ask(question)
            u = answer.usage
            print(f"  turn {i}: {u.prompt_tokens:>8,} prompt tokens, {u.cache_hit_tokens:>8,} cached "
                  f"({u.cache_hit_share:.0%}), context {answer.context.tokens:,} ({answer.context.mode})")


if __name__ == "__main__":
    main()
