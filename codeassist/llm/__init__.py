"""Model backends: any OpenAI-compatible chat server behind :class:`ChatBackend`, its presets,
and the events a streamed answer is made of."""

from .backend import ChatBackend
from .events import Content, Finished, Notice, Reasoning, StreamEvent, Usage
from .presets import BackendConfig, resolve_backend

__all__ = ["ChatBackend", "BackendConfig", "resolve_backend", "Content", "Finished", "Notice", "Reasoning",
           "StreamEvent", "Usage"]
