"""The Python API that the command line, notebooks, the report and asv share: expand grids to
cells, reuse finished cells from the results folder's journal, run the rest on an executor,
and return (and write) the results."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from nnbench.errors import NNBenchError, RunInterrupted
from nnbench.methods import Method, RunContext
from nnbench.results import Results, Row, to_frame
from nnbench.results.provenance import provenance
from nnbench.results.record import AXES
from nnbench.results.table import CURVE_COLUMNS
from nnbench.running.cells import Cell, expand, interleaved
from nnbench.running.executors import EXECUTORS, Execution, run_inline
from nnbench.running.grid import Grid
from nnbench.running.journal import FolderLock, Journal
from nnbench.running.measure import CellResult, scratch_folder, stopped
from nnbench.running.threads import thread_limit

LONG_CELL_S = 10.0  # cells slower than this get their own line in the log


def _results(results: list[CellResult], info: dict[str, Any]) -> Results:
    # run 0's curves only: a later run repeats each curve step for step (same matrices and
    # seeds; measured bit-identical over fair-quick's 3 runs), and its time is in its row
    curves = [r.curve for r in results if r.curve is not None and r.row.cell.run == 0]
    return Results(
        results=to_frame(r.row for r in results),
        curves=pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=CURVE_COLUMNS),
        provenance=info,
        artifacts={r.row.cell.cell_id: r.artifact for r in results if r.artifact is not None},
    )


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _not_writable(out: Path, where: Path, why: str | None) -> NNBenchError:
    return NNBenchError(
        f"--out {str(out)!r} is not writable ({why or 'no permission'}: {str(where)!r})",
        "pass --out a folder you can write in, or change its permissions",
    )


def _check_out(out: Path) -> None:
    """Raise NNBenchError unless `out` is a folder this process can write in, or can make:
    checked before any work, so that a bad --out costs nothing and leaves nothing behind."""
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if existing is None:
        return  # not even the root: the first write will say why
    if not existing.is_dir():
        where = "is a file" if existing == out else f"is inside {str(existing)!r}, a file"
        raise NNBenchError(f"--out {str(out)!r} {where}", "pass a folder's path to --out")
    try:  # a folder made and removed: permissions alone do not tell (root, read-only mounts)
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".nnbench-write-check-"))
    except OSError as exc:
        raise _not_writable(out, existing, exc.strerror) from None
    journal = Journal(out)
    for path in (journal.dir, journal.lines):
        if path.exists() and not os.access(path, os.W_OK):
            raise _not_writable(out, path, os.strerror(errno.EACCES))


def _reusable(result: CellResult, execution: Execution) -> bool:
    """Whether a journaled cell is reused: not with --force, and a failed one only with
    --keep-failures (a failure may be the machine's, not the method's)."""
    if execution.force:
        return False
    return execution.keep_failures or result.row.outcome.status != "failed"


def _version_of(row: Row) -> tuple[object, ...]:
    """A cell apart from the code, configuration and inputs' contents that computed it: rows
    of one key are versions of one cell (before and after an edit of its method, say)."""
    c = row.cell
    return (c.matrix, c.n, c.method, c.seed, c.threads, *(getattr(c, a.name) for a in AXES))


def _folder_cells(this_run: list[CellResult], journaled: dict[str, CellResult]) -> list[CellResult]:
    """What the results folder holds after a run: this run's cells, then the latest version
    of each other cell in its journal (from earlier runs into the folder)."""
    ids = {r.row.cell.cell_id for r in this_run}
    versions = {_version_of(r.row) for r in this_run}
    others: dict[tuple[object, ...], CellResult] = {}
    for cell_id, result in journaled.items():  # in the order they were last journaled
        version = _version_of(result.row)
        if cell_id not in ids and version not in versions:
            others.pop(version, None)
            others[version] = result
    return [*this_run, *others.values()]


def _set_up(cells: list[Cell], out: str | Path | None, log: bool) -> list[Cell]:
    """Each method set up (`Method.setup`: untimed work its cells share, such as training an
    amortized model) once per (device, dtype), before any cell, on its first cell's threads,
    with `out` (or a scratch folder) to keep what it shares; each cell gets its ready method,
    and the folder a worker process sets it up again from."""
    folder = Path(out) if out is not None else scratch_folder()
    first: dict[tuple[Method, str, str], Cell] = {}
    for cell in cells:
        first.setdefault((cell.method, cell.device, cell.storage), cell)
    ready: dict[tuple[Method, str, str], Method] = {}
    for (method, device, dtype), cell in first.items():
        context = RunContext(folder=folder, device=device, dtype=dtype)
        with thread_limit(cell.threads):
            ready[method, device, dtype] = method.setup(
                replace(context, log=_log) if log else context
            )
    return [
        replace(c, shared=str(folder), ready=ready[c.method, c.device, c.storage]) for c in cells
    ]


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C held back until the block is done (in the main thread, where Python delivers
    it): a cell is journaled and counted whole, or not at all."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(signal.SIGINT, None)  # Python's own handler: raises KeyboardInterrupt
        elif caught and previous == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)


def _until(
    cells: list[Cell], deadline: float | None, clock: float, late: list[Cell]
) -> Iterator[Cell]:
    """`cells` one by one while fewer than `deadline` seconds have passed since `clock`
    (`time.monotonic`); the ones never handed out go to `late`."""
    for index, cell in enumerate(cells):
        if deadline is not None and time.monotonic() - clock > deadline:
            late.extend(cells[index:])
            return
        yield cell


def _executed(
    skipped: list[Cell], work: Iterable[Cell], execution: Execution
) -> Generator[CellResult, None, None]:
    """The rows of cells known to be skipped (cheap: in this process), then the results of
    the others from the run's executor, as they complete."""
    yield from run_inline(skipped, execution)
    if work:
        yield from EXECUTORS[execution.executor](work, execution)


