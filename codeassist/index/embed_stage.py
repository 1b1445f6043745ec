"""The embedding stage of indexing: symbols → vectors in the vector store.

Runs after the lexical index is committed (search works from then on) and under the same writer
lock. What is embedded: one short text per function, method, class, struct, interface, trait or
enum (test code, Go ``testdata/`` included, only with ``embed_tests``): the end of its qualified
name and of its path, its signature, the first paragraph of its doc and the start of its body,
cut to ``embed_max_tokens`` (``unit_text``). Everything goes through the shared
content-addressed cache, so unchanged code, renames and other checkouts cost nothing.

Crash safety: the ``embedded`` table (symbol → vector id) is committed after each batch's vectors
are in the store, and its rows are deleted with their file (their vector ids go to
``vector_trash``), or when the symbol is no longer embedded by policy (``embed_tests`` turned
off). Whenever the vector store is opened, the staged changes are applied and the store is
reconciled with the table (vectors without a row are deleted, rows without a vector are redone),
so an interrupted run resumes where it stopped and nothing is duplicated.

A small change (``STAGE_LIMIT``; embedded Chroma only) does not open the vector store at all:
its new vectors go to ``vector_outbox`` in the same transactions as their ``embedded`` rows and
the query mirror is rewritten, so searches see them at once; Chroma receives them with the next
run that opens it.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from typing import TYPE_CHECKING

from ..config import Settings
from ..parsing.extract import EXTRACTOR_VERSION
from ..parsing.kinds import EMBEDDED_KINDS
from ..parsing.terms import split_identifier
from ..vectors.base import CollectionSpec
from ..vectors.mirror import META_KEY, VectorMirror, mirror_key, write_mirror
from ..walker import is_test_path
from .reader import SEMANTIC_KEY, EmbedUnit, IndexReader, SourceText, StoredVectorSpec
from .store import Store

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..embeddings.base import Embedder
    from ..vectors.base import VectorStore

__all__ = ["EMBEDDED_KINDS", "EmbedStats", "run_embedding", "stored_collection_spec", "collection_spec",
           "unit_text", "total_units", "STAGE_LIMIT", "nearest_with_staged"]

_BATCH = 256
_BODY_LINES = 12


@dataclass
class EmbedStats:
    units: int = 0
    embedded: int = 0
    computed: int = 0
    removed: int = 0
    reset: str = ""
    seconds: float = 0.0


#: bump when ``unit_text`` changes what is embedded: the vectors are then rebuilt
UNIT_TEXT_VERSION = 3


def collection_spec(index_dir: Path, model_id: str, dimensions: int, settings: Settings) -> CollectionSpec:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"codeassist-{index_dir.name}")[:60].strip("._-")
    return CollectionSpec(name, model_id, dimensions,
                          f"{EXTRACTOR_VERSION}:{settings.chunk_chars}:u{UNIT_TEXT_VERSION}")


def unit_text(path: str, qualname: str, signature: str, doc: str, body: str) -> str:
    """The text embedded for one symbol: most telling first, since it gets cut to a few tokens.
    The doc contributes its first paragraph only.

    Only the end of the qualified name and of the path are kept (``Sum.doit`` in
    ``sympy/concrete/summations.py``): a full dotted module path repeats the file path, and a
    deep path (``usr/share/gocode/src/golang.org/x/tools/...``) used to fill all 48 tokens of a
    Go function before its signature was reached."""
    name = qualname.rsplit(".", 1)[-1]
    short = ".".join(qualname.split(".")[-2:])
    words = " ".join(split_identifier(name))
    where = "/".join(path.split("/")[-3:])
    head = f"{short} ({words}) in {where}"
    return "\n".join(part for part in (head, signature, _summary(doc), body) if part)


_DOC_SUMMARY_CHARS = 200


def _summary(doc: str) -> str:
    """The first paragraph of a doc comment, capped: the tags, examples and parameter lists
    after it would take the few tokens the code needs (measured by `codeassist eval`: dense
    Recall@10 on lodash 0.705 -> 0.755, the Python and Go corpora unchanged)."""
    return doc.strip().split("\n\n", 1)[0][:_DOC_SUMMARY_CHARS]


def _units(index: IndexReader, settings: Settings, *, pending_only: bool = True) -> list[EmbedUnit]:
    """Symbols that get a vector (those without one yet, unless ``pending_only`` is False), most
    important first: public before private, then by how many files use the name. Where a CPU
    cannot embed a whole monorepo soon, the vectors that exist are those most often wanted."""
    units = index.embed_units(pending_only=pending_only)
    if not settings.embed_tests:
        units = [u for u in units if not is_test_path(u.path)]
    if len(units) > _BATCH:  # the order matters only when the stage takes more than one batch
        uses = index.files_using()

        def importance(unit: EmbedUnit) -> tuple[bool, int, str, int]:
            name = re.split(r"\.|::", unit.qualname)[-1]
            return name.startswith("_"), -uses.get(name, 0), unit.path, unit.start_line

        units.sort(key=importance)
    return units


def _body(index: IndexReader, sources: dict[int, SourceText], file_id: int, start_line: int, doc: str) -> str:
    """The first lines of a symbol after its signature line (to the end of the chunk where it
    starts), without doc lines; ``sources``: the files' sources by id."""
    chunk = index.chunk_at(file_id, start_line)
    if chunk is None or file_id not in sources or chunk.end_line <= start_line:
        return ""
    lines = sources[file_id].span(start_line + 1, chunk.end_line).split("\n")
    doc_words = set(doc.split()[:8])
    body = [ln.strip() for ln in lines if ln.strip() and not (doc_words and set(ln.split()) <= doc_words)]
    return "\n".join(body[:_BODY_LINES])


