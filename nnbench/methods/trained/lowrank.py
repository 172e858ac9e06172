"""Neural rank-k approximation (study 002): a linear network trained on pairs (v, A v).

The network maps v in R^n through linear layers with a k-wide bottleneck to R^m. Kernels
follow Keras' convention (y = x W), so the learned map is M = W_1 ... W_L with A_k = M^T,
of rank <= k by construction; biases, when present, are trained but are not part of A_k.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import torch

from nnbench.methods.base import Cost, Method, Raw, Settings
from nnbench.methods.trained.lowrank_net import LinearNet, init_layers, layer_widths
from nnbench.methods.trained.lowrank_training import TRAINERS, LowRankTraining, Problem
from nnbench.methods.trained.training import INPUTS, LossRecorder, TrainedMethod, generator


class NeuralLowRank(TrainedMethod):
    """A linear network with a k-wide bottleneck, trained to map v to A v (study 002)."""

    kind = "rank-k"
    config: LowRankTraining

    def warmup_method(self) -> Method:
        cfg = self.config
        short = dataclasses.replace(
            cfg,
            max_steps=min(cfg.max_steps, 3),
            epochs=1,
            samples=min(cfg.samples, 3 * cfg.batch_size),
        )
        return self.with_config(short)

    def small_budget(self) -> Method:
        cfg = self.config
        small = dataclasses.replace(
            cfg,
            samples=min(cfg.samples, 64),
            epochs=min(cfg.epochs, 2),
            max_steps=min(cfg.max_steps, 30),
        )
        return self.with_config(small)

    def settings(self, n: int) -> Settings:
        cfg = self.config
        return Settings(
            optimizer=cfg.optimizer,
            lr=cfg.lr if cfg.takes_lr else float("nan"),
            init=cfg.init,
            data_size=cfg.batch_size if cfg.minibatch else n,
            loss=INPUTS[cfg.inputs].loss.format(M="A_k^T", A="A^T")
            + (" (network with biases)" if cfg.bias else ""),
        )

    def cost(self, shape: tuple[int, int], rank: int | None) -> Cost:
        """Memory to leading order: the layers' weights, the training data beyond A (random
        inputs and their targets x A^T; on the identity batch the targets are A itself) and
        the residual of a full batch (m x n). Passes are counted as the training reads A."""
        if rank is None:
            return Cost()
        m, n = shape
        cfg = self.config
        widths = layer_widths(cfg.architecture, n, min(rank + cfg.oversample, m, n), m)
        weights = sum(a * b for a, b in itertools.pairwise(widths))
        batch = m * n if cfg.inputs == "full" else cfg.batch_size * m
        data = 0 if cfg.inputs == "full" else cfg.samples * (n + m)
        return Cost(memory_floats=float(weights + data + batch))

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        cfg, a = self.config, x
        m, n = a.shape
        k = int(rank or 1)
        gen = generator(seed, a.device)
        inputs = INPUTS[cfg.inputs].sample((cfg.samples, n), gen, a)
        targets = (
            a.T.contiguous() if inputs is None else inputs @ a.T
        )  # contiguous: 2.5x (issue 14)
        widths = layer_widths(cfg.architecture, n, min(k + cfg.oversample, m, n), m)
        weights = init_layers(cfg.init, widths, float(torch.linalg.matrix_norm(a)), k, gen, a)
        biases = (
            [torch.zeros(w, dtype=a.dtype, device=a.device, requires_grad=True) for w in widths[1:]]
            if cfg.bias
            else None
        )
        net = LinearNet(weights, biases)
        rec = LossRecorder(a.dtype, patience=cfg.patience_for(a.dtype), unit=cfg.unit)
        rec.passes = 1 + (inputs is not None)  # ||A||_F for the initial scale; x A^T once
        TRAINERS[cfg.optimizer](cfg, Problem(net, inputs, targets, k, gen, rec))
        with torch.no_grad():
            head = net.weights[0]
            for w in net.weights[1:-1]:
                head = head @ w
            return {"left": net.weights[-1].T, "right": head.T, "history": rec.history()}


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
        expensive=True,  # a fixed 3,125 steps of an n x n layer: minutes on a large matrix
    ),
    NeuralLowRank(
        "neural-lowrank-study-image",
        dataclasses.replace(STUDY_002, samples=100_000, epochs=100),
        "study 002's image setting: as neural-lowrank-study, 100,000 x 100 epochs",
        expensive=True,
    ),
    NeuralLowRank(
        "neural-lowrank-study-wheel",
        dataclasses.replace(STUDY_002, epochs=30),
        "study 002's colour-wheel run: as neural-lowrank-study, 30 epochs",
        expensive=True,
    ),
    NeuralLowRank(
        "neural-lowrank-adam",
        LowRankTraining(optimizer="adam", lr=0.03, max_steps=5000),
        "gradient steps only: n-k-n on the identity batch, full-batch Adam 0.03 (swept), "
        "up to 5000 steps",
    ),
    NeuralLowRank(
        "neural-lowrank-lbfgs",
        LowRankTraining(optimizer="lbfgs", lr=1.0, max_steps=20_000),
        "quasi-Newton only: n-k-n on the identity batch, L-BFGS (strong Wolfe), up to 1000 "
        "outer steps of 20",
    ),
    NeuralLowRank(
        "hybrid-lowrank-scaledgd",
        LowRankTraining(),
        "n-k-n, balanced init, identity batch, ScaledGD (eta 0.5) to the rounding floor",
    ),
    NeuralLowRank(
        "hybrid-lowrank-als",
        LowRankTraining(optimizer="als", oversample=10),
        "hybrid: n-(k+10)-n, identity batch, alternating exact least squares per layer (QR), "
        "then the best rank-k part of the learned map",
    ),
)
