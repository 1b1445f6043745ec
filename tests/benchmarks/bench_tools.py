"""Ask-with-tools figures for docs/benchmarks.md: our overhead per tool round and how much of
each round's request repeats the previous one (what a provider's prefix cache reuses).

    CODEASSIST_HOME=H python tests/benchmarks/bench_tools.py CORPUS [--rounds 12]

The model is the suite's scripted OpenAI-compatible server on 127.0.0.1 (it answers at once), so
a round's time is codeassist's own: the HTTP exchange, running the tool on the real index,
counting and appending its result. Index the corpus first under the same CODEASSIST_HOME.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.openai_server import LocalOpenAIServer, Reply  # noqa: E402

CALLS = [
    ("search", {"query": "simplify a trigonometric expression", "k": 8}),
    ("read", {"path": "sympy/simplify/trigsimp.py", "start_line": 400, "end_line": 520}),
    ("search", {"query": "where is the Risch algorithm implemented?", "k": 8}),
    ("read", {"path": "sympy/integrals/risch.py", "start_line": 1, "end_line": 120}),
    ("symbols", {"name": "Matrix.det"}),
    ("references", {"name": "trigsimp"}),
]


def main() -> None:
    import codeassist
    from codeassist.assistant import AnswerReady, ToolStep
    from codeassist.context import token_counter

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--window", type=int, default=128_000, help="the model's window (sizes the first context)")
    args = parser.parse_args()
    counter = token_counter()
    with LocalOpenAIServer() as server:
        calls = [CALLS[i % len(CALLS)] for i in range(args.rounds)]
        server.script(*[Reply(content="", tool_calls=[{"name": name, "arguments": json.dumps(arguments)}])
                        for name, arguments in calls], Reply(content="Done."))
        project = codeassist.open(args.corpus, backend="custom", base_url=server.base_url, model="test-model",
                                  max_tool_rounds=args.rounds + 1, tool_output_tokens=60_000,
                                  context_window=args.window)
        chat = project.chat()
        tool_ms: dict[str, list[float]] = {}
        real_call = chat.tools.call

        def timed_call(name: str, arguments: str):  # the tool itself, in this process
            t0 = time.perf_counter()
            try:
                return real_call(name, arguments)
            finally:
                tool_ms.setdefault(name, []).append((time.perf_counter() - t0) * 1000)

        chat.tools.call = timed_call  # type: ignore[method-assign]
        chat.prepare("warm up")  # the query model, the graph: loaded before timing
        project.search("warm up")
        stamps: list[tuple[str, float]] = []
        started = time.perf_counter()
        for event in chat.stream("How does trigsimp simplify expressions, and where is it used?"):
            if isinstance(event, ToolStep):
                stamps.append((event.name, time.perf_counter()))
            elif isinstance(event, AnswerReady):
                stamps.append(("answer", time.perf_counter()))
        bodies = server.state.chat_bodies()
    first_request = stamps[0][1] - started  # context assembly and the first exchange
    per_round: dict[str, list[float]] = {}
    for (_prev, t0), (name, t1) in zip(stamps, stamps[1:]):
        if name != "answer":
            per_round.setdefault(name, []).append((t1 - t0) * 1000)
    shares = []
    for earlier, later in zip(bodies, bodies[1:]):
        assert later["messages"][: len(earlier["messages"])] == earlier["messages"], "not a prefix"
        before = counter.count(json.dumps(earlier["messages"]) + json.dumps(earlier.get("tools")))
        after = counter.count(json.dumps(later["messages"]) + json.dumps(later.get("tools")))
        shares.append(before / after)
    print(f"{len(bodies)} requests; first request (context assembly + exchange) {first_request:.2f} s")
    for name, values in sorted(per_round.items()):
        own = tool_ms.get(name, [0.0])
        print(f"round with {name}: the tool {statistics.median(own):.0f} ms median (max {max(own):.0f}); the whole "
              f"round {statistics.median(values):.0f} ms median, max {max(values):.0f} ({len(values)} rounds; the "
              f"round includes sending the conversation to the scripted model and its reply)")
    print(f"share of each request repeating the previous one as its prefix: min {min(shares):.3f}, "
          f"median {statistics.median(shares):.3f}")


if __name__ == "__main__":
    main()
