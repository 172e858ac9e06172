"""The one timing protocol, the same for every method (classical, hybrid and neural):

1. Warm-up: one untimed call of the method's warm-up form (`Method.warmup_method`: the same
   method; trained ones with at most 3 steps) on a small Gaussian input (sides at most 16,
   wide enough for the rank) of the cell's dtype, on its device: once per process for each
   form, dtype, device and warm-up shape (what changed in the timed medians: docs/timing.md),
   and in every cell of a method under the group rule, whose guard disturbs the caches
   (`running.measure.WARM`).
2. Timed calls on the cell's input until `repeats` calls or `budget_s` seconds of timed
   calls, whichever comes first (at least one): cheap methods get several samples, a
   minute-long training one.
3. The timed region is `compute`: input on the device -> factors on the device; the device
   is synchronized before and after. The row gets the median, the IQR and the call count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnbench.devices import Device

BUDGET_S = 1.0
WARMUP_SIDE = 16


@dataclass(frozen=True)
class Timing:
    median_s: float
    iqr_s: float
    times_s: tuple[float, ...]

    @property
    def repeats(self) -> int:
        return len(self.times_s)


def warmup_shape(shape: tuple[int, int], rank: int | None) -> tuple[int, int]:
    """The warm-up input's shape: at most WARMUP_SIDE a side, more than `rank` where needed."""
    side = max(WARMUP_SIDE, (rank or 0) + 1)
    return min(shape[0], side), min(shape[1], side)


def warmup_input(shape: tuple[int, int], dtype: str, seed: int) -> np.ndarray:
    """The warm-up matrix: symmetric positive definite when square (so that every method,
    Cholesky included, runs through its library call), Gaussian otherwise."""
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(shape)
    if shape[0] == shape[1]:
        b = b @ b.T / shape[0] + np.eye(shape[0])
    return np.ascontiguousarray(b, dtype=dtype)


def time_call(
    fn: Callable[[], Any], *, repeats: int, device: Device, budget_s: float = BUDGET_S
) -> tuple[Any, Timing]:
    """Time `fn` by step 2 of the protocol above (the caller warms up); its last result."""
    times: list[float] = []
    result = None
    while not times or (len(times) < repeats and sum(times) < budget_s):
        device.synchronize()
        start = time.perf_counter()
        result = fn()
        device.synchronize()
        times.append(time.perf_counter() - start)
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return result, Timing(float(median), float(q3 - q1), tuple(times))
