"""Is the time left that `codeassist index` shows honest? Its estimates against what happened.

    python tests/benchmarks/bench_eta.py CORPUS [--embed]

Runs a cold index of CORPUS (fresh CODEASSIST_HOME; lexical + symbol only unless ``--embed``)
with the estimator the progress bar uses fed every progress report, and records its answer
when each phase passes 10, 25, 50, 75 and 90% of its work. When the phase ends, each answer is
compared with the time the phase really had left then. Also reports how long the phases the
bar shows no estimate for took (the walk, and the final commit after the last file).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from codeassist.config import load_settings
from codeassist.index.eta import Eta
from codeassist.index.indexer import build_index
from codeassist.index.location import index_dir

_MARKS = (0.10, 0.25, 0.50, 0.75, 0.90)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--embed", action="store_true")
    args = parser.parse_args()
    eta = Eta()
    started = time.monotonic()
    phases: dict[str, dict] = {}
    current: list[str] = [""]

    def progress(p) -> None:
        now = time.monotonic() - started
        left = eta.feed(p)
        if p.phase != current[0]:
            if current[0]:
                phases[current[0]]["end"] = now
            phases[p.phase] = {"start": now, "marks": {}}
            current[0] = p.phase
        marks = phases[p.phase]["marks"]
        for mark in _MARKS:
            if p.total and p.done >= mark * p.total and mark not in marks:
                marks[mark] = (now, left)

    with tempfile.TemporaryDirectory(prefix="bench-eta-") as home:
        settings = load_settings({"home": Path(home), "embed": args.embed})
        root = args.corpus.resolve()
        build_index(root, index_dir(Path(home), root), settings, progress)
    total = time.monotonic() - started
    phases[current[0]]["end"] = total
    report: dict[str, object] = {"corpus": str(args.corpus), "seconds": round(total, 1), "phases": {}}
    for name, phase in phases.items():
        row = {"seconds": round(phase["end"] - phase["start"], 1)}
        for mark, (at, left) in phase["marks"].items():
            actual = phase["end"] - at
            row[f"{round(mark * 100)}%"] = {
                "said_left_s": None if left is None else round(left, 1), "really_left_s": round(actual, 1),
                "error": None if left is None or actual <= 0 else f"{(left - actual) / actual:+.0%}"}
        report["phases"][name] = row
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
