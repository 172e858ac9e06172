"""Running grids: expand to cells, reuse finished cells from the results folder's journal,
run the rest on an executor, and write the results folder."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path

import pandas as pd

from nnbench.errors import NNBenchError
from nnbench.executors import run_dask, run_inline, run_processes
from nnbench.grid import Cell, Grid, expand, static_skip_reason
from nnbench.journal import Journal
from nnbench.provenance import provenance
from nnbench.results import Results
from nnbench.runner import CellOutcome, to_results

LONG_CELL_S = 10.0  # cells slower than this get their own progress line


def _executor(
    cells: list[Cell], *, threads: int, jobs: int, timeout: float | None, scheduler: str | None
) -> Iterator[CellOutcome]:
    if scheduler:
        return run_dask(cells, scheduler=scheduler, threads=threads)
    if jobs > 1 or timeout is not None:
        return run_processes(cells, jobs=jobs, threads=threads, timeout=timeout)
    return run_inline(cells, threads=threads)


def run_grids(
    grids: Sequence[Grid],
    *,
    out: str | Path | None = None,
    jobs: int = 1,
    timeout: float | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = False,
    command: str = "",
) -> Results:
    """Run every cell of the grids (a cell in several grids runs once).

    With `out`, finished cells are journaled there as they complete, cells already finished
    by an earlier (possibly killed) run of the same folder are reused unless `force`, and the
    results folder is written at the end. `jobs` > 1 or a `timeout` runs cells in worker
    processes; `scheduler` sends them to a dask.distributed cluster. Raises NNBenchError
    before any work (and before writing anything) when the grids are invalid."""
    from tqdm.auto import tqdm

    if jobs < 1:
        raise NNBenchError(f"jobs {jobs} is out of range", "use --jobs 1 or more")
    if timeout is not None and timeout <= 0:
        raise NNBenchError(f"timeout {timeout} is out of range", "use --timeout SECONDS > 0")
    if scheduler and timeout is not None:
        raise NNBenchError(
            "--timeout is not enforced on a dask cluster",
            "use --jobs N for hard timeouts, or drop --timeout",
        )
    cells = list({cell.cell_id: cell for grid in grids for cell in expand(grid)}.values())
    if all(static_skip_reason(c) for c in cells):
        reason = static_skip_reason(cells[0])
        raise NNBenchError(f"nothing to run: {reason}", "choose matrices and methods that fit")
    threads = grids[0].threads
    journal = Journal(out) if out is not None else None
    done = journal.load() if journal is not None and not force else {}
    finished = {c.cell_id: done[c.cell_id] for c in cells if c.cell_id in done}
    todo = [c for c in cells if c.cell_id not in finished]
    skipped = [c for c in todo if static_skip_reason(c)]  # cheap: no worker needed
    work = [c for c in todo if not static_skip_reason(c)]
    started = pd.Timestamp.now(tz="UTC")
    stream = chain(
        run_inline(skipped, threads=threads),
        _executor(work, threads=threads, jobs=jobs, timeout=timeout, scheduler=scheduler)
        if work
        else iter(()),
    )
    bar = tqdm(
        stream,
        total=len(todo),
        desc="cells",
        unit="cell",
        disable=not progress,
        initial=0,
        postfix={"cached": len(finished)} if finished else None,
    )
    for outcome in bar:
        if journal is not None:
            journal.append(outcome)
        row = outcome.row
        finished[row["cell_id"]] = outcome
        if progress and row["time_s"] == row["time_s"] and row["time_s"] > LONG_CELL_S:
            bar.write(
                f"  {row['method']} on {row['matrix']} n={row['n']} k={row['rank']} "
                f"{row['dtype']}: {row['status']} in {row['time_s']:.1f} s"
            )
    devices = sorted({d for grid in grids for d in grid.devices})
    info = provenance(
        grids=[g.to_dict() for g in grids],
        threads=threads,
        command=command,
        started=started,
        devices=devices,
    )
    info |= {
        "executor": "dask" if scheduler else ("processes" if jobs > 1 or timeout else "inline"),
        "jobs": jobs,
        "timeout_s": timeout,
        "cached_cells": sum(1 for c in cells if c.cell_id in done),
    }
    results = to_results([finished[c.cell_id] for c in cells], info)
    if out is not None:
        results.save(out)
    return results


def run_grid(grid: Grid, **options: object) -> Results:
    """Run every cell of `grid`; see `run_grids` for the options."""
    return run_grids([grid], **options)  # type: ignore[arg-type]
