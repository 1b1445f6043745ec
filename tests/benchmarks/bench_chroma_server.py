"""A kernel-size collection in a Chroma server (`chroma run`), through codeassist's own store.

    python tests/benchmarks/bench_chroma_server.py [--rows 1000000] [--queries 200]

Starts a real ``chroma run`` on a free loopback port with a fresh data folder, and writes
``--rows`` vectors (384 dimensions, as all-MiniLM-L6-v2's, clustered unit vectors: a CPU cannot
embed a kernel's ~1M symbols in reasonable time, and HNSW's cost depends on the count and the
dimensions) with a ``path`` metadata each, through ``ChromaVectorStore.upsert`` in the batches
the embedding stage hands it (256 units, as on one CPU; a GPU embedding server hands 256 too).
Reports the insert rate per 10% of the rows, then the latency of ``--queries`` top-10 queries
(the call dense search makes) at the full size: p50, p95, max. The server is stopped at the
end; its folder is deleted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from codeassist.vectors.base import CollectionSpec
from codeassist.vectors.chroma import ChromaVectorStore

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).resolve().parents[2])]
from bench_vectors import clustered_rows  # noqa: E402
from tests.helpers import free_port, start_chroma_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-chroma-") as data:
        try:
            server = start_chroma_server(Path(data), port)
        except RuntimeError as exc:
            raise SystemExit(str(exc)) from None
        try:
            spec = CollectionSpec("bench-kernel", "sentence-transformers/all-MiniLM-L6-v2", 384, "bench")
            store = ChromaVectorStore.server("127.0.0.1", port, spec)
            rng = np.random.default_rng(1)
            centres = rng.normal(size=(2000, 384)).astype(np.float32)
            rates = []
            step = max(args.batch, args.rows // 10)
            started = time.perf_counter()
            for chunk_start in range(0, args.rows, step):
                t = time.perf_counter()
                size = min(step, args.rows - chunk_start)
                vectors = clustered_rows(rng, centres, size)
                made = time.perf_counter() - t
                t = time.perf_counter()
                for b in range(0, size, args.batch):
                    n = chunk_start + b
                    count = min(args.batch, size - b)
                    store.upsert([f"v{n + i}" for i in range(count)], vectors[b : b + count],
                                 [{"path": f"drivers/dir{(n + i) % 997}/file{(n + i) % 8191}.c"} for i in range(count)])
                took = time.perf_counter() - t
                rates.append({"rows": chunk_start + size, "per_s": round(size / took), "made_s": round(made, 2)})
                print(rates[-1], file=sys.stderr)
            total = time.perf_counter() - started
            queries = clustered_rows(np.random.default_rng(2), centres, args.queries)
            store.query(queries[0], 10)  # the first query after the writes loads what it needs
            times = []
            for q in queries:
                t = time.perf_counter()
                store.query(q, 10)
                times.append(time.perf_counter() - t)
            times.sort()
            size = sum(p.stat().st_size for p in Path(data).rglob("*") if p.is_file())
            status = Path(f"/proc/{server.pid}/status").read_text()
            peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
            report = {"rows": args.rows, "batch": args.batch, "insert_s": round(total, 1),
                      "insert_per_s": round(args.rows / total), "rates": rates,
                      "query_p50_ms": round(1000 * statistics.median(times), 1),
                      "query_p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 1),
                      "query_max_ms": round(1000 * times[-1], 1), "data_gb": round(size / 1e9, 2),
                      "server_peak_rss_gb": round(peak_kb / 1e6, 2)}
            print(json.dumps(report, indent=1))
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
