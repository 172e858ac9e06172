"""Neural rank-k approximation (study 002): a linear network trained on pairs (v, A v).

The network maps v in R^n through linear layers with a k-wide bottleneck to R^m. Kernels
follow Keras' convention (y = x W), so the learned map is M = W_1 ... W_L with A_k = M^T,
of rank <= k by construction; biases, when present, are trained but are not part of A_k.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nnbench.errors import Diverged, NNBenchError
from nnbench.methods.base import Method
from nnbench.methods.factorization import Factorization, LowRankFactorization
from nnbench.methods.training import (
    INPUTS,
    LossRecorder,
    check_choice,
    generator,
    lbfgs,
    probe_inputs,
)

ARCHITECTURES = ("n-n-k-n", "n-k-n", "funnel")
INITS = ("he_normal", "balanced", "small", "orthogonal")
OPTIMIZERS = ("adam", "sgd", "lbfgs", "scaledgd", "als")
KERAS_HE_TRUNCATION = 0.87962566103423978  # Keras rescales truncated-normal stddev by this


@dataclass(frozen=True, kw_only=True)
class LowRankTraining:
    """Options of the neural rank-k model; validated when built.

    architecture: `n-n-k-n` (study 002), `n-k-n` (two factors), `funnel` (widths halve from n
      down to k and double back up, the study's powers-of-2 design).
    init: `he_normal` (Keras: truncated normal, std sqrt(2 / fan_in)), `balanced` (Gaussian
      layers scaled so the product has the size of ||A||_F; no SVD), `small` (balanced x 1e-3),
      `orthogonal` (orthogonal layers at the balanced scale).
    inputs: see `nnbench.methods.training.INPUTS`; `samples` vectors are drawn once per cell.
    optimizer: `adam`/`sgd` (minibatches of `batch_size` for `epochs` epochs on random inputs,
      full batch for `max_steps` steps on `full`), `lbfgs` (full batch, strong Wolfe),
      `scaledgd` (n-k-n only: gradient steps preconditioned by (W2 W2^T + lam I)^-1 and
      (W1^T W1 + lam I)^-1, lam = sqrt(eps) trace(.); Tong, Ma & Chi, JMLR 2021),
      `als` (n-k-n, identity batch: each layer in turn set to its exact least-squares optimum
      given the other, through QR rather than normal equations, see `_train_als`).
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
        check_choice(self.optimizer, OPTIMIZERS, "optimizer")
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
    def minibatch(self) -> bool:
        return self.optimizer in ("adam", "sgd") and self.inputs != "full"


def layer_widths(architecture: str, n: int, k: int, m: int) -> list[int]:
    if architecture == "n-k-n":
        return [n, k, m]
    if architecture == "n-n-k-n":
        return [n, n, k, m]
    down = [w for w in (2**p for p in range(int(math.log2(max(n, 1))), 0, -1)) if k < w < n]
    up = [w for w in (2**p for p in range(1, int(math.log2(max(m, 1))) + 1)) if k < w < m]
    return [n, *down, k, *up, m]


def init_layers(
    cfg: LowRankTraining,
    widths: list[int],
    a_fro: float,
    k: int,
    gen: torch.Generator,
    like: torch.Tensor,
) -> list[torch.Tensor]:
    layers = []
    scale = (a_fro / math.sqrt(k)) ** (1.0 / (len(widths) - 1)) if a_fro else 1.0
    for fan_in, fan_out in itertools.pairwise(widths):
        w = torch.empty(fan_in, fan_out, dtype=like.dtype, device=like.device)
        if cfg.init == "he_normal":
            std = math.sqrt(2.0 / fan_in) / KERAS_HE_TRUNCATION
            torch.nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std, generator=gen)
        elif cfg.init == "orthogonal":
            torch.nn.init.orthogonal_(w, generator=gen)
            w *= scale
        else:
            std = scale / math.sqrt(max(fan_in, fan_out))
            w.normal_(0.0, std * (1e-3 if cfg.init == "small" else 1.0), generator=gen)
        layers.append(w.requires_grad_())
    return layers


