"""The Python API that the CLI, notebooks, the report and asv share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nnbench.results import Results
from nnbench.run import run_grids
from nnbench.studies import get_study


def run_study(
    name: str = "quick",
    *,
    quick: bool = False,
    out: str | Path | None = None,
    jobs: int = 1,
    timeout: float | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = False,
    command: str = "",
    **overrides: Any,
) -> Results:
    """Run a named study (its small variant if `quick`), with grid fields overridden by keyword:
    `run_study("quick", methods=("scipy-lu",), sizes=(8,))`; None values are ignored. The
    execution options are those of `run_grids`."""
    study = get_study(name)
    grids = [grid.replace(**overrides) for grid in (study.quick if quick else study.grids)]
    return run_grids(
        grids,
        out=out,
        jobs=jobs,
        timeout=timeout,
        scheduler=scheduler,
        force=force,
        progress=progress,
        command=command,
    )
