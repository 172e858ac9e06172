"""Results: the typed row, the results folder, provenance and the asv history loader."""

from nnbench.results.artifact import Artifact
from nnbench.results.record import COLUMNS, STATUSES, CellSpec, Outcome, Row, Status, to_frame
from nnbench.results.table import CURVE_COLUMNS, Results, atomic_write, load_results

__all__ = [
    "COLUMNS",
    "CURVE_COLUMNS",
    "STATUSES",
    "Artifact",
    "CellSpec",
    "Outcome",
    "Results",
    "Row",
    "Status",
    "atomic_write",
    "load_results",
    "to_frame",
]
