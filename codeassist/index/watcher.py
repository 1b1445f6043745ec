"""Keep an index current while files change: file-system events → the incremental run.

Events come from ``watchfiles`` (the Rust ``notify`` binding: inotify, FSEvents, ...), are
filtered by the walk's own ignore rules (``.git/``, ``node_modules``, ``.gitignore``d build
output, editors' swap and backup files, the index folder itself cause no work), and coalesced:
a save is one update, a ``git checkout`` that rewrites 2,000 files one or two. Each update is
the ordinary incremental run under the writer lock, so readers are never blocked and two
updates never overlap. The lexical and symbol index is updated first (searchable at once), then
the vectors of what changed, with one embedding model kept loaded between updates.

When the operating system refuses more watches (inotify's ``max_user_watches``), or the folder
is on a network file system, the watcher polls instead and says so once. It stops cleanly when
asked (a ``threading.Event``), and with a clear error when the watched folder is moved or
deleted.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..config import Settings
from ..errors import CodeassistError, IndexLockedError
from ..walker import IgnoreRules

if TYPE_CHECKING:  # pragma: no cover
    from ..embeddings.base import Embedder
    from .indexer import IndexStats

__all__ = ["Watcher", "WatchUpdate", "WatchError", "watcher_info", "HEARTBEAT_NAME"]

#: the watcher's heartbeat in the index folder: who watches, since when, last update
HEARTBEAT_NAME = "watcher.json"
#: seconds between the freshness checks that catch events the operating system dropped
SAFETY_CHECK_S = 30.0
#: how long the event wait blocks before checking the folder and the safety timer (ms); the
#: first wake-up, with the watches in place, runs the catch-up update
_WAKE_MS = 300
#: file systems where change events do not arrive (or not from other machines): poll there
_NETWORK_FS = ("nfs", "nfs4", "cifs", "smbfs", "smb3", "9p", "fuse.sshfs", "afs", "ncpfs", "glusterfs",
               "ceph", "fuse.rclone", "davfs", "virtiofs", "vboxsf")
#: editors' short-lived temporary files (swap and backup files the walk itself skips): a write to
#: one is followed by the rename or write that matters
_EDITOR_LITTER = (".tmp", ".crswap", ".kate-swp", "___jb_tmp___", "___jb_old___")


class WatchError(CodeassistError):
    """The watched folder is gone (moved or deleted), or watching cannot go on."""

    exit_code = 1


@dataclass(frozen=True)
class WatchUpdate:
    """One update made by the watcher."""

    #: changed paths the events named (after filtering; 0 for the catch-up at start)
    paths: int
    stats: IndexStats
    #: seconds the lexical update took, and the vectors after it (0 when embeddings are off)
    lexical_seconds: float
    embed_seconds: float = 0.0
    #: a one-line reason the vectors were not updated ("" when they were, or are off)
    embed_error: str = ""
    at: float = field(default_factory=time.time)

    def describe(self) -> str:
        s = self.stats
        changed = s.added + s.updated + s.removed
        line = (f"{changed} file{'s' if changed != 1 else ''} updated ({s.added} added, {s.updated} changed, "
                f"{s.removed} removed) in {self.lexical_seconds:.2f}s")
        if self.embed_seconds:
            line += f", vectors in {self.embed_seconds:.2f}s"
        return line


def _network_fs(path: Path) -> str | None:
    """The file-system type of ``path`` when it is a network one (Linux ``/proc/mounts``)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3:
            point = parts[1].replace("\\040", " ")
            if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
                best, kind = point, parts[2]
    return kind if kind in _NETWORK_FS else None


def _watch_limit_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return ("watch limit" in text or "max_user_watches" in text or "no space left" in text
            or "too many open files" in text or getattr(exc, "errno", None) in (28, 24))


