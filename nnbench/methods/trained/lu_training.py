"""Training the neural LU network on a batch of matrices at once, shape (b, n, n).

Every optimizer here acts on each matrix of the batch independently (the batch loss is the
sum of the per-matrix losses, and the first-order optimizers are elementwise), so one tensor
program fits many matrices, seeds or configurations: sweeps are not Python loops over
5000-step trainings. L-BFGS is the exception (one line search for the whole batch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from nnbench.errors import NNBenchError
from nnbench.methods.base import ANY_MATRIX, Requirements
from nnbench.methods.trained.lu_layers import (
    INITS,
    Layers,
    NoLU,
    convex_start,
    partial_pivoting,
    rounding_floor,
)
from nnbench.methods.trained.training import INPUTS, check_choice, generator, lbfgs

STRUCTURES = {"penalty": False, "exact": True}
"""Structure -> whether L and U are exactly masked (else the study's penalty keeps them so)."""


@dataclass(frozen=True, kw_only=True)
class LUTraining:
    """Options of the neural LU model; validated when built.

    inputs: a key of `INPUTS` (study 000: `uniform`, `data_size` fresh rows per step; `full`
      is the identity batch, whose loss is ||LU - A||_F^2 / n^2).
    init: a key of `lu_layers.INITS`.
    optimizer: a key of `OPTIMIZERS`: torch's SGD, ASGD, Rprop, RMSprop, Adagrad, Adam, L-BFGS;
      `als` (exact least squares for one layer given the other, alternating) or
      `gauss-newton` (joint, exact Newton on the residual); the last two need `exact`
      structure and `full` inputs.
    lr: a number, or a key of `LR_RULES` (seed 001's 1/lambda_max of the loss Hessian).
    switch_to: another first-order optimizer (lr `switch_lr`) taken over once the loss is
      below `switch_below` (study 000's Rprop-then-Adam).
    pivot: learn the LU of P^T A, with P from partial pivoting of A (A = P L U).
    """

    inputs: str = "uniform"
    data_size: int = 100
    structure: str = "penalty"
    optimizer: str = "adam"
    lr: float | str = 0.1
    init: str = "default"
    steps: int = 5000
    tol: float = 0.0  # stop once the loss is at or below this
    patience: int | None = None  # stop after this many steps without improvement
    pivot: bool = False
    switch_to: str | None = None
    switch_below: float = 1e-2
    switch_lr: float = 0.1

    def __post_init__(self) -> None:
        check_choice(self.inputs, INPUTS, "inputs")
        check_choice(self.structure, STRUCTURES, "structure")
        check_choice(self.optimizer, OPTIMIZERS, "optimizer")
        check_choice(self.init, INITS, "init")
        if self.optimizer in SOLVERS and (self.structure, self.inputs) != ("exact", "full"):
            raise NNBenchError(
                f"{self.optimizer} solves for the layers exactly",
                "use structure='exact' with inputs='full'",
            )
        if self.switch_to is not None:
            check_choice(self.switch_to, FIRST_ORDER, "switch_to")
            if self.optimizer not in FIRST_ORDER:
                raise NNBenchError(
                    "switch_to needs a first-order optimizer to switch from",
                    f"use one of {', '.join(FIRST_ORDER)}",
                )
        if isinstance(self.lr, str):
            check_choice(self.lr, LR_RULES, "lr rule")
        elif not self.lr > 0:
            raise NNBenchError("lr must be positive", "set lr > 0 or lr=auto")
        for name in ("data_size", "steps", "switch_below", "switch_lr", "patience"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and value > 0):
                raise NNBenchError(f"{name} must be a positive number", f"set {name} > 0")
        if not isinstance(self.data_size, int):
            raise NNBenchError("data_size must be an integer", "set e.g. data_size=100")

    @property
    def group(self) -> str:
        """`hybrid` when classical linear algebra does part of the work (the library's
        pivoting, the convex start's block solves, the exact solvers, or `auto-final`'s exact
        factors), else `neural`: the weights change only through optimizer steps."""
        classical = (
            self.pivot
            or self.init == "convex"
            or self.optimizer in SOLVERS
            or self.lr == "auto-final"
        )
        return "hybrid" if classical else "neural"

    @property
    def takes_lr(self) -> bool:
        """First-order optimizers and L-BFGS take a step size; the exact solvers do not."""
        return self.optimizer in STEP_RULES

    @property
    def divides_by_pivots(self) -> bool:
        """The exact solvers and the convex start divide by U's pivots."""
        return self.optimizer in SOLVERS or self.init == "convex"

    @property
    def requires(self) -> Requirements:
        """What this configuration may decline: a matrix on which an elimination it runs (the
        exact solvers', the convex start's, `auto-final`'s exact factors) meets a zero pivot:
        a singular one, and without `pivot` one that needs pivoting."""
        if not (self.divides_by_pivots or self.lr == "auto-final"):
            return ANY_MATRIX
        declined = {"singular"} if self.pivot else {"singular", "needs_pivoting"}
        return Requirements(without=frozenset(declined))


StepCallback = Callable[[torch.Tensor], bool]
"""Called with the per-matrix losses (b,) before each update; True stops the training."""


@dataclass(frozen=True)
class Trained:
    """What a trainer reports besides the weights: the step size it used (None for the exact
    solvers) and the step at which `switch_to` took over (None if it never did)."""

    lr: float | None = None
    switch_step: int | None = None


def _losses(cfg: LUTraining, layers: Layers, a: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per-matrix MSE on this step's inputs, plus the structure penalty."""
    lower, upper = layers.factors()
    x = INPUTS[cfg.inputs].sample((*a.shape[:-2], cfg.data_size, a.shape[-1]), gen, a)
    if x is None:
        mse = torch.mean((lower @ upper - a) ** 2, dim=(-2, -1))
    else:
        mse = torch.mean((x @ lower @ upper - x @ a) ** 2, dim=(-2, -1))
    return mse + layers.penalty()


OptimizerFactory = Callable[[list[torch.Tensor], float], torch.optim.Optimizer]


def _torch_optimizer(cls: Callable[..., torch.optim.Optimizer]) -> OptimizerFactory:
    return lambda params, lr: cls(params, lr=lr)


def _lbfgs(params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    return lbfgs(params, lr=lr, max_iter=1, history_size=50)


FIRST_ORDER: dict[str, OptimizerFactory] = {
    "sgd": _torch_optimizer(torch.optim.SGD),
    "asgd": _torch_optimizer(torch.optim.ASGD),
    "rprop": _torch_optimizer(torch.optim.Rprop),
    "rmsprop": _torch_optimizer(torch.optim.RMSprop),
    "adagrad": _torch_optimizer(torch.optim.Adagrad),
    "adam": _torch_optimizer(torch.optim.Adam),
}
STEP_RULES: dict[str, OptimizerFactory] = {**FIRST_ORDER, "lbfgs": _lbfgs}


def train_gradient(
    cfg: LUTraining,
    layers: Layers,
    a: torch.Tensor,
    gen: torch.Generator,
    on_step: StepCallback,
    *,
    make: OptimizerFactory,
) -> Trained:
    """Gradient steps on the loss (first-order, or L-BFGS), with an optional switch of
    optimizer once every loss of the batch is below `switch_below`."""
    lr = learning_rate(cfg, a, layers.w1.detach(), layers.w2.detach())
    params = [layers.w1, layers.w2]
    opt = make(params, lr)
    switch_step = None
    last: list[torch.Tensor] = []

    def closure() -> torch.Tensor:  # L-BFGS re-evaluates; the first evaluation is the step's
        opt.zero_grad(set_to_none=True)
        per = _losses(cfg, layers, a, gen)
        last.append(per.detach())
        total = per.sum()  # the sum keeps each matrix's gradient its own
        total.backward()
        return total

    for step in range(1, cfg.steps + 1):
        last.clear()
        opt.step(closure)  # type: ignore[arg-type]  # L-BFGS wants the loss tensor back
        per = last[0]
        if on_step(per):
            break
        if cfg.switch_to and switch_step is None and float(per.max()) < cfg.switch_below:
            opt, switch_step = FIRST_ORDER[cfg.switch_to](params, cfg.switch_lr), step
    return Trained(lr=lr, switch_step=switch_step)


def _prefix_solve(gram: torch.Tensor, rhs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Row i of X solves X_i G[:m, :m] = rhs_i[:m], m = the width of mask row i (a prefix).

    One Cholesky G = C C^T serves every row: the leading blocks of C are the Cholesky factors
    of the leading blocks of G, so masked forward/back substitutions solve all rows at once."""
    chol, info = torch.linalg.cholesky_ex(gram)
    if bool((info != 0).any()):
        raise NoLU("a factor became singular: the least-squares system is not positive definite")
    z = torch.linalg.solve_triangular(chol, (rhs * mask).mT, upper=False) * mask.mT
    return torch.linalg.solve_triangular(chol.mT, z, upper=True).mT * mask


def _trace(m: torch.Tensor) -> torch.Tensor:
    return torch.diagonal(m, dim1=-2, dim2=-1).sum(-1)[..., None, None]


def train_als(
    cfg: LUTraining, layers: Layers, a: torch.Tensor, gen: torch.Generator, on_step: StepCallback
) -> Trained:
    """Alternating exact least squares: L's rows given U, then U's columns given L."""
    with torch.no_grad():
        lower, upper = layers.factors()
        eye, strict, up = layers.eye, layers.strict_lower, layers.upper
        eps = torch.finfo(a.dtype).eps
        for _ in range(cfg.steps):
            if on_step(torch.mean((lower @ upper - a) ** 2, dim=(-2, -1))):
                break
            gram = upper @ upper.mT
            gram = gram + eps * _trace(gram) * eye
            lower = eye + _prefix_solve(gram, (a - upper) @ upper.mT, strict)
            gram = lower.mT @ lower
            gram = gram + eps * _trace(gram) * eye
            upper = _prefix_solve(gram, (lower.mT @ a).mT, up.mT).mT
        layers.w1, layers.w2 = lower.mT.clone(), upper.mT.clone()
    return Trained()


def train_gauss_newton(
    cfg: LUTraining, layers: Layers, a: torch.Tensor, gen: torch.Generator, on_step: StepCallback
) -> Trained:
    """Joint Gauss-Newton on ||L U - A||_F^2 over (strictly lower L, upper U).

    The linearised map (dL, dU) -> dL U + L dU has as many unknowns as equations and is
    invertible while U's diagonal is non-zero: L^-1 (dL U + L dU) U^-1 = L^-1 dL + dU U^-1
    splits uniquely into strictly lower and upper parts, so the step is exact Newton on the
    residual (quadratic convergence) for two triangular solves."""
    with torch.no_grad():
        lower, upper = layers.factors()
        for _ in range(cfg.steps):
            residual = a - lower @ upper
            if on_step(torch.mean(residual**2, dim=(-2, -1))):
                break
            x = torch.linalg.solve_triangular(lower, residual, upper=False, unitriangular=True)
            x = torch.linalg.solve_triangular(upper, x, upper=True, left=False)
            lower = lower + lower @ torch.tril(x, -1)
            upper = upper + torch.triu(x) @ upper
        layers.w1, layers.w2 = lower.mT.clone(), upper.mT.clone()
    return Trained()


Trainer = Callable[[LUTraining, Layers, torch.Tensor, torch.Generator, StepCallback], Trained]

SOLVERS: dict[str, Trainer] = {"als": train_als, "gauss-newton": train_gauss_newton}
OPTIMIZERS: dict[str, Trainer] = {
    **{name: partial(train_gradient, make=make) for name, make in STEP_RULES.items()},
    **SOLVERS,
}
"""Every optimizer by name; `SOLVERS` are the exact ones (no step size, no gradients)."""


def hessian_norm(
    cfg: LUTraining, a: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, *, iters: int = 100
) -> torch.Tensor:
    """Per matrix, the largest |eigenvalue| of the Hessian of the expected loss
    E_x[mse] (+ penalty) = tr((LU - A)^T Sigma (LU - A)) / n at (W1, W2), by power iteration
    on Hessian-vector products (seed 001's lambda_max, for both layers together)."""
    n = a.shape[-1]
    cov = INPUTS[cfg.inputs].second_moment(n, a)
    layers = Layers(w1, w2, exact=STRUCTURES[cfg.structure])
    params = [layers.w1, layers.w2]
    lower, upper = layers.factors()
    d = lower @ upper - a
    loss = torch.einsum("...ij,ik,...kj->...", d, cov, d) / n + layers.penalty()
    grads = torch.autograd.grad(loss.sum(), params, create_graph=True)
    gen = torch.Generator(device=a.device).manual_seed(0)
    v = [torch.randn(p.shape, generator=gen, dtype=a.dtype, device=a.device) for p in params]
    norm = torch.ones(a.shape[:-2], dtype=a.dtype, device=a.device)
    for _ in range(iters):
        size = torch.sqrt(torch.sum(v[0] ** 2, dim=(-2, -1)) + torch.sum(v[1] ** 2, dim=(-2, -1)))
        v = [x / size[..., None, None] for x in v]
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        norm = torch.sqrt(torch.sum(hv[0] ** 2, dim=(-2, -1)) + torch.sum(hv[1] ** 2, dim=(-2, -1)))
        v = [x.detach() for x in hv]
    return norm.detach()


def _at_initial_weights(
    cfg: LUTraining, a: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor
) -> torch.Tensor:
    return hessian_norm(cfg, a, w1, w2)


def _at_exact_factors(
    cfg: LUTraining, a: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor
) -> torch.Tensor:
    lower, upper = convex_start(a)
    return hessian_norm(cfg, a, lower.mT, upper.mT)


LR_RULES: dict[str, Callable[[LUTraining, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]]
LR_RULES = {"auto": _at_initial_weights, "auto-final": _at_exact_factors}
"""Seed 001's step size 1/lambda_max of the loss Hessian, taken at the initial weights
(`auto`) or at the exact factors (`auto-final`, a diagnostic: the largest stable step near
the end)."""


def learning_rate(cfg: LUTraining, a: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> float:
    """`cfg.lr`, or its rule's 1/lambda_max; for a batch, the smallest over its matrices."""
    if isinstance(cfg.lr, str):
        return float(1.0 / LR_RULES[cfg.lr](cfg, a, w1, w2).max())
    return float(cfg.lr)


@dataclass(frozen=True)
class LUFit:
    """Factors (b, n, n) with A = P L U (P None without pivoting) and what the trainer used."""

    L: torch.Tensor
    U: torch.Tensor
    P: torch.Tensor | None
    trained: Trained


def fit(cfg: LUTraining, a: torch.Tensor, *, gen: torch.Generator, on_step: StepCallback) -> LUFit:
    """Train on a batch a (b, n, n). Raises NoLU when the matrix has no LU this configuration
    can reach (a singular A for the solvers that divide by U's pivots)."""
    perm, target = None, a
    if cfg.pivot:
        perm, target, pivots = partial_pivoting(a)
        if cfg.divides_by_pivots and bool((pivots.amin(-1) <= rounding_floor(a)).any()):
            raise NoLU(
                "A is singular to working precision (partial pivoting meets a zero pivot), "
                "and this configuration divides by U's pivots; scipy-lu and torch-lu "
                "factor singular matrices"
            )
    w1, w2 = INITS[cfg.init](target, gen)
    layers = Layers(w1, w2, exact=STRUCTURES[cfg.structure])
    trained = OPTIMIZERS[cfg.optimizer](cfg, layers, target, gen, on_step)
    with torch.no_grad():
        lower, upper = layers.factors()
    return LUFit(lower.detach(), upper.detach(), perm, trained)


@dataclass(frozen=True)
class BatchFit:
    """`fit_lu_batch`'s result: factors (b, n, n) with A[i] = P[i] L[i] U[i], per-matrix
    final loss and relative 2-norm error, and the steps the batch took."""

    L: np.ndarray
    U: np.ndarray
    P: np.ndarray | None
    final_loss: np.ndarray
    rel_err_2: np.ndarray
    steps: int


def fit_lu_batch(
    a: np.ndarray, config: LUTraining, *, seed: int = 0, device: str = "cpu"
) -> BatchFit:
    """Fit the network to every matrix of a (b, n, n) in one tensor program.

    Training stops when every loss is at or below `config.tol`, after `config.patience`
    steps without the largest loss improving, or after `config.steps`."""
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.dtype.name not in ("float32", "float64"):
        raise NNBenchError(
            f"fit_lu_batch needs a float32/float64 array (b, n, n), got {a.dtype} {a.shape}",
            "stack square matrices with np.stack",
        )
    if config.optimizer == "lbfgs":
        raise NNBenchError("L-BFGS couples the batch (one line search)", "fit one at a time")
    x = torch.from_numpy(np.ascontiguousarray(a)).to(device)
    patience = config.patience or config.steps + 1
    history: list[torch.Tensor] = []
    best = [float("inf"), 0]

    def on_step(losses: torch.Tensor) -> bool:
        history.append(losses)
        worst = float(losses.max())
        best[:] = [worst, 0] if worst < best[0] else [best[0], best[1] + 1]
        return worst <= config.tol or best[1] >= patience

    try:
        result = fit(config, x, gen=generator(seed, x.device), on_step=on_step)
    except NoLU as exc:
        raise NNBenchError(f"cannot fit this batch: {exc}", "drop singular matrices") from None
    lower, upper, perm = result.L, result.U, result.P
    product = lower @ upper if perm is None else perm @ lower @ upper
    err = torch.linalg.matrix_norm(product - x, 2) / torch.linalg.matrix_norm(x, 2)
    return BatchFit(
        L=lower.cpu().numpy(),
        U=upper.cpu().numpy(),
        P=None if perm is None else perm.cpu().numpy(),
        final_loss=history[-1].cpu().numpy(),
        rel_err_2=err.cpu().numpy(),
        steps=len(history),
    )