def _unit_ids(index: IndexReader, settings: Settings) -> set[int]:
    """The symbols that have a vector when embedding is complete."""
    return {sid for sid, path in index.embed_unit_paths() if settings.embed_tests or not is_test_path(path)}


def total_units(index: IndexReader, settings: Settings) -> int:
    """How many symbols get a vector when embedding is complete."""
    return len(_unit_ids(index, settings))


def _spec_key(spec: CollectionSpec, settings: Settings) -> str:
    """What the stored vectors were made with, as kept in the index's meta table."""
    return StoredVectorSpec(spec.name, spec.model_id, spec.dimensions, spec.chunker_version,
                            settings.chroma_url).key()


def stored_collection_spec(index: IndexReader, index_dir: Path, settings: Settings) -> CollectionSpec | None:
    """The collection the index's vectors were written to, as recorded (not as the current
    version would name it: after an upgrade that changes the embedded text, the old vectors
    stay readable until the next index run replaces them)."""
    stored = index.vector_spec()
    if stored is None:
        return None
    return CollectionSpec(collection_spec(index_dir, stored.model_id, stored.dimensions, settings).name,
                          stored.model_id, stored.dimensions, stored.chunker_version)


def _refresh_mirror(store: Store, index_dir: Path, fetch: Callable[[list[str]], np.ndarray | list[np.ndarray]],
                    spec_key: str, old: VectorMirror | None = None,
                    fresh: dict[str, np.ndarray] | None = None) -> None:
    """Write the numpy query mirror of the vectors the index holds, then record its key.

    Rows come from this run's new vectors (``fresh``), then the previous mirror (``old``), and
    only the rest are read with ``fetch`` (all of them the first time)."""
    import numpy as np

    ids = store.reader.vector_ids()
    if not ids:
        return
    fresh = fresh or {}
    old_rows = old.rows() if old is not None else {}
    missing = [i for i in ids if i not in fresh and i not in old_rows]
    fetched = dict(zip(missing, fetch(missing))) if missing else {}
    sample = next(iter(fresh.values()), None)
    if sample is None:
        sample = next(iter(fetched.values()), None)
    if sample is None and old is not None:  # every id came from the old mirror
        sample = old.row(0)
    assert sample is not None
    matrix = np.empty((len(ids), len(sample)), dtype=np.float32)
    for n, vector_id in enumerate(ids):
        if vector_id in fresh:
            matrix[n] = fresh[vector_id]
        elif old is not None and vector_id in old_rows:
            matrix[n] = old.row(old_rows[vector_id])
        else:
            matrix[n] = fetched[vector_id]
    key = mirror_key(spec_key, ids)
    write_mirror(index_dir / "mirror", ids, matrix, key)
    store.set_meta(META_KEY, key)


def _flush_staged(store: Store, vectors: VectorStore) -> int:
    """Apply the staged deletions and additions to the vector store; returns the deletions."""
    import numpy as np

    staged = store.reader.staged_vectors()
    if staged.trash:
        vectors.delete(staged.trash)
    if staged.outbox:
        matrix = np.stack([np.frombuffer(blob, dtype=np.float32) for _v, _p, blob in staged.outbox])
        vectors.upsert([v for v, _p, _b in staged.outbox], matrix, [{"path": path} for _v, path, _b in staged.outbox])
    _clear_staged(store)
    return len(staged.trash)


