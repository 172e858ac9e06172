"""Neural LU (study 000): two bias-free linear layers whose weights become L and U.

The network computes y = x W1^T W2^T on row vectors x and is trained towards y = x A, so
L = W1^T and U = W2^T with A ~ L U. Structure comes either from the study's `penalty` on the
entries that must be zero (generalised to n x n: ||tril(W1, -1)||^2 + ||triu(W2, 1)||^2) or
from `exact` masks (L unit lower, U upper), which leave the loss unbiased. Training runs on
a batch of matrices at once (`nnbench.methods.lu_training`); `fit_lu_batch` exposes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nnbench.errors import NNBenchError
from nnbench.methods.base import Method
from nnbench.methods.factorization import Factorization, LUFactorization
from nnbench.methods.lu_training import (
    FIRST_ORDER,
    Layers,
    StepCallback,
    convex_start,
    hessian_norm,
    initial_factors,
    partial_pivoting,
    train_als,
    train_gauss_newton,
    train_gradient,
)
from nnbench.methods.training import LossRecorder, check_choice, generator

LU_INPUTS = ("uniform", "gaussian", "sign", "full")
STRUCTURES = ("penalty", "exact")
SECOND_ORDER = ("als", "gauss-newton")
LU_OPTIMIZERS = (*FIRST_ORDER, "lbfgs", *SECOND_ORDER)
LU_INITS = ("default", "mean", "identity", "convex")
LR_RULES = ("auto", "auto-final")


@dataclass(frozen=True, kw_only=True)
class LUTraining:
    """Options of the neural LU model; validated when built.

    inputs: `uniform` U[0,1) rows, `data_size` fresh ones per step (study 000), `gaussian`,
      `sign` (+-1 probes), or `full` (the identity batch: the loss is ||LU - A||_F^2 / n^2).
    init: `default` (torch.nn.Linear: U(-1/sqrt(n), 1/sqrt(n))), `mean` (every entry mean(A)),
      `identity` (W1 = I, W2 = A^T), `convex` (L, U from the convex problem for G ~ L^-1,
      see `lu_training.convex_start`).
    optimizer: torch's SGD, ASGD, Rprop, RMSprop, Adagrad, Adam, L-BFGS; `als` (exact least
      squares for one layer given the other, alternating) or `gauss-newton` (joint, exact
      Newton on the residual); the last two need `exact` structure and `full` inputs.
    lr: a number, or `auto`/`auto-final`: seed 001's 1/lambda_max of the loss Hessian
      (see `learning_rate`).
    switch_to: another first-order optimizer (lr `switch_lr`) taken over once the loss is
      below `switch_below` (study 000's Rprop-then-Adam).
    pivot: learn the LU of P^T A, with P from partial pivoting of A (A = P L U).
    """

    inputs: str = "uniform"
    data_size: int = 100
    structure: str = "penalty"
    optimizer: str = "adam"
    lr: float | str = 0.1
    init: str = "default"
    steps: int = 5000
    tol: float = 0.0  # stop once the loss is at or below this
    patience: int | None = None  # stop after this many steps without improvement
    pivot: bool = False
    switch_to: str | None = None
    switch_below: float = 1e-2
    switch_lr: float = 0.1

    def __post_init__(self) -> None:
        check_choice(self.inputs, LU_INPUTS, "inputs")
        check_choice(self.structure, STRUCTURES, "structure")
        check_choice(self.optimizer, LU_OPTIMIZERS, "optimizer")
        check_choice(self.init, LU_INITS, "init")
        if self.optimizer in SECOND_ORDER and (self.structure, self.inputs) != ("exact", "full"):
            raise NNBenchError(
                f"{self.optimizer} solves for the layers exactly",
                "use structure='exact' with inputs='full'",
            )
        if self.switch_to is not None:
            check_choice(self.switch_to, tuple(FIRST_ORDER), "switch_to")
            if self.optimizer not in FIRST_ORDER:
                raise NNBenchError(
                    "switch_to needs a first-order optimizer to switch from",
                    f"use one of {', '.join(FIRST_ORDER)}",
                )
        if isinstance(self.lr, str) and self.lr not in LR_RULES:
            raise NNBenchError(f"lr must be a number or a rule, got {self.lr!r}", "set lr=auto")
        for name in ("data_size", "steps", "switch_below", "switch_lr", "patience"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and value > 0):
                raise NNBenchError(f"{name} must be a positive number", f"set {name} > 0")
        if isinstance(self.lr, int | float) and not self.lr > 0:
            raise NNBenchError("lr must be positive", "set lr > 0 or lr=auto")
        if not isinstance(self.data_size, int):
            raise NNBenchError("data_size must be an integer", "set e.g. data_size=100")


def learning_rate(cfg: LUTraining, a: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> float:
    """The step size: `cfg.lr`, or seed 001's rule 1/lambda_max of the loss Hessian, taken
    at the initial weights (`auto`) or at the exact factors (`auto-final`, a diagnostic: the
    largest stable step near the end). For a batch, the smallest over its matrices."""
    if not isinstance(cfg.lr, str):
        return float(cfg.lr)
    if cfg.lr == "auto-final":
        lower, upper = convex_start(a)
        w1, w2 = lower.mT, upper.mT
    return float(1.0 / hessian_norm(cfg, a, w1, w2).max())


def fit(
    cfg: LUTraining, a: torch.Tensor, *, gen: torch.Generator, on_step: StepCallback
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, float | None]:
    """Train on a batch a (b, n, n); returns L, U (b, n, n), P (b, n, n) or None, and the
    learning rate of a first-order optimizer."""
    perm, target = partial_pivoting(a) if cfg.pivot else (None, a)
    w1, w2 = initial_factors(cfg, target, gen)
    layers = Layers(cfg, w1, w2)
    lr = None
    if cfg.optimizer == "gauss-newton":
        train_gauss_newton(cfg, layers, target, on_step)
    elif cfg.optimizer == "als":
        train_als(cfg, layers, target, on_step)
    else:
        lr = learning_rate(cfg, target, w1, w2)
        train_gradient(cfg, layers, target, gen, on_step, lr)
    with torch.no_grad():
        lower, upper = layers.factors()
    return lower.detach(), upper.detach(), perm, lr


@dataclass(frozen=True)
class BatchFit:
    """`fit_lu_batch`'s result: factors (b, n, n) with A[i] = P[i] L[i] U[i], per-matrix
    final loss and relative 2-norm error, and the steps the batch took."""

    L: np.ndarray
    U: np.ndarray
    P: np.ndarray | None
    final_loss: np.ndarray
    rel_err_2: np.ndarray
    steps: int


def fit_lu_batch(
    a: np.ndarray, config: LUTraining, *, seed: int = 0, device: str = "cpu"
) -> BatchFit:
    """Fit the network to every matrix of a (b, n, n) in one tensor program.

    Training stops when every loss is at or below `config.tol`, after `config.patience`
    steps without the largest loss improving, or after `config.steps`."""
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.dtype.name not in ("float32", "float64"):
        raise NNBenchError(
            f"fit_lu_batch needs a float32/float64 array (b, n, n), got {a.dtype} {a.shape}",
            "stack square matrices with np.stack",
        )
    if config.optimizer == "lbfgs":
        raise NNBenchError("L-BFGS couples the batch (one line search)", "fit one at a time")
    x = torch.from_numpy(np.ascontiguousarray(a)).to(device)
    patience = config.patience or config.steps + 1
    history: list[torch.Tensor] = []
    best = [float("inf"), 0]

    def on_step(losses: torch.Tensor) -> bool:
        history.append(losses)
        worst = float(losses.max())
        best[:] = [worst, 0] if worst < best[0] else [best[0], best[1] + 1]
        return worst <= config.tol or best[1] >= patience

    lower, upper, perm, _ = fit(config, x, gen=generator(seed, x.device), on_step=on_step)
    product = lower @ upper if perm is None else perm @ lower @ upper
    err = torch.linalg.matrix_norm(product - x, 2) / torch.linalg.matrix_norm(x, 2)
    return BatchFit(
        L=lower.cpu().numpy(),
        U=upper.cpu().numpy(),
        P=None if perm is None else perm.cpu().numpy(),
        final_loss=history[-1].cpu().numpy(),
        rel_err_2=err.cpu().numpy(),
        steps=len(history),
    )


class NeuralLU(Method):
    """Two bias-free linear layers trained so that their weights factor A = L U (study 000)."""

    kind = "lu"
    group = "neural"
    backend = "torch"
    square_only = True
    timing_repeats = 1
    warmup = False

    def __init__(self, name: str, config: LUTraining, description: str) -> None:
        self.name = name
        self.config = config
        self.description = description

    def row_options(self, n: int) -> dict[str, Any]:
        cfg = self.config
        return {
            "optimizer": cfg.optimizer
            if cfg.switch_to is None
            else f"{cfg.optimizer}>{cfg.switch_to}",
            # second-order steps take no learning rate; a rule's value comes with the history
            "lr": float(cfg.lr)
            if cfg.optimizer not in SECOND_ORDER and not isinstance(cfg.lr, str)
            else float("nan"),
            "init": cfg.init,
            "data_size": cfg.data_size if cfg.inputs != "full" else n,
        }

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        cfg = self.config
        rec = LossRecorder(x.dtype, patience=cfg.patience or cfg.steps + 1)

        def on_step(losses: torch.Tensor) -> bool:
            value = float(losses[0])
            return rec.record(value) or value <= cfg.tol

        lower, upper, perm, lr = fit(cfg, x[None], gen=generator(seed, x.device), on_step=on_step)
        return lower[0], upper[0], None if perm is None else perm[0], rec.history(lr=lr)

    def finish(self, raw: Any) -> Factorization:
        lower, upper, perm, history = raw
        return LUFactorization(
            L=lower.cpu().numpy(),
            U=upper.cpu().numpy(),
            P=None if perm is None else perm.cpu().numpy(),
            history=history,
        )


STUDY_000 = LUTraining()  # Appendix A: Adam 0.1, data_size 100, 5000 steps, default init
OURS = LUTraining(
    inputs="full",
    structure="exact",
    optimizer="gauss-newton",
    init="convex",
    steps=50,
    patience=3,
    pivot=True,
)

NEURAL_LU_METHODS: tuple[NeuralLU, ...] = (
    NeuralLU(
        "neural-lu-study",
        STUDY_000,
        "study 000 exactly (Appendix A): W1, W2 bias-free, U[0,1) rows x 100 per step, "
        "MSE + penalty, Adam 0.1, 5000 steps, torch default init",
    ),
    NeuralLU(
        "neural-lu",
        OURS,
        "ours: exact masks (unit-lower L), identity batch, on P^T A (partial pivoting); "
        "first layer from the convex problem for G ~ L^-1, then joint Gauss-Newton steps",
    ),
)
