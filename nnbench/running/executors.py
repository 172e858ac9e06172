"""Where cells run: in this process, in local worker processes (`--jobs N`, with hard
per-cell timeouts), or on a dask.distributed cluster (`--scheduler tcp://HOST:PORT`).
`Execution` holds how a run executes (never what it computes); every executor yields one
`CellResult` per cell, in completion order, and runs each cell at its own `threads`. Local
executors bound each cell's memory (`running.memory`)."""

from __future__ import annotations

import contextlib
import functools
import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from multiprocessing.connection import Connection, wait
from typing import Any

from nnbench.errors import NNBenchError
from nnbench.running.cells import Cell
from nnbench.running.measure import CellResult, first_line, run_cell, stopped
from nnbench.running.memory import MemoryGuard, default_max_memory_mb, exceeded, resident_mb
from nnbench.running.threads import DEFAULT_THREADS, thread_limit

POLL_S = 0.02
# Fork on Linux, like torch's DataLoader: workers start in ~0.05 s instead of ~1.4 s (spawn
# re-imports torch), and they pin torch/BLAS to `threads` before any work, which is what makes
# forking a process that has used torch safe. Elsewhere, spawn.
START_METHOD = "fork" if sys.platform == "linux" else "spawn"
READY = "ready"


@dataclass(frozen=True, kw_only=True)
class Execution:
    """How a run executes; results do not depend on it. Validated when built.

    jobs: local worker processes; timeout: seconds per cell, enforced by killing its worker
    (so it needs workers); scheduler: a dask.distributed address; force: recompute cells
    already in the results folder; keep_failures: reuse its `failed` cells too (by default
    they run again; cells of every other status are reused); progress: a progress bar on an
    interactive terminal; deadline: seconds from the run's start after which no cell starts
    (a lent GPU's budget): the rest are `skipped` rows saying so, not journaled, so that a
    later run of the folder runs them; max_memory_mb: how far a cell may grow the resident
    memory of the process running it (`running.memory`; default: `DEFAULT_FRACTION` of the
    machine's memory, None: no limit) before it is stopped, a `failed` row saying so (a
    worker process is killed, a cell in this process gets a MemoryError); not enforced on a
    dask cluster, whose workers have their own `--memory-limit`."""

    jobs: int = 1
    timeout: float | None = None
    scheduler: str | None = None
    force: bool = False
    keep_failures: bool = False
    progress: bool = False
    deadline: float | None = None
    max_memory_mb: float | None = field(default_factory=default_max_memory_mb)

    def __post_init__(self) -> None:
        if self.max_memory_mb is not None and not self.max_memory_mb > 0:
            raise NNBenchError(
                f"max_memory_mb {self.max_memory_mb} is out of range",
                "use --max-memory SIZE > 0 (4G, 300M, 50%) or --max-memory none",
            )
        if self.deadline is not None and self.deadline <= 0:
            raise NNBenchError(
                f"deadline {self.deadline} is out of range", "use --deadline SECONDS > 0"
            )
        if self.deadline is not None and (self.jobs > 1 or self.timeout or self.scheduler):
            raise NNBenchError(
                "--deadline needs the cells run one after another in this process",
                "drop --jobs, --timeout and --scheduler, or drop --deadline",
            )
        if self.jobs < 1:
            raise NNBenchError(f"jobs {self.jobs} is out of range", "use --jobs 1 or more")
        if self.timeout is not None and self.timeout <= 0:
            raise NNBenchError(
                f"timeout {self.timeout} is out of range", "use --timeout SECONDS > 0"
            )
        if self.scheduler and self.timeout is not None:
            raise NNBenchError(
                "--timeout is not enforced on a dask cluster",
                "use --jobs N for hard timeouts, or drop --timeout",
            )

    @property
    def executor(self) -> str:
        """The key of `EXECUTORS` that runs the cells."""
        if self.scheduler:
            return "dask"
        return "processes" if self.jobs > 1 or self.timeout is not None else "inline"


def _at_their_threads(cells: Iterable[Cell]) -> Iterator[Cell]:
    """Each cell, while torch and BLAS are pinned to its `threads` (set again only when the
    count changes: setting it costs more than a small cell)."""
    for threads, same in groupby(cells, key=lambda cell: cell.threads):
        with thread_limit(threads):
            yield from same


def run_inline(cells: Iterable[Cell], execution: Execution) -> Iterator[CellResult]:
    limit = execution.max_memory_mb
    if limit is None or resident_mb(os.getpid()) is None:  # no limit, or no /proc to read
        for cell in _at_their_threads(cells):
            yield run_cell(cell)
        return
    with MemoryGuard(limit) as guard:
        for cell in _at_their_threads(cells):
            result = guard.call(functools.partial(run_cell, cell))
            if guard.over is not None or result is None:
                result = stopped(cell, "failed", str(guard.over), time_s=guard.seconds)
            yield result


def _worker(conn: Connection, threads: int) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the run (and this worker)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with thread_limit(threads):
        conn.send(READY)  # imports done: start-up time is not charged to the first cell
        for cell in _at_their_threads(iter(conn.recv, None)):
            result = run_cell(cell)
            try:
                conn.send(result)
            except Exception as exc:  # e.g. a user method's factors that cannot be pickled
                conn.send(stopped(cell, "failed", f"cannot send the result back: {exc}"))


