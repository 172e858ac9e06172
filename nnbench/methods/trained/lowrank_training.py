"""Training the neural rank-k network: its options, and one trainer per optimizer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from nnbench.errors import Diverged, NNBenchError
from nnbench.methods.trained.lowrank_net import ARCHITECTURES, INITS, LinearNet
from nnbench.methods.trained.training import INPUTS, LossRecorder, check_choice, lbfgs


@dataclass(frozen=True, kw_only=True)
class LowRankTraining:
    """Options of the neural rank-k model; validated when built.

    architecture: a key of `ARCHITECTURES`: `n-n-k-n` (study 002), `n-k-n` (two factors),
      `funnel` (widths halve from n down to k and double back up, the study's powers of 2).
    init: a key of `lowrank_net.INITS`.
    inputs: a key of `training.INPUTS`; `samples` vectors are drawn once per cell.
    optimizer: a key of `TRAINERS`: `adam`/`sgd` (minibatches of `batch_size` for `epochs`
      epochs on random inputs, full batch for `max_steps` steps on `full`), `lbfgs` (full
      batch, strong Wolfe), `scaledgd` (n-k-n only: gradient steps preconditioned by
      (W2 W2^T + lam I)^-1 and (W1^T W1 + lam I)^-1, lam = sqrt(eps) trace(.); Tong, Ma &
      Chi, JMLR 2021), `als` (n-k-n, identity batch: each layer in turn set to its exact
      least-squares optimum given the other, through QR rather than normal equations).
    oversample: `als` trains a bottleneck k + oversample wide and keeps the best rank-k part
      of the learned map (an SVD of the (k + p) x m second layer): the training then
      converges at the rate sigma_{k+p+1} / sigma_k instead of sigma_{k+1} / sigma_k.
    """

    architecture: str = "n-k-n"
    init: str = "balanced"
    inputs: str = "full"
    optimizer: str = "scaledgd"
    lr: float = 0.5
    bias: bool = False
    samples: int = 10_000
    epochs: int = 10
    batch_size: int = 32
    max_steps: int = 20_000
    patience: int | None = None  # None: see `patience_for`
    oversample: int = 0

    def __post_init__(self) -> None:
        check_choice(self.architecture, ARCHITECTURES, "architecture")
        check_choice(self.init, INITS, "init")
        check_choice(self.inputs, INPUTS, "inputs")
        check_choice(self.optimizer, TRAINERS, "optimizer")
        if self.optimizer == "scaledgd" and (self.architecture != "n-k-n" or self.bias):
            raise NNBenchError(
                "scaledgd preconditions two factors", "use architecture='n-k-n' with bias=False"
            )
        if self.optimizer == "als" and (self.architecture, self.bias, self.inputs) != (
            "n-k-n",
            False,
            "full",
        ):
            raise NNBenchError(
                "als solves for two factors on the identity batch",
                "use architecture='n-k-n', bias=False, inputs='full'",
            )
        if self.oversample and self.optimizer != "als":
            raise NNBenchError("oversample needs optimizer='als'", "set optimizer=als")
        if not isinstance(self.oversample, int) or self.oversample < 0:
            raise NNBenchError("oversample must be an integer >= 0", "set e.g. oversample=10")
        for name in ("lr", "samples", "epochs", "batch_size", "max_steps", "patience"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise NNBenchError(f"{name} must be positive", f"set {name} > 0")

    def patience_for(self, dtype: torch.dtype) -> int:
        """Records without improvement before stopping. A float32 loss cannot resolve progress
        below ~1e-6 relative, so slow final convergence (close sigma_k, sigma_k+1) looks like a
        plateau: measured on diag-dominant n=32 k=5 (sigma_5/sigma_6 = 0.9975), patience 100
        stopped at ratio_2 - 1 = 1.6e-5, patience 1000 reached 3.8e-8."""
        if self.patience is not None:
            return self.patience
        if self.optimizer == "als":  # each step is a full least-squares solve
            return 50 if dtype == torch.float32 else 20
        return 1000 if dtype == torch.float32 else 100

    @property
    def group(self) -> str:
        """`hybrid` for the trainers that solve with the weights (`als`: exact least squares,
        QR and SVD of the layers; `scaledgd`: Cholesky solves with the layers' Gram
        matrices), else `neural`: the weights change only through optimizer steps."""
        return "hybrid" if self.optimizer in ("als", "scaledgd") else "neural"

    @property
    def takes_lr(self) -> bool:
        """Every optimizer but the exact `als` takes a step size."""
        return self.optimizer != "als"

    @property
    def minibatch(self) -> bool:
        """Random inputs are fed in minibatches by epoch; the identity batch whole."""
        return self.inputs != "full"

    @property
    def unit(self) -> str:
        return "epoch" if self.minibatch and self.optimizer in FIRST_ORDER else "step"


@dataclass(frozen=True)
class Problem:
    """What a trainer works on: the network, inputs x (None: the identity batch), targets y,
    the rank k it must return, a generator and the loss recorder."""

    net: LinearNet
    x: torch.Tensor | None
    y: torch.Tensor
    rank: int
    gen: torch.Generator
    rec: LossRecorder

    def read_a(self, times: int = 1) -> None:
        """Count `times` reads of A: the targets are A^T itself on the identity batch (x is
        None); random inputs' targets x A^T were computed once, and reading them is not."""
        if self.x is None:
            self.rec.passes += times


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred - target) ** 2)


