"""Wall-clock timing: warm-up outside the timed region, repeats, median and IQR, device sync."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnbench.devices import Device


@dataclass(frozen=True)
class Timing:
    median_s: float
    iqr_s: float
    times_s: tuple[float, ...]

    @property
    def repeats(self) -> int:
        return len(self.times_s)


def time_call(
    fn: Callable[[], Any], *, repeats: int, warmup: bool, device: Device
) -> tuple[Any, Timing]:
    """Call `fn` (once untimed if `warmup`), then `repeats` timed times; return the last result."""
    if warmup:
        fn()
        device.synchronize()
    times = []
    result = None
    for _ in range(max(1, repeats)):
        device.synchronize()
        start = time.perf_counter()
        result = fn()
        device.synchronize()
        times.append(time.perf_counter() - start)
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return result, Timing(float(median), float(q3 - q1), tuple(times))