def _clear_staged(store: Store) -> None:
    store.begin()
    store.clear_staged_vectors()
    store.commit()


def nearest_with_staged(index: IndexReader, vectors: VectorStore, vector: np.ndarray,
                        k: int) -> list[tuple[str, float]]:
    """The ``k`` nearest vectors when the vector store itself is searched (the query mirror is
    missing): it may lack the staged changes, so staged deletions are skipped and staged
    additions searched too."""
    import numpy as np

    staged_changes = index.staged_vectors()
    trash = set(staged_changes.trash)
    found = [(v, s) for v, s in vectors.query(vector, k + len(trash)) if v not in trash]
    if staged_changes.outbox:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        staged = {v: float(np.frombuffer(blob, dtype=np.float32) @ query) for v, _path, blob in staged_changes.outbox}
        found = sorted([(v, s) for v, s in found if v not in staged] + list(staged.items()),
                       key=lambda item: (-item[1], item[0]))
    return found[:k]


#: stores one batch of units: (batch, their vector ids, their vectors)
_BatchWriter = Callable[[list[EmbedUnit], list[str], "np.ndarray"], None]


def _embed_units(index: IndexReader, embedder: Embedder, units: list[EmbedUnit], write: _BatchWriter,
                 progress: Callable[[int], None]) -> None:
    """Embed ``units`` batch by batch; ``write(batch, ids, matrix)`` stores each batch (and
    commits its ``embedded`` rows)."""
    from ..embeddings.cache import text_key

    done = 0
    size = max(_BATCH, int(getattr(embedder, "preferred_batch", 0) or 0))  # a server with requests in flight
    for start in range(0, len(units), size):
        batch = units[start : start + size]
        sources = index.sources(u.file_id for u in batch)
        signatures = index.signature_lists(u.file_id for u in batch)
        texts = [unit_text(u.path, u.qualname, u.signature_in(signatures), u.doc,
                           _body(index, sources, u.file_id, u.start_line, u.doc)) for u in batch]
        matrix = embedder.embed_documents(texts)
        ids = [f"{text_key(embedder.model_id, t)[:16]}-{u.symbol_id}" for t, u in zip(texts, batch)]
        write(batch, ids, matrix)
        done += len(batch)
        progress(done)


def run_embedding(
    store: Store,
    index_dir: Path,
    settings: Settings,
    report: Callable[[str, int, int], None],
    embedder: Embedder | None = None,
) -> EmbedStats:
    """Bring the vectors up to date with the symbols in ``store`` (with ``embedder``, or one
    made from the settings)."""
    from ..factory import make_embedder, prepare_query_embedder

    started = time.perf_counter()
    stats = EmbedStats()
    index = store.reader
    embedder = embedder if embedder is not None else make_embedder(settings)
    computed_before = getattr(embedder, "computed", 0)
    wanted = _unit_ids(index, settings)
    stats.units = len(wanted)
    have = index.embedded()
    # one scan of the symbols when nothing is pending (the no-op run)
    units = _units(index, settings) if not wanted <= have.keys() else []
    # vectors of symbols no longer embedded by policy (embed_tests turned off, a folder now
    # counted as test code): removed like a deleted file's
    excluded = [(vid, sid) for sid, vid in have.items() if sid not in wanted]
    previous = index.meta("vector_spec")
    stored = index.vector_spec()
    same_model = stored is not None and stored.model_id == embedder.model_id
    clean = index.meta("embedding_complete") == "1"
    unchanged_spec = stored is not None and previous == _spec_key(
        collection_spec(index_dir, stored.model_id, stored.dimensions, settings), settings)
    steady = same_model and clean and unchanged_spec and not excluded
    trash, outbox = index.staged_counts()
    mirror_key_now = None if settings.chroma_url or not steady else index.meta(META_KEY)
    # the mirror is current, and reflects the deletions since it was written (staged ones too)
    mirrored = (mirror_key_now is not None
                and VectorMirror.key_on_disk(index_dir / "mirror") == mirror_key_now
                and mirror_key_now == mirror_key(previous or "", sorted(have.values())))
    if clean and index.meta(SEMANTIC_KEY) is not None:
        store.delete_meta(SEMANTIC_KEY)  # left by a run stopped after its last vector
    if steady and not units and (mirrored or (not trash and (settings.chroma_url or not stats.units))):
        # nothing to do: no model is loaded, the vector store is not opened (the query model's
        # export is re-made if missing, e.g. written by an older version)
        if stats.units:
            prepare_query_embedder(settings, embedder)  # only file checks when it exists
        stats.seconds = time.perf_counter() - started
        report("embed", stats.units, stats.units)
        return stats
    # before embedding: a first-time export loads its own float32 copy of the model, which is
    # gone again before the documents' model is loaded (peak memory, textual: 0.96 GB, not 1.02)
    prepare_query_embedder(settings, embedder)
    mirror = VectorMirror.open(index_dir / "mirror", mirror_key_now) if mirror_key_now else None
    staged = mirror is not None and len(units) + outbox + trash <= STAGE_LIMIT
    if staged:
        assert mirror is not None
        try:
            _run_staged(store, index_dir, embedder, units, mirror, stats, report)
        except LookupError:  # the mirror lacks a vector it should hold: take the full way
            staged = False
            stats.embedded = 0
    if not staged:
        del units  # the full way lists them again after reconciling; docs of 24k symbols weigh ~0.1 GB
        _run_full(store, index_dir, settings, embedder, excluded, stored if same_model else None,
                  previous, stats, report)
    stats.computed = getattr(embedder, "computed", computed_before + stats.embedded) - computed_before
    stats.seconds = time.perf_counter() - started
    return stats


