"""A fast query embedder: the same sentence-transformers model, run by onnxruntime.

Importing sentence-transformers (and torch) costs ~5.5 s, far too much for one query from the
shell. At index time the model is exported once to ONNX (``export_onnx``), next to the
embedding cache; a search process then loads only onnxruntime and tokenizers (~0.25 s) and
computes the same vector (mean pooling and normalisation, as the model's own modules do; the
test suite checks the two agree).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .base import EmbeddingError, normalise

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["OnnxQueryEmbedder", "onnx_dir", "export_onnx", "onnx_supported"]


def onnx_dir(cache_dir: Path, model_id: str) -> Path:
    return cache_dir / "onnx" / re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)


def onnx_supported(model_path: str) -> bool:
    """Transformer + mean pooling (+ normalisation) models only: exactly what we reimplement.
    (Every embedder here normalises its output anyway.)"""
    root = Path(model_path)
    try:
        modules = json.loads((root / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_path = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((root / pooling_path / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    return kinds in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]) and bool(
        pooling.get("pooling_mode_mean_tokens")
    ) and not any(pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                             "pooling_mode_mean_sqrt_len_tokens"))


def export_onnx(model_path: str, target: Path) -> bool:
    """Export ``model_path`` to ``target`` (once); False when it cannot be done here."""
    if (target / "onnx" / "model.onnx").exists():
        return True
    if not onnx_supported(model_path):
        return False
    try:
        import logging
        import warnings

        from sentence_transformers import SentenceTransformer

        for name in ("sentence_transformers", "transformers", "optimum"):
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings():  # the exporter's tracer chatter is not for the user
            warnings.simplefilter("ignore")
            model = SentenceTransformer(model_path, device="cpu", backend="onnx")
        tmp = target.with_name(target.name + ".tmp")
        model.save_pretrained(str(tmp))
        del model
        import gc

        gc.collect()  # the exporter's copy of the model is not needed again in this process
        if not (tmp / "onnx" / "model.onnx").exists() or not (tmp / "tokenizer.json").exists():
            return False
        tmp.replace(target)
        return True
    except Exception:  # noqa: BLE001 - optional speed-up: any failure means "use torch"
        return False


class OnnxQueryEmbedder:
    """Embeds queries with an exported model; same ``model_id`` as the exporting embedder."""

    def __init__(self, folder: Path, model_id: str, max_tokens: int) -> None:
        self.folder = folder
        self.model_id = model_id
        self.max_tokens = max_tokens
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()

    def _load(self) -> None:
        if self._session is not None:
            return
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingError(f"onnxruntime/tokenizers missing ({exc})") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(self.folder / "onnx" / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    @property
    def dimensions(self) -> int:
        return int(self.embed_query("dimension probe").shape[0])

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        self._load()
        out = []
        for text in texts:
            enc = self._tokenizer.encode(text)
            ids = np.array([enc.ids], dtype=np.int64)
            mask = np.array([enc.attention_mask], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out.append(pooled[0])
        return normalise(np.stack(out))

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text])[0]
