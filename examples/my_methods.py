"""An nnbench plug-in in one file: a classical-style LU and a neural rank-k method, built from
nnbench's public API (`nnbench.api`) and nothing else of nnbench.

    nnbench check --plugin examples/my_methods.py
    nnbench run --plugin examples/my_methods.py --study fair-quick --quick \\
        --methods +my-lu,+my-lowrank-adam --out results/mine
    nnbench report --results results/mine --out reports/mine

docs/plugins.md walks through it."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from nnbench.api import Diverged, LibraryMethod, Method, Raw, Settings, TrainingHistory


def _my_lu(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    """A = P L U by right-looking elimination with partial pivoting, one column at a time
    (the textbook loop, each step's update as one outer product). x: (n, n) float."""
    n = x.shape[0]
    u = np.array(x, copy=True)
    lower = np.eye(n, dtype=x.dtype)
    order = np.arange(n)
    for j in range(n - 1):
        p = j + int(np.argmax(np.abs(u[j:, j])))
        if u[p, j] == 0:  # nothing to eliminate in this column (A is singular)
            continue
        if p != j:
            u[[j, p], j:] = u[[p, j], j:]
            lower[[j, p], :j] = lower[[p, j], :j]
            order[[j, p]] = order[[p, j]]
        multipliers = u[j + 1 :, j] / u[j, j]
        lower[j + 1 :, j] = multipliers
        u[j + 1 :, j:] -= np.outer(multipliers, u[j, j:])
    permutation = np.eye(n, dtype=x.dtype)[order].T  # P^T A = A[order]
    return {"P": permutation, "L": lower, "U": np.triu(u)}


@dataclass(frozen=True)
class AdamBudget:
    """The neural method's options (`my-lowrank-adam[steps=100,lr=0.05]` on the command
    line): Adam steps and their step size. Checked when built."""

    steps: int = 300
    lr: float = 0.02

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError("steps must be an integer >= 1")
        if not self.lr > 0:
            raise ValueError("lr must be > 0")


class MyLowRankAdam(Method):
    """A_k = left @ right fitted by Adam on the mean squared error of A / rms(A), from a
    small Gaussian start: weights that change only through optimizer steps (group neural)."""

    name = "my-lowrank-adam"
    kind = "rank-k"
    group = "neural"
    backend = "torch"
    description = "rank-k by Adam on ||A - L R||^2 from a Gaussian start (a plug-in example)"

    def __init__(self, config: AdamBudget | None = None) -> None:
        self.config = config or AdamBudget()

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        assert rank is not None  # a rank-k method always gets its rank
        m, n = x.shape
        scale = torch.sqrt(torch.mean(x * x)).clamp_min(torch.finfo(x.dtype).tiny)
        target = x / scale
        draw = torch.Generator().manual_seed(seed)
        left = torch.randn(m, rank, generator=draw, dtype=x.dtype).mul_(0.1).to(x.device)
        right = torch.randn(rank, n, generator=draw, dtype=x.dtype).mul_(0.1).to(x.device)
        left.requires_grad_()
        right.requires_grad_()
        optimizer = torch.optim.Adam([left, right], lr=self.config.lr)
        losses, elapsed, start = [], [], time.perf_counter()
        for step in range(self.config.steps):
            optimizer.zero_grad()
            loss = torch.mean((left @ right - target) ** 2)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            elapsed.append(time.perf_counter() - start)
            if not np.isfinite(losses[-1]):
                raise Diverged(step, "the loss is not finite")
        history = TrainingHistory(loss=np.array(losses), elapsed_s=np.array(elapsed))
        return {"left": left.detach() * scale, "right": right.detach(), "history": history}

    def settings(self, n: int) -> Settings:
        return Settings(optimizer="adam", lr=self.config.lr, init="gaussian", loss="mse of A/rms")

    def small_budget(self) -> Method:
        return self.with_config(replace(self.config, steps=5))

    def warmup_method(self) -> Method:
        return self.small_budget()  # the timing protocol's warm-up call: a few steps


NNBENCH_METHODS = [
    LibraryMethod(
        "my-lu",
        "lu",
        _my_lu,
        "LU with partial pivoting, right-looking, in numpy (a plug-in example)",
        square_only=True,
    ),
    MyLowRankAdam(),
]
