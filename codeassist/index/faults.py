"""Fault injection for the reliability tests: a plan handed to an index run explicitly.

Normal runs use :data:`NO_FAULTS`, which does nothing. Tests pass a :class:`FaultPlan` to
:func:`~codeassist.index.indexer.build_index`; it travels to the parser processes with their
start-up arguments, so no environment variable or global switch exists in production code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["FaultPlan", "NO_FAULTS"]


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which faults to inject; the default injects none."""

    #: a path suffix: the parser process that is handed this file dies at once, as if the
    #: grammar had segfaulted on it (exit status 139, no clean-up)
    crash_parsing: str = ""

    def before_parse(self, relpath: str) -> None:
        """Called by a parser process before it parses ``relpath``."""
        if self.crash_parsing and relpath.endswith(self.crash_parsing):
            os._exit(139)


NO_FAULTS = FaultPlan()
