"""Numerical checks behind every boolean tag: tests run them on generated instances,
and user matrices get their tags from them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nnbench.corpus.sparse import is_sparse, to_dense


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
    """Symmetric, with a Cholesky factor, and not `singular`: rounding lets Cholesky finish
    on a singular positive semidefinite matrix (a Laplacian without a shift), which is not
    positive definite and must not carry both tags."""
    if not is_symmetric(a):
        return False
    try:
        np.linalg.cholesky(np.asarray(a, dtype=np.float64))
    except np.linalg.LinAlgError:
        return False
    return not is_singular(a)


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


DENSE_TAG_CHECKS: dict[str, Callable[[np.ndarray], bool]] = {
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
"""Every boolean tag a family may carry, with the check that defines it on a dense array."""


SPARSE_EXACT_SIDE = 2048
"""A sparse matrix up to this side is densified for the checks that have no sparse form
(rank, pivoting); a larger one gets the sparse answer each check's docstring gives."""


def _sparse_symmetric(a: Any) -> bool:
    if not is_square(a):
        return False
    data = np.abs(a.data)
    tol = 100.0 * np.finfo(a.dtype).eps * max(1.0, float(data.max(initial=0.0)))
    gap = abs(a - a.T)
    return float(gap.max()) <= tol if gap.nnz else True


def _sparse_dominant(a: Any) -> bool:
    if not is_square(a):
        return False
    diag = np.abs(a.diagonal())
    return bool(np.all(diag > np.asarray(abs(a).sum(axis=1)).ravel() - diag))


