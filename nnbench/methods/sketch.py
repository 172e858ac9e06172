"""Sketch-and-solve rank-k approximation (Clarkson & Woodruff; Indyk, Vakilian & Yuan,
NeurIPS 2019): with an m x n_rows sketch S, A_k is the best rank-k approximation of A within
the row space of S A: Q = orth((S A)^T), then the truncated SVD of A Q, A_k = [A Q]_k Q^T.

The sketch is what differs: Gaussian or CountSketch (classical, random, drawn per call), or
learned once on a distribution of matrices (`amortized-sketch`, in `amortized.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from nnbench.errors import NNBenchError
from nnbench.methods.base import Raw


@dataclass(frozen=True, kw_only=True)
class Sketch:
    """`rows` (m) of the sketch; None: 2k."""

    rows: int | None = None

    def __post_init__(self) -> None:
        if self.rows is not None and (not isinstance(self.rows, int) or self.rows < 1):
            raise NNBenchError("rows must be a positive integer", "set e.g. rows=20")

    def m(self, k: int, n_rows: int) -> int:
        return min(self.rows or 2 * k, n_rows)


def best_in_row_space(a: torch.Tensor, sa: torch.Tensor, k: int) -> tuple[Any, Any]:
    """(left, right) with left @ right the best rank-k approximation of A (..., m, n) within
    the row space of S A (..., s, n); differentiable (QR and SVD), so a sketch can learn."""
    q, _ = torch.linalg.qr(sa.mT)  # (..., n, s): an orthonormal basis of the row space
    u, s, vt = torch.linalg.svd(a @ q, full_matrices=False)
    return u[..., :, :k] * s[..., None, :k], vt[..., :k, :] @ q.mT


def gaussian_sketch(m: int, rows: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(m, rows, generator=gen, dtype=like.dtype, device=like.device) / m**0.5


def count_sketch(m: int, rows: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """One +-1 per column, in a random row (Clarkson & Woodruff's CountSketch)."""
    bucket = torch.randint(0, m, (rows,), generator=gen, device=like.device)
    sign = torch.randint(0, 2, (rows,), generator=gen, device=like.device).to(like.dtype) * 2 - 1
    s = torch.zeros(m, rows, dtype=like.dtype, device=like.device)
    s[bucket, torch.arange(rows, device=like.device)] = sign
    return s


SKETCHES = {"gaussian": gaussian_sketch, "countsketch": count_sketch}


def random_sketch_method(name: str) -> Any:
    """The `compute` of a classical sketch-and-solve method with a random `name` sketch."""

    def compute(x: Any, rank: int | None, seed: int, config: Sketch) -> Raw:
        k = int(rank or 1)
        gen = torch.Generator(device=x.device).manual_seed(seed % 2**63)
        s = SKETCHES[name](config.m(k, x.shape[0]), x.shape[0], gen, x)
        left, right = best_in_row_space(x, s @ x, k)
        return {"left": left, "right": right}

    compute.__qualname__ = f"sketch_{name}"
    return compute
