"""Metrics: pure functions of a matrix and its factorization, and their registry.

- `norms`: norms, relative and optimal errors, numerical ranks of arrays;
- `solves`: what the factors do when used (solve backward error, determinant, CG);
- `references`: the Doolittle reference LU and the distance of LU factors from it;
- `backends`: where a cell's O(n^3) evaluation work runs (numpy, or torch on the device);
- `instance_cache`: what a matrix instance alone determines, computed once per process;
- `values`: the typed metric values of a cell and the list of metrics (`METRICS`);
- `evaluation`: `MetricInput`, one function per metric, `evaluate`.

This package re-exports every module's public names but `evaluation`'s: `evaluation` needs
the factorization types, whose package loads torch, and the results table imports
`MetricValues` from here without it. Import `MetricInput` and `evaluate` from
`nnbench.metrics.evaluation`."""

from nnbench.metrics.backends import EVALUATE_ON, LINALGS, Linalg
from nnbench.metrics.instance_cache import INSTANCE_CACHE, InstanceCache
from nnbench.metrics.norms import (
    LANCZOS_FROM,
    LANCZOS_TOL,
    RANK_MARGIN,
    certified_rank,
    error_floor,
    error_ratio,
    norm_2,
    norm_fro,
    numerical_rank,
    opt_err_2,
    opt_err_fro,
    rank_k_spectrum,
    rank_of,
    rel_err_2,
    rel_err_fro,
)
from nnbench.metrics.references import blocked_doolittle, doolittle_factor_err, lapack_doolittle
from nnbench.metrics.solves import (
    CG_LOOSE_TOL,
    CG_TOL,
    CGRun,
    backward_error,
    det_rel_err,
    pcg,
    pcg_iterations,
)
from nnbench.metrics.values import AGGREGATES, METRICS, Direction, Metric, MetricValues, aggregate

__all__ = [
    "AGGREGATES",
    "CG_LOOSE_TOL",
    "CG_TOL",
    "EVALUATE_ON",
    "INSTANCE_CACHE",
    "LANCZOS_FROM",
    "LANCZOS_TOL",
    "LINALGS",
    "METRICS",
    "RANK_MARGIN",
    "CGRun",
    "Direction",
    "InstanceCache",
    "Linalg",
    "Metric",
    "MetricValues",
    "aggregate",
    "backward_error",
    "blocked_doolittle",
    "certified_rank",
    "det_rel_err",
    "doolittle_factor_err",
    "error_floor",
    "error_ratio",
    "lapack_doolittle",
    "norm_2",
    "norm_fro",
    "numerical_rank",
    "opt_err_2",
    "opt_err_fro",
    "pcg",
    "pcg_iterations",
    "rank_k_spectrum",
    "rank_of",
    "rel_err_2",
    "rel_err_fro",
]
