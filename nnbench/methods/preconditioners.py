"""Classical preconditioners for conjugate gradients on SPD systems (kind `precond`): none,
Jacobi and incomplete Cholesky with zero fill-in, IC(0). What an amortized preconditioner
(NeuralIF-style, `amortized-ic`) is compared with."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnbench.errors import SkipCell
from nnbench.methods.base import Raw, Requirements


def spd_only(x: np.ndarray) -> None:
    """The check before timing (see `classical`): symmetric with a positive diagonal."""
    if not np.allclose(x, x.T, rtol=1e-12, atol=0.0) or np.any(np.diag(x) <= 0):
        raise SkipCell("conjugate gradients needs a symmetric positive definite matrix")


def _none(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    return {"L": np.eye(x.shape[0], dtype=x.dtype)}


def _jacobi(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    return {"L": np.diag(np.sqrt(np.diag(x)))}


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
    return {"L": ic0(x)}


SPD = Requirements(tags=frozenset({"spd"}))
# IC(0) may break down on an SPD matrix, never on a diagonally dominant one (an H-matrix)
SPD_DOMINANT = Requirements(tags=frozenset({"spd", "diagonally_dominant"}))

PRECONDITIONERS = (
    ("cg-none", _none, "no preconditioner: plain conjugate gradients (L = I)", SPD),
    ("cg-jacobi", _jacobi, "Jacobi: M = diag(A), L = diag(sqrt(a_ii))", SPD),
    ("ic0", _ic0, "incomplete Cholesky, zero fill-in: L on the pattern of tril(A)", SPD_DOMINANT),
)
