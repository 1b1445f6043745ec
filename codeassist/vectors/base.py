"""The vector store interface.

A store holds one collection per repository. The collection records what produced its vectors
(embedding model, dimensions, chunker version); opening it with anything else is a
:class:`VectorStoreMismatchError` unless the caller asks for a reset, so vectors from two models
are never mixed silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Sequence

from ..errors import CodeassistError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["VectorStore", "VectorStoreError", "VectorStoreMismatchError", "CollectionSpec"]


class VectorStoreError(CodeassistError):
    """The vector store cannot be reached or used."""

    exit_code = 6


class VectorStoreMismatchError(VectorStoreError):
    """The collection was built by another model, dimension count or chunker."""


@dataclass(frozen=True)
class CollectionSpec:
    """What a collection's vectors were made with."""

    name: str
    model_id: str
    dimensions: int
    chunker_version: str

    def metadata(self) -> dict[str, str | int]:
        return {
            "codeassist_model": self.model_id,
            "codeassist_dimensions": self.dimensions,
            "codeassist_chunker": self.chunker_version,
            "hnsw:space": "cosine",
        }


class VectorStore(Protocol):
    """Stores unit vectors under string ids; finds the nearest ones."""

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict] | None = None) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest ids with their cosine similarity, best first."""
        ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``ids``, in that order (an id not stored is an error)."""
        ...
