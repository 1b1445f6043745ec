"""Search quality during a cold semantic stage: hybrid Recall@10 of ``codeassist eval``'s queries
as a search at each moment of a cold ``codeassist index`` would give it.

    python tests/benchmarks/bench_semantic_stage.py CORPUS [--limit 200] [--at 30,45,60,90,120]
                                                  [--order importance|file]

The corpus is indexed lexically, and ``codeassist eval``'s blanked copy is made from it (the
same targets and queries as ``codeassist eval --limit N``). The copy is then indexed cold, with
embeddings, by the real command in a subprocess (fresh CODEASSIST_HOME, so no cached vectors and
the query model's export included), and this script watches the query mirror the run writes as
it goes: every version of it (its vector ids) is recorded with its time since the start.
Polling costs nothing measurable: one small file read every 0.2 s.

After the run, Recall@10 at a time ``t`` is computed exactly as a search at ``t`` would have
answered: hybrid search (lexical, symbol, path, graph) on the finished lexical index, with dense
search over the vectors of the mirror in place at ``t`` (none before the first one). The lexical
stage ends before the semantic stage starts, so that part of the index is the same at every ``t``.

While the stage is partial, dense search weighs in proportion to the share covered
(``codeassist.search.dense.partial_weight``); each checkpoint is also replayed with dense search
at full weight (the variant that was measured against it).

``--order file`` replays the run with units embedded in file order instead of most-used first
(the variant the importance order is measured against).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from codeassist.config import load_settings
from codeassist.evaluation import blanked_copy, hit_matches
from codeassist.factory import make_query_embedder
from codeassist.index.location import index_dir
from codeassist.project import Project
from codeassist.search import search
from codeassist.search.dense import partial_weight

_FILE_ORDER = """
import sys
from codeassist.index import embed_stage
plain = embed_stage._units
def in_file_order(index, settings, **kw):
    return sorted(plain(index, settings, **kw), key=lambda u: (u.path, u.start_line))
embed_stage._units = in_file_order
from codeassist.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _watch(cmd: list[str], env: dict[str, str], mirror: Path) -> tuple[float, list[tuple[float, list[str]]]]:
    """Run ``cmd``; returns its seconds and each mirror version seen (seconds, vector ids)."""
    versions: list[tuple[float, list[str]]] = []
    last = None
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    while proc.poll() is None:
        time.sleep(0.2)
        try:
            key = (mirror / "vectors.key").read_text()
            ids = (mirror / "vectors.ids").read_text().split("\n")
        except OSError:
            continue
        if key != last:
            versions.append((time.monotonic() - started, ids))
            last = key
    seconds = time.monotonic() - started
    if proc.returncode:
        raise SystemExit(f"index run failed ({proc.returncode})")
    key = (mirror / "vectors.key").read_text()
    if key != last:
        versions.append((seconds, (mirror / "vectors.ids").read_text().split("\n")))
    return seconds, versions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--at", default="30,45,60,75,90,120")
    parser.add_argument("--order", choices=("importance", "file"), default="importance")
    args = parser.parse_args()
    checkpoints = [float(t) for t in args.at.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-semantic-") as tmp:
        base = Project(args.corpus.resolve(), load_settings({"home": Path(tmp) / "lexical", "embed": False}))
        base.index()
        with blanked_copy(base, limit=args.limit, seed=0, say=lambda m: print(m, file=sys.stderr)) as (
                copy, targets, _candidates):
            home = Path(tmp) / "cold"
            env = {**os.environ, "CODEASSIST_HOME": str(home), "CODEASSIST_EMBED": "1"}
            launcher = ["-c", _FILE_ORDER] if args.order == "file" else ["-m", "codeassist"]
            folder = index_dir(home, copy.root)
            print(f"cold index of the blanked copy ({len(targets)} targets) ...", file=sys.stderr)
            total, versions = _watch([sys.executable, *launcher, "index", str(copy.root), "-q"], env,
                                     folder / "mirror")
            settings = load_settings({"home": home, "embed": True})
            final_ids = versions[-1][1]
            matrix = np.load(folder / "mirror" / "vectors.npy", mmap_mode="r")
            row_of = {v: i for i, v in enumerate(final_ids)}
            embedder = make_query_embedder(settings)
            queries = np.stack([embedder.embed_query(t.query) for t in targets])
            project = Project(copy.root, settings)
            hybrid = {"lexical", "symbol", "path", "graph"}
            rows = []
            with project.reader() as index:
                symbol_of = index.symbols_of_vectors(final_ids)

                def recall(ids: list[str], plain: bool = False) -> float:
                    sub = matrix[[row_of[v] for v in ids]] if ids else None
                    found = 0
                    for n, target in enumerate(targets):
                        def dense(_query: str, depth: int, n: int = n) -> tuple[list[int], float]:
                            assert sub is not None
                            scores = sub @ queries[n]
                            top = np.argsort(-scores, kind="stable")[:depth]
                            weight = 1.0 if plain else partial_weight(len(ids), len(final_ids))
                            return [symbol_of[ids[i]] for i in top if ids[i] in symbol_of], weight
                        sources = hybrid | ({"dense"} if sub is not None else set())
                        hits = search(index, target.query, 10, sources, dense if sub is not None else None)
                        found += any(hit_matches(h, target) for h in hits)
                    return found / max(1, len(targets))

                for t in [*checkpoints, total]:
                    current = [ids for seen, ids in versions if seen <= t]
                    ids = current[-1] if current else []
                    row = {"t": round(t, 1), "vectors": len(ids), "recall_at_10": round(recall(ids), 4)}
                    if 0 < len(ids) < len(final_ids):  # the variant: dense at full weight from the start
                        row["recall_at_10_dense_full_weight"] = round(recall(ids, plain=True), 4)
                    rows.append(row)
            final = rows[-1]["recall_at_10"]
            report = {"corpus": str(args.corpus), "order": args.order, "targets": len(targets),
                      "stage_seconds": round(total, 1), "units": len(final_ids), "final_recall_at_10": final,
                      "mirror_versions": [(round(t, 1), len(ids)) for t, ids in versions], "checkpoints": rows}
            print(json.dumps(report, indent=1))
            print("\n| t (s) | vectors in the mirror | hybrid R@10 | vs final | dense at full weight |\n|---|---|---|---|---|")
            for row in rows:
                plain = row.get("recall_at_10_dense_full_weight")
                print(f"| {row['t']} | {row['vectors']:,} | {row['recall_at_10']:.3f} | "
                      f"{row['recall_at_10'] - final:+.3f} | {'' if plain is None else f'{plain:.3f}'} |")


if __name__ == "__main__":
    main()
