"""How long the current phase of an index run has left, estimated from its recent pace."""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

__all__ = ["Eta", "format_time_left", "WARMUP_S", "WINDOW_S"]

#: no estimate before the phase has run this long (and done 1% of its work): the first files say
#: little about the rest
WARMUP_S = 3.0
#: the pace is measured over this many recent seconds: a whole-phase average lags behind a change
#: of pace (a folder of big generated files, another process taking the CPU)
WINDOW_S = 30.0
_SAMPLE_S = 0.5


class Eta:
    """Feed it every progress report (phase, done, total: in the unit that measures the work,
    bytes where files differ in cost); it answers the seconds the phase has left at its pace
    over the last ``WINDOW_S`` seconds, or None while it cannot tell."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._phase: str | None = None
        self._started = 0.0
        self._samples: deque[tuple[float, int]] = deque()

    def feed(self, report: Any) -> float | None:
        """:meth:`update` from an indexer ``Progress`` (its bytes when it has them)."""
        if report.work_total:
            return self.update(report.phase, report.work_done, report.work_total)
        return self.update(report.phase, report.done, report.total)

    def update(self, phase: str, done: int, total: int) -> float | None:
        now = self._clock()
        if phase != self._phase:
            self._phase, self._started = phase, now
            self._samples.clear()
        if not self._samples or now - self._samples[-1][0] >= _SAMPLE_S:
            self._samples.append((now, done))
            while len(self._samples) > 2 and now - self._samples[1][0] >= WINDOW_S:
                self._samples.popleft()
        if total <= 0 or done >= total or done * 100 < total or now - self._started < WARMUP_S:
            return None
        then, done_then = self._samples[0]
        if now <= then or done <= done_then:
            return None
        return (total - done) * (now - then) / (done - done_then)


def format_time_left(seconds: float) -> str:
    """``~40s left``, ``~3m10s left``, ``~1h05m left``."""
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"~{seconds}s left"
    if seconds < 3600:
        return f"~{seconds // 60}m{seconds % 60:02d}s left"
    return f"~{seconds // 3600}h{seconds % 3600 // 60:02d}m left"
