"""The amortized method, one class for every learned model (`Model`): its `setup` trains its
model once (or loads it) before the cells, and each cell times inference only; and the
registered dense ones."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import scipy.sparse

from nnbench.errors import NNBenchError
from nnbench.methods.amortized.config import AmortizedConfig
from nnbench.methods.amortized.graph_ic import GraphICConfig, parameter_count
from nnbench.methods.amortized.model import LearnedConfig, Model
from nnbench.methods.amortized.models import MODELS
from nnbench.methods.amortized.store import ModelStore, Trained, train
from nnbench.methods.base import Cost, Method, Raw, RunContext, Settings
from nnbench.methods.factorization import TrainingHistory

MODELS_DIR = "models"  # trained models, in the run's folder (`RunContext.folder`)


class AmortizedMethod(Method):
    """A network trained once per config (model and distribution), applied by a forward pass.
    What differs between models is their `Model`, the one of the config's `structure`."""

    group = "amortized"
    trains_model = True
    config: LearnedConfig

    def __init__(self, name: str, config: LearnedConfig, description: str) -> None:
        self.name, self.config, self.description = name, config, description
        model = self.model
        self.kind = model.kind
        self.square_only = self.kind in ("lu", "precond")
        self.requires = model.requires
        self.warmup_at_full_size = model.one_size is not None
        self.backend = "numpy" if model.sparse else "torch"
        self.takes_sparse = model.sparse
        self.batchable = not model.sparse
        self.trained: Trained | None = None
        self.train_time_s = math.nan

    @property
    def model(self) -> Model[Any]:
        return MODELS[self.config.structure]

    def skip_reason(
        self, shape: tuple[int, int], *, rank: int | None, dtype: str, device: str, batch: int = 1
    ) -> str | None:
        reason = super().skip_reason(shape, rank=rank, dtype=dtype, device=device, batch=batch)
        model, cfg = self.model, self.config
        rows = None if model.max_rank is None else model.max_rank(cfg)
        if reason is None and rows is not None and rank is not None and rank > rows:
            return f"rank {rank} exceeds the sketch's {rows} rows; set rows={rank}"
        n = None if model.one_size is None else model.one_size(cfg)
        if reason is None and n is not None and shape[0] != n:
            return (
                f"{self.name} was trained on {n}x{n} matrices and factorizes only that size; "
                f"train one for this size: {self.base_name}[n={shape[0]}]"
            )
        return reason

    def prepare(self, a: Any, *, device: str) -> Any:
        """The matrix (or stack) on `device`, once its model's `check` passed each matrix; a
        sparse model's as CSR."""
        if self.model.check is not None:
            for matrix in a if a.ndim == 3 else [a]:
                self.model.check(matrix)
        if self.model.sparse and not scipy.sparse.issparse(a):
            return scipy.sparse.csr_array(np.asarray(a))
        return super().prepare(a, device=device)

    def cost(self, shape: tuple[int, int], rank: int | None) -> Cost:
        cost = self.model.cost
        return Cost() if cost is None or rank is None else cost(shape, rank, self.config)

    def small_budget(self) -> Method:
        """Its model trained for a few steps on a few matrices (by `setup`)."""
        return self.with_config(self.config.small_budget())

    def settings(self, n: int) -> Settings:
        cfg, model = self.config, self.model
        families = "+".join(cfg.families)
        return Settings(
            optimizer="adam",
            lr=cfg.lr,
            init=model.init,
            data_size=cfg.count,
            loss=f"{model.loss_formula.format_map(vars(cfg))}; over {families}",
            trained_on=families,
            parameters=math.nan if model.parameters is None else float(model.parameters(cfg)),
        )

    def _trains_on(self, context: RunContext) -> tuple[str, str]:
        """(device, dtype) its model is trained in: the cells' unless it has its own."""
        return self.model.trains_on or (context.device, context.dtype)

    def has_trained_model(self, context: RunContext) -> bool:
        store = ModelStore(context.folder / MODELS_DIR)
        return store.has(self.config, *self._trains_on(context), code=self.code_hash)

    def setup(self, context: RunContext) -> AmortizedMethod:
        """This method with its trained model: loaded from `context.folder`, or trained there
        first (untimed; the runner's call before the cells). Models are kept by config and
        code (`code_hash`): one trained by other code is not reused."""
        store = ModelStore(context.folder / MODELS_DIR)
        (device, dtype), code = self._trains_on(context), self.code_hash
        if store.has(self.config, device, dtype, code=code):
            trained = store.load(self.config, device, dtype, code=code)
        else:
            context.log(f"training {self.name} once ({device}, {dtype}) -> {store.folder}")
            trained = train(self.config, device, dtype)
            store.save(trained, device, dtype, code=code)
        ready = copy.copy(self)
        ready.trained, ready.train_time_s = trained, trained.train_time_s
        return ready

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        if self.trained is None:
            raise NNBenchError(
                f"{self.name} has no trained model",
                "use the method its setup(RunContext(folder=...)) returns, or nnbench run",
            )
        net, infer = self.trained.net, self.model.infer
        history = TrainingHistory(self.trained.loss, self.trained.elapsed_s)
        if not self.batchable:  # one (sparse) matrix
            return {**infer(net, x, self.config, rank), "history": history}
        raw = infer(net, x if x.ndim == 3 else x[None], self.config, rank)
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

SPARSE_SKETCH = AmortizedConfig(
    structure="sparse-sketch",
    families=("image-crops",),
    n=256,
    count=256,
    steps=600,
    batch_size=16,
    lr=5e-2,
    rank=10,
    rows=20,
)


def graph_ic_method(config: GraphICConfig | None = None) -> AmortizedMethod:
    cfg = config or GraphICConfig()
    return AmortizedMethod(
        "amortized-gnn-ic",
        cfg,
        "NeuralIF-style learned preconditioner: a message-passing network "
        f"({cfg.layers} rounds, width {cfg.hidden}, {parameter_count(cfg):,} parameters) over "
        "A's sparsity graph predicts L on the pattern of tril(A) with an exactly positive "
        f"diagonal; trained once on {cfg.count} sparse "
        f"{'/'.join(cfg.families)} systems (n = {'/'.join(map(str, cfg.sizes))}), "
        "sparse O(nnz) inference, M^-1 by two sparse triangular solves",
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
        "amortized-sparse-sketch",
        SPARSE_SKETCH,
        "a 20 x 256 sketch with CountSketch's sparsity (one entry a column at a fixed random "
        "row; positions=learned: the rows of A with the top mean ridge leverage scores alone "
        "in a row, as Li et al. 2023), its values learned as Indyk, Vakilian & Yuan do (Adam "
        "5e-2 on the rank-10 error through QR and SVD, 600 steps of 16 crops of bundled "
        "photos, n = 256); then the best rank-k approximation within the row space of S A",
    ),
    AmortizedMethod(
        "amortized-sketch",
        SKETCH,
        "a 20 x 64 sketch S learned on 512 crops of bundled photos (Indyk, Vakilian & Yuan: "
        "Adam 1e-2 on the rank-10 error through QR and SVD, 1500 steps of 32); then the best "
        "rank-k approximation within the row space of S A",
    ),
    graph_ic_method(),
)