#: a small change (a few edited files) is staged in the index instead of opening the vector
#: store (importing chromadb alone takes ~1 s): searches read the query mirror, which is updated
#: at once; the staged changes reach Chroma with the next larger run (or one that finds the
#: mirror missing). Only with embedded Chroma: a shared server is always written directly.
STAGE_LIMIT = 2_000


def _run_staged(store: Store, index_dir: Path, embedder: Embedder, units: list[EmbedUnit],
                mirror: VectorMirror, stats: EmbedStats, report: Callable[[str, int, int], None]) -> None:
    """Embed a small change without opening the vector store: vectors and deletions are staged
    in the index (committed with their ``embedded`` rows) and the query mirror is rewritten."""
    import numpy as np

    spec_key = store.meta("vector_spec") or ""
    store.delete_meta(META_KEY)  # vectors change from here on
    fresh: dict[str, np.ndarray] = {}

    def write(batch: list[EmbedUnit], ids: list[str], matrix: np.ndarray) -> None:
        fresh.update(zip(ids, matrix))
        store.begin()
        store.record_vectors([(u.symbol_id, vid) for u, vid in zip(batch, ids)])
        store.stage_vectors([(vid, u.path, np.asarray(vec, dtype=np.float32).tobytes())
                             for u, vid, vec in zip(batch, ids, matrix)])
        store.commit()
        stats.embedded += len(batch)

    done_before = stats.units - len(units)
    _embed_units(store.reader, embedder, units, write, lambda done: report("embed", done_before + done, stats.units))

    def from_outbox(ids: list[str]) -> list[np.ndarray]:  # rows the old mirror lacks (staged earlier)
        found = store.reader.staged_vector_blobs(ids)
        if len(found) < len(ids):
            raise LookupError("a vector is neither in the mirror nor staged")
        return [np.frombuffer(found[i], dtype=np.float32) for i in ids]

    _refresh_mirror(store, index_dir, from_outbox, spec_key, mirror, fresh)


