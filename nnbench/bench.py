"""Benchmark scripts that print ratios measured in one run (speed targets live here and in
asv, never in unit tests): `nnbench bench lowrank-vs-svd`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import numpy as np

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import get_method
from nnbench.metrics.evaluation import MetricInput, evaluate
from nnbench.running.threads import DEFAULT_THREADS
from nnbench.running.timing import BUDGET_S

T = TypeVar("T")


def _best_of(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The least wall time of up to `repeats` calls (fewer once 1 s of calls is spent, as in
    the timing protocol), and the last call's result."""
    times: list[float] = []
    while not times or (len(times) < repeats and sum(times) < BUDGET_S):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


RANK_K_CONTENDERS = (
    "scipy-tsvd",
    "scipy-svds-propack",
    "scipy-svds-arpack",
    "torch-rsvd[niter=4]",
    "torch-rsvd[niter=8]",
    "hybrid-lowrank-als",
    "neural-lowrank-lbfgs",
)


def lowrank_vs_svd(*, n: int = 512, ranks: tuple[int, ...] = (10, 50), repeats: int = 3) -> None:
    """Rank-k of the n x n photo: the hybrid and the best neural method beside the classical
    methods a practitioner would pick (full SVD, Lanczos svds, randomized SVD), same process,
    with each one's accuracy: which classical method matches the hybrid's, and how fast."""
    from nnbench.methods import select_methods

    a = MATRIX_FAMILIES["image-camera"].make(n)
    print(
        f"image-camera {n}x{n} float64, {DEFAULT_THREADS} thread(s); best of up to {repeats} "
        f"calls within {BUDGET_S:g} s"
    )
    for k in ranks:
        timed = {}
        for method in select_methods(list(RANK_K_CONTENDERS)):
            x = method.prepare(a, device="cpu")
            seconds, raw = _best_of(partial(method.compute, x, rank=k, seed=0), repeats)
            row = evaluate(MetricInput(a=a, fact=method.finish(raw), dtype="float64", rank=k))
            excess = max(row.ratio_2, row.ratio_fro) - 1
            timed[method.name] = (seconds, excess, method.group)
        hybrid_s, hybrid_excess, _ = timed["hybrid-lowrank-als"]
        matched = {
            name: s
            for name, (s, e, group) in timed.items()
            if group == "classical" and e <= max(hybrid_excess, 1e-14)
        }
        best = min(matched, key=matched.__getitem__)
        print(f"  k = {k}:")
        for name, (seconds, excess, group) in timed.items():
            print(f"    {name:<24} {group:<9} {seconds:.4f} s, ratio - 1 = {excess:.1e}")
        print(
            f"    best classical at the hybrid's accuracy: {best}, {matched[best]:.4f} s; "
            f"the hybrid takes {hybrid_s / matched[best]:.1f}x its time"
        )


def jobs_speedup(
    *, jobs: int = 2, sizes: tuple[int, ...] = (16, 24, 32, 48, 64), repeats: int = 4
) -> None:
    """Wall time of a grid of small trainings (200 cells: 5 families x 5 `sizes` x 2 ranks
    x 4 `repeats`), inline vs `jobs` worker processes."""
    from nnbench.api import Execution, Grid, expand, run_grid

    grid = Grid(
        matrices=("random-uniform", "random-gaussian", "spd", "symmetric", "randsvd"),
        methods=("hybrid-lowrank-als",),
        sizes=sizes,
        ranks=(2, 4),
        repeats=repeats,
        timing_repeats=1,
    )
    cells = len(expand(grid))
    start = time.perf_counter()
    inline = run_grid(grid).results
    inline_s = time.perf_counter() - start
    start = time.perf_counter()
    parallel = run_grid(grid, execution=Execution(jobs=jobs)).results
    parallel_s = time.perf_counter() - start
    same = (
        inline.set_index("cell_id")
        .rel_err_fro.sort_index()
        .equals(parallel.set_index("cell_id").rel_err_fro.sort_index())
    )
    print(f"{cells} cells of hybrid-lowrank-als training, 1 thread per process")
    print(
        f"  inline: {inline_s:.1f} s; --jobs {jobs}: {parallel_s:.1f} s (worker start-up "
        f"included) -> speed-up {inline_s / parallel_s:.2f}x (goal >= 1.7x); "
        f"identical errors: {same}"
    )


def appendix_a(a: np.ndarray, *, nb_epochs: int = 5000, seed: int = 0) -> tuple[float, float]:
    """Study 000's Appendix A loop, transcribed: a Python data generator of `data_size` rows
    (np.random.rand), torch.Tensor (float32) inputs, Linear layers, MSELoss + penalty, Adam
    0.1. Returns (final loss, relative 2-norm error of W1^T W2^T)."""
    import torch

    np.random.seed(seed)
    torch.manual_seed(seed)
    n, data_size = a.shape[0], 100

    def data_generator(data_size: int) -> tuple[list, list]:
        inputs, labels = [], []
        for _ in range(data_size):
            x = np.random.rand(1, n)
            inputs.append([x])
            labels.append([np.matmul(x, a)])
        return inputs, labels

    fc1 = torch.nn.Linear(n, n, bias=False)
    fc2 = torch.nn.Linear(n, n, bias=False)
    critereon = torch.nn.MSELoss()
    optimizer = torch.optim.Adam([*fc1.parameters(), *fc2.parameters()], lr=0.1)
    loss = torch.zeros(())
    for _ in range(nb_epochs):
        inputs, labels = data_generator(data_size)
        x, y = torch.Tensor(np.array(inputs)), torch.Tensor(np.array(labels))
        loss = critereon(fc2(fc1(x)), y) + fc2.weight[0, 1] ** 2 + fc1.weight[1, 0] ** 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    product = (fc1.weight.T @ fc2.weight.T).detach().double().numpy()
    return float(loss.detach()), float(np.linalg.norm(product - a, 2) / np.linalg.norm(a, 2))


