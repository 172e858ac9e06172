"""Metrics: pure functions of a matrix and its factorization, and their registry.

All arithmetic is float64 on the factors the method returned (a float32 method is judged by
what its float32 factors represent). `MetricInput` holds what several metrics share, computed
once per cell: the reference matrix, the reconstruction and the singular values.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Literal

import numpy as np
import scipy.linalg

from nnbench.errors import SkipCell
from nnbench.methods.classical import doolittle_lu
from nnbench.methods.factorization import (
    Factorization,
    LowRankFactorization,
    LUFactorization,
    MatMul,
    PreconditionerFactorization,
)

NAN = float("nan")
_SAFE_SQUARES = (1e-290, 1e290)  # a sum of squares here neither underflowed nor overflowed


# -- array-level functions (what the hypothesis tests exercise) -----------------------------


def norm_fro(m: np.ndarray) -> float:
    """Frobenius norm, scaled first so that tiny or huge entries neither underflow nor overflow
    (only when the plain sum of squares, one BLAS dot, did)."""
    flat = np.ravel(m)
    squares = float(flat @ flat) if flat.dtype == np.float64 else NAN
    if _SAFE_SQUARES[0] < squares < _SAFE_SQUARES[1]:
        return float(np.sqrt(squares))
    scale = float(np.abs(m).max(initial=0.0))
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    return scale * float(np.linalg.norm(m / scale))


LANCZOS_FROM = 512  # min(m, n) from which a 2-norm comes from Lanczos, not a dense SVD
LANCZOS_TOL = 1e-10  # ARPACK's relative tolerance on the Ritz value


def norm_2(m: np.ndarray) -> float:
    """Spectral norm; inf for a matrix with non-finite entries (LAPACK cannot take it).

    From min(m, n) = `LANCZOS_FROM` on, it is the square root of the largest eigenvalue of
    the Gram matrix of M / ||M||_F (M^T M or M M^T, the smaller), by Lanczos (ARPACK's
    `eigsh`, tolerance `LANCZOS_TOL`): O(mn) per iteration instead of a dense SVD's
    O(mn min(m, n)). The scaling matters: ARPACK's test is relative only for Ritz values above
    eps^(2/3), so on an unscaled rounding-level residual (Gram eigenvalues ~1e-32) it
    stopped after its first 20 vectors, 4e-3 short on an SPD matrix's LU residual. Accuracy,
    measured against the dense SVD on the LU, QR, Cholesky, randomized-SVD and sketch
    residuals of nine families at n = 512 and 1024: relative difference at most 2.1e-15
    (`tests/test_metrics.py` holds it to 1e-12). A dense SVD answers if ARPACK does not
    converge."""
    if not m.size:
        return 0.0
    if not np.all(np.isfinite(m)):
        return float("inf")
    if min(m.shape) < LANCZOS_FROM:
        return float(np.linalg.norm(m, 2))
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    scale = norm_fro(m)
    if scale == 0.0:
        return 0.0
    unit = m / scale  # the largest Gram eigenvalue is then in [1 / min(m, n), 1]
    tall = m.shape[0] >= m.shape[1]
    side = m.shape[1] if tall else m.shape[0]

    def gram(v: np.ndarray) -> np.ndarray:
        return unit.T @ (unit @ v) if tall else unit @ (unit.T @ v)

    operator = LinearOperator((side, side), matvec=gram, dtype=np.float64)
    try:
        top = eigsh(
            operator,
            k=1,
            tol=LANCZOS_TOL,
            v0=np.ones(side),  # deterministic
            return_eigenvectors=False,
        )
    except ArpackNoConvergence:
        return float(np.linalg.norm(m, 2))
    return scale * float(np.sqrt(max(float(top[0]), 0.0)))


def rel_err_2(a: np.ndarray, approx: np.ndarray) -> float:
    """||A - approx||_2 / ||A||_2 (0/0 = 0, x/0 = inf)."""
    return _ratio(norm_2(a - approx), norm_2(a))


def rel_err_fro(a: np.ndarray, approx: np.ndarray) -> float:
    return _ratio(norm_fro(a - approx), norm_fro(a))


def _ratio(num: float, den: float) -> float:
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den


def opt_err_2(sigma: np.ndarray, k: int) -> float:
    """Eckart-Young: the least ||A - A_k||_2 / ||A||_2 of any rank-k matrix, sigma_{k+1}/sigma_1."""
    if sigma.size == 0 or sigma[0] == 0.0:
        return 0.0
    return float(sigma[k] / sigma[0]) if k < sigma.size else 0.0


def opt_err_fro(sigma: np.ndarray, k: int) -> float:
    """Eckart-Young in Frobenius norm: sqrt(sum_{i>k} sigma_i^2) / ||A||_F."""
    total = float(np.sqrt(np.sum(sigma**2)))
    return _ratio(float(np.sqrt(np.sum(sigma[k:] ** 2))), total) if total else 0.0


def error_floor(shape: tuple[int, ...], dtype: str) -> float:
    """The relative error rounding alone can cause: max(m, n) * eps(dtype)."""
    return max(shape) * float(np.finfo(dtype).eps)


def error_ratio(achieved: float, optimum: float, floor: float) -> float:
    """achieved / optimum, both raised to the rounding floor first, so an exact rank-k input
    (optimum 0) gives 1 for an approximation at rounding level and > 1 above it."""
    return max(achieved, floor) / max(optimum, floor)


def numerical_rank(m: np.ndarray, dtype: str) -> int:
    """Singular values above max(m, n) * eps(dtype) * sigma_1 (numpy's matrix_rank rule)."""
    if m.size == 0:
        return 0
    s = np.linalg.svd(m.astype(np.float64), compute_uv=False)
    return rank_of(s, m.shape, dtype)


def rank_of(sigma: np.ndarray, shape: tuple[int, ...], dtype: str) -> int:
    """`numerical_rank` from singular values already known."""
    if not sigma.size or sigma[0] <= 0:
        return 0
    return int(np.sum(sigma > error_floor(shape, dtype) * sigma[0]))


RANK_MARGIN = 16.0  # x eps(float64) sqrt(max(m, n)) sigma_1: the dense SVD's own rounding


def certified_rank(
    sigma: np.ndarray, error_bound: float, shape: tuple[int, ...], dtype: str
) -> int | None:
    """`numerical_rank` of an approximation B of A from A's singular values alone, when
    Weyl's inequality decides it: |sigma_i(B) - sigma_i(A)| <= ||A - B||_2 <= `error_bound`
    (e.g. ||A - B||_F), so each sigma_i(B) lies in an interval around sigma_i(A), and so
    does the tolerance max(m, n) eps(dtype) sigma_1(B). When every interval lies wholly above
    or below the tolerance's, the rank is the count above; otherwise None (ask the SVD). The
    intervals are widened by `RANK_MARGIN` for the rounding of the SVDs themselves."""
    if not sigma.size or not np.isfinite(error_bound):
        return None
    rounding = RANK_MARGIN * float(np.finfo(np.float64).eps) * np.sqrt(max(shape))
    e = error_bound + rounding * float(sigma[0])
    floor = error_floor(shape, dtype)
    lowest, highest = floor * (sigma[0] - e), floor * (sigma[0] + e)
    above = sigma - e > highest
    below = sigma + e <= lowest
    if lowest <= 0.0 or not np.all(above | below):
        return None
    return int(np.sum(above))


def rank_k_spectrum(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Singular values of left @ right (m x k times k x n) without forming it: with
    left = Q_l R_l and right^T = Q_r R_r, left @ right = Q_l (R_l R_r^T) Q_r^T, whose singular
    values are those of the k x k core. O((m + n) k^2) instead of an SVD of an m x n matrix."""
    _, r_left = np.linalg.qr(left.astype(np.float64))
    _, r_right = np.linalg.qr(right.T.astype(np.float64))
    return np.linalg.svd(r_left @ r_right.T, compute_uv=False)


def _numpy_svdvals(a: np.ndarray) -> np.ndarray:
    return np.linalg.svd(a, compute_uv=False) if a.size else np.zeros(0)


@dataclass(frozen=True)
class Linalg:
    """Where a cell's O(n^3) evaluation work runs (the products behind reconstructions and
    orthogonality, and singular values): numpy on the CPU, or torch in float64 on the device
    the method ran on, so that evaluating a GPU cell costs GPU time, not minutes of CPU."""

    name: str
    matmul: MatMul
    svdvals: Callable[[np.ndarray], np.ndarray]
    slogdet: Callable[[np.ndarray], tuple[float, float]]
    doolittle: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # SkipCell: zero pivot


def blocked_doolittle(a: np.ndarray, block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """`doolittle_lu`'s factors and zero-pivot rule by blocked elimination (panels of `block`
    columns, then one triangular solve and one product per panel): the same O(n^3) work in
    BLAS-3 calls instead of n rank-1 updates (the metric's reference, not the method)."""
    n = a.shape[0]
    u = np.array(a, dtype=np.float64)
    zero = n * np.finfo(np.float64).eps * float(np.abs(u).max(initial=0.0))
    for k0 in range(0, n, block):
        k1 = min(k0 + block, n)
        for j in range(k0, k1):
            if j < n - 1 and abs(u[j, j]) <= zero:
                raise SkipCell(f"zero pivot at step {j + 1}: no LU without pivoting exists")
            u[j + 1 :, j] /= u[j, j]
            u[j + 1 :, j + 1 : k1] -= np.outer(u[j + 1 :, j], u[j, j + 1 : k1])
        if k1 < n:
            u[k0:k1, k1:] = scipy.linalg.solve_triangular(
                u[k0:k1, k0:k1], u[k0:k1, k1:], lower=True, unit_diagonal=True
            )
            u[k1:, k1:] -= u[k1:, k0:k1] @ u[k0:k1, k1:]
    return np.tril(u, -1) + np.eye(n), np.triu(u)


def lapack_doolittle(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`doolittle_lu`'s factors and zero-pivot rule, by LAPACK when it can: if partial
    pivoting exchanges no rows of `a` (as on P^T A for the P partial pivoting chose), LAPACK's
    LU is the LU without pivoting, which is unique; otherwise `blocked_doolittle`."""
    n = a.shape[0]
    if n < 2:
        return blocked_doolittle(a)
    with warnings.catch_warnings():  # an exactly zero pivot: the rule below decides
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        packed, pivots = scipy.linalg.lu_factor(a, check_finite=False)
    if not np.array_equal(pivots, np.arange(n)):
        return blocked_doolittle(a)
    zero = n * np.finfo(np.float64).eps * float(np.abs(a).max(initial=0.0))
    small = np.flatnonzero(np.abs(np.diag(packed))[:-1] <= zero)
    if small.size:
        raise SkipCell(f"zero pivot at step {small[0] + 1}: no LU without pivoting exists")
    return np.tril(packed, -1) + np.eye(n), np.triu(packed)


def _numpy_slogdet(a: np.ndarray) -> tuple[float, float]:
    sign, logdet = np.linalg.slogdet(a)
    return float(sign), float(logdet)


def _torch_linalg(device: str) -> Linalg:
    def to_device(m: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(np.ascontiguousarray(m, dtype=np.float64)).to(device)

    def matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (to_device(x) @ to_device(y)).cpu().numpy()

    def svdvals(a: np.ndarray) -> np.ndarray:
        import torch

        return torch.linalg.svdvals(to_device(a)).cpu().numpy() if a.size else np.zeros(0)

    def slogdet(a: np.ndarray) -> tuple[float, float]:
        import torch

        sign, logdet = torch.linalg.slogdet(to_device(a))
        return float(sign), float(logdet)

    def doolittle(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`doolittle_lu` (the same zero-pivot rule) by blocked elimination on the device."""
        import torch

        from nnbench.methods.trained.lu_layers import eliminate

        packed = eliminate(to_device(a))
        pivots = torch.diagonal(packed).abs()[:-1]
        zero = a.shape[0] * np.finfo(np.float64).eps * float(np.abs(a).max(initial=0.0))
        if not bool(torch.isfinite(packed).all()) or bool((pivots <= zero).any()):
            raise SkipCell("zero pivot: no LU without pivoting exists")
        eye = torch.eye(a.shape[0], dtype=packed.dtype, device=packed.device)
        lower, upper = torch.tril(packed, -1) + eye, torch.triu(packed)
        return lower.cpu().numpy(), upper.cpu().numpy()

    return Linalg(f"torch-{device}", matmul, svdvals, slogdet, doolittle)


LINALGS: dict[str, Linalg] = {
    "numpy": Linalg("numpy", np.matmul, _numpy_svdvals, _numpy_slogdet, lapack_doolittle),
    "torch-cpu": _torch_linalg("cpu"),
    "torch-cuda": _torch_linalg("cuda"),
}
EVALUATE_ON = {"cpu": "numpy", "cuda": "torch-cuda", "mps": "numpy"}  # mps has no float64
"""The `Linalg` that evaluates a cell, by the cell's device."""


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple):
        return sum(map(_nbytes, value))
    return 0


class InstanceCache:
    """What evaluation needs of a matrix instance alone (its singular values, its
    log-determinant, its Doolittle factors under a given row order), computed once per
    instance and shared by every method, rank and repeat that evaluates on it (in this
    process): keyed by the shape and a blake2b digest of the float64 values, so an edited
    matrix is a new instance. At most `size` values and `max_bytes` of arrays are kept (least
    recently used first out). `computed` counts the computations actually run, by quantity."""

    def __init__(self, size: int = 128, max_bytes: int = 1 << 30) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.computed: Counter[str] = Counter()
        self.seconds = 0.0  # spent computing (not looking up) values, in all
        self._values: OrderedDict[tuple[str, tuple[int, ...], str], Any] = OrderedDict()

    @staticmethod
    def digest(a: np.ndarray) -> str:
        """What identifies an instance: a blake2b digest of its float64 values."""
        a = np.ascontiguousarray(a, dtype=np.float64)
        return hashlib.blake2b(a.data, digest_size=16).hexdigest()

    def get(
        self,
        a: np.ndarray,
        what: str,
        compute: Callable[[np.ndarray], Any],
        *,
        digest: str | None = None,
    ) -> Any:
        """compute(a), once per (what, shape, digest); `digest` where the caller knows it
        (hashing an n = 1024 matrix costs a third of its LU)."""
        a = np.ascontiguousarray(a, dtype=np.float64)
        key = (what, a.shape, self.digest(a) if digest is None else digest)
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        start = time.perf_counter()
        value = compute(a)
        self.seconds += time.perf_counter() - start
        for array in value if isinstance(value, tuple) else (value,):
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
        self.computed[what] += 1
        self._values[key] = value
        while len(self._values) > self.size or (
            len(self._values) > 1 and sum(map(_nbytes, self._values.values())) > self.max_bytes
        ):
            self._values.popitem(last=False)
        return value

    def __call__(
        self,
        a: np.ndarray,
        svdvals: Callable[[np.ndarray], np.ndarray] = _numpy_svdvals,
        *,
        digest: str | None = None,
    ) -> np.ndarray:
        """The singular values of `a`."""
        return self.get(a, "sigma", svdvals, digest=digest)

    def clear(self) -> None:
        self._values.clear()


SPECTRA = InstanceCache()
"""The process's cache of what instances alone determine (`MetricInput.sigma`, `_det`)."""


def backward_error(
    a: np.ndarray, x: np.ndarray, b: np.ndarray, norm_a: float | None = None
) -> float:
    """Normwise (Rigal-Gaches) backward error ||b - A x|| / (||A|| ||x|| + ||b||), 2-norms
    (`norm_a`: ||A||_2 where already known)."""
    if not np.all(np.isfinite(x)):
        return float("inf")
    residual = float(np.linalg.norm(b - a @ x))
    norm_a = norm_2(a) if norm_a is None else norm_a
    return _ratio(residual, norm_a * float(np.linalg.norm(x)) + float(np.linalg.norm(b)))


CG_TOL = 1e-8  # relative residual at which conjugate gradients stops


def pcg_iterations(
    a: np.ndarray,
    b: np.ndarray,
    apply_inverse: Callable[[np.ndarray], np.ndarray],
    *,
    tol: float = CG_TOL,
    maxiter: int | None = None,
) -> int:
    """Iterations of preconditioned conjugate gradients on A x = b from x = 0 until
    ||b - A x|| <= tol ||b||; maxiter + 1 (default 10 n + 1) when it does not get there, or
    when the preconditioner is not positive definite (CG breaks down)."""
    limit = 10 * a.shape[0] if maxiter is None else maxiter
    x = np.zeros_like(b)
    r = b.copy()
    z = apply_inverse(r)
    p, rz = z.copy(), float(r @ z)
    target = tol * float(np.linalg.norm(b))
    for i in range(1, limit + 1):
        if not (np.isfinite(rz) and rz > 0):
            return limit + 1
        ap = a @ p
        alpha = rz / float(p @ ap)
        x += alpha * p
        r -= alpha * ap
        if float(np.linalg.norm(r)) <= target:
            return i
        z = apply_inverse(r)
        rz, previous = float(r @ z), rz
        p = z + (rz / previous) * p
    return limit + 1


def det_rel_err(reference: tuple[float, float], estimate: tuple[float, float]) -> float:
    """|det_est - det| / |det| from (sign, log|det|) pairs, without overflow; NaN if det = 0."""
    sign_ref, log_ref = reference
    sign_est, log_est = estimate
    if sign_ref == 0.0 or not np.isfinite(log_ref):
        return NAN
    if sign_est == 0.0 or not np.isfinite(log_est):
        return 1.0
    with np.errstate(over="ignore"):
        if sign_est == sign_ref:
            return float(abs(np.expm1(log_est - log_ref)))
        return float(1.0 + np.exp(log_est - log_ref))


def doolittle_factor_err(
    a: np.ndarray,
    fact: LUFactorization,
    doolittle: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = doolittle_lu,
    matmul: MatMul = np.matmul,
) -> float:
    """Distance of LU factors from the unique Doolittle factors of P^T A (unit-lower L).

    The factors are first rescaled to a unit-diagonal L (L D^-1, D U), so that any valid LU
    normalisation scores 0; the result is the larger relative Frobenius error of L and U."""
    pa = fact.unpermute_rows(a, matmul)
    try:
        ref_l, ref_u = doolittle(pa)
    except SkipCell:
        return NAN
    d = np.diag(fact.L).astype(np.float64)
    if np.any(d == 0.0):
        return float("inf")
    unit_l = fact.L.astype(np.float64) / d
    scaled_u = d[:, None] * fact.U.astype(np.float64)
    return max(rel_err_fro(ref_l, unit_l), rel_err_fro(ref_u, scaled_u))


# -- per-cell evaluation ----------------------------------------------------------------


@dataclass(frozen=True)
class MetricInput:
    """One cell's matrix (float64 copy of what the method saw) and its factorization."""

    a: np.ndarray
    fact: Factorization
    dtype: str
    rank: int | None = None
    linalg: str = "numpy"  # a key of LINALGS: where the O(n^3) work runs

    @property
    def la(self) -> Linalg:
        return LINALGS[self.linalg]

    @cached_property
    def instance(self) -> str:
        """`SPECTRA`'s digest of A, hashed once per cell."""
        return SPECTRA.digest(self.a)

    @cached_property
    def approx(self) -> np.ndarray:
        return self.fact.reconstruct(self.la.matmul)

    @cached_property
    def residual(self) -> np.ndarray:
        return self.a - self.approx

    @cached_property
    def residual_2(self) -> float:
        """||A - Â||_2, shared by rel_err_2 and ratio_2."""
        return norm_2(self.residual)

    @cached_property
    def residual_fro(self) -> float:
        return norm_fro(self.residual)

    @cached_property
    def approx_finite(self) -> bool:
        """False when the factors are finite but their product overflowed."""
        return bool(np.all(np.isfinite(self.approx)))

    @cached_property
    def sigma(self) -> np.ndarray:
        """Singular values of A: once per instance (`SPECTRA`), not once per cell."""
        return SPECTRA(self.a, self.la.svdvals, digest=self.instance)

    @property
    def norm_a(self) -> float:
        """||A||_2 = sigma_1, from the shared spectrum (no second SVD)."""
        return float(self.sigma[0]) if self.sigma.size else 0.0

    @cached_property
    def approx_sigma(self) -> np.ndarray:
        """Singular values of the reconstruction; a rank-k one's from its k-column factors."""
        if isinstance(self.fact, LowRankFactorization):
            return rank_k_spectrum(self.fact.left, self.fact.right)
        return self.la.svdvals(self.approx)

    @cached_property
    def approx_rank(self) -> int:
        """Rank of Â: from A's shared spectrum when Weyl's inequality decides it
        (`certified_rank`, full-size reconstructions), else from Â's singular values. The
        bound on ||A - Â||_2 is the smaller of ||A - Â||_F and twice the 2-norm as computed
        (`norm_2`: a Lanczos estimate from n = 512, measured within 2.1e-15 of the SVD's),
        which is about sqrt(n) / 2 tighter for a rounding-noise residual."""
        if not isinstance(self.fact, LowRankFactorization):
            bound = min(self.residual_fro, 2.0 * self.residual_2)
            certified = certified_rank(self.sigma, bound, self.a.shape, self.dtype)
            if certified is not None:
                return certified
        return rank_of(self.approx_sigma, self.a.shape, self.dtype)

    @cached_property
    def floor(self) -> float:
        return error_floor(self.a.shape, self.dtype)

    @cached_property
    def rank_a(self) -> int:
        s = self.sigma
        return int(np.sum(s > self.floor * s[0])) if s.size and s[0] > 0 else 0

    @property
    def is_rank_k(self) -> bool:
        return self.fact.kind == "rank-k"

    @property
    def square(self) -> bool:
        return self.a.shape[0] == self.a.shape[1]


def _opt_2(x: MetricInput) -> float:
    return opt_err_2(x.sigma, x.rank) if x.is_rank_k and x.rank else NAN


def _opt_fro(x: MetricInput) -> float:
    return opt_err_fro(x.sigma, x.rank) if x.is_rank_k and x.rank else NAN


def _gap(x: MetricInput) -> float:
    """(sigma_k - sigma_{k+1}) / sigma_1: zero when the best rank-k subspace is not unique."""
    if not (x.is_rank_k and x.rank) or x.sigma.size == 0 or x.sigma[0] == 0:
        return NAN
    s = np.r_[x.sigma, 0.0]
    return float((s[x.rank - 1] - s[x.rank]) / s[0]) if x.rank <= x.sigma.size else NAN


def _rel_err_2(x: MetricInput) -> float:
    return _ratio(x.residual_2, x.norm_a)


def _rel_err_fro(x: MetricInput) -> float:
    return _ratio(x.residual_fro, norm_fro(x.a))


def _ratio_2(x: MetricInput) -> float:
    return error_ratio(_rel_err_2(x), _opt_2(x), x.floor) if x.is_rank_k else NAN


def _ratio_fro(x: MetricInput) -> float:
    return error_ratio(_rel_err_fro(x), _opt_fro(x), x.floor) if x.is_rank_k else NAN


def _expected_rank(x: MetricInput) -> int:
    return min(x.rank, x.rank_a) if x.is_rank_k and x.rank else x.rank_a


def _numerical_rank(x: MetricInput) -> float:
    return float(x.approx_rank) if x.approx_finite else NAN


def _rank_ok(x: MetricInput) -> bool:
    return x.approx_finite and x.approx_rank == _expected_rank(x)


def _solve(x: MetricInput) -> float:
    if not x.square or x.is_rank_k or not x.fact.exact:
        return NAN
    b = np.ones(x.a.shape[0])
    try:
        solution = x.fact.solve(b)
    except np.linalg.LinAlgError:  # an exactly zero pivot: the factors cannot solve
        return float("inf")
    return backward_error(x.a, solution, b, x.norm_a)


def _det(x: MetricInput) -> float:
    if not x.square or x.is_rank_k or not x.fact.exact:
        return NAN
    reference = SPECTRA.get(x.a, "slogdet", x.la.slogdet, digest=x.instance)
    return det_rel_err(reference, x.fact.slogdet())


def _cg(x: MetricInput) -> float:
    """CG iterations on A x = b with the preconditioner M = L L^T (preconditioner cells); b is
    a fixed Gaussian vector (a constant one is an eigenvector of a graph Laplacian)."""
    if not isinstance(x.fact, PreconditionerFactorization):
        return NAN
    b = np.random.default_rng(0).standard_normal(size=(x.a.shape[0],))
    return float(pcg_iterations(x.a, b, x.fact.apply_inverse))


def _factor(x: MetricInput) -> float:
    """The Doolittle factors of P^T A are shared by every cell with that instance and row
    order (the partial-pivoting methods agree on it), like A's spectrum."""
    fact = x.fact
    if not isinstance(fact, LUFactorization):
        return NAN
    digest: str | None = x.instance  # None: hash P^T A itself
    if fact.P is not None:
        digest = None if fact.perm is None else x.instance + SPECTRA.digest(fact.perm)

    def reference(pa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return SPECTRA.get(pa, "doolittle", x.la.doolittle, digest=digest)

    return doolittle_factor_err(x.a, fact, reference, x.la.matmul)


Direction = Literal["lower", "higher", "none"]
"""Which way is better: `lower` (errors), `higher` (rank_ok, the spectral gap) or `none`
(a property, not a score: the ranks)."""


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[MetricInput], float | bool]
    direction: Direction
    description: str


def _metric(
    fn: Callable[[MetricInput], float | bool],
    direction: Direction,
    description: str,
    *,
    default: float | None = NAN,
) -> Any:
    """A `MetricValues` field that carries its metric: name = the field, value = fn(input)."""
    return field(default=default, metadata={"metric": (fn, direction, description)})


@dataclass(frozen=True, kw_only=True)
class MetricValues:
    """One cell's metrics: every field is a metric and a results column (NaN: not applicable,
    or not computed because the cell did not end ok)."""

    rel_err_2: float = _metric(_rel_err_2, "lower", "||A - Â||_2 / ||A||_2")
    rel_err_fro: float = _metric(_rel_err_fro, "lower", "||A - Â||_F / ||A||_F")
    opt_err_2: float = _metric(_opt_2, "lower", "sigma_{k+1} / sigma_1 (rank-k optimum)")
    opt_err_fro: float = _metric(_opt_fro, "lower", "Frobenius tail / ||A||_F (rank-k optimum)")
    sigma_gap: float = _metric(
        _gap, "higher", "(sigma_k - sigma_{k+1}) / sigma_1 (0: optimum not unique)"
    )
    ratio_2: float = _metric(_ratio_2, "lower", "rel_err_2 / opt_err_2 (>= 1; 1 is optimal)")
    ratio_fro: float = _metric(
        _ratio_fro, "lower", "rel_err_fro / opt_err_fro (>= 1; 1 is optimal)"
    )
    numerical_rank: float = _metric(
        _numerical_rank,
        "none",
        "rank of Â with tolerance max(m,n) eps(dtype) sigma_1",
    )
    expected_rank: float = _metric(
        lambda x: float(_expected_rank(x)), "none", "min(k, rank A) for rank-k, else rank A"
    )
    rank_ok: bool | None = _metric(
        _rank_ok, "higher", "numerical_rank == expected_rank", default=None
    )
    structure_err: float = _metric(
        lambda x: x.fact.structure_error(x.la.matmul),
        "lower",
        "mass outside required triangles / deviation from orthogonality",
    )
    factor_err: float = _metric(
        _factor, "lower", "LU factors vs the Doolittle normalisation of P^T A"
    )
    solve_backward_err: float = _metric(
        _solve, "lower", "backward error of Ax = 1 solved with the factors"
    )
    det_rel_err: float = _metric(_det, "lower", "relative error of det(A) from the factors")
    cg_iterations: float = _metric(
        _cg,
        "lower",
        "preconditioned CG iterations to ||r|| <= 1e-8 ||b||, fixed Gaussian b (10n + 1: not)",
    )


METRICS: tuple[Metric, ...] = tuple(
    Metric(f.name, *f.metadata["metric"]) for f in fields(MetricValues)
)
"""Every metric, in column order: derived from `MetricValues`, so they cannot disagree."""


AGGREGATES: dict[Direction, Callable[[np.ndarray], float]] = {
    "lower": np.nanmax,  # the worst error of a stack
    "higher": np.nanmin,
    "none": np.nanmedian,
}


def aggregate(values: list[MetricValues]) -> MetricValues:
    """One stack's metrics from its matrices': by each metric's direction, the worst value
    (the largest error, the smallest gap); `rank_ok` only if every matrix's rank is."""
    if len(values) == 1:
        return values[0]
    out: dict[str, Any] = {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        for metric in METRICS:
            column = [getattr(v, metric.name) for v in values]
            if isinstance(column[0], bool):
                out[metric.name] = all(column)
            else:
                out[metric.name] = float(AGGREGATES[metric.direction](np.asarray(column, float)))
    return MetricValues(**out)


def evaluate(x: MetricInput) -> MetricValues:
    """All metrics of one cell. Raises on a metric's own failure (the runner records it)."""
    with np.errstate(all="ignore"):
        values: dict[str, Any] = {m.name: m.fn(x) for m in METRICS}
        return MetricValues(**values)
