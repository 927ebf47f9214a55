"""Intervals as people write them, and the bounded periodic loop ``feeds refresh --every`` (and
``serve``'s refresh thread) run on."""

from __future__ import annotations

import threading

import pytest

from khabar.schedule import parse_interval, run_every


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("45", 45)],
)
def test_intervals_read_as_written(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "15x", "m15", "0s", "-5m"])
def test_what_is_not_an_interval_is_refused(text):
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


class FakeTime:
    """A clock the job moves, and an Event whose wait only moves it: no real waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now


class InstantEvent(threading.Event):
    def __init__(self, time: FakeTime) -> None:
        super().__init__()
        self.time = time

    def wait(self, timeout: float | None = None) -> bool:
        self.time.waits.append(timeout or 0.0)
        self.time.now += timeout or 0.0
        return self.is_set()


def test_runs_every_interval_from_start_to_start_until_max_runs():
    time = FakeTime()
    durations = iter([10.0, 70.0, 5.0])

    def job() -> None:
        time.now += next(durations)

    assert run_every(60.0, job, InstantEvent(time), max_runs=3, clock=time.clock) == 3
    assert time.waits == [50.0, 0.0]  # a run longer than the interval is followed at once


def test_a_set_stop_event_ends_the_loop():
    time = FakeTime()
    stop = InstantEvent(time)
    runs: list[float] = []

    def job() -> None:
        runs.append(time.now)
        if len(runs) == 2:
            stop.set()

    assert run_every(60.0, job, stop, clock=time.clock) == 2
    stop = InstantEvent(time)
    stop.set()
    assert run_every(60.0, job, stop, clock=time.clock) == 0
