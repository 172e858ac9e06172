"""Methods for execution tests; spawned workers import this module by name (sys.path is
passed to them), so these travel to workers as whole objects."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from typing import Any

import numpy as np

from nnbench.methods import Method, Raw


class _Untimed(Method):
    kind = "rank-k"
    group = "neural"


class Hang(_Untimed):
    """Blocks in C (libc sleep) and never returns to Python: only killing it stops it."""

    name = "test-hang"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        ctypes.CDLL(None).sleep(3600)
        return {}


class SelfKill(_Untimed):
    """Kills its own process with SIGKILL, as the kernel's OOM killer would."""

    name = "test-self-kill"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        os.kill(os.getpid(), signal.SIGKILL)
        return {}


class MemoryHog(_Untimed):
    """Takes memory 32 MB at a time (written, so resident) up to `mb`, returning to Python
    between steps, then holds it: only a memory limit stops it (else it gives up after a
    minute, and its row fails for another reason)."""

    name = "test-memory-hog"

    def __init__(self, mb: int = 1024) -> None:
        self.mb = mb

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        held, chunk = [], 32 * 2**20 // 8
        stop = time.monotonic() + 60
        while time.monotonic() < stop:
            if len(held) * 32 < self.mb:
                held.append(np.ones(chunk))
            else:
                time.sleep(0.01)
        return {}


class OutOfMemory(_Untimed):
    """Asks numpy for more memory than any machine has: numpy raises MemoryError."""

    name = "test-out-of-memory"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        return {"held": np.empty(2**62, dtype=np.uint8)}