class LinearNet:
    """y = (((x W1 + b1) W2 + b2) ... ); x = None stands for the identity batch."""

    def __init__(self, weights: list[torch.Tensor], biases: list[torch.Tensor] | None) -> None:
        self.weights = weights
        self.biases = biases

    def parameters(self) -> list[torch.Tensor]:
        return self.weights + (self.biases or [])

    def __call__(self, x: torch.Tensor | None) -> torch.Tensor:
        h = x
        for i, w in enumerate(self.weights):
            h = w if h is None else h @ w
            if self.biases is not None:
                h = h + self.biases[i]
        return h  # type: ignore[return-value]

    def product(self) -> torch.Tensor:
        """M = W1 ... WL (n x m): the learned linear map without biases."""
        m = self.weights[0]
        for w in self.weights[1:]:
            m = m @ w
        return m


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred - target) ** 2)


def _train_minibatch(
    cfg: LowRankTraining,
    net: LinearNet,
    x: torch.Tensor,
    y: torch.Tensor,
    gen: torch.Generator,
    rec: LossRecorder,
) -> None:
    opt = _optimizer(cfg, net)
    samples = x.shape[0]
    for _ in range(cfg.epochs):
        order = torch.randperm(samples, generator=gen, device=x.device)
        total = 0.0
        for start in range(0, samples, cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = _mse(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        rec.record(total / samples)


def _optimizer(cfg: LowRankTraining, net: LinearNet) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":  # Keras defaults besides lr
        return torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.999), eps=1e-7)
    return torch.optim.SGD(net.parameters(), lr=cfg.lr)


