"""Running: grids of cells, named studies, one cell, executors, the journal and the API."""

from nnbench.running.executors import Execution
from nnbench.running.grid import Cell, Grid, expand
from nnbench.running.run import run_grid, run_grids, run_study
from nnbench.running.studies import STUDIES, Study, get_study

__all__ = [
    "STUDIES",
    "Cell",
    "Execution",
    "Grid",
    "Study",
    "expand",
    "get_study",
    "run_grid",
    "run_grids",
    "run_study",
]
