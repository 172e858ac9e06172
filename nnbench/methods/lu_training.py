"""Training the neural LU network on a batch of matrices at once, shape (b, n, n).

Every optimizer here acts on each matrix of the batch independently (the batch loss is the
sum of the per-matrix losses, and the first-order optimizers are elementwise), so one tensor
program fits many matrices, seeds or configurations: sweeps are not Python loops over
5000-step trainings. L-BFGS is the exception (one line search for the whole batch).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from nnbench.methods.training import lbfgs

if TYPE_CHECKING:
    from nnbench.methods.neural_lu import LUTraining

StepCallback = Callable[[torch.Tensor], bool]
"""Called with the per-matrix losses (b,) before each update; True stops the training."""

FIRST_ORDER = {
    "sgd": torch.optim.SGD,
    "asgd": torch.optim.ASGD,
    "rprop": torch.optim.Rprop,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adam": torch.optim.Adam,
}


def partial_pivoting(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(P, P^T A) with P from partial pivoting (A = P L U); the library's L and U are dropped."""
    lu, pivots, _ = torch.linalg.lu_factor_ex(a)  # a zero pivot is the training's to report
    perm = torch.lu_unpack(lu, pivots, unpack_data=False)[0]
    return perm, perm.mT @ a


def convex_start(b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L, U) from the convex problem: unit-lower G minimising ||strict_lower(G B)||_F^2.

    Row i of G only meets the leading block: g B[:i, :i] = -B[i, :i], a least-squares
    problem without the sign barrier of the bilinear one; at its minimum G = L^-1 and
    G B = U. Its Gauss-Newton step is exact (the loss is quadratic), one batched solve
    of the n padded leading blocks. Fails when a leading block is singular (pivot first)."""
    n = b.shape[-1]
    idx = torch.arange(n, device=b.device)
    inside = (idx[None, :] < idx[:, None]).to(b.dtype)  # inside[i, j] = j < i
    block = inside[:, :, None] * inside[:, None, :]  # (n, n, n): leading i x i block of row i
    eye = torch.eye(n, dtype=b.dtype, device=b.device)
    systems = b.mT[..., None, :, :] * block + eye * (1 - block)  # (..., n, n, n)
    rhs = -(b * inside)[..., None]  # (..., n, n, 1)
    g, info = torch.linalg.solve_ex(systems, rhs)
    if bool((info != 0).any()) or not bool(torch.isfinite(g).all()):
        raise RuntimeError(
            "a leading principal minor is singular: A is singular, or needs pivot=True"
        )
    inv_lower = eye + g[..., 0]
    upper = torch.triu(inv_lower @ b)
    pivots = torch.diagonal(upper, dim1=-2, dim2=-1).abs().amin(-1)
    floor = n * torch.finfo(b.dtype).eps * b.abs().amax(dim=(-2, -1))
    if bool((pivots <= floor).any()):  # Newton steps divide by the pivots
        raise RuntimeError("A is numerically singular: a pivot is at the rounding floor")
    lower = torch.linalg.solve_triangular(
        inv_lower, eye.expand_as(b), upper=False, unitriangular=True
    )
    return lower, upper


def initial_factors(
    cfg: LUTraining, a: torch.Tensor, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Initial W1, W2 (b, n, n): L = W1^T, U = W2^T."""
    n = a.shape[-1]
    if cfg.init == "default":  # what torch.nn.Linear(n, n) draws
        bound = 1.0 / math.sqrt(n)
        w1, w2 = (torch.empty_like(a).uniform_(-bound, bound, generator=gen) for _ in range(2))
        return w1, w2
    if cfg.init == "mean":
        w1 = a.mean(dim=(-2, -1), keepdim=True).expand_as(a).clone()
        return w1, w1.clone()
    if cfg.init == "identity":
        return torch.eye(n, dtype=a.dtype, device=a.device).expand_as(a).clone(), a.mT.clone()
    lower, upper = convex_start(a)
    return lower.mT.clone(), upper.mT.clone()


class Layers:
    """W1, W2 (b, n, n) as trainable tensors; with `exact` structure, L and U are masked."""

    def __init__(self, cfg: LUTraining, w1: torch.Tensor, w2: torch.Tensor) -> None:
        n = w1.shape[-1]
        self.exact = cfg.structure == "exact"
        ones = torch.ones(n, n, dtype=w1.dtype, device=w1.device)
        self.strict_lower, self.upper = torch.tril(ones, -1), torch.triu(ones)
        self.eye = torch.eye(n, dtype=w1.dtype, device=w1.device)
        self.w1 = w1.clone().requires_grad_()
        self.w2 = w2.clone().requires_grad_()

    def factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(L, U) = (W1^T, W2^T), masked when the structure is exact."""
        lower, upper = self.w1.mT, self.w2.mT
        if self.exact:
            lower = self.eye + lower * self.strict_lower
            upper = upper * self.upper
        return lower, upper

    def penalty(self) -> torch.Tensor:
        """Per matrix: L = W1^T must be lower, so W1's strictly lower entries must vanish;
        likewise W2's strictly upper ones (study 000: W1[1,0]^2 + W2[0,1]^2 for n = 2)."""
        return torch.sum(torch.tril(self.w1, -1) ** 2, dim=(-2, -1)) + torch.sum(
            torch.triu(self.w2, 1) ** 2, dim=(-2, -1)
        )


