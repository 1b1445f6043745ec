"""ChatBackend: one OpenAI-compatible chat endpoint, streamed, with the failures real servers have.

* 429/503/502/504 and connection errors are retried with exponential backoff that honours
  ``Retry-After`` (the openai client's own retries are off so every wait is reported);
* one overall deadline covers connecting, retries and streaming: a connection held open with
  keep-alive comments only ends cleanly with :class:`BackendUnavailableError`;
* a stream that ends without a finish reason, or carries an error event inside a 200 response
  (OpenRouter), raises :class:`IncompleteAnswerError` with the partial answer;
* context-overflow errors in each server's form (DeepSeek/OpenAI/vLLM "maximum context length",
  llama.cpp ``exceed_context_size_error``, LM Studio's error bodies) raise
  :class:`ContextOverflowError`; the caller shrinks the context and tries again.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from typing import Any, Iterator, Sequence

from ..errors import (
    BackendError,
    BackendUnavailableError,
    ContextOverflowError,
    IncompleteAnswerError,
    RateLimitedError,
)
from .events import Content, Finished, Notice, Reasoning, StreamEvent, ToolCall, Usage
from .presets import BackendConfig

__all__ = ["ChatBackend", "ToolsUnsupportedError", "is_overflow_message", "window_in_message"]

_RETRY_STATUSES = {429, 502, 503, 504, 529}
_OVERFLOW_MARKERS = (
    "maximum context length", "context length", "context_length_exceeded", "exceed_context_size",
    "context window", "too many tokens", "prompt is too long", "input is too long",
    "reduce the length", "tokens exceeds", "exceeds the context",
)
_BACKOFF_CAP = 30.0


class ToolsUnsupportedError(BackendError):
    """The server (or its model) does not take tool definitions; ask without them."""


def is_overflow_message(text: str) -> bool:
    low = text.lower()
    return any(marker in low for marker in _OVERFLOW_MARKERS)


_WINDOW_PATTERNS = (
    re.compile(r"maximum context length is (\d[\d,]*)", re.I),    # OpenAI, DeepSeek, vLLM, llama-cpp-python
    re.compile(r"\bn_ctx\W+(\d+)", re.I),                         # llama.cpp's server
    re.compile(r"context (?:size|window|length) (?:of |is )?(\d[\d,]*)", re.I),
)


def window_in_message(text: str) -> int | None:
    """The model's context window when an overflow message states it."""
    for pattern in _WINDOW_PATTERNS:
        match = pattern.search(text)
        if match:
            value = int(match.group(1).replace(",", ""))
            if 256 <= value <= 100_000_000:
                return value
    return None


def _overflow(name: str, body: str, note: str = "") -> ContextOverflowError:
    return ContextOverflowError(f"{name}: the prompt is too long for the model ({body}{note})", window_in_message(body))


