"""The query mirror at monorepo size: float32 scan against the int8 scan with exact re-scoring.

    python tests/benchmarks/bench_vectors.py [--rows 1000000] [--real INDEX_MIRROR_DIR ...]

* recall: for each ``--real`` mirror (an index's ``mirror/`` folder, real vectors), 300 of its
  rows are queries against the rest; Recall@10 of the int8 scan with re-scoring (the ids of the
  exact top 10 found) for several re-score depths. Also on ``--rows`` synthetic vectors
  (clustered unit vectors, 384 dimensions).
* cost: a mirror of ``--rows`` synthetic vectors is written once; a fresh process (as a
  short-lived ``codeassist search`` is) opens it and answers one query, then 20 more: seconds,
  peak RSS, and how much of it is file pages (the mirror's, shared and evictable) and private
  memory; with the page cache emptied first ("cold", when run as root) and not ("warm").
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

from codeassist.vectors import mirror as mirror_module
from codeassist.vectors.mirror import VectorMirror, quantize, write_mirror

_PROBE = """
import json, sys, time
import numpy as np
from codeassist.vectors import mirror as m
if sys.argv[2] == "float32":
    m.QUANTIZE_MIN_ROWS = 10**12
def status(field):  # this process's own figures (ru_maxrss would carry the parent's over exec)
    line = next(x for x in open("/proc/self/status") if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024
started = time.perf_counter()
mirror = m.VectorMirror.open(__import__("pathlib").Path(sys.argv[1]), "key")
rng = np.random.default_rng(7)
queries = rng.normal(size=(21, mirror._matrix.shape[1])).astype(np.float32)
queries /= np.linalg.norm(queries, axis=1, keepdims=True)
mirror.query(queries[0], 10)
first = time.perf_counter() - started
t = time.perf_counter()
for q in queries[1:]:
    mirror.query(q, 10)
print(json.dumps({"first_s": first, "per_query_s": (time.perf_counter() - t) / 20,
                  "peak_rss_mb": status("VmHWM"), "file_pages_mb": status("RssFile"),
                  "private_mb": status("RssAnon")}))
"""


def clustered_rows(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    """``n`` unit vectors, each a random one of ``centres`` plus noise (as embeddings of code
    cluster; uniform random vectors would be an unlike worst case)."""
    rows = centres[rng.integers(0, len(centres), n)] + 0.8 * rng.normal(size=(n, centres.shape[1])).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _clustered(n: int, dims: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, dims), dtype=np.float32)
    centres = rng.normal(size=(2000, dims)).astype(np.float32)
    for start in range(0, n, 100_000):
        size = min(100_000, n - start)
        out[start : start + size] = clustered_rows(rng, centres, size)
    return out


def _drop_page_cache() -> bool:
    """Empty the page cache (root only), so that the first query reads the mirror from disk."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        return True
    except OSError:
        return False


def _recall(matrix: np.ndarray, queries: np.ndarray, depths: tuple[int, ...]) -> dict[int, float]:
    ids = [str(i) for i in range(len(matrix))]
    exact = VectorMirror(ids, matrix)
    codes, scale = quantize(matrix)
    found = {d: 0 for d in depths}
    for query in queries:
        want = {v for v, _s in exact.query(query, 10)}
        for depth in depths:
            mirror_module._RESCORE_MIN, mirror_module._RESCORE_PER_RESULT = depth, 0
            quantized = VectorMirror(ids, matrix, quantized=(codes, scale))
            found[depth] += len(want & {v for v, _s in quantized.query(query, 10)})
    return {d: round(found[d] / (10 * len(queries)), 4) for d in depths}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--real", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    depths = (50, 100, 200, 400)
    report: dict[str, object] = {"recall_at_10": {}}
    for folder in args.real:
        matrix = np.load(folder / "vectors.npy")
        rng = np.random.default_rng(0)
        picked = rng.choice(len(matrix), 300, replace=False)
        rest = np.delete(matrix, picked, axis=0)
        report["recall_at_10"][f"{folder} ({len(rest):,} rows)"] = _recall(rest, matrix[picked], depths)
        print(report["recall_at_10"], file=sys.stderr)
    synthetic = _clustered(args.rows, 384, seed=1)
    queries = _clustered(100, 384, seed=2)
    report["recall_at_10"][f"synthetic ({args.rows:,} rows)"] = _recall(synthetic, queries, depths)
    print(report["recall_at_10"], file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-vectors-") as tmp:
        started = time.perf_counter()
        write_mirror(Path(tmp), [str(i) for i in range(args.rows)], synthetic, "key")
        report["write_s"] = round(time.perf_counter() - started, 2)
        del synthetic
        for cache in ("cold", "warm"):
            for mode in ("float32", "int8"):
                if cache == "cold" and not _drop_page_cache():
                    continue
                out = subprocess.run([sys.executable, "-c", _PROBE, tmp, mode], capture_output=True, text=True,
                                     check=True)
                report[f"{mode} {cache}"] = {k: round(v, 4) for k, v in json.loads(out.stdout).items()}
                print(mode, cache, report[f"{mode} {cache}"], file=sys.stderr)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
