"""ChromaDB as the vector store: embedded ``PersistentClient`` (default) or a ``chroma run`` server.

Vectors are always passed explicitly (``embedding_function=None``): Chroma's own default
function would download a model. ``PersistentClient`` is not safe for two writer processes on
one path; callers hold the index's writer lock while writing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .base import CollectionSpec, VectorStoreError, VectorStoreMismatchError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["ChromaVectorStore"]

_BATCH = 4096


class ChromaVectorStore:
    """One Chroma collection, checked against the spec it was created with."""

    def __init__(self, client: Any, spec: CollectionSpec, *, reset_on_mismatch: bool = False) -> None:
        self.client = client
        self.spec = spec
        try:
            collection = client.get_or_create_collection(
                spec.name, metadata=spec.metadata(), embedding_function=None
            )
        except Exception as exc:  # noqa: BLE001 - chroma raises many types
            raise VectorStoreError(f"cannot open the vector collection {spec.name!r}: {exc}") from None
        found = collection.metadata or {}
        expected = spec.metadata()
        differs = {k for k in ("codeassist_model", "codeassist_dimensions", "codeassist_chunker")
                   if found.get(k) != expected[k]}
        if differs:
            if not reset_on_mismatch:
                raise VectorStoreMismatchError(
                    f"the vector collection {spec.name!r} was built with "
                    f"{found.get('codeassist_model')} ({found.get('codeassist_dimensions')} dims, chunker "
                    f"{found.get('codeassist_chunker')}), not {spec.model_id} ({spec.dimensions} dims, "
                    f"chunker {spec.chunker_version}); re-index with --rebuild-vectors to re-embed"
                )
            client.delete_collection(spec.name)
            collection = client.create_collection(spec.name, metadata=expected, embedding_function=None)
        self.collection = collection

    # ------------------------------------------------------------------ constructors
    @classmethod
    def embedded(cls, path: Path, spec: CollectionSpec, **kwargs: Any) -> ChromaVectorStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        return cls(client, spec, **kwargs)

    @classmethod
    def server(cls, host: str, port: int, spec: CollectionSpec, **kwargs: Any) -> ChromaVectorStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        try:
            client = chromadb.HttpClient(
                host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False)
            )
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001
            raise VectorStoreError(
                f"cannot reach the Chroma server at {host}:{port} ({exc}); start it with "
                f"`chroma run --path DIR --host {host} --port {port}` or unset chroma_url"
            ) from None
        return cls(client, spec, **kwargs)

    # ------------------------------------------------------------------ operations
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict] | None = None) -> None:
        for start in range(0, len(ids), _BATCH):
            end = start + _BATCH
            self.collection.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end].tolist(),
                metadatas=list(metadatas[start:end]) if metadatas else None,
            )

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self.collection.delete(ids=list(ids[start : start + _BATCH]))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        total = self.collection.count()
        if total == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(k, total), include=["distances"]
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances)]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=10_000, offset=offset)["ids"]
            out.update(page)
            if len(page) < 10_000:
                return out
            offset += len(page)

    def count(self) -> int:
        return int(self.collection.count())

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        import numpy as np

        found: dict[str, Any] = {}
        for start in range(0, len(ids), 5_000):
            part = list(ids[start : start + 5_000])
            try:
                got = self.collection.get(ids=part, include=["embeddings"])
            except Exception as exc:  # noqa: BLE001 - chromadb raises several kinds
                raise VectorStoreError(f"cannot read vectors from {self.collection.name!r}: {exc}") from None
            found.update(zip(got["ids"], got["embeddings"]))
        missing = [i for i in ids if i not in found]
        if missing:
            raise VectorStoreError(f"{len(missing)} vector(s) missing from {self.collection.name!r}")
        return np.asarray([found[i] for i in ids], dtype=np.float32).reshape(len(ids), -1)