def run_grids(
    grids: Sequence[Grid],
    *,
    out: str | Path | None = None,
    execution: Execution | None = None,
    command: str = "",
) -> Results:
    """Run every cell of the grids (a cell in several grids runs once), each at its own
    grid's thread count.

    With `out`, finished cells are journaled there as they complete, cells already finished
    by an earlier (possibly killed) run of the same folder are reused (`failed` ones only
    with `execution.keep_failures`; none with `execution.force`), and the results folder is
    written at the end: this run's cells and the journal's cells of earlier runs (their
    number is `provenance["folder_cells"]`). Returns this run's cells. Raises NNBenchError
    before any work (and before writing anything) when the grids or `out` are invalid, or
    when another live run holds `out` (see `FolderLock`), and RunInterrupted (a
    KeyboardInterrupt) on Ctrl-C, with the finished cells journaled."""
    clock = time.monotonic()
    execution = execution or Execution()
    cells = _plan(grids, out)
    journal = Journal(out) if out is not None else None
    lock = FolderLock.take(out, command) if out is not None else None  # before reading it
    finished: dict[str, CellResult] = {}
    try:
        journaled = journal.load() if journal is not None else {}
        finished = {
            c.cell_id: journaled[c.cell_id]
            for c in cells
            if c.cell_id in journaled and _reusable(journaled[c.cell_id], execution)
        }
        cached = len(finished)
        started = pd.Timestamp.now(tz="UTC")
        todo = interleaved([c for c in cells if c.cell_id not in finished])
        _execute(todo, out, execution, _Progress(journal, finished, clock, cached))
        info = _provenance(grids, execution, command, started) | {"cached_cells": cached}
        return _record([finished[c.cell_id] for c in cells], journaled, info, out, journal)
    except KeyboardInterrupt:
        kept = journal is not None and journal.lines.is_file()
        raise RunInterrupted(len(finished), len(cells), str(out) if kept else None) from None
    finally:
        try:
            if journal is not None:
                journal.close()  # synced before the folder is let go
        finally:
            if lock is not None:
                lock.release()


def _plan(grids: Sequence[Grid], out: str | Path | None) -> list[Cell]:
    """The run's distinct cells, checked before anything is read or written: NNBenchError
    for a bad `out`, bad grids, or nothing that can run."""
    if out is not None:
        _check_out(Path(out))
    cells = list(  # with `out`: `kind:` may pick a method whose trained model is there
        {cell.cell_id: cell for grid in grids for cell in expand(grid, folder=out)}.values()
    )
    if all(c.skip_reason for c in cells):
        reason = cells[0].skip_reason
        raise NNBenchError(f"nothing to run: {reason}", "choose matrices and methods that fit")
    return cells


