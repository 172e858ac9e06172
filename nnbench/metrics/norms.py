"""Norms, relative errors and numerical ranks of arrays (what the hypothesis tests exercise).

All arithmetic is float64."""

from __future__ import annotations

import numpy as np

NAN = float("nan")
_SAFE_SQUARES = (1e-290, 1e290)  # a sum of squares here neither underflowed nor overflowed


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
    return ratio(norm_2(a - approx), norm_2(a))


def rel_err_fro(a: np.ndarray, approx: np.ndarray) -> float:
    return ratio(norm_fro(a - approx), norm_fro(a))


def ratio(num: float, den: float) -> float:
    """num / den, with 0/0 = 0 and x/0 = inf (a relative error of a zero matrix)."""
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
    return ratio(float(np.sqrt(np.sum(sigma[k:] ** 2))), total) if total else 0.0


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
