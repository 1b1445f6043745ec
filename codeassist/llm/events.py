"""What a streamed answer is made of: small frozen events, and the usage/cost summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .presets import Prices

__all__ = ["Reasoning", "Content", "Notice", "Finished", "Usage", "StreamEvent", "ToolCall"]


@dataclass(frozen=True)
class Reasoning:
    """A piece of the model's reasoning (``reasoning_content``), shown apart from the answer."""

    text: str


@dataclass(frozen=True)
class Content:
    """A piece of the answer."""

    text: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know while waiting: a retry, a shrunk context."""

    message: str
    kind: str = "info"   # info | retry | shrink | truncated | warning


@dataclass(frozen=True)
class Usage:
    """Tokens of one request as the server reported them. Some servers report none in a stream
    (llama-cpp-python): then ``reported`` is False and ``sent_tokens`` holds our own count
    (cl100k) of the prompt, so nothing claims the server counted zero."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None
    reported: bool = True
    #: our count of the prompt sent (cl100k), set when the server reported no usage
    sent_tokens: int = 0

    @classmethod
    def from_api(cls, usage: object, prices: Prices | None) -> Usage:
        """From an OpenAI-style usage object: DeepSeek's ``prompt_cache_hit_tokens`` /
        ``prompt_cache_miss_tokens`` or OpenAI's ``prompt_tokens_details.cached_tokens``."""
        get = (lambda k, d=None: usage.get(k, d)) if isinstance(usage, dict) else (
            lambda k, d=None: getattr(usage, k, None) if getattr(usage, k, None) is not None else
            (getattr(usage, "model_extra", None) or {}).get(k, d))
        prompt = int(get("prompt_tokens", 0) or 0)
        completion = int(get("completion_tokens", 0) or 0)
        hit = get("prompt_cache_hit_tokens")
        miss = get("prompt_cache_miss_tokens")
        if hit is None:
            details = get("prompt_tokens_details")
            cached = (details.get("cached_tokens") if isinstance(details, dict)
                      else getattr(details, "cached_tokens", None)) if details is not None else None
            hit = int(cached or 0)
            miss = prompt - hit
        hit, miss = int(hit or 0), int(miss if miss is not None else prompt - int(hit or 0))
        details = get("completion_tokens_details")
        reasoning = (details.get("reasoning_tokens") if isinstance(details, dict)
                     else getattr(details, "reasoning_tokens", None)) if details is not None else None
        cost = None
        if prices is not None:
            cost = (miss * prices.input + hit * prices.cached_input + completion * prices.output) / 1e6
        return cls(prompt, completion, hit, miss, int(reasoning or 0), cost)

    @classmethod
    def not_reported(cls, sent_tokens: int = 0) -> Usage:
        return cls(reported=False, sent_tokens=sent_tokens)

    def __add__(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None and other.cost_usd is None else (
            (self.cost_usd or 0.0) + (other.cost_usd or 0.0))
        return Usage(self.prompt_tokens + other.prompt_tokens,
                     self.completion_tokens + other.completion_tokens,
                     self.cache_hit_tokens + other.cache_hit_tokens,
                     self.cache_miss_tokens + other.cache_miss_tokens,
                     self.reasoning_tokens + other.reasoning_tokens, cost,
                     self.reported and other.reported, self.sent_tokens + other.sent_tokens)

    @property
    def cache_hit_share(self) -> float:
        total = self.cache_hit_tokens + self.cache_miss_tokens
        return self.cache_hit_tokens / total if total else 0.0

    def summary(self) -> str:
        if not self.reported:
            sent = f"; about {self.sent_tokens:,} prompt tokens were sent (our count)" if self.sent_tokens else ""
            return f"token usage not reported by the server{sent}"
        line = (f"{self.prompt_tokens:,} prompt tokens ({self.cache_hit_tokens:,} cached, "
                f"{self.cache_miss_tokens:,} not), {self.completion_tokens:,} answer tokens")
        if self.reasoning_tokens:
            line += f" ({self.reasoning_tokens:,} reasoning)"
        if self.cost_usd is not None:
            line += f", ${self.cost_usd:.4f}"
        return line

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ToolCall:
    """A function the model asked to call: ``arguments`` is the JSON text as the model wrote it
    (it may be malformed)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Finished:
    """The end of a complete response: an answer, or (``tool_calls``) a request to call tools."""

    finish_reason: str
    usage: Usage
    model: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


StreamEvent = Reasoning | Content | Notice | Finished
