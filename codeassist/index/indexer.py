"""Build or update an index: walk, diff against what is stored, parse what changed, write.

Incremental by content hash, with a stat fast path: a file whose size and mtime match the stored
row is not even opened. Changed files are parsed in worker processes (when there are enough of
them to pay for the start-up) and written by this process in batched transactions; each file's
rows go in with its ``files`` row, so ``kill -9`` at any point loses at most the current batch,
which the next run redoes.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..config import Settings
from ..walker import PreviousWalk, walk
from .lock import WriterLock
from .faults import NO_FAULTS, FaultPlan
from .reader import BUILD_KEY, LANDMARKS_KEY

WALK_MEMO_KEY = "walk_memo"  # what the next run's walk needs to skip unchanged folders
from .store import Store
from .worker import FileOutcome, FileProcessor, FileTask, init_worker, process_batch

if TYPE_CHECKING:  # pragma: no cover
    from ..embeddings.base import Embedder

__all__ = ["IndexStats", "Progress", "build_index"]

#: fewer changed files than this are parsed in-process (no pool start-up)
_POOL_THRESHOLD = 64
_COMMIT_EVERY_S = 1.0
#: skip reasons that a chmod or a retry can cure without changing size or mtime: never cached
_TRANSIENT_SKIPS = frozenset({"permission-denied", "vanished"})
_COMMIT_EVERY_FILES = 500
_ANNOUNCE_FILES = 1000  # an update of this many files says how far it is (a cold build always does)


#: a file's cost to index in bytes, beyond its size (its share of the per-file work), for the
#: work measure of the parse phase
_FILE_COST_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report: ``phase`` is walk, parse, embed or finish; ``done`` of ``total`` files
    (symbols when embedding). ``work_done`` of ``work_total``: the same in bytes where files
    differ in cost (parse; biggest files go first), for an estimate of the time left."""

    phase: str
    done: int
    total: int
    path: str = ""
    work_done: int = 0
    work_total: int = 0


@dataclass
class IndexStats:
    """What an index run did, and what the index now holds."""

    files: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    symbols: int = 0
    references: int = 0
    chunks: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    parse_errors: int = 0
    seconds: float = 0.0
    rebuilt: str = ""
    errors: list[str] = field(default_factory=list)
    #: "full", or "incremental" (unchanged folders not listed again)
    walk: str = ""
    #: seconds per phase (walk, parse_and_write, finish, embed)
    timings: dict[str, float] = field(default_factory=dict)
    #: symbols that should have a vector, how many have one, how many were computed (not cached)
    embed_units: int = 0
    embedded: int = 0
    embed_computed: int = 0
    #: why the embedding stage failed (the lexical index is complete regardless)
    embed_error: str = ""
    #: the ignore rules (``file:line pattern``) that skipped the most entries, when ignore rules
    #: skipped at least as many files and folders as were indexed: the likely reason a tree
    #: indexes as (almost) nothing
    ignored_mostly_by: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "languages": dict(sorted(self.languages.items(), key=lambda kv: (-kv[1], kv[0]))),
            "symbols": self.symbols,
            "references": self.references,
            "chunks": self.chunks,
            "skipped": dict(sorted(self.skipped.items())),
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "files_with_syntax_errors": self.parse_errors,
            "seconds": round(self.seconds, 3),
            "rebuilt": self.rebuilt,
            "walk": self.walk,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "embed_units": self.embed_units,
            "embedded": self.embedded,
            "embed_computed": self.embed_computed,
            "embed_error": self.embed_error,
            "ignored_mostly_by": dict(self.ignored_mostly_by),
        }


ProgressCallback = Callable[[Progress], None]


def _settings_key(settings: Settings) -> str:
    return f"chunk_chars={settings.chunk_chars};minified={settings.minified_line_length}"


def build_index(
    root: Path,
    folder: Path,
    settings: Settings,
    progress: ProgressCallback | None = None,
    *,
    rebuild: bool = False,
    faults: FaultPlan = NO_FAULTS,
    embedder: Embedder | None = None,
) -> IndexStats:
    """Bring the index in ``folder`` up to date with the repository at ``root``. ``embedder``:
    one kept loaded between runs (a watcher's), else one is made from the settings; ``faults``:
    for the reliability tests only."""
    started = time.perf_counter()
    report = progress or (lambda p: None)
    stats = IndexStats()
    with WriterLock(folder, wait=settings.lock_wait):
        store = Store.open(folder, create=True)
        try:
            reason = store.rebuild_reason
            if rebuild or store.meta("settings") not in (None, _settings_key(settings)):
                reason = "rebuild requested" if rebuild else "chunking settings changed"
                store.reset(reason)
                store.close()
                store = Store.open(folder, create=True)
            stats.rebuilt = reason
            store.set_meta("settings", _settings_key(settings))
            store.set_meta("root", str(root))
            _update(store, root, settings, report, stats, faults)
            store.set_meta("last_indexed", str(time.time()))
            _fill_totals(store, stats)
            if settings.embed:
                _embed(store, folder, settings, report, stats, embedder)
        finally:
            store.close()
    stats.seconds = time.perf_counter() - started
    return stats


