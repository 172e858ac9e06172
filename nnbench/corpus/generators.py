"""Generators of the synthetic families: `(n, rng, **params) -> float64 ndarray`, or a
scipy.sparse CSR array for the sparse SPD systems (`corpus.sparse`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse


def random_uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    """Entries ~ U[0, 1), as in studies 000 and 002."""
    return rng.random((n, n))


def random_gaussian(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((n, n))


def symmetric(n: int, rng: np.random.Generator) -> np.ndarray:
    """U[0, 1) entries mirrored across the diagonal (study 002's symmetric matrices)."""
    upper = np.triu(rng.random((n, n)))
    return upper + np.triu(upper, 1).T


def identity(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.eye(n)


def diagonal_mn(n: int, rng: np.random.Generator, *, start: int = 1) -> np.ndarray:
    """Study 002's M_n = diag(start, ..., start + n - 1); its numbers imply start = 0."""
    return np.diag(np.arange(start, start + n, dtype=np.float64))


def spd(n: int, rng: np.random.Generator) -> np.ndarray:
    """B B^T / n + I with Gaussian B: symmetric positive definite, well conditioned."""
    b = rng.standard_normal((n, n))
    return b @ b.T / n + np.eye(n)


def grid_laplacian(n: int, rng: np.random.Generator, *, shift: float = 1e-2) -> np.ndarray:
    """The Laplacian of a g x h grid graph (g h = n, g the largest divisor of n up to sqrt(n):
    8 x 8 for 64, 4 x 8 for 32, a path for a prime n) with edge weights U[0.1, 10), plus
    `shift` times the identity: a 2-D diffusion problem with random coefficients (SPD, at most
    5 nonzeros a row), the kind of system NeuralIF learns preconditioners for."""
    g = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    a = np.zeros((n, n))
    idx = np.arange(n).reshape(g, n // g)
    for left, right in ((idx[:, :-1], idx[:, 1:]), (idx[:-1, :], idx[1:, :])):
        i, j = left.ravel(), right.ravel()
        w = rng.uniform(0.1, 10.0, i.size)
        a[i, j] = a[j, i] = -w
        np.add.at(a, (i, i), w)
        np.add.at(a, (j, j), w)
    return a + shift * np.eye(n)


def _grid_shape(n: int) -> tuple[int, int]:
    """g x h = n with g the largest divisor of n up to sqrt(n) (k x k for n = k^2)."""
    g = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return g, n // g


def diffusion_2d(
    n: int,
    rng: np.random.Generator,
    *,
    sigma: float = 1.0,
    shift: float = 1e-2,
    anisotropy: float = 1.0,
) -> scipy.sparse.csr_array:
    """-div(c grad u) + shift u on a k x k grid (n = k^2; g x n/g otherwise), five-point
    stencil, Dirichlet boundary: c = exp(sigma * Gaussian) per node (a log-normal random
    medium), each edge weighted by the harmonic mean of its ends' c (times `anisotropy` for
    the vertical edges: 1e-2 is a medium that conducts 100 times worse across the rows), each
    missing neighbour at the boundary by the node's own c. SPD, an M-matrix, CSR."""
    g, h = _grid_shape(n)
    c = np.exp(sigma * rng.standard_normal((g, h)))
    idx = np.arange(n).reshape(g, h)
    diagonal = np.full(n, shift)
    rows, cols, vals = [], [], []
    for left, right, cl, cr, scale in (
        (idx[:, :-1], idx[:, 1:], c[:, :-1], c[:, 1:], 1.0),
        (idx[:-1, :], idx[1:, :], c[:-1, :], c[1:, :], anisotropy),
    ):
        i, j = left.ravel(), right.ravel()
        w = scale * (2.0 * cl * cr / (cl + cr)).ravel()
        rows += [i, j]
        cols += [j, i]
        vals += [-w, -w]
        np.add.at(diagonal, i, w)
        np.add.at(diagonal, j, w)
    # Dirichlet: every missing neighbour couples to u = 0 (left/right: 1, up/down: anisotropy)
    missing = np.zeros((g, h))
    missing[:, 0] += 1.0
    missing[:, -1] += 1.0
    missing[0, :] += anisotropy
    missing[-1, :] += anisotropy
    diagonal += (missing * c).ravel()
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(diagonal)
    coo = scipy.sparse.coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return scipy.sparse.csr_array(coo)


def graph_laplacian(
    n: int, rng: np.random.Generator, *, degree: float = 6.0, shift: float = 1e-2
) -> scipy.sparse.csr_array:
    """L + shift I of an Erdos-Renyi graph with `degree` edges per node on average (edges
    drawn as random pairs, repeats and loops dropped), unit weights: SPD (the shift), CSR."""
    edges = round(n * degree / 2)
    i, j = rng.integers(0, n, edges), rng.integers(0, n, edges)
    keep = i != j
    i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    i, j = np.unique(np.stack([i, j]), axis=1)
    adjacency = scipy.sparse.coo_array((np.ones(i.size), (i, j)), shape=(n, n))
    adjacency = scipy.sparse.csr_array(adjacency + adjacency.T)
    laplacian = scipy.sparse.diags_array(adjacency.sum(axis=1) + shift) - adjacency
    return scipy.sparse.csr_array(laplacian)


def random_sparse_spd(
    n: int, rng: np.random.Generator, *, per_row: int = 4, shift: float = 1e-2
) -> scipy.sparse.csr_array:
    """M M^T + shift I with M n x n sparse, `per_row` Gaussian entries a row at random columns
    (NeuralIF's synthetic set: A = M M^T + alpha I, M ~ 99% sparse at n = 10^4; here a fixed
    count a row keeps A at about per_row^2 nonzeros a row at every n). SPD, not an
    M-matrix: IC(0) may break down on it."""
    k = min(per_row, n)
    rows = np.repeat(np.arange(n), k)
    cols = rng.integers(0, n, n * k)
    m = scipy.sparse.csr_array((rng.standard_normal(n * k), (rows, cols)), shape=(n, n))
    a = m @ m.T + shift * scipy.sparse.eye_array(n)
    return scipy.sparse.csr_array(a)


def diagonally_dominant(n: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian off-diagonal, |a_ii| > sum_j!=i |a_ij|: LU without pivoting is stable."""
    a = rng.standard_normal((n, n))
    np.fill_diagonal(a, 0.0)
    signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    np.fill_diagonal(a, signs * (np.abs(a).sum(axis=1) + 1.0))
    return a


def _haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


SPECTRA: dict[str, Callable[[int, float], np.ndarray]] = {
    "geometric": lambda n, cond: cond ** (-np.arange(n) / (n - 1)),
    "arithmetic": lambda n, cond: 1.0 - (1.0 - 1.0 / cond) * np.arange(n) / (n - 1),
    "one-small": lambda n, cond: np.r_[np.ones(n - 1), 1.0 / cond],
    "one-large": lambda n, cond: np.r_[1.0, np.full(n - 1, 1.0 / cond)],
}
"""randsvd's modes (MATLAB gallery('randsvd')): singular values from 1 down to 1/cond."""


def singular_values(n: int, cond: float, mode: str) -> np.ndarray:
    """Singular values from 1 down to 1/cond by `mode`, a key of `SPECTRA`."""
    if mode not in SPECTRA:
        raise ValueError(f"unknown randsvd mode {mode!r}; use {', '.join(SPECTRA)}")
    return np.ones(1) if n == 1 else SPECTRA[mode](n, cond)


def randsvd(n: int, rng: np.random.Generator, *, cond: float, mode: str) -> np.ndarray:
    """U diag(s) V^T with Haar-random U, V and prescribed singular values s."""
    s = singular_values(n, cond, mode)
    return (_haar_orthogonal(n, rng) * s) @ _haar_orthogonal(n, rng).T


def low_rank_size(n: int, rank: int | None) -> int:
    return max(1, n // 4) if rank is None else min(int(rank), n)


def low_rank(n: int, rng: np.random.Generator, *, rank: int | None, noise: float) -> np.ndarray:
    """Exactly rank r (default n // 4) Gaussian product, plus `noise` * Gaussian / sqrt(n)."""
    r = low_rank_size(n, rank)
    a = rng.standard_normal((n, r)) @ rng.standard_normal((r, n)) / math.sqrt(r)
    if noise:
        a += noise * rng.standard_normal((n, n)) / math.sqrt(n)
    return a


def needs_pivoting(n: int, rng: np.random.Generator, *, pivot: float) -> np.ndarray:
    """Gaussian matrix whose leading entry is `pivot` (0 or tiny): no-pivot LU fails or blows up.

    The first row is rescaled so that the leading 2x2 block stays well conditioned."""
    a = rng.standard_normal((n, n))
    a[0, 0] = pivot
    if n > 1:
        a[0, 1] = 1.0 + abs(a[0, 1])
        a[1, 0] = 1.0 + abs(a[1, 0])
    return a


def rectangular_shape(n: int, params: Mapping[str, Any]) -> tuple[int, int]:
    return (n, max(1, math.ceil(n * float(params["aspect"]))))


def rectangular(n: int, rng: np.random.Generator, *, aspect: float) -> np.ndarray:
    """Gaussian n x ceil(aspect * n): tall for aspect < 1, wide for aspect > 1."""
    return rng.standard_normal(rectangular_shape(n, {"aspect": aspect}))
