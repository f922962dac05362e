"""Executors: one result per item in order, failures reported, progress, cancellation."""

from __future__ import annotations

import time

import pytest

from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.run.executor import InlineExecutor, LocalExecutor


def square_or_fail(item, progress, cancel):
    progress(0.5)
    time.sleep(0.2)  # long enough for the report to travel before the result
    if item == 3:
        raise MediaError(f"clip{item}.mov", "file is truncated")
    if item == 4:
        raise ZeroDivisionError("division by zero")
    return item * item


def wait_for_cancel(item, progress, cancel):
    for _ in range(400):
        progress(0.1)
        if cancel():
            raise Cancelled("stopped")
        time.sleep(0.025)
    return item


EXECUTORS = [InlineExecutor(), LocalExecutor(max_workers=2)]


@pytest.mark.parametrize("executor", EXECUTORS, ids=["inline", "local"])
def test_bad_item_is_reported_and_the_others_finish(executor):
    results = executor.run(square_or_fail, [1, 2, 3, 4, 5])
    assert [r.item for r in results] == [1, 2, 3, 4, 5]
    assert [r.value for r in results if r.ok] == [1, 4, 25]
    assert results[2].error == "clip3.mov: file is truncated"
    assert results[3].error == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize("executor", EXECUTORS, ids=["inline", "local"])
def test_progress_reaches_the_caller(executor):
    events = []
    executor.run(square_or_fail, [1, 2], progress=events.append)
    assert {e.item for e in events if e.fraction == 0.5} == {1, 2}
    assert events[-1].done == 2 and events[-1].overall == 1.0
    finished_at = {}
    for n, e in enumerate(events):
        if e.fraction == 1.0:
            finished_at[e.item] = n
    assert all(n < finished_at[e.item] for n, e in enumerate(events) if e.fraction < 1.0), "no report after the result"


@pytest.mark.parametrize("executor", EXECUTORS, ids=["inline", "local"])
def test_cancel_stops_running_jobs(executor):
    started = time.monotonic()
    seen = []

    def progress(p):
        seen.append(p)

    with pytest.raises(Cancelled):
        executor.run(wait_for_cancel, [1, 2, 3, 4], progress=progress, cancel=lambda: len(seen) > 2)
    assert time.monotonic() - started < 8  # each job alone would take 10 s


def test_empty_input():
    assert LocalExecutor().run(square_or_fail, []) == []
