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

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..config import Settings
from ..parsing.extract import EXTRACTOR_VERSION
from ..parsing.terms import split_identifier
from ..vectors.base import CollectionSpec
from ..vectors.mirror import META_KEY, VectorMirror, mirror_key, write_mirror
from ..walker import is_test_path
from .store import Store

__all__ = ["EMBED_KINDS", "EmbedStats", "run_embedding", "stored_collection_spec", "collection_spec", "unit_text", "total_units",
           "stored_spec", "STAGE_LIMIT", "nearest_with_staged"]

EMBED_KINDS = ("function", "method", "class", "struct", "interface", "trait", "enum")
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


_UNIT_COLUMNS = "s.id, f.path, s.qualname, s.signature, s.doc, s.start_line, s.file_id"


def _units(store: Store, settings: Settings, *, pending_only: bool = True,
           columns: str = _UNIT_COLUMNS) -> list[tuple]:
    """Symbols that get a vector (those without one yet, unless ``pending_only`` is False).
    ``columns`` must start with the symbol id and the file path."""
    marks = ",".join("?" * len(EMBED_KINDS))
    pending = " AND s.id NOT IN (SELECT symbol_id FROM embedded)" if pending_only else ""
    rows = store.rows(
        f"SELECT {columns} FROM symbols s"
        f" JOIN files f ON f.id=s.file_id WHERE s.kind IN ({marks}){pending} ORDER BY f.path, s.start_line",
        EMBED_KINDS,
    ).fetchall()
    if not settings.embed_tests:
        rows = [r for r in rows if not is_test_path(r[1])]
    return rows


def _body(store: Store, file_id: int, start_line: int, doc: str) -> str:
    """The first lines of a symbol after its signature line, without doc lines."""
    chunk = store.chunk_at(file_id, start_line)
    if chunk is None:
        return ""
    lines = chunk[1].split("\n")[start_line - chunk[2] + 1 :]
    doc_words = set(doc.split()[:8])
    body = [ln.strip() for ln in lines if ln.strip() and not (doc_words and set(ln.split()) <= doc_words)]
    return "\n".join(body[:_BODY_LINES])


def _unit_ids(store: Store, settings: Settings) -> set[int]:
    """The symbols that have a vector when embedding is complete."""
    return {row[0] for row in _units(store, settings, pending_only=False, columns="s.id, f.path")}


def total_units(store: Store, settings: Settings) -> int:
    """How many symbols get a vector when embedding is complete."""
    return len(_unit_ids(store, settings))


def _spec_key(spec: CollectionSpec, settings: Settings) -> str:
    """What the stored vectors were made with, as kept in the index's meta table."""
    return "|".join(map(str, (spec.name, spec.model_id, spec.dimensions, spec.chunker_version,
                              settings.chroma_url)))


def _stored_key(store: Store) -> tuple[str, str, int, str, str] | None:
    """The recorded ``vector_spec`` (as ``_spec_key`` wrote it): name, model id, dimensions,
    chunker version, chroma_url."""
    key = store.meta("vector_spec")
    if key is None:
        return None
    name, model_id, dims, chunker, chroma_url = key.split("|", 4)
    return name, model_id, int(dims), chunker, chroma_url


def stored_collection_spec(store: Store, index_dir: Path, settings: Settings) -> CollectionSpec | None:
    """The collection the index's vectors were written to, as recorded (not as the current
    version would name it: after an upgrade that changes the embedded text, the old vectors
    stay readable until the next index run replaces them)."""
    stored = _stored_key(store)
    if stored is None:
        return None
    _name, model_id, dims, chunker, _url = stored
    return CollectionSpec(collection_spec(index_dir, model_id, dims, settings).name, model_id, dims, chunker)


def stored_spec(store: Store) -> tuple[str, int, str] | None:
    """(model id, dimensions, chroma_url) of the vectors this index holds, if any."""
    stored = _stored_key(store)
    return None if stored is None else (stored[1], stored[2], stored[4])


