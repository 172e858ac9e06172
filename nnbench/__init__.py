"""nnbench: can a trained neural network do what a classical matrix factorization does?

>>> import nnbench
>>> res = nnbench.run_study("quick", methods=("scipy-lu",), sizes=(8,))
>>> res.results.groupby("matrix").rel_err_fro.median()
"""

from nnbench.api import run_study
from nnbench.corpus import MATRIX_FAMILIES, select_matrices
from nnbench.errors import NNBenchError
from nnbench.grid import Cell, Grid, expand
from nnbench.methods import METHODS, get_method, select_methods
from nnbench.metrics import METRICS
from nnbench.results import Results, load_results
from nnbench.run import run_grid, run_grids
from nnbench.studies import STUDIES

__all__ = [
    "MATRIX_FAMILIES",
    "METHODS",
    "METRICS",
    "STUDIES",
    "Cell",
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
