"""A cell's memory is bounded like its time (`--max-memory`): the limit, how a process's
resident memory is read (Linux `/proc`), and the guard that stops a cell running in this
process. A cell in a worker process is stopped by killing its worker (`executors`). Loads
no torch: the command line reads its option here.

A cell's memory is how much the resident memory (RSS) of the process running it grew while
it ran: host memory only (not a GPU's), and not that of processes the cell starts itself."""

from __future__ import annotations

import ctypes
import math
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

DEFAULT_FRACTION = 0.75  # of the machine's memory: room for the run's own process and others
POLL_S = 0.05
MB = 2**20
UNITS = {"": 1.0, "k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0**2}  # to MB (MiB)
SIZE = re.compile(r"(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[kmgt]?)(?:i?b)?", re.IGNORECASE)
PERCENT = re.compile(r"(?P<number>\d+(?:\.\d*)?)\s*%")
T = TypeVar("T")


def machine_memory_mb() -> float | None:
    """The machine's memory (MemTotal in /proc/meminfo), in MB; None where it is not known."""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return None
    total = next((line.split()[1] for line in lines if line.startswith("MemTotal:")), None)
    return None if total is None else int(total) / 1024


def default_max_memory_mb() -> float | None:
    """`DEFAULT_FRACTION` of the machine's memory; None (no limit) where it is not known."""
    total = machine_memory_mb()
    return None if total is None else DEFAULT_FRACTION * total


def parse_memory(text: str) -> float | None:
    """`--max-memory`'s value in MB: `4G`, `4GB`, `300M`, `512` (MB), `50%` (of the machine's
    memory) or `none` (no limit). Raises ValueError with the forms it takes."""
    text = text.strip()
    if text.lower() == "none":
        return None
    size, percent = SIZE.fullmatch(text), PERCENT.fullmatch(text)
    total = machine_memory_mb()
    if size is not None:
        mb = float(size["number"]) * UNITS[size["unit"].lower()]
    elif percent is not None and total is not None:
        mb = float(percent["number"]) / 100 * total
    else:
        mb = math.nan
    if not mb > 0:
        raise ValueError(
            f"cannot read {text!r} as a memory size: use e.g. 4G, 300M, 512 (MB), "
            f"50% (of the machine's memory{'' if total else ', where it is known'}) or none"
        )
    return mb


def describe(mb: float) -> str:
    """A size in words: `4.0 GB`, `300 MB`."""
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def resident_mb(pid: int) -> float | None:
    """The resident memory of process `pid` in MB; None where it cannot be read (no /proc,
    or the process is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / MB


def exceeded(limit_mb: float, grew_mb: float, seconds: float) -> str:
    """The reason of a cell stopped for its memory."""
    return (
        f"exceeded --max-memory of {describe(limit_mb)} (its process's resident memory grew "
        f"by {describe(grew_mb)} in {seconds:.1f} s; stopped)"
    )


class CellOverMemory(MemoryError):
    """Raised by `MemoryGuard` in the thread running a cell that went past the limit."""


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in that thread at its next Python instruction (None: take back one
    not raised yet)."""
    what = None if exception is None else ctypes.py_object(exception)  # None: a NULL pointer
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), what)


class MemoryGuard:
    """Runs cells in this process with their memory bounded. While a cell runs, a watcher
    thread reads the process's resident memory every `POLL_S` s; once it has grown past
    `limit_mb` since the cell started, the watcher raises `CellOverMemory` (a MemoryError)
    in the thread running the cell, whose row the caller makes `failed` with `over`, the
    reason. The exception arrives at the cell's next Python instruction: a training loop
    stops within a step, but one library call that allocates past the limit (a LAPACK
    factorization of a huge matrix) stops only when it returns; a worker process (`--jobs`,
    `--timeout`) is killed instead."""

    def __init__(self, limit_mb: float) -> None:
        self.limit_mb = limit_mb
        self.over: str | None = None  # why the last call was stopped; None: it was not
        self.seconds = 0.0  # how long the last call ran
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._target: int | None = None  # the thread running a call; None between calls
        self._base_mb = 0.0
        self._started = 0.0
        self._pending = False  # raised in the target, perhaps not yet arrived

    def __enter__(self) -> MemoryGuard:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()

    def _watch(self) -> None:
        pid = os.getpid()
        while not self._stop.wait(POLL_S):
            with self._lock:
                if self._target is None or self.over is not None:
                    continue
                now = resident_mb(pid)
                if now is None or now - self._base_mb <= self.limit_mb:
                    continue
                seconds = time.perf_counter() - self._started
                self.over = exceeded(self.limit_mb, now - self._base_mb, seconds)
                self._pending = True
                _raise_in(self._target, CellOverMemory)

    def _arm(self) -> None:
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="nnbench-memory", daemon=True)
            self._watcher.start()
        with self._lock:
            self.over, self._pending = None, False
            self._base_mb = resident_mb(os.getpid()) or 0.0
            self._started = time.perf_counter()
            self._target = threading.get_ident()

    def _disarm(self) -> None:
        while True:
            try:  # the watcher's exception may arrive here, once: then again, without it
                with self._lock:
                    if self._pending and self._target is not None:
                        _raise_in(self._target, None)
                    self._target, self._pending = None, False
                    self.seconds = time.perf_counter() - self._started
                    return
            except CellOverMemory:
                continue

    def call(self, run: Callable[[], T]) -> T | None:
        """`run()`, watched: its value (a cell's row, `failed` where the exception arrived in
        the cell), or None where it arrived outside it; `over` says why in either case."""
        result: T | None = None
        try:
            self._arm()
            result = run()
        except CellOverMemory:
            pass
        self._disarm()
        return result