def _death(exitcode: int | None) -> str:
    """Why a worker process ended, in words."""
    if exitcode is None or exitcode >= 0:
        return f"worker process exited with code {exitcode}"
    name = signal.Signals(-exitcode).name
    hint = " (out of memory?)" if name == "SIGKILL" else ""
    return f"worker process was killed by {name}{hint}"


class _Worker:
    def __init__(self, ctx: Any, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, threads), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.cell: Cell | None = None
        self.started = 0.0
        self.base_mb: float | None = None  # its resident memory when its cell was sent

    def submit(self, cell: Cell) -> None:
        self.cell, self.started = cell, time.perf_counter()
        self.base_mb = resident_mb(self.process.pid)
        self.conn.send(cell)

    def grew_mb(self) -> float:
        """How much its resident memory grew since its cell was sent (0 where unknown)."""
        now = resident_mb(self.process.pid)
        return 0.0 if now is None or self.base_mb is None else now - self.base_mb

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.kill()


def run_processes(cells: Iterable[Cell], execution: Execution) -> Iterator[CellResult]:
    """Run cells on `execution.jobs` worker processes. A cell still running after
    `execution.timeout` seconds has its worker killed (so even a cell that never returns to
    Python stops) and a fresh worker takes its place; the cell's row says `timeout`. So does
    a cell whose worker's resident memory grew by more than `execution.max_memory_mb`
    (read every `POLL_S` s); its row is `failed`, saying so. A run stopped early (Ctrl-C, an
    error) kills its workers at once."""
    ctx = mp.get_context(START_METHOD)
    timeout, limit = execution.timeout, execution.max_memory_mb
    pending = deque(cells)
    threads = pending[0].threads if pending else DEFAULT_THREADS  # workers start pinned to it
    workers = [_Worker(ctx, threads) for _ in range(max(1, min(execution.jobs, len(pending))))]
    try:
        while True:
            for worker in workers:
                if worker.ready and worker.cell is None and pending:
                    worker.submit(pending.popleft())
            busy = [w for w in workers if w.cell is not None]
            if not busy and not pending:
                return
            now = time.perf_counter()
            deadlines = [w.started + timeout - now for w in busy] if timeout else []
            listening = [w.conn for w in workers if w.cell is not None or not w.ready]
            ready = wait(listening, timeout=max(0.0, min([POLL_S, *deadlines])))
            for i, worker in enumerate(workers):
                result, gone = _event(worker, ready, timeout, limit)
                if gone:  # dead or killed: a fresh worker takes its place
                    workers[i] = _Worker(ctx, threads)
                if result is not None:
                    yield result
    except BaseException:  # stopped early: a busy worker would not read a stop message
        for worker in workers:
            worker.kill()
        raise
    finally:
        for worker in workers:
            worker.stop()


def _event(
    worker: _Worker, ready: list[Any], timeout: float | None, limit: float | None
) -> tuple[CellResult | None, bool]:
    """What a worker has to say after a wait: a cell's result (or the row of a cell it could
    not finish: its process died, ran past `timeout` s or grew past `limit` MB, and is
    killed), and whether it is gone."""
    elapsed = time.perf_counter() - worker.started
    cell = worker.cell
    if worker.conn in ready:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            reason = _death(worker.process.exitcode)
            worker.kill()
            return (stopped(cell, "failed", reason, time_s=elapsed) if cell else None), True
        if message == READY:
            worker.ready = True
            return None, False
        worker.cell = None
        return message, False
    if cell is None:
        return None, False
    if timeout is not None and elapsed > timeout:
        worker.kill()
        reason = f"killed after {elapsed:.1f} s (--timeout {timeout:g})"
        return stopped(cell, "timeout", reason, time_s=elapsed), True
    grew = worker.grew_mb() if limit is not None else 0.0
    if limit is not None and grew > limit:
        worker.kill()
        return stopped(cell, "failed", exceeded(limit, grew, elapsed), time_s=elapsed), True
    return None, False


def _dask_task(cell: Cell) -> CellResult:
    with thread_limit(cell.threads):
        return run_cell(cell)


def _dask_failure(future: Any) -> str:
    """Why a cell's task ended without a result, in words."""
    from distributed import KilledWorker

    if future.status == "cancelled":
        return "the dask cluster cancelled this cell's task"
    exc = future.exception()
    if isinstance(exc, KilledWorker):
        tries = exc.allowed_failures + 1
        return (
            f"dask worker {exc.last_worker.address} died running this cell "
            f"({tries} worker{'s' if tries > 1 else ''} tried it; out of memory? see its log)"
        )
    return f"dask task failed: {first_line(exc)}"


def run_dask(cells: Iterable[Cell], execution: Execution) -> Iterator[CellResult]:
    """One dask task per cell on the cluster at `execution.scheduler`, as they complete. A
    task that ends without a result (its worker died, say) is its cell's `failed` row."""
    from distributed import Client, as_completed

    cells = list(cells)
    with Client(execution.scheduler, timeout="30s") as client:
        futures = client.map(_dask_task, cells, pure=False)
        cell_of = {future.key: cell for future, cell in zip(futures, cells, strict=True)}
        for future in as_completed(futures):
            if future.status == "finished":
                yield future.result()
            else:
                yield stopped(cell_of[future.key], "failed", _dask_failure(future))


EXECUTORS: dict[str, Callable[[Iterable[Cell], Execution], Iterator[CellResult]]] = {
    "inline": run_inline,
    "processes": run_processes,
    "dask": run_dask,
}
