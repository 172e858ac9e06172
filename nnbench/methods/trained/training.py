"""What every trained method shares: input distributions, a loss recorder with stopping
rules, the L-BFGS setup, and checking a named choice against its table."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from nnbench.errors import Diverged, NNBenchError
from nnbench.methods.base import Method
from nnbench.methods.factorization import TrainingHistory


class TrainedMethod(Method):
    """A network trained on one matrix per cell. Its configuration decides its group by the
    rule (`config.group`), for registered methods and their variants alike."""

    backend = "torch"

    def __init__(
        self, name: str, config: Any, description: str, *, expensive: bool = False
    ) -> None:
        self.name = name
        self.config = config
        self.group = config.group
        self.description = description
        self.expensive = expensive

    def with_config(self, config: Any) -> Method:
        variant = super().with_config(config)
        variant.group = config.group  # the rule decides, for variants too
        return variant


def check_choice(value: object, table: Mapping[str, object], what: str) -> None:
    """`value` must be a key of `table` (the dispatch table that will act on it)."""
    if value not in table:
        raise NNBenchError(f"unknown {what} {value!r}", f"use one of {', '.join(table)}")


def generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed % 2**63)


Sampler = Callable[[tuple[int, ...], torch.Generator, torch.Tensor], torch.Tensor | None]


def _uniform(shape: tuple[int, ...], gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(shape, generator=gen, dtype=like.dtype, device=like.device)


def _gaussian(shape: tuple[int, ...], gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=like.dtype, device=like.device)


def _sign(shape: tuple[int, ...], gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    bits = torch.randint(0, 2, shape, generator=gen, device=like.device)
    return bits.to(like.dtype) * 2 - 1


def _identity_batch(
    shape: tuple[int, ...], gen: torch.Generator, like: torch.Tensor
) -> torch.Tensor | None:
    return None


@dataclass(frozen=True)
class InputKind:
    """Input rows x of a linear network. `sample(shape, gen, like)` draws them (None stands for
    the identity batch); `second_moment(n, like)` is E[x x^T], which shapes the loss Hessian."""

    sample: Sampler
    second_moment: Callable[[int, torch.Tensor], torch.Tensor]
    description: str
    loss: str  # what the training loss measures; {M}: the network's map, {A}: its target


def _eye(n: int, like: torch.Tensor) -> torch.Tensor:
    return torch.eye(n, dtype=like.dtype, device=like.device)


INPUTS: dict[str, InputKind] = {
    "uniform": InputKind(
        _uniform,
        lambda n, like: _eye(n, like) / 12 + torch.full_like(_eye(n, like), 0.25),
        "U[0,1) rows as in the studies (numpy's rand); E[xx^T] = I/12 + 11^T/4",
        "MSE of x{M} - x{A} over U[0,1) rows",
    ),
    "gaussian": InputKind(_gaussian, _eye, "N(0, I) rows", "MSE of x{M} - x{A} over N(0, I) rows"),
    "sign": InputKind(
        _sign, _eye, "+-1 rows (Rademacher probes)", "MSE of x{M} - x{A} over +-1 rows"
    ),
    "full": InputKind(
        _identity_batch,
        lambda n, like: _eye(n, like) / n,
        "the identity batch (every basis vector once): the MSE is ||M - A||_F^2 / (m n)",
        "||{M} - {A}||_F^2 / (m n)",
    ),
}


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
    passes: int = 0  # reads of A as a whole so far (a trainer counts them: `Problem.read_a`)
    switch: int | None = None  # the record at which a second stage took over, where one did

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

    def reset_plateau(self) -> None:
        """Start the plateau count afresh (a second training stage with its own loss)."""
        self._best, self._since_best = math.inf, 0

    def history(
        self, *, lr: float | None = None, switch_step: int | None = None
    ) -> TrainingHistory:
        return TrainingHistory(
            loss=np.asarray(self.losses),
            elapsed_s=np.asarray(self.times),
            unit=self.unit,
            lr=lr,
            switch_step=switch_step,
            passes=self.passes or None,
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
