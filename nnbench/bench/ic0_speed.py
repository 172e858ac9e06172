"""`nnbench bench classical-speed`: nnbench's compiled IC(0) and its apply against the
fastest independent implementations here, then every other classical method whose timed call
is nnbench's own code (`home_grown`)."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from nnbench.bench.home_grown import home_grown_speed
from nnbench.bench.timers import paired_ratios
from nnbench.corpus import MATRIX_FAMILIES


def _ratio_line(label: str, reference: str, seconds: float, ratios: np.ndarray) -> str:
    low, high = np.percentile(ratios, [25, 75])  # a loaded machine stretches the extremes
    return (
        f"  {label:<34} {reference:<40} {seconds * 1e3:9.3f} ms  ours/theirs "
        f"{np.median(ratios):5.2f}x [{low:.2f}, {high:.2f}]"
    )


def classical_speed(
    *,
    sizes: tuple[int, ...] = (4096, 65536),
    pairs: int = 31,
    dense_sizes: tuple[int, ...] | None = None,
    ranks: tuple[int, ...] | None = None,
) -> None:
    """nnbench's own classical code against the fastest independent implementation here, on
    diffusion-2d (the 5-point Laplacian plus a diagonal shift): IC(0)'s build against ILU++'s
    `ichol0` (same factor: the largest entry difference is printed), and one application of
    (L L^T)^-1 against SuperLU's factor of L reused (`splu` in natural order, no pivoting),
    each also in sparse products with A. Ratios: the median over alternating pairs of calls,
    with their interquartile range. Then every other method whose timed call is nnbench's own
    code (`home_grown.home_grown_speed`, at each reference's sizes and ranks, or
    `dense_sizes` and `ranks` where given)."""
    _sparse_ic0_speed(sizes, pairs)
    print()
    home_grown_speed(sizes=dense_sizes, ranks=ranks, pairs=pairs)


def _sparse_ic0_speed(sizes: tuple[int, ...], pairs: int) -> None:
    """The sparse part of `classical_speed`: IC(0)'s build and its apply."""
    import scipy.sparse
    import scipy.sparse.linalg

    from nnbench.methods.preconditioners import sparse_ic0, triangular_inverse

    print("ours against the fastest independent implementation (one thread):")
    for n in sizes:
        a = MATRIX_FAMILIES["diffusion-2d"].make(n, seed=1)
        r = np.random.default_rng(0).standard_normal(n)
        product = partial(a.__matmul__, r)
        spmv, _ = paired_ratios(product, product, pairs=pairs)
        lower = sparse_ic0(a)
        print(f" n = {n:,}, nnz(A) = {a.nnz:,}, one product with A {spmv * 1e3:.3f} ms")
        _against_ichol0(a, lower, pairs=pairs)
        apply = triangular_inverse(lower).apply
        factor = scipy.sparse.linalg.splu(
            scipy.sparse.csc_matrix(lower), permc_spec="NATURAL", diag_pivot_thresh=0.0
        )

        def superlu(r: np.ndarray, factor: Any) -> np.ndarray:
            return np.asarray(factor.solve(factor.solve(r), trans="T"))

        seconds, ratios = paired_ratios(partial(apply, r), partial(superlu, r, factor), pairs=pairs)
        print(_ratio_line("(L L^T)^-1 r, compiled solves", "SuperLU's factor of L reused", seconds,
                          ratios))  # fmt: skip
        ours_s = seconds * float(np.median(ratios))
        print(
            f"  {'':<34} in products with A: ours {ours_s / spmv:.1f}, SuperLU {seconds / spmv:.1f}"
        )


def _against_ichol0(a: Any, lower: Any, *, pairs: int) -> None:
    """Prints IC(0)'s build against ILU++'s `ichol0` of A (int32 indices, as it takes them)
    and how far apart their factors are, or that ILU++ is not installed."""
    import scipy.sparse

    from nnbench.methods.preconditioners import sparse_ic0

    try:
        import ilupp
    except ImportError:  # an optional reference: it builds from source in about 2 minutes
        print("  sparse-ic0 build: ILU++ not installed (`pip install ilupp`), not compared")
        return
    a32 = scipy.sparse.csr_matrix(a)
    a32.indices, a32.indptr = a32.indices.astype(np.int32), a32.indptr.astype(np.int32)
    theirs = scipy.sparse.csr_matrix(ilupp.ichol0(a32))
    gap = abs(theirs - scipy.sparse.csr_matrix(lower)).max() / abs(lower).max()
    seconds, ratios = paired_ratios(partial(sparse_ic0, a), partial(ilupp.ichol0, a32), pairs=pairs)
    print(_ratio_line("sparse-ic0 build", "ILU++ ichol0", seconds, ratios))
    print(f"  {'':<34} same factor: largest entry difference {gap:.1e} (relative)")
