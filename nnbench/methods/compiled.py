"""Compiled kernels (numba) for the classical code that is nnbench's own rather than one
library call: sparse IC(0) and the triangular solves that apply a factor preconditioner,
Doolittle LU (blocked, BLAS-3 outside its panels) and Gram-Schmidt.
They run at a practitioner's compiled speed, so a learned preconditioner is judged against
IC(0) as it is used, not against a Python loop (the numpy loop of IC(0) was 57-538x slower
than ILU++'s `ichol0` at n = 4,096-65,536; two `spsolve_triangular` calls per CG iteration
cost 31-278 sparse products, these kernels about two).

numba compiles each kernel on its first call in a process (cached on disk beside this file
after that); the runner's warm-up call compiles it before any timed call."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
from numba import njit


@njit(cache=True)
def _ic0_csc(
    indptr: np.ndarray, rows: np.ndarray, data: np.ndarray, n: int
) -> int:  # pragma: no cover - compiled
    """IC(0) in place on the CSC lower triangle (sorted rows, diagonal first in each
    column): right-looking, column k scaled by its pivot's square root, then its outer
    product subtracted from the later columns where their pattern has an entry (a merge of
    two sorted row lists). Returns -1, or the column whose pivot is not positive."""
    for k in range(n):
        start, end = indptr[k], indptr[k + 1]
        if start == end or rows[start] != k or not data[start] > 0.0:
            return k
        pivot = np.sqrt(data[start])
        data[start] = pivot
        for i in range(start + 1, end):
            data[i] /= pivot
        for a in range(start + 1, end):  # column j = rows[a] gets -l_ik l_jk on its pattern
            j = rows[a]
            l_jk = data[a]
            at, stop = indptr[j], indptr[j + 1]
            for b in range(a, end):  # rows i >= j of column k, in order
                i = rows[b]
                while at < stop and rows[at] < i:
                    at += 1
                if at == stop:
                    break
                if rows[at] == i:  # inside the pattern; fill-in outside it is dropped
                    data[at] -= data[b] * l_jk
    return -1


@njit(cache=True)
def _upper_rows(
    indptr: np.ndarray, cols: np.ndarray, data: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The entries on and right of the diagonal of each row of a CSR array (sorted columns):
    of a symmetric A, the CSC arrays of tril(A), diagonal first in each column."""
    counts = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            if cols[p] >= i:
                counts[i + 1] += 1
    out_ptr = np.cumsum(counts)
    out_rows = np.empty(out_ptr[n], dtype=np.int64)
    out_data = np.empty(out_ptr[n])
    at = 0
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            if cols[p] >= i:
                out_rows[at] = cols[p]
                out_data[at] = data[p]
                at += 1
    return out_ptr, out_rows, out_data


def ic0_csc(a: scipy.sparse.sparray) -> tuple[scipy.sparse.csc_array, int]:
    """(L, -1) with L L^T the IC(0) of the symmetric positive definite A on the pattern of
    tril(A), as CSC; or (the partial L, k) where pivot k was not positive. A symmetric A's
    CSR rows, cut at the diagonal, are tril(A)'s CSC columns: no transpose is formed."""
    csr = a if isinstance(a, scipy.sparse.csr_array) else scipy.sparse.csr_array(a)
    if csr.dtype != np.float64:
        csr = csr.astype(np.float64)
    if not csr.has_sorted_indices:
        csr = csr.sorted_indices()
    n = csr.shape[0]
    indptr, rows, data = _upper_rows(csr.indptr, csr.indices, csr.data, n)
    broke = _ic0_csc(indptr, rows, data, n)
    lower = scipy.sparse.csc_array((data, rows, indptr), shape=(n, n))
    lower.has_sorted_indices = True
    return lower, int(broke)


