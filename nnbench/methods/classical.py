"""Classical factorizations: scipy (CPU), torch.linalg (any device) and textbook Doolittle."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from nnbench.errors import SkipCell
from nnbench.methods.base import Method
from nnbench.methods.factorization import (
    Factorization,
    LowRankFactorization,
    LUFactorization,
    QRFactorization,
    SVDFactorization,
)


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


class Doolittle(Method):
    name = "doolittle"
    kind = "lu"
    description = "textbook LU without pivoting, unit-lower L (the unique reference)"
    square_only = True

    def compute(self, x: np.ndarray, *, rank: int | None, seed: int) -> Any:
        return doolittle_lu(x)

    def finish(self, raw: Any) -> Factorization:
        lower, upper = raw
        return LUFactorization(L=lower, U=upper)


class ScipyLU(Method):
    name = "scipy-lu"
    kind = "lu"
    description = "scipy.linalg.lu, partial pivoting (A = P L U)"
    square_only = True

    def compute(self, x: np.ndarray, *, rank: int | None, seed: int) -> Any:
        return scipy.linalg.lu(x, check_finite=False)

    def finish(self, raw: Any) -> Factorization:
        p, lower, upper = raw
        return LUFactorization(P=p, L=lower, U=upper)


class ScipyQR(Method):
    name = "scipy-qr"
    kind = "qr"
    description = "scipy.linalg.qr, Householder, economic"

    def compute(self, x: np.ndarray, *, rank: int | None, seed: int) -> Any:
        return scipy.linalg.qr(x, mode="economic", check_finite=False)

    def finish(self, raw: Any) -> Factorization:
        q, r = raw
        return QRFactorization(Q=q, R=r)


class ScipySVD(Method):
    name = "scipy-svd"
    kind = "svd"
    description = "scipy.linalg.svd (gesdd), thin"

    def compute(self, x: np.ndarray, *, rank: int | None, seed: int) -> Any:
        return scipy.linalg.svd(x, full_matrices=False, check_finite=False)

    def finish(self, raw: Any) -> Factorization:
        u, s, vt = raw
        return SVDFactorization(U=u, s=s, Vt=vt)


class ScipyTruncatedSVD(Method):
    name = "scipy-tsvd"
    kind = "rank-k"
    description = "rank-k truncation of scipy's full SVD: the Eckart-Young optimum"

    def compute(self, x: np.ndarray, *, rank: int | None, seed: int) -> Any:
        u, s, vt = scipy.linalg.svd(x, full_matrices=False, check_finite=False)
        return u[:, :rank] * s[:rank], vt[:rank]

    def finish(self, raw: Any) -> Factorization:
        left, right = raw
        return LowRankFactorization(left=left, right=right)


class TorchMethod(Method):
    """torch.linalg on the cell's device; factors come back as numpy arrays."""

    backend = "torch"

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        import torch

        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    @staticmethod
    def numpy(*tensors: Any) -> list[np.ndarray]:
        return [t.detach().cpu().numpy() for t in tensors]


class TorchLU(TorchMethod):
    name = "torch-lu"
    kind = "lu"
    description = "torch.linalg.lu, partial pivoting (A = P L U)"
    square_only = True

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        import torch

        return torch.linalg.lu(x)

    def finish(self, raw: Any) -> Factorization:
        p, lower, upper = self.numpy(*raw)
        return LUFactorization(P=p, L=lower, U=upper)


class TorchQR(TorchMethod):
    name = "torch-qr"
    kind = "qr"
    description = "torch.linalg.qr, reduced"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        import torch

        return torch.linalg.qr(x, mode="reduced")

    def finish(self, raw: Any) -> Factorization:
        q, r = self.numpy(*raw)
        return QRFactorization(Q=q, R=r)


class TorchSVD(TorchMethod):
    name = "torch-svd"
    kind = "svd"
    description = "torch.linalg.svd, thin"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        import torch

        return torch.linalg.svd(x, full_matrices=False)

    def finish(self, raw: Any) -> Factorization:
        u, s, vt = self.numpy(*raw)
        return SVDFactorization(U=u, s=s, Vt=vt)


class TorchTruncatedSVD(TorchMethod):
    name = "torch-tsvd"
    kind = "rank-k"
    description = "rank-k truncation of torch.linalg.svd"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        import torch

        u, s, vt = torch.linalg.svd(x, full_matrices=False)
        return u[:, :rank] * s[:rank], vt[:rank]

    def finish(self, raw: Any) -> Factorization:
        left, right = self.numpy(*raw)
        return LowRankFactorization(left=left, right=right)


CLASSICAL_METHODS: tuple[type[Method], ...] = (
    Doolittle,
    ScipyLU,
    ScipyQR,
    ScipySVD,
    ScipyTruncatedSVD,
    TorchLU,
    TorchQR,
    TorchSVD,
    TorchTruncatedSVD,
)