def _refresh_mirror(store: Store, index_dir: Path, fetch: Callable[[list[str]], object], spec_key: str,
                    old: VectorMirror | None = None, fresh: dict[str, object] | None = None) -> None:
    """Write the numpy query mirror of the vectors the index holds, then record its key.

    Rows come from this run's new vectors (``fresh``), then the previous mirror (``old``), and
    only the rest are read with ``fetch`` (all of them the first time)."""
    import numpy as np

    ids = [r[0] for r in store.rows("SELECT vector_id FROM embedded ORDER BY vector_id")]
    if not ids:
        return
    fresh = fresh or {}
    old_rows = old.rows() if old is not None else {}
    missing = [i for i in ids if i not in fresh and i not in old_rows]
    fetched = dict(zip(missing, fetch(missing))) if missing else {}  # type: ignore[call-overload]
    sample = next(iter(fresh.values()), None)
    if sample is None:
        sample = next(iter(fetched.values()), None)
    if sample is None:
        sample = old.row(0)  # type: ignore[union-attr]  # every id came from the old mirror
    matrix = np.empty((len(ids), len(sample)), dtype=np.float32)  # type: ignore[arg-type]
    for n, vector_id in enumerate(ids):
        if vector_id in fresh:
            matrix[n] = fresh[vector_id]
        elif vector_id in old_rows:
            matrix[n] = old.row(old_rows[vector_id])  # type: ignore[union-attr]
        else:
            matrix[n] = fetched[vector_id]
    key = mirror_key(spec_key, ids)
    write_mirror(index_dir / "mirror", ids, matrix, key)
    store.set_meta(META_KEY, key)


def _staged(store: Store) -> tuple[list[str], list[tuple[str, str, bytes]]]:
    """Vector ids waiting to be deleted from the vector store, and vectors waiting to be added."""
    trash = [r[0] for r in store.rows("SELECT vector_id FROM vector_trash ORDER BY vector_id")]
    outbox = store.rows("SELECT vector_id, path, vector FROM vector_outbox ORDER BY vector_id").fetchall()
    return trash, outbox


def _flush_staged(store: Store, vectors: object) -> int:
    """Apply the staged deletions and additions to the vector store; returns the deletions."""
    import numpy as np

    trash, outbox = _staged(store)
    if trash:
        vectors.delete(trash)  # type: ignore[attr-defined]
    if outbox:
        matrix = np.stack([np.frombuffer(blob, dtype=np.float32) for _v, _p, blob in outbox])
        vectors.upsert([v for v, _p, _b in outbox], matrix,  # type: ignore[attr-defined]
                       [{"path": path} for _v, path, _b in outbox])
    _clear_staged(store)
    return len(trash)


def _clear_staged(store: Store) -> None:
    store.begin()
    store.conn.execute("DELETE FROM vector_trash")
    store.conn.execute("DELETE FROM vector_outbox")
    store.commit()


def nearest_with_staged(store: Store, vectors: object, vector: object, k: int) -> list[tuple[str, float]]:
    """The ``k`` nearest vectors when the vector store itself is searched (the query mirror is
    missing): it may lack the staged changes, so staged deletions are skipped and staged
    additions searched too."""
    import numpy as np

    trash_ids, outbox = _staged(store)
    trash = set(trash_ids)
    found = [(v, s) for v, s in vectors.query(vector, k + len(trash)) if v not in trash]  # type: ignore[attr-defined]
    if outbox:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        staged = {v: float(np.frombuffer(blob, dtype=np.float32) @ query) for v, _path, blob in outbox}
        found = sorted([(v, s) for v, s in found if v not in staged] + list(staged.items()),
                       key=lambda item: (-item[1], item[0]))
    return found[:k]


def _embed_units(store: Store, embedder: object, units: list[tuple],
                 write: Callable[[list[tuple], list[str], object], None],
                 progress: Callable[[int], None]) -> dict[str, object]:
    """Embed ``units`` batch by batch; ``write(batch, ids, matrix)`` stores each batch (and
    commits its ``embedded`` rows). Returns the new vectors by id."""
    from ..embeddings.cache import text_key

    fresh: dict[str, object] = {}
    done = 0
    for start in range(0, len(units), _BATCH):
        batch = units[start : start + _BATCH]
        texts = [
            unit_text(path, qualname, signature, doc, _body(store, file_id, line, doc))
            for _sid, path, qualname, signature, doc, line, file_id in batch
        ]
        matrix = embedder.embed_documents(texts)  # type: ignore[attr-defined]
        ids = [f"{text_key(embedder.model_id, t)[:16]}-{row[0]}" for t, row in zip(texts, batch)]  # type: ignore[attr-defined]
        write(batch, ids, matrix)
        fresh.update(zip(ids, matrix))
        done += len(batch)
        progress(done)
    return fresh