@njit(cache=True)
def _lower_solve(
    indptr: np.ndarray, rows: np.ndarray, data: np.ndarray, r: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """x with L x = r, L in CSC with sorted rows (its diagonal first in each column):
    column-oriented forward substitution."""
    n = r.shape[0]
    x = r.copy()
    for j in range(n):
        start = indptr[j]
        x[j] /= data[start]
        for p in range(start + 1, indptr[j + 1]):
            x[rows[p]] -= data[p] * x[j]
    return x


@njit(cache=True)
def _transposed_solve(
    indptr: np.ndarray, rows: np.ndarray, data: np.ndarray, y: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """x with L^T x = y, from L's CSC (L^T's CSR): row-oriented back substitution, so L^T is
    never formed."""
    n = y.shape[0]
    x = np.empty(n)
    for i in range(n - 1, -1, -1):
        start = indptr[i]
        total = y[i]
        for p in range(start + 1, indptr[i + 1]):
            total -= data[p] * x[rows[p]]
        x[i] = total / data[start]
    return x


def lower_csc(lower: scipy.sparse.sparray) -> scipy.sparse.csc_array:
    """L as float64 CSC with sorted rows and a nonzero diagonal first in each column (what
    the solves need); ValueError where a diagonal entry is missing or zero."""
    csc = scipy.sparse.csc_array(lower, dtype=np.float64)
    if not (isinstance(lower, scipy.sparse.csc_array) and lower.has_sorted_indices):
        csc = scipy.sparse.csc_array(scipy.sparse.tril(csc, format="csc"))
        csc.sum_duplicates()
        csc.sort_indices()
    first = csc.indptr[:-1]
    n = csc.shape[0]
    if (
        np.any(np.diff(csc.indptr) == 0)
        or np.any(csc.indices[np.minimum(first, csc.nnz - 1)] != np.arange(n))
        or np.any(csc.data[np.minimum(first, csc.nnz - 1)] == 0)
    ):
        raise ValueError("a triangular factor needs a nonzero diagonal in every column")
    return csc


def solve_lower_then_upper(lower: scipy.sparse.csc_array, r: np.ndarray) -> np.ndarray:
    """(L L^T)^-1 r for L from `lower_csc`: one forward and one back substitution."""
    y = _lower_solve(lower.indptr, lower.indices, lower.data, np.asarray(r, dtype=np.float64))
    return _transposed_solve(lower.indptr, lower.indices, lower.data, y)


@njit(cache=True)
def _eliminate_panel(a: np.ndarray, zero: float) -> int:  # pragma: no cover - compiled
    """Gaussian elimination without row exchanges, in place, on a panel of columns (rows >=
    columns): multipliers below the diagonal, U on and above it. Returns -1, or the first
    column whose pivot is at most `zero` in magnitude (the last row's pivot is not checked:
    no later column divides by it)."""
    rows, cols = a.shape
    for k in range(min(rows - 1, cols)):
        pivot = a[k, k]
        if abs(pivot) <= zero:
            return k
        for i in range(k + 1, rows):
            a[i, k] /= pivot
            multiplier = a[i, k]
            for j in range(k + 1, cols):
                a[i, j] -= multiplier * a[k, j]
    return -1


LU_PANEL = 64  # columns per panel of `blocked_lu_no_pivoting`


def blocked_lu_no_pivoting(a: np.ndarray, zero: float) -> tuple[np.ndarray, int]:
    """The packed LU (unit-lower L's multipliers below the diagonal, U on and above it) of a
    square A without row exchanges, organised as LAPACK's getrf: each panel of `LU_PANEL`
    columns by the compiled kernel, then one triangular solve for its block row of U and one
    matrix product for the trailing matrix (BLAS-3). Returns (packed, -1), or (partial, k)
    where pivot k (0-based) is at most `zero` in magnitude."""
    packed = np.array(a, order="C")
    n = packed.shape[0]
    for k0 in range(0, n, LU_PANEL):
        k1 = min(k0 + LU_PANEL, n)
        panel = np.ascontiguousarray(packed[k0:, k0:k1])
        broke = _eliminate_panel(panel, zero)
        packed[k0:, k0:k1] = panel
        if broke >= 0:
            return packed, k0 + broke
        if k1 < n:
            packed[k0:k1, k1:] = scipy.linalg.solve_triangular(
                panel[: k1 - k0], packed[k0:k1, k1:], lower=True, unit_diagonal=True,
                check_finite=False,
            )  # fmt: skip
            packed[k1:, k1:] -= packed[k1:, k0:k1] @ packed[k0:k1, k1:]
    return packed, -1


@njit(cache=True)
def gram_schmidt_rows(
    at: np.ndarray, modified: bool
) -> tuple[np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Q^T (n x m) and R with A = Q R, from A^T (A's columns as contiguous rows): classical
    Gram-Schmidt (all projections of column j at once, two matrix-vector products) or
    modified (one projection at a time, of the running remainder). Returns -1 as the third
    value, or the first column whose remainder is exactly zero."""
    n, m = at.shape
    qt = np.zeros((n, m), dtype=at.dtype)
    r = np.zeros((n, n), dtype=at.dtype)
    for j in range(n):
        v = at[j].copy()
        if modified:
            for i in range(j):
                r[i, j] = np.dot(qt[i], v)
                v -= r[i, j] * qt[i]
        elif j > 0:
            projections = np.dot(qt[:j], v)
            v -= np.dot(projections, qt[:j])
            r[:j, j] = projections
        r[j, j] = np.sqrt(np.dot(v, v))
        if r[j, j] == 0.0:
            return qt, r, j
        qt[j] = v / r[j, j]
    return qt, r, -1
