"""Embedders (the real packaged MiniLM, a real local OpenAI-compatible server) and the cache."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from codeassist.embeddings import CachedEmbedder, EmbeddingCache, EmbeddingError
from codeassist.embeddings.cache import text_key
from codeassist.embeddings.openai_compat import OpenAIEmbedder
from codeassist.embeddings.sentence_transformers import SentenceTransformerEmbedder

from .openai_server import DIMS, LocalOpenAIServer, bag_of_words_vector


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(max_tokens=128)


def test_packaged_minilm_embeds_offline_with_meaningful_similarity(minilm):
    assert minilm.dimensions == 384
    assert minilm.model_id == "st:all-MiniLM-L6-v2:128"
    docs = minilm.embed_documents([
        "def retry_upload(path, attempts): retry a failed upload with exponential backoff",
        "def parse_table(html): extract rows from an HTML table",
    ])
    assert docs.shape == (2, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    query = minilm.embed_query("where do we retry uploads that failed?")
    assert query.shape == (384,)
    assert float(docs[0] @ query) > float(docs[1] @ query) + 0.1
    assert minilm.embed_documents([]).shape == (0, 384)


def test_model_load_never_touches_the_network(tmp_path):
    # a process with no network route to any hub: HF_HUB_OFFLINE must be forced by us
    code = (
        "import os; os.environ.pop('HF_HUB_OFFLINE', None);"
        "from codeassist.embeddings.sentence_transformers import SentenceTransformerEmbedder as E;"
        "e=E(max_tokens=32); print(e.embed_query('hello').shape, os.environ['HF_HUB_OFFLINE'])"
    )
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(384,) 1" in proc.stdout


def test_missing_local_model_gives_an_actionable_error(tmp_path):
    embedder = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbeddingError, match="local sentence-transformers folder"):
        embedder.embed_query("x")


def test_openai_compatible_embedder_over_real_http():
    with LocalOpenAIServer() as server:
        embedder = OpenAIEmbedder("text-embed", base_url=server.base_url, api_key="sk-test",
                                  batch_size=2, query_prefix="query: ")
        docs = embedder.embed_documents(["alpha beta", "gamma", "delta epsilon"])
        assert docs.shape == (3, DIMS)
        assert np.allclose(docs[0], bag_of_words_vector("alpha beta"), atol=1e-6)
        query = embedder.embed_query("alpha")
        assert np.allclose(query, bag_of_words_vector("query: alpha"), atol=1e-6)
        bodies = [r["body"] for r in server.state.requests]
        # the two document batches are in flight together (either may arrive first); vectors keep their order
        assert sorted(b["input"] for b in bodies[:2]) == [["alpha beta", "gamma"], ["delta epsilon"]]
        assert bodies[2]["input"] == ["query: alpha"]
        assert all(b["model"] == "text-embed" for b in bodies)
        assert server.state.requests[0]["headers"]["authorization"] == "Bearer sk-test"
        assert embedder.dimensions == DIMS


def test_openai_embedder_retries_then_reports_failures_clearly():
    with LocalOpenAIServer() as server:
        embedder = OpenAIEmbedder("m", base_url=server.base_url)
        server.state.failures = [(503, {"error": {"message": "busy"}})]
        assert embedder.embed_documents(["x"]).shape == (1, DIMS)  # retried after the 503
        server.state.failures = [(400, {"error": {"message": "bad model", "type": "invalid_request_error"}})]
        with pytest.raises(EmbeddingError, match="embedding server at http://127.0.0.1"):
            embedder.embed_documents(["y"])


class _CountingEmbedder:
    """Wraps a real embedder and counts what reaches it (our logic under test is the cache)."""

    def __init__(self, inner):
        self.inner, self.model_id, self.seen = inner, inner.model_id, []

    @property
    def dimensions(self):
        return self.inner.dimensions

    def embed_documents(self, texts):
        self.seen.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def test_cache_embeds_each_text_once_across_runs_and_repositories(tmp_path, minilm):
    counting = _CountingEmbedder(minilm)
    cache = EmbeddingCache(tmp_path / "cache", minilm.model_id)
    embedder = CachedEmbedder(counting, cache)
    first = embedder.embed_documents(["def a(): pass", "def b(): pass", "def a(): pass"])
    assert counting.seen == ["def a(): pass", "def b(): pass"]  # duplicates embedded once
    assert np.allclose(first[0], first[2])
    cache.close()

    # a new process-level cache object over the same folder (another run, another checkout)
    again = CachedEmbedder(counting, EmbeddingCache(tmp_path / "cache", minilm.model_id))
    second = again.embed_documents(["def b(): pass", "def c(): pass"])
    assert counting.seen[2:] == ["def c(): pass"]
    assert np.allclose(second[0], first[1])
    assert again.computed == 1

    # another model never reads these vectors
    other = EmbeddingCache(tmp_path / "cache", "st:other:128")
    assert other.get_many([text_key("st:other:128", "def b(): pass")]) == {}
    assert text_key("a", "x") != text_key("b", "x")


def test_embedded_text_reaches_the_signature_and_keeps_only_the_doc_summary():
    from codeassist.index.embed_stage import unit_text

    text = unit_text(
        "usr/share/gocode/src/golang.org/x/tools/go/cfg/builder.go", "builder.ifelse",
        "func (b *builder) ifelse(cond ast.Expr, t, f *Block)",
        "ifelse emits edges to the t and f blocks.\n\n@param cond the condition\n@returns nothing",
        "b.cond(cond, t, f)",
    )
    head, signature, doc, body = text.split("\n")
    assert head == "builder.ifelse (ifelse) in go/cfg/builder.go"  # not the 10-folder path
    assert signature.startswith("func (b *builder) ifelse")
    assert doc == "ifelse emits edges to the t and f blocks." and body == "b.cond(cond, t, f)"
    python = unit_text("sympy/concrete/summations.py", "sympy.concrete.summations.Sum.doit",
                       "def doit(self, **hints):", "", "")
    assert python.startswith("Sum.doit (doit) in sympy/concrete/summations.py\ndef doit")