@dataclass
class _Progress:
    """Where a run's results go as they come: the journal, the finished cells (by id), and
    the clock `--deadline` counts from."""

    journal: Journal | None
    finished: dict[str, CellResult]
    clock: float
    cached: int


def _execute(
    todo: list[Cell], out: str | Path | None, execution: Execution, progress: _Progress
) -> None:
    """Run the `todo` cells (skipped ones in this process, the others on the run's executor,
    their methods set up first) until `--deadline`, journaling each as it completes; a cell
    the deadline left unstarted gets a skipped row, not journaled."""
    from tqdm.auto import tqdm

    skipped = [c for c in todo if c.skip_reason]  # cheap: no worker needed
    runnable = [c for c in todo if not c.skip_reason]
    work = _set_up(runnable, out, execution.progress) if runnable else []
    # tqdm's convention: disable=None turns the bar off when the output is not a terminal,
    # so logs do not fill with carriage-return updates
    bar = tqdm(
        total=len(todo),
        desc="cells",
        unit="cell",
        disable=None if execution.progress else True,
        postfix={"cached": progress.cached} if progress.cached else None,
        file=sys.stderr,
    )
    expected = {c.cell_id for c in todo}
    late: list[Cell] = []  # not started: the deadline had passed
    started = _until(work, execution.deadline, progress.clock, late) if work else work
    with bar, contextlib.closing(_executed(skipped, started, execution)) as stream:
        for result in stream:
            _take(result, expected, progress)
            bar.update()
            outcome, spec = result.row.outcome, result.row.cell
            if execution.progress and outcome.time_s > LONG_CELL_S:
                bar.write(
                    f"  {spec.method} on {spec.matrix} n={spec.n} k={spec.rank} "
                    f"{spec.dtype}: {outcome.status} in {outcome.time_s:.1f} s",
                    file=sys.stderr,
                )
    for cell in late:  # rows, not journaled: a later run of the folder runs them
        reason = f"not started: the run's --deadline of {execution.deadline:g} s had passed"
        progress.finished[cell.cell_id] = stopped(cell, "skipped", reason)


def _take(result: CellResult, expected: set[str], progress: _Progress) -> None:
    """A finished cell journaled and counted whole (Ctrl-C waits for it)."""
    spec = result.row.cell
    if spec.cell_id not in expected:  # a worker's fingerprint of the cell differed
        raise NNBenchError(
            f"a worker returned {spec.method} on {spec.matrix} as cell {spec.cell_id}, which "
            "this run does not have: its method code differs from this process's",
            "run workers on the same nnbench checkout and Python version",
        )
    with _ctrl_c_deferred():
        if progress.journal is not None:
            progress.journal.append(result)
        progress.finished[spec.cell_id] = result


def _record(
    this_run: list[CellResult],
    journaled: dict[str, CellResult],
    info: dict[str, Any],
    out: str | Path | None,
    journal: Journal | None,
) -> Results:
    """This run's results; with `out`, the folder written too (this run's cells and the
    journal's of earlier runs) and its journal compacted."""
    if out is None:
        return _results(this_run, info)
    folder = _folder_cells(this_run, journaled)
    info["folder_cells"] = len(folder)
    results = _results(this_run, info)
    whole = results if len(folder) == len(this_run) else _results(folder, info)
    whole.save(out, written=journal.artifact_file if journal is not None else None)
    if journal is not None:
        journal.compact()
    return results


def _provenance(
    grids: Sequence[Grid], execution: Execution, command: str, started: pd.Timestamp
) -> dict[str, Any]:
    threads = sorted({grid.threads for grid in grids})
    info = provenance(
        grids=[g.to_dict() for g in grids],
        threads=threads[0],
        command=command,
        started=started,
        devices=sorted({d for grid in grids for d in grid.devices}),
    )
    if len(threads) > 1:
        info["threads"] = threads  # each grid's own is in its entry of `grids`
    return info | {
        "executor": execution.executor,
        "jobs": execution.jobs,
        "timeout_s": execution.timeout,
        "deadline_s": execution.deadline,
        "max_memory_mb": execution.max_memory_mb,
    }


def run_grid(
    grid: Grid,
    *,
    out: str | Path | None = None,
    execution: Execution | None = None,
    command: str = "",
) -> Results:
    """Run every cell of `grid`; see `run_grids`."""
    return run_grids([grid], out=out, execution=execution, command=command)
