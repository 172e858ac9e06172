"""The neural rank-k network's pieces: layer widths by architecture, initial weights by
name, and the linear network itself (Keras' convention y = x W)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch

KERAS_HE_TRUNCATION = 0.87962566103423978  # Keras rescales truncated-normal stddev by this


def _two_factors(n: int, k: int, m: int) -> list[int]:
    return [n, k, m]


def _study_002(n: int, k: int, m: int) -> list[int]:
    return [n, n, k, m]


def _funnel(n: int, k: int, m: int) -> list[int]:
    """Widths halve (powers of 2) from n down to k and double back up to m."""
    down = [w for w in (2**p for p in range(int(math.log2(max(n, 1))), 0, -1)) if k < w < n]
    up = [w for w in (2**p for p in range(1, int(math.log2(max(m, 1))) + 1)) if k < w < m]
    return [n, *down, k, *up, m]


ARCHITECTURES: dict[str, Callable[[int, int, int], list[int]]] = {
    "n-k-n": _two_factors,
    "n-n-k-n": _study_002,
    "funnel": _funnel,
}
"""Layer widths (n inputs, k bottleneck, m outputs) by architecture name."""


def layer_widths(architecture: str, n: int, k: int, m: int) -> list[int]:
    return ARCHITECTURES[architecture](n, k, m)


Init = Callable[[torch.Tensor, float, torch.Generator], None]
"""Fills one (fan_in, fan_out) weight in place, given the balanced scale of a layer."""


def _he_normal(w: torch.Tensor, scale: float, gen: torch.Generator) -> None:
    """Keras' he_normal: truncated normal at 2 std, std sqrt(2 / fan_in) after truncation."""
    std = math.sqrt(2.0 / w.shape[0]) / KERAS_HE_TRUNCATION
    torch.nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std, generator=gen)


def _orthogonal(w: torch.Tensor, scale: float, gen: torch.Generator) -> None:
    torch.nn.init.orthogonal_(w, generator=gen)
    w.mul_(scale)


def _balanced(w: torch.Tensor, scale: float, gen: torch.Generator) -> None:
    w.normal_(0.0, scale / math.sqrt(max(w.shape)), generator=gen)


def _small(w: torch.Tensor, scale: float, gen: torch.Generator) -> None:
    w.normal_(0.0, 1e-3 * scale / math.sqrt(max(w.shape)), generator=gen)


INITS: dict[str, Init] = {
    "he_normal": _he_normal,
    "balanced": _balanced,
    "small": _small,
    "orthogonal": _orthogonal,
}
"""`he_normal` (Keras), `balanced` (Gaussian layers scaled so that the product has the size of
||A||_F; no SVD), `small` (balanced x 1e-3), `orthogonal` (at the balanced scale)."""


def init_layers(
    init: str, widths: list[int], a_fro: float, k: int, gen: torch.Generator, like: torch.Tensor
) -> list[torch.Tensor]:
    scale = (a_fro / math.sqrt(k)) ** (1.0 / (len(widths) - 1)) if a_fro else 1.0
    layers = []
    for fan_in, fan_out in itertools.pairwise(widths):
        w = torch.empty(fan_in, fan_out, dtype=like.dtype, device=like.device)
        INITS[init](w, scale, gen)
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
        h = self.weights[0] if x is None else x @ self.weights[0]
        for i, w in enumerate(self.weights):
            if i:
                h = h @ w
            if self.biases is not None:
                h = h + self.biases[i]
        return h

    def product(self) -> torch.Tensor:
        """M = W1 ... WL (n x m): the learned linear map without biases."""
        m = self.weights[0]
        for w in self.weights[1:]:
            m = m @ w
        return m
