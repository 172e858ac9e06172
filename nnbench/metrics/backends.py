"""Where a cell's O(n^3) evaluation work runs: numpy on the CPU, or torch in float64 on the
device the method ran on (`LINALGS`, chosen by the cell's device through `EVALUATE_ON`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nnbench.elimination import eliminate
from nnbench.errors import SkipCell
from nnbench.metrics.references import lapack_doolittle

if TYPE_CHECKING:  # annotations only: the methods package loads torch
    from nnbench.methods.factorization import MatMul


def numpy_svdvals(a: np.ndarray) -> np.ndarray:
    return np.linalg.svd(a, compute_uv=False) if a.size else np.zeros(0)


@dataclass(frozen=True)
class Linalg:
    """Where a cell's O(n^3) evaluation work runs (the products behind reconstructions and
    orthogonality, and singular values): numpy on the CPU, or torch in float64 on the device
    the method ran on, so that evaluating a GPU cell costs GPU time, not minutes of CPU."""

    name: str
    matmul: MatMul
    svdvals: Callable[[np.ndarray], np.ndarray]
    slogdet: Callable[[np.ndarray], tuple[float, float]]
    doolittle: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # SkipCell: zero pivot


def _numpy_slogdet(a: np.ndarray) -> tuple[float, float]:
    sign, logdet = np.linalg.slogdet(a)
    return float(sign), float(logdet)


def _torch_linalg(device: str) -> Linalg:
    def to_device(m: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(np.ascontiguousarray(m, dtype=np.float64)).to(device)

    def matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (to_device(x) @ to_device(y)).cpu().numpy()

    def svdvals(a: np.ndarray) -> np.ndarray:
        import torch

        return torch.linalg.svdvals(to_device(a)).cpu().numpy() if a.size else np.zeros(0)

    def slogdet(a: np.ndarray) -> tuple[float, float]:
        import torch

        sign, logdet = torch.linalg.slogdet(to_device(a))
        return float(sign), float(logdet)

    def doolittle(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`doolittle_lu` (the same zero-pivot rule) by blocked elimination on the device."""
        import torch

        packed = eliminate(to_device(a))
        pivots = torch.diagonal(packed).abs()[:-1]
        zero = a.shape[0] * np.finfo(np.float64).eps * float(np.abs(a).max(initial=0.0))
        if not bool(torch.isfinite(packed).all()) or bool((pivots <= zero).any()):
            raise SkipCell("zero pivot: no LU without pivoting exists")
        eye = torch.eye(a.shape[0], dtype=packed.dtype, device=packed.device)
        lower, upper = torch.tril(packed, -1) + eye, torch.triu(packed)
        return lower.cpu().numpy(), upper.cpu().numpy()

    return Linalg(f"torch-{device}", matmul, svdvals, slogdet, doolittle)


LINALGS: dict[str, Linalg] = {
    "numpy": Linalg("numpy", np.matmul, numpy_svdvals, _numpy_slogdet, lapack_doolittle),
    "torch-cpu": _torch_linalg("cpu"),
    "torch-cuda": _torch_linalg("cuda"),
}
EVALUATE_ON = {"cpu": "numpy", "cuda": "torch-cuda", "mps": "numpy"}  # mps has no float64
"""The `Linalg` that evaluates a cell, by the cell's device."""
