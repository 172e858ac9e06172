"""nnbench: can a trained neural network do what a classical matrix factorization does?

>>> import nnbench
>>> res = nnbench.run_study("quick", methods=("scipy-lu",), sizes=(8,))
>>> res.results.groupby("matrix").rel_err_fro.median()
"""

from nnbench.corpus import MATRIX_FAMILIES, select_matrices
from nnbench.errors import NNBenchError
from nnbench.methods import METHODS, get_method, select_methods
from nnbench.metrics import METRICS
from nnbench.results import COLUMNS, Results, load_results
from nnbench.running import (
    STUDIES,
    Cell,
    Execution,
    Grid,
    expand,
    run_grid,
    run_grids,
    run_study,
)

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
    "expand",
    "get_method",
    "load_results",
    "run_grid",
    "run_grids",
    "run_study",
    "select_matrices",
    "select_methods",
]
