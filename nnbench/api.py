"""The Python API that the command line, notebooks and asv share, in one import:

>>> from nnbench.api import run_study
>>> res = run_study("quick", methods=("scipy-lu",), sizes=(8,))
>>> res.results.groupby("matrix").rel_err_fro.median()

`run_study` runs a registered study's grids (or its quick variant) with grid fields
overridden by keyword; `run_grids` runs any grids; `build_report(runs, out,
sections=report_sections())` writes a report with every study's sections.

What a plug-in may import (docs/plugins.md), and nothing else of nnbench: `Method` (subclass
it for a trained method: `compute` returns factors by name, with `history`), `LibraryMethod`
(a classical method: a function `(x, rank, seed, config) -> factors by name`), `Raw`,
`LibraryOutput`, `Requirements`, `RunContext`, `Settings`, `SkipCell` (decline an input),
`Diverged` (a training that blew up), `MatrixFamily`, `Study` (its own sections: `TableSpec`,
`FigureSpec`), `Grid`, `KINDS`, `GROUPS` and
the factorization types (`LUFactorization`, `QRFactorization`, `SVDFactorization`,
`LowRankFactorization`, `PreconditionerFactorization`, `InverseOperator`,
`TrainingHistory`). `load_plugins` loads plug-ins into this process's registries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnbench.corpus import MATRIX_FAMILIES, MatrixFamily, select_matrices
from nnbench.errors import Diverged, NNBenchError, SkipCell
from nnbench.methods import (
    GROUPS,
    KINDS,
    METHODS,
    LowRankFactorization,
    LUFactorization,
    Method,
    QRFactorization,
    Raw,
    Requirements,
    RunContext,
    Settings,
    SVDFactorization,
    TrainingHistory,
    get_method,
    select_methods,
)
from nnbench.methods.base import LibraryOutput
from nnbench.methods.classical import LibraryMethod
from nnbench.methods.factorization import InverseOperator, PreconditionerFactorization
from nnbench.metrics import METRICS
from nnbench.plugins import load_plugins
from nnbench.report.spec import FigureSpec, TableSpec
from nnbench.results import COLUMNS, Results, load_results
from nnbench.running.cells import Cell, expand
from nnbench.running.executors import Execution
from nnbench.running.grid import Grid
from nnbench.running.run import run_grid, run_grids
from nnbench.sources import Plugin
from nnbench.studies import STUDIES, Study, get_study, report_sections

if TYPE_CHECKING:
    from nnbench.report.build import build_report


def run_study(
    name: str | None = "quick",
    *,
    quick: bool = False,
    out: str | Path | None = None,
    execution: Execution | None = None,
    command: str = "",
    add_methods: Sequence[str] = (),
    **overrides: Any,
) -> Results:
    """Run a named study (its small variant if `quick`; a name ending in .toml: the study
    that file describes), with grid fields overridden by keyword: `run_study("quick",
    methods=("scipy-lu",), sizes=(8,))`; None values are ignored. `add_methods`: method
    selectors added to the grids' own methods (`with_methods`). `name=None`: no study, one
    `Grid` of its documented defaults with the overrides. See `run_grids` for the rest."""
    if name is None:
        grids = [Grid().replace(**overrides)]
    else:
        study = get_study(name)
        grids = [grid.replace(**overrides) for grid in (study.quick if quick else study.grids)]
    return run_grids(
        with_methods(grids, add_methods), out=out, execution=execution, command=command
    )


def with_methods(grids: Sequence[Grid], selectors: Sequence[str]) -> list[Grid]:
    """The grids with the methods of `selectors` added to their own (`--methods +NAME`): each
    method joins the grids that run a method of its kind (an LU method the study's LU grids),
    or every grid where none does."""
    added = select_methods(list(selectors)) if selectors else []
    kinds = [{m.kind for m in select_methods(list(grid.methods))} for grid in grids]
    names: list[list[str]] = [list(grid.methods) for grid in grids]
    for method in added:
        joins = [i for i, own in enumerate(kinds) if method.kind in own] or range(len(grids))
        for i in joins:
            if method.name not in names[i]:
                names[i].append(method.name)
    return [replace(grid, methods=tuple(own)) for grid, own in zip(grids, names, strict=True)]


__all__ = [
    "COLUMNS",
    "GROUPS",
    "KINDS",
    "MATRIX_FAMILIES",
    "METHODS",
    "METRICS",
    "STUDIES",
    "Cell",
    "Diverged",
    "Execution",
    "FigureSpec",
    "Grid",
    "InverseOperator",
    "LUFactorization",
    "LibraryMethod",
    "LibraryOutput",
    "LowRankFactorization",
    "MatrixFamily",
    "Method",
    "NNBenchError",
    "Plugin",
    "PreconditionerFactorization",
    "QRFactorization",
    "Raw",
    "Requirements",
    "Results",
    "RunContext",
    "SVDFactorization",
    "Settings",
    "SkipCell",
    "Study",
    "TableSpec",
    "TrainingHistory",
    "build_report",
    "expand",
    "get_method",
    "get_study",
    "load_plugins",
    "load_results",
    "report_sections",
    "run_grid",
    "run_grids",
    "run_study",
    "select_matrices",
    "select_methods",
    "with_methods",
]


def __getattr__(name: str) -> Any:
    """`build_report` on first use (PEP 562): a run loads no figure library."""
    if name == "build_report":
        from nnbench.report.build import build_report

        return build_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
