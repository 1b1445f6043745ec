"""Hybrid search over the index: lexical, symbol, path, dense and graph sources fused by
reciprocal rank (:mod:`.engine`), and the dense wiring kept between calls (:mod:`.dense`)."""

from .dense import DenseSearcher
from .engine import (
    CONTEXT_RRF_K,
    CONTEXT_SOURCES,
    RRF_K,
    SOURCES,
    DenseSearch,
    RankedChunk,
    ranked_chunks,
    ranked_for_context,
    search,
)

__all__ = ["search", "ranked_chunks", "ranked_for_context", "RankedChunk", "DenseSearch", "DenseSearcher", "SOURCES",
           "CONTEXT_SOURCES", "RRF_K", "CONTEXT_RRF_K"]
