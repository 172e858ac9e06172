"""The typed metric values of a cell (`MetricValues`: one field per metric and results
column) and the list of metrics derived from it (`METRICS`: name, direction, description).

Neither torch nor the methods are imported here: the results table reads these types
without loading what computes them (`evaluation` does)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np

NAN = float("nan")

Direction = Literal["lower", "higher", "none"]
"""Which way is better: `lower` (errors), `higher` (rank_ok, the spectral gap) or `none`
(a property, not a score: the ranks)."""


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction
    description: str


def _metric(direction: Direction, description: str, *, default: float | None = NAN) -> Any:
    """A `MetricValues` field that describes its metric: name = the field; the function that
    computes it is `evaluation.METRIC_FUNCTIONS[name]`."""
    return field(default=default, metadata={"metric": (direction, description)})


@dataclass(frozen=True, kw_only=True)
class MetricValues:
    """One cell's metrics: every field is a metric and a results column (NaN: not applicable,
    or not computed because the cell did not end ok)."""

    rel_err_2: float = _metric("lower", "||A - Â||_2 / ||A||_2")
    rel_err_fro: float = _metric("lower", "||A - Â||_F / ||A||_F")
    opt_err_2: float = _metric("lower", "sigma_{k+1} / sigma_1 (rank-k optimum)")
    opt_err_fro: float = _metric("lower", "Frobenius tail / ||A||_F (rank-k optimum)")
    sigma_gap: float = _metric(
        "higher", "(sigma_k - sigma_{k+1}) / sigma_1 (0: optimum not unique)"
    )
    ratio_2: float = _metric("lower", "rel_err_2 / opt_err_2 (>= 1; 1 is optimal)")
    ratio_fro: float = _metric("lower", "rel_err_fro / opt_err_fro (>= 1; 1 is optimal)")
    numerical_rank: float = _metric("none", "rank of Â with tolerance max(m,n) eps(dtype) sigma_1")
    expected_rank: float = _metric("none", "min(k, rank A) for rank-k, else rank A")
    rank_ok: bool | None = _metric("higher", "numerical_rank == expected_rank", default=None)
    structure_err: float = _metric(
        "lower", "mass outside required triangles / deviation from orthogonality"
    )
    factor_err: float = _metric("lower", "LU factors vs the Doolittle normalisation of P^T A")
    solve_backward_err: float = _metric("lower", "backward error of Ax = 1 solved with the factors")
    det_rel_err: float = _metric("lower", "relative error of det(A) from the factors")
    cg_iterations: float = _metric(
        "lower",
        "preconditioned CG iterations to ||r|| <= 1e-8 ||b||, fixed Gaussian b (cap 10 n: "
        "a run that hits it is `diverged`, not scored)",
    )
    cg_iterations_1e6: float = _metric(
        "lower", "iterations of the same CG run to ||r|| <= 1e-6 ||b||"
    )
    cg_solve_s: float = _metric(
        "lower", "seconds of that CG solve to 1e-8 (A in CSR where sparse), M^-1 applications in"
    )
    cg_total_s: float = _metric(
        "lower", "time to solution: the preconditioner's build (time_s) + cg_solve_s"
    )
    cg_iteration_s: float = _metric(
        "lower",
        "seconds per CG iteration: cg_solve_s / cg_iterations (one product with A, "
        "one application of M^-1)",
    )


METRICS: tuple[Metric, ...] = tuple(
    Metric(f.name, *f.metadata["metric"]) for f in fields(MetricValues)
)
"""Every metric, in column order: derived from `MetricValues`, so they cannot disagree."""


AGGREGATES: dict[Direction, Callable[[np.ndarray], float]] = {
    "lower": np.nanmax,  # the worst error of a stack
    "higher": np.nanmin,
    "none": np.nanmedian,
}


def aggregate(values: list[MetricValues]) -> MetricValues:
    """One stack's metrics from its matrices': by each metric's direction, the worst value
    (the largest error, the smallest gap); `rank_ok` only if every matrix's rank is."""
    if len(values) == 1:
        return values[0]
    out: dict[str, Any] = {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        for metric in METRICS:
            column = [getattr(v, metric.name) for v in values]
            if isinstance(column[0], bool):
                out[metric.name] = all(column)
            else:
                out[metric.name] = float(AGGREGATES[metric.direction](np.asarray(column, float)))
    return MetricValues(**out)
