"""The amortized method: trained by the runner before the cells, loaded by each cell, timed
on inference only; and the registered ones."""

from __future__ import annotations

import math
from typing import Any

from nnbench.errors import NNBenchError
from nnbench.methods.amortized.config import AmortizedConfig
from nnbench.methods.amortized.models import MODELS
from nnbench.methods.amortized.store import ModelStore, Trained, train
from nnbench.methods.base import Method, Raw, Settings
from nnbench.methods.factorization import TrainingHistory


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
