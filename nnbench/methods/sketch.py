"""Sketch-and-solve rank-k approximation (Clarkson & Woodruff; Indyk, Vakilian & Yuan,
NeurIPS 2019): with an m x n_rows sketch S, A_k is the best rank-k approximation of A within
the row space of S A: Q = orth((S A)^T), then the truncated SVD of A Q, A_k = [A Q]_k Q^T.

The sketch is what differs: Gaussian or CountSketch (classical, random, drawn per call), a
Gaussian one power-iterated (the row space of S (A A^T)^q A), the top principal directions of
the learned sketch's training matrices (`sketch-pca`: data-driven, no gradient steps), or
learned once on a distribution of matrices (`amortized-sketch`, in `amortized/`).

Cost (`Cost`): S A is one pass over A, each power iteration two (A Q, then (A Q)^T A), and
the solve one more (A Q): 2q + 2 passes; the working arrays are S (s x m), S A (s x n), its
basis Q (n x s), A Q (m x s) and its SVD (m x s, s, s x s): 3 m s + 2 n s + s^2 + s floats.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

from nnbench.errors import NNBenchError
from nnbench.methods.base import Cost, LibraryOutput, Method, Raw


@dataclass(frozen=True, kw_only=True)
class Sketch:
    """`rows` (m) of the sketch; None: 2k."""

    rows: int | None = None

    def __post_init__(self) -> None:
        if self.rows is not None and (not isinstance(self.rows, int) or self.rows < 1):
            raise NNBenchError("rows must be a positive integer", "set e.g. rows=20")

    def m(self, k: int, n_rows: int) -> int:
        return min(self.rows or 2 * k, n_rows)


def best_in_row_space(a: torch.Tensor, sa: torch.Tensor, k: int) -> tuple[Any, Any]:
    """(left, right) with left @ right the best rank-k approximation of A (..., m, n) within
    the row space of S A (..., s, n); differentiable (QR and SVD), so a sketch can learn."""
    q, _ = torch.linalg.qr(sa.mT)  # (..., n, s): an orthonormal basis of the row space
    u, s, vt = torch.linalg.svd(a @ q, full_matrices=False)
    return u[..., :, :k] * s[..., None, :k], vt[..., :k, :] @ q.mT


def gaussian_sketch(m: int, rows: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(m, rows, generator=gen, dtype=like.dtype, device=like.device) / m**0.5


def count_sketch(m: int, rows: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """One +-1 per column, in a random row (Clarkson & Woodruff's CountSketch)."""
    bucket = torch.randint(0, m, (rows,), generator=gen, device=like.device)
    sign = torch.randint(0, 2, (rows,), generator=gen, device=like.device).to(like.dtype) * 2 - 1
    s = torch.zeros(m, rows, dtype=like.dtype, device=like.device)
    s[bucket, torch.arange(rows, device=like.device)] = sign
    return s


SKETCHES = {"gaussian": gaussian_sketch, "countsketch": count_sketch}


def random_sketch_method(name: str) -> Any:
    """The `compute` of a classical sketch-and-solve method with a random `name` sketch."""

    def compute(x: Any, rank: int | None, seed: int, config: Sketch) -> Raw:
        k = int(rank or 1)
        gen = torch.Generator(device=x.device).manual_seed(seed % 2**63)
        s = SKETCHES[name](config.m(k, x.shape[0]), x.shape[0], gen, x)
        left, right = best_in_row_space(x, s @ x, k)
        return {"left": left, "right": right}

    compute.__qualname__ = f"sketch_{name}"
    return compute


def sketch_and_solve_cost(shape: tuple[int, int], rows: int, power: int = 0) -> Cost:
    """The cost of sketch-and-solve with an s x m sketch and `power` iterations (module doc)."""
    m, n = shape
    return Cost(passes=2 * power + 2, memory_floats=3 * m * rows + 2 * n * rows + rows**2 + rows)


def random_sketch_cost(shape: tuple[int, int], rank: int, config: Sketch) -> Cost:
    return sketch_and_solve_cost(shape, config.m(rank, shape[0]))


@dataclass(frozen=True, kw_only=True)
class PowerSketch(Sketch):
    """A Gaussian sketch of `rows` (None: 2k) rows, as `sketch-gaussian` draws it, and `q`
    power iterations; q = 0 is `sketch-gaussian`."""

    q: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.q, int) or self.q < 0:
            raise NNBenchError("q must be an integer >= 0", "set e.g. q=1")


def sketch_power(x: Any, rank: int | None, seed: int, config: PowerSketch) -> Raw:
    """Sketch-and-solve within the row space of S (A A^T)^q A, S Gaussian; the rows are
    orthonormalized between products, which keeps the small directions from drowning."""
    k = int(rank or 1)
    gen = torch.Generator(device=x.device).manual_seed(seed % 2**63)
    y = gaussian_sketch(config.m(k, x.shape[0]), x.shape[0], gen, x) @ x
    for _ in range(config.q):
        q, _ = torch.linalg.qr(y.mT)
        y = (x @ q).mT @ x
    left, right = best_in_row_space(x, y, k)
    return {"left": left, "right": right}