def _run_full(store: Store, index_dir: Path, settings: Settings, embedder: Embedder,
              excluded: list[tuple[str, int]], stored: StoredVectorSpec | None, previous: str | None,
              stats: EmbedStats, report: Callable[[str, int, int], None]) -> None:
    """Open the vector store, apply what was staged, reconcile it with the index, embed."""
    from ..factory import make_vector_store

    # the model's dimension count is known from the last run when the model is the same
    dimensions = stored.dimensions if stored is not None else embedder.dimensions
    spec = collection_spec(index_dir, embedder.model_id, dimensions, settings)
    spec_key = _spec_key(spec, settings)
    if previous not in (None, spec_key):
        stats.reset = f"embedding settings changed ({previous} -> {spec_key}); re-embedding"
        store.begin()
        store.forget_vectors()
        store.commit()
        _clear_staged(store)  # vectors of the old settings: the collection starts afresh
    vectors = make_vector_store(settings, index_dir, spec, reset_on_mismatch=True)
    old_mirror = VectorMirror.open(index_dir / "mirror", store.meta(META_KEY)) if previous == spec_key else None
    stats.removed += _flush_staged(store, vectors)
    store.delete_meta(META_KEY)  # vectors change from here on
    store.set_meta("vector_spec", spec_key)
    store.set_meta("embedding_complete", "0")

    if excluded:
        store.begin()
        store.forget_vectors(sid for _v, sid in excluded)
        store.commit()
    # reconcile the store with the table (this also deletes the excluded symbols' vectors)
    known = {vector_id: symbol_id for symbol_id, vector_id in store.reader.embedded().items()}
    present = vectors.ids()
    orphans = sorted(present - known.keys())
    if orphans:
        vectors.delete(orphans)
        stats.removed += len(orphans)
    lost = [symbol for vector_id, symbol in known.items() if vector_id not in present]
    if lost:
        store.begin()
        store.forget_vectors(lost)
        store.commit()

    units = _units(store.reader, settings)  # again: reconciliation may have put some back
    done_before = stats.units - len(units)
    report("embed", done_before, stats.units)
    # a mirror of the vectors so far, rewritten now and then: dense search works on what is
    # covered while the stage goes on (a Chroma server is searched directly: it has them at once)
    growing = None if settings.chroma_url else _GrowingMirror(store, index_dir, vectors.vectors, spec_key, old_mirror)

    def write(batch: list[EmbedUnit], ids: list[str], matrix: np.ndarray) -> None:
        vectors.upsert(ids, matrix, [{"path": u.path} for u in batch])
        store.begin()
        store.record_vectors([(u.symbol_id, vid) for u, vid in zip(batch, ids)])
        store.commit()
        stats.embedded += len(batch)
        if growing is not None:
            growing.add(ids, matrix)

    store.set_meta(SEMANTIC_KEY, json.dumps({"pid": os.getpid(), "units": stats.units}))
    try:
        _embed_units(store.reader, embedder, units, write, lambda done: report("embed", done_before + done, stats.units))
        if growing is not None:
            growing.write()
    except BaseException:
        store.set_meta(SEMANTIC_KEY, json.dumps({"pid": 0, "units": stats.units}))  # stopped early
        raise
    store.set_meta("embedding_complete", "1")
    store.delete_meta(SEMANTIC_KEY)


#: while a long embedding stage runs, the query mirror is rewritten with the vectors so far: first
#: ``MIRROR_FIRST_S`` seconds into it, then every ``MIRROR_EVERY_S`` seconds at most, and never
#: spending more than a tenth of the stage on it
MIRROR_FIRST_S = 3.0
MIRROR_EVERY_S = 5.0


class _GrowingMirror:
    """The query mirror of a full embedding run, rewritten with the vectors committed so far
    (the index's meta then names it current): dense search works on what is covered during the
    stage. Each rewrite takes its rows from the last one plus the vectors added since."""

    def __init__(self, store: Store, index_dir: Path, fetch: Callable[[list[str]], np.ndarray | list[np.ndarray]],
                 spec_key: str, old: VectorMirror | None) -> None:
        self._store, self._index_dir, self._fetch, self._spec_key = store, index_dir, fetch, spec_key
        self._old = old
        self._fresh: dict[str, np.ndarray] = {}
        #: when the next version is written (None: no more versions on the way, only the last)
        self._due: float | None = time.monotonic() + min(MIRROR_FIRST_S, MIRROR_EVERY_S)

    def add(self, ids: list[str], matrix: np.ndarray) -> None:
        self._fresh.update(zip(ids, matrix))
        if self._due is not None and time.monotonic() >= self._due:
            try:
                self.write()
            except Exception:  # noqa: BLE001 - a version on the way (a full disk, memory): the
                # vectors are stored regardless; searches use the vector store until the last one
                self._store.delete_meta(META_KEY)
                self._due = None

    def write(self) -> None:
        started = time.monotonic()
        _refresh_mirror(self._store, self._index_dir, self._fetch, self._spec_key, self._old, self._fresh)
        self._old = VectorMirror.open(self._index_dir / "mirror", self._store.meta(META_KEY))
        self._fresh = {}
        took = time.monotonic() - started
        if self._due is not None:
            self._due = time.monotonic() + max(MIRROR_EVERY_S, 9 * took)
