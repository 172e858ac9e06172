"""The Python API that the command line, notebooks, the report and asv share: expand grids to
cells, reuse finished cells from the results folder's journal, run the rest on an executor,
and return (and write) the results."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from nnbench.errors import NNBenchError
from nnbench.methods import Method, RunContext
from nnbench.results import Results, to_frame
from nnbench.results.provenance import provenance
from nnbench.results.table import CURVE_COLUMNS
from nnbench.running.cell import CellResult, scratch_folder
from nnbench.running.cells import Cell, expand, static_skip_reason
from nnbench.running.executors import EXECUTORS, Execution, run_inline
from nnbench.running.grid import Grid
from nnbench.running.journal import Journal
from nnbench.running.threads import thread_limit

LONG_CELL_S = 10.0  # cells slower than this get their own line in the log


def _results(results: list[CellResult], info: dict[str, Any]) -> Results:
    curves = [r.curve for r in results if r.curve is not None]
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


def _set_up(cells: list[Cell], out: str | Path | None, threads: int, log: bool) -> list[Cell]:
    """Each method set up (`Method.setup`: untimed work its cells share, such as training an
    amortized model) once per (device, dtype), before any cell, on the cells' threads, with
    `out` (or a scratch folder) to keep what it shares; each cell gets its ready method, and
    the folder a worker process sets it up again from."""
    folder = Path(out) if out is not None else scratch_folder()
    ready: dict[tuple[Method, str, str], Method] = {}
    for method, device, dtype in dict.fromkeys((c.method, c.device, c.storage) for c in cells):
        context = RunContext(folder=folder, device=device, dtype=dtype)
        with thread_limit(threads):
            ready[method, device, dtype] = method.setup(
                replace(context, log=_log) if log else context
            )
    return [
        replace(c, shared=str(folder), ready=ready[c.method, c.device, c.storage]) for c in cells
    ]


def run_grids(
    grids: Sequence[Grid],
    *,
    out: str | Path | None = None,
    execution: Execution | None = None,
    command: str = "",
) -> Results:
    """Run every cell of the grids (a cell in several grids runs once).

    With `out`, finished cells are journaled there as they complete, cells already finished
    by an earlier (possibly killed) run of the same folder are reused unless
    `execution.force`, and the results folder is written at the end. Raises NNBenchError
    before any work (and before writing anything) when the grids are invalid."""
    from tqdm.auto import tqdm

    execution = execution or Execution()
    cells = list({cell.cell_id: cell for grid in grids for cell in expand(grid)}.values())
    if all(static_skip_reason(c) for c in cells):
        reason = static_skip_reason(cells[0])
        raise NNBenchError(f"nothing to run: {reason}", "choose matrices and methods that fit")
    threads = grids[0].threads
    journal = Journal(out) if out is not None else None
    done = journal.load() if journal is not None and not execution.force else {}
    finished = {c.cell_id: done[c.cell_id] for c in cells if c.cell_id in done}
    todo = [c for c in cells if c.cell_id not in finished]
    skipped = [c for c in todo if static_skip_reason(c)]  # cheap: no worker needed
    runnable = [c for c in todo if not static_skip_reason(c)]
    work = _set_up(runnable, out, threads, execution.progress) if runnable else []
    started = pd.Timestamp.now(tz="UTC")
    run = EXECUTORS[execution.executor]
    stream = chain(
        run_inline(skipped, execution, threads), run(work, execution, threads) if work else ()
    )
    # tqdm's convention: disable=None turns the bar off when the output is not a terminal,
    # so logs do not fill with carriage-return updates
    bar = tqdm(
        stream,
        total=len(todo),
        desc="cells",
        unit="cell",
        disable=None if execution.progress else True,
        postfix={"cached": len(finished)} if finished else None,
        file=sys.stderr,
    )
    expected = {c.cell_id for c in todo}
    for result in bar:
        spec, outcome = result.row.cell, result.row.outcome
        if spec.cell_id not in expected:  # a worker's fingerprint of the same cell differed
            raise NNBenchError(
                f"a worker returned {spec.method} on {spec.matrix} as cell {spec.cell_id}, "
                "which this run does not have: its method code differs from this process's",
                "run workers on the same nnbench checkout and Python version",
            )
        if journal is not None:
            journal.append(result)
        finished[spec.cell_id] = result
        if execution.progress and outcome.time_s > LONG_CELL_S:
            bar.write(
                f"  {spec.method} on {spec.matrix} n={spec.n} k={spec.rank} {spec.dtype}: "
                f"{outcome.status} in {outcome.time_s:.1f} s",
                file=sys.stderr,
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
        "executor": execution.executor,
        "jobs": execution.jobs,
        "timeout_s": execution.timeout,
        "cached_cells": sum(1 for c in cells if c.cell_id in done),
    }
    results = _results([finished[c.cell_id] for c in cells], info)
    if out is not None:
        results.save(out)
    return results


def run_grid(
    grid: Grid,
    *,
    out: str | Path | None = None,
    execution: Execution | None = None,
    command: str = "",
) -> Results:
    """Run every cell of `grid`; see `run_grids`."""
    return run_grids([grid], out=out, execution=execution, command=command)
