"""Streaming rank-k (issue 25 item 2): methods that see A's rows once or a few times, in blocks,
never holding more than a sketch of it, for the regime where reading A is what costs.

- `stream-fd` (classical): Frequent Directions (Liberty 2013; Ghashami, Liberty, Phillips &
  Woodruff 2016): an l x n sketch B (l = 2k) of the rows seen; when it fills, B's SVD and a
  shrink of every squared singular value by the l/2-th one (the fast variant) make room. Its
  top-k right singular vectors V span A's best rank-k row space up to ||A - A_k||_F^2 / (l/2 -
  k); the approximation A V V^T takes a second pass (2 passes; memory l n).
- `stream-rsvd1` (classical): single-pass randomized SVD (Tropp, Yurtsever, Udell & Cevher,
  SIMAX 2017, Alg. 7 without its final truncation step's refinements): Y = A Omega (m x r) and
  W = Psi A (s x n) gathered in the same pass (r = 2k + 1, s = 2r + 1), then Q = orth(Y),
  X = (Psi Q)^+ W and the best rank-k part of Q X. One pass; memory m r + s n.
- `neural-gha` (neural): the generalized Hebbian algorithm (Sanger 1989), a linear network
  y = W^T a trained by Hebbian updates dW = eta (a y^T - W triu(y y^T)) on the rows a of A,
  `epochs` passes over them in blocks, step size eta = lr / (mean squared row norm); W's
  columns converge to A's top-k right singular vectors without any QR or SVD. The
  approximation (A W) W^T takes one more pass: epochs + 1 passes; memory n k. Its loss curve:
  per epoch, the mean squared error of each block's reconstruction y W^T as it streamed by.

Rows are streamed in blocks of `block` (a block of rows at a time counts as part of one pass).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nnbench.errors import NNBenchError
from nnbench.methods.base import Cost, Raw
from nnbench.methods.factorization import TrainingHistory


@dataclass(frozen=True, kw_only=True)
class Stream:
    """Rows of A arrive `block` at a time."""

    block: int = 32

    def __post_init__(self) -> None:
        if not isinstance(self.block, int) or self.block < 1:
            raise NNBenchError("block must be a positive integer", "set e.g. block=32")


def _blocks(a: torch.Tensor, block: int) -> list[torch.Tensor]:
    return list(torch.split(a, block, dim=0))


def frequent_directions(x: Any, rank: int | None, seed: int, config: Stream) -> Raw:
    """Frequent Directions' sketch in one pass, then A V_k V_k^T in a second."""
    k = int(rank or 1)
    n = x.shape[1]
    ell = min(2 * k, n)
    sketch = x.new_zeros((0, n))
    for rows in _blocks(x, config.block):
        sketch = torch.cat([sketch, rows])
        if sketch.shape[0] >= 2 * ell:  # full: shrink to at most ell - 1 directions
            _, s, vt = torch.linalg.svd(sketch, full_matrices=False)
            delta = s[ell - 1] ** 2 if s.numel() >= ell else s.new_zeros(())
            kept = torch.sqrt(torch.clamp(s[:ell] ** 2 - delta, min=0.0))
            sketch = kept[:, None] * vt[:ell]
    _, _, vt = torch.linalg.svd(sketch, full_matrices=False)
    v = vt[:k].mT  # (n, k)
    left = torch.cat([rows @ v for rows in _blocks(x, config.block)])  # the second pass
    return {"left": left, "right": v.mT}


def frequent_directions_cost(shape: tuple[int, int], rank: int, config: Stream) -> Cost:
    m, n = shape
    ell = min(2 * rank, n)
    return Cost(passes=2, memory_floats=2 * ell * n + ell * ell + m * rank)


@dataclass(frozen=True, kw_only=True)
class SinglePass(Stream):
    """Sketch sizes: r = oversample_r * k + 1 range columns, s = 2 r + 1 co-range rows."""

    oversample_r: int = 2


