"""Sparse matrices (scipy.sparse CSR) in the corpus: the SPD systems a preconditioner is for
stay sparse from their generator or `.mtx` file to the conjugate-gradient solve; a method
that needs a dense array gets one, untimed, up to `DENSE_LIMIT`."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np

Matrix: TypeAlias = Any
"""A corpus instance: a float ndarray, or a `scipy.sparse.csr_array` for a sparse family."""

DENSE_LIMIT = 8192
"""The largest n at which a sparse instance is densified for a method that needs a dense
array (512 MB in float64); past it such a cell is skipped with the reason."""


def is_sparse(a: object) -> bool:
    """True for a scipy.sparse array or matrix (without importing scipy)."""
    return type(a).__module__.startswith("scipy.sparse")


def as_csr(a: Matrix, dtype: str | np.dtype[Any] = "float64") -> Any:
    """`a` (sparse or dense) as a canonical CSR array of `dtype`: sorted indices, no
    duplicates, explicit zeros dropped."""
    import scipy.sparse

    csr = scipy.sparse.csr_array(a, dtype=dtype)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csr.sort_indices()
    return csr


def to_dense(a: Matrix) -> np.ndarray:
    """`a` as a dense ndarray (a copy only where `a` is sparse)."""
    return np.asarray(a.toarray()) if is_sparse(a) else np.asarray(a)


def entries(a: Matrix) -> np.ndarray:
    """The stored values of `a`: a sparse matrix's nonzeros, or the dense array itself."""
    return np.asarray(a.data) if is_sparse(a) else np.asarray(a)


def densify_skip_reason(method: str, n: int) -> str:
    """Why a method that needs a dense array does not run on a sparse n x n instance."""
    gib = n * n * 8 / 2**30
    return (
        f"{method} needs a dense matrix and this one is sparse at n = {n} (dense: {gib:.1f} "
        f"GiB; densified only up to n = {DENSE_LIMIT}): use a sparse preconditioner"
    )
