"""The Python API that the command line, notebooks and asv share, in one import:

>>> from nnbench.api import run_study
>>> res = run_study("quick", methods=("scipy-lu",), sizes=(8,))
>>> res.results.groupby("matrix").rel_err_fro.median()

`run_study` runs a registered study's grids (or its quick variant) with grid fields
overridden by keyword; `run_grids` runs any grids; `build_report(runs, out,
sections=report_sections())` writes a report with every study's sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nnbench.corpus import MATRIX_FAMILIES, select_matrices
from nnbench.errors import NNBenchError
from nnbench.methods import METHODS, get_method, select_methods
from nnbench.metrics import METRICS
from nnbench.report import build_report
from nnbench.results import COLUMNS, Results, load_results
from nnbench.running.cells import Cell, expand
from nnbench.running.executors import Execution
from nnbench.running.grid import Grid
from nnbench.running.run import run_grid, run_grids
from nnbench.studies import STUDIES, Study, get_study, report_sections


def run_study(
    name: str | None = "quick",
    *,
    quick: bool = False,
    out: str | Path | None = None,
    execution: Execution | None = None,
    command: str = "",
    **overrides: Any,
) -> Results:
    """Run a named study (its small variant if `quick`), with grid fields overridden by
    keyword: `run_study("quick", methods=("scipy-lu",), sizes=(8,))`; None values are
    ignored. `name=None`: no study, one `Grid` of its documented defaults with the
    overrides. See `run_grids` for the rest."""
    if name is None:
        grids = [Grid().replace(**overrides)]
    else:
        study = get_study(name)
        grids = [grid.replace(**overrides) for grid in (study.quick if quick else study.grids)]
    return run_grids(grids, out=out, execution=execution, command=command)


__all__ = [
    "COLUMNS",
    "MATRIX_FAMILIES",
    "METHODS",
    "METRICS",
    "STUDIES",
    "Cell",
    "Execution",
    "Grid",
    "NNBenchError",
    "Results",
    "Study",
    "build_report",
    "expand",
    "get_method",
    "get_study",
    "load_results",
    "report_sections",
    "run_grid",
    "run_grids",
    "run_study",
    "select_matrices",
    "select_methods",
]
