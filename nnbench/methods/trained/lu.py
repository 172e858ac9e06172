"""Neural LU (study 000): two bias-free linear layers whose weights become L and U.

The network computes y = x W1^T W2^T on row vectors x and is trained towards y = x A, so
L = W1^T and U = W2^T with A ~ L U. Structure comes either from the study's `penalty` on the
entries that must be zero (generalised to n x n: ||tril(W1, -1)||^2 + ||triu(W2, 1)||^2) or
from `exact` masks (L unit lower, U upper), which leave the loss unbiased. Training runs on
a batch of matrices at once (`lu_training`); `fit_lu_batch` exposes it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from nnbench.errors import SkipCell
from nnbench.methods.base import Method, Raw, Settings
from nnbench.methods.trained.lu_layers import NoLU
from nnbench.methods.trained.lu_training import LUTraining, fit
from nnbench.methods.trained.training import INPUTS, LossRecorder, TrainedMethod, generator


class NeuralLU(TrainedMethod):
    """Two bias-free linear layers trained so that their weights factor A = L U (study 000)."""

    kind = "lu"
    square_only = True
    batchable = True  # fits a stack in one tensor program (each matrix its own loss)
    config: LUTraining

    def __init__(
        self, name: str, config: LUTraining, description: str, *, expensive: bool = False
    ) -> None:
        super().__init__(name, config, description, expensive=expensive)
        self.requires = config.requires

    def with_config(self, config: Any) -> Method:
        variant = super().with_config(config)
        variant.requires = config.requires  # the configuration decides, for variants too
        return variant

    def warmup_method(self) -> Method:
        return self.with_config(dataclasses.replace(self.config, steps=min(self.config.steps, 3)))

    def small_budget(self) -> Method:
        return self.with_config(dataclasses.replace(self.config, steps=min(self.config.steps, 20)))

    def settings(self, n: int) -> Settings:
        cfg = self.config
        return Settings(
            optimizer=cfg.optimizer,
            switch_to=cfg.switch_to or "",
            lr=float(cfg.lr) if cfg.takes_lr and not isinstance(cfg.lr, str) else math.nan,
            lr_rule=cfg.lr if isinstance(cfg.lr, str) and cfg.takes_lr else "",
            init=cfg.init,
            data_size=n if cfg.inputs == "full" else cfg.data_size,
            loss=self.loss,
        )

    @property
    def loss(self) -> str:
        """M = LU against A (P^T A when pivoting); the penalty structure adds its penalty."""
        cfg = self.config
        loss = INPUTS[cfg.inputs].loss.format(M="LU", A="P^T A" if cfg.pivot else "A")
        return loss + (
            " + ||strict tril(W1)||^2 + ||strict triu(W2)||^2" if cfg.structure == "penalty" else ""
        )

    def skip_reason(
        self, shape: tuple[int, int], *, rank: int | None, dtype: str, device: str, batch: int = 1
    ) -> str | None:
        if batch > 1 and self.config.optimizer == "lbfgs":
            return "L-BFGS couples a batch (one line search for all): fit one matrix at a time"
        return super().skip_reason(shape, rank=rank, dtype=dtype, device=device, batch=batch)

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        """One matrix (n, n) or a stack (b, n, n); the recorded loss is the batch's largest."""
        cfg = self.config
        rec = LossRecorder(x.dtype, patience=cfg.patience or cfg.steps + 1)

        def on_step(losses: torch.Tensor) -> bool:
            value = float(losses.max())
            return rec.record(value) or value <= cfg.tol

        stack = x if x.ndim == 3 else x[None]
        try:
            result = fit(cfg, stack, gen=generator(seed, x.device), on_step=on_step)
        except NoLU as exc:
            raise SkipCell(str(exc)) from None
        trained = result.trained
        factors = {"L": result.L, "U": result.U, "P": result.P}
        if x.ndim == 2:
            factors = {k: None if v is None else v[0] for k, v in factors.items()}
        return {**factors, "history": rec.history(lr=trained.lr, switch_step=trained.switch_step)}


STUDY_000 = LUTraining()  # the text's final choice: Adam 0.1, data_size 100, 5000 steps
STUDY_000_APPENDIX = LUTraining(optimizer="sgd", lr=0.001)  # Appendix A's code as printed
ADAM = LUTraining(  # lr from a sweep (README: "Tuning the gradient-only methods")
    inputs="full", structure="exact", optimizer="adam", lr=0.03, steps=5000, patience=300
)
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
        "neural-lu-study-final",
        STUDY_000,
        "study 000's final choice (its text, Figure 10): Appendix A's network (W1, W2 "
        "bias-free, U[0,1) rows x 100 per step, MSE + penalty, torch default init, 5000 steps) "
        "with Adam 0.1",
    ),
    NeuralLU(
        "neural-lu-study-appendix",
        STUDY_000_APPENDIX,
        "study 000's Appendix A code as printed: the same network and loss with SGD 0.001",
    ),
    NeuralLU(
        "neural-lu-adam",
        ADAM,
        "gradient steps only: exact masks (unit-lower L), identity batch, no pivoting, "
        "torch default init, Adam 0.03 (swept), up to 5000 steps",
    ),
    NeuralLU(
        "hybrid-lu-newton",
        OURS,
        "hybrid: exact masks (unit-lower L), identity batch, on P^T A (library pivoting); "
        "first layer from the convex problem for G ~ L^-1, then joint Gauss-Newton steps",
    ),
)
