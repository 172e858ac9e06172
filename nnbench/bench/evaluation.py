"""`nnbench bench eval-cost`: what evaluating a cell costs beside the method it evaluates."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

from nnbench.bench.timers import best_of
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import get_method
from nnbench.metrics.evaluation import MetricInput, evaluate
from nnbench.running.threads import DEFAULT_THREADS

EVAL_COST_METHODS = ("scipy-lu", "torch-lu", "scipy-qr", "scipy-svds-propack", "torch-rsvd")


def _evaluate_afresh(cell: MetricInput) -> Any:
    """Every metric of the cell, nothing reused from an earlier call but the shared spectrum."""
    return evaluate(dataclasses.replace(cell))


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
            seconds, raw = best_of(partial(method.compute, x, rank=k, seed=0), 3)
            cell = MetricInput(a=a, fact=method.finish(raw), dtype="float64", rank=k)
            INSTANCE_CACHE.clear()  # the first cell on this instance pays for its spectrum
            first, _ = best_of(partial(_evaluate_afresh, cell), 1)
            later, _ = best_of(partial(_evaluate_afresh, cell), 3)
            print(
                f"{n:>6} {method.name:<20} {seconds:>10.4f} {first:>9.3f} "
                f"({first / seconds:>4.0f}x) {later:>9.3f} ({later / seconds:>4.1f}x)"
            )
