"""Where a command's time and memory go, stage by stage: read, typing, profile, preprocessing, ...

The library marks its stages with :func:`stage`; nothing is measured unless a caller asks with
:func:`record` (``hotleads train --timings``, ``bench/stage_profile.py``), so the marks cost one
context-variable lookup otherwise. Time is exclusive: a stage entered inside another pauses the
outer one, so the stages add up to the wall time they cover. Memory is each stage's peak
resident set (RSS): on Linux the kernel's high-water mark is reset as a stage begins
(``/proc/self/clear_refs``, value 5) and read as it ends; elsewhere the process's peak so far
stands in for it.

Examples
--------
>>> with record() as timings:
...     with stage("read"):
...         rows = list(range(1000))
>>> list(timings.stages), timings.stages["read"].calls
(['other', 'read'], 1)
"""

from __future__ import annotations

import contextlib
import contextvars
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

STAGES = ("loading", "read", "typing", "profile", "preprocessing", "discovery", "fitting", "calibration", "diagnostics", "explanations", "scoring", "writing")

_ACTIVE: contextvars.ContextVar[Timings | None] = contextvars.ContextVar("hotleads_timings", default=None)
_CLEAR_REFS, _STATUS = Path("/proc/self/clear_refs"), Path("/proc/self/status")


@dataclass
class StageTime:
    """One stage's exclusive wall ``seconds``, its peak RSS in bytes and how often it was entered."""

    seconds: float = 0.0
    peak_rss: int = 0
    calls: int = 0


@dataclass
class Timings:
    """Per-stage :class:`StageTime` in the order the stages were first entered; ``wall``: seconds recorded in all."""

    stages: dict[str, StageTime] = field(default_factory=dict)
    wall: float = 0.0
    _open: list[str] = field(default_factory=list)
    _since: float = 0.0

    def enter(self, name: str) -> None:
        self._charge()
        self.stages.setdefault(name, StageTime()).calls += 1
        self._open.append(name)

    def leave(self) -> None:
        self._charge()
        self._open.pop()

    def _charge(self) -> None:
        """Give the time and peak memory since the last mark to the innermost open stage, then restart both."""
        now = time.perf_counter()
        if self._open:
            spent = self.stages[self._open[-1]]
            spent.seconds += now - self._since
            spent.peak_rss = max(spent.peak_rss, _peak_rss())
        _reset_peak_rss()
        self._since = now

    def rows(self) -> list[dict]:
        """One dict per stage (``stage``, ``seconds``, ``share`` of the recorded wall time, ``peak_mib``, ``calls``)."""
        return [
            {"stage": name, "seconds": t.seconds, "share": t.seconds / self.wall if self.wall else 0.0, "peak_mib": t.peak_rss / 2**20, "calls": t.calls}
            for name, t in self.stages.items()
        ]


@contextlib.contextmanager
def record() -> Iterator[Timings]:
    """Measure the stages the library enters inside this block; the :class:`Timings` fill in as they run."""
    timings = Timings()
    token = _ACTIVE.set(timings)
    started = time.perf_counter()
    try:
        with stage("other"):  # time between marked stages (start-up, glue) is not lost
            yield timings
    finally:
        timings.wall = time.perf_counter() - started
        _ACTIVE.reset(token)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark the code inside as stage ``name`` (one of :data:`STAGES`) for a :func:`record` in progress."""
    timings = _ACTIVE.get()
    if timings is None:
        yield
        return
    timings.enter(name)
    try:
        yield
    finally:
        timings.leave()


def _reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        _CLEAR_REFS.write_text("5")


def _peak_rss() -> int:
    """The resident set's high-water mark in bytes (since the last reset where Linux allows it)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux
