"""Amortized factorization (issue 15): a network trained once on a distribution of matrices,
then applied to matrices it has never seen by one forward pass.

Training: `AmortizedConfig.families` x size `n`, `count` instances whose seeds live in their
own namespace (`train_seeds`), disjoint from every cell's evaluation seeds. The loss is the
unbiased stochastic Frobenius loss of NeuralIF (Hausner, Oktem & Sjolund, TMLR 2024):
E_z ||(L U - A) z||^2 with z ~ N(0, I), whose expectation is ||L U - A||_F^2, on matrices
scaled to max|a_ij| = 1. The runner trains each model once, before any cell, untimed, and saves
it with its config and loss curve under the results folder (`ModelStore`); a cell loads it,
and its timed call is inference only (plus `refine` gradient steps per matrix, counted as
inference). `train_time_s` is a column of its own.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnbench.errors import NNBenchError
from nnbench.methods.base import Method, Raw, Settings
from nnbench.methods.factorization import TrainingHistory
from nnbench.methods.sketch import best_in_row_space
from nnbench.methods.trained.training import check_choice
from nnbench.seeds import derive_seed, stable_hash

STRUCTURES = ("lu", "cholesky", "sketch", "precond")
TRAIN_NAMESPACE = "amortized-train"  # training seeds derive from it; cells' never do


@dataclass(frozen=True)
class AmortizedConfig:
    """A model and the distribution it is trained on. `structure`: `lu` (unit-lower L, upper
    U), `cholesky` (lower L with a positive diagonal, U = L^T) or `sketch` (a learned m x n
    sketch S for rank-k approximation, m = `rows`, trained for k = `rank`); `refine`:
    gradient steps on ||L U - A||_F^2 per matrix after the forward pass (inference work)."""

    structure: str = "lu"
    families: tuple[str, ...] = ("diag-dominant",)
    n: int = 8
    count: int = 4096  # training matrices
    steps: int = 4000
    batch_size: int = 256
    lr: float = 3e-3
    hidden: int = 256
    depth: int = 3
    refine: int = 0
    refine_lr: float = 0.05
    rank: int = 10  # sketch: the k it is trained for
    rows: int = 20  # sketch: m, the rows of S
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice(self.structure, dict.fromkeys(STRUCTURES), "structure")
        if self.structure == "sketch" and not 1 <= self.rank <= self.rows <= self.n:
            raise NNBenchError("a sketch needs 1 <= rank <= rows <= n", "fix rank, rows or n")
        if self.n < 1 or self.count < 1 or self.steps < 0 or self.batch_size < 1:
            raise NNBenchError("n, count, batch_size must be >= 1", "fix the amortized config")

    @property
    def key(self) -> str:
        """What decides the trained weights (`refine` is inference: not part of it)."""
        trained = dataclasses.replace(self, refine=0, refine_lr=0.0)
        return stable_hash("amortized", repr(trained))


def train_seeds(config: AmortizedConfig) -> list[tuple[str, int]]:
    """(family, seed) of each training matrix, in the training namespace."""
    families = config.families
    return [
        (families[i % len(families)], derive_seed(TRAIN_NAMESPACE, config.seed, config.n, i))
        for i in range(config.count)
    ]


def training_set(config: AmortizedConfig, dtype: torch.dtype) -> torch.Tensor:
    from nnbench.corpus import MATRIX_FAMILIES

    stack = [MATRIX_FAMILIES[f].make(config.n, seed=s) for f, s in train_seeds(config)]
    return _scaled(torch.from_numpy(np.stack(stack)).to(dtype))[0]


def _scaled(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A / max|a_ij| per matrix, and the scales."""
    scale = a.abs().amax(dim=(-2, -1), keepdim=True).clamp_min(torch.finfo(a.dtype).tiny)
    return a / scale, scale


class FactorNet(torch.nn.Module):
    """An MLP from the n^2 entries of A (max|a_ij| = 1) to corrections of a baseline that
    already has the structure: L = I + strict_lower, U = triu(A) + upper (LU);
    L = diag(sqrt(diag A)) + lower, its diagonal kept positive by a softplus (Cholesky). The
    factors are exactly structured by construction."""

    def __init__(self, config: AmortizedConfig) -> None:
        super().__init__()
        n = config.n
        self.n, self.structure = n, config.structure
        self.lower_idx = torch.tril_indices(n, n, -1)
        self.upper_idx = torch.triu_indices(n, n, 0)
        outputs = self.lower_idx.shape[1] + self.upper_idx.shape[1]
        widths = [n * n, *[config.hidden] * config.depth]
        layers: list[torch.nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(widths):
            layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.GELU()]
        last = torch.nn.Linear(widths[-1], outputs)
        torch.nn.init.zeros_(last.weight)  # start at the baseline
        torch.nn.init.zeros_(last.bias)
        self.mlp = torch.nn.Sequential(*layers, last)

    def forward(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, b = self.n, a.shape[0]
        out = self.mlp(a.reshape(b, n * n))
        strict = out[:, : self.lower_idx.shape[1]]
        upper = out[:, self.lower_idx.shape[1] :]
        lower_part = a.new_zeros(b, n, n)
        lower_part[:, self.lower_idx[0], self.lower_idx[1]] = strict
        upper_part = a.new_zeros(b, n, n)
        upper_part[:, self.upper_idx[0], self.upper_idx[1]] = upper
        eye = torch.eye(n, dtype=a.dtype, device=a.device)
        if self.structure == "lu":
            return eye + lower_part, torch.triu(a) + upper_part
        root = torch.diagonal(a, dim1=-2, dim2=-1).clamp_min(1e-6).sqrt()
        inverse_softplus = root + torch.log(-torch.expm1(-root))  # softplus(it) = root
        pre = torch.diag_embed(inverse_softplus) + lower_part + upper_part.mT  # both feed L
        positive = torch.nn.functional.softplus(torch.diagonal(pre, dim1=-2, dim2=-1)) + 1e-6
        lower = torch.tril(pre, -1) + torch.diag_embed(positive)
        return lower, lower.mT


def stochastic_frobenius(
    lower: torch.Tensor, upper: torch.Tensor, a: torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    """Mean over the batch of ||(L U - A) z||^2, z ~ N(0, I): unbiased for ||L U - A||_F^2."""
    return ((lower @ (upper @ z) - a @ z) ** 2).sum(dim=(-2, -1)).mean()


@dataclass
class Trained:
    """A trained model with its config, loss curve and training time."""

    config: AmortizedConfig
    net: torch.nn.Module
    loss: np.ndarray
    elapsed_s: np.ndarray
    train_time_s: float


def train(config: AmortizedConfig, device: str = "cpu", dtype: str = "float32") -> Trained:
    """Adam (cosine-annealed from `lr`) on minibatches of the training set, on the model's
    loss (`MODELS`)."""
    torch_dtype = getattr(torch, dtype)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    torch.manual_seed(config.seed)
    data = training_set(config, torch_dtype).to(device)
    model = MODELS[config.structure]
    net = model.build(config).to(device=device, dtype=torch_dtype)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(config.steps, 1))
    losses, elapsed = [], []
    start = time.perf_counter()
    for _ in range(config.steps):
        idx = torch.randint(0, data.shape[0], (config.batch_size,), generator=gen, device=device)
        loss = model.loss(net, data[idx], gen, config)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        elapsed.append(time.perf_counter() - start)
        if not math.isfinite(losses[-1]):
            raise NNBenchError("amortized training diverged", "lower its lr")
    total = time.perf_counter() - start
    return Trained(config, net.eval(), np.array(losses), np.array(elapsed), total)


class ModelStore:
    """Trained models in a folder: `KEY.pt` (weights), `KEY.json` (config, training time,
    device, dtype) and `KEY.loss.npz` (the loss curve), KEY = the config's `key` + device and
    dtype."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _stem(self, config: AmortizedConfig, device: str, dtype: str) -> Path:
        return self.folder / f"{config.key}-{device}-{dtype}"

    def has(self, config: AmortizedConfig, device: str, dtype: str) -> bool:
        return self._stem(config, device, dtype).with_suffix(".json").is_file()

    def save(self, trained: Trained, device: str, dtype: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self._stem(trained.config, device, dtype)
        torch.save(trained.net.state_dict(), stem.with_suffix(".pt"))
        np.savez(stem.with_suffix(".loss.npz"), loss=trained.loss, elapsed_s=trained.elapsed_s)
        info = {
            "config": dataclasses.asdict(trained.config),
            "train_time_s": trained.train_time_s,
            "device": device,
            "dtype": dtype,
        }
        stem.with_suffix(".json").write_text(json.dumps(info, indent=1))  # last: marks complete

    def load(self, config: AmortizedConfig, device: str, dtype: str) -> Trained:
        stem = self._stem(config, device, dtype)
        info = json.loads(stem.with_suffix(".json").read_text())
        net = MODELS[config.structure].build(config).to(device=device, dtype=getattr(torch, dtype))
        net.load_state_dict(torch.load(stem.with_suffix(".pt"), map_location=device))
        curve = np.load(stem.with_suffix(".loss.npz"))
        return Trained(config, net.eval(), curve["loss"], curve["elapsed_s"], info["train_time_s"])


class AmortizedMethod(Method):
    """A network trained once per (structure, distribution), applied by a forward pass."""

    group = "amortized"
    backend = "torch"
    square_only = True
    batchable = True
    fixed_size = True
    trains_once = True
    config: AmortizedConfig

    def __init__(self, name: str, config: AmortizedConfig, description: str) -> None:
        self.name, self.config, self.description = name, config, description
        self.kind = MODELS[config.structure].kind
        self.square_only = self.kind in ("lu", "precond")
        self.fixed_size = not MODELS[config.structure].any_size
        self.trained: Trained | None = None
        self.train_time_s = math.nan

    def skip_reason(
        self, shape: tuple[int, int], *, rank: int | None, dtype: str, device: str, batch: int = 1
    ) -> str | None:
        reason = super().skip_reason(shape, rank=rank, dtype=dtype, device=device, batch=batch)
        if reason is None and self.needs_rank and rank is not None and rank > self.config.rows:
            return f"rank {rank} exceeds the sketch's {self.config.rows} rows; set rows={rank}"
        if reason is None and self.fixed_size and shape[0] != self.config.n:
            n = self.config.n
            return (
                f"{self.name} was trained on {n}x{n} matrices and factorizes only that size; "
                f"train one for this size: {self.base_name}[n={shape[0]}]"
            )
        return reason

    def settings(self, n: int) -> Settings:
        cfg = self.config
        return Settings(
            optimizer="adam",
            lr=cfg.lr,
            init="zero correction",
            data_size=cfg.count,
            loss="E_z ||(LU - A) z||^2, z ~ N(0, I), over " + "+".join(cfg.families),
        )

    def train_once(self, store: ModelStore, device: str, dtype: str) -> None:
        """Train and save this method's model unless the store has it (runner, untimed)."""
        if not store.has(self.config, device, dtype):
            store.save(train(self.config, device, dtype), device, dtype)

    def bind(self, store: ModelStore, device: str, dtype: str) -> Method:
        """This method with its trained model loaded (a cell calls it before timing)."""
        if not store.has(self.config, device, dtype):
            raise NNBenchError(
                f"no trained model for {self.name} ({device}, {dtype}) in {store.folder}",
                "run it through nnbench run, which trains the model first",
            )
        copy = self.with_config(self.config)
        assert isinstance(copy, AmortizedMethod)
        copy.trained = store.load(self.config, device, dtype)
        copy.train_time_s = copy.trained.train_time_s
        return copy

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        if self.trained is None:
            raise NNBenchError(f"{self.name} has no trained model", "bind it to a model store")
        stack = x if x.ndim == 3 else x[None]
        raw = MODELS[self.config.structure].infer(self.trained.net, stack, self.config, rank)
        history = TrainingHistory(self.trained.loss, self.trained.elapsed_s)
        if x.ndim == 2:
            raw = {k: v[0] for k, v in raw.items()}
        return {**raw, "history": history}


def _factors_infer(
    net: torch.nn.Module, stack: torch.Tensor, config: AmortizedConfig, rank: int | None
) -> dict[str, torch.Tensor]:
    scaled, scale = _scaled(stack)
    with torch.no_grad():
        lower, upper = net(scaled)
    if config.refine:
        lower, upper = _refine(lower, upper, scaled, config)
    if config.structure == "lu":
        return {"L": lower, "U": upper * scale}
    return {"L": lower * scale.sqrt(), "U": upper * scale.sqrt()}


def _factors_loss(
    net: torch.nn.Module, a: torch.Tensor, gen: torch.Generator, config: AmortizedConfig
) -> torch.Tensor:
    """NeuralIF's stochastic Frobenius loss, one probe z per matrix and step."""
    z = torch.randn(a.shape[0], config.n, 1, generator=gen, device=a.device, dtype=a.dtype)
    lower, upper = net(a)
    return stochastic_frobenius(lower, upper, a, z)


class SketchNet(torch.nn.Module):
    """A learned m x n sketch S (dense; Indyk, Vakilian & Yuan learn the values of a sparse
    one), initialised Gaussian as the random sketch it is compared with."""

    def __init__(self, config: AmortizedConfig) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(config.seed)
        start = torch.randn(config.rows, config.n, generator=gen) / config.rows**0.5
        self.s = torch.nn.Parameter(start)

    def forward(self, a: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        return best_in_row_space(a, self.s @ a, k)


def _sketch_loss(
    net: torch.nn.Module, a: torch.Tensor, gen: torch.Generator, config: AmortizedConfig
) -> torch.Tensor:
    """Mean relative squared Frobenius error of the rank-k approximation from S A."""
    left, right = net(a, config.rank)
    err = torch.linalg.matrix_norm(a - left @ right) / torch.linalg.matrix_norm(a)
    return (err**2).mean()


def _sketch_infer(
    net: torch.nn.Module, stack: torch.Tensor, config: AmortizedConfig, rank: int | None
) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        left, right = net(stack, int(rank or config.rank))
    return {"left": left, "right": right}


class EdgeNet(torch.nn.Module):
    """NeuralIF's idea without the graph library: each nonzero (i, j) of tril(A) gets a value
    of L from an MLP on its local features (a_ij, a_ii, a_jj and the absolute row sums of rows
    i and j, A scaled to max|a| = 1), as a correction of a Jacobi-like baseline (diagonal
    sqrt(a_ii) through a softplus, off-diagonal a_ij / sqrt(a_jj)). L has the sparsity of
    tril(A) exactly, like IC(0); one model serves any n."""

    def __init__(self, config: AmortizedConfig) -> None:
        super().__init__()
        hidden = config.hidden
        last = torch.nn.Linear(hidden, 1)
        torch.nn.init.zeros_(last.weight)  # start at the baseline
        torch.nn.init.zeros_(last.bias)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(5, hidden),
            torch.nn.GELU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.GELU(),
            last,
        )

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        diag = torch.diagonal(a, dim1=-2, dim2=-1).clamp_min(1e-12)
        rows = a.abs().sum(-1)
        n = a.shape[-1]
        eye = torch.eye(n, dtype=torch.bool, device=a.device)
        b, i, j = torch.nonzero(torch.tril((a != 0) | eye), as_tuple=True)  # the pattern only
        features = torch.stack([a[b, i, j], diag[b, i], diag[b, j], rows[b, i], rows[b, j]], dim=-1)
        value = self.mlp(features)[:, 0]
        root_i, root_j = diag[b, i].sqrt(), diag[b, j].sqrt()
        on = i == j
        inverse_softplus = root_i + torch.log(-torch.expm1(-root_i))
        entry = torch.where(
            on,
            torch.nn.functional.softplus(inverse_softplus + value),
            a[b, i, j] / root_j + value,
        )
        lower = a.new_zeros(a.shape)
        lower[b, i, j] = entry
        return lower


def _precond_loss(
    net: torch.nn.Module, a: torch.Tensor, gen: torch.Generator, config: AmortizedConfig
) -> torch.Tensor:
    """NeuralIF's loss: ||(L L^T - A) z||^2, z ~ N(0, I), relative to ||A||_F^2."""
    z = torch.randn(a.shape[0], a.shape[-1], 1, generator=gen, device=a.device, dtype=a.dtype)
    lower = net(a)
    residual = (lower @ (lower.mT @ z) - a @ z) ** 2
    return (residual.sum(dim=(-2, -1)) / (a**2).sum(dim=(-2, -1))).mean()


def _precond_infer(
    net: torch.nn.Module, stack: torch.Tensor, config: AmortizedConfig, rank: int | None
) -> dict[str, torch.Tensor]:
    scaled, scale = _scaled(stack)
    with torch.no_grad():
        return {"L": net(scaled) * scale.sqrt()}


@dataclass(frozen=True)
class Model:
    """What a structure trains and how it is applied: the factorization kind it gives, the
    network, its training loss on a batch, inference on a stack, and whether one model serves
    every size."""

    kind: str
    build: Callable[[AmortizedConfig], torch.nn.Module]
    loss: Callable[[torch.nn.Module, torch.Tensor, torch.Generator, AmortizedConfig], torch.Tensor]
    infer: Callable[
        [torch.nn.Module, torch.Tensor, AmortizedConfig, int | None], dict[str, torch.Tensor]
    ]
    any_size: bool = False
    classical_solve: bool = False  # inference ends in classical linear algebra (the sketch's)


MODELS: dict[str, Model] = {
    "lu": Model("lu", FactorNet, _factors_loss, _factors_infer),
    "cholesky": Model("lu", FactorNet, _factors_loss, _factors_infer),
    "sketch": Model("rank-k", SketchNet, _sketch_loss, _sketch_infer, classical_solve=True),
    "precond": Model("precond", EdgeNet, _precond_loss, _precond_infer, any_size=True),
}


def _refine(
    lower: torch.Tensor, upper: torch.Tensor, a: torch.Tensor, config: AmortizedConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """`refine` Adam steps per matrix on ||L U - A||_F^2 that keep the structure (gradients
    masked to the free entries): gradient steps only."""
    n = config.n
    eye = torch.eye(n, dtype=a.dtype, device=a.device)
    free_l = torch.tril(torch.ones_like(eye), -1 if config.structure == "lu" else 0)
    free_u = torch.triu(torch.ones_like(eye))
    lower = lower.clone().requires_grad_(True)
    upper = upper.clone().requires_grad_(config.structure == "lu")
    params = [lower, upper] if config.structure == "lu" else [lower]
    optimizer = torch.optim.Adam(params, lr=config.refine_lr)
    with torch.enable_grad():
        for _ in range(config.refine):
            product = lower @ (upper if config.structure == "lu" else lower.mT)
            loss = ((product - a) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            lower.grad.mul_(free_l)  # type: ignore[union-attr]
            if config.structure == "lu":
                upper.grad.mul_(free_u)  # type: ignore[union-attr]
            optimizer.step()
    lower = lower.detach()
    return (lower, upper.detach()) if config.structure == "lu" else (lower, lower.mT)


PRECOND = AmortizedConfig(
    structure="precond",
    families=("grid-laplacian",),
    n=64,
    count=512,
    steps=1500,
    batch_size=32,
    lr=3e-3,
    hidden=32,
)
SKETCH = AmortizedConfig(
    structure="sketch",
    families=("image-crops",),
    n=64,
    count=512,
    steps=1500,
    batch_size=32,
    lr=1e-2,
)

AMORTIZED_METHODS: tuple[AmortizedMethod, ...] = (
    AmortizedMethod(
        "amortized-lu",
        AmortizedConfig(),
        "trained once on 4096 diagonally dominant 8x8 matrices (stochastic Frobenius loss, "
        "Adam 3e-3 cosine-annealed, 4000 steps of 256), then one forward pass per matrix: "
        "unit-lower L, upper U",
    ),
    AmortizedMethod(
        "amortized-cholesky",
        AmortizedConfig(structure="cholesky", families=("spd",)),
        "trained once on 4096 SPD 8x8 matrices (stochastic Frobenius loss), then one forward "
        "pass per matrix: lower L with a positive diagonal, A ~ L L^T",
    ),
    AmortizedMethod(
        "amortized-ic",
        PRECOND,
        "NeuralIF-style preconditioner: L on the pattern of tril(A) from a per-nonzero MLP on "
        "local features, trained once on 512 weighted 8 x 8 grid Laplacians (n = 64) with "
        "the stochastic Frobenius loss; any n",
    ),
    AmortizedMethod(
        "amortized-sketch",
        SKETCH,
        "a 20 x 64 sketch S learned on 512 crops of bundled photos (Indyk, Vakilian & Yuan: "
        "Adam 1e-2 on the rank-10 error through QR and SVD, 1500 steps of 32); then the best "
        "rank-k approximation within the row space of S A",
    ),
)
