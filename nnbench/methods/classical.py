"""Classical factorizations: scipy (CPU), torch.linalg (any device), the textbook algorithms
of studies 003/004 (Doolittle LU, classical and modified Gram-Schmidt), Cholesky, and the
rank-k methods a practitioner would pick: randomized SVD (Halko, Martinsson & Tropp 2011) and
Krylov/Lanczos `svds` (ARPACK, PROPACK, LOBPCG).

Each is one line of `CLASSICAL_METHODS` with up to three functions, so that the timed region
is the library's call alone (`lu_factor`, `cholesky_ex`, ...; a textbook loop is its own call):
`check(a)` declines an input before timing (e.g. Cholesky's symmetry check), the timed
`call(x, rank, seed, config)` returns the library's output (as is, or named where it is the
factors: QR, SVD), and `assemble(output, rank)` turns it into factors by name after timing
(P, L and U from a packed LU and its pivots; a truncation to rank k), or declines the input
when the library's own status says so.
`config` holds a method's budget options (see `variants`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import torch  # (loaded with `sketch` anyway)

from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods.base import (
    ANY_MATRIX,
    Cost,
    CostModel,
    LibraryOutput,
    Method,
    Raw,
    Requirements,
)
from nnbench.methods.preconditioners import PRECONDITIONERS, SPD, spd_only
from nnbench.methods.sketch import (
    PCASketch,
    PCASketchMethod,
    PowerSketch,
    Sketch,
    power_sketch_cost,
    random_sketch_cost,
    random_sketch_method,
    sketch_power,
)

Call = Callable[[Any, int | None, int, Any], Any]
"""The timed work: `(x, rank, seed, config) ->` the library's output, as it returned it."""
Assemble = Callable[[Any, int | None], Raw]
"""After timing: `(the call's output, rank) ->` factors by field name; may raise SkipCell."""
Check = Callable[[np.ndarray], None]
"""Before timing: raises SkipCell for an input (a matrix or a stack) the method declines."""


def _as_returned(output: Raw, rank: int | None) -> Raw:
    """The assembly of a call that returns its factors by name (a textbook loop's)."""
    return output


def _any_input(a: np.ndarray) -> None:
    """The check of a method that declines nothing before its call."""


def _truncated_svd(svd: Raw, rank: int | None) -> Raw:
    """The best rank-k approximation from a thin SVD's factors (numpy or torch)."""
    u, s, vt = svd["U"], svd["s"], svd["Vt"]
    return {"left": u[:, :rank] * s[:rank], "right": vt[:rank]}


