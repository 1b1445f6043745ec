"""Embedding throughput of the default embedder (packaged all-MiniLM-L6-v2) on this machine.

    python tests/benchmarks/bench_embed.py [--texts 512] [--precisions fp32,bf16]

Texts are real code lines from this repository, cut to each token limit; prints texts/second
for several ``embed_max_tokens`` values and each precision (bf16 is fast only on CPUs with
AMX), the cosine between the two precisions' vectors, and the one-off import and load times.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--precisions", default="fp32,bf16")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2] / "codeassist"
    words = " ".join(p.read_text() for p in sorted(root.rglob("*.py"))).split()
    t0 = time.perf_counter()
    from codeassist.embeddings.sentence_transformers import SentenceTransformerEmbedder

    import numpy as np

    precisions = args.precisions.split(",")
    embedders = {p: SentenceTransformerEmbedder(max_tokens=256, precision=p) for p in precisions}
    _ = embedders[precisions[0]].dimensions  # import sentence-transformers and load the model
    print(f"import + load: {time.perf_counter() - t0:.1f} s")
    print("| max tokens | " + " | ".join(f"{p} texts/s" for p in precisions) + " | min cosine |")
    print("|---|" + "---|" * (len(precisions) + 1))
    for tokens in (32, 48, 64, 128, 256):
        texts = [" ".join(words[i * 7 : i * 7 + tokens]) for i in range(args.texts)]
        rates, vectors = [], []
        for embedder in embedders.values():
            embedder._load().max_seq_length = tokens  # noqa: SLF001 - benchmark knob
            embedder.embed_documents(texts[:64])  # warm up
            start = time.perf_counter()
            vectors.append(embedder.embed_documents(texts))
            rates.append(f"{args.texts / (time.perf_counter() - start):.0f}")
        agree = float(np.min(np.sum(vectors[0] * vectors[-1], axis=1)))
        print(f"| {tokens} | " + " | ".join(rates) + f" | {agree:.5f} |")


if __name__ == "__main__":
    main()
