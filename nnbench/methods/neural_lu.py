"""Neural LU (study 000): two bias-free linear layers whose weights become L and U.

The network computes y = x W1^T W2^T on row vectors x and is trained towards y = x A, so
L = W1^T and U = W2^T with A ~ L U. Structure comes either from the study's `penalty` on the
entries that must be zero (generalised to n x n: ||tril(W1, -1)||^2 + ||triu(W2, 1)||^2) or
from `exact` masks (L unit lower, U upper), which leave the loss unbiased.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import torch

from nnbench.errors import NNBenchError
from nnbench.methods.base import Method
from nnbench.methods.factorization import Factorization, LUFactorization
from nnbench.methods.training import LossRecorder, check_choice, generator, lbfgs

LU_INPUTS = ("uniform", "gaussian", "sign", "full")
STRUCTURES = ("penalty", "exact")
LU_OPTIMIZERS = ("sgd", "asgd", "rprop", "rmsprop", "adagrad", "adam", "lbfgs", "gauss-newton")
LU_INITS = ("default", "mean", "identity")


@dataclass(frozen=True, kw_only=True)
class LUTraining:
    """Options of the neural LU model; validated when built.

    inputs: `uniform` U[0,1) rows, `data_size` fresh ones per step (study 000), `gaussian`,
      `sign` (+-1 probes), or `full` (the identity batch: the loss is ||LU - A||_F^2 / n^2).
    init: `default` (torch.nn.Linear: U(-1/sqrt(n), 1/sqrt(n))), `mean` (every entry mean(A)),
      `identity` (W1 = I, W2 = A^T).
    optimizer: torch's SGD, ASGD, Rprop, RMSprop, Adagrad, Adam, L-BFGS, or `gauss-newton`:
      exact least squares for one layer given the other, alternating (block Gauss-Newton;
      `exact` structure and `full` inputs only).
    pivot: learn the LU of P^T A, with P from partial pivoting of A (A = P L U).
    """

    inputs: str = "uniform"
    data_size: int = 100
    structure: str = "penalty"
    optimizer: str = "adam"
    lr: float = 0.1
    init: str = "default"
    steps: int = 5000
    tol: float = 0.0  # stop once the loss is at or below this
    patience: int | None = None  # stop after this many steps without improvement
    pivot: bool = False

    def __post_init__(self) -> None:
        check_choice(self.inputs, LU_INPUTS, "inputs")
        check_choice(self.structure, STRUCTURES, "structure")
        check_choice(self.optimizer, LU_OPTIMIZERS, "optimizer")
        check_choice(self.init, LU_INITS, "init")
        if self.optimizer == "gauss-newton" and (self.structure, self.inputs) != ("exact", "full"):
            raise NNBenchError(
                "gauss-newton solves the layers exactly", "use structure='exact' with inputs='full'"
            )
        for name in ("data_size", "lr", "steps"):
            if not getattr(self, name) > 0:
                raise NNBenchError(f"{name} must be positive", f"set {name} > 0")


def _initial_weights(
    cfg: LUTraining, a: torch.Tensor, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    n = a.shape[0]
    if cfg.init == "default":  # what torch.nn.Linear(n, n) draws
        bound = 1.0 / math.sqrt(n)
        w1, w2 = (
            torch.empty(n, n, dtype=a.dtype, device=a.device).uniform_(-bound, bound, generator=gen)
            for _ in range(2)
        )
    elif cfg.init == "mean":
        w1 = torch.full((n, n), float(a.mean()), dtype=a.dtype, device=a.device)
        w2 = w1.clone()
    else:
        w1, w2 = torch.eye(n, dtype=a.dtype, device=a.device), a.T.clone()
    return w1, w2


class _Layers:
    """W1, W2 as trainable tensors; with `exact` structure, L and U are masked views."""

    def __init__(self, cfg: LUTraining, w1: torch.Tensor, w2: torch.Tensor) -> None:
        n = w1.shape[0]
        self.exact = cfg.structure == "exact"
        self.strict_lower = torch.tril(torch.ones_like(w1), -1)
        self.upper = torch.triu(torch.ones_like(w1))
        self.eye = torch.eye(n, dtype=w1.dtype, device=w1.device)
        self.w1 = w1.clone().requires_grad_()
        self.w2 = w2.clone().requires_grad_()

    def factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(L, U) = (W1^T, W2^T), masked when the structure is exact."""
        lower, upper = self.w1.T, self.w2.T
        if self.exact:
            lower = self.eye + lower * self.strict_lower
            upper = upper * self.upper
        return lower, upper

    def penalty(self) -> torch.Tensor:
        # L = W1^T must be lower: W1's strictly lower entries must vanish; likewise for U
        return torch.sum(torch.tril(self.w1, -1) ** 2) + torch.sum(torch.triu(self.w2, 1) ** 2)


