"""Classical preconditioners for conjugate gradients on SPD systems (kind `precond`): none,
Jacobi, and on scipy.sparse IC(0) (a compiled kernel, applied by compiled triangular solves),
ILUT, smoothed-aggregation AMG (pyamg, one V-cycle) and a sparse direct solve (the exact
reference: CG converges in one or two iterations); and IC(0) of a dense A (the same
factor, dense in and out; `ic0` is its textbook loop, the tests' reference). What an
amortized preconditioner (NeuralIF-style) is compared with.

A sparse family's instance reaches the sparse methods as CSR (`corpus.sparse`: nothing n x n
is formed); a dense instance goes to CSR inside their timed call (about as long as one dense
matrix-vector product), as a user holding a dense array would have to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from nnbench.corpus.sparse import is_sparse
from nnbench.corpus.tags import SPARSE_TAG_CHECKS
from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods.base import Raw, Requirements
from nnbench.methods.factorization import InverseOperator


def spd_only(x: Any) -> None:
    """The check before timing (see `classical`): symmetric, and positive definite by a
    Cholesky attempt (an indefinite A would break CG down: a `diverged` row for no
    fault of the preconditioner's) that meets no pivot at rounding level (n eps max|a_ij|:
    a singular semidefinite A, on which Cholesky may finish; then lambda_min is that small,
    and A is `singular`, not `spd`). A sparse A: symmetric with a positive diagonal, checked
    sparse; its definiteness is its family's `spd` tag (checked by `corpus.tags`, sparse)."""
    message = "conjugate gradients needs a symmetric positive definite matrix"
    if is_sparse(x):
        if not SPARSE_TAG_CHECKS["symmetric"](x) or np.any(x.diagonal() <= 0):
            raise SkipCell(message)
        return
    if not np.allclose(x, x.T, rtol=1e-12, atol=0.0) or np.any(np.diag(x) <= 0):
        raise SkipCell(message)
    try:
        lower = scipy.linalg.cholesky(x, lower=True, check_finite=False)
    except np.linalg.LinAlgError as exc:
        raise SkipCell(f"{message}; this one is not positive definite") from exc
    tiny = x.shape[0] * np.finfo(x.dtype).eps * float(np.abs(x).max())
    if float(np.diagonal(lower).min()) ** 2 <= tiny:
        raise SkipCell(f"{message}; this one is singular (positive semidefinite at most)")


def _identity(r: np.ndarray) -> np.ndarray:
    return r


def _diagonal_csr(values: np.ndarray) -> scipy.sparse.csr_array:
    """diag(values) as CSR, built from its three arrays (no conversion, no sort)."""
    n = values.size
    return scipy.sparse.csr_array((values, np.arange(n), np.arange(n + 1)), shape=(n, n))