def _adam(cfg: LowRankTraining, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=cfg.lr, betas=(0.9, 0.999), eps=1e-7)  # Keras' defaults


def _sgd(cfg: LowRankTraining, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=cfg.lr)


FIRST_ORDER: dict[str, Callable[[LowRankTraining, list[torch.Tensor]], torch.optim.Optimizer]]
FIRST_ORDER = {"adam": _adam, "sgd": _sgd}


def _train_minibatch(cfg: LowRankTraining, p: Problem, opt: torch.optim.Optimizer) -> None:
    assert p.x is not None
    samples = p.x.shape[0]
    for _ in range(cfg.epochs):
        order = torch.randperm(samples, generator=p.gen, device=p.x.device)
        total = 0.0
        for start in range(0, samples, cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = _mse(p.net(p.x[idx]), p.y[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        p.rec.record(total / samples)


def _train_full_batch(cfg: LowRankTraining, p: Problem, opt: torch.optim.Optimizer) -> None:
    for _ in range(cfg.max_steps):
        opt.zero_grad(set_to_none=True)
        loss = _mse(p.net(p.x), p.y)
        p.read_a()
        if p.rec.record(float(loss.detach())):
            return
        loss.backward()
        opt.step()


def _train_first_order(cfg: LowRankTraining, p: Problem) -> None:
    opt = FIRST_ORDER[cfg.optimizer](cfg, p.net.parameters())
    (_train_minibatch if cfg.minibatch else _train_full_batch)(cfg, p, opt)


def _train_lbfgs(cfg: LowRankTraining, p: Problem) -> None:
    opt = lbfgs(p.net.parameters(), lr=cfg.lr, max_iter=20, history_size=20)

    def closure() -> torch.Tensor:  # each evaluation (line-search ones too) reads A
        opt.zero_grad(set_to_none=True)
        loss = _mse(p.net(p.x), p.y)
        p.read_a()
        loss.backward()
        return loss

    for _ in range(max(1, cfg.max_steps // 20)):
        loss = opt.step(closure)
        if p.rec.record(float(loss.detach())):
            return


def _damped_solve(
    p: torch.Tensor, rhs: torch.Tensor, eye: torch.Tensor, eps: float
) -> torch.Tensor:
    """(P + lam I)^-1 rhs for a Gram matrix P, lam = sqrt(eps) trace(P) (>= its 2-norm, and
    cheaper): keeps the preconditioner invertible when a factor loses rank (k > rank A)."""
    damped = p + math.sqrt(eps) * float(torch.trace(p)) * eye
    factor, info = torch.linalg.cholesky_ex(damped)
    if int(info) != 0:
        return torch.linalg.solve(damped, rhs)
    return torch.cholesky_solve(rhs, factor)


def _train_scaledgd(cfg: LowRankTraining, p: Problem) -> None:
    """ScaledGD on M = W1 W2 for f = 0.5 ||x W1 W2 - y||^2 / s, s = mean input energy."""
    x, y, rec = p.x, p.y, p.rec
    w1, w2 = (w.detach() for w in p.net.weights)
    eps = torch.finfo(w1.dtype).eps
    eye = torch.eye(w1.shape[1], dtype=w1.dtype, device=w1.device)
    energy = 1.0 if x is None else float(torch.sum(x * x)) / x.shape[1]
    n_out = y.numel()
    eta, previous = cfg.lr, None
    for _ in range(cfg.max_steps):
        h = w1 if x is None else x @ w1
        err = h @ w2 - y
        p.read_a()
        loss = float(torch.sum(err * err)) / n_out
        if previous is not None and loss > 1.5 * previous[2]:  # overshoot: step back, halve
            w1, w2, _ = previous
            eta /= 2
            if eta < 1e-8:
                raise Diverged(len(rec.losses), "step size underflow")
            continue
        if rec.record(loss):
            break
        g1 = (err @ w2.T if x is None else x.T @ (err @ w2.T)) / energy
        g2 = (h.T @ err) / energy
        p2 = w2 @ w2.T
        p1 = w1.T @ w1 if x is None else (h.T @ h) / energy
        previous = (w1, w2, loss)
        w1 = w1 - eta * _damped_solve(p2, g1.T, eye, eps).T
        w2 = w2 - eta * _damped_solve(p1, g2, eye, eps)
    p.net.weights = [w1, w2]


def _train_als(cfg: LowRankTraining, p: Problem) -> None:
    """Alternating exact least squares on ||W1 W2 - Y||_F^2 (Y = A^T, identity batch).

    Given W2, the optimal W1 is Y W2^+; given W1, the optimal W2 is W1^+ Y. The network is
    unchanged by W1 G, G^-1 W2, so after each solve the pair is rebalanced to an orthonormal
    factor (QR): the solves never form normal equations, whose squared condition number
    float32 cannot resolve. This is block power iteration on Y Y^T (Baldi & Hornik 1989: a
    linear autoencoder's minima span the top singular subspace). The recorded loss is that
    of the rank-`rank` part of the learned map, which is what the method returns."""
    y, rank = p.y, p.rank
    w2 = p.net.weights[1].detach()
    n_out = y.numel()
    w1_k, w2_k = p.net.weights[0].detach(), w2
    for _ in range(cfg.max_steps):
        q2 = torch.linalg.qr(w2.T).Q  # W2 <- Q2^T, so the optimal W1 is Y Q2
        q1 = torch.linalg.qr(y @ q2).Q  # W1 <- Q1 (same map)
        w2 = q1.T @ y  # the optimal W2 given W1
        u, s, vt = torch.linalg.svd(w2, full_matrices=False)
        w1_k, w2_k = q1 @ u[:, :rank], s[:rank, None] * vt[:rank]
        p.read_a(3)  # Y Q2, Q1^T Y and the loss's residual
        if p.rec.record(float(torch.sum((w1_k @ w2_k - y) ** 2)) / n_out):
            break
    p.net.weights = [w1_k, w2_k]


TRAINERS: dict[str, Callable[[LowRankTraining, Problem], None]] = {
    "adam": _train_first_order,
    "sgd": _train_first_order,
    "lbfgs": _train_lbfgs,
    "scaledgd": _train_scaledgd,
    "als": _train_als,
}
"""Every optimizer by name; each trains `Problem.net` in place and records its losses."""
