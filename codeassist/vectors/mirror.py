"""A read-only numpy mirror of an index's vectors, for fast queries from a short-lived process.

Importing chromadb takes ~0.8 s, more than a whole lexical search. After each embedding stage the
index's vectors are also written as one float32 matrix (``vectors.npy``) plus their ids; a query
then costs a memory-mapped load and one matrix product (exact, not approximate, search).

The mirror is trusted only while the index's meta ``vector_mirror`` equals the key written
beside it; the embedding stage clears that meta before changing any vector and sets it again
after writing a new mirror, so a crash in between leaves queries on the vector store itself.

A big mirror (``QUANTIZE_MIN_ROWS``, a monorepo's) also gets an int8 copy, a quarter of the
size: a query scans that, block by block, and re-scores its best candidates exactly from the
float32 rows, so it reads ~0.4 GB instead of 1.5 GB at a million vectors, plus a few hundred
float32 rows (recall against exact search in docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["VectorMirror", "mirror_key", "write_mirror", "quantize", "META_KEY", "QUANTIZE_MIN_ROWS"]

META_KEY = "vector_mirror"
_MATRIX = "vectors.npy"
_IDS = "vectors.ids"
_KEY = "vectors.key"
_INT8 = "vectors.i8.npy"
_SCALE = "vectors.scale.npy"
_INT8_KEY = "vectors.i8.key"

#: rows from which the mirror gets an int8 copy that queries scan: 384 MB of float32 at 384
#: dimensions. A scan of int8 takes ~1.8x the time of float32 when both are in the page cache, and
#: reads a quarter of it from disk when they are not (docs/benchmarks.md)
QUANTIZE_MIN_ROWS = 250_000
#: candidates from the int8 scan re-scored exactly: this many per result asked for, at least
#: ``_RESCORE_MIN``
_RESCORE_PER_RESULT = 10
_RESCORE_MIN = 200
_BLOCK = 8_192  # rows converted to float32 at a time (12 MB of scratch at 384 dimensions: in cache)


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
    (folder / _INT8_KEY).unlink(missing_ok=True)
    if len(ids) >= QUANTIZE_MIN_ROWS:
        codes, scale = quantize(matrix)
        for name, array in ((_INT8, codes), (_SCALE, scale)):
            tmp = folder / f"{name}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                np.save(fh, array)
            os.replace(tmp, folder / name)
        # the int8 copy is used only with the mirror of this key (a version written without
        # one, by an older codeassist, leaves it behind)
        (folder / _INT8_KEY).write_text(key, encoding="utf-8")
    else:
        (folder / _INT8).unlink(missing_ok=True)
        (folder / _SCALE).unlink(missing_ok=True)
    # replaced, not rewritten in place: a search opening the mirror meanwhile (it is rewritten
    # during a long embedding stage) reads a whole file, old or new, and checks the row count
    tmp_ids = folder / f"{_IDS}.{os.getpid()}.tmp"
    tmp_ids.write_text("\n".join(ids), encoding="utf-8")
    os.replace(tmp_ids, folder / _IDS)
    (folder / _KEY).write_text(key, encoding="utf-8")


def quantize(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes of ``matrix`` with one scale per dimension (``row ≈ codes * scale``)."""
    import numpy as np

    scale = np.zeros(matrix.shape[1], dtype=np.float32)
    for start in range(0, len(matrix), _BLOCK):
        np.maximum(scale, np.abs(matrix[start : start + _BLOCK]).max(axis=0), out=scale)
    scale = np.where(scale > 0, scale / 127.0, 1.0).astype(np.float32)
    codes = np.empty(matrix.shape, dtype=np.int8)
    for start in range(0, len(matrix), _BLOCK):
        codes[start : start + _BLOCK] = np.rint(matrix[start : start + _BLOCK] / scale)
    return codes, scale


class VectorMirror:
    """Nearest-neighbour queries over the mirror (cosine similarity on unit vectors)."""

    def __init__(self, ids: list[str], matrix: np.ndarray, key: str = "",
                 quantized: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self._ids = ids
        self._matrix = matrix
        self._quantized = quantized
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
        quantized = None
        if len(ids) >= QUANTIZE_MIN_ROWS:
            try:
                if (folder / _INT8_KEY).read_text(encoding="utf-8") == expected_key:
                    codes, scale = np.load(folder / _INT8, mmap_mode="r"), np.load(folder / _SCALE)
                    if codes.shape == matrix.shape and scale.shape == (matrix.shape[1],):
                        quantized = (codes, scale)
            except (OSError, ValueError):
                pass  # none, or replaced meanwhile: float32 answers
        if cls.key_on_disk(folder) != expected_key:
            return None  # rewritten while it was opened: its files may be of two versions
        return cls(ids, matrix, expected_key, quantized)

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
        """The ``k`` most similar vectors, best first, with their exact cosine similarity."""
        import numpy as np

        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self._quantized is None:
            return self._best(np.arange(len(self._ids)), np.asarray(self._matrix @ query), k)
        codes, scale = self._quantized
        scaled = query * scale
        rough = np.empty(len(codes), dtype=np.float32)
        scratch = np.empty((min(_BLOCK, len(codes)), codes.shape[1]), dtype=np.float32)
        for start in range(0, len(codes), _BLOCK):
            block = scratch[: min(_BLOCK, len(codes) - start)]
            np.copyto(block, codes[start : start + _BLOCK], casting="unsafe")
            np.matmul(block, scaled, out=rough[start : start + len(block)])
        wanted = min(len(rough), max(_RESCORE_MIN, _RESCORE_PER_RESULT * k))
        candidates = np.sort(np.argpartition(-rough, wanted - 1)[:wanted])
        return self._best(candidates, np.asarray(self._matrix[candidates] @ query), k)

    def _best(self, rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` best of ``rows`` by ``scores`` (ties: lower row first)."""
        import numpy as np

        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((rows[top], -scores[top]))]
        return [(self._ids[rows[i]], float(scores[i])) for i in top]
