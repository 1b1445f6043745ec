"""Embedders: text → unit vectors. See :mod:`.base` for the interface."""

from .base import Embedder, EmbeddingError
from .cache import EmbeddingCache, CachedEmbedder

__all__ = ["Embedder", "EmbeddingError", "EmbeddingCache", "CachedEmbedder"]
