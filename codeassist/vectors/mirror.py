"""A read-only numpy mirror of an index's vectors, for fast queries from a short-lived process.

Importing chromadb takes ~0.8 s, more than a whole lexical search. After each embedding stage the
index's vectors are also written as one float32 matrix (``vectors.npy``) plus their ids; a query
then costs a memory-mapped load and one matrix product (exact, not approximate, search).

The mirror is trusted only while the index's meta ``vector_mirror`` equals the key written
beside it; the embedding stage clears that meta before changing any vector and sets it again
after writing a new mirror, so a crash in between leaves queries on the vector store itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["VectorMirror", "mirror_key", "write_mirror", "META_KEY"]

META_KEY = "vector_mirror"
_MATRIX = "vectors.npy"
_IDS = "vectors.ids"
_KEY = "vectors.key"


def mirror_key(spec_key: str, ids: Sequence[str]) -> str:
    digest = hashlib.blake2b(spec_key.encode(), digest_size=16)
    for vector_id in ids:
        digest.update(vector_id.encode() + b"\n")
    return digest.hexdigest()


def write_mirror(folder: Path, ids: Sequence[str], matrix: np.ndarray, key: str) -> None:
    """Write the mirror atomically enough: the key file goes last."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    (folder / _KEY).unlink(missing_ok=True)
    tmp = folder / f"{_MATRIX}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(matrix, dtype=np.float32))
    os.replace(tmp, folder / _MATRIX)
    # replaced, not rewritten in place: a search opening the mirror meanwhile (it is rewritten
    # during a long embedding stage) reads a whole file, old or new, and checks the row count
    tmp_ids = folder / f"{_IDS}.{os.getpid()}.tmp"
    tmp_ids.write_text("\n".join(ids), encoding="utf-8")
    os.replace(tmp_ids, folder / _IDS)
    (folder / _KEY).write_text(key, encoding="utf-8")


class VectorMirror:
    """Nearest-neighbour queries over the mirror (cosine similarity on unit vectors)."""

    def __init__(self, ids: list[str], matrix: np.ndarray, key: str = "") -> None:
        self._ids = ids
        self._matrix = matrix
        #: the index generation of vectors this mirror holds
        self.key = key

    @classmethod
    def open(cls, folder: Path, expected_key: str | None) -> VectorMirror | None:
        """The mirror in ``folder`` if it is the current one, else None."""
        if not expected_key or cls.key_on_disk(folder) != expected_key:
            return None  # decided before numpy is imported
        import numpy as np

        try:
            matrix = np.load(folder / _MATRIX, mmap_mode="r")
            ids = (folder / _IDS).read_text(encoding="utf-8").split("\n")
        except (OSError, ValueError):
            return None
        if matrix.ndim != 2 or matrix.shape[0] != len(ids) or not ids:
            return None
        return cls(ids, matrix, expected_key)

    @staticmethod
    def key_on_disk(folder: Path) -> str | None:
        """The key of the mirror in ``folder`` (None if there is none), without loading it."""
        try:
            return (folder / _KEY).read_text(encoding="utf-8")
        except OSError:
            return None

    def rows(self) -> dict[str, int]:
        """Row of each id in the matrix."""
        return {vector_id: i for i, vector_id in enumerate(self._ids)}

    def row(self, i: int) -> np.ndarray:
        return self._matrix[i]

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        import numpy as np

        scores = np.asarray(self._matrix @ np.asarray(vector, dtype=np.float32).reshape(-1))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(self._ids[i], float(scores[i])) for i in top]
