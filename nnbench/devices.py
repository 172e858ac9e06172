"""Compute devices: one record per kind of device with everything the runner asks of it
(is it here, wait for it, its name, its peak memory, TF32)."""

from __future__ import annotations

import contextlib
import platform
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nnbench.errors import NNBenchError

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


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


def _cpu_reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux: the peak is the whole process's
        _CLEAR_REFS.write_text("5")  # 5 resets the peak RSS (Linux >= 4.0)


def _cpu_peak_mb() -> float:
    """Peak RSS since the last reset in MiB (VmHWM); without /proc, the process's peak."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _cuda_missing() -> str | None:
    import torch

    return None if torch.cuda.is_available() else "no CUDA device on this machine"


def _mps_missing() -> str | None:
    import torch

    mps = getattr(torch.backends, "mps", None)
    available = mps is not None and mps.is_available()
    return None if available else "no MPS (Apple GPU) device on this machine"


def _cuda_synchronize() -> None:
    import torch

    torch.cuda.synchronize()


def _mps_synchronize() -> None:
    import torch

    torch.mps.synchronize()


def _cuda_name() -> str:
    import torch

    return str(torch.cuda.get_device_name())


def _cuda_reset_peak() -> None:
    import torch

    torch.cuda.reset_peak_memory_stats()


def _cuda_peak_mb() -> float:
    import torch

    return float(torch.cuda.max_memory_allocated()) / 2**20


def _cuda_tf32() -> bool:
    import torch

    return bool(torch.backends.cuda.matmul.allow_tf32)


def _present() -> str | None:
    return None


def _nothing() -> None:
    return None


def _nan() -> float:
    return float("nan")


def _false() -> bool:
    return False


def _apple() -> str:
    return "Apple MPS"


@dataclass(frozen=True)
class Device:
    """How the runner uses one kind of device. `missing` says why it cannot run here (None:
    it can); `synchronize` waits for queued work, so the clock measures the work itself."""

    name: str
    missing: Callable[[], str | None]
    synchronize: Callable[[], None]
    describe: Callable[[], str]
    reset_peak: Callable[[], None]
    peak_mb: Callable[[], float]
    tf32: Callable[[], bool]
    float64: bool = True


DEVICES: dict[str, Device] = {
    device.name: device
    for device in (
        Device("cpu", _present, _nothing, cpu_name, _cpu_reset_peak, _cpu_peak_mb, _false),
        Device(
            "cuda",
            _cuda_missing,
            _cuda_synchronize,
            _cuda_name,
            _cuda_reset_peak,
            _cuda_peak_mb,
            _cuda_tf32,
        ),
        Device("mps", _mps_missing, _mps_synchronize, _apple, _nothing, _nan, _false, False),
    )
}


def get_device(name: str) -> Device:
    if name not in DEVICES:
        raise NNBenchError(f"unknown device {name!r}", f"use one of {', '.join(DEVICES)}")
    return DEVICES[name]
