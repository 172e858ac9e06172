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
- `neural-eigengame` (neural): mu-EigenGame (Gemp, McWilliams, Vernade & Graepel, "EigenGame
  Unloaded", ICLR 2022): player i's vector v_i (a column of V, n x k) moves along
  X^T X v_i - sum_{j<i} (v_i^T X^T X v_j) v_j for each block X of rows, then back to the unit
  sphere (each v_i divided by its norm: the paper's retraction; no QR or SVD couples the
  vectors). Step size lr / (b mean squared row norm), as GHA's. `epochs` passes, then A V
  (`left="extra-pass"`: epochs + 1 passes) or the rows of A V gathered in the last pass with
  V as it stood after each block (`left="last-pass"`: epochs passes, so one pass at
  epochs=1); memory 2 n k + m k.
- `stream-isvd` (classical): incremental SVD (Brand 2002; Baker, Gallivan & Van Dooren 2012):
  the rows seen so far as U S V^T of rank l = k + `extra`; each block B of b rows is split into
  C = B V and the residual R = B - C V^T (projected twice), R^T = Q_r R_r (QR), the small
  core [[S, 0], [C, R_r^T]] ((l + b) square) gets an SVD, and U, S, V are rotated by it and
  cut back to rank l; at the end, to k. One pass (U is the left factor, m x l: no second
  pass); memory m l + n l + 2 n b + (l + b)^2. Exact where A has rank <= l.

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


LEFT_FACTOR = {
    "extra-pass": "A V in one more pass, with the final V",
    "last-pass": "the rows of A V gathered in the last pass, each with V as it stood then",
}
"""How `neural-eigengame` gets its left factor A V (by the `left` option)."""


@dataclass(frozen=True, kw_only=True)
class EigenGame(Stream):
    """`epochs` passes of mu-EigenGame at step size lr / (b mean ||a||^2); `left` in
    `LEFT_FACTOR`."""

    epochs: int = 3
    lr: float = 0.5
    left: str = "extra-pass"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.epochs, int) or self.epochs < 1 or not self.lr > 0:
            raise NNBenchError("EigenGame needs epochs >= 1 and lr > 0", "set e.g. epochs=3,lr=0.5")
        if self.left not in LEFT_FACTOR:
            raise NNBenchError(f"unknown left={self.left!r}", f"use {', '.join(LEFT_FACTOR)}")


def _unit_columns(v: torch.Tensor) -> torch.Tensor:
    return v / torch.clamp(torch.linalg.vector_norm(v, dim=0), min=torch.finfo(v.dtype).tiny)


def mu_eigengame(x: Any, rank: int | None, seed: int, config: EigenGame) -> Raw:
    """mu-EigenGame on the rows of A (see the module's docstring): each block X gives player i
    the update X^T X v_i - sum_{j<i} (v_i^T X^T X v_j) v_j, then v_i / ||v_i||."""
    k = int(rank or 1)
    n = x.shape[1]
    gen = torch.Generator(device=x.device).manual_seed(seed % 2**63)
    v = _unit_columns(torch.randn(n, k, generator=gen, dtype=x.dtype, device=x.device))
    energy = None
    left: list[torch.Tensor] = []
    losses, elapsed, start = [], [], time.perf_counter()
    for epoch in range(config.epochs):
        gather = config.left == "last-pass" and epoch == config.epochs - 1
        residual = 0.0
        for rows in _blocks(x, config.block):
            if energy is None:  # the first block's mean squared row norm sets the scale
                energy = float(torch.mean(torch.sum(rows * rows, dim=1))) or 1.0
            y = rows @ v  # (b, k): X v_i for every player
            residual += float(torch.sum((rows - y @ v.mT) ** 2))  # the block, in memory
            # column i: X^T X v_i - sum_{j<i} (v_j^T X^T X v_i) v_j (strictly upper: j < i)
            step = rows.mT @ y - v @ torch.triu(y.mT @ y, diagonal=1)
            v = _unit_columns(v + config.lr / (energy * rows.shape[0]) * step)
            if gather:
                left.append(rows @ v)
        losses.append(residual / float(x.numel()))
        elapsed.append(time.perf_counter() - start)
    if config.left == "extra-pass":
        left = [rows @ v for rows in _blocks(x, config.block)]  # one more pass
    history = TrainingHistory(np.asarray(losses), np.asarray(elapsed), unit="epoch")
    return {"left": torch.cat(left), "right": v.mT, "history": history}


