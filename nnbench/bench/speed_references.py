"""Independent implementations of the classical methods whose timed call is nnbench's own
code (`bench classical-speed`): the same algorithm written apart from `nnbench.methods` (which
never imports this module), in numba or in BLAS-3 numpy/scipy form, giving the method's output
to rounding. Each takes A (float64, m x n), the rank k and the cell's seed and returns factors
by the method's names; random methods draw the method's own random matrices (the same torch
generator calls), so that the outputs can be compared.

numba compiles each kernel on its first call in a process; the bench's warm-up call does it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse
from numba import njit

Factors = dict[str, np.ndarray]
ReferenceCall = Callable[[np.ndarray, int, int], Factors]
BLOCK = 32  # rows per block of the streaming methods (their default `block`)
PANEL = 64  # columns per panel of the blocked LU


@njit(cache=True)
def _lu_in_place(a: np.ndarray) -> None:  # pragma: no cover - compiled
    """Right-looking elimination without row exchanges on a (rows >= columns) panel: the
    multipliers below the diagonal, U on and above it."""
    rows, cols = a.shape
    for k in range(min(rows - 1, cols)):
        pivot = a[k, k]
        for i in range(k + 1, rows):
            a[i, k] /= pivot
            l_ik = a[i, k]
            for j in range(k + 1, cols):
                a[i, j] -= l_ik * a[k, j]


def _unpacked(packed: np.ndarray) -> Factors:
    n = packed.shape[0]
    return {"L": np.tril(packed, -1) + np.eye(n), "U": np.triu(packed)}


def numba_lu(a: np.ndarray, k: int, seed: int) -> Factors:
    """Doolittle LU (unit-lower L, no pivoting) by one numba kernel, unblocked."""
    packed = np.array(a, dtype=np.float64, order="C")
    _lu_in_place(packed)
    return _unpacked(packed)


def blocked_lu(a: np.ndarray, k: int, seed: int) -> Factors:
    """Doolittle LU as LAPACK's getrf is organised, without its row exchanges: per panel of
    `PANEL` columns the numba kernel, then one triangular solve (trsm) for U's block row and
    one matrix product (gemm) for the trailing matrix."""
    packed = np.array(a, dtype=np.float64, order="C")
    n = packed.shape[0]
    for k0 in range(0, n, PANEL):
        k1 = min(k0 + PANEL, n)
        panel = np.ascontiguousarray(packed[k0:, k0:k1])
        _lu_in_place(panel)
        packed[k0:, k0:k1] = panel
        if k1 < n:
            packed[k0:k1, k1:] = scipy.linalg.solve_triangular(
                panel[: k1 - k0], packed[k0:k1, k1:], lower=True, unit_diagonal=True,
                check_finite=False,
            )  # fmt: skip
            packed[k1:, k1:] -= packed[k1:, k0:k1] @ packed[k0:k1, k1:]
    return _unpacked(packed)


@njit(cache=True)
def _gram_schmidt_rows(
    at: np.ndarray, modified: bool
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Q^T (n x m) and R of A = Q R from A^T's rows (A's columns, contiguous): classical
    (projections of the original column) or modified (of the running remainder)."""
    n, m = at.shape
    qt = np.zeros((n, m))
    r = np.zeros((n, n))
    for j in range(n):
        v = at[j].copy()
        for i in range(j):
            source = v if modified else at[j]
            r[i, j] = np.dot(qt[i], source)
            v -= r[i, j] * qt[i]
        r[j, j] = np.sqrt(np.dot(v, v))
        qt[j] = v / r[j, j]
    return qt, r


def numba_gram_schmidt(modified: bool) -> ReferenceCall:
    def call(a: np.ndarray, k: int, seed: int) -> Factors:
        qt, r = _gram_schmidt_rows(np.ascontiguousarray(a.T, dtype=np.float64), modified)
        return {"Q": qt.T, "R": r}

    call.__qualname__ = "numba_mgs" if modified else "numba_cgs"
    return call


def _svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, s, vt = scipy.linalg.svd(a, full_matrices=False, check_finite=False)
    return u, s, vt