def _embed(store: Store, folder: Path, settings: Settings, report: ProgressCallback, stats: IndexStats,
           embedder: Embedder | None) -> None:
    """The semantic stage; the lexical index is already committed, so a failure here loses
    nothing: it is recorded and the next run resumes."""
    from ..errors import CodeassistError
    from .embed_stage import run_embedding

    try:
        result = run_embedding(store, folder, settings, lambda phase, done, total: report(
            Progress(phase, done, total)), embedder)
    except CodeassistError as exc:
        stats.embed_error = str(exc)
        return
    stats.embed_units = result.units
    stats.embedded = store.reader.embedded_count()
    stats.embed_computed = result.computed
    stats.timings["embed"] = result.seconds
    if result.reset:
        stats.rebuilt = (stats.rebuilt + "; " if stats.rebuilt else "") + result.reset


def _update(store: Store, root: Path, settings: Settings, report: ProgressCallback, stats: IndexStats,
            faults: FaultPlan) -> None:
    report(Progress("walk", 0, 0))
    t0 = time.perf_counter()
    known = store.reader.known_files()
    cold = not known
    previous = None
    memo = store.reader.meta(WALK_MEMO_KEY)
    if memo and known and store.reader.build_progress() is None:
        try:
            previous = PreviousWalk(json.loads(memo), list(known))
        except ValueError:
            previous = None
    store.delete_meta(WALK_MEMO_KEY)  # until this run completes: an interrupted one walks in full next time
    walked = walk(root, settings, previous)
    stats.timings["walk"] = time.perf_counter() - t0
    stats.walk = walked.mode
    walk_skips = walked.skipped_by_reason()

    tasks: list[FileTask] = []
    for entry in walked.files:
        row = known.get(entry.relpath)
        if (row is not None and row.size == entry.size and row.mtime_ns == entry.mtime_ns
                and row.skip not in _TRANSIENT_SKIPS):
            stats.unchanged += 1
            continue
        tasks.append(
            FileTask(
                entry.relpath,
                entry.abspath,
                entry.size,
                entry.mtime_ns,
                row.hash if row is not None else None,
                settings.minified_line_length,
                settings.chunk_chars,
            )
        )
    present = {entry.relpath for entry in walked.files}
    gone = [row for path, row in known.items() if path not in present]

    if not cold:
        store.create_indexes()  # no-op normally; restores them after an interrupted cold build
    if gone:
        store.begin()
        for row in gone:
            store.delete_file(row.id)
        store.commit()
        stats.removed = len(gone)

    total = len(tasks)
    size_of = {t.relpath: t.size + _FILE_COST_BYTES for t in tasks}
    work_total, work_done = sum(size_of.values()), 0
    report(Progress("parse", 0, total, work_total=work_total))
    t0 = time.perf_counter()

    last_commit = time.monotonic()
    in_txn = False
    done = 0
    # a big run tells readers how far it is: they answer from what is there and say so
    announce = cold or total >= _ANNOUNCE_FILES
    started_at = time.time()
    def record_progress(done: int) -> None:
        store.set_meta(BUILD_KEY, json.dumps({"pid": os.getpid(), "done": done, "total": total, "started": started_at}))

    if announce:  # at once: a reader that comes before the first batch is committed knows too
        record_progress(0)
    try:
        for outcome in _run(tasks, settings, store.path.parent / "parse-journal", faults):
            if not in_txn:
                store.begin()
                in_txn = True
            _apply(store, outcome, known, stats)
            done += 1
            work_done += size_of.get(outcome.relpath, 0)
            report(Progress("parse", done, total, outcome.relpath, work_done, work_total))
            now = time.monotonic()
            if now - last_commit >= _COMMIT_EVERY_S or done % _COMMIT_EVERY_FILES == 0:
                if announce:
                    record_progress(done)
                store.commit()
                in_txn = False
                last_commit = now
        if in_txn:
            store.commit()
            in_txn = False
    finally:
        if in_txn:
            store.conn.execute("ROLLBACK")
    report(Progress("finish", done, total))
    t1 = time.perf_counter()
    stats.timings["parse_and_write"] = t1 - t0
    if cold:
        store.create_indexes()
    stats.timings["finish"] = time.perf_counter() - t1

    stats.skipped = dict(walk_skips)
    if announce:
        store.delete_meta(BUILD_KEY)
    ignored = sum(walked.ignored_by.values())
    if ignored and ignored >= len(walked.files):
        stats.ignored_mostly_by = dict(walked.ignored_by.most_common(3))
    store.set_meta(LANDMARKS_KEY, json.dumps(walked.landmarks, separators=(",", ":")))
    store.set_meta(WALK_MEMO_KEY, json.dumps(walked.memo(settings), separators=(",", ":")))


