"""Per-cell evaluation: `MetricInput` holds what several metrics share, computed once per
cell (the reference matrix, the reconstruction, the singular values); one function per
metric (`METRIC_FUNCTIONS`, keyed by the `MetricValues` field it fills); `evaluate`.

All arithmetic is float64 on the factors the method returned (a float32 method is judged by
what its float32 factors represent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse

from nnbench.corpus.sparse import is_sparse
from nnbench.errors import Diverged
from nnbench.methods.factorization import (
    Factorization,
    LowRankFactorization,
    LUFactorization,
    PreconditionerFactorization,
)
from nnbench.metrics.backends import LINALGS, Linalg
from nnbench.metrics.instance_cache import INSTANCE_CACHE
from nnbench.metrics.norms import (
    NAN,
    certified_rank,
    error_floor,
    error_ratio,
    norm_2,
    norm_fro,
    opt_err_2,
    opt_err_fro,
    rank_k_spectrum,
    rank_of,
    ratio,
)
from nnbench.metrics.references import doolittle_factor_err
from nnbench.metrics.solves import CGRun, backward_error, det_rel_err, pcg
from nnbench.metrics.values import METRICS, MetricValues


@dataclass(frozen=True)
class MetricInput:
    """One cell's matrix (float64 copy of what the method saw: dense, or scipy.sparse CSR
    for a sparse preconditioner) and its factorization; `build_s`: the method's timed call
    (a preconditioner's build), for the time to solution."""

    a: Any
    fact: Factorization
    dtype: str
    rank: int | None = None
    linalg: str = "numpy"  # a key of LINALGS: where the O(n^3) work runs
    build_s: float = NAN

    @property
    def la(self) -> Linalg:
        return LINALGS[self.linalg]

    @cached_property
    def instance(self) -> str:
        """`INSTANCE_CACHE`'s digest of A, hashed once per cell."""
        return INSTANCE_CACHE.digest(self.a)

    @cached_property
    def approx(self) -> np.ndarray:
        return self.fact.reconstruct(self.la.matmul)

    @cached_property
    def residual(self) -> np.ndarray:
        return self.a - self.approx

    @cached_property
    def residual_2(self) -> float:
        """||A - Â||_2, shared by rel_err_2 and ratio_2."""
        return norm_2(self.residual)

    @cached_property
    def residual_fro(self) -> float:
        return norm_fro(self.residual)

    @cached_property
    def approx_finite(self) -> bool:
        """False when the factors are finite but their product overflowed."""
        return bool(np.all(np.isfinite(self.approx)))

    @cached_property
    def sigma(self) -> np.ndarray:
        """Singular values of A: once per instance (`INSTANCE_CACHE`), not once per cell."""
        return INSTANCE_CACHE(self.a, self.la.svdvals, digest=self.instance)

    @property
    def norm_a(self) -> float:
        """||A||_2 = sigma_1, from the shared spectrum (no second SVD)."""
        return float(self.sigma[0]) if self.sigma.size else 0.0

    @cached_property
    def approx_sigma(self) -> np.ndarray:
        """Singular values of the reconstruction; a rank-k one's from its k-column factors."""
        if isinstance(self.fact, LowRankFactorization):
            return rank_k_spectrum(self.fact.left, self.fact.right)
        return self.la.svdvals(self.approx)

    @cached_property
    def approx_rank(self) -> int:
        """Rank of Â: from A's shared spectrum when Weyl's inequality decides it
        (`certified_rank`, full-size reconstructions), else from Â's singular values. The
        bound on ||A - Â||_2 is the smaller of ||A - Â||_F and twice the 2-norm as computed
        (`norm_2`: a Lanczos estimate from n = 512, measured within 2.1e-15 of the SVD's),
        which is about sqrt(n) / 2 tighter for a rounding-noise residual."""
        if not isinstance(self.fact, LowRankFactorization):
            bound = min(self.residual_fro, 2.0 * self.residual_2)
            certified = certified_rank(self.sigma, bound, self.a.shape, self.dtype)
            if certified is not None:
                return certified
        return rank_of(self.approx_sigma, self.a.shape, self.dtype)

    @cached_property
    def floor(self) -> float:
        return error_floor(self.a.shape, self.dtype)

    @cached_property
    def rank_a(self) -> int:
        s = self.sigma
        return int(np.sum(s > self.floor * s[0])) if s.size and s[0] > 0 else 0

    @property
    def is_sparse(self) -> bool:
        return is_sparse(self.a)

    @property
    def is_operator(self) -> bool:
        """A preconditioner given as an operator only, or on a sparse A: M is never formed
        (nor A dense), and only the CG metrics apply (`PRECOND_METRICS`)."""
        if not isinstance(self.fact, PreconditionerFactorization):
            return False
        return self.is_sparse or not self.fact.has_lower

    @cached_property
    def cg_run(self) -> CGRun | None:
        """One CG solve with the preconditioner (None: not a preconditioner cell); A goes to
        CSR first (untimed) when under a tenth of it is nonzero, as a sparse solver holds it."""
        fact = self.fact
        if not isinstance(fact, PreconditionerFactorization):
            return None
        a: Any = self.a
        if not self.is_sparse and np.count_nonzero(a) < 0.1 * a.size:
            a = scipy.sparse.csr_array(a)
        b = np.random.default_rng(0).standard_normal(size=(self.a.shape[0],))
        return pcg(a, b, fact.apply_inverse)

    @property
    def is_rank_k(self) -> bool:
        return self.fact.kind == "rank-k"

    @property
    def square(self) -> bool:
        return self.a.shape[0] == self.a.shape[1]


def _opt_2(x: MetricInput) -> float:
    return opt_err_2(x.sigma, x.rank) if x.is_rank_k and x.rank else NAN


def _opt_fro(x: MetricInput) -> float:
    return opt_err_fro(x.sigma, x.rank) if x.is_rank_k and x.rank else NAN


def _gap(x: MetricInput) -> float:
    """(sigma_k - sigma_{k+1}) / sigma_1: zero when the best rank-k subspace is not unique."""
    if not (x.is_rank_k and x.rank) or x.sigma.size == 0 or x.sigma[0] == 0:
        return NAN
    s = np.r_[x.sigma, 0.0]
    return float((s[x.rank - 1] - s[x.rank]) / s[0]) if x.rank <= x.sigma.size else NAN


def _rel_err_2(x: MetricInput) -> float:
    return ratio(x.residual_2, x.norm_a)


def _rel_err_fro(x: MetricInput) -> float:
    return ratio(x.residual_fro, norm_fro(x.a))


def _ratio_2(x: MetricInput) -> float:
    return error_ratio(_rel_err_2(x), _opt_2(x), x.floor) if x.is_rank_k else NAN


def _ratio_fro(x: MetricInput) -> float:
    return error_ratio(_rel_err_fro(x), _opt_fro(x), x.floor) if x.is_rank_k else NAN


def _expected_rank(x: MetricInput) -> int:
    return min(x.rank, x.rank_a) if x.is_rank_k and x.rank else x.rank_a


def _numerical_rank(x: MetricInput) -> float:
    return float(x.approx_rank) if x.approx_finite else NAN


def _rank_ok(x: MetricInput) -> bool:
    return x.approx_finite and x.approx_rank == _expected_rank(x)


def _solve(x: MetricInput) -> float:
    if not x.square or x.is_rank_k or not x.fact.exact:
        return NAN
    b = np.ones(x.a.shape[0])
    try:
        solution = x.fact.solve(b)
    except np.linalg.LinAlgError:  # an exactly zero pivot: the factors cannot solve
        return float("inf")
    return backward_error(x.a, solution, b, x.norm_a)


def _det(x: MetricInput) -> float:
    if not x.square or x.is_rank_k or not x.fact.exact:
        return NAN
    reference = INSTANCE_CACHE.get(x.a, "slogdet", x.la.slogdet, digest=x.instance)
    return det_rel_err(reference, x.fact.slogdet())


def _cg(x: MetricInput) -> float:
    """CG iterations on A x = b with the preconditioner (preconditioner cells); b is a fixed
    Gaussian vector (a constant one is an eigenvector of a graph Laplacian). A run that hits
    a cap (iterations or seconds) or breaks down raises `Diverged`: the runner records it,
    with its reason and the iterations it ran."""
    run = x.cg_run
    if run is None:
        return NAN
    if run.iterations is None:
        raise Diverged(run.steps, run.reason, located=True)  # the reason names its iteration
    return float(run.iterations)


def _cg_loose(x: MetricInput) -> float:
    run = x.cg_run
    return NAN if run is None or run.iterations_loose is None else float(run.iterations_loose)


def _cg_seconds(x: MetricInput) -> float:
    run = x.cg_run
    return NAN if run is None or run.iterations is None else run.seconds


def _cg_total(x: MetricInput) -> float:
    return x.build_s + _cg_seconds(x)


def _cg_iteration(x: MetricInput) -> float:
    run = x.cg_run
    if run is None or not run.iterations:
        return NAN
    return run.seconds / run.iterations


def _factor(x: MetricInput) -> float:
    """The Doolittle factors of P^T A are shared by every cell with that instance and row
    order (the partial-pivoting methods agree on it), like A's spectrum."""
    fact = x.fact
    if not isinstance(fact, LUFactorization):
        return NAN
    digest: str | None = x.instance  # None: hash P^T A itself
    if fact.P is not None:
        digest = None if fact.perm is None else x.instance + INSTANCE_CACHE.digest(fact.perm)

    def reference(pa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return INSTANCE_CACHE.get(pa, "doolittle", x.la.doolittle, digest=digest)

    return doolittle_factor_err(x.a, fact, reference, x.la.matmul)


METRIC_FUNCTIONS: dict[str, Callable[[MetricInput], float | bool]] = {
    "rel_err_2": _rel_err_2,
    "rel_err_fro": _rel_err_fro,
    "opt_err_2": _opt_2,
    "opt_err_fro": _opt_fro,
    "sigma_gap": _gap,
    "ratio_2": _ratio_2,
    "ratio_fro": _ratio_fro,
    "numerical_rank": _numerical_rank,
    "expected_rank": lambda x: float(_expected_rank(x)),
    "rank_ok": _rank_ok,
    "structure_err": lambda x: x.fact.structure_error(x.la.matmul),
    "factor_err": _factor,
    "solve_backward_err": _solve,
    "det_rel_err": _det,
    "cg_iterations": _cg,
    "cg_iterations_1e6": _cg_loose,
    "cg_solve_s": _cg_seconds,
    "cg_total_s": _cg_total,
    "cg_iteration_s": _cg_iteration,
}
"""The function that computes each metric, by its `MetricValues` field (checked below)."""

if list(METRIC_FUNCTIONS) != [m.name for m in METRICS]:
    raise TypeError(
        "METRIC_FUNCTIONS must have one function per MetricValues field, in field order: "
        f"{[m.name for m in METRICS]}"
    )


PRECOND_METRICS = (
    "cg_iterations",
    "cg_iterations_1e6",
    "cg_solve_s",
    "cg_total_s",
    "cg_iteration_s",
    "structure_err",
)
"""What an operator-only preconditioner is scored by (its other metrics are NaN)."""


def evaluate(x: MetricInput) -> MetricValues:
    """All metrics of one cell. Raises on a metric's own failure (the runner records it)."""
    with np.errstate(all="ignore"):
        names = [m.name for m in METRICS]
        # no M to compare with A (an operator; a start held as a solve: ILU, a pivoted LU):
        # only the solve scores (`is_operator` first: `factors` densifies a sparse one)
        if x.is_operator or (x.fact.kind == "precond" and not x.fact.factors):
            names = [name for name in names if name in PRECOND_METRICS]
        values: dict[str, Any] = {name: METRIC_FUNCTIONS[name](x) for name in names}
        return MetricValues(**values)
