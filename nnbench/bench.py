"""Benchmark scripts that print ratios measured in one run (speed targets live here and in
asv, never in unit tests): `python -m nnbench.bench lowrank-vs-svd`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import get_method
from nnbench.metrics import MetricInput, evaluate
from nnbench.threads import DEFAULT_THREADS, thread_limit


def _best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def lowrank_vs_svd(*, n: int = 512, ranks: tuple[int, ...] = (10, 50), repeats: int = 3) -> None:
    """Fit time of neural-lowrank on the n x n photo vs scipy's full SVD, same process."""
    a = MATRIX_FAMILIES["image-camera"].make(n)
    svd = get_method("scipy-svd")
    svd_s, _ = _best_of(lambda: svd.compute(a, rank=None, seed=0), repeats)
    print(f"image-camera {n}x{n} float64, {DEFAULT_THREADS} thread(s); best of {repeats}")
    print(f"  scipy full SVD: {svd_s:.4f} s")
    neural = get_method("neural-lowrank")
    for k in ranks:
        fit_s, raw = _best_of(
            lambda k=k: neural.compute(neural.prepare(a, device="cpu"), rank=k, seed=0), repeats
        )
        fact = neural.finish(raw)
        row = evaluate(MetricInput(a=a, fact=fact, dtype="float64", rank=k))
        print(
            f"  neural-lowrank k={k}: {fit_s:.4f} s = {fit_s / svd_s:.1f}x the SVD "
            f"(goal <= 10x); {fact.history.steps} steps, ratio_2 - 1 = {row['ratio_2'] - 1:.1e}, "
            f"ratio_fro - 1 = {row['ratio_fro'] - 1:.1e}, rank_ok = {bool(row['rank_ok'])}"
        )


def jobs_speedup(*, jobs: int = 2) -> None:
    """Wall time of a 200-cell grid of small trainings, inline vs `jobs` worker processes."""
    from nnbench import Grid, expand, run_grid

    grid = Grid(
        matrices=("random-uniform", "random-gaussian", "spd", "symmetric", "randsvd"),
        methods=("neural-lowrank",),
        sizes=(16, 24, 32, 48, 64),
        ranks=(2, 4),
        repeats=4,
        timing_repeats=1,
    )
    cells = len(expand(grid))
    start = time.perf_counter()
    inline = run_grid(grid).results
    inline_s = time.perf_counter() - start
    start = time.perf_counter()
    parallel = run_grid(grid, jobs=jobs).results
    parallel_s = time.perf_counter() - start
    same = (
        inline.set_index("cell_id")
        .rel_err_fro.sort_index()
        .equals(parallel.set_index("cell_id").rel_err_fro.sort_index())
    )
    print(f"{cells} cells of neural-lowrank training, 1 thread per process")
    print(
        f"  inline: {inline_s:.1f} s; --jobs {jobs}: {parallel_s:.1f} s (worker start-up "
        f"included) -> speed-up {inline_s / parallel_s:.2f}x (goal >= 1.7x); "
        f"identical errors: {same}"
    )


BENCHMARKS: dict[str, Callable[[], None]] = {
    "lowrank-vs-svd": lowrank_vs_svd,
    "jobs-speedup": jobs_speedup,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m nnbench.bench", description=__doc__)
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    args = parser.parse_args()
    with thread_limit(DEFAULT_THREADS):
        BENCHMARKS[args.name]()


if __name__ == "__main__":
    main()
