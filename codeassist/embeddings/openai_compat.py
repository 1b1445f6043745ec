"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` server (vLLM, TEI, Ollama, OpenAI).

Uses the ``openai`` client. Texts go in batches, several requests in flight (a GPU server such
as vLLM or TEI batches concurrent requests itself); vectors are normalised locally. Failures: a
429, a 5xx, a timeout or a dropped connection are retried with backoff (the client's own
retries, honouring ``Retry-After``); a batch that still fails raises ``EmbeddingError``, and the
batches already stored stay stored (the index keeps vectors by content key: a later run sends
only what is missing, and nothing is stored twice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .base import EmbeddingError, normalise

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["OpenAIEmbedder"]


class OpenAIEmbedder:
    """Embeds through ``POST {base_url}/embeddings``."""

    def __init__(self, model: str, *, base_url: str, api_key: str | None = None,
                 batch_size: int = 64, concurrency: int = 4, timeout: float = 60.0, retries: int = 3,
                 query_prefix: str = "", document_prefix: str = "") -> None:
        if not model:
            raise EmbeddingError("the OpenAI-compatible embedder needs a model name: set embed_model")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.batch_size = max(1, batch_size)
        self.concurrency = max(1, concurrency)
        #: texts worth handing over at once: enough to keep every request slot busy
        self.preferred_batch = self.batch_size * self.concurrency
        self._retries = retries
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.model_id = f"openai:{self.base_url}:{model}:{query_prefix}:{document_prefix}"
        self._api_key = api_key or "not-needed"
        self._timeout = timeout
        self._client: Any = None
        self._dims: int | None = None

    def _client_(self) -> Any:
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(base_url=self.base_url, api_key=self._api_key, timeout=self._timeout,
                                  max_retries=self._retries)
        return self._client

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np
        import openai

        batches = [list(texts[start: start + self.batch_size]) for start in range(0, len(texts), self.batch_size)]
        client = self._client_()

        def request(batch: list[str]) -> list[list[float]]:
            try:
                response = client.embeddings.create(model=self.model, input=batch)
            except openai.APIError as exc:
                raise EmbeddingError(
                    f"the embedding server at {self.base_url} failed: {exc}; check embed_base_url, "
                    "embed_model and the API key (a busy server: lower embed_concurrency)"
                ) from None
            rows = sorted(response.data, key=lambda d: d.index)
            if len(rows) != len(batch):
                raise EmbeddingError(
                    f"the embedding server at {self.base_url} returned {len(rows)} vectors for "
                    f"{len(batch)} texts"
                )
            return [row.embedding for row in rows]

        if self.concurrency > 1 and len(batches) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
                results = list(pool.map(request, batches))  # in order; the first failure raises
        else:
            results = [request(batch) for batch in batches]
        out = [vector for result in results for vector in result]
        vectors = normalise(np.asarray(out, dtype=np.float32))
        if self._dims is None and len(vectors):
            self._dims = int(vectors.shape[1])
        return vectors

    @property
    def dimensions(self) -> int:
        if self._dims is None:
            self._embed(["dimension probe"])
        assert self._dims is not None
        return self._dims

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            import numpy as np

            return np.zeros((0, self.dimensions), dtype=np.float32)
        return self._embed([self.document_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([self.query_prefix + text])[0]
