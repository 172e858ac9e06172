"""Every learned model, by its config's `structure` (`MODELS`, the one registry of models):
the dense ones here, exactly structured LU and Cholesky factors (FactorNet), a learned sketch
(SketchNet, SparseSketchNet) and a preconditioner (EdgeNet), each with its training loss and
its inference on a stack, configured by `AmortizedConfig`; and the graph preconditioner
(`graph_ic.GRAPH_IC`, its own config)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import torch

from nnbench.errors import SkipCell
from nnbench.methods.amortized.config import (
    AmortizedConfig,
    minibatches,
    training_set,
    unit_scaled,
)
from nnbench.methods.amortized.graph_ic import GRAPH_IC
from nnbench.methods.amortized.model import Model
from nnbench.methods.base import Cost
from nnbench.methods.preconditioners import SPD, spd_only
from nnbench.methods.sketch import best_in_row_space, sketch_and_solve_cost
from nnbench.seeds import derive_seed


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


def _factors_infer(
    net: torch.nn.Module, stack: torch.Tensor, config: AmortizedConfig, rank: int | None
) -> dict[str, torch.Tensor]:
    scaled, scale = unit_scaled(stack)
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

    def sketch(self) -> torch.Tensor:
        return self.s

    def forward(self, a: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        return best_in_row_space(a, self.s @ a, k)


class SparseSketchNet(torch.nn.Module):
    """A learned m x n sketch with CountSketch's sparsity (Indyk, Vakilian & Yuan, NeurIPS
    2019): column j has one nonzero, at row `bucket[j]`, placed before training (`PLACEMENTS`:
    balanced random rows when built, or learned from the training matrices by `place`) and
    then kept; its value is learned, starting at CountSketch's random sign."""

    def __init__(self, config: AmortizedConfig) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(config.seed)
        self.rows = config.rows
        self.register_buffer("bucket", balanced_rows(config.n, config.rows, gen))
        sign = torch.randint(0, 2, (config.n,), generator=gen).to(torch.float32) * 2 - 1
        self.values = torch.nn.Parameter(sign)

    def sketch(self) -> torch.Tensor:
        n = self.values.shape[0]
        s = self.values.new_zeros((self.rows, n))
        bucket = self.get_buffer("bucket")
        return s.index_put((bucket, torch.arange(n, device=s.device)), self.values)

    def forward(self, a: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        return best_in_row_space(a, self.sketch() @ a, k)


def balanced_rows(columns: int, rows: int, gen: torch.Generator, first: int = 0) -> torch.Tensor:
    """A row in first..first+rows-1 for each of `columns` columns of a sketch, at random but
    balanced (a random permutation modulo `rows`), so that no row is empty when columns >= rows."""
    return torch.randperm(columns, generator=gen) % rows + first


def ridge_leverage_scores(a: torch.Tensor, k: int) -> torch.Tensor:
    """(..., m) float64: the rank-k ridge leverage scores of the rows of A (..., m, n) (Cohen,
    Musco & Musco, SODA 2017), tau_i = a_i^T (A^T A + lambda I)^+ a_i with lambda =
    ||A - A_k||_F^2 / k, from the eigendecomposition of A A^T; they sum to about 2k at most."""
    gram = a.to(torch.float64) @ a.to(torch.float64).mT
    energy, vectors = torch.linalg.eigh(gram)  # ascending
    energy = energy.clamp_min(0.0)
    ridge = energy[..., : max(energy.shape[-1] - k, 0)].sum(-1, keepdim=True) / k
    tiny = energy[..., -1:] * energy.shape[-1] * torch.finfo(torch.float64).eps
    weight = torch.where(energy > tiny, energy / (energy + ridge), 0.0)
    return (vectors**2 * weight[..., None, :]).sum(-1)


def _random_positions(
    net: SparseSketchNet, data: torch.Tensor, config: AmortizedConfig
) -> torch.Tensor:
    """CountSketch's: the balanced random rows drawn when the net was built."""
    return net.get_buffer("bucket")


def _heavy_row_positions(
    net: SparseSketchNet, data: torch.Tensor, config: AmortizedConfig
) -> torch.Tensor:
    """Li, Liu, Vakilian, Wang & Woodruff (ICLR 2023), for low-rank approximation: the
    `config.heavy_rows` rows of A whose rank-k ridge leverage scores, averaged over the
    training matrices `data` (count, n, n), are largest get a row of S each (rows 0..h-1, by
    decreasing score), so that S A keeps them apart; the other rows of A are hashed into the
    remaining m - h rows at random (balanced, seeded by `config.seed`)."""
    n, h = config.n, config.heavy_rows
    scores = torch.zeros(n, dtype=torch.float64)
    for chunk in data.cpu().split(8):  # the eigendecompositions a few at a time: memory
        scores += ridge_leverage_scores(chunk, config.rank).sum(0)
    heavy = torch.argsort(scores, descending=True, stable=True)[:h]
    light = torch.ones(n, dtype=torch.bool)
    light[heavy] = False
    gen = torch.Generator().manual_seed(derive_seed("sparse-sketch-positions", config.seed))
    bucket = torch.empty(n, dtype=torch.long)
    bucket[heavy] = torch.arange(h)
    bucket[light] = balanced_rows(n - h, config.rows - h, gen, first=h)
    return bucket.to(net.get_buffer("bucket").device)


PLACEMENTS: dict[str, Callable[[SparseSketchNet, torch.Tensor, AmortizedConfig], torch.Tensor]] = {
    "random": _random_positions,
    "learned": _heavy_row_positions,
}
"""Where a sparse sketch's entries sit (`AmortizedConfig.positions`): `bucket[j]`, the row of
S holding column j's one entry, from the net and the training matrices."""


def _place_entries(net: torch.nn.Module, data: torch.Tensor, config: AmortizedConfig) -> None:
    assert isinstance(net, SparseSketchNet)
    net.get_buffer("bucket").copy_(PLACEMENTS[config.positions](net, data, config))


def _sketch_loss(
    net: torch.nn.Module, a: torch.Tensor, gen: torch.Generator, config: AmortizedConfig
) -> torch.Tensor:
    """Mean relative squared Frobenius error of the rank-k approximation from S A, computed
    as 1 - ||[A Q]_k||_F^2 / ||A||_F^2 (Q an orthonormal basis of the row space of S A,
    [.]_k the top k singular values): the same number as ||A - A_k||_F^2 / ||A||_F^2 for the
    A_k of `best_in_row_space` (A_k is A Q Q^T projected on the top k left singular vectors
    of A Q), without forming A_k: half the time a step at n = 1,024."""
    assert isinstance(net, SketchNet | SparseSketchNet)
    q, _ = torch.linalg.qr((net.sketch() @ a).mT)
    top = torch.linalg.svdvals(a @ q)[..., : config.rank]
    energy = (a**2).sum(dim=(-2, -1))
    return (1.0 - (top**2).sum(-1) / energy).mean()


def _trained_size(config: AmortizedConfig) -> int:
    return config.n


def _sketch_rows(config: AmortizedConfig) -> int:
    return config.rows


def _sketch_cost(shape: tuple[int, int], rank: int, config: AmortizedConfig) -> Cost:
    """A learned sketch is applied as any sketch-and-solve is: two passes over A."""
    return sketch_and_solve_cost(shape, config.rows)


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
    scaled, scale = unit_scaled(stack)
    with torch.no_grad():
        return {"L": net(scaled) * scale.sqrt()}


PROBE = "one z ~ N(0, I) per matrix and step, A scaled to max|a_ij| = 1"


def _spd_for_cholesky(x: Any) -> None:
    """Decline, untimed, a matrix that is not SPD, as torch-cholesky does: the network would
    return factors of some other matrix (a backward error of order 1)."""
    try:
        spd_only(x)
    except SkipCell:
        raise SkipCell(
            "not symmetric positive definite: a Cholesky factor exists only for an SPD "
            "matrix; use amortized-lu"
        ) from None


MODELS: dict[str, Model[Any]] = {
    "lu": Model(
        kind="lu",
        build=FactorNet,
        data=training_set,
        batches=minibatches,
        loss=_factors_loss,
        infer=_factors_infer,
        loss_formula=f"batch mean of ||(L U - A) z||^2, {PROBE}",
        init="zero correction of (I, triu(A))",
        one_size=_trained_size,
    ),
    "cholesky": Model(
        kind="lu",
        build=FactorNet,
        data=training_set,
        batches=minibatches,
        loss=_factors_loss,
        infer=_factors_infer,
        loss_formula=f"batch mean of ||(L L^T - A) z||^2, {PROBE}",
        init="zero correction of diag(sqrt(a_ii))",
        one_size=_trained_size,
        requires=SPD,  # no Cholesky factor exists otherwise: L L^T would be another matrix
        check=_spd_for_cholesky,
    ),
    "sketch": Model(
        kind="rank-k",
        build=SketchNet,
        data=training_set,
        batches=minibatches,
        loss=_sketch_loss,
        infer=_sketch_infer,
        loss_formula=(
            "batch mean of ||A - A_k||_F^2 / ||A||_F^2, A_k the best rank-{rank} approximation "
            "within the row space of S A"
        ),
        init="Gaussian S / sqrt(rows)",
        one_size=_trained_size,
        max_rank=_sketch_rows,
        cost=_sketch_cost,
        classical_solve=True,
    ),
    "sparse-sketch": Model(
        kind="rank-k",
        build=SparseSketchNet,
        data=training_set,
        batches=minibatches,
        loss=_sketch_loss,
        infer=_sketch_infer,
        loss_formula=(
            "batch mean of ||A - A_k||_F^2 / ||A||_F^2, A_k the best rank-{rank} approximation "
            "within the row space of S A, S with CountSketch's sparsity (values learned)"
        ),
        init="CountSketch: one random sign a column, at a random row or, with learned "
        "positions, heavy rows (top ridge leverage scores) alone in a row (kept)",
        place=_place_entries,
        one_size=_trained_size,
        max_rank=_sketch_rows,
        cost=_sketch_cost,
        classical_solve=True,
    ),
    "precond": Model(
        kind="precond",
        build=EdgeNet,
        data=training_set,
        batches=minibatches,
        loss=_precond_loss,
        infer=_precond_infer,
        loss_formula=f"batch mean of ||(L L^T - A) z||^2 / ||A||_F^2, {PROBE}",
        init="zero correction of (sqrt(a_ii), a_ij / sqrt(a_jj)) on the pattern of tril(A)",
        requires=SPD,  # its M^-1 preconditions CG, which breaks down on any other matrix
        check=spd_only,
    ),
    "graph-ic": GRAPH_IC,
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