def single_pass_rsvd(x: Any, rank: int | None, seed: int, config: SinglePass) -> Raw:
    k = int(rank or 1)
    m, n = x.shape
    r = min(config.oversample_r * k + 1, m, n)
    s = min(2 * r + 1, m)
    gen = torch.Generator(device=x.device).manual_seed(seed % 2**63)
    omega = torch.randn(n, r, generator=gen, dtype=x.dtype, device=x.device)
    psi = torch.randn(s, m, generator=gen, dtype=x.dtype, device=x.device)
    y = x.new_zeros((m, r))
    w = x.new_zeros((s, n))
    start = 0
    for rows in _blocks(x, config.block):  # the one pass: both sketches from each block
        stop = start + rows.shape[0]
        y[start:stop] = rows @ omega
        w += psi[:, start:stop] @ rows
        start = stop
    q, _ = torch.linalg.qr(y)
    core = torch.linalg.lstsq(psi @ q, w).solution  # (r, n)
    u, sv, vt = torch.linalg.svd(core, full_matrices=False)
    return {"left": (q @ u[:, :k]) * sv[:k], "right": vt[:k]}


def single_pass_cost(shape: tuple[int, int], rank: int, config: SinglePass) -> Cost:
    m, n = shape
    r = min(config.oversample_r * rank + 1, m, n)
    s = min(2 * r + 1, m)
    return Cost(passes=1, memory_floats=m * r + s * n + s * m + n * r)


@dataclass(frozen=True, kw_only=True)
class Hebbian(Stream):
    """`epochs` passes of Sanger's rule at step size lr / mean ||a||^2."""

    epochs: int = 3
    lr: float = 0.5
    group: str = "neural"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.epochs, int) or self.epochs < 1 or not self.lr > 0:
            raise NNBenchError("GHA needs epochs >= 1 and lr > 0", "set e.g. epochs=3,lr=0.5")


def generalized_hebbian(x: Any, rank: int | None, seed: int, config: Hebbian) -> Raw:
    """Sanger's rule on the rows of A (see the module's docstring); no factorization."""
    k = int(rank or 1)
    n = x.shape[1]
    gen = torch.Generator(device=x.device).manual_seed(seed % 2**63)
    w = torch.randn(n, k, generator=gen, dtype=x.dtype, device=x.device) / n**0.5
    energy = None
    losses, elapsed, start = [], [], time.perf_counter()
    for _ in range(config.epochs):
        residual = 0.0
        for rows in _blocks(x, config.block):
            if energy is None:  # the first block's mean squared row norm sets the scale
                energy = float(torch.mean(torch.sum(rows * rows, dim=1))) or 1.0
            y = rows @ w  # (b, k)
            residual += float(torch.sum((rows - y @ w.mT) ** 2))  # the block, in memory
            eta = config.lr / (energy * rows.shape[0])
            w = w + eta * (rows.mT @ y - w @ torch.triu(y.mT @ y))
        losses.append(residual / float(x.numel()))
        elapsed.append(time.perf_counter() - start)
    left = torch.cat([rows @ w for rows in _blocks(x, config.block)])  # one more pass
    history = TrainingHistory(np.asarray(losses), np.asarray(elapsed), unit="epoch")
    return {"left": left, "right": w.mT, "history": history}


def hebbian_cost(shape: tuple[int, int], rank: int, config: Hebbian) -> Cost:
    m, n = shape
    return Cost(passes=config.epochs + 1, memory_floats=n * rank + m * rank)


def _streaming_methods() -> tuple[Any, ...]:
    from nnbench.methods.classical import LibraryMethod

    gha = LibraryMethod(
        "neural-gha", "rank-k", generalized_hebbian,
        "generalized Hebbian algorithm (Sanger): y = W^T a, dW = eta (a y^T - W triu(y y^T)) "
        "on A's rows, 3 passes in blocks of 32, then A W W^T (4 passes, memory n k)",
        backend="torch", config=Hebbian(), cost_model=hebbian_cost,
    )  # fmt: skip
    gha.group = "neural"  # Hebbian updates only: no QR, SVD or solve
    return (
        LibraryMethod(
            "stream-fd", "rank-k", frequent_directions,
            "Frequent Directions (Liberty; Ghashami et al.): a 2k x n sketch of the rows in "
            "one pass, then A V_k V_k^T (2 passes, memory 4 k n)",
            backend="torch", config=Stream(), cost_model=frequent_directions_cost,
        ),
        LibraryMethod(
            "stream-rsvd1", "rank-k", single_pass_rsvd,
            "single-pass randomized SVD (Tropp, Yurtsever, Udell & Cevher 2017): A Omega and "
            "Psi A in one pass, r = 2k + 1, s = 2r + 1",
            backend="torch", config=SinglePass(), cost_model=single_pass_cost,
        ),
        gha,
    )  # fmt: skip


STREAMING_METHODS = _streaming_methods()
