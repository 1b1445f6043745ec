"""A content-addressed embedding cache: the same text under the same model is embedded once.

Keys are a hash of (model id, text), so unchanged chunks, renamed files, branch switches and a
second checkout of the same repository cost nothing. One SQLite file per model under the data
directory, shared by every repository.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .base import Embedder

__all__ = ["EmbeddingCache", "CachedEmbedder", "text_key"]


def text_key(model_id: str, text: str) -> str:
    """The cache key of ``text`` embedded by ``model_id``."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(model_id.encode("utf-8"))
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class EmbeddingCache:
    """hash(model, text) → vector, in ``<folder>/<model>.sqlite``."""

    def __init__(self, folder: Path, model_id: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[:80]
        tag = hashlib.sha256(model_id.encode()).hexdigest()[:8]
        self.path = folder / f"{safe}-{tag}.sqlite"
        self.model_id = model_id
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors(key TEXT PRIMARY KEY, dims INTEGER NOT NULL, vec BLOB NOT NULL)"
        )

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        import numpy as np

        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            marks = ",".join("?" * len(part))
            for key, dims, blob in self._conn.execute(
                f"SELECT key, dims, vec FROM vectors WHERE key IN ({marks})", part
            ):
                vec = np.frombuffer(blob, dtype=np.float32)
                if len(vec) == dims:
                    found[key] = vec
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        import numpy as np

        rows = [(k, int(v.shape[-1]), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.executemany("INSERT OR REPLACE INTO vectors(key, dims, vec) VALUES(?, ?, ?)", rows)
        self._conn.execute("COMMIT")

    def __len__(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    def close(self) -> None:
        self._conn.close()


class CachedEmbedder:
    """Wraps an embedder: documents already embedded under the same model come from the cache."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        if cache.model_id != inner.model_id:
            raise ValueError("the cache belongs to another model")
        self.inner = inner
        self.cache = cache
        self.model_id = inner.model_id
        self.preferred_batch = getattr(inner, "preferred_batch", 0)
        #: texts actually sent to the model (the rest were cache hits)
        self.computed = 0

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        keys = [text_key(self.model_id, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            first_text = {}
            for key, text in zip(keys, texts):
                first_text.setdefault(key, text)
            vectors = self.inner.embed_documents([first_text[k] for k in missing])
            self.computed += len(missing)
            new = list(zip(missing, vectors))
            self.cache.put_many(new)
            found.update(new)
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)