def run_embedding(
    store: Store,
    index_dir: Path,
    settings: Settings,
    report: Callable[[str, int, int], None],
) -> EmbedStats:
    """Bring the vectors up to date with the symbols in ``store``."""
    from ..backends import make_embedder, prepare_query_embedder

    started = time.perf_counter()
    stats = EmbedStats()
    embedder = make_embedder(settings)
    wanted = _unit_ids(store, settings)
    stats.units = len(wanted)
    have = dict(store.rows("SELECT symbol_id, vector_id FROM embedded").fetchall())
    # one scan of the symbols when nothing is pending (the no-op run)
    units = _units(store, settings) if not wanted <= have.keys() else []
    # vectors of symbols no longer embedded by policy (embed_tests turned off, a folder now
    # counted as test code): removed like a deleted file's
    excluded = [(vid, sid) for sid, vid in have.items() if sid not in wanted]
    previous = store.meta("vector_spec")
    stored = stored_spec(store)
    same_model = stored is not None and stored[0] == embedder.model_id
    clean = store.meta("embedding_complete") == "1"
    current = collection_spec(index_dir, stored[0], stored[1], settings) if stored is not None else None
    unchanged_spec = (current is not None and previous == _spec_key(current, settings)
                      and stored[2] == settings.chroma_url)
    steady = same_model and clean and unchanged_spec and not excluded
    trash = store.rows("SELECT COUNT(*) FROM vector_trash").fetchone()[0]
    mirror_key_now = None if settings.chroma_url or not steady else store.meta(META_KEY)
    # the mirror is current, and reflects the deletions since it was written (staged ones too)
    mirrored = (mirror_key_now is not None
                and VectorMirror.key_on_disk(index_dir / "mirror") == mirror_key_now
                and mirror_key_now == mirror_key(previous or "", sorted(have.values())))
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
    outbox = store.rows("SELECT COUNT(*) FROM vector_outbox").fetchone()[0]
    mirror = VectorMirror.open(index_dir / "mirror", mirror_key_now) if mirror_key_now else None
    staged = mirror is not None and len(units) + outbox + trash <= STAGE_LIMIT
    if staged:
        try:
            _run_staged(store, index_dir, settings, embedder, units, mirror, stats, report)
        except LookupError:  # the mirror lacks a vector it should hold: take the full way
            staged = False
            stats.embedded = 0
    if not staged:
        del units  # the full way lists them again after reconciling; docs of 24k symbols weigh ~0.1 GB
        _run_full(store, index_dir, settings, embedder, excluded, stored if same_model else None,
                  previous, stats, report)
    stats.computed = getattr(embedder, "computed", stats.embedded)
    stats.seconds = time.perf_counter() - started
    return stats


#: a small change (a few edited files) is staged in the index instead of opening the vector
#: store (importing chromadb alone takes ~1 s): searches read the query mirror, which is updated
#: at once; the staged changes reach Chroma with the next larger run (or one that finds the
#: mirror missing). Only with embedded Chroma: a shared server is always written directly.
STAGE_LIMIT = 2_000


