"""The Python API that the CLI, notebooks, the report and asv share."""

from __future__ import annotations

from typing import Any

from nnbench.results import Results
from nnbench.runner import run_grid
from nnbench.studies import get_study


def run_study(
    name: str = "quick",
    *,
    quick: bool = False,
    progress: bool = False,
    command: str = "",
    **overrides: Any,
) -> Results:
    """Run a named study (its small variant if `quick`), with grid fields overridden by keyword:
    `run_study("quick", methods=("scipy-lu",), sizes=(8,))`. None values are ignored."""
    study = get_study(name)
    grid = (study.quick if quick else study.grid).replace(**overrides)
    return run_grid(grid, progress=progress, command=command)
