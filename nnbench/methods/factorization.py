"""Typed factorizations: each holds its factors as float arrays and can rebuild its matrix.

All factor arrays are numpy (moved off any device). Shapes for an m x n input, r = min(m, n):
LU: A = P L U (P m x m permutation, L m x r, U r x n); QR: A = Q R (Q m x r, R r x n);
SVD: A = U diag(s) Vt; rank-k: A_k = left @ right (left m x k, right k x n).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from itertools import pairwise
from typing import ClassVar

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from nnbench.errors import InvalidFactorization


@dataclass(frozen=True)
class TrainingHistory:
    """Loss (MSE) per optimisation step, or per epoch for minibatch training as Keras reports
    it, with elapsed seconds at each point."""

    loss: np.ndarray
    elapsed_s: np.ndarray
    unit: str = "step"  # "step" or "epoch"
    lr: float | None = None  # the step size used, where a rule chose it
    switch_step: int | None = None  # the step at which a second optimizer took over
    passes: int | None = None  # reads of A as a whole, counted where they happen (rank-k)

    @property
    def steps(self) -> int:
        return int(self.loss.shape[0])

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1]) if self.steps else float("nan")


def _chain(*named: tuple[str, np.ndarray]) -> None:
    """The named factors are 2-D and can be multiplied in this order."""
    for name, m in named:
        if m.ndim != 2:
            raise InvalidFactorization(f"factor {name} is {m.ndim}-D, not a matrix")
    for (left, a), (right, b) in pairwise(named):
        if a.shape[1] != b.shape[0]:
            raise InvalidFactorization(f"{left} {a.shape} cannot multiply {right} {b.shape}")


def _off_triangle(m: np.ndarray, *, lower: bool) -> float:
    """Relative Frobenius mass of `m` outside its required (lower or upper) triangle."""
    outside = np.triu(m, 1) if lower else np.tril(m, -1)
    total = np.linalg.norm(m)
    return float(np.linalg.norm(outside) / total) if total else 0.0


def _f64(m: np.ndarray) -> np.ndarray:
    """m as float64, without a copy when it already is."""
    return np.asarray(m, dtype=np.float64)


MatMul = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""How the O(n^3) products of evaluation are taken: numpy's matmul, or one on a device."""


def _orthogonality(q: np.ndarray, matmul: MatMul = np.matmul) -> float:
    """||Q^T Q - I||_F / sqrt(k) for Q with k orthonormal columns."""
    k = q.shape[1]
    return float(np.linalg.norm(matmul(q.T, q) - np.eye(k)) / np.sqrt(k)) if k else 0.0


@dataclass(frozen=True)
class Factorization(ABC):
    """Checks itself when built: every factor is a finite 2-D (or 1-D singular values) float
    array and the shapes fit together; otherwise `InvalidFactorization`."""

    kind: ClassVar[str]
    exact: ClassVar[bool] = True  # the factors represent A (not an approximation by design)
    history: TrainingHistory | None = field(default=None, kw_only=True)
    passes: int | None = field(default=None, kw_only=True)  # reads of A, where counted

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("history", "passes") or value is None:
                continue
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                raise InvalidFactorization(
                    f"factor {f.name} is {type(value).__name__} "
                    f"{getattr(value, 'dtype', '')}, not a float array"
                )
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            if bad:
                raise InvalidFactorization(f"factor {f.name} has {bad} NaN/Inf entries")
        self.check_shapes()

    @abstractmethod
    def check_shapes(self) -> None:
        """Raise InvalidFactorization when the factors cannot be multiplied together."""

    @property
    @abstractmethod
    def factors(self) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def reconstruct(self, matmul: MatMul = np.matmul) -> np.ndarray:
        """The matrix the factors represent, float64 (products by `matmul`)."""

    @abstractmethod
    def structure_error(self, matmul: MatMul = np.matmul) -> float:
        """How far the factors are from their required structure (0 = exact); NaN if none."""

    def solve(self, b: np.ndarray) -> np.ndarray:
        """x with A x = b using the factors; square kinds only."""
        raise NotImplementedError(f"{self.kind} factors do not solve linear systems")

    def slogdet(self) -> tuple[float, float]:
        """(sign, log|det|) of the represented matrix from the factors; square kinds only."""
        raise NotImplementedError(f"{self.kind} factors do not give a determinant")