def _apply(store: Store, outcome: FileOutcome, known: dict, stats: IndexStats) -> None:
    row = known.get(outcome.relpath)
    if outcome.unchanged and row is not None:
        store.touch_file(row.id, outcome.size, outcome.mtime_ns)
        stats.unchanged += 1
        return
    if row is not None:
        store.delete_file(row.id)
        stats.updated += 1
    else:
        stats.added += 1
    if outcome.error:
        stats.errors.append(f"{outcome.relpath}: {outcome.error}")
    if outcome.parsed is None:
        store.add_skipped(outcome.relpath, outcome.size, outcome.mtime_ns, outcome.digest, outcome.skip or "unreadable")
    else:
        store.add_parsed(outcome.relpath, outcome.size, outcome.mtime_ns, outcome.digest or "", outcome.parsed)


def _run(tasks: list[FileTask], settings: Settings, journal_dir: Path,
         faults: FaultPlan = NO_FAULTS) -> Iterator[FileOutcome]:
    """Process tasks, in worker processes when there are many.

    Work goes out in small batches with a bounded number in flight, so memory stays flat on
    huge repositories. A worker that dies (a grammar crashing on hostile input) does not hang
    the run: each worker journals the file it is parsing, so after a crash only the files that
    were in progress are retried in isolation (the one that kills its process again is skipped
    as ``parse-crash``) and the rest go to a fresh pool.
    """
    workers = settings.workers or os.cpu_count() or 1
    if len(tasks) < _POOL_THRESHOLD or workers <= 1:
        processor = FileProcessor()
        for task in tasks:
            yield processor(task)
        return
    # big files first so that no worker is left with a huge file at the end
    remaining = sorted(tasks, key=lambda t: -t.size)
    # the journal lives in the index folder (we hold its writer lock), so a killed run leaves
    # nothing behind in /tmp; leftovers are cleared by the next run
    journal_dir.mkdir(parents=True, exist_ok=True)
    journal = str(journal_dir)
    while remaining:
        finished: set[str] = set()
        for outcome in _run_pool(remaining, workers, journal, faults):
            finished.add(outcome.relpath)
            yield outcome
        remaining = [t for t in remaining if t.relpath not in finished]
        if not remaining:
            break
        if not finished and not os.listdir(journal):
            # no worker ever started (e.g. a script without the `if __name__ == "__main__":`
            # guard that spawned processes need): parse here instead of failing every file
            logging.getLogger("codeassist").warning(
                "parser processes could not start; parsing in this process instead")
            processor = FileProcessor()
            for task in remaining:
                yield processor(task)
            return
        suspects = _in_progress(journal)
        if not suspects:  # died outside any file (e.g. while sending a result): isolate all
            suspects = {t.relpath for t in remaining}
        for task in remaining:
            if task.relpath in suspects:
                yield _isolated(task, faults)
        remaining = [t for t in remaining if t.relpath not in suspects]


_BATCH = 4


def _run_pool(tasks: list[FileTask], workers: int, journal: str, faults: FaultPlan) -> Iterator[FileOutcome]:
    """Yield outcomes until all tasks are done or the pool breaks."""
    batches = iter([tasks[i : i + _BATCH] for i in range(0, len(tasks), _BATCH)])
    for leftover in os.listdir(journal):
        os.unlink(os.path.join(journal, leftover))
    with _executor(workers, journal, faults) as pool:
        pending = {pool.submit(process_batch, b) for b in itertools.islice(batches, workers * 8)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    results = future.result()
                except BrokenProcessPool:
                    return
                yield from results
                nxt = next(batches, None)
                if nxt is not None:
                    try:
                        pending.add(pool.submit(process_batch, nxt))
                    except BrokenProcessPool:  # another worker died meanwhile: the caller retries the rest
                        return


def _in_progress(journal: str) -> set[str]:
    """Files the workers of a broken pool were parsing when it broke."""
    suspects = set()
    for name in os.listdir(journal):
        try:
            with open(os.path.join(journal, name), encoding="utf-8", errors="surrogateescape") as fh:
                relpath = fh.read()
        except OSError:
            continue
        if relpath:
            suspects.add(relpath)
    return suspects


def _executor(workers: int, journal: str | None = None, faults: FaultPlan = NO_FAULTS) -> ProcessPoolExecutor:
    import multiprocessing

    # spawn: safe when the caller has threads (the TUI does), and measured faster here than
    # forkserver (6.6 s vs 9.0 s for sympy's parse on 2 cores); workers import little.
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(journal, faults, os.getpid()),
    )


def _isolated(task: FileTask, faults: FaultPlan) -> FileOutcome:
    """Process one file in a process of its own; a crash becomes a skip reason."""
    with _executor(1, None, faults) as pool:
        try:
            return pool.submit(process_batch, [task]).result()[0]
        except BrokenProcessPool:
            return FileOutcome(task.relpath, task.size, task.mtime_ns, None, skip="parse-crash",
                               error="the parser process crashed on this file")


def _fill_totals(store: Store, stats: IndexStats) -> None:
    counts = store.reader.counts()
    stats.languages = dict(counts.languages)
    stats.files = counts.files
    for reason, count in counts.skipped.items():
        stats.skipped[reason] = stats.skipped.get(reason, 0) + count
    stats.symbols, stats.references, stats.chunks = counts.symbols, counts.references, counts.chunks
    stats.parse_errors = counts.parse_errors
