"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the test suite (stdlib only).

It answers ``POST /v1/embeddings`` with deterministic vectors (a bag of hashed words, so similar
texts get similar vectors), records every request, and can be told to fail the next N requests
with a given status. Later issues extend it with ``/v1/chat/completions``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIMS = 64


def bag_of_words_vector(text: str, dims: int = DIMS) -> list[float]:
    vec = [0.0] * dims
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
        vec[h % dims] += 1.0 if (h >> 16) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


@dataclass
class ServerState:
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: (status, body) answers to give before behaving normally again
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    state: ServerState

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        with self.state.lock:
            self.state.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": payload})
            failure = self.state.failures.pop(0) if self.state.failures else None
        if failure is not None:
            self._send(*failure)
            return
        if self.path.rstrip("/").endswith("/embeddings"):
            inputs = payload.get("input")
            texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
            data = [
                {"object": "embedding", "index": i, "embedding": bag_of_words_vector(t)}
                for i, t in enumerate(texts)
            ]
            self._send(200, {"object": "list", "data": data, "model": payload.get("model"),
                             "usage": {"prompt_tokens": sum(len(t.split()) for t in texts),
                                       "total_tokens": sum(len(t.split()) for t in texts)}})
            return
        self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})


class LocalOpenAIServer:
    """Context manager running the server on a free loopback port."""

    def __init__(self) -> None:
        self.state = ServerState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> LocalOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