def power_sketch_cost(shape: tuple[int, int], rank: int, config: PowerSketch) -> Cost:
    return sketch_and_solve_cost(shape, config.m(rank, shape[0]), config.q)


@dataclass(frozen=True, kw_only=True)
class PCASketch(Sketch):
    """The data a `sketch-pca` basis comes from: `count` matrices of `families` ('+'
    joined on the command line) drawn with the training seeds of an amortized model of that
    `seed` (`amortized.train_seeds`): the learned sketch's own training set by default.
    `rows` (None: 2k) leading directions make S."""

    families: tuple[str, ...] = ("image-crops",)
    count: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.families, str):  # a command-line option: "a+b"
            object.__setattr__(self, "families", tuple(self.families.split("+")))
        if not self.families or not isinstance(self.count, int) or self.count < 1:
            raise NNBenchError("sketch-pca needs families and a count >= 1", "set e.g. count=512")


def pca_basis(config: PCASketch, n_rows: int) -> torch.Tensor:
    """(n_rows, n_rows) float64 with orthonormal rows: the left singular vectors, by
    decreasing singular value, of the training matrices side by side [A_1 ... A_N] (each
    n_rows x n_rows, scaled to max|a_ij| = 1, as the learned sketch trains on them): no
    gradient steps. Computed as the eigenvectors of sum_i A_i A_i^T, accumulated one matrix
    at a time (memory n_rows^2, not the N n_rows^2 of the stack). Uncentred: S A should keep
    A's energy, not its variance."""
    from nnbench.corpus import MATRIX_FAMILIES
    from nnbench.methods.amortized.config import AmortizedConfig, train_seeds

    draw = AmortizedConfig(
        structure="sketch", families=config.families, n=n_rows, count=config.count,
        rank=1, rows=1, seed=config.seed,
    )  # fmt: skip
    gram = torch.zeros(n_rows, n_rows, dtype=torch.float64)
    for family, seed in train_seeds(draw):
        a = torch.from_numpy(MATRIX_FAMILIES[family].make(n_rows, seed=seed)).to(torch.float64)
        a = a / a.abs().max().clamp_min(torch.finfo(torch.float64).tiny)
        gram += a @ a.mT
    _, vectors = torch.linalg.eigh(gram)  # ascending
    return vectors.flip(-1).mT.contiguous()


@lru_cache(maxsize=16)
def _fitted(config: PCASketch, n_rows: int) -> tuple[torch.Tensor, float]:
    """`pca_basis` and the seconds its fit took, once per process for each configuration and
    size (every dtype's and device's cells use it): the seconds are always the fit's own."""
    start = time.perf_counter()
    basis = pca_basis(config, n_rows)
    return basis, time.perf_counter() - start


def _named(output: Raw, rank: int | None) -> Raw:
    """The assembly of factors the timed call already named (as a `LibraryMethod`'s)."""
    return output


class PCASketchMethod(Method):
    """Sketch-and-solve with S = the top `rows` principal directions of the learned sketch's
    training matrices (`pca_basis`). The basis depends on the number of rows of A only: it is
    computed the first time a size is seen, in `prepare` (untimed, like a model's training;
    one SVD, a fraction of a second at 512 crops of 64 x 64) and kept for the next cells;
    its seconds are the cells' `train_time_s`, as a learned sketch's training is."""

    kind = "rank-k"
    group = "classical"
    backend = "torch"
    warmup_at_full_size = True  # the warm-up fits the basis of the cell's size
    config: PCASketch

    def __init__(self, name: str, description: str, config: PCASketch) -> None:
        self.name, self.description, self.config = name, description, config
        self.bases: dict[tuple[Any, ...], torch.Tensor] = {}
        self.fit_s: dict[tuple[Any, ...], float] = {}
        self.train_time_s = math.nan  # the fit of the basis the last `prepare` used

    def sketch(self, n_rows: int, rows: int, like: torch.Tensor) -> torch.Tensor:
        """S (rows, n_rows) in `like`'s dtype and device, rows orthonormal."""
        key = (self.config, n_rows, str(like.device), like.dtype)
        if key not in self.bases:
            basis, self.fit_s[key] = _fitted(self.config, n_rows)
            self.bases[key] = basis.to(like.device, like.dtype)
        self.train_time_s = self.fit_s[key]
        return self.bases[key][:rows]

    def prepare(self, a: Any, *, device: str) -> Any:
        x = super().prepare(a, device=device)
        self.sketch(x.shape[-2], 1, x)  # fit the basis of this size here, before timing
        return x

    def compute(self, x: Any, *, rank: int | None, seed: int) -> LibraryOutput:
        k = int(rank or 1)
        s = self.sketch(x.shape[-2], self.config.m(k, x.shape[-2]), x)
        left, right = best_in_row_space(x, s @ x, k)
        return LibraryOutput({"left": left, "right": right}, rank, _named)

    def cost(self, shape: tuple[int, int], rank: int | None) -> Cost:
        return sketch_and_solve_cost(shape, self.config.m(int(rank or 1), shape[0]))