def _none(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    n = x.shape[0]
    lower = _diagonal_csr(np.ones(n))
    return {"operator": InverseOperator(n=n, apply=_identity, lower=lower)}


def _jacobi(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    diagonal = np.asarray(x.diagonal(), dtype=np.float64)
    inverse = 1.0 / diagonal

    def apply(r: np.ndarray) -> np.ndarray:
        return inverse * r

    lower = _diagonal_csr(np.sqrt(diagonal))
    return {"operator": InverseOperator(n=x.shape[0], apply=apply, lower=lower)}


def ic0(a: np.ndarray) -> np.ndarray:
    """Incomplete Cholesky with zero fill-in: L has the pattern of tril(A) and L L^T matches A
    on that pattern (left-looking, one column at a time, fill-in dropped). SkipCell on a
    non-positive pivot (IC(0) breaks down on some SPD matrices)."""
    n = a.shape[0]
    pattern = np.tril(a != 0)
    lower = np.zeros_like(a)
    for k in range(n):
        pivot = a[k, k] - lower[k, :k] @ lower[k, :k]
        if not pivot > 0:
            raise SkipCell(f"IC(0) broke down: pivot {k + 1} is {pivot:.3g}")
        lower[k, k] = np.sqrt(pivot)
        column = (a[k + 1 :, k] - lower[k + 1 :, :k] @ lower[k, :k]) / lower[k, k]
        lower[k + 1 :, k] = np.where(pattern[k + 1 :, k], column, 0.0)
    return lower


def _ic0(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    """`ic0`'s L (to rounding) at compiled speed, dense in and out: where tril(A) has no zero
    entry IC(0) is the Cholesky factorization (LAPACK's potrf); otherwise the compiled sparse
    kernel on A's nonzeros (`sparse_ic0`). SkipCell on a non-positive pivot."""
    a = np.asarray(x)
    n = a.shape[0]
    if np.count_nonzero(np.tril(a)) == n * (n + 1) // 2:
        try:
            lower = scipy.linalg.cholesky(a, lower=True, check_finite=False)
        except np.linalg.LinAlgError as exc:
            raise SkipCell(f"IC(0) broke down: {exc}") from exc
    else:
        lower = sparse_ic0(scipy.sparse.csr_array(a)).toarray()
    return {"L": lower.astype(a.dtype, copy=False)}


def sparse_ic0(a: scipy.sparse.sparray) -> scipy.sparse.csc_array:
    """IC(0) of a sparse SPD A: L (CSC) on the pattern of tril(A), by the compiled
    right-looking kernel (`compiled.ic0_csc`). SkipCell on a non-positive pivot."""
    from nnbench.methods.compiled import ic0_csc  # numba: loaded where used

    lower, broke = ic0_csc(a)
    if broke >= 0:
        start, end = lower.indptr[broke], lower.indptr[broke + 1]
        on_diagonal = start < end and lower.indices[start] == broke
        pivot = lower.data[start] if on_diagonal else 0.0
        raise SkipCell(f"IC(0) broke down: pivot {broke + 1} is {pivot:.3g}")
    return lower


def triangular_inverse(lower: scipy.sparse.sparray) -> InverseOperator:
    """M^-1 = (L L^T)^-1 applied by one compiled forward and one back substitution (about two
    sparse products' work): the same apply for every triangular-factor preconditioner,
    classical (IC(0)) or learned; only the factor differs."""
    from nnbench.methods.compiled import lower_csc, solve_lower_then_upper  # numba: when used

    csc = lower_csc(lower)

    def apply(r: np.ndarray) -> np.ndarray:
        return solve_lower_then_upper(csc, r)

    return InverseOperator(n=csc.shape[0], apply=apply, lower=csc)


def _csr(x: Any) -> scipy.sparse.csr_array:
    """A as float64 CSR: a sparse A as it is (no copy when it already is), a dense one
    converted (inside the timed call: a dense A costs its user that conversion)."""
    if is_sparse(x) and x.format == "csr" and x.dtype == np.float64:
        return x
    return scipy.sparse.csr_array(x if is_sparse(x) else np.asarray(x), dtype=np.float64)


def _sparse_ic0(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    return {"operator": triangular_inverse(sparse_ic0(_csr(x)))}


@dataclass(frozen=True, kw_only=True)
class Ilut:
    """spilu's options: entries below `drop_tol` (relative) are dropped, and L + U keep at
    most `fill_factor` times the nonzeros of A."""

    drop_tol: float = 1e-4
    fill_factor: float = 10.0

    def __post_init__(self) -> None:
        if not (0.0 <= self.drop_tol < 1.0 and self.fill_factor >= 1.0):
            raise NNBenchError(
                f"ILUT drop_tol={self.drop_tol}, fill_factor={self.fill_factor}",
                "use 0 <= drop_tol < 1 and fill_factor >= 1",
            )


ILUT_OPTIONS = Ilut()
"""`ilut`'s default options; the `ilu` warm start and `nnbench bench` use them too."""
ILUT_ORDERING: dict[str, Any] = {
    # symmetric ordering, no pivoting: M stays near-symmetric, as CG needs (with SuperLU's
    # default COLAMD and pivoting, CG hit its cap at n = 4096 on diffusion-2d)
    "permc_spec": "MMD_AT_PLUS_A",
    "diag_pivot_thresh": 0.0,
    "options": {"SymmetricMode": True},
}
"""spilu's ordering and pivoting options for `ilut` (whatever its drop_tol and fill_factor)."""


def _ilut(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    options = config if isinstance(config, Ilut) else ILUT_OPTIONS
    try:
        lu = scipy.sparse.linalg.spilu(
            scipy.sparse.csc_array(_csr(x)),
            drop_tol=options.drop_tol,
            fill_factor=options.fill_factor,
            **ILUT_ORDERING,
        )
    except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
        raise SkipCell(f"ILUT broke down: {exc}") from exc
    return {"operator": InverseOperator(n=x.shape[0], apply=lu.solve)}


def _amg(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    import pyamg  # here: nnbench imports where pyamg is missing (a bare GPU machine)

    hierarchy = pyamg.smoothed_aggregation_solver(_csr(x))
    v_cycle = hierarchy.aspreconditioner(cycle="V")
    return {"operator": InverseOperator(n=x.shape[0], apply=v_cycle.matvec)}


def _sparse_direct(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    lu = scipy.sparse.linalg.splu(scipy.sparse.csc_array(_csr(x)))
    return {"operator": InverseOperator(n=x.shape[0], apply=lu.solve)}


SPD = Requirements(tags=frozenset({"spd"}))
# IC(0) may break down on an SPD matrix, never on a diagonally dominant one (an H-matrix)
SPD_DOMINANT = Requirements(tags=frozenset({"spd", "diagonally_dominant"}))


@dataclass(frozen=True)
class Preconditioner:
    """One line of `PRECONDITIONERS`: the timed build `call`, and whether it takes a sparse
    A as CSR (`sparse`; else a sparse family's A reaches it dense, up to DENSE_LIMIT)."""

    name: str
    call: Any
    description: str
    requires: Requirements
    sparse: bool = True


PRECONDITIONERS = (
    Preconditioner("cg-none", _none, "no preconditioner: plain conjugate gradients (M = I)", SPD),
    Preconditioner("cg-jacobi", _jacobi, "Jacobi: M = diag(A), L = diag(sqrt(a_ii))", SPD),
    Preconditioner(
        "ic0",
        _ic0,
        "incomplete Cholesky, zero fill-in: L on the pattern of tril(A), dense in and out "
        "(LAPACK's Cholesky where that pattern is full, else the compiled sparse kernel)",
        SPD_DOMINANT,
        sparse=False,
    ),
    Preconditioner(
        "sparse-ic0", _sparse_ic0, "IC(0) on scipy.sparse CSR, sparse solves", SPD_DOMINANT
    ),
    Preconditioner("ilut", _ilut, "scipy spilu: threshold ILU, drop_tol 1e-4, fill_factor 10", SPD),
    Preconditioner("amg", _amg, "pyamg smoothed aggregation, one V-cycle per application", SPD),
    Preconditioner(
        "sparse-direct", _sparse_direct, "scipy splu: exact sparse LU (the reference)", SPD
    ),
)