def lu_throughput(
    *, count: int = 1000, loops: int = 3, repeats: int = 3, steps: int = 5000
) -> None:
    """Batched hybrid-lu-newton on `count` random 2x2 matrices, against the strongest classical
    method for the job (batched `torch.linalg.lu_factor` on the same stack) and, for the
    record, against study 000's Appendix A loop on `loops` of them and its final
    configuration batched, both trained `steps` steps (the study's 5000)."""
    import torch

    from nnbench.methods.trained import fit_lu_batch

    family = MATRIX_FAMILIES["random-gaussian"]
    batch = np.stack([family.make(2, seed=seed) for seed in range(count)])
    config = get_method("hybrid-lu-newton").config
    batch_s, fit = _best_of(lambda: fit_lu_batch(batch, config), repeats)
    good = int(np.sum(fit.rel_err_2 <= 1e-12))
    print(f"{count} random Gaussian 2x2 matrices, float64, {DEFAULT_THREADS} thread(s)")
    print(
        f"  hybrid-lu-newton batched: {batch_s:.4f} s (best of {repeats}), {fit.steps} steps; "
        f"{good}/{count} at rel_err_2 <= 1e-12 (max {fit.rel_err_2.max():.1e}); "
        f"goal: all in <= 5 s"
    )
    stack = torch.from_numpy(batch)

    def library() -> Any:
        lu, pivots = torch.linalg.lu_factor(stack)
        return torch.lu_unpack(lu, pivots)

    lib_s, (p, lower, upper) = _best_of(library, repeats)
    lib_err = torch.linalg.matrix_norm(p @ lower @ upper - stack, 2) / torch.linalg.matrix_norm(
        stack, 2
    )
    print(
        f"  torch.linalg.lu_factor + lu_unpack on the same stack: {lib_s:.5f} s, max rel_err_2 "
        f"{float(lib_err.max()):.1e}: the batched network fit takes {batch_s / lib_s:,.0f}x "
        f"the library's time at matched accuracy"
    )
    loop_s = []
    for seed in range(loops):
        start = time.perf_counter()
        loss, err = appendix_a(batch[seed], nb_epochs=steps, seed=seed)
        loop_s.append(time.perf_counter() - start)
        print(
            f"  Appendix A loop, matrix {seed}: {loop_s[-1]:.2f} s, loss {loss:.2e}, "
            f"rel_err_2 {err:.1e}"
        )
    per_matrix = float(np.median(loop_s))
    ratio = per_matrix * count / batch_s
    print(
        f"  against study 000's loop (not a competitor: the library is): "
        f"{count} x {per_matrix:.2f} s / {batch_s:.4f} s = {ratio:,.0f}x"
    )
    start = time.perf_counter()
    final = dataclasses.replace(get_method("neural-lu-study-final").config, steps=steps)
    study = fit_lu_batch(batch.astype(np.float32), final)
    study_s = time.perf_counter() - start
    print(
        f"  study 000's final configuration (Appendix A's network, Adam 0.1), batched (float32, "
        f"{steps} steps): {study_s:.1f} s "
        f"= {per_matrix * count / study_s:,.0f}x the loop; median rel_err_2 "
        f"{np.median(study.rel_err_2):.1e}, {int(np.sum(study.rel_err_2 <= 1e-3))}/{count} "
        f"at <= 1e-3"
    )


def _evaluate_afresh(cell: MetricInput) -> Any:
    """Every metric of the cell, nothing reused from an earlier call but the shared spectrum."""
    return evaluate(dataclasses.replace(cell))


EVAL_COST_METHODS = ("scipy-lu", "torch-lu", "scipy-qr", "scipy-svds-propack", "torch-rsvd")


def eval_cost(*, sizes: tuple[int, ...] = (256, 512, 1024, 2048), rank: int = 10) -> None:
    """What evaluating a cell costs beside the method it evaluates, per n: the first cell on
    an instance (which computes its singular values) and any later one (they are shared: see
    `metrics.INSTANCE_CACHE`). Goal (issue 14): later cells at most 1x a classical method's time."""
    from nnbench.metrics import INSTANCE_CACHE

    print(f"random Gaussian n x n, float64, {DEFAULT_THREADS} thread(s); rank-k at k = {rank}")
    print(f"{'n':>6} {'method':<20} {'method s':>10} {'eval s (first)':>15} {'eval s (later)':>15}")
    for n in sizes:
        a = MATRIX_FAMILIES["random-gaussian"].make(n, seed=n)
        for method in map(get_method, EVAL_COST_METHODS):
            k = rank if method.needs_rank else None
            x = method.prepare(a, device="cpu")
            seconds, raw = _best_of(partial(method.compute, x, rank=k, seed=0), 3)
            cell = MetricInput(a=a, fact=method.finish(raw), dtype="float64", rank=k)
            INSTANCE_CACHE.clear()  # the first cell on this instance pays for its spectrum
            first, _ = _best_of(partial(_evaluate_afresh, cell), 1)
            later, _ = _best_of(partial(_evaluate_afresh, cell), 3)
            print(
                f"{n:>6} {method.name:<20} {seconds:>10.4f} {first:>9.3f} "
                f"({first / seconds:>4.0f}x) {later:>9.3f} ({later / seconds:>4.1f}x)"
            )


BENCHMARKS: dict[str, Callable[[], None]] = {
    "eval-cost": eval_cost,
    "lowrank-vs-svd": lowrank_vs_svd,
    "jobs-speedup": jobs_speedup,
    "lu-throughput": lu_throughput,
}