def frequent_directions(a: np.ndarray, k: int, seed: int) -> Factors:
    """Frequent Directions (fast variant) with a preallocated buffer of 2l + b rows, blocks
    of `BLOCK` rows, LAPACK's gesdd when the buffer holds 2l rows; then A V_k V_k^T."""
    m, n = a.shape
    ell = min(2 * k, n)
    buffer = np.zeros((2 * ell + BLOCK, n))
    filled = 0
    for start in range(0, m, BLOCK):
        rows = a[start : start + BLOCK]
        buffer[filled : filled + rows.shape[0]] = rows
        filled += rows.shape[0]
        if filled >= 2 * ell:
            _, s, vt = _svd(buffer[:filled])
            delta = s[ell - 1] ** 2 if s.size >= ell else 0.0
            kept = min(ell, s.size)
            buffer[:kept] = np.sqrt(np.maximum(s[:kept] ** 2 - delta, 0.0))[:, None] * vt[:kept]
            filled = kept
    v = _svd(buffer[:filled])[2][:k].T
    return {"left": a @ v, "right": v.T}


def incremental_svd(a: np.ndarray, k: int, seed: int) -> Factors:
    """Brand's incremental SVD over blocks of `BLOCK` rows in numpy/LAPACK: U preallocated
    (m x k), each block's residual projected twice, its QR, the core's SVD, U and V rotated."""
    m, n = a.shape
    keep = min(k, m, n)
    u, s, v = np.zeros((m, keep)), np.zeros(0), np.zeros((n, 0))
    seen = 0
    for start in range(0, m, BLOCK):
        rows = a[start : start + BLOCK]
        c = rows @ v
        r = rows - c @ v.T
        again = r @ v
        r, c = r - again @ v.T, c + again
        q, rr = np.linalg.qr(r.T)
        b, l_ = rows.shape[0], s.size
        core = np.zeros((l_ + b, l_ + q.shape[1]))
        core[:l_, :l_] = np.diag(s)
        core[l_:, :l_] = c
        core[l_:, l_:] = rr.T
        cu, cs, cvt = _svd(core)
        top = min(keep, cs.size)
        u[:seen, :top] = u[:seen, :l_] @ cu[:l_, :top]
        u[seen : seen + b, :top] = cu[l_:, :top]
        v = np.hstack([v, q]) @ cvt[:top].T
        s, seen = cs[:top], seen + b
    top = min(k, s.size)
    return {"left": u[:, :top] * s[:top], "right": v[:, :top].T}


def _torch_normal(generator: object, *shape: int) -> np.ndarray:
    import torch

    assert isinstance(generator, torch.Generator)
    return torch.randn(*shape, generator=generator, dtype=torch.float64).numpy()


def _generator(seed: int) -> object:
    import torch

    return torch.Generator().manual_seed(seed % 2**63)


def single_pass_rsvd(a: np.ndarray, k: int, seed: int) -> Factors:
    """Tropp et al.'s single-pass randomized SVD with the method's Omega and Psi: both
    sketches as one matrix product each (BLAS-3), Q = orth(Y), X = (Psi Q)^+ W by a QR of
    Psi Q, the SVD of X."""
    m, n = a.shape
    r = min(2 * k + 1, m, n)
    s = min(2 * r + 1, m)
    generator = _generator(seed)
    omega, psi = _torch_normal(generator, n, r), _torch_normal(generator, s, m)
    y, w = a @ omega, psi @ a
    q = np.linalg.qr(y)[0]
    qp, rp = np.linalg.qr(psi @ q)
    core = scipy.linalg.solve_triangular(rp, qp.T @ w, check_finite=False)
    u, sv, vt = _svd(core)
    return {"left": (q @ u[:, :k]) * sv[:k], "right": vt[:k]}


def _best_in_row_space(a: np.ndarray, sa: np.ndarray, k: int) -> Factors:
    q = np.linalg.qr(sa.T)[0]
    u, s, vt = _svd(a @ q)
    return {"left": u[:, :k] * s[:k], "right": vt[:k] @ q.T}


def gaussian_sketch(a: np.ndarray, k: int, seed: int) -> Factors:
    """Sketch-and-solve with the method's Gaussian S (2k x m), in numpy/LAPACK."""
    rows = min(2 * k, a.shape[0])
    sketch = _torch_normal(_generator(seed), rows, a.shape[0]) / math.sqrt(rows)
    return _best_in_row_space(a, sketch @ a, k)


