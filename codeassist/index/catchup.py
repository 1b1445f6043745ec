"""What a short-lived command does about a stale index before it answers: update first when the
change is small, else say how far behind the index is (and never wait on another indexer)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import IndexLockedError, IndexNotBuiltError
from .freshness import Freshness, check_freshness
from .reader import BuildProgress
from .store import open_reader
from .watcher import watcher_info

if TYPE_CHECKING:  # pragma: no cover
    from .indexer import IndexStats

__all__ = ["CatchUp", "catch_up"]


@dataclass(frozen=True)
class CatchUp:
    """What a short-lived command did about a stale index before answering."""

    before: Freshness
    #: the update it ran (lexical and symbols; vectors follow with the next full run), if any
    updated: IndexStats | None = None
    #: a line for the user ("" when the index was up to date)
    note: str = ""
    #: an unfinished big index run: the index holds part of the repository
    building: BuildProgress | None = None
    #: the watcher brought the index up to date while this waited for it
    caught_up_by_watcher: bool = False

    @property
    def partial(self) -> bool:
        return self.building is not None

    @property
    def index_changed(self) -> bool:
        """The index changed while this ran (an answer made meanwhile is stale)."""
        return self.updated is not None or self.caught_up_by_watcher

    def to_dict(self) -> dict[str, object]:
        data = self.before.to_dict()
        data["partial"] = self.partial
        data["building"] = self.building.to_dict() if self.building else None
        data["updated_files"] = (self.updated.added + self.updated.updated + self.updated.removed
                                 if self.updated else 0)
        data["note"] = self.note
        return data


def catch_up(root: Path, index_dir: Path, settings: Settings) -> CatchUp:
    """Check freshness; when files changed, update first if the change is small (at most
    ``auto_update_files`` changed files, lexical and symbol index only, never waiting for
    another indexer), else say how far behind the index is. Without a usable index, nothing:
    the command that needs one says how to build it."""
    try:
        with open_reader(index_dir) as index:
            building = index.build_progress()
            if building is not None:  # answer from what is there, at once, and say so
                return CatchUp(Freshness(changed_files=max(0, building.total - building.done)),
                               note=building.describe(), building=building)
            before = check_freshness(index, root)
    except IndexNotBuiltError:
        return CatchUp(Freshness())
    if before.up_to_date:
        return CatchUp(before)
    what = before.describe()
    if watcher_info(index_dir) is not None:
        deadline = time.monotonic() + 2.0  # the watcher updates within a second of a change
        while time.monotonic() < deadline:
            time.sleep(0.1)
            with open_reader(index_dir) as index:
                if check_freshness(index, root).up_to_date:
                    return CatchUp(before, note=f"waited for the watcher to index {what}",
                                   caught_up_by_watcher=True)
        return CatchUp(before, note=f"the index is behind ({what}); the watcher is updating it")
    pending = before.changed_files
    if before.changed_folders and settings.auto_update:  # how many files that is: only a walk says
        from .lookup import pending_changes

        with open_reader(index_dir) as index:
            pending = pending_changes(index, root, settings)
    if not settings.auto_update or pending > settings.auto_update_files:
        return CatchUp(before, note=f"the index is behind the files ({what}); run `codeassist index` "
                                    "or keep `codeassist watch` running")
    try:
        from .indexer import build_index  # only when there is something to update

        stats = build_index(root, index_dir, dataclasses.replace(settings, embed=False, lock_wait=0.0))
    except IndexLockedError:
        return CatchUp(before, note=f"the index is behind ({what}) and another process is updating it")
    changed = stats.added + stats.updated + stats.removed
    return CatchUp(before, stats, f"updated the index first: {changed} file{'s' if changed != 1 else ''} "
                                  f"in {stats.seconds:.2f}s")
