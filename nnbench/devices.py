"""Which compute devices exist here, and how to wait for one before reading the clock."""

from __future__ import annotations

import platform
from functools import cache

DEVICES = ("cpu", "cuda", "mps")


def device_skip_reason(device: str) -> str | None:
    """None when `device` can run torch code here, else why not."""
    import torch

    if device == "cpu":
        return None
    if device == "cuda":
        return None if torch.cuda.is_available() else "no CUDA device on this machine"
    if device == "mps":
        available = getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
        return None if available else "no MPS (Apple GPU) device on this machine"
    return f"unknown device {device!r}"


def synchronize(device: str) -> None:
    """Block until queued work on `device` finishes, so timings measure the work itself."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


@cache
def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    import torch

    if device == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name()
    if device == "mps":
        return "Apple MPS"
    return cpu_name()


def tf32_enabled(device: str) -> bool:
    """Whether float32 matmuls on `device` may use TF32 (lower precision) tensor cores."""
    import torch

    return device == "cuda" and bool(torch.backends.cuda.matmul.allow_tf32)
