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
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .base import EmbeddingError, normalise, query_tokens

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["OnnxQueryEmbedder", "onnx_dir", "export_onnx", "export_complete", "onnx_supported"]


#: bump when the export's layout or method changes: older exports are then made again
_EXPORT_VERSION = 2
_LIMITS = "codeassist-limits.json"


def onnx_dir(cache_dir: Path, model_id: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)
    return cache_dir / "onnx" / f"{name}-v{_EXPORT_VERSION}"


def export_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished export (the limits file is written last)."""
    return all((folder / name).exists() for name in ("onnx/model.onnx", "tokenizer.json", _LIMITS))


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


def _transformer_folder(model_path: str) -> Path:
    """The folder of the model's Transformer module (usually the model folder itself)."""
    root = Path(model_path)
    modules = json.loads((root / "modules.json").read_text())
    sub = next((m.get("path", "") for m in modules if m["type"].endswith("Transformer")), "")
    return root / sub if sub else root


def _remove_older_exports(target: Path) -> None:
    """Exports of the same model by earlier versions (~90 MB each) are not used again."""
    import shutil

    base = target.name.rsplit("-v", 1)[0]
    for old in (target.parent / base, *(target.parent / f"{base}-v{n}" for n in range(1, _EXPORT_VERSION))):
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _native_limit(model_path: str, model: object) -> int:
    """The longest input the sentence-transformers model takes (its ``max_seq_length``, else
    the transformer's position count)."""
    try:
        config = json.loads((Path(model_path) / "sentence_bert_config.json").read_text())
        if config.get("max_seq_length"):
            return int(config["max_seq_length"])
    except (OSError, ValueError):
        pass
    return int(getattr(getattr(model, "config", None), "max_position_embeddings", 512) or 512)


def export_onnx(model_path: str, target: Path) -> bool:
    """Export ``model_path`` to ``target`` (once); False when it cannot be done here.

    The transformer is traced straight from its float32 weights with ``torch.onnx.export``
    (~1.2 s; the sentence-transformers ONNX backend goes through optimum and took ~3 s). Each
    export is written to its own temporary folder and moved into place, so two processes
    exporting at once do not disturb each other. A failed export leaves ``<target>.failed``
    (with the reason) and is not retried; delete that file to try again.
    """
    failed = target.with_name(target.name + ".failed")  # tried once: no-op runs stay fast
    if export_complete(target):
        return True
    if not onnx_supported(model_path) or failed.exists():
        return False
    import shutil
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        import gc
        import logging
        import warnings

        import torch
        from transformers import AutoModel, AutoTokenizer

        for name in ("transformers", "torch.onnx"):
            logging.getLogger(name).setLevel(logging.ERROR)
        source = _transformer_folder(model_path)
        (tmp / "onnx").mkdir()
        AutoTokenizer.from_pretrained(str(source)).save_pretrained(str(tmp))
        model = AutoModel.from_pretrained(str(source), torch_dtype=torch.float32).eval()
        names = ["input_ids", "attention_mask"]
        if getattr(model.config, "type_vocab_size", 0):
            names.append("token_type_ids")

        class _Hidden(torch.nn.Module):  # positional inputs in, last hidden state out
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
                return self.inner(**dict(zip(names, inputs))).last_hidden_state

        # token type 0 is valid for every model (RoBERTa-like ones have a single type)
        sample = tuple((torch.zeros if name == "token_type_ids" else torch.ones)((1, 8), dtype=torch.long)
                       for name in names)
        axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
        with warnings.catch_warnings(), torch.no_grad():  # tracer chatter is not for the user
            warnings.simplefilter("ignore")
            torch.onnx.export(_Hidden(model), sample, str(tmp / "onnx" / "model.onnx"),
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=17, dynamo=False)
        limit = _native_limit(model_path, model)
        del model
        gc.collect()  # the exporter's copy of the model is not needed again in this process
        if not (tmp / "onnx" / "model.onnx").exists() or not (tmp / "tokenizer.json").exists():
            return False
        (tmp / _LIMITS).write_text(json.dumps({"max_seq_length": limit}))
        try:
            tmp.replace(target)
        except OSError:
            pass  # another process finished first
        _remove_older_exports(target)
        return export_complete(target)
    except Exception as exc:  # noqa: BLE001 - optional speed-up: any failure means "use torch"
        try:
            failed.write_text(f"{type(exc).__name__}: {exc}\n")
        except OSError:
            pass
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class OnnxQueryEmbedder:
    """Embeds queries with an exported model; same ``model_id`` as the exporting embedder."""

    def __init__(self, folder: Path, model_id: str, max_tokens: int) -> None:
        self.folder = folder
        self.model_id = model_id
        self.max_tokens = max_tokens
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()
        self._native = max_tokens
        self._lock = threading.Lock()

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
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        try:
            limits = json.loads((self.folder / _LIMITS).read_text())
            self._native = int(limits["max_seq_length"])
        except (OSError, ValueError, KeyError, TypeError):
            self._native = self.max_tokens

    @property
    def dimensions(self) -> int:
        return int(self.embed_query("dimension probe").shape[0])

    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        import numpy as np

        self._load()
        limit = query_tokens(self.max_tokens, self._native) if query else self.max_tokens
        out = []
        for text in texts:
            with self._lock:  # truncation is tokenizer state; searches may run on several threads
                self._tokenizer.enable_truncation(limit)
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
        return self._embed(texts, query=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], query=True)[0]