def _inputs(cfg: LUTraining, a: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    shape = (*a.shape[:-2], cfg.data_size, a.shape[-1])
    if cfg.inputs == "uniform":
        return torch.rand(shape, generator=gen, dtype=a.dtype, device=a.device)
    if cfg.inputs == "gaussian":
        return torch.randn(shape, generator=gen, dtype=a.dtype, device=a.device)
    signs = torch.randint(0, 2, shape, generator=gen, device=a.device)
    return signs.to(a.dtype) * 2 - 1


def _optimizer(name: str, lr: float, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if name == "lbfgs":
        return lbfgs(params, lr=lr, max_iter=1, history_size=50)
    return FIRST_ORDER[name](params, lr=lr)


def train_gradient(
    cfg: LUTraining,
    layers: Layers,
    a: torch.Tensor,
    gen: torch.Generator,
    on_step: StepCallback,
    lr: float,
) -> None:
    """First-order training (and L-BFGS); an optional switch of optimizer below a loss."""
    params = [layers.w1, layers.w2]
    opt = _optimizer(cfg.optimizer, lr, params)
    switched = cfg.switch_to is None

    def losses() -> torch.Tensor:
        lower, upper = layers.factors()
        if cfg.inputs == "full":
            mse = torch.mean((lower @ upper - a) ** 2, dim=(-2, -1))
        else:
            x = _inputs(cfg, a, gen)
            mse = torch.mean((x @ lower @ upper - x @ a) ** 2, dim=(-2, -1))
        return mse + layers.penalty() if cfg.structure == "penalty" else mse

    last: list[torch.Tensor] = []

    def closure() -> torch.Tensor:  # L-BFGS re-evaluates; the first evaluation is the step's
        opt.zero_grad(set_to_none=True)
        per = losses()
        last.append(per.detach())
        total = per.sum()  # the sum keeps each matrix's gradient its own
        total.backward()
        return total

    for _ in range(cfg.steps):
        last.clear()
        opt.step(closure)
        per = last[0]
        if on_step(per):
            return
        if not switched and float(per.max()) < cfg.switch_below:
            assert cfg.switch_to is not None
            opt, switched = _optimizer(cfg.switch_to, cfg.switch_lr, params), True


def input_covariance(inputs: str, n: int, like: torch.Tensor) -> torch.Tensor:
    """E[x x^T] of the input rows: I/12 + 11^T/4 for U[0,1), I for Gaussian and +-1 probes,
    I/n for the identity batch."""
    eye = torch.eye(n, dtype=like.dtype, device=like.device)
    if inputs == "uniform":
        return eye / 12 + torch.ones_like(eye) / 4
    return eye / n if inputs == "full" else eye


def hessian_norm(
    cfg: LUTraining, a: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, *, iters: int = 100
) -> torch.Tensor:
    """Per matrix, the largest |eigenvalue| of the Hessian of the expected loss
    E_x[mse] (+ penalty) = tr((LU - A)^T Sigma (LU - A)) / n at (W1, W2), by power iteration
    on Hessian-vector products (seed 001's lambda_max, for both layers together)."""
    n = a.shape[-1]
    cov = input_covariance(cfg.inputs, n, a)
    layers = Layers(cfg, w1, w2)
    params = [layers.w1, layers.w2]

    def expected_loss() -> torch.Tensor:
        lower, upper = layers.factors()
        d = lower @ upper - a
        loss = torch.einsum("...ij,ik,...kj->...", d, cov, d) / n
        return loss + layers.penalty() if cfg.structure == "penalty" else loss

    grads = torch.autograd.grad(expected_loss().sum(), params, create_graph=True)
    gen = torch.Generator(device=a.device).manual_seed(0)
    v = [torch.randn(p.shape, generator=gen, dtype=a.dtype, device=a.device) for p in params]
    norm = torch.ones(a.shape[:-2], dtype=a.dtype, device=a.device)
    for _ in range(iters):
        size = torch.sqrt(sum(torch.sum(x**2, dim=(-2, -1)) for x in v))[..., None, None]
        v = [x / size for x in v]
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        norm = torch.sqrt(sum(torch.sum(x**2, dim=(-2, -1)) for x in hv))
        v = [x.detach() for x in hv]
    return norm.detach()


def _prefix_solve(gram: torch.Tensor, rhs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Row i of X solves X_i G[:m, :m] = rhs_i[:m], m = the width of mask row i (a prefix).

    One Cholesky G = C C^T serves every row: the leading blocks of C are the Cholesky factors
    of the leading blocks of G, so masked forward/back substitutions solve all rows at once."""
    chol, info = torch.linalg.cholesky_ex(gram)
    if bool((info != 0).any()):
        raise RuntimeError(
            "a factor became singular (Gauss-Newton system not positive "
            "definite); A may have a zero leading minor"
        )
    z = torch.linalg.solve_triangular(chol, (rhs * mask).mT, upper=False) * mask.mT
    return torch.linalg.solve_triangular(chol.mT, z, upper=True).mT * mask


def train_als(cfg: LUTraining, layers: Layers, a: torch.Tensor, on_step: StepCallback) -> None:
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


def train_gauss_newton(
    cfg: LUTraining, layers: Layers, a: torch.Tensor, on_step: StepCallback
) -> None:
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


def _trace(m: torch.Tensor) -> torch.Tensor:
    return torch.diagonal(m, dim1=-2, dim2=-1).sum(-1)[..., None, None]
