"""Peak memory of one cell: the process's resident-set high-water mark on CPU (reset before
the cell through /proc/self/clear_refs on Linux), `torch.cuda.max_memory_allocated` on CUDA."""

from __future__ import annotations

import contextlib
import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
        return
    with contextlib.suppress(OSError):  # not Linux: peak_mb falls back to the process peak
        _CLEAR_REFS.write_text("5")  # 5 resets the peak RSS (Linux >= 4.0)


def peak_mb(device: str) -> float:
    """Peak since `reset_peak`, in MiB. Without /proc, the whole process's peak."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024
