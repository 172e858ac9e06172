"""`nnbench bench group-rule-cost`: what enforcing the group rule (`running.guard`) costs the
shipped neural methods' timed calls."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.devices import DEVICES
from nnbench.report.stats import median_interval
from nnbench.running.guard import group_rule
from nnbench.running.threads import DEFAULT_THREADS
from nnbench.running.timing import time_call

GUARDED = (
    "neural-lu-adam[steps=200]",
    "neural-lu-convex[max_steps=100]",
    "neural-lowrank-adam[max_steps=200]",
    "neural-lowrank-lbfgs[max_steps=40]",
    "neural-gha",
    "neural-eigengame",
)
"""The shipped neural methods (`expensive` study budgets aside), at budgets of 5-200 ms."""


def group_rule_cost(
    *,
    n: int = 64,
    rank: int = 8,
    pairs: int = 41,
    calls: int = 5,
    budget_s: float = 30.0,
    swaps: int = 1000,
    seed: int = 0,
) -> None:
    """What enforcing the group rule (`running.guard`) costs the shipped neural methods'
    timed calls: each one's `compute` on an n x n SPD matrix (rank-k ones at `rank`), `calls`
    timed calls by the runner's `time_call` (their median, as a row's `time_s`) after an
    untimed one, with the guard put in place around them as a cell does (before its warm-up
    call), and as many without, alternating (and which goes first alternating too), up to
    `pairs` pairs within `budget_s` per method. Prints each method's median per-pair ratio
    with its IQR, and the median of every pair's ratio with a 95% bootstrap interval; then
    what putting the guard in place and taking it away costs (once per cell, untimed), the
    median of `swaps`. Goal: a ratio <= 1.02."""
    from nnbench.methods import select_methods
    from nnbench.running.threads import thread_limit

    a = MATRIX_FAMILIES["spd"].make(n, seed=0)
    print(
        f"spd {n}x{n} float64, CPU, {DEFAULT_THREADS} thread(s); up to {pairs} alternating "
        f"pairs of {calls} timed calls (their median), without and with the guard"
    )
    print(f"{'method':<36} {'without ms':>10} {'with ms':>10} {'ratio':>6} {'IQR':>15} pairs")
    every: list[float] = []
    with thread_limit(DEFAULT_THREADS):
        for method in select_methods(list(GUARDED)):
            x = method.prepare(a, device="cpu")
            call = partial(method.compute, x, rank=rank if method.needs_rank else None, seed=0)
            timed = partial(_guarded_median, method, call, calls=calls)
            times = _alternating_guard(timed, pairs=pairs, budget_s=budget_s)
            ratios = np.array(times[True]) / np.array(times[False])
            every += ratios.tolist()
            q1, median, q3 = np.percentile(ratios, [25, 50, 75])
            print(
                f"{method.name:<36} {np.median(times[False]) * 1e3:>10.2f} "
                f"{np.median(times[True]) * 1e3:>10.2f} {median:>6.3f} "
                f"[{q1:.3f}, {q3:.3f}] {len(ratios):>5}"
            )
        swap_s = _swap_seconds(select_methods(GUARDED[0])[0], swaps)
    pooled, low, high = median_interval(np.array(every), resamples=2000, seed=seed)
    print(
        f"every pair: median ratio {pooled:.3f} [95% {low:.3f}, {high:.3f}], {len(every)} "
        f"pairs (goal <= 1.02: {'met' if pooled <= 1.02 else 'NOT met'}); the guard put in "
        f"place and taken away: {np.median(swap_s) * 1e6:.0f} us (untimed, once per cell)"
    )


def _guarded_median(method: Any, call: Callable[[], object], guarded: bool, *, calls: int) -> float:
    """The median of `calls` timed calls after an untimed one, as a cell times them, inside
    the group rule's guard or not."""
    with group_rule(method) if guarded else contextlib.nullcontext():
        call()  # the cell's warm-up call, untimed, inside the guard as there
        timing = time_call(call, repeats=calls, device=DEVICES["cpu"], budget_s=math.inf)[1]
    return timing.median_s


def _alternating_guard(
    timed: Callable[[bool], float], *, pairs: int, budget_s: float
) -> dict[bool, list[float]]:
    """`timed(guarded)` with the guard and without, by guard, after a warm-up of each: up to
    `pairs` pairs (at least 5) within `budget_s`, which goes first alternating."""
    timed(True), timed(False)  # warm-up
    times: dict[bool, list[float]] = {False: [], True: []}
    start = time.perf_counter()
    while len(times[True]) < pairs and (
        len(times[True]) < 5 or time.perf_counter() - start < budget_s
    ):
        first = len(times[True]) % 2 == 0
        for guarded in (first, not first):
            times[guarded].append(timed(guarded))
    return times


def _swap_seconds(method: Any, swaps: int) -> list[float]:
    """Seconds of putting the guard in place and taking it away, `swaps` times."""
    swap_s = []
    for _ in range(swaps):
        start = time.perf_counter()
        with group_rule(method):
            pass
        swap_s.append(time.perf_counter() - start)
    return swap_s