def _sparse_ldl_positive(a: Any) -> bool | None:
    """Whether symmetric elimination without pivoting (a sparse LDL^T by SuperLU with a
    symmetric ordering) meets only positive pivots, i.e. A is SPD; None if it breaks down.
    A pivot at rounding level (n eps max|a_ij|) counts as zero: a singular semidefinite A
    (a Laplacian without a shift) meets one, and is not positive definite."""
    import scipy.sparse
    import scipy.sparse.linalg

    try:
        lu = scipy.sparse.linalg.splu(
            scipy.sparse.csc_array(a, dtype=np.float64),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError:  # an exactly zero pivot
        return None
    tiny = a.shape[0] * np.finfo(np.float64).eps * float(abs(a).max())
    return bool(np.all(lu.U.diagonal() > tiny)) and bool(np.all(lu.perm_r == lu.perm_c))


def _sparse_spd(a: Any) -> bool:
    """Symmetric with a positive diagonal, and diagonally dominant (then SPD) or with only
    positive pivots in a sparse symmetric elimination."""
    if not _sparse_symmetric(a) or not np.all(a.diagonal() > 0):
        return False
    return _sparse_dominant(a) or bool(_sparse_ldl_positive(a))


def _sparse_diagonal(a: Any) -> bool:
    return is_square(a) and np.count_nonzero(a.data) == np.count_nonzero(a.diagonal())


def _sparse_singular(a: Any) -> bool:
    """Rectangular or large: exactly singular when a sparse LU meets a zero pivot."""
    if not is_square(a):
        return False  # (over SPARSE_EXACT_SIDE: a tall sparse matrix's rank is not checked)
    import scipy.sparse
    import scipy.sparse.linalg

    try:
        scipy.sparse.linalg.splu(scipy.sparse.csc_array(a, dtype=np.float64))
    except RuntimeError:
        return True
    return False


def _sparse_needs_pivoting(a: Any) -> bool:
    """Large: never on a diagonally dominant matrix, else when elimination in the given order
    (SuperLU without pivoting, natural ordering) breaks down."""
    if not is_square(a) or _sparse_dominant(a):
        return False
    import scipy.sparse
    import scipy.sparse.linalg

    try:
        scipy.sparse.linalg.splu(
            scipy.sparse.csc_array(a, dtype=np.float64), permc_spec="NATURAL", diag_pivot_thresh=0.0
        )
    except RuntimeError:
        return True
    return False


def _sparse_image(a: Any) -> bool:
    """Stored entries in [0, 255] (the implicit zeros are)."""
    return float(a.data.min(initial=0.0)) >= 0.0 and float(a.data.max(initial=0.0)) <= 255.0


def _small_dense(check: Callable[[np.ndarray], bool], sparse: Callable[[Any], bool]) -> Any:
    """A check on a sparse matrix: the dense one where it is small, else its sparse form."""

    def run(a: Any) -> bool:
        if max(a.shape) <= SPARSE_EXACT_SIDE:
            return check(a.toarray())
        return sparse(a)

    return run


SPARSE_TAG_CHECKS: dict[str, Callable[[Any], bool]] = {
    "square": is_square,
    "rectangular": is_rectangular,
    "symmetric": _sparse_symmetric,
    "spd": _small_dense(is_spd, _sparse_spd),
    "diagonal": _sparse_diagonal,
    "identity": lambda a: _sparse_diagonal(a) and bool(np.all(a.diagonal() == 1)),
    "diagonally_dominant": _sparse_dominant,
    "needs_pivoting": _small_dense(needs_pivoting, _sparse_needs_pivoting),
    "singular": _small_dense(is_singular, _sparse_singular),
    "image": _sparse_image,
}
"""The same tags on a scipy.sparse matrix, without an n x n array past `SPARSE_EXACT_SIDE`."""


def _either(tag: str) -> Callable[[Any], bool]:
    dense, sparse = DENSE_TAG_CHECKS[tag], SPARSE_TAG_CHECKS[tag]

    def check(a: Any) -> bool:
        return sparse(a) if is_sparse(a) else dense(a)

    check.__name__ = check.__qualname__ = f"check_{tag}"
    return check


TAG_CHECKS: dict[str, Callable[[Any], bool]] = {tag: _either(tag) for tag in DENSE_TAG_CHECKS}
"""Every boolean tag a family may carry, with the check that defines it (dense or sparse)."""

FACTORING_TAGS = frozenset({"spd", "needs_pivoting", "singular"})
"""The tags whose check factorizes the matrix (Cholesky or a sparse LDL^T, an LU, an SVD); the
others cost one pass over its entries. A matrix whose tags are inferred has these checked
only where something asks for them (`inferred.listed_tags`)."""

TAG_WORDS: dict[str, tuple[str, str]] = {
    "square": ("is square", "is not square"),
    "rectangular": ("is rectangular", "is not rectangular"),
    "symmetric": ("is symmetric", "is not symmetric"),
    "spd": ("is symmetric positive definite", "is not symmetric positive definite"),
    "diagonal": ("is diagonal", "is not diagonal"),
    "identity": ("is the identity", "is not the identity"),
    "diagonally_dominant": (
        "is strictly diagonally dominant",
        "is not strictly diagonally dominant",
    ),
    "needs_pivoting": ("needs pivoting", "needs no pivoting"),
    "singular": ("is singular", "is not singular"),
    "image": ("holds pixel intensities", "holds no pixel intensities"),
}
"""Each tag in words, as a matrix that has it and one that lacks it (skip reasons say what a
method needs: "a matrix that is not singular")."""


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


def _densified(check: Callable[[np.ndarray, float], bool]) -> Callable[[Any, float], bool]:
    def run(a: Any, value: float) -> bool:
        return check(to_dense(a), value)

    return run


VALUE_CHECKS: dict[str, Callable[[Any, float], bool]] = {
    name: _densified(check)
    for name, check in (
        ("rank", has_rank),
        ("cond", has_cond),
        ("effective_rank", has_effective_rank),
        ("pixel_max", has_pixels_up_to),
    )
}
"""Every numeric tag a family may declare (`MatrixFamily.numeric_tags`), with the check that
defines it: `check(instance, declared value)`."""


def infer_tags(a: Any) -> frozenset[str]:
    """Tags of an arbitrary matrix (user files, worked examples). `image` is never inferred."""
    return frozenset(tag for tag, check in TAG_CHECKS.items() if tag != "image" and check(a))
