"""The bench scripts' timers, both the runner's `running.timing.time_call` on the CPU:
`best_of` (the least time of a few calls) and `alternating_times` (two calls timed in turn, so
that a change in the machine's load hits both), with its two summaries."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from nnbench.devices import DEVICES
from nnbench.running.timing import time_call

T = TypeVar("T")


def best_of(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The least wall time of up to `repeats` calls (fewer once `timing.BUDGET_S` of calls is
    spent, as in the timing protocol), and the last call's result."""
    result, timing = time_call(fn, repeats=repeats, device=DEVICES["cpu"])
    return min(timing.times_s), result


def alternating_times(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    *,
    repeats: int,
    budget_s: float = math.inf,
) -> np.ndarray:
    """(pairs, 2) seconds of `ours` and of `theirs`, each call timed by the runner's
    `time_call`, the two alternating (so that a change in the machine's load hits both): after
    a warm-up call of each, up to `repeats` pairs, fewer once `budget_s` is spent (at least 3)."""
    cpu = DEVICES["cpu"]
    ours()
    theirs()
    times: list[tuple[float, float]] = []
    while len(times) < repeats and (len(times) < 3 or sum(map(sum, times)) < budget_s):
        times.append(
            (
                time_call(ours, repeats=1, device=cpu)[1].median_s,
                time_call(theirs, repeats=1, device=cpu)[1].median_s,
            )
        )
    return np.array(times)


def alternating_medians(
    ours: Callable[[], object], theirs: Callable[[], object], *, repeats: int, budget_s: float
) -> tuple[float, float]:
    """Median seconds of `ours` and of `theirs` (`alternating_times`)."""
    times = alternating_times(ours, theirs, repeats=repeats, budget_s=budget_s)
    return float(np.median(times[:, 0])), float(np.median(times[:, 1]))


def paired_ratios(
    ours: Callable[[], object], theirs: Callable[[], object], *, pairs: int
) -> tuple[float, np.ndarray]:
    """The median seconds of `theirs` and each pair's ours / theirs (`alternating_times`)."""
    times = alternating_times(ours, theirs, repeats=pairs)
    return float(np.median(times[:, 1])), times[:, 0] / times[:, 1]
