"""The Chroma vector store, embedded and against a real `chroma run` server."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from codeassist.vectors import VectorStoreError, VectorStoreMismatchError
from codeassist.vectors.base import CollectionSpec
from codeassist.vectors.chroma import ChromaVectorStore

from .conftest import free_port

SPEC = CollectionSpec("repo-abc", "st:all-MiniLM-L6-v2:64", 8, "1/1200")


@pytest.fixture(params=["embedded", "server"])
def open_store(request, tmp_path):
    def opener(spec: CollectionSpec = SPEC, **kwargs):
        if request.param == "embedded":
            return ChromaVectorStore.embedded(tmp_path / "chroma", spec, **kwargs)
        host, port = request.getfixturevalue("chroma_server")
        return ChromaVectorStore.server(host, port, spec, **kwargs)

    opener.kind = request.param
    return opener


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 8)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_upsert_query_delete_and_persist(open_store):
    store = open_store(dataclasses.replace(SPEC, name=f"c-{open_store.kind}-1"))
    vecs = _vectors(50)
    ids = [f"s{i}" for i in range(50)]
    store.upsert(ids, vecs, [{"path": f"f{i}.py"} for i in range(50)])
    assert store.count() == 50
    hits = store.query(vecs[7], k=5)
    assert hits[0][0] == "s7" and hits[0][1] == pytest.approx(1.0, abs=1e-4)
    assert len(hits) == 5 and all(a[1] >= b[1] for a, b in zip(hits, hits[1:]))
    store.upsert(["s7"], vecs[8:9])  # update in place
    assert store.query(vecs[8], k=2)[0][0] in {"s7", "s8"}
    store.delete(["s7", "s8"])
    assert store.count() == 48 and "s7" not in store.ids()
    # reopen: still there
    again = open_store(store.spec)
    assert again.count() == 48
    assert again.query(vecs[9], k=1)[0][0] == "s9"


def test_model_mismatch_is_an_error_or_a_reset_never_a_mix(open_store):
    spec = CollectionSpec(f"c-{open_store.kind}-2", "st:a:64", 8, "1/1200")
    store = open_store(spec)
    store.upsert(["x"], _vectors(1))
    other = CollectionSpec(spec.name, "openai:http://h/v1:e5", 8, "1/1200")
    with pytest.raises(VectorStoreMismatchError, match="re-embed"):
        open_store(other)
    reset = open_store(other, reset_on_mismatch=True)
    assert reset.count() == 0
    with pytest.raises(VectorStoreMismatchError):
        open_store(CollectionSpec(spec.name, "openai:http://h/v1:e5", 8, "2/1200"))


def test_empty_collection_query_returns_nothing(open_store):
    store = open_store(CollectionSpec(f"c-{open_store.kind}-3", "m", 8, "1"))
    assert store.query(_vectors(1)[0], k=10) == []


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(VectorStoreError, match="chroma run --path"):
        ChromaVectorStore.server("127.0.0.1", free_port(), SPEC)


def _clustered_unit_vectors(n: int, dims: int, seed: int) -> np.ndarray:
    """Unit vectors around a few hundred centres, as embeddings of code are (not uniform)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(300, dims)).astype(np.float32)
    rows = centres[rng.integers(0, 300, n)] + 0.6 * rng.normal(size=(n, dims)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_big_mirror_scans_int8_and_rescores_exactly(tmp_path, monkeypatch):
    from codeassist.vectors import mirror as mirror_module
    from codeassist.vectors.mirror import VectorMirror, write_mirror

    matrix = _clustered_unit_vectors(20_000, 64, seed=1)
    ids = [f"v{i}" for i in range(len(matrix))]
    exact = VectorMirror(ids, matrix)
    monkeypatch.setattr(mirror_module, "QUANTIZE_MIN_ROWS", 10_000)
    write_mirror(tmp_path / "m", ids, matrix, "key")
    assert (tmp_path / "m" / "vectors.i8.npy").stat().st_size < matrix.nbytes / 3
    quantized = VectorMirror.open(tmp_path / "m", "key")
    assert quantized is not None and quantized._quantized is not None
    queries = _clustered_unit_vectors(200, 64, seed=2)
    found = total = 0
    for query in queries:
        want, got = exact.query(query, 10), quantized.query(query, 10)
        scores = dict(want)
        for vector_id, score in got:  # every score is the exact one, whatever was found
            assert abs(score - float(matrix[int(vector_id[1:])] @ query)) < 1e-5
            found += vector_id in scores
        total += len(want)
        assert [s for _v, s in got] == sorted((s for _v, s in got), reverse=True)
    assert found / total >= 0.99
    # below the threshold the int8 copy is removed, and queries are exact float32 again
    write_mirror(tmp_path / "m", ids[:5000], matrix[:5000], "key2")
    assert not (tmp_path / "m" / "vectors.i8.npy").exists()
    small = VectorMirror.open(tmp_path / "m", "key2")
    assert small is not None and small._quantized is None
    assert small.query(queries[0], 5) == VectorMirror(ids[:5000], matrix[:5000]).query(queries[0], 5)