def _run_staged(store: Store, index_dir: Path, settings: Settings, embedder: object, units: list[tuple],
                mirror: VectorMirror, stats: EmbedStats, report: Callable[[str, int, int], None]) -> None:
    """Embed a small change without opening the vector store: vectors and deletions are staged
    in the index (committed with their ``embedded`` rows) and the query mirror is rewritten."""
    import numpy as np

    spec_key = store.meta("vector_spec") or ""
    store.conn.execute("DELETE FROM meta WHERE key=?", (META_KEY,))  # vectors change from here on

    def write(batch: list[tuple], ids: list[str], matrix: object) -> None:
        store.begin()
        store.conn.executemany(
            "INSERT OR REPLACE INTO embedded(symbol_id, vector_id) VALUES(?, ?)",
            [(row[0], vid) for row, vid in zip(batch, ids)])
        store.conn.executemany(
            "INSERT OR REPLACE INTO vector_outbox(vector_id, path, vector) VALUES(?, ?, ?)",
            [(vid, row[1], np.asarray(vec, dtype=np.float32).tobytes())
             for row, vid, vec in zip(batch, ids, matrix)])  # type: ignore[call-overload]
        store.conn.executemany("DELETE FROM vector_trash WHERE vector_id=?", [(v,) for v in ids])
        store.commit()
        stats.embedded += len(batch)

    done_before = stats.units - len(units)
    fresh = _embed_units(store, embedder, units, write,
                         lambda done: report("embed", done_before + done, stats.units))

    def from_outbox(ids: list[str]) -> object:  # rows the old mirror lacks (staged earlier)
        found = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            found.update(store.rows(
                f"SELECT vector_id, vector FROM vector_outbox WHERE vector_id IN ({','.join('?' * len(part))})",
                part))
        if len(found) < len(ids):
            raise LookupError("a vector is neither in the mirror nor staged")
        return [np.frombuffer(found[i], dtype=np.float32) for i in ids]

    _refresh_mirror(store, index_dir, from_outbox, spec_key, mirror, fresh)


def _run_full(store: Store, index_dir: Path, settings: Settings, embedder: object,
              excluded: list[tuple[str, int]], stored: tuple[str, int, str] | None, previous: str | None,
              stats: EmbedStats, report: Callable[[str, int, int], None]) -> None:
    """Open the vector store, apply what was staged, reconcile it with the index, embed."""
    from ..backends import make_vector_store

    # the model's dimension count is known from the last run when the model is the same
    dimensions = stored[1] if stored is not None else embedder.dimensions  # type: ignore[attr-defined]
    spec = collection_spec(index_dir, embedder.model_id, dimensions, settings)  # type: ignore[attr-defined]
    spec_key = _spec_key(spec, settings)
    if previous not in (None, spec_key):
        stats.reset = f"embedding settings changed ({previous} -> {spec_key}); re-embedding"
        store.begin()
        store.conn.execute("DELETE FROM embedded")
        store.commit()
        _clear_staged(store)  # vectors of the old settings: the collection starts afresh
    vectors = make_vector_store(settings, index_dir, spec, reset_on_mismatch=True)
    old_mirror = VectorMirror.open(index_dir / "mirror", store.meta(META_KEY)) if previous == spec_key else None
    stats.removed += _flush_staged(store, vectors)
    store.conn.execute("DELETE FROM meta WHERE key=?", (META_KEY,))  # vectors change from here on
    store.set_meta("vector_spec", spec_key)
    store.set_meta("embedding_complete", "0")

    if excluded:
        store.begin()
        store.conn.executemany("DELETE FROM embedded WHERE symbol_id=?", [(sid,) for _v, sid in excluded])
        store.commit()
    # reconcile the store with the table (this also deletes the excluded symbols' vectors)
    known = dict(store.rows("SELECT vector_id, symbol_id FROM embedded").fetchall())
    present = vectors.ids()
    orphans = sorted(present - known.keys())
    if orphans:
        vectors.delete(orphans)
        stats.removed += len(orphans)
    lost = [symbol for vector_id, symbol in known.items() if vector_id not in present]
    if lost:
        store.begin()
        store.conn.executemany("DELETE FROM embedded WHERE symbol_id=?", [(s,) for s in lost])
        store.commit()

    units = _units(store, settings)  # again: reconciliation may have put some back
    done_before = stats.units - len(units)
    report("embed", done_before, stats.units)

    def write(batch: list[tuple], ids: list[str], matrix: object) -> None:
        vectors.upsert(ids, matrix, [{"path": row[1]} for row in batch])
        store.begin()
        store.conn.executemany(
            "INSERT OR REPLACE INTO embedded(symbol_id, vector_id) VALUES(?, ?)",
            [(row[0], vid) for row, vid in zip(batch, ids)],
        )
        store.commit()
        stats.embedded += len(batch)

    fresh = _embed_units(store, embedder, units, write,
                         lambda done: report("embed", done_before + done, stats.units))
    store.set_meta("embedding_complete", "1")
    if not settings.chroma_url:
        _refresh_mirror(store, index_dir, vectors.vectors, spec_key, old_mirror, fresh)