def _tri_logdet(diagonal: np.ndarray) -> tuple[float, float]:
    with np.errstate(divide="ignore"):
        return float(np.prod(np.sign(diagonal))), float(np.sum(np.log(np.abs(diagonal))))


@dataclass(frozen=True)
class LUFactorization(Factorization):
    kind: ClassVar[str] = "lu"
    L: np.ndarray
    U: np.ndarray
    P: np.ndarray | None = None  # None means the identity (no pivoting)

    def check_shapes(self) -> None:
        _chain(("L", self.L), ("U", self.U))
        if self.P is not None:
            _chain(("P", self.P), ("L", self.L))

    @property
    def factors(self) -> dict[str, np.ndarray]:
        out = {"L": self.L, "U": self.U}
        return out if self.P is None else {"P": self.P, **out}

    @cached_property
    def perm(self) -> np.ndarray | None:
        """p with P[i, p[i]] = 1 when P is exactly a permutation matrix (then P M = M[p], no
        O(n^3) product); None for no P or a P that is not one (a trained method's)."""
        if self.P is None:
            return None
        return permutation_of(self.P)

    def permute_rows(self, m: np.ndarray, matmul: MatMul = np.matmul) -> np.ndarray:
        """P m: rows gathered by `perm`, or a product when P is not a permutation."""
        if self.P is None:
            return m
        return m[self.perm] if self.perm is not None else matmul(_f64(self.P), m)

    def unpermute_rows(self, m: np.ndarray, matmul: MatMul = np.matmul) -> np.ndarray:
        """P^T m, the same way."""
        if self.P is None:
            return m
        if self.perm is None:
            return matmul(_f64(self.P.T), m)
        out = np.empty_like(m)
        out[self.perm] = m
        return out

    def reconstruct(self, matmul: MatMul = np.matmul) -> np.ndarray:
        lu = matmul(_f64(self.L), _f64(self.U))
        return self.permute_rows(lu, matmul)

    def structure_error(self, matmul: MatMul = np.matmul) -> float:
        return max(_off_triangle(self.L, lower=True), _off_triangle(self.U, lower=False))

    def solve(self, b: np.ndarray) -> np.ndarray:
        rhs = self.unpermute_rows(b)
        with np.errstate(all="ignore"):
            # LAPACK's triangular solves read only the triangle named (no tril/triu copies)
            y = scipy.linalg.solve_triangular(self.L, rhs, lower=True, check_finite=False)
            return scipy.linalg.solve_triangular(self.U, y, check_finite=False)

    def slogdet(self) -> tuple[float, float]:
        sign_l, log_l = _tri_logdet(np.diag(self.L).astype(np.float64))
        sign_u, log_u = _tri_logdet(np.diag(self.U).astype(np.float64))
        if self.P is None:
            sign_p = 1.0
        elif self.perm is not None:
            sign_p = permutation_sign(self.perm)
        else:
            sign_p = float(np.round(np.linalg.det(self.P)))
        return sign_p * sign_l * sign_u, log_l + log_u


def permutation_of(p: np.ndarray) -> np.ndarray | None:
    """The index vector of a square 0/1 matrix with one 1 per row and column, else None."""
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        return None
    index = np.argmax(p, axis=1)
    rows = np.arange(p.shape[0])
    exact = np.all(p[rows, index] == 1.0) and np.count_nonzero(p) == p.shape[0]
    return index if exact and np.unique(index).size == index.size else None