def count_sketch(a: np.ndarray, k: int, seed: int) -> Factors:
    """Sketch-and-solve with the method's CountSketch applied as a sparse matrix (one
    nonzero per column of S: S A costs one pass of additions, not a dense product)."""
    import torch

    m = a.shape[0]
    rows = min(2 * k, m)
    generator = _generator(seed)
    assert isinstance(generator, torch.Generator)
    bucket = torch.randint(0, rows, (m,), generator=generator).numpy()
    sign = torch.randint(0, 2, (m,), generator=generator).numpy() * 2.0 - 1.0
    sketch = scipy.sparse.csr_array((sign, (bucket, np.arange(m))), shape=(rows, m))
    return _best_in_row_space(a, sketch @ a, k)


def power_sketch(a: np.ndarray, k: int, seed: int) -> Factors:
    """`gaussian_sketch` within the row space of S A A^T A (one power iteration, the row
    basis orthonormalized between the products)."""
    rows = min(2 * k, a.shape[0])
    y = _torch_normal(_generator(seed), rows, a.shape[0]) / math.sqrt(rows) @ a
    q = np.linalg.qr(y.T)[0]
    return _best_in_row_space(a, (a @ q).T @ a, k)


def ichol0_of_dense(a: np.ndarray, k: int, seed: int) -> Factors:
    """The dense IC(0)'s L by ILU++'s `ichol0` of A's nonzeros (CSR with int32 indices, as
    it takes them; the conversion is inside the call, as a dense A costs its user)."""
    import ilupp

    csr = scipy.sparse.csr_matrix(a)
    csr.indices, csr.indptr = csr.indices.astype(np.int32), csr.indptr.astype(np.int32)
    return {"L": scipy.sparse.csr_matrix(ilupp.ichol0(csr)).toarray()}


def lapack_cholesky(a: np.ndarray, k: int, seed: int) -> Factors:
    """IC(0) of a matrix whose lower triangle has no zero entry: the Cholesky factor."""
    return {"L": scipy.linalg.cholesky(a, lower=True, check_finite=False)}


@dataclass(frozen=True)
class Reference:
    """One row of `REFERENCES`: nnbench's `method`, timed against `call` (described by
    `label`) on the `matrix` family at `sizes` and ranks `ranks` ((0,): no rank); outputs
    compared factor by factor or, where factors are unique only up to a rotation (rank-k),
    by their product. `needs`: an optional module the reference imports."""

    method: str
    label: str
    call: ReferenceCall
    matrix: str
    sizes: tuple[int, ...]
    ranks: tuple[int, ...] = (0,)
    by_product: bool = False
    needs: str = ""


def _rank_k(method: str, label: str, call: ReferenceCall) -> Reference:
    """A rank-k method's row: low-rank-plus-noise at the streaming and sketch studies' sizes."""
    return Reference(method, label, call, "lowrank-noise", (256, 1024), (10, 50), by_product=True)


REFERENCES: tuple[Reference, ...] = (
    Reference("doolittle", "numba, unblocked (bench)", numba_lu, "diag-dominant", (64, 256)),
    Reference(
        "doolittle",
        "blocked: numba panel + trsm + gemm",
        blocked_lu,
        "diag-dominant",
        (64, 256, 1024),
    ),
    Reference(
        "gram-schmidt",
        "numba CGS (bench)",
        numba_gram_schmidt(False),
        "random-gaussian",
        (64, 256, 1024),
    ),
    Reference(
        "gram-schmidt-modified",
        "numba MGS (bench)",
        numba_gram_schmidt(True),
        "random-gaussian",
        (64, 256, 1024),
    ),
    Reference(
        "ic0",
        "ILU++ ichol0 of A's CSR",
        ichol0_of_dense,
        "grid-laplacian",
        (256, 1024),
        needs="ilupp",
    ),
    Reference(
        "ic0", "LAPACK potrf (full pattern: IC(0) = Cholesky)", lapack_cholesky, "spd", (256, 1024)
    ),
    _rank_k("stream-fd", "numpy/LAPACK, preallocated buffer", frequent_directions),
    _rank_k("stream-isvd", "numpy/LAPACK, preallocated U", incremental_svd),
    _rank_k("stream-rsvd1", "numpy, whole-matrix sketches", single_pass_rsvd),
    _rank_k("sketch-gaussian", "numpy/LAPACK", gaussian_sketch),
    _rank_k("sketch-countsketch", "S as scipy.sparse CSR", count_sketch),
    _rank_k("sketch-power", "numpy/LAPACK", power_sketch),
)
"""Every classical method whose timed call is nnbench's own code, with its reference."""
