"""Per-file work done in parser processes: read, classify, parse. Never raises."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from ..parsing.extract import ParsedFile, parse_file
from ..parsing.languages import detect_language
from ..parsing.terms import TermExpander
from ..textfile import read_text
from .faults import NO_FAULTS, FaultPlan

__all__ = ["FileTask", "FileOutcome", "FileProcessor", "process_file", "process_batch", "init_worker"]


@dataclass(frozen=True, slots=True)
class FileTask:
    relpath: str
    abspath: str
    size: int
    mtime_ns: int
    #: hash already stored for this path; when the content still matches, nothing is parsed
    known_hash: str | None
    minified_line_length: int
    chunk_chars: int


@dataclass(frozen=True, slots=True)
class FileOutcome:
    relpath: str
    size: int
    mtime_ns: int
    digest: str | None
    parsed: ParsedFile | None = None
    skip: str | None = None
    #: content unchanged since the last index (only the stat changed)
    unchanged: bool = False
    error: str | None = None


class FileProcessor:
    """Callable that processes tasks; holds per-process state (the term memo)."""

    def __init__(self) -> None:
        self.expander = TermExpander()

    def __call__(self, task: FileTask) -> FileOutcome:
        return process_file(task, self.expander)


def process_file(task: FileTask, expander: TermExpander | None = None) -> FileOutcome:
    """Read and parse one file; bad input becomes a skip reason, not an exception."""
    result = read_text(task.abspath, task.minified_line_length)
    if result.digest is not None and result.digest == task.known_hash:
        return FileOutcome(task.relpath, task.size, task.mtime_ns, result.digest, unchanged=True)
    if result.data is None:
        return FileOutcome(task.relpath, task.size, task.mtime_ns, result.digest, skip=result.skip)
    language = detect_language(task.relpath, result.data[:256]) or "text"
    try:
        parsed = parse_file(result.data, task.relpath, language, task.chunk_chars, expander)
    except RecursionError:
        return FileOutcome(task.relpath, task.size, task.mtime_ns, result.digest, skip="parse-error",
                           error="nesting too deep")
    except Exception as exc:  # a grammar or query failure must not take the indexer down
        return FileOutcome(
            task.relpath, task.size, task.mtime_ns, result.digest, skip="parse-error",
            error=f"{type(exc).__name__}: {exc}",
        )
    return FileOutcome(task.relpath, task.size, task.mtime_ns, result.digest, parsed=parsed)


# State of a pool worker process (made by the pool initializer): its processor, and the journal
# file where it notes the file it is parsing, so that a crash can be traced to that file.
# Per-process state, not shared with any other process: set once by the initializer.
_worker_processor: FileProcessor | None = None
_worker_journal: str | None = None
_worker_faults: FaultPlan = NO_FAULTS


#: how often a parser process checks that the indexer that started it is still alive
PARENT_CHECK_S = 0.25


def init_worker(journal_dir: str | None = None, faults: FaultPlan = NO_FAULTS, parent_pid: int | None = None) -> None:
    """Pool initializer: give this worker process its own processor, journal and fault plan,
    and make it exit when the indexer that started it (``parent_pid``, told by the indexer:
    one that died before this ran has left the worker another parent already) dies, however
    it dies."""
    global _worker_processor, _worker_journal, _worker_faults
    parent = os.getppid() if parent_pid is None else parent_pid
    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="codeassist-parent-watch",
                     daemon=True).start()
    _worker_processor = FileProcessor()
    _worker_journal = os.path.join(journal_dir, str(os.getpid())) if journal_dir else None
    _worker_faults = faults
    _journal("")  # an empty journal says "this worker started" (and is parsing nothing yet)


def _exit_with_parent(parent_pid: int) -> None:
    """Exit this process as soon as its parent is gone. After a ``kill -9`` of the indexer a
    worker would otherwise live on, blocked writing to a result pipe whose read end it holds
    itself (it never sees EOF); ``os._exit`` ends it whatever its main thread is doing."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(0)


def _journal(relpath: str) -> None:
    if _worker_journal is not None:
        with open(_worker_journal, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(relpath)


def process_batch(tasks: list[FileTask]) -> list[FileOutcome]:
    """Pool entry point; see :func:`init_worker`."""
    assert _worker_processor is not None, "init_worker was not run in this process"
    outcomes = []
    for task in tasks:
        _journal(task.relpath)
        _worker_faults.before_parse(task.relpath)
        outcomes.append(_worker_processor(task))
    _journal("")
    return outcomes
