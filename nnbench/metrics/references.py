"""The Doolittle reference: the unique unit-lower LU without pivoting of P^T A, computed
fast (blocked elimination, or LAPACK where partial pivoting exchanges no rows), and the
distance of a method's LU factors from it."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg

from nnbench.elimination import doolittle_lu
from nnbench.errors import SkipCell
from nnbench.metrics.norms import NAN, rel_err_fro

if TYPE_CHECKING:  # annotations only: the methods package loads torch
    from nnbench.methods.factorization import LUFactorization, MatMul


def blocked_doolittle(a: np.ndarray, block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """`doolittle_lu`'s factors and zero-pivot rule by blocked elimination (panels of `block`
    columns, then one triangular solve and one product per panel): the same O(n^3) work in
    BLAS-3 calls instead of n rank-1 updates (the metric's reference, not the method)."""
    n = a.shape[0]
    u = np.array(a, dtype=np.float64)
    zero = n * np.finfo(np.float64).eps * float(np.abs(u).max(initial=0.0))
    for k0 in range(0, n, block):
        k1 = min(k0 + block, n)
        for j in range(k0, k1):
            if j < n - 1 and abs(u[j, j]) <= zero:
                raise SkipCell(f"zero pivot at step {j + 1}: no LU without pivoting exists")
            u[j + 1 :, j] /= u[j, j]
            u[j + 1 :, j + 1 : k1] -= np.outer(u[j + 1 :, j], u[j, j + 1 : k1])
        if k1 < n:
            u[k0:k1, k1:] = scipy.linalg.solve_triangular(
                u[k0:k1, k0:k1], u[k0:k1, k1:], lower=True, unit_diagonal=True
            )
            u[k1:, k1:] -= u[k1:, k0:k1] @ u[k0:k1, k1:]
    return np.tril(u, -1) + np.eye(n), np.triu(u)


def lapack_doolittle(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`doolittle_lu`'s factors and zero-pivot rule, by LAPACK when it can: if partial
    pivoting exchanges no rows of `a` (as on P^T A for the P partial pivoting chose), LAPACK's
    LU is the LU without pivoting, which is unique; otherwise `blocked_doolittle`."""
    n = a.shape[0]
    if n < 2:
        return blocked_doolittle(a)
    with warnings.catch_warnings():  # an exactly zero pivot: the rule below decides
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        packed, pivots = scipy.linalg.lu_factor(a, check_finite=False)
    if not np.array_equal(pivots, np.arange(n)):
        return blocked_doolittle(a)
    zero = n * np.finfo(np.float64).eps * float(np.abs(a).max(initial=0.0))
    small = np.flatnonzero(np.abs(np.diag(packed))[:-1] <= zero)
    if small.size:
        raise SkipCell(f"zero pivot at step {small[0] + 1}: no LU without pivoting exists")
    return np.tril(packed, -1) + np.eye(n), np.triu(packed)


def doolittle_factor_err(
    a: np.ndarray,
    fact: LUFactorization,
    doolittle: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = doolittle_lu,
    matmul: MatMul = np.matmul,
) -> float:
    """Distance of LU factors from the unique Doolittle factors of P^T A (unit-lower L).

    The factors are first rescaled to a unit-diagonal L (L D^-1, D U), so that any valid LU
    normalisation scores 0; the result is the larger relative Frobenius error of L and U."""
    pa = fact.unpermute_rows(a, matmul)
    try:
        ref_l, ref_u = doolittle(pa)
    except SkipCell:
        return NAN
    d = np.diag(fact.L).astype(np.float64)
    if np.any(d == 0.0):
        return float("inf")
    unit_l = fact.L.astype(np.float64) / d
    scaled_u = d[:, None] * fact.U.astype(np.float64)
    return max(rel_err_fro(ref_l, unit_l), rel_err_fro(ref_u, scaled_u))