def _train_full_batch(
    cfg: LowRankTraining,
    net: LinearNet,
    x: torch.Tensor | None,
    y: torch.Tensor,
    rec: LossRecorder,
) -> None:
    if cfg.optimizer == "lbfgs":
        opt = lbfgs(net.parameters(), lr=cfg.lr, max_iter=20, history_size=20)

        def closure() -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            loss = _mse(net(x), y)
            loss.backward()
            return loss

        for _ in range(max(1, cfg.max_steps // 20)):
            loss = opt.step(closure)
            if rec.record(float(loss.detach())):
                return
        return
    opt = _optimizer(cfg, net)
    for _ in range(cfg.max_steps):
        opt.zero_grad(set_to_none=True)
        loss = _mse(net(x), y)
        if rec.record(float(loss.detach())):
            return
        loss.backward()
        opt.step()


def _train_scaledgd(
    cfg: LowRankTraining,
    net: LinearNet,
    x: torch.Tensor | None,
    y: torch.Tensor,
    rec: LossRecorder,
) -> None:
    """ScaledGD on M = W1 W2 for f = 0.5 ||x W1 W2 - y||^2 / s, s = mean input energy."""
    w1, w2 = (w.detach() for w in net.weights)
    eps = torch.finfo(w1.dtype).eps
    eye = torch.eye(w1.shape[1], dtype=w1.dtype, device=w1.device)
    energy = 1.0 if x is None else float(torch.sum(x * x)) / x.shape[1]
    n_out = y.numel()
    eta, previous = cfg.lr, None
    for _ in range(cfg.max_steps):
        h = w1 if x is None else x @ w1
        err = h @ w2 - y
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
    net.weights = [w1, w2]


def _train_als(
    cfg: LowRankTraining, net: LinearNet, y: torch.Tensor, rank: int, rec: LossRecorder
) -> None:
    """Alternating exact least squares on ||W1 W2 - Y||_F^2 (Y = A^T, identity batch).

    Given W2, the optimal W1 is Y W2^+; given W1, the optimal W2 is W1^+ Y. The network is
    unchanged by W1 G, G^-1 W2, so after each solve the pair is rebalanced to an orthonormal
    factor (QR): the solves never form normal equations, whose squared condition number
    float32 cannot resolve. This is block power iteration on Y Y^T (Baldi & Hornik 1989: a
    linear autoencoder's minima span the top singular subspace). The recorded loss is that
    of the rank-`rank` part of the learned map, which is what the method returns."""
    w2 = net.weights[1].detach()
    n_out = y.numel()
    for _ in range(cfg.max_steps):
        q2 = torch.linalg.qr(w2.T).Q  # W2 <- Q2^T, so the optimal W1 is Y Q2
        q1 = torch.linalg.qr(y @ q2).Q  # W1 <- Q1 (same map)
        w2 = q1.T @ y  # the optimal W2 given W1
        u, s, vt = torch.linalg.svd(w2, full_matrices=False)
        w1_k, w2_k = q1 @ u[:, :rank], s[:rank, None] * vt[:rank]
        if rec.record(float(torch.sum((w1_k @ w2_k - y) ** 2)) / n_out):
            break
    net.weights = [w1_k, w2_k]


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


class NeuralLowRank(Method):
    """A linear network with a k-wide bottleneck, trained to map v to A v (study 002)."""

    kind = "rank-k"
    group = "neural"
    backend = "torch"
    timing_repeats = 1
    warmup = False

    def __init__(
        self, name: str, config: LowRankTraining, description: str, *, expensive: bool = False
    ) -> None:
        self.name = name
        self.config = config
        self.description = description
        self.expensive = expensive

    def row_options(self, n: int) -> dict[str, Any]:
        cfg = self.config
        return {
            "optimizer": cfg.optimizer,
            "lr": cfg.lr,
            "init": cfg.init,
            "data_size": cfg.batch_size if cfg.inputs != "full" else n,
        }

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Any:
        cfg, a = self.config, x
        m, n = a.shape
        k = int(rank or 1)
        gen = generator(seed, a.device)
        inputs = probe_inputs(cfg.inputs, cfg.samples, n, gen=gen, like=a)
        targets = a.T if inputs is None else inputs @ a.T
        width = min(k + cfg.oversample, m, n)
        widths = layer_widths(cfg.architecture, n, width, m)
        weights = init_layers(cfg, widths, float(torch.linalg.matrix_norm(a)), k, gen, a)
        biases = (
            [torch.zeros(w, dtype=a.dtype, device=a.device, requires_grad=True) for w in widths[1:]]
            if cfg.bias
            else None
        )
        net = LinearNet(weights, biases)
        rec = LossRecorder(
            a.dtype, patience=cfg.patience_for(a.dtype), unit="epoch" if cfg.minibatch else "step"
        )
        if cfg.optimizer == "als":
            _train_als(cfg, net, targets, k, rec)
        elif cfg.optimizer == "scaledgd":
            _train_scaledgd(cfg, net, inputs, targets, rec)
        elif cfg.minibatch:
            _train_minibatch(cfg, net, inputs, targets, gen, rec)
        else:
            _train_full_batch(cfg, net, inputs, targets, rec)
        with torch.no_grad():
            head = net.weights[0]
            for w in net.weights[1:-1]:
                head = head @ w
            return net.weights[-1].T.detach(), head.T.detach(), rec.history()

    def finish(self, raw: Any) -> Factorization:
        left, right, history = raw
        return LowRankFactorization(
            left=left.cpu().numpy(), right=right.cpu().numpy(), history=history
        )


STUDY_002 = LowRankTraining(
    architecture="n-n-k-n",
    init="he_normal",
    inputs="uniform",
    optimizer="adam",
    lr=1e-3,
    bias=True,
    samples=10_000,
    epochs=10,
    batch_size=32,
)

NEURAL_LOWRANK_METHODS: tuple[NeuralLowRank, ...] = (
    NeuralLowRank(
        "neural-lowrank-study",
        STUDY_002,
        "study 002 exactly: n-n-k-n, he_normal, bias, U[0,1) vectors, Adam 1e-3, "
        "batch 32, 10,000 x 10 epochs",
    ),
    NeuralLowRank(
        "neural-lowrank-study-image",
        LowRankTraining(**{**STUDY_002.__dict__, "samples": 100_000, "epochs": 100}),
        "study 002's image setting: as neural-lowrank-study, 100,000 x 100 epochs",
        expensive=True,
    ),
    NeuralLowRank(
        "neural-lowrank-study-wheel",
        LowRankTraining(**{**STUDY_002.__dict__, "epochs": 30}),
        "study 002's colour-wheel run: as neural-lowrank-study, 30 epochs",
    ),
    NeuralLowRank(
        "neural-lowrank-adam",
        LowRankTraining(optimizer="adam", lr=1e-3, max_steps=5000),
        "ablation: n-k-n on the identity batch with full-batch Adam, 5000 steps",
    ),
    NeuralLowRank(
        "neural-lowrank-scaledgd",
        LowRankTraining(),
        "n-k-n, balanced init, identity batch, ScaledGD (eta 0.5) to the rounding floor",
    ),
    NeuralLowRank(
        "neural-lowrank",
        LowRankTraining(optimizer="als", oversample=10),
        "ours: n-(k+10)-n, identity batch, alternating exact least squares per layer (QR), "
        "then the best rank-k part of the learned map",
    ),
)
