"""Gaussian elimination without row exchanges: the kernels that the `doolittle` method, the
neural LU's convex start and the metrics' Doolittle references all use.

torch is imported inside `eliminate` only, so that the numpy kernel and its callers (the
metrics' references) do not load it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nnbench.errors import SkipCell

if TYPE_CHECKING:
    import torch


def doolittle_lu(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Textbook LU without pivoting (studies 003/004): the unique L with unit diagonal.

    Raises SkipCell when a pivot before the last is zero (relative to max|a_ij|), because then
    no LU without pivoting exists."""
    n = a.shape[0]
    u = a.copy()
    lower = np.eye(n, dtype=a.dtype)
    scale = float(np.abs(a).max(initial=0.0))
    zero = n * np.finfo(a.dtype).eps * scale
    for k in range(n - 1):
        pivot = u[k, k]
        if abs(pivot) <= zero:
            raise SkipCell(
                f"zero pivot at step {k + 1}: no LU without pivoting exists; "
                "use scipy-lu or torch-lu (partial pivoting)"
            )
        lower[k + 1 :, k] = u[k + 1 :, k] / pivot
        u[k + 1 :, k:] -= np.outer(lower[k + 1 :, k], u[k, k:])
        u[k + 1 :, k] = 0.0
    return lower, u


ELIMINATION_BLOCK = 64  # columns per panel of the blocked elimination


def eliminate(b: torch.Tensor, block: int = ELIMINATION_BLOCK) -> torch.Tensor:
    """Gaussian elimination without row exchanges on a stack (..., n, n), blocked (panels of
    `block` columns, then a triangular solve and one matrix product per panel): O(n^2) memory,
    O(n^3) work. Returns L (strictly below the diagonal, unit diagonal implied) and U packed
    in one tensor; a zero pivot leaves NaN/Inf for the caller to check."""
    import torch

    a = b.clone()
    n = a.shape[-1]
    for k0 in range(0, n, block):
        k1 = min(k0 + block, n)
        for j in range(k0, k1):  # the panel, one column at a time
            a[..., j + 1 :, j] /= a[..., j, j, None]
            a[..., j + 1 :, j + 1 : k1] -= a[..., j + 1 :, j, None] * a[..., j, None, j + 1 : k1]
        if k1 < n:
            unit_lower = torch.tril(a[..., k0:k1, k0:k1], -1)
            a[..., k0:k1, k1:] = torch.linalg.solve_triangular(
                unit_lower, a[..., k0:k1, k1:], upper=False, unitriangular=True
            )
            a[..., k1:, k1:] -= a[..., k1:, k0:k1] @ a[..., k0:k1, k1:]
    return a
