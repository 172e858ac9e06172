"""The Python API that the command line, notebooks, the report and asv share: expand grids to
cells, reuse finished cells from the results folder's journal, run the rest on an executor,
and return (and write) the results."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from nnbench.errors import NNBenchError
from nnbench.methods.amortized import ModelStore
from nnbench.results import Results, to_frame
from nnbench.results.provenance import provenance
from nnbench.results.table import CURVE_COLUMNS
from nnbench.running.cell import CellResult
from nnbench.running.executors import EXECUTORS, Execution, run_inline
from nnbench.running.grid import Cell, Grid, expand, static_skip_reason
from nnbench.running.journal import Journal
from nnbench.running.studies import get_study

MODELS_DIR = "models"  # trained amortized models, inside the results folder
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


_SCRATCH_MODELS: list[Path] = []  # one folder per process for runs without --out


def _with_models(cells: list[Cell], out: str | Path | None, log: bool) -> list[Cell]:
    """Each method's work shared by all its cells, done once before them (an amortized
    method's training, untimed): its model goes to `out`/models (or a scratch folder), and
    the cells learn where to load it from."""
    if not any(c.method.trains_once for c in cells):
        return cells
    if out is not None:
        folder = Path(out) / MODELS_DIR
    else:
        if not _SCRATCH_MODELS:
            _SCRATCH_MODELS.append(Path(tempfile.mkdtemp(prefix="nnbench-models-")))
        folder = _SCRATCH_MODELS[0]
    store = ModelStore(folder)
    for method, device, dtype in dict.fromkeys((c.method, c.device, c.storage) for c in cells):
        if log:
            print(f"training {method.name} once ({device}, {dtype}) -> {folder}", file=sys.stderr)
        method.train_once(store, device, dtype)
    return [replace(c, models=str(folder)) for c in cells]


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
    work = _with_models([c for c in todo if not static_skip_reason(c)], out, execution.progress)
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
    for result in bar:
        if journal is not None:
            journal.append(result)
        spec, outcome = result.row.cell, result.row.outcome
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


def run_study(
    name: str = "quick",
    *,
    quick: bool = False,
    out: str | Path | None = None,
    execution: Execution | None = None,
    command: str = "",
    **overrides: Any,
) -> Results:
    """Run a named study (its small variant if `quick`), with grid fields overridden by
    keyword: `run_study("quick", methods=("scipy-lu",), sizes=(8,))`; None values are
    ignored. See `run_grids` for the rest."""
    study = get_study(name)
    grids = [grid.replace(**overrides) for grid in (study.quick if quick else study.grids)]
    return run_grids(grids, out=out, execution=execution, command=command)