def _batch(cfg: LUTraining, n: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    shape = (cfg.data_size, n)
    if cfg.inputs == "uniform":
        return torch.rand(shape, generator=gen, dtype=like.dtype, device=like.device)
    if cfg.inputs == "gaussian":
        return torch.randn(shape, generator=gen, dtype=like.dtype, device=like.device)
    return torch.randint(0, 2, shape, generator=gen, device=like.device).to(like.dtype) * 2 - 1


def _optimizer(cfg: LUTraining, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    make = {
        "sgd": torch.optim.SGD,
        "asgd": torch.optim.ASGD,
        "rprop": torch.optim.Rprop,
        "rmsprop": torch.optim.RMSprop,
        "adagrad": torch.optim.Adagrad,
        "adam": torch.optim.Adam,
    }
    if cfg.optimizer == "lbfgs":
        return lbfgs(params, lr=cfg.lr, max_iter=1, history_size=50)
    return make[cfg.optimizer](params, lr=cfg.lr)


def _train_gradient(
    cfg: LUTraining, layers: _Layers, a: torch.Tensor, gen: torch.Generator, rec: LossRecorder
) -> None:
    opt = _optimizer(cfg, [layers.w1, layers.w2])
    n = a.shape[0]

    def loss_fn() -> torch.Tensor:
        lower, upper = layers.factors()
        if cfg.inputs == "full":
            mse = torch.mean((lower @ upper - a) ** 2)
        else:
            x = _batch(cfg, n, gen, a)
            mse = torch.mean((x @ lower @ upper - x @ a) ** 2)
        return mse + layers.penalty() if cfg.structure == "penalty" else mse

    for _ in range(cfg.steps):
        if cfg.optimizer == "lbfgs":

            def closure() -> torch.Tensor:
                opt.zero_grad(set_to_none=True)
                loss = loss_fn()
                loss.backward()
                return loss

            loss = opt.step(closure)
        else:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn()
            loss.backward()
            opt.step()
        value = float(loss.detach())
        if rec.record(value) or value <= cfg.tol:
            return


def _prefix_solve(gram: torch.Tensor, rhs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Row i of X solves X_i G[:m, :m] = rhs_i[:m], m = the width of mask row i (a prefix).

    One Cholesky G = C C^T serves every row: the leading blocks of C are the Cholesky factors
    of the leading blocks of G, so masked forward/back substitutions solve all rows at once."""
    chol, info = torch.linalg.cholesky_ex(gram)
    if int(info) != 0:
        raise RuntimeError(
            "a factor became singular (Gauss-Newton system not positive "
            "definite); A may have a zero leading minor"
        )
    z = torch.linalg.solve_triangular(chol, (rhs * mask).T, upper=False) * mask.T
    return torch.linalg.solve_triangular(chol.T, z, upper=True).T * mask


def _train_gauss_newton(
    cfg: LUTraining, layers: _Layers, a: torch.Tensor, rec: LossRecorder
) -> None:
    """Alternating exact least squares: L's rows given U, then U's columns given L."""
    with torch.no_grad():
        lower, upper = layers.factors()
        eye, strict, up = layers.eye, layers.strict_lower, layers.upper
        eps = torch.finfo(a.dtype).eps
        n2 = a.numel()
        for _ in range(cfg.steps):
            value = float(torch.sum((lower @ upper - a) ** 2)) / n2
            if rec.record(value) or value <= cfg.tol:
                break
            gram = upper @ upper.T
            gram = gram + eps * float(torch.trace(gram)) * eye
            lower = eye + _prefix_solve(gram, (a - upper) @ upper.T, strict)
            gram = lower.T @ lower
            gram = gram + eps * float(torch.trace(gram)) * eye
            upper = _prefix_solve(gram, (lower.T @ a).T, up.T).T
        layers.w1 = lower.T.clone()
        layers.w2 = upper.T.clone()


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

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        perm = scipy.linalg.lu(a)[0] if self.config.pivot else None
        target = a if perm is None else perm.T @ a
        return torch.from_numpy(np.ascontiguousarray(target)).to(device), perm

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        a, perm = x
        cfg = self.config
        gen = generator(seed, a.device)
        layers = _Layers(cfg, *_initial_weights(cfg, a, gen))
        rec = LossRecorder(a.dtype, patience=cfg.patience or cfg.steps + 1)
        if cfg.optimizer == "gauss-newton":
            _train_gauss_newton(cfg, layers, a, rec)
        else:
            _train_gradient(cfg, layers, a, gen, rec)
        with torch.no_grad():
            lower, upper = layers.factors()
        return lower.detach(), upper.detach(), perm, rec.history()

    def finish(self, raw: Any) -> Factorization:
        lower, upper, perm, history = raw
        return LUFactorization(
            L=lower.cpu().numpy(), U=upper.cpu().numpy(), P=perm, history=history
        )


STUDY_000 = LUTraining()  # Appendix A: Adam 0.1, data_size 100, 5000 steps, default init

NEURAL_LU_METHODS: tuple[NeuralLU, ...] = (
    NeuralLU(
        "neural-lu-study",
        STUDY_000,
        "study 000 exactly (Appendix A): W1, W2 bias-free, U[0,1) rows x 100 per step, "
        "MSE + penalty, Adam 0.1, 5000 steps, torch default init",
    ),
    NeuralLU(
        "neural-lu",
        LUTraining(
            inputs="full",
            structure="exact",
            optimizer="gauss-newton",
            init="identity",
            steps=200,
            patience=10,
            pivot=True,
        ),
        "ours: exact masks (unit-lower L), identity batch, alternating exact "
        "least-squares layer updates (block Gauss-Newton), on P^T A (partial pivoting)",
    ),
)