def _doolittle(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    """`elimination.doolittle_lu`'s factors (to rounding) by the compiled blocked kernel: the
    same zero-pivot test (n eps max|a_ij|), the same SkipCell."""
    from nnbench.methods.compiled import blocked_lu_no_pivoting  # numba: loaded where used

    zero = x.shape[0] * np.finfo(x.dtype).eps * float(np.abs(x).max(initial=0.0))
    packed, broke = blocked_lu_no_pivoting(x, zero)
    if broke >= 0:
        raise SkipCell(
            f"zero pivot at step {broke + 1}: no LU without pivoting exists; "
            "use scipy-lu or torch-lu (partial pivoting)"
        )
    n = x.shape[0]
    return {"L": np.tril(packed, -1) + np.eye(n, dtype=x.dtype), "U": np.triu(packed)}


def _scipy_lu(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Any:
    return scipy.linalg.lu_factor(x, check_finite=False)


def _lapack_plu(output: tuple[np.ndarray, np.ndarray], rank: int | None) -> Raw:
    """P, L, U with A = P L U from LAPACK getrf's packed LU (L unit lower below the
    diagonal, U on and above it) and its 0-based row interchanges (row i with piv[i], in
    order), as `scipy.linalg.lu` returns them: C-ordered, P in the factors' dtype."""
    lu, piv = output
    m, n = lu.shape
    k = min(m, n)
    rows = np.arange(m)  # A[rows] = L U
    for i, j in enumerate(piv.tolist()):
        rows[i], rows[j] = rows[j], rows[i]
    p = np.zeros((m, m), dtype=lu.dtype)
    p[rows, np.arange(m)] = 1
    lower = np.tril(lu[:, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    upper = np.triu(lu[:k])
    return {"P": p, "L": np.ascontiguousarray(lower), "U": np.ascontiguousarray(upper)}


# QR and SVD need no assembly: their calls name the factors (a dict costs the call ~0.1 us)
def _scipy_qr(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    q, r = scipy.linalg.qr(x, mode="economic", check_finite=False)
    return {"Q": q, "R": r}


def _scipy_svd(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    u, s, vt = scipy.linalg.svd(x, full_matrices=False, check_finite=False)
    return {"U": u, "s": s, "Vt": vt}


def _torch_lu(x: Any, rank: int | None, seed: int, config: Any) -> Any:
    return torch.linalg.lu_factor_ex(x)


def _torch_plu(output: tuple[Any, Any, Any], rank: int | None) -> Raw:
    """P, L, U (stacked where the input was) from `lu_factor_ex`'s packed LU and pivots, as
    `torch.linalg.lu` returns them. A nonzero `info` is an exactly zero pivot of U, which
    `torch.linalg.lu` returns as well: the factors still rebuild A."""
    lu, pivots, _ = output
    p, lower, upper = torch.lu_unpack(lu, pivots)
    return {"P": p, "L": lower, "U": upper}


def _torch_qr(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    q, r = torch.linalg.qr(x, mode="reduced")
    return {"Q": q, "R": r}


def _torch_svd(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    u, s, vt = torch.linalg.svd(x, full_matrices=False)
    return {"U": u, "s": s, "Vt": vt}


def gram_schmidt(a: np.ndarray, *, modified: bool) -> tuple[np.ndarray, np.ndarray]:
    """QR of a tall or square matrix by Gram-Schmidt on its columns (study 003), compiled
    (`compiled.gram_schmidt_rows`): classical (each column against the original column) or
    modified (against the running remainder, one projection at a time). Both lose
    orthogonality on ill-conditioned input (classical like cond^2 * eps, modified like
    cond * eps): `structure_err` records how much."""
    from nnbench.methods.compiled import gram_schmidt_rows  # numba: loaded where used

    qt, r, broke = gram_schmidt_rows(np.ascontiguousarray(a.T), modified)
    if broke >= 0:
        raise SkipCell(
            f"column {broke + 1} is exactly a combination of the previous ones: Gram-Schmidt "
            "breaks down; use scipy-qr (Householder)"
        )
    return qt.T, r


def _classical_gram_schmidt(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    q, r = gram_schmidt(x, modified=False)
    return {"Q": q, "R": r}


def _modified_gram_schmidt(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Raw:
    q, r = gram_schmidt(x, modified=True)
    return {"Q": q, "R": r}


NOT_SPD = "not symmetric positive definite: Cholesky needs an SPD matrix; use an LU"


def _symmetric_only(a: np.ndarray) -> None:
    """Cholesky reads one triangle only, and would factor a matrix that is not symmetric
    without complaint: decline one (or a stack with one) before timing."""
    tol = 100 * np.finfo(a.dtype).eps * np.abs(a).max()
    if not np.allclose(a, np.swapaxes(a, -1, -2), rtol=0.0, atol=tol):
        raise SkipCell(NOT_SPD)


def _scipy_cholesky(x: np.ndarray, rank: int | None, seed: int, config: Any) -> Any:
    try:
        return scipy.linalg.cho_factor(x, lower=True, check_finite=False)
    except np.linalg.LinAlgError:  # a non-positive pivot: the library's own SPD test
        raise SkipCell(NOT_SPD) from None


def _lapack_cholesky(output: tuple[np.ndarray, bool], rank: int | None) -> Raw:
    """L and U = L^T from `cho_factor`, which leaves A's entries above the diagonal; L
    column-major, as LAPACK (and `scipy.linalg.cholesky`) returns it."""
    c, _ = output
    lower = np.asfortranarray(np.tril(c))
    return {"L": lower, "U": lower.T}


def _torch_cholesky(x: Any, rank: int | None, seed: int, config: Any) -> Any:
    return torch.linalg.cholesky_ex(x)


def _torch_cholesky_factors(output: tuple[Any, Any], rank: int | None) -> Raw:
    """L and U = L^T from `cholesky_ex`, whose `info` (per matrix) is its SPD test."""
    lower, info = output
    if bool((info != 0).any()):
        raise SkipCell(NOT_SPD)
    return {"L": lower, "U": lower.mT}


@dataclass(frozen=True, kw_only=True)
class RandomizedSVD:
    """Budget of a randomized SVD: `oversample` extra sketch columns (q = k + oversample) and
    `niter` power (subspace) iterations; more of either costs time and buys accuracy."""

    oversample: int = 10
    niter: int = 4  # scikit-learn's randomized_svd: 4 (7 when k < n / 10); torch's own is 2

    def __post_init__(self) -> None:
        for name in ("oversample", "niter"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise NNBenchError(f"{name} must be an integer >= 0", f"set e.g. {name}=2")


def _seed_default_generator(device: torch.device, seed: int) -> None:
    """Seed the default generator of `device`'s type (the current one of its kind), which
    `svd_lowrank` draws its sketch from. (`torch.manual_seed` seeds every device's, at
    more than 100 us a call, longer than the whole call on a small input.)"""
    if device.type == "cpu":
        torch.default_generator.manual_seed(seed)
    else:
        torch.get_device_module(device).manual_seed(seed)


def _torch_rsvd(x: Any, rank: int | None, seed: int, config: RandomizedSVD) -> Any:
    _seed_default_generator(x.device, seed % 2**63)
    q = min(int(rank or 1) + config.oversample, *x.shape)
    return torch.svd_lowrank(x, q=q, niter=config.niter)


def _rsvd_factors(output: tuple[Any, Any, Any], rank: int | None) -> Raw:
    """The leading k of `svd_lowrank`'s q triplets (it returns V, not V^T)."""
    u, s, v = output
    k = int(rank or 1)
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

    def __call__(self, x: np.ndarray, rank: int | None, seed: int, config: Krylov) -> Any:
        from scipy.sparse.linalg import svds

        k = int(rank or 1)
        maxiter = config.maxiter or DEFAULT_MAXITER[self.solver](x.shape, k)
        counted = CountingOperator(x)
        u, s, vt = svds(
            counted.operator, k=k, solver=self.solver, tol=config.tol, maxiter=maxiter,
            rng=np.random.default_rng(seed),
        )  # fmt: skip
        return u, s, vt, counted.passes


class CountingOperator:
    """A as the `LinearOperator` svds would make of it (`aslinearoperator`), counting its
    products with A and A^T (a block of vectors at once counts once): the passes over A a
    Krylov solver made, which scipy does not report. Its cost is an integer increment per
    product, beside the product itself."""

    def __init__(self, a: np.ndarray) -> None:
        from scipy.sparse.linalg import LinearOperator

        self.a, self.passes = a, 0
        self.operator = LinearOperator(
            a.shape, matvec=self._mv, rmatvec=self._rmv, matmat=self._mv, rmatmat=self._rmv,
            dtype=a.dtype,
        )  # fmt: skip

    def _mv(self, v: np.ndarray) -> np.ndarray:
        self.passes += 1
        return self.a @ v

    def _rmv(self, v: np.ndarray) -> np.ndarray:
        self.passes += 1
        return self.a.T @ v


def _svds_factors(output: tuple[Any, ...], rank: int | None) -> Raw:
    u, s, vt, passes = output
    order = np.argsort(s)[::-1]  # ARPACK returns them ascending
    return {"left": u[:, order] * s[order], "right": vt[order], "passes": passes}


def _dense_svd_cost(shape: tuple[int, int], rank: int, config: Any) -> Cost:
    """A full thin SVD: no passes (A is factored in memory); a copy of A and U, s, V^T."""
    m, n = shape
    p = min(m, n)
    return Cost(memory_floats=m * n + m * p + p + p * n)


def _rsvd_cost(shape: tuple[int, int], rank: int, config: RandomizedSVD) -> Cost:
    """`svd_lowrank` with l = k + oversample columns and q = niter: A R, then q times A^T Q
    and A Q, then B = Q^T A: 2q + 2 passes; Q (m x l), B (l x n) and B's SVD."""
    m, n = shape
    sketch = min(rank + config.oversample, m, n)
    memory = m * sketch + 2 * sketch * n + sketch**2 + sketch
    return Cost(passes=2 * config.niter + 2, memory_floats=memory)


def _svds_cost(solver: str) -> CostModel:
    """Krylov `svds`: passes counted as it runs (`CountingOperator`), not modelled; memory to
    order, p = min(m, n): ARPACK's ncv = max(2k + 1, 20) Lanczos vectors of length p and its
    ncv^2 projection; PROPACK's bases of A's two sides, maxiter (default p) columns each;
    LOBPCG's six p x k blocks (X, R, P and their products) and its 3k x 3k Gram matrix; each
    plus the k triplets returned."""

    def cost(shape: tuple[int, int], rank: int, config: Krylov) -> Cost:
        m, n = shape
        p = min(m, n)
        ncv = min(p, max(2 * rank + 1, 20))
        steps = config.maxiter or p
        working = {
            "arpack": ncv * p + ncv**2,
            "propack": (m + n) * min(steps, p),
            "lobpcg": 6 * p * rank + (3 * rank) ** 2,
        }[solver]
        return Cost(memory_floats=working + (m + n + 1) * rank)

    cost.__qualname__ = f"svds_cost_{solver}"
    return cost


def _nonzero_diagonal(a: np.ndarray) -> None:
    """The closed forms divide by a_jj (j < n: the last column of tril(A, -1) is empty)."""
    if np.any(np.diagonal(a, axis1=-2, axis2=-1)[..., :-1] == 0):
        raise SkipCell("a zero diagonal entry: the closed form divides by it; use torch-lu")


def _symmetric_positive_diagonal(a: np.ndarray) -> None:
    """The closed-form Cholesky divides by sqrt(a_jj): an SPD matrix has a_jj > 0."""
    _symmetric_only(a)
    if np.any(np.diagonal(a, axis1=-2, axis2=-1) <= 0):
        raise SkipCell(NOT_SPD)


def closed_form_lu(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    """L = I + tril(A, -1) diag(A)^-1, U = triu(A) (stacked where A is): elimination's first
    step's shape for every column at once, no pivoting, no iteration."""
    eye = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    pivots = torch.diagonal(x, dim1=-2, dim2=-1)
    return {"L": eye + torch.tril(x, -1) / pivots[..., None, :], "U": torch.triu(x)}


def closed_form_cholesky(x: Any, rank: int | None, seed: int, config: Any) -> Raw:
    """L = tril(A) diag(A)^(-1/2) (column j of tril(A) over sqrt(a_jj)), U = L^T."""
    lower = torch.tril(x) / torch.diagonal(x, dim1=-2, dim2=-1).sqrt()[..., None, :]
    return {"L": lower, "U": lower.mT}


FULL_RANK = Requirements(without=frozenset({"singular"}))


class LibraryMethod(Method):
    """A classical factorization whose timed `compute` is one library call (or the textbook
    loop) and nothing else: `check` declines inputs in `prepare`, before timing, and
    `assemble` makes the factors from the call's output in `finish`, after it (see the
    module's docstring). `config` holds its budget options; what it needs of its input beyond
    the common rules is declared (`square_only`, `tall_only`, `rank_below_min`, `requires`:
    see `Method`)."""

    def __init__(
        self,
        name: str,
        kind: str,
        call: Call,
        description: str,
        *,
        assemble: Assemble = _as_returned,
        check: Check = _any_input,
        backend: str = "numpy",
        square_only: bool = False,
        tall_only: bool = False,
        rank_below_min: bool = False,
        requires: Requirements = ANY_MATRIX,
        optimal: bool = False,
        structure_cond_power: int = 0,
        config: Any = None,
        batchable: bool = False,
        cost_model: CostModel | None = None,
        approximate: bool = False,
        takes_sparse: bool = False,
    ) -> None:
        self.name, self.kind, self.call, self.description = name, kind, call, description
        self.assemble, self.check = assemble, check
        self.backend, self.config, self.batchable = backend, config, batchable
        self.square_only, self.tall_only = square_only, tall_only
        self.rank_below_min, self.requires = rank_below_min, requires
        self.optimal, self.structure_cond_power = optimal, structure_cond_power
        self.cost_model, self.approximate = cost_model, approximate
        self.takes_sparse = takes_sparse

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        self.check(a)
        return super().prepare(a, device=device)

    def compute(self, x: Any, *, rank: int | None, seed: int) -> LibraryOutput:
        return LibraryOutput(self.call(x, rank, seed, self.config), rank, self.assemble)


SKETCH_PCA = PCASketchMethod(
    "sketch-pca",
    "sketch-and-solve with S = the top 2k left singular vectors of amortized-sketch's training "
    "matrices side by side (512 crops of bundled photos, one SVD, no gradient steps)",
    PCASketch(),
)


CLASSICAL_METHODS: tuple[Method, ...] = (
    LibraryMethod(
        "doolittle",
        "lu",
        _doolittle,
        "textbook LU without pivoting, unit-lower L (the unique reference)",
        square_only=True,
        requires=Requirements(without=frozenset({"needs_pivoting"})),  # a zero pivot
    ),
    LibraryMethod(
        "scipy-lu", "lu", _scipy_lu, "scipy.linalg.lu_factor, partial pivoting (A = P L U)",
        assemble=_lapack_plu, square_only=True,
    ),
    LibraryMethod(
        "scipy-cholesky", "lu", _scipy_cholesky, "scipy.linalg.cho_factor: A = L L^T (SPD only)",
        assemble=_lapack_cholesky, check=_symmetric_only, square_only=True, requires=SPD,
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
        "scipy-tsvd", "rank-k", _scipy_svd,
        "rank-k truncation of scipy's full SVD: the Eckart-Young optimum",
        assemble=_truncated_svd, optimal=True, cost_model=_dense_svd_cost,
    ),
    LibraryMethod(
        "scipy-svds-arpack", "rank-k", Svds("arpack"),
        "scipy.sparse.linalg.svds, ARPACK (implicitly restarted Lanczos)",
        assemble=_svds_factors, config=Krylov(), rank_below_min=True,
        cost_model=_svds_cost("arpack"),
    ),
    LibraryMethod(
        "scipy-svds-propack", "rank-k", Svds("propack"),
        "scipy.sparse.linalg.svds, PROPACK (Lanczos bidiagonalization)",
        assemble=_svds_factors, config=Krylov(), cost_model=_svds_cost("propack"),
    ),
    LibraryMethod(
        "scipy-svds-lobpcg", "rank-k", Svds("lobpcg"),
        "scipy.sparse.linalg.svds, LOBPCG (block preconditioned CG)",
        assemble=_svds_factors, config=Krylov(), rank_below_min=True,
        cost_model=_svds_cost("lobpcg"),
    ),
    LibraryMethod(
        "torch-lu", "lu", _torch_lu, "torch.linalg.lu_factor_ex, partial pivoting (A = P L U)",
        assemble=_torch_plu, backend="torch", batchable=True, square_only=True,
    ),
    LibraryMethod(
        "torch-cholesky", "lu", _torch_cholesky, "torch.linalg.cholesky_ex: A = L L^T (SPD only)",
        assemble=_torch_cholesky_factors, check=_symmetric_only,
        backend="torch", batchable=True, square_only=True, requires=SPD,
    ),
    LibraryMethod(
        "closed-form-lu", "lu", closed_form_lu,
        "one-step closed form, no pivoting: L = I + tril(A, -1) diag(A)^-1, U = triu(A)",
        check=_nonzero_diagonal, backend="torch", batchable=True, square_only=True,
        requires=Requirements(without=frozenset({"needs_pivoting"})), approximate=True,
    ),
    LibraryMethod(
        "closed-form-cholesky", "lu", closed_form_cholesky,
        "one-step closed form (SPD): L = tril(A) diag(A)^(-1/2), i.e. l_ij = a_ij / sqrt(a_jj) "
        "for i >= j, U = L^T",
        check=_symmetric_positive_diagonal, backend="torch", batchable=True, square_only=True,
        requires=SPD, approximate=True,
    ),
    LibraryMethod(
        "torch-qr", "qr", _torch_qr, "torch.linalg.qr, reduced", backend="torch", batchable=True
    ),
    LibraryMethod(
        "torch-svd", "svd", _torch_svd, "torch.linalg.svd, thin", backend="torch", batchable=True
    ),
    LibraryMethod(
        "torch-tsvd", "rank-k", _torch_svd, "rank-k truncation of torch.linalg.svd",
        assemble=_truncated_svd, backend="torch", optimal=True, cost_model=_dense_svd_cost,
    ),
    LibraryMethod(
        "torch-rsvd", "rank-k", _torch_rsvd,
        "torch.svd_lowrank: randomized SVD, q = k + oversample, niter power iterations",
        assemble=_rsvd_factors, backend="torch", config=RandomizedSVD(),
        cost_model=_rsvd_cost,
    ),
    *(
        LibraryMethod(
            p.name, "precond", p.call, p.description,
            check=spd_only, square_only=True, requires=p.requires, takes_sparse=p.sparse,
        )
        for p in PRECONDITIONERS
    ),
    LibraryMethod(
        "sketch-gaussian", "rank-k", random_sketch_method("gaussian"),
        "sketch-and-solve: best rank-k within the row space of S A, S Gaussian (rows = 2k)",
        backend="torch", config=Sketch(), cost_model=random_sketch_cost,
    ),
    LibraryMethod(
        "sketch-countsketch", "rank-k", random_sketch_method("countsketch"),
        "sketch-and-solve with a CountSketch S (one +-1 per column, rows = 2k)",
        backend="torch", config=Sketch(), cost_model=random_sketch_cost,
    ),
    LibraryMethod(
        "sketch-power", "rank-k", sketch_power,
        "sketch-and-solve within the row space of S (A A^T)^q A, S Gaussian as sketch-gaussian's "
        "(rows = 2k), q = 1 power iteration (2q + 2 passes)",
        backend="torch", config=PowerSketch(), cost_model=power_sketch_cost,
    ),
    SKETCH_PCA,
)  # fmt: skip
