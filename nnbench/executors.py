"""Where cells run: in this process, in local worker processes (`--jobs N`, with hard
per-cell timeouts), or on a dask.distributed cluster (`--scheduler tcp://HOST:PORT`).
Every executor yields one `CellOutcome` per cell, in completion order."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from nnbench.grid import Cell
from nnbench.runner import CellOutcome, base_row, run_cell
from nnbench.threads import thread_limit

POLL_S = 0.02
# Fork on Linux, like torch's DataLoader: workers start in ~0.05 s instead of ~1.4 s (spawn
# re-imports torch), and they pin torch/BLAS to `threads` before any work, which is what makes
# forking a process that has used torch safe. Elsewhere, spawn.
START_METHOD = "fork" if sys.platform == "linux" else "spawn"


def run_inline(cells: Iterable[Cell], *, threads: int) -> Iterator[CellOutcome]:
    with thread_limit(threads):
        for cell in cells:
            yield run_cell(cell)


READY = "ready"


def _worker(conn: Connection, threads: int) -> None:
    with thread_limit(threads):
        conn.send(READY)  # imports done: start-up time is not charged to the first cell
        while True:
            cell = conn.recv()
            if cell is None:
                return
            conn.send(run_cell(cell))


class _Worker:
    def __init__(self, ctx: Any, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, threads), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.cell: Cell | None = None
        self.started = 0.0

    def submit(self, cell: Cell) -> None:
        self.cell, self.started = cell, time.perf_counter()
        self.conn.send(cell)

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


def _stopped_row(cell: Cell, status: str, reason: str, elapsed: float) -> CellOutcome:
    return CellOutcome({**base_row(cell), "status": status, "reason": reason, "time_s": elapsed})


def run_processes(
    cells: Iterable[Cell], *, jobs: int, threads: int, timeout: float | None = None
) -> Iterator[CellOutcome]:
    """Run cells on `jobs` worker processes. A cell still running after `timeout` seconds has
    its worker killed (so even a cell that never returns to Python stops) and a fresh worker
    takes its place; the cell's row says `timeout`."""
    ctx = mp.get_context(START_METHOD)
    pending = deque(cells)
    workers = [_Worker(ctx, threads) for _ in range(max(1, min(jobs, len(pending))))]
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
                elapsed = time.perf_counter() - worker.started
                if worker.conn in ready:
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):
                        cell = worker.cell
                        worker.kill()
                        workers[i] = _Worker(ctx, threads)
                        if cell is not None:
                            yield _stopped_row(
                                cell, "failed", "worker process died (out of memory?)", elapsed
                            )
                        continue
                    if message == READY:
                        worker.ready = True
                        continue
                    worker.cell = None
                    yield message
                elif worker.cell is not None and timeout is not None and elapsed > timeout:
                    cell = worker.cell
                    worker.kill()
                    workers[i] = _Worker(ctx, threads)
                    yield _stopped_row(
                        cell,
                        "timeout",
                        f"killed after {elapsed:.1f} s (--timeout {timeout:g})",
                        elapsed,
                    )
    finally:
        for worker in workers:
            worker.stop()


def _dask_task(cell: Cell, threads: int) -> CellOutcome:
    with thread_limit(threads):
        return run_cell(cell)


def run_dask(cells: Iterable[Cell], *, scheduler: str, threads: int) -> Iterator[CellOutcome]:
    """One dask task per cell on the cluster at `scheduler`; results as they complete."""
    from distributed import Client, as_completed

    with Client(scheduler, timeout="30s") as client:
        futures = client.map(_dask_task, list(cells), threads=threads, pure=False)
        for future in as_completed(futures):
            yield future.result()