def eigengame_cost(shape: tuple[int, int], rank: int, config: EigenGame) -> Cost:
    m, n = shape
    passes = config.epochs + (1 if config.left == "extra-pass" else 0)
    b = min(config.block, m)
    # V and its update (n x k each), the left factor (m x k), X V (b x k), its Gram (k x k)
    return Cost(passes=passes, memory_floats=2 * n * rank + m * rank + b * rank + rank * rank)


@dataclass(frozen=True, kw_only=True)
class Incremental(Stream):
    """Keeps rank l = k + `extra` while streaming (Baker et al.'s l > k), k at the end."""

    extra: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.extra, int) or self.extra < 0:
            raise NNBenchError("extra must be an integer >= 0", "set e.g. extra=0 or extra=10")


def incremental_svd(x: Any, rank: int | None, seed: int, config: Incremental) -> Raw:
    """Brand's incremental SVD over blocks of rows (see the module's docstring)."""
    k = int(rank or 1)
    m, n = x.shape
    keep = min(k + config.extra, m, n)
    u = x.new_zeros((0, 0))
    s = x.new_zeros((0,))
    v = x.new_zeros((n, 0))
    for rows in _blocks(x, config.block):
        c = rows @ v  # (b, l)
        r = rows - c @ v.mT
        again = r @ v  # a second projection: r stays orthogonal to V in rounding
        r, c = r - again @ v.mT, c + again
        q, rr = torch.linalg.qr(r.mT)  # (n, b'), (b', b)
        seen, b, extra = u.shape[0], rows.shape[0], q.shape[1]
        core = x.new_zeros((s.numel() + b, s.numel() + extra))
        core[: s.numel(), : s.numel()] = torch.diag(s)
        core[s.numel() :, : s.numel()] = c
        core[s.numel() :, s.numel() :] = rr.mT
        cu, cs, cvt = torch.linalg.svd(core, full_matrices=False)
        top = min(keep, cs.numel())
        u_next = x.new_empty((seen + b, top))
        u_next[:seen] = u @ cu[: s.numel(), :top]
        u_next[seen:] = cu[s.numel() :, :top]
        v = torch.cat([v, q], dim=1) @ cvt[:top].mT
        u, s = u_next, cs[:top]
    top = min(k, s.numel())
    return {"left": u[:, :top] * s[:top], "right": v[:, :top].mT}


def incremental_cost(shape: tuple[int, int], rank: int, config: Incremental) -> Cost:
    m, n = shape
    keep = min(rank + config.extra, m, n)
    b = min(config.block, m)
    # U (m x l), V (n x l), the residual and its Q (n x b each), the core ((l + b)^2)
    return Cost(passes=1, memory_floats=m * keep + n * keep + 2 * n * b + (keep + b) ** 2)


def _streaming_methods() -> tuple[Any, ...]:
    from nnbench.methods.classical import LibraryMethod

    gha = LibraryMethod(
        "neural-gha", "rank-k", generalized_hebbian,
        "generalized Hebbian algorithm (Sanger): y = W^T a, dW = eta (a y^T - W triu(y y^T)) "
        "on A's rows, 3 passes in blocks of 32, then A W W^T (4 passes, memory n k)",
        backend="torch", config=Hebbian(), cost_model=hebbian_cost,
    )  # fmt: skip
    gha.group = "neural"  # Hebbian updates only: no QR, SVD or solve
    eigengame = LibraryMethod(
        "neural-eigengame", "rank-k", mu_eigengame,
        "mu-EigenGame (Gemp et al., ICLR 2022): v_i += eta (X^T X v_i - sum_{j<i} (v_i^T X^T X "
        "v_j) v_j), v_i /= ||v_i||, on A's rows, 3 passes in blocks of 32, then A V (4 passes, "
        "memory 2 n k + m k)",
        backend="torch", config=EigenGame(), cost_model=eigengame_cost,
    )  # fmt: skip
    eigengame.group = "neural"  # update steps and a per-vector rescaling only: no QR or SVD
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
        eigengame,
        LibraryMethod(
            "stream-isvd", "rank-k", incremental_svd,
            "incremental SVD (Brand 2002; Baker, Gallivan & Van Dooren 2012): rank k kept over "
            "blocks of 32 rows, a QR of each block's residual and an SVD of a (k + 32)-square "
            "core (1 pass, memory m k + n k + 64 n + (k + 32)^2)",
            backend="torch", config=Incremental(), cost_model=incremental_cost,
        ),
    )  # fmt: skip


STREAMING_METHODS = _streaming_methods()
