"""The neural LU network's pieces that do not depend on its configuration: the two layers,
partial pivoting, the convex start, and the initial weights by name."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from nnbench.elimination import eliminate


class NoLU(Exception):
    """The matrix has no LU this network can fit; the message says why and what to do."""


def partial_pivoting(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(P, P^T A, |pivots|) with P from partial pivoting (A = P L U). The library's L and U
    are dropped; its pivots |u_kk| tell whether A is singular."""
    lu, pivots, _ = torch.linalg.lu_factor_ex(a)  # a zero pivot is ours to report
    perm = torch.lu_unpack(lu, pivots, unpack_data=False)[0]
    return perm, perm.mT @ a, torch.diagonal(lu, dim1=-2, dim2=-1).abs()


def rounding_floor(b: torch.Tensor) -> torch.Tensor:
    """n eps max|b_ij| per matrix: a pivot at or below it is zero to working precision."""
    n = b.shape[-1]
    return n * torch.finfo(b.dtype).eps * b.abs().amax(dim=(-2, -1))


def convex_start(b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L, U) from the convex problem: unit-lower G minimising ||strict_lower(G B)||_F^2.

    Row i of G only meets the leading block: g B[:i, :i] = -B[i, :i], a least-squares
    problem without the sign barrier of the bilinear one; at its minimum G = L^-1 and
    G B = U, where B = L U without row exchanges. Solving the n leading blocks at once
    padded into an (n, n, n) tensor needs O(n^3) memory (256 GiB at n = 4096), so the same
    minimiser is computed by blocked elimination without row exchanges (`eliminate`):
    O(n^2) memory, O(n^3) work. Raises NoLU when a leading block is singular."""
    n = b.shape[-1]
    packed = eliminate(b)
    if not bool(torch.isfinite(packed).all()):
        raise NoLU(
            "a leading principal minor of A is zero: no LU without pivoting exists; set pivot=true"
        )
    eye = torch.eye(n, dtype=b.dtype, device=b.device)
    lower = torch.tril(packed, -1) + eye
    upper = torch.triu(packed)
    pivots = torch.diagonal(upper, dim1=-2, dim2=-1).abs().amin(-1)
    if bool((pivots <= rounding_floor(b)).any()):  # Newton steps divide by the pivots
        raise NoLU(
            "a pivot of A without row exchanges is at the rounding floor: "
            "set pivot=true, or use scipy-lu"
        )
    return lower, upper


Init = Callable[[torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
"""(A (b, n, n), generator) -> initial W1, W2 (b, n, n), where L = W1^T and U = W2^T."""


def _torch_default(a: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """What torch.nn.Linear(n, n) draws: U(-1/sqrt(n), 1/sqrt(n))."""
    bound = 1.0 / math.sqrt(a.shape[-1])
    w1 = torch.empty_like(a).uniform_(-bound, bound, generator=gen)
    return w1, torch.empty_like(a).uniform_(-bound, bound, generator=gen)


def _mean(a: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    w1 = a.mean(dim=(-2, -1), keepdim=True).expand_as(a).clone()
    return w1, w1.clone()


def _identity(a: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    return eye.expand_as(a).clone(), a.mT.clone()


def _convex(a: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    lower, upper = convex_start(a)
    return lower.mT.clone(), upper.mT.clone()


INITS: dict[str, Init] = {
    "default": _torch_default,
    "mean": _mean,
    "identity": _identity,
    "convex": _convex,
}
"""Initial weights: torch's default, every entry mean(A), W1 = I with W2 = A^T (study 000's
three), and the convex start (ours)."""


class Layers:
    """W1, W2 (b, n, n) as trainable tensors; with `exact` structure, L and U are masked."""

    def __init__(self, w1: torch.Tensor, w2: torch.Tensor, *, exact: bool) -> None:
        n = w1.shape[-1]
        self.exact = exact
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
        likewise W2's strictly upper ones (study 000: W1[1,0]^2 + W2[0,1]^2 for n = 2).
        Zero when the structure is exact."""
        if self.exact:
            return torch.zeros(self.w1.shape[:-2], dtype=self.w1.dtype, device=self.w1.device)
        return torch.sum(torch.tril(self.w1, -1) ** 2, dim=(-2, -1)) + torch.sum(
            torch.triu(self.w2, 1) ** 2, dim=(-2, -1)
        )
