"""Classical factorizations: scipy (CPU), torch.linalg (any device) and textbook Doolittle.

Each is one function returning its factors by name, and one line of `CLASSICAL_METHODS`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

from nnbench.errors import SkipCell
from nnbench.methods.base import Method, Raw


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


def _doolittle(x: np.ndarray, rank: int | None) -> Raw:
    lower, upper = doolittle_lu(x)
    return {"L": lower, "U": upper}


def _scipy_lu(x: np.ndarray, rank: int | None) -> Raw:
    p, lower, upper = scipy.linalg.lu(x, check_finite=False)
    return {"P": p, "L": lower, "U": upper}


def _scipy_qr(x: np.ndarray, rank: int | None) -> Raw:
    q, r = scipy.linalg.qr(x, mode="economic", check_finite=False)
    return {"Q": q, "R": r}


def _scipy_svd(x: np.ndarray, rank: int | None) -> Raw:
    u, s, vt = scipy.linalg.svd(x, full_matrices=False, check_finite=False)
    return {"U": u, "s": s, "Vt": vt}


def _scipy_tsvd(x: np.ndarray, rank: int | None) -> Raw:
    u, s, vt = scipy.linalg.svd(x, full_matrices=False, check_finite=False)
    return {"left": u[:, :rank] * s[:rank], "right": vt[:rank]}


def _torch_lu(x: Any, rank: int | None) -> Raw:
    import torch

    p, lower, upper = torch.linalg.lu(x)
    return {"P": p, "L": lower, "U": upper}


def _torch_qr(x: Any, rank: int | None) -> Raw:
    import torch

    q, r = torch.linalg.qr(x, mode="reduced")
    return {"Q": q, "R": r}


def _torch_svd(x: Any, rank: int | None) -> Raw:
    import torch

    u, s, vt = torch.linalg.svd(x, full_matrices=False)
    return {"U": u, "s": s, "Vt": vt}


def _torch_tsvd(x: Any, rank: int | None) -> Raw:
    import torch

    u, s, vt = torch.linalg.svd(x, full_matrices=False)
    return {"left": u[:, :rank] * s[:rank], "right": vt[:rank]}


class LibraryMethod(Method):
    """A classical factorization: one library call (or the textbook loop), timed as is."""

    def __init__(
        self,
        name: str,
        kind: str,
        call: Callable[[Any, int | None], Raw],
        description: str,
        *,
        backend: str = "numpy",
        square_only: bool = False,
    ) -> None:
        self.name, self.kind, self.call, self.description = name, kind, call, description
        self.backend, self.square_only = backend, square_only

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        return self.call(x, rank)


CLASSICAL_METHODS: tuple[LibraryMethod, ...] = (
    LibraryMethod(
        "doolittle",
        "lu",
        _doolittle,
        "textbook LU without pivoting, unit-lower L (the unique reference)",
        square_only=True,
    ),
    LibraryMethod(
        "scipy-lu", "lu", _scipy_lu, "scipy.linalg.lu, partial pivoting (A = P L U)",
        square_only=True,
    ),
    LibraryMethod("scipy-qr", "qr", _scipy_qr, "scipy.linalg.qr, Householder, economic"),
    LibraryMethod("scipy-svd", "svd", _scipy_svd, "scipy.linalg.svd (gesdd), thin"),
    LibraryMethod(
        "scipy-tsvd",
        "rank-k",
        _scipy_tsvd,
        "rank-k truncation of scipy's full SVD: the Eckart-Young optimum",
    ),
    LibraryMethod(
        "torch-lu", "lu", _torch_lu, "torch.linalg.lu, partial pivoting (A = P L U)",
        backend="torch", square_only=True,
    ),
    LibraryMethod("torch-qr", "qr", _torch_qr, "torch.linalg.qr, reduced", backend="torch"),
    LibraryMethod("torch-svd", "svd", _torch_svd, "torch.linalg.svd, thin", backend="torch"),
    LibraryMethod(
        "torch-tsvd", "rank-k", _torch_tsvd, "rank-k truncation of torch.linalg.svd",
        backend="torch",
    ),
)  # fmt: skip
