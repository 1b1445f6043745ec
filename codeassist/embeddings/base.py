"""The embedder interface: one small protocol every backend implements.

Vectors are float32 and L2-normalised, so a dot product is the cosine similarity. Documents
and queries are embedded separately, for models that want different prompts for each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

from ..config import PRECISIONS
from ..errors import CodeassistError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["Embedder", "EmbeddingError", "normalise", "QUERY_MAX_TOKENS", "query_tokens", "PRECISIONS"]

#: queries are embedded up to this many tokens even when documents are cut shorter: a question
#: or pasted doc text is often longer than a symbol's few embedded tokens, and one query costs
#: little (measured by `codeassist eval`: +0.005-0.015 dense Recall@10 over cutting at 48)
QUERY_MAX_TOKENS = 128


def query_tokens(document_tokens: int, model_limit: int) -> int:
    """How many tokens of a query are embedded: up to QUERY_MAX_TOKENS, never fewer than a
    document gets, never more than the model takes."""
    return max(document_tokens, min(QUERY_MAX_TOKENS, model_limit))


class EmbeddingError(CodeassistError):
    """An embedding backend failed or is misconfigured."""

    exit_code = 5


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit vectors."""

    #: stable identity of the model and of everything that changes its output (cache key part)
    model_id: str

    @property
    def dimensions(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, dimensions) float32 array of unit vectors."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """A (dimensions,) float32 unit vector."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    import numpy as np

    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
