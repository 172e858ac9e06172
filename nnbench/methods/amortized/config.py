"""What a dense amortized model (`MODELS`) is trained on: its config, the training seeds (a
namespace of their own, never a cell's), the training set and its minibatches."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from nnbench.errors import NNBenchError
from nnbench.methods.trained.training import check_choice
from nnbench.seeds import derive_seed, stable_hash

STRUCTURES = ("lu", "cholesky", "sketch", "sparse-sketch", "precond")
SKETCHES = ("sketch", "sparse-sketch")
POSITIONS = ("random", "learned")  # of a sparse sketch's entries (`AmortizedConfig.positions`)
TRAIN_NAMESPACE = "amortized-train"  # training seeds derive from it; cells' never do


@dataclass(frozen=True)
class AmortizedConfig:
    """A model and the distribution it is trained on. `structure`: `lu` (unit-lower L, upper
    U), `cholesky` (lower L with a positive diagonal, U = L^T), `sketch` (a learned m x n
    sketch S for rank-k approximation, m = `rows`, trained for k = `rank`) or `sparse-sketch`
    (the same with CountSketch's sparsity: one entry a column, its value learned, as Indyk,
    Vakilian & Yuan do); `positions` (sparse sketch): where those entries sit, `random` (a
    balanced random row each, as CountSketch) or `learned` (Li, Liu, Vakilian, Wang &
    Woodruff, ICLR 2023: the `heavy` rows of A with the largest mean rank-k ridge leverage
    scores over the training matrices get a row of S each, the others are hashed at random
    into the remaining rows; None: rows // 2 heavy rows); `refine`: gradient steps on
    ||L U - A||_F^2 per matrix after the forward pass (inference work). `families` may be
    given as one string, '+' joined (a command-line option)."""

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
    positions: str = "random"  # sparse sketch: `POSITIONS`
    heavy: int | None = None  # sparse sketch, learned positions: rows of A with a row of S each
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.families, str):  # a command-line option: "a+b"
            object.__setattr__(self, "families", tuple(self.families.split("+")))
        check_choice(self.structure, dict.fromkeys(STRUCTURES), "structure")
        check_choice(self.positions, dict.fromkeys(POSITIONS), "positions")
        if self.structure in SKETCHES and not 1 <= self.rank <= self.rows <= self.n:
            raise NNBenchError("a sketch needs 1 <= rank <= rows <= n", "fix rank, rows or n")
        if self.heavy is not None and not 0 <= self.heavy < self.rows:
            raise NNBenchError(
                "heavy rows need 0 <= heavy < rows (the other rows of A hash into the rest)",
                f"set heavy below rows={self.rows}, or heavy=none for rows // 2",
            )
        if self.positions != "random" and self.structure != "sparse-sketch":
            raise NNBenchError(
                f"positions={self.positions} is an option of the sparse sketch only",
                "drop positions=, or use structure=sparse-sketch",
            )
        if self.n < 1 or self.count < 1 or self.steps < 0 or self.batch_size < 1:
            raise NNBenchError("n, count, batch_size must be >= 1", "fix the amortized config")

    def small_budget(self) -> AmortizedConfig:
        """A few steps on a few matrices."""
        return dataclasses.replace(self, steps=min(self.steps, 20), count=min(self.count, 64))

    @property
    def heavy_rows(self) -> int:
        """How many rows of A get a row of S of their own (learned positions)."""
        return self.rows // 2 if self.heavy is None else self.heavy

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


def training_set(config: AmortizedConfig, dtype: torch.dtype, device: str = "cpu") -> torch.Tensor:
    """(count, n, n) on `device`: the training matrices, each scaled to max|a_ij| = 1."""
    from nnbench.corpus import MATRIX_FAMILIES

    stack = [MATRIX_FAMILIES[f].make(config.n, seed=s, dense=True) for f, s in train_seeds(config)]
    return unit_scaled(torch.from_numpy(np.stack(stack)).to(dtype))[0].to(device)


class Minibatched(Protocol):
    """A config that trains on minibatches of a stacked training set (`minibatches`)."""

    @property
    def steps(self) -> int: ...

    @property
    def batch_size(self) -> int: ...


def minibatches(
    data: torch.Tensor, gen: torch.Generator, config: Minibatched
) -> Iterator[torch.Tensor]:
    """`config.steps` minibatches of `config.batch_size` matrices of `data`, drawn with
    replacement as each step comes."""
    for _ in range(config.steps):
        size = (config.batch_size,)
        idx = torch.randint(0, data.shape[0], size, generator=gen, device=data.device)
        yield data[idx]


def unit_scaled(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A / max|a_ij| per matrix, and the scales."""
    scale = a.abs().amax(dim=(-2, -1), keepdim=True).clamp_min(torch.finfo(a.dtype).tiny)
    return a / scale, scale
