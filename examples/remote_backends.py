"""Remote parts: embeddings from an OpenAI-compatible /v1/embeddings server, vectors in a
`chroma run` server, answers from a vLLM (or any OpenAI-compatible) server.

    chroma run --path /tmp/chroma --host 127.0.0.1 --port 8001 &
    python examples/remote_backends.py PATH \\
        --embed-url http://gpu-box:8000/v1 --embed-model BAAI/bge-small-en-v1.5 \\
        --chroma 127.0.0.1:8001 --llm-url http://gpu-box:8002/v1 "where is the retry policy?"

The same settings can live in ~/.config/codeassist/config.toml ([index] and [llm] tables) or in
CODEASSIST_* environment variables; see `codeassist config`.
"""

from __future__ import annotations

import argparse

import codeassist


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("question")
    parser.add_argument("--embed-url", required=True)
    parser.add_argument("--embed-model", required=True)
    parser.add_argument("--chroma", default="", help="host:port of a `chroma run` server")
    parser.add_argument("--llm-url", required=True)
    parser.add_argument("--llm-model", default="", help="default: the server's first model")
    args = parser.parse_args()

    project = codeassist.open(
        args.path,
        embedder="openai", embed_base_url=args.embed_url, embed_model=args.embed_model,
        chroma_url=args.chroma,
        backend="vllm", base_url=args.llm_url, model=args.llm_model,
    )
    stats = project.index()
    print(f"indexed {stats.files} files; {stats.embedded} symbols have vectors")
    for hit in project.search(args.question, k=3):
        print(f"  {hit.path}:{hit.start_line}-{hit.end_line} {hit.symbol or ''} {hit.sources}")
    answer = project.ask(args.question)
    print(answer.text)
    print(f"[{answer.usage.summary()}]")


if __name__ == "__main__":
    main()
