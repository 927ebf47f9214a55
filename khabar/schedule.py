"""Running a job every so often: ``khabar feeds refresh --every 15m``, and the same inside
``khabar serve`` (in a thread, stopped through an event).

Hand-written because it is ten lines: a scheduler library (APScheduler, schedule) would add a
dependency for one fixed-interval job, and its own threads to stop.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


def parse_interval(text: str) -> float:
    """Seconds in "90s", "15m", "1h", "1d" or "1h30m" (a bare number is seconds). Raises ValueError."""
    spelled = text.strip().lower().replace(" ", "")
    if not spelled or _INTERVAL.sub("", spelled):
        raise ValueError(f"{text!r} is not an interval: write it like 90s, 15m, 1h or 1h30m")
    seconds = sum(float(n) * _UNITS[unit or "s"] for n, unit in _INTERVAL.findall(spelled))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not an interval: it must be longer than nothing")
    return seconds


def run_every(
    interval: float,
    job: Callable[[], object],
    stop: threading.Event,
    max_runs: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run ``job`` now and then every ``interval`` seconds (from one start to the next; a run
    that took longer is followed at once) until ``stop`` is set or ``max_runs`` runs are done.
    Returns the number of runs. An exception of ``job`` ends the loop (the caller decides)."""
    runs = 0
    while not stop.is_set():
        started = clock()
        job()
        runs += 1
        if max_runs is not None and runs >= max_runs:
            break
        stop.wait(max(0.0, started + interval - clock()))
    return runs
