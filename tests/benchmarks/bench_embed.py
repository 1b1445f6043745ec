"""Embedding throughput of the default embedder (packaged all-MiniLM-L6-v2) on this machine.

    python tests/benchmarks/bench_embed.py [--texts 512]

Texts are real code lines from this repository, cut to each token limit; prints texts/second
for several ``embed_max_tokens`` values, plus the one-off import and load times.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=512)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2] / "codeassist"
    words = " ".join(p.read_text() for p in sorted(root.rglob("*.py"))).split()
    t0 = time.perf_counter()
    from codeassist.embeddings.sentence_transformers import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(max_tokens=256)
    _ = embedder.dimensions  # import sentence-transformers and load the model
    print(f"import + load: {time.perf_counter() - t0:.1f} s")
    print("| max tokens | texts/s |")
    print("|---|---|")
    for tokens in (32, 64, 128, 256):
        embedder._load().max_seq_length = tokens  # noqa: SLF001 - benchmark knob
        texts = [" ".join(words[i * 7 : i * 7 + tokens]) for i in range(args.texts)]
        embedder.embed_documents(texts[:64])  # warm up
        start = time.perf_counter()
        embedder.embed_documents(texts)
        print(f"| {tokens} | {args.texts / (time.perf_counter() - start):.0f} |")


if __name__ == "__main__":
    main()
