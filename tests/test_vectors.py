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
