"""Vector stores: where embeddings live and are searched. See :mod:`.base`."""

from .base import VectorStore, VectorStoreError, VectorStoreMismatchError

__all__ = ["VectorStore", "VectorStoreError", "VectorStoreMismatchError"]
