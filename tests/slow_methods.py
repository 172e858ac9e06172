"""Methods for execution tests; spawned workers import this module by name (sys.path is
passed to them), so these travel to workers as whole objects."""

from __future__ import annotations

import ctypes
import os
import signal
from typing import Any

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
