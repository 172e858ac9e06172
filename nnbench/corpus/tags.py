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


def is_symmetric(a: np.ndarray) -> bool:
    return is_square(a) and bool(np.allclose(a, a.T, rtol=0.0, atol=_tol(a)))


def is_spd(a: np.ndarray) -> bool:
    if not is_symmetric(a):
        return False
    try:
        np.linalg.cholesky(a.astype(np.float64))
    except np.linalg.LinAlgError:
        return False
    return True


def is_diagonal(a: np.ndarray) -> bool:
    return is_square(a) and not np.any(a - np.diag(np.diag(a)))


def is_identity(a: np.ndarray) -> bool:
    return is_square(a) and bool(np.array_equal(a, np.eye(a.shape[0], dtype=a.dtype)))


def is_diagonally_dominant(a: np.ndarray) -> bool:
    """Strictly row diagonally dominant."""
    if not is_square(a):
        return False
    diag = np.abs(np.diag(a))
    return bool(np.all(diag > np.abs(a).sum(axis=1) - diag))


def smallest_pivot_ratio(a: np.ndarray, steps: int | None = None) -> float:
    """min |u_kk| / max|a_ij| over the first `steps` (default all) pivots of Gaussian
    elimination without pivoting; 0 on a zero pivot."""
    u = a.astype(np.float64, copy=True)
    scale = float(np.abs(u).max(initial=0.0)) or 1.0
    smallest = np.inf
    for k in range(u.shape[0] if steps is None else steps):
        pivot = u[k, k]
        smallest = min(smallest, abs(pivot) / scale)
        if pivot == 0.0:
            return 0.0
        u[k + 1 :, k:] -= np.outer(u[k + 1 :, k] / pivot, u[k, k:])
    return float(smallest)


PIVOT_RATIO_LIMIT = 1e-8


def needs_pivoting(a: np.ndarray) -> bool:
    """No-pivot elimination meets a zero or tiny (< 1e-8 relative) pivot before the last step."""
    if not is_square(a) or a.shape[0] < 2:
        return False
    return smallest_pivot_ratio(a, steps=a.shape[0] - 1) < PIVOT_RATIO_LIMIT


def is_image(a: np.ndarray) -> bool:
    """Pixel intensities in [0, 1], or in [0, 255] (8-bit scale)."""
    return bool(a.size) and float(a.min()) >= 0.0 and float(a.max()) <= 255.0


def is_singular(a: np.ndarray) -> bool:
    return numerical_rank(a) < min(a.shape)


def numerical_rank(a: np.ndarray) -> int:
    """Rank with numpy's default tolerance max(m, n) * eps(dtype) * sigma_1."""
    if a.size == 0:
        return 0
    s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
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