class ChatBackend:
    """Streams chat completions from one backend (see the module docstring)."""

    def __init__(self, config: BackendConfig, *, sleep=time.sleep) -> None:
        self.config = config
        self._sleep = sleep
        self._client: Any = None
        self._window: int | None = config.context_window or None
        self._model: str | None = config.model or None

    # ------------------------------------------------------------------ discovery
    @property
    def client(self) -> Any:
        if self._client is None:
            import httpx
            import openai

            self._client = openai.OpenAI(
                base_url=self.config.base_url, api_key=self.config.api_key or "not-needed",
                max_retries=0, timeout=httpx.Timeout(self.config.timeout, connect=10.0))
        return self._client

    def _reset_client(self) -> None:
        """Drop the client and its connection pool (a new one is made when needed)."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing what may already be broken
                pass

    def _server_models(self) -> list[Any]:
        import openai

        try:
            return list(self.client.models.list(timeout=10.0))
        except openai.APIError:
            return []

    def model(self) -> str:
        """The model to ask: configured, or the server's first model."""
        if self._model is None:
            models = self._server_models()
            if not models:
                raise BackendUnavailableError(
                    f"{self.config.base_url} lists no models and none is configured; pass --model NAME "
                    "(or model under [llm] in the config file)")
            self._model = str(models[0].id)
        return self._model

    def context_window(self) -> int:
        """Tokens the model accepts: configured, from the preset, or from the server's model list
        (vLLM ``max_model_len``, llama.cpp ``n_ctx``, LM Studio ``max_context_length``)."""
        if self._window is None:
            window = 0
            wanted = self.model()
            for entry in self._server_models():
                if str(entry.id) != wanted:
                    continue
                extra = {**(getattr(entry, "model_extra", None) or {})}
                meta = extra.get("meta") or {}
                for key in ("max_model_len", "context_length", "context_window", "max_context_length",
                            "n_ctx"):
                    value = extra.get(key) or (meta.get(key) if isinstance(meta, dict) else None)
                    if isinstance(value, int) and value > 0:
                        window = value
                        break
            self._window = window or self._props_window() or 32_768
        return self._window

    def _props_window(self) -> int:
        """llama.cpp's own server states its window at ``/props`` (``n_ctx``); 0 elsewhere."""
        import httpx

        base = self.config.base_url.rstrip("/")
        base = base[: -len("/v1")] if base.endswith("/v1") else base
        try:
            response = httpx.get(f"{base}/props", timeout=3.0,
                                 headers={"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {})
            data = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return 0
        settings = data.get("default_generation_settings") if isinstance(data, dict) else None
        for source in (settings, data):
            value = source.get("n_ctx") if isinstance(source, dict) else None
            if isinstance(value, int) and value > 0:
                return value
        return 0

    def limit_window(self, tokens: int) -> None:
        """The server showed it reads at most ``tokens`` (it truncated silently): use that."""
        self._window = min(self._window or tokens, tokens)

    # ------------------------------------------------------------------ streaming
    def stream(self, messages: Sequence[dict[str, Any]], *, max_tokens: int | None = None,
               deadline: float | None = None, tools: Sequence[dict[str, Any]] | None = None,
               tool_choice: str | None = None) -> Iterator[StreamEvent]:
        """Events of one response: Notice (retries), Reasoning, Content, then Finished (whose
        ``tool_calls`` hold the functions the model asked for, when ``tools`` were offered).
        A server that refuses tools raises :class:`ToolsUnsupportedError`."""
        import openai

        extra: dict[str, Any] = {}
        if tools:
            extra["tools"] = list(tools)
            if tool_choice:
                extra["tool_choice"] = tool_choice

        deadline = deadline or time.monotonic() + self.config.timeout
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BackendUnavailableError(self._deadline_message())
            try:
                response = self.client.chat.completions.create(
                    model=self.model(), messages=list(messages), stream=True,
                    stream_options={"include_usage": True},
                    max_tokens=max_tokens or self.config.answer_tokens,
                    timeout=max(1.0, remaining), **extra)
                break
            except openai.APIStatusError as exc:
                body = _error_text(exc)
                if is_overflow_message(body) and exc.status_code in (400, 413, 422, 500):
                    raise _overflow(self.config.name, body) from None
                if tools and exc.status_code in (400, 404, 422, 500, 501) and _tools_refused(body):
                    raise ToolsUnsupportedError(f"{self.config.name} does not take tools: {body}") from None
                if exc.status_code not in _RETRY_STATUSES:
                    raise BackendError(f"{self.config.name} answered HTTP {exc.status_code}: {body}"
                                       + _hint(exc.status_code)) from None
                wait = _retry_after(exc) or _backoff(attempt)
                why = "rate limited (429)" if exc.status_code == 429 else f"server busy ({exc.status_code})"
                if attempt >= self.config.max_retries or time.monotonic() + wait > deadline:
                    raise RateLimitedError(
                        f"{self.config.name} is {why} and still was after {attempt + 1} tries; try again "
                        "later or raise max_retries / request_timeout") from None
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                wait = _backoff(attempt)
                why = f"cannot reach {self.config.base_url} ({type(exc).__name__})"
                if attempt >= self.config.max_retries or time.monotonic() + wait > deadline:
                    raise BackendUnavailableError(
                        f"{why}; is the server running and the base URL right?") from None
            attempt += 1
            yield Notice(f"{why}; retrying in {wait:.1f} s (try {attempt + 1} of {self.config.max_retries + 1})",
                         "retry")
            self._sleep(wait)
        try:
            yield from self._read(response, deadline)
        except _EmptyStream:
            # some servers (llama-cpp-python) answer a prompt over their window with 200 and an
            # empty stream, the error only in their log: ask once more without streaming, for a
            # single token, to read the real error
            raise self._diagnose_empty(messages, deadline) from None

    def _diagnose_empty(self, messages: Sequence[dict[str, str]], deadline: float) -> BackendError:
        import openai

        empty = IncompleteAnswerError(f"{self.config.name} sent an empty answer (no content, no finish reason); "
                                      "check the server's log or try again")
        self._reset_client()  # the server may have left the pooled connection broken
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            return empty
        try:
            self.client.chat.completions.create(model=self.model(), messages=list(messages), stream=False,
                                                max_tokens=1, timeout=max(1.0, min(remaining, 120.0)))
        except openai.APIStatusError as exc:
            body = _error_text(exc)
            if is_overflow_message(body):
                return _overflow(self.config.name, body, "; it answered the stream with nothing")
            return IncompleteAnswerError(f"{self.config.name} sent an empty answer; asked again it said HTTP "
                                         f"{exc.status_code}: {body}")
        except openai.APIError:
            return empty
        return empty

    def _read(self, response: Any, deadline: float) -> Iterator[StreamEvent]:
        """Read the stream on a helper thread so the deadline holds even while the server sends
        nothing but keep-alive comments (which the openai client swallows)."""
        import openai

        events: queue.Queue[tuple[str, Any]] = queue.Queue()

        def pump() -> None:
            try:
                for chunk in response:
                    events.put(("chunk", chunk))
                events.put(("end", None))
            except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                events.put(("error", exc))

        threading.Thread(target=pump, name="codeassist-stream", daemon=True).start()
        answer: list[str] = []
        finish: str | None = None
        usage = Usage.not_reported()
        model = ""
        calls: dict[int, dict[str, str]] = {}  # tool calls by index, their arguments in pieces
        try:
            while True:
                try:
                    kind, item = events.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    raise (IncompleteAnswerError(self._deadline_message() + "; the answer is incomplete",
                                                 "".join(answer)) if answer
                           else BackendUnavailableError(self._deadline_message())) from None
                if kind == "end":
                    break
                if kind == "error":
                    exc = item
                    text = _error_text(exc) if isinstance(exc, openai.APIError) else str(exc)
                    if is_overflow_message(text):
                        raise _overflow(self.config.name, text)
                    raise IncompleteAnswerError(
                        f"{self.config.name} broke off the answer: {text}", "".join(answer)) from None
                chunk = item
                model = getattr(chunk, "model", "") or model
                if getattr(chunk, "usage", None):
                    usage = Usage.from_api(chunk.usage, self.config.prices)
                for choice in getattr(chunk, "choices", None) or []:
                    delta = choice.delta
                    extra = getattr(delta, "model_extra", None) or {}
                    reasoning = extra.get("reasoning_content") or extra.get("reasoning")
                    if reasoning:
                        yield Reasoning(str(reasoning))
                    if delta.content:
                        answer.append(delta.content)
                        yield Content(delta.content)
                    for piece in getattr(delta, "tool_calls", None) or []:
                        call = calls.setdefault(_call_index(piece, calls), {"id": "", "name": "", "arguments": ""})
                        call["id"] = call["id"] or (piece.id or "")
                        function = getattr(piece, "function", None)
                        if function is not None:
                            call["name"] = call["name"] or (function.name or "")
                            call["arguments"] += function.arguments or ""
                    if choice.finish_reason:
                        finish = choice.finish_reason
        finally:
            try:
                response.close()
            except Exception:  # noqa: BLE001 - closing a broken stream
                pass
        tool_calls = tuple(ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"])
                           for i, c in sorted(calls.items()) if c["name"])
        if finish is None and tool_calls:
            raise IncompleteAnswerError(f"{self.config.name} broke off while asking for a tool (no finish "
                                        "reason)", "".join(answer))
        if finish is None:
            if not answer:
                raise _EmptyStream()
            raise IncompleteAnswerError(
                f"{self.config.name} ended the stream without finishing the answer (no finish "
                "reason); the answer below is incomplete", "".join(answer))
        yield Finished(finish, usage, model, tool_calls)

    def _deadline_message(self) -> str:
        return (f"no complete answer from {self.config.name} within {self.config.timeout:.0f} s "
                "(request_timeout); the server may be overloaded")


def _call_index(piece: Any, calls: dict[int, dict[str, str]]) -> int:
    """Which tool call a streamed piece belongs to: its index, else by id, else the last one."""
    index = getattr(piece, "index", None)
    if index is not None:
        return int(index)
    ident = getattr(piece, "id", None)
    for known, call in calls.items():
        if ident and call["id"] == ident:
            return known
    return len(calls) if ident or not calls else max(calls)


_TOOLS_REFUSED = ("tool", "function call", "function_call", "functions are not supported")


def _tools_refused(body: str) -> bool:
    """A 4xx/5xx body that says the server or model does not take tools."""
    low = body.lower()
    return any(word in low for word in _TOOLS_REFUSED) and any(
        neg in low for neg in ("not support", "unsupported", "does not", "doesn't", "not allowed", "not enabled",
                               "unknown", "unrecognized", "invalid", "extra"))


class _EmptyStream(Exception):
    """A 200 stream with no content and no finish reason (diagnosed by the caller)."""


def _error_text(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            parts: list[str] = []
            for k in ("type", "code", "message"):
                if err.get(k) and str(err.get(k)) not in parts:
                    parts.append(str(err.get(k)))
            if parts:
                return ": ".join(parts)
        elif err:
            return str(err)
    return str(getattr(exc, "message", "") or exc)


def _retry_after(exc: Any) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for key in ("retry-after-ms", "retry-after"):
        value = headers.get(key)
        if value is None:
            continue
        try:
            seconds = float(value) / (1000.0 if key.endswith("ms") else 1.0)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                continue
        return max(0.0, min(seconds, 120.0))
    return None


def _backoff(attempt: int) -> float:
    return min(_BACKOFF_CAP, 0.5 * 2 ** attempt) * (0.8 + 0.4 * random.random())


def _hint(status: int) -> str:
    if status in (401, 403):
        return "; check the API key (codeassist config shows which variable it is read from)"
    if status == 404:
        return "; check the base URL and the model name"
    return ""
