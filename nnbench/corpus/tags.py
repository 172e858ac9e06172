"""Numerical checks behind every boolean tag: tests run them on generated instances,
and user matrices get their tags from them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _tol(a: np.ndarray) -> float:
    return 100.0 * np.finfo(a.dtype).eps * max(1.0, float(np.abs(a).max(initial=0.0)))


def is_square(a: np.ndarray) -> bool:
    return a.shape[0] == a.shape[1]


def is_rectangular(a: np.ndarray) -> bool:
    return not is_square(a)


SYMMETRY_ROWS = 256  # rows compared at a time


def is_symmetric(a: np.ndarray) -> bool:
    """|a_ij - a_ji| within 100 eps max(1, max|a|), compared a block of rows at a time: no
    n x n temporaries, and the first asymmetric block (the first, in a random matrix) ends it."""
    if not is_square(a):
        return False
    tol = _tol(a)
    return all(
        np.allclose(a[i : i + SYMMETRY_ROWS], a[:, i : i + SYMMETRY_ROWS].T, rtol=0.0, atol=tol)
        for i in range(0, a.shape[0], SYMMETRY_ROWS)
    )


def is_spd(a: np.ndarray) -> bool:
    if not is_symmetric(a):
        return False
    try:
        np.linalg.cholesky(np.asarray(a, dtype=np.float64))
    except np.linalg.LinAlgError:
        return False
    return True


def is_diagonal(a: np.ndarray) -> bool:
    """Square with every entry off the diagonal zero (counted, not by forming diag(diag(a)))."""
    return is_square(a) and np.count_nonzero(a) == np.count_nonzero(np.diagonal(a))


def is_identity(a: np.ndarray) -> bool:
    return is_diagonal(a) and bool(np.all(np.diagonal(a) == 1))


def is_diagonally_dominant(a: np.ndarray) -> bool:
    """Strictly row diagonally dominant."""
    if not is_square(a):
        return False
    diag = np.abs(np.diag(a))
    return bool(np.all(diag > np.abs(a).sum(axis=1) - diag))


PIVOT_RATIO_LIMIT = 1e-8


def _meets_tiny_pivot(u: np.ndarray, tiny: float) -> bool:
    """Eliminate the panel `u` (m x w, m >= w, its top row on the diagonal) in place without
    row exchanges, halving its columns recursively as LAPACK's dgetrf2 does: the work is
    triangular solves and matrix products (BLAS-3), not one rank-1 update of the trailing
    matrix per step. True as soon as a pivot before the matrix's last one (a panel's pivot
    has rows below it) is below `tiny` in magnitude, elimination stopping there."""
    import scipy.linalg  # here: listing the corpus loads no scipy

    m, w = u.shape
    if w == 1:
        if m == 1:
            return False
        if abs(u[0, 0]) < tiny:
            return True
        u[1:, 0] /= u[0, 0]
        return False
    h = w // 2
    left, right = u[:, :h], u[:, h:]
    if _meets_tiny_pivot(left, tiny):
        return True
    right[:h] = scipy.linalg.solve_triangular(
        left[:h], right[:h], lower=True, unit_diagonal=True, check_finite=False
    )
    right[h:] -= left[h:] @ right[:h]
    return _meets_tiny_pivot(right[h:], tiny)


def needs_pivoting(a: np.ndarray) -> bool:
    """No-pivot elimination meets a zero or tiny (< 1e-8 relative to max|a_ij|) pivot before
    the last step. Partial pivoting's row exchanges would not do: it exchanges rows of almost
    every random matrix, whose elimination without them meets no small pivot."""
    if not is_square(a) or a.shape[0] < 2:
        return False
    u = np.array(a, dtype=np.float64, order="F")  # columns contiguous: the panels' leaves
    scale = max(float(u.max()), -float(u.min())) or 1.0
    with np.errstate(all="ignore"):  # growth past a small pivot may overflow: NaN decides nothing
        return _meets_tiny_pivot(u, PIVOT_RATIO_LIMIT * scale)


def is_image(a: np.ndarray) -> bool:
    """Pixel intensities in [0, 1], or in [0, 255] (8-bit scale)."""
    return bool(a.size) and float(a.min()) >= 0.0 and float(a.max()) <= 255.0


def is_singular(a: np.ndarray) -> bool:
    return numerical_rank(a) < min(a.shape)


def numerical_rank(a: np.ndarray) -> int:
    """Rank with numpy's default tolerance max(m, n) * eps(dtype) * sigma_1."""
    if a.size == 0:
        return 0
    s = np.linalg.svd(np.asarray(a, dtype=np.float64), compute_uv=False)
    tol = max(a.shape) * np.finfo(a.dtype).eps * s[0]
    return int(np.sum(s > tol))


TAG_CHECKS: dict[str, Callable[[np.ndarray], bool]] = {
    "square": is_square,
    "rectangular": is_rectangular,
    "symmetric": is_symmetric,
    "spd": is_spd,
    "diagonal": is_diagonal,
    "identity": is_identity,
    "diagonally_dominant": is_diagonally_dominant,
    "needs_pivoting": needs_pivoting,
    "singular": is_singular,
    "image": is_image,
}
"""Every boolean tag a family may carry, with the check that defines it."""


def has_rank(a: np.ndarray, rank: float) -> bool:
    return numerical_rank(a) == rank


def has_cond(a: np.ndarray, cond: float) -> bool:
    """2-norm condition number `cond` to 1e-6 (relative)."""
    return bool(np.isclose(np.linalg.cond(a.astype(np.float64)), cond, rtol=1e-6, atol=0.0))


NOISE_FLOOR = 1e-5


def has_effective_rank(a: np.ndarray, rank: float) -> bool:
    """Exactly `rank` singular values above 1e-5 sigma_1 (a low-rank matrix plus small noise)."""
    s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    return int(np.sum(s / s[0] > NOISE_FLOOR)) == rank


def has_pixels_up_to(a: np.ndarray, top: float) -> bool:
    """Entries in [0, top] (1: float pixels, 255: 8-bit values), the largest above top / 255:
    on that scale, not on one 255 times smaller."""
    low, high = float(a.min()), float(a.max())
    return low >= 0.0 and top / 255 < high <= top * (1 + 1e-12)


VALUE_CHECKS: dict[str, Callable[[np.ndarray, float], bool]] = {
    "rank": has_rank,
    "cond": has_cond,
    "effective_rank": has_effective_rank,
    "pixel_max": has_pixels_up_to,
}
"""Every numeric tag a family may declare (`MatrixFamily.numeric_tags`), with the check that
defines it: `check(instance, declared value)`."""


def infer_tags(a: np.ndarray) -> frozenset[str]:
    """Tags of an arbitrary matrix (user files, worked examples). `image` is never inferred."""
    return frozenset(tag for tag, check in TAG_CHECKS.items() if tag != "image" and check(a))