class Watcher:
    """Watches one repository and keeps its index current (see the module docstring)."""

    def __init__(self, root: Path, index_dir: Path, settings: Settings, *,
                 on_update: Callable[[WatchUpdate], None] | None = None,
                 on_notice: Callable[[str], None] | None = None,
                 on_pending: Callable[[int], None] | None = None,
                 force_polling: bool = False, step_ms: int = 50, debounce_ms: int = 1600,
                 poll_delay_ms: int = 300) -> None:
        self.root = root
        self.index_dir = index_dir
        self.settings = settings
        self._on_update = on_update or (lambda update: None)
        self._on_notice = on_notice or (lambda message: None)
        self._on_pending = on_pending or (lambda n: None)
        self.force_polling = force_polling
        self._step, self._debounce, self._poll_delay = step_ms, debounce_ms, poll_delay_ms
        self._rules = IgnoreRules(root, settings)
        self._embedder: Embedder | None = None
        #: the index folder, when it lies inside the repository (its writes are not changes)
        self._own = self._inside_root(index_dir)
        self.updates = 0

    def _inside_root(self, path: Path) -> str | None:
        real, root = os.path.realpath(path), os.path.realpath(self.root)
        return real + os.sep if real.startswith(root + os.sep) else None

    # ------------------------------------------------------------------ filtering
    def relevant(self, path: str) -> bool:
        """Whether a change at ``path`` (absolute) can change the index."""
        if self._own and (path + os.sep).startswith(self._own):
            return False
        root = os.path.realpath(self.root)
        if not path.startswith(root + os.sep):
            return path == root
        rel = path[len(root) + 1:].replace(os.sep, "/")
        name = rel.rsplit("/", 1)[-1]
        if name.endswith(_EDITOR_LITTER) or name == "4913":
            return False  # vim probes writability with a file named 4913
        if rel == ".git/index":  # git's list of tracked files may have changed: read it again later
            self._rules.forget()
            return False
        if name in (".gitignore", ".codeassistignore") or rel == ".git/info/exclude":
            self._rules.forget()  # the rules themselves changed: what they cover may be new
            return True
        return not self._rules.skips(rel, is_dir=os.path.isdir(path))

    # ------------------------------------------------------------------ running
    def run(self, stop: threading.Event) -> None:
        """Catch up once the watches are in place, then update on every relevant change until
        ``stop`` is set. Raises
        WatchError when the folder goes away; KeyboardInterrupt passes through (the index
        stays consistent: an interrupted run is finished by the next)."""
        import watchfiles

        if not self.root.is_dir():
            raise WatchError(f"{self.root} is not a folder (moved or deleted?); nothing to watch")
        polling = self.force_polling
        network = _network_fs(self.root)
        if network and not polling:
            polling = True
            self._on_notice(f"{self.root} is on a network file system ({network}), where change events "
                            "do not arrive reliably; polling for changes instead")
        self._beat(polling)
        ignore_denied = False
        try:
            while not stop.is_set():
                try:
                    self._watch(watchfiles, stop, polling, ignore_denied)
                    return
                except (OSError, RuntimeError) as exc:
                    if not self.root.is_dir():
                        raise WatchError(f"the watched folder {self.root} was moved or deleted; "
                                         "stopped watching") from None
                    if isinstance(exc, PermissionError) and not ignore_denied:
                        ignore_denied = True  # an unreadable folder: watch the rest
                        self._on_notice(f"some folders cannot be read ({exc}); changes there are not seen")
                    elif not polling and _watch_limit_error(exc):
                        polling = True
                        self._beat(polling)
                        self._on_notice(f"the system refused more file watches ({exc}); polling for changes "
                                        "instead (raise fs.inotify.max_user_watches to get events again)")
                    else:
                        raise
        finally:
            self._clear_beat()

    def _watch(self, watchfiles: object, stop: threading.Event, polling: bool, ignore_denied: bool) -> None:
        def keep(change: object, path: str) -> bool:
            return self.relevant(path)

        batches = watchfiles.watch(  # type: ignore[attr-defined]
            self.root, watch_filter=keep, debounce=self._debounce, step=self._step, stop_event=stop,
            rust_timeout=_WAKE_MS, yield_on_timeout=True, raise_interrupt=True, force_polling=polling,
            poll_delay_ms=self._poll_delay, ignore_permission_denied=ignore_denied)
        next_check = time.monotonic() + SAFETY_CHECK_S
        caught_up = False
        for changes in batches:
            if stop.is_set():
                return
            if not self.root.is_dir():
                raise WatchError(f"the watched folder {self.root} was moved or deleted; stopped watching")
            if not caught_up:
                # the first yield comes once the watches are in place: catching up now misses
                # nothing (a change made meanwhile arrives as the next batch)
                caught_up = True
                self._update(len(changes))
                next_check = time.monotonic() + SAFETY_CHECK_S
            elif changes:
                self._on_pending(len(changes))
                self._update(len(changes))
                next_check = time.monotonic() + SAFETY_CHECK_S
            elif time.monotonic() >= next_check:
                # events can be lost without a word (a full kernel queue, folders made after the
                # watch limit was reached): a cheap freshness check catches what they missed
                next_check = time.monotonic() + SAFETY_CHECK_S
                self._beat(None)  # still alive
                if self._stale():
                    self._on_notice("changes were missed by the file-system events; updating")
                    self._update(0)

    def _stale(self) -> bool:
        from .freshness import check_freshness
        from .store import open_reader

        try:
            with open_reader(self.index_dir) as index:
                return not check_freshness(index, self.root).up_to_date
        except CodeassistError:
            return True

    def _update(self, paths: int) -> None:
        from .indexer import build_index  # not needed by the short-lived readers of watcher_info

        settings = self.settings
        try:
            lexical = build_index(self.root, self.index_dir, _lexical_only(settings))
        except IndexLockedError as exc:  # another indexer held the lock for a minute: next time
            self._on_notice(f"update skipped: {exc}")
            return
        embed_seconds, embed_error = 0.0, ""
        if settings.embed:
            embed_seconds, embed_error = self._embed()
        update = WatchUpdate(paths, lexical, lexical.seconds, embed_seconds, embed_error)
        self.updates += 1
        self._beat(None, update)
        self._on_update(update)

    def _embed(self) -> tuple[float, str]:
        """The vectors of what changed, with the embedding model kept between updates."""
        from ..factory import make_embedder
        from .indexer import build_index

        if self._embedder is None:
            try:
                self._embedder = make_embedder(self.settings)
            except CodeassistError as exc:
                return 0.0, str(exc)
        started = time.monotonic()
        try:
            stats = build_index(self.root, self.index_dir, self.settings, embedder=self._embedder)
        except IndexLockedError as exc:
            return 0.0, str(exc)
        return time.monotonic() - started, stats.embed_error

    # ------------------------------------------------------------------ heartbeat
    def _beat(self, polling: bool | None, update: WatchUpdate | None = None) -> None:
        """Record in the index folder that this process watches (``status`` reads it)."""
        path = self.index_dir / HEARTBEAT_NAME
        try:
            data = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            data = {}
        if data.get("pid") != os.getpid():
            data = {"pid": os.getpid(), "root": str(self.root), "since": time.time(), "updates": 0}
        data["last_seen"] = time.time()  # refreshed at least every SAFETY_CHECK_S while alive
        if polling is not None:
            data["polling"] = polling
        if update is not None:
            data["updates"] = self.updates
            data["last_update"] = update.at
            data["last_update_files"] = update.stats.added + update.stats.updated + update.stats.removed
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{HEARTBEAT_NAME}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, path)
        except OSError:
            pass

    def _clear_beat(self) -> None:
        path = self.index_dir / HEARTBEAT_NAME
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


def _lexical_only(settings: Settings) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, embed=False, lock_wait=max(settings.lock_wait, 60.0))


def watcher_info(index_dir: Path) -> dict[str, object] | None:
    """The live watcher of an index, from its heartbeat (None when no process watches it)."""
    path = index_dir / HEARTBEAT_NAME
    try:
        data = json.loads(path.read_text())
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if time.time() - float(data.get("last_seen") or data.get("since") or 0) > 3 * SAFETY_CHECK_S + 10:
        return None  # not refreshed: its process died (its pid may belong to another by now)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a watcher that died without clearing its heartbeat
    except PermissionError:
        pass
    return data
