"""Dense retrieval wiring: the query embedder and the vectors of one index, opened on first
use and kept while the index's vectors stay the same."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..index.reader import IndexReader
from .engine import DenseSearch

if TYPE_CHECKING:  # pragma: no cover
    from ..embeddings.base import Embedder
    from ..vectors.base import VectorStore

__all__ = ["DenseSearcher", "partial_weight", "FULL_WEIGHT_COVERAGE"]

#: while the embedding stage has covered part of the symbols, dense search weighs in proportion
#: to the share covered, fully from this share on: the covered symbols would otherwise crowd out
#: the right answer where it has no vector yet (sympy, 15% covered: hybrid Recall@10 0.660 at
#: full weight, 0.720 scaled, 0.675 with no dense search; docs/benchmarks.md)
FULL_WEIGHT_COVERAGE = 0.5


def partial_weight(covered: int, units: int) -> float:
    """The dense source's weight factor when ``covered`` of ``units`` symbols have vectors."""
    return 1.0 if units <= 0 else min(1.0, covered / units / FULL_WEIGHT_COVERAGE)


@dataclass(frozen=True)
class _Backends:
    embedder: Embedder
    vectors: VectorStore
    #: the index's mirror key when these were opened: another key means re-indexed since
    key: str | None
    #: searching the vector store itself (no current mirror): it may lack a small re-index's
    #: staged vectors, which are searched too
    staged: bool


class DenseSearcher:
    """Gives a :data:`DenseSearch` function for an index, or None when the index has no
    vectors usable with the current settings. Keeps the opened model and vectors between
    calls (a long-lived project, e.g. the terminal UI or an MCP server, opens them once)."""

    def __init__(self, settings: Settings, index_dir: Path) -> None:
        self._settings = settings
        self._index_dir = index_dir
        self._backends: _Backends | None = None

    @property
    def source(self) -> str | None:
        """``mirror``, ``vector-store``, or None when nothing usable is open."""
        if self._backends is None:
            return None
        return "vector-store" if self._backends.staged or self._settings.chroma_url else "mirror"

    def function(self, index: IndexReader) -> DenseSearch | None:
        """The dense-retrieval function for queries on ``index`` (the reader it searches)."""
        backends = self._current(index)
        if backends is None:
            return None
        stage = index.semantic_progress()
        weight = 1.0 if stage is None else partial_weight(stage.embedded, stage.units)

        def dense(query: str, depth: int) -> tuple[list[int], float]:
            vector = backends.embedder.embed_query(query)
            if backends.staged:
                from ..index.embed_stage import nearest_with_staged

                found = nearest_with_staged(index, backends.vectors, vector, depth)
            else:
                found = backends.vectors.query(vector, depth)
            if not found:
                return [], weight
            symbol_of = index.symbols_of_vectors(v for v, _ in found)
            return [symbol_of[v] for v, _ in found if v in symbol_of], weight

        return dense

    def _current(self, index: IndexReader) -> _Backends | None:
        from ..vectors.mirror import META_KEY, VectorMirror

        settings = self._settings
        stored = index.vector_spec()
        if not settings.embed or stored is None or not index.has_vectors():
            return None
        key = index.meta(META_KEY)
        mirror_path = self._index_dir / "mirror"
        held = self._backends
        if held is not None and held.key != key:  # re-indexed since (or the embedding stage went on)
            mirror = None if settings.chroma_url else VectorMirror.open(mirror_path, key)
            same_model = held.embedder.model_id == stored.model_id
            if mirror is not None and same_model:
                held = _Backends(held.embedder, mirror, key, staged=False)
            elif not (same_model and not held.staged and not settings.chroma_url and key is not None):
                held = None
            # else: the next version of the mirror is being written: the last one answers meanwhile
        elif held is not None and held.staged:
            mirror = VectorMirror.open(mirror_path, key)  # is the mirror back?
            if mirror is not None:
                held = _Backends(held.embedder, mirror, key, staged=False)
        if held is None:
            held = self._open(index, stored.model_id, key)
        self._backends = held
        return held

    def _open(self, index: IndexReader, model_id: str, key: str | None) -> _Backends | None:
        from ..errors import CodeassistError
        from ..factory import make_query_embedder, make_vector_store
        from ..index.embed_stage import stored_collection_spec
        from ..vectors.mirror import VectorMirror

        settings = self._settings
        embedder = make_query_embedder(settings)
        if model_id != embedder.model_id:
            return None  # the vectors come from other settings: re-index to use them
        # the numpy mirror answers without importing chromadb (0.8 s) when it is current
        if not settings.chroma_url:
            mirror = VectorMirror.open(self._index_dir / "mirror", key)
            if mirror is not None:
                return _Backends(embedder, mirror, key, staged=False)
        spec = stored_collection_spec(index, self._index_dir, settings)
        if spec is None:
            return None
        try:
            vectors = make_vector_store(settings, self._index_dir, spec)
        except CodeassistError:
            return None  # vector store unavailable: words, symbols and paths still answer
        return _Backends(embedder, vectors, key, staged=not settings.chroma_url)
