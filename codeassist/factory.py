"""The one place that chooses implementations from settings: the embedder (for documents and
for queries) and the vector store, used by indexing and search; and the chat backend, used by
conversations. Everything else receives what these functions build."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .embeddings import CachedEmbedder, EmbeddingCache, EmbeddingError
from .embeddings.base import Embedder
from .vectors.base import CollectionSpec, VectorStore

if TYPE_CHECKING:  # pragma: no cover
    from .llm.backend import ChatBackend

__all__ = ["make_embedder", "make_query_embedder", "make_vector_store", "embedding_cache_dir",
           "prepare_query_embedder", "make_chat_backend"]


def embedding_cache_dir(settings: Settings) -> Path:
    return Path(settings.embed_cache_dir) if settings.embed_cache_dir else Path(settings.home) / "embeddings"


def make_embedder(settings: Settings, *, cached: bool = True) -> Embedder:
    """The configured embedder, wrapped in the shared content-addressed cache."""
    if settings.embedder in ("sentence-transformers", "st", "local"):
        from .embeddings.sentence_transformers import SentenceTransformerEmbedder

        inner: Embedder = SentenceTransformerEmbedder(settings.embed_model or None,
                                                      max_tokens=settings.embed_max_tokens,
                                                      precision=settings.embed_precision)
    elif settings.embedder == "openai":
        from .embeddings.openai_compat import OpenAIEmbedder

        if not settings.embed_base_url:
            raise EmbeddingError(
                "embedder = openai needs embed_base_url (e.g. http://localhost:8000/v1); set it in the "
                "config file or CODEASSIST_EMBED_BASE_URL"
            )
        inner = OpenAIEmbedder(settings.embed_model, base_url=settings.embed_base_url,
                               api_key=os.environ.get(settings.embed_api_key_env), batch_size=settings.embed_batch,
                               concurrency=settings.embed_concurrency)
    else:
        raise EmbeddingError(
            f"unknown embedder {settings.embedder!r}; use 'sentence-transformers' or 'openai'"
        )
    if not cached:
        return inner
    return CachedEmbedder(inner, EmbeddingCache(embedding_cache_dir(settings), inner.model_id))


def prepare_query_embedder(settings: Settings, embedder: Embedder) -> None:
    """At index time: export the local model to ONNX once, so searches embed queries fast."""
    from .embeddings.onnx_query import export_onnx, onnx_dir

    inner = getattr(embedder, "inner", embedder)
    path = getattr(inner, "model_path", None)
    if path:
        export_onnx(path, onnx_dir(embedding_cache_dir(settings), inner.model_id))


def make_query_embedder(settings: Settings) -> Embedder:
    """The embedder for queries: the ONNX export when there is one (0.25 s to load instead of
    ~5.5 s), else the configured embedder itself. Both give the same vectors (to within cosine
    0.999 when documents are embedded in bf16)."""
    embedder = make_embedder(settings, cached=False)
    if getattr(embedder, "model_path", None):
        from .embeddings.onnx_query import OnnxQueryEmbedder, export_complete, onnx_dir

        folder = onnx_dir(embedding_cache_dir(settings), embedder.model_id)
        if export_complete(folder):
            return OnnxQueryEmbedder(folder, embedder.model_id, settings.embed_max_tokens)
    return embedder


def make_vector_store(settings: Settings, index_dir: Path, spec: CollectionSpec, *,
                      reset_on_mismatch: bool = False) -> VectorStore:
    """Chroma: a `chroma run` server when chroma_url is set, else embedded in the index folder."""
    from .vectors.chroma import ChromaVectorStore

    if settings.chroma_url:
        host, _, port = settings.chroma_url.rpartition(":")
        host = host.split("://")[-1] or "127.0.0.1"
        if not port.isdigit():
            from .errors import ConfigError

            raise ConfigError(f"chroma_url must be host:port, not {settings.chroma_url!r}")
        return ChromaVectorStore.server(host, int(port), spec, reset_on_mismatch=reset_on_mismatch)
    return ChromaVectorStore.embedded(index_dir / "chroma", spec, reset_on_mismatch=reset_on_mismatch)


def make_chat_backend(settings: Settings) -> ChatBackend:
    """The configured model backend (raises BackendNotConfiguredError saying how to set one)."""
    from .llm.backend import ChatBackend
    from .llm.presets import resolve_backend

    return ChatBackend(resolve_backend(settings))
