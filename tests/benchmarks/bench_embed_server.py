"""Throughput of embeddings from an OpenAI-compatible ``/v1/embeddings`` server, by requests in
flight (the ``embed_concurrency`` setting: 1, 4, 16).

    python tests/benchmarks/bench_embed_server.py [--texts 2048] [--batch 32] [--latency-ms 50]
    python tests/benchmarks/bench_embed_server.py --url http://gpu-box:8000/v1 --model BAAI/bge-small-en-v1.5

Without ``--url`` it starts two local servers on 127.0.0.1 and measures codeassist's client
(``OpenAIEmbedder``) against each:

* ``model``: the packaged all-MiniLM-L6-v2 behind a threaded HTTP server on this machine's CPU
  (requests in flight compete for the same cores: what one machine gains);
* ``remote-like``: the test server's deterministic vectors after ``--latency-ms`` per request
  (a GPU box across a network is latency-bound: what requests in flight hide).

With ``--url`` it measures that server instead (vLLM, TEI, llama.cpp, Ollama). Texts are code
lines of this repository, about 48 tokens each (the default ``embed_max_tokens``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _texts(n: int) -> list[str]:
    root = Path(__file__).resolve().parents[2] / "codeassist"
    words = " ".join(p.read_text() for p in sorted(root.rglob("*.py"))).split()
    return [" ".join(words[i * 36: i * 36 + 36]) for i in range(n)]


class _ModelServer:
    """``POST /v1/embeddings`` answered by the packaged sentence-transformers model."""

    def __init__(self) -> None:
        from codeassist.embeddings.sentence_transformers import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(max_tokens=64)
        embedder.embed_documents(["warm up"])

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                vectors = embedder.embed_documents(inputs)
                data = json.dumps({"object": "list", "model": body.get("model"), "data": [
                    {"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def measure(base_url: str, model: str, texts: list[str], batch: int, concurrency: int) -> float:
    from codeassist.embeddings.openai_compat import OpenAIEmbedder

    embedder = OpenAIEmbedder(model, base_url=base_url, batch_size=batch, concurrency=concurrency)
    embedder.embed_documents(texts[:batch])  # connection and warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), embedder.preferred_batch):  # as the embedding stage hands them over
        embedder.embed_documents(texts[i: i + embedder.preferred_batch])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--url", default="")
    parser.add_argument("--model", default="embed")
    parser.add_argument("--concurrency", default="1,4,16")
    args = parser.parse_args()
    texts = _texts(args.texts)
    levels = [int(c) for c in args.concurrency.split(",")]
    servers: list[tuple[str, str, object]] = []
    if args.url:
        servers.append((args.url, args.url, None))
    else:
        from tests.openai_server import LocalOpenAIServer

        model_server = _ModelServer()
        servers.append(("model (MiniLM on this CPU)", model_server.base_url, model_server))
        remote = LocalOpenAIServer()
        remote.__enter__()
        servers.append((f"remote-like ({args.latency_ms:.0f} ms a request)", remote.base_url, remote))
        # a latency on every request: the test server sleeps before each answer
        remote.state.failures = _Endless((-1, {"sleep": args.latency_ms / 1000}))
    print(f"{len(texts)} texts of ~48 tokens, {args.batch} per request; texts/second\n")
    print("| server | " + " | ".join(f"{c} in flight" for c in levels) + " |")
    print("|---|" + "---|" * len(levels))
    for name, url, server in servers:
        rates = [measure(url, args.model, texts, args.batch, c) for c in levels]
        print(f"| {name} | " + " | ".join(f"{r:,.0f}" for r in rates) + " |")
        if isinstance(server, _ModelServer):
            server.close()
        elif server is not None:
            server.__exit__(None, None, None)


class _Endless(list):
    """A failure list that never runs out (the same scripted answer for every request)."""

    def __init__(self, item: tuple) -> None:
        super().__init__([item])
        self._item = item

    def pop(self, index: int = -1) -> tuple:
        return self._item


if __name__ == "__main__":
    main()
