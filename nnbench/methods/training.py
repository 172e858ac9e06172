"""What every trained method shares: probe inputs, a loss recorder with stopping rules."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from nnbench.errors import Diverged, NNBenchError
from nnbench.methods.factorization import TrainingHistory

INPUTS = ("uniform", "gaussian", "full")
"""`uniform`: U[0,1) vectors as in the studies; `gaussian`: zero-mean isotropic probes;
`full`: the identity batch (every basis vector once), which makes the MSE the plain
Frobenius error ||M - A||_F^2 / (m n)."""


def check_choice(value: object, allowed: tuple, what: str) -> None:
    if value not in allowed:
        raise NNBenchError(
            f"unknown {what} {value!r}", f"use one of {', '.join(map(str, allowed))}"
        )


def generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed % 2**63)


def probe_inputs(
    kind: str, samples: int, n: int, *, gen: torch.Generator, like: torch.Tensor
) -> torch.Tensor | None:
    """`samples` x n input rows; None stands for the identity batch of `full`."""
    if kind == "full":
        return None
    shape = (samples, n)
    if kind == "uniform":
        return torch.rand(shape, generator=gen, dtype=like.dtype, device=like.device)
    return torch.randn(shape, generator=gen, dtype=like.dtype, device=like.device)


@dataclass
class LossRecorder:
    """Records the loss, stops on a plateau (no relative improvement of 4 eps for `patience`
    records) and raises `Diverged` on NaN/Inf or a loss `explode` times the first one."""

    dtype: torch.dtype
    patience: int = 100
    explode: float = 1e12
    unit: str = "step"
    losses: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    _start: float = field(default_factory=time.perf_counter)
    _best: float = math.inf
    _since_best: int = 0

    def record(self, loss: float) -> bool:
        """Store `loss`; True when training should stop."""
        step = len(self.losses) + 1
        self.losses.append(loss)
        self.times.append(time.perf_counter() - self._start)
        if not math.isfinite(loss):
            raise Diverged(step, f"loss became {loss}")
        if loss > self.explode * max(self.losses[0], torch.finfo(self.dtype).tiny):
            raise Diverged(step, f"loss exploded to {loss:.3g}")
        if loss < self._best * (1.0 - 4.0 * torch.finfo(self.dtype).eps):
            self._best, self._since_best = loss, 0
        else:
            self._since_best += 1
        return loss == 0.0 or self._since_best >= self.patience

    def history(self, *, lr: float | None = None) -> TrainingHistory:
        return TrainingHistory(
            loss=np.asarray(self.losses), elapsed_s=np.asarray(self.times), unit=self.unit, lr=lr
        )


def lbfgs(
    params: list[torch.Tensor], *, lr: float, max_iter: int, history_size: int
) -> torch.optim.LBFGS:
    """L-BFGS with a strong Wolfe line search and no early exit: the stopping rule is ours."""
    return torch.optim.LBFGS(
        params,
        lr=lr,
        max_iter=max_iter,
        history_size=history_size,
        line_search_fn="strong_wolfe",
        tolerance_grad=0.0,
        tolerance_change=0.0,
    )
