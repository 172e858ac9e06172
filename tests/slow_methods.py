"""Methods for execution tests; spawned workers import this module by name (sys.path is
passed to them), so these travel to workers as whole objects."""

from __future__ import annotations

import ctypes
from typing import Any

from nnbench.methods import Factorization, LowRankFactorization, Method


class Hang(Method):
    """Blocks in C (libc sleep) and never returns to Python: only killing it stops it."""

    name = "test-hang"
    kind = "rank-k"
    group = "neural"
    timing_repeats = 1
    warmup = False

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        ctypes.CDLL(None).sleep(3600)

    def finish(self, raw: Any) -> Factorization:
        return LowRankFactorization(left=raw, right=raw)