def permutation_sign(index: np.ndarray) -> float:
    """det of the permutation matrix with P[i, index[i]] = 1: (-1)^(n - its cycles)."""
    seen = np.zeros(index.size, dtype=bool)
    cycles = 0
    for start in range(index.size):
        if not seen[start]:
            cycles += 1
            i = start
            while not seen[i]:
                seen[i] = True
                i = int(index[i])
    return -1.0 if (index.size - cycles) % 2 else 1.0


@dataclass(frozen=True)
class QRFactorization(Factorization):
    kind: ClassVar[str] = "qr"
    Q: np.ndarray
    R: np.ndarray

    def check_shapes(self) -> None:
        _chain(("Q", self.Q), ("R", self.R))

    @property
    def factors(self) -> dict[str, np.ndarray]:
        return {"Q": self.Q, "R": self.R}

    def reconstruct(self, matmul: MatMul = np.matmul) -> np.ndarray:
        return matmul(_f64(self.Q), _f64(self.R))

    def structure_error(self, matmul: MatMul = np.matmul) -> float:
        orthogonality = _orthogonality(_f64(self.Q), matmul)
        return max(orthogonality, _off_triangle(self.R, lower=False))

    def solve(self, b: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return scipy.linalg.solve_triangular(np.triu(self.R), self.Q.T @ b, check_finite=False)

    def slogdet(self) -> tuple[float, float]:
        sign_q, _ = np.linalg.slogdet(_f64(self.Q))
        sign_r, log_r = _tri_logdet(np.diag(self.R).astype(np.float64))
        return float(sign_q) * sign_r, log_r


@dataclass(frozen=True)
class SVDFactorization(Factorization):
    kind: ClassVar[str] = "svd"
    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray

    def check_shapes(self) -> None:
        _chain(("U", self.U), ("Vt", self.Vt))
        if self.s.shape != (self.U.shape[1],):
            raise InvalidFactorization(
                f"s has shape {self.s.shape}; U {self.U.shape} needs ({self.U.shape[1]},)"
            )

    @property
    def factors(self) -> dict[str, np.ndarray]:
        return {"U": self.U, "s": self.s, "Vt": self.Vt}

    def reconstruct(self, matmul: MatMul = np.matmul) -> np.ndarray:
        scaled = _f64(self.U) * _f64(self.s)
        return matmul(scaled, _f64(self.Vt))

    def structure_error(self, matmul: MatMul = np.matmul) -> float:
        return max(
            _orthogonality(_f64(self.U), matmul),
            _orthogonality(_f64(self.Vt.T), matmul),
        )

    def solve(self, b: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return self.Vt.T @ ((self.U.T @ b) / self.s)

    def slogdet(self) -> tuple[float, float]:
        sign_u, _ = np.linalg.slogdet(_f64(self.U))
        sign_v, _ = np.linalg.slogdet(_f64(self.Vt))
        with np.errstate(divide="ignore"):
            return float(sign_u * sign_v), float(np.sum(np.log(_f64(self.s))))


@dataclass(frozen=True)
class InverseOperator:
    """A preconditioner as an operator: `apply(r)` = M^-1 r for a float64 vector r (n,), and
    for an incomplete factorization its sparse lower factor (M = L L^T), else None."""

    n: int
    apply: Callable[[np.ndarray], np.ndarray]
    lower: scipy.sparse.csr_array | None = None

    def __post_init__(self) -> None:
        if self.lower is not None:
            if self.lower.shape != (self.n, self.n):
                raise InvalidFactorization(f"sparse L is {self.lower.shape}, not {self.n} square")
            bad = int(self.lower.nnz - np.count_nonzero(np.isfinite(self.lower.data)))
            if bad:
                raise InvalidFactorization(f"sparse L has {bad} NaN/Inf entries")


@dataclass(frozen=True)
class PreconditionerFactorization(Factorization):
    """A preconditioner for conjugate gradients on an SPD A: a dense M = L L^T (L lower
    triangular), or an operator M^-1 (`InverseOperator`: ILUT, AMG, a sparse direct solve,
    sparse IC(0)), exactly one of the two. Its quality is how few CG iterations it leaves
    (metric `cg_iterations`), not how close M is to A."""

    kind: ClassVar[str] = "precond"
    exact: ClassVar[bool] = False
    L: np.ndarray | None = None
    operator: InverseOperator | None = None

    def __post_init__(self) -> None:
        if (self.L is None) == (self.operator is None):
            raise InvalidFactorization("a preconditioner is a dense L or an operator, not both")
        if self.L is not None:
            super().__post_init__()

    def check_shapes(self) -> None:
        if self.L is not None:
            _chain(("L", self.L), ("L^T", self.L.T))

    @property
    def has_lower(self) -> bool:
        """Whether there is an L (dense, or an operator's sparse one)."""
        return self.L is not None or (self.operator is not None and self.operator.lower is not None)

    @property
    def lower(self) -> np.ndarray | None:
        """L dense, where there is one (a dense one, or an operator's sparse one)."""
        if self.L is not None:
            return self.L
        sparse = None if self.operator is None else self.operator.lower
        return None if sparse is None else sparse.toarray()

    @property
    def factors(self) -> dict[str, np.ndarray]:
        lower = self.lower
        return {} if lower is None else {"L": lower}

    def reconstruct(self, matmul: MatMul = np.matmul) -> np.ndarray:
        """L L^T; NaN for an operator without a factor (M itself is never formed)."""
        lower = self.lower
        if lower is None:
            n = 0 if self.operator is None else self.operator.n
            return np.full((n, n), np.nan)
        lower = lower.astype(np.float64)
        return matmul(lower, lower.T)

    def structure_error(self, matmul: MatMul = np.matmul) -> float:
        """L's mass above its diagonal (an operator's sparse L read sparse)."""
        sparse = None if self.operator is None else self.operator.lower
        if sparse is not None:
            total = float(scipy.sparse.linalg.norm(sparse))
            above = scipy.sparse.triu(sparse, 1)
            return float(scipy.sparse.linalg.norm(above)) / total if total and above.nnz else 0.0
        lower = self.lower
        return float("nan") if lower is None else _off_triangle(lower, lower=True)

    def apply_inverse(self, r: np.ndarray) -> np.ndarray:
        """M^-1 r: by the operator, or by two dense triangular solves."""
        if self.operator is not None:
            return self.operator.apply(r)
        assert self.L is not None
        lower = np.tril(self.L.astype(np.float64))
        with np.errstate(all="ignore"):
            y = scipy.linalg.solve_triangular(lower, r, lower=True, check_finite=False)
            return scipy.linalg.solve_triangular(lower.T, y, lower=False, check_finite=False)


@dataclass(frozen=True)
class LowRankFactorization(Factorization):
    """A rank-k approximation A_k = left @ right; no structure is required of the factors."""

    kind: ClassVar[str] = "rank-k"
    left: np.ndarray
    right: np.ndarray

    def check_shapes(self) -> None:
        _chain(("left", self.left), ("right", self.right))

    @property
    def rank(self) -> int:
        return int(self.left.shape[1])

    @property
    def factors(self) -> dict[str, np.ndarray]:
        return {"left": self.left, "right": self.right}

    def reconstruct(self, matmul: MatMul = np.matmul) -> np.ndarray:
        return matmul(_f64(self.left), _f64(self.right))

    def structure_error(self, matmul: MatMul = np.matmul) -> float:
        return float("nan")


FACTORIZATIONS: dict[str, type[Factorization]] = {
    cls.kind: cls
    for cls in (
        LUFactorization,
        QRFactorization,
        SVDFactorization,
        LowRankFactorization,
        PreconditionerFactorization,
    )
}
"""The factorization type of each kind of method."""
