"""Index progress: the time-left estimate and how the CLI shows it."""

from __future__ import annotations

import io
import re

import pytest

from codeassist.cli import ProgressBar
from codeassist.index.eta import Eta, format_time_left
from codeassist.index.indexer import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(eta: Eta, clock: Clock, phase: str, start: int, rate: float, seconds: float, total: int) -> float | None:
    """Report ``rate`` items a second for ``seconds`` (a report every 0.1 s); the last answer."""
    left, done = None, start
    for step in range(int(seconds * 10)):
        clock.now += 0.1
        done = start + int(rate * (step + 1) / 10)
        left = eta.update(phase, done, total)
    return left


def test_time_left_follows_the_recent_pace():
    clock = Clock()
    eta = Eta(clock)
    assert _run(eta, clock, "parse", 0, 10, 2.0, 10_000) is None  # too early to tell
    left = _run(eta, clock, "parse", 20, 10, 8.0, 10_000)
    assert left == pytest.approx((10_000 - 100) / 10, rel=0.05)
    # the pace doubles: within the window the estimate follows it, not the whole-phase average
    left = _run(eta, clock, "parse", 100, 20, 40.0, 10_000)
    assert left == pytest.approx((10_000 - 900) / 20, rel=0.05)
    # a new phase starts over
    assert eta.update("embed", 5, 1_000) is None
    assert eta.update("parse", 10_000, 10_000) is None  # done: nothing left to estimate


def test_no_estimate_before_one_percent():
    clock = Clock()
    eta = Eta(clock)
    assert _run(eta, clock, "parse", 0, 1, 10.0, 100_000) is None  # 10 of 100,000 after 10 s
    assert _run(eta, clock, "parse", 10, 1000, 2.0, 100_000) is not None


def test_time_left_reads_well():
    assert format_time_left(0.2) == "~1s left"
    assert format_time_left(42) == "~42s left"
    assert format_time_left(190) == "~3m10s left"
    assert format_time_left(3 * 3600 + 5 * 60) == "~3h05m left"


def test_progress_lines_in_a_log_say_how_far_and_how_long():
    clock, out = Clock(), io.StringIO()
    bar = ProgressBar(out, clock)
    bar(Progress("walk", 0, 0))
    for done in range(0, 2001):
        clock.now += 0.05  # 20 files a second: 100 s
        bar(Progress("parse", done, 2000))
    bar(Progress("finish", 2000, 2000))
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["codeassist: walk …", "codeassist: parse …"]
    periodic = lines[2:]
    assert len(periodic) == 3  # one every 30 s of a 100 s phase
    for line in periodic:  # "codeassist: parse 601 of 2,000, ~1m10s left"
        match = re.fullmatch(r"codeassist: parse ([\d,]+) of 2,000, ~(?:(\d+)m)?(\d+)s left", line)
        assert match, line
        done, left = int(match[1].replace(",", "")), int(match[2] or 0) * 60 + int(match[3])
        assert left == pytest.approx((2000 - done) / 20, abs=1.5)
    assert [int(re.search(r"parse ([\d,]+)", x)[1].replace(",", "")) // 100 for x in periodic] == [6, 12, 18]
