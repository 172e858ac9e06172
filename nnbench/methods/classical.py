"""Classical factorizations: scipy (CPU), torch.linalg (any device), the textbook algorithms
of studies 003/004 (Doolittle LU, classical and modified Gram-Schmidt), Cholesky, and the
rank-k methods a practitioner would pick: randomized SVD (Halko, Martinsson & Tropp 2011) and
Krylov/Lanczos `svds` (ARPACK, PROPACK, LOBPCG).

Each is one function `(x, rank, seed, config) -> factors by name`, and one line of
`CLASSICAL_METHODS`; `config` holds a method's budget options (see `variants`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from nnbench.elimination import doolittle_lu
from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods.base import ANY_MATRIX, Method, Raw, Requirements
from nnbench.methods.preconditioners import PRECONDITIONERS, SPD
from nnbench.methods.sketch import Sketch, random_sketch_method


def _doolittle(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    lower, upper = doolittle_lu(x)
    return {"L": lower, "U": upper}


def _scipy_lu(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    p, lower, upper = scipy.linalg.lu(x, check_finite=False)
    return {"P": p, "L": lower, "U": upper}


def _scipy_qr(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    q, r = scipy.linalg.qr(x, mode="economic", check_finite=False)
    return {"Q": q, "R": r}


def _scipy_svd(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    u, s, vt = scipy.linalg.svd(x, full_matrices=False, check_finite=False)
    return {"U": u, "s": s, "Vt": vt}


def _scipy_tsvd(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    u, s, vt = scipy.linalg.svd(x, full_matrices=False, check_finite=False)
    return {"left": u[:, :rank] * s[:rank], "right": vt[:rank]}


def _torch_lu(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    import torch

    p, lower, upper = torch.linalg.lu(x)
    return {"P": p, "L": lower, "U": upper}


def _torch_qr(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    import torch

    q, r = torch.linalg.qr(x, mode="reduced")
    return {"Q": q, "R": r}


def _torch_svd(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    import torch

    u, s, vt = torch.linalg.svd(x, full_matrices=False)
    return {"U": u, "s": s, "Vt": vt}


def _torch_tsvd(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    import torch

    u, s, vt = torch.linalg.svd(x, full_matrices=False)
    return {"left": u[:, :rank] * s[:rank], "right": vt[:rank]}


def gram_schmidt(a: np.ndarray, *, modified: bool) -> tuple[np.ndarray, np.ndarray]:
    """QR of a tall or square matrix by Gram-Schmidt on its columns (study 003): classical
    (each column against the original column) or modified (against the running remainder,
    one projection at a time). Both lose orthogonality on ill-conditioned input (classical
    like cond^2 * eps, modified like cond * eps): `structure_err` records how much."""
    m, n = a.shape
    q = np.zeros((m, n), dtype=a.dtype)
    r = np.zeros((n, n), dtype=a.dtype)
    for j in range(n):
        v = a[:, j].copy()
        if modified:
            for i in range(j):
                r[i, j] = q[:, i] @ v
                v -= r[i, j] * q[:, i]
        else:
            r[:j, j] = q[:, :j].T @ a[:, j]
            v -= q[:, :j] @ r[:j, j]
        r[j, j] = np.linalg.norm(v)
        if r[j, j] == 0.0:
            raise SkipCell(
                f"column {j + 1} is exactly a combination of the previous ones: Gram-Schmidt "
                "breaks down; use scipy-qr (Householder)"
            )
        q[:, j] = v / r[j, j]
    return q, r


def _classical_gram_schmidt(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    q, r = gram_schmidt(x, modified=False)
    return {"Q": q, "R": r}


def _modified_gram_schmidt(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    q, r = gram_schmidt(x, modified=True)
    return {"Q": q, "R": r}


NOT_SPD = "not symmetric positive definite: Cholesky needs an SPD matrix; use an LU"


def _scipy_cholesky(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    if not np.allclose(x, x.T, rtol=0.0, atol=100 * np.finfo(x.dtype).eps * np.abs(x).max()):
        raise SkipCell(NOT_SPD)
    try:
        lower = scipy.linalg.cholesky(x, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise SkipCell(NOT_SPD) from None
    return {"L": lower, "U": lower.T}


def _torch_cholesky(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    import torch

    tol = 100 * torch.finfo(x.dtype).eps * float(x.abs().max())
    if not torch.allclose(x, x.mT, rtol=0.0, atol=tol):
        raise SkipCell(NOT_SPD)
    lower, info = torch.linalg.cholesky_ex(x)
    if bool((info != 0).any()):
        raise SkipCell(NOT_SPD)
    return {"L": lower, "U": lower.mT}


@dataclass(frozen=True, kw_only=True)
class RandomizedSVD:
    """Budget of a randomized SVD: `oversample` extra sketch columns (q = k + oversample) and
    `niter` power (subspace) iterations; more of either costs time and buys accuracy."""

    oversample: int = 10
    niter: int = 2

    def __post_init__(self) -> None:
        for name in ("oversample", "niter"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise NNBenchError(f"{name} must be an integer >= 0", f"set e.g. {name}=2")


def _torch_rsvd(x: Any, rank: int | None, seed: int, config: RandomizedSVD) -> Raw:
    import torch

    k = int(rank or 1)
    torch.manual_seed(seed % 2**63)  # svd_lowrank draws its sketch from the global generator
    q = min(k + config.oversample, *x.shape)
    u, s, v = torch.svd_lowrank(x, q=q, niter=config.niter)
    return {"left": u[:, :k] * s[:k], "right": v[:, :k].mT}


@dataclass(frozen=True, kw_only=True)
class Krylov:
    """Budget of `svds`: convergence tolerance `tol` (0: machine precision) and `maxiter`."""

    tol: float = 0.0
    maxiter: int | None = None

    def __post_init__(self) -> None:
        if not self.tol >= 0:
            raise NNBenchError("tol must be >= 0", "set e.g. tol=1e-6 (0: machine precision)")
        if self.maxiter is not None and not (isinstance(self.maxiter, int) and self.maxiter > 0):
            raise NNBenchError("maxiter must be a positive integer", "set e.g. maxiter=100")


DEFAULT_MAXITER: dict[str, Callable[[tuple[int, ...], int], int | None]] = {
    "arpack": lambda shape, k: None,  # scipy's: 10 min(m, n) restarts
    # scipy's 10 k Lanczos steps did not converge on 32x32 Gaussian matrices at k = 1 or on
    # 256x256 at k = 5 (measured); a Krylov space as large as the matrix always holds them
    "propack": lambda shape, k: min(shape),
    "lobpcg": lambda shape, k: None,  # scipy's: 20
}


@dataclass(frozen=True)
class Svds:
    """`scipy.sparse.linalg.svds` with one solver (a picklable call: variants travel whole to
    worker processes)."""

    solver: str

    def __call__(self, x: np.ndarray, rank: int | None, seed: int, config: Krylov) -> Raw:
        from scipy.sparse.linalg import svds

        k = int(rank or 1)
        maxiter = config.maxiter or DEFAULT_MAXITER[self.solver](x.shape, k)
        u, s, vt = svds(
            x, k=k, solver=self.solver, tol=config.tol, maxiter=maxiter,
            rng=np.random.default_rng(seed),
        )  # fmt: skip
        order = np.argsort(s)[::-1]  # ARPACK returns them ascending
        return {"left": u[:, order] * s[order], "right": vt[order]}


FULL_RANK = Requirements(without=frozenset({"singular"}))


class LibraryMethod(Method):
    """A classical factorization: one library call (or the textbook loop), timed as is.
    `config` holds its budget options; what it needs of its input beyond the common rules is
    declared (`square_only`, `tall_only`, `rank_below_min`, `requires`: see `Method`)."""

    def __init__(
        self,
        name: str,
        kind: str,
        call: Callable[[Any, int | None, int, Any], Raw],
        description: str,
        *,
        backend: str = "numpy",
        square_only: bool = False,
        tall_only: bool = False,
        rank_below_min: bool = False,
        requires: Requirements = ANY_MATRIX,
        optimal: bool = False,
        structure_cond_power: int = 0,
        config: Any = None,
        batchable: bool = False,
    ) -> None:
        self.name, self.kind, self.call, self.description = name, kind, call, description
        self.backend, self.config, self.batchable = backend, config, batchable
        self.square_only, self.tall_only = square_only, tall_only
        self.rank_below_min, self.requires = rank_below_min, requires
        self.optimal, self.structure_cond_power = optimal, structure_cond_power

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        return self.call(x, rank, seed, self.config)


CLASSICAL_METHODS: tuple[LibraryMethod, ...] = (
    LibraryMethod(
        "doolittle",
        "lu",
        _doolittle,
        "textbook LU without pivoting, unit-lower L (the unique reference)",
        square_only=True,
        requires=Requirements(without=frozenset({"needs_pivoting"})),  # a zero pivot
    ),
    LibraryMethod(
        "scipy-lu", "lu", _scipy_lu, "scipy.linalg.lu, partial pivoting (A = P L U)",
        square_only=True,
    ),
    LibraryMethod(
        "scipy-cholesky", "lu", _scipy_cholesky, "scipy.linalg.cholesky: A = L L^T (SPD only)",
        square_only=True, requires=SPD,
    ),
    LibraryMethod("scipy-qr", "qr", _scipy_qr, "scipy.linalg.qr, Householder, economic"),
    LibraryMethod(
        "gram-schmidt", "qr", _classical_gram_schmidt,
        "classical Gram-Schmidt (study 003), loses orthogonality like cond^2 eps",
        tall_only=True, requires=FULL_RANK, structure_cond_power=2,
    ),
    LibraryMethod(
        "gram-schmidt-modified", "qr", _modified_gram_schmidt,
        "modified Gram-Schmidt, loses orthogonality like cond eps",
        tall_only=True, requires=FULL_RANK, structure_cond_power=1,
    ),
    LibraryMethod("scipy-svd", "svd", _scipy_svd, "scipy.linalg.svd (gesdd), thin"),
    LibraryMethod(
        "scipy-tsvd",
        "rank-k",
        _scipy_tsvd,
        "rank-k truncation of scipy's full SVD: the Eckart-Young optimum",
        optimal=True,
    ),
    LibraryMethod(
        "scipy-svds-arpack", "rank-k", Svds("arpack"),
        "scipy.sparse.linalg.svds, ARPACK (implicitly restarted Lanczos)",
        config=Krylov(), rank_below_min=True,
    ),
    LibraryMethod(
        "scipy-svds-propack", "rank-k", Svds("propack"),
        "scipy.sparse.linalg.svds, PROPACK (Lanczos bidiagonalization)", config=Krylov(),
    ),
    LibraryMethod(
        "scipy-svds-lobpcg", "rank-k", Svds("lobpcg"),
        "scipy.sparse.linalg.svds, LOBPCG (block preconditioned CG)",
        config=Krylov(), rank_below_min=True,
    ),
    LibraryMethod(
        "torch-lu", "lu", _torch_lu, "torch.linalg.lu, partial pivoting (A = P L U)",
        backend="torch", batchable=True, square_only=True,
    ),
    LibraryMethod(
        "torch-cholesky", "lu", _torch_cholesky, "torch.linalg.cholesky: A = L L^T (SPD only)",
        backend="torch", batchable=True, square_only=True, requires=SPD,
    ),
    LibraryMethod(
        "torch-qr", "qr", _torch_qr, "torch.linalg.qr, reduced", backend="torch", batchable=True
    ),
    LibraryMethod(
        "torch-svd", "svd", _torch_svd, "torch.linalg.svd, thin", backend="torch", batchable=True
    ),
    LibraryMethod(
        "torch-tsvd", "rank-k", _torch_tsvd, "rank-k truncation of torch.linalg.svd",
        backend="torch", optimal=True,
    ),
    LibraryMethod(
        "torch-rsvd", "rank-k", _torch_rsvd,
        "torch.svd_lowrank: randomized SVD, q = k + oversample, niter power iterations",
        backend="torch", config=RandomizedSVD(),
    ),
    *(
        LibraryMethod(name, "precond", call, description, square_only=True, requires=requires)
        for name, call, description, requires in PRECONDITIONERS
    ),
    LibraryMethod(
        "sketch-gaussian", "rank-k", random_sketch_method("gaussian"),
        "sketch-and-solve: best rank-k within the row space of S A, S Gaussian (rows = 2k)",
        backend="torch", config=Sketch(),
    ),
    LibraryMethod(
        "sketch-countsketch", "rank-k", random_sketch_method("countsketch"),
        "sketch-and-solve with a CountSketch S (one +-1 per column, rows = 2k)",
        backend="torch", config=Sketch(),
    ),
)  # fmt: skip
