"""`nnbench bench timing-overhead`: what nnbench's timed region adds to each classical
method's bare library call (`library_calls`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnbench.bench.library_calls import LibraryCall, library_calls
from nnbench.bench.timers import alternating_medians
from nnbench.running.threads import DEFAULT_THREADS


def _overhead_input(method: Any, n: int, batch: int) -> np.ndarray:
    """A random Gaussian n x n matrix (a stack of `batch` of them), or, for a method that needs
    SPD input, an SPD one that is also diagonally dominant (IC(0) needs both)."""
    g = np.random.default_rng(n).standard_normal((batch, n, n) if batch > 1 else (n, n))
    if not method.requires.tags:
        return g
    return g @ np.swapaxes(g, -1, -2) / n + n * np.eye(n)


def timing_overhead(
    *,
    sizes: tuple[int, ...] = (16, 64, 256, 1024),
    batch: int = 1000,
    side: int = 8,
    rank: int = 10,
    repeats: int = 21,
    budget_s: float = 2.0,
) -> None:
    """What nnbench's timed region adds to the library's call (issue 22): for every classical
    method at each of `sizes` (n x n; rank-k ones at k = min(`rank`, n // 4)), and for each
    batchable one on a stack of `batch` `side` x `side` matrices, the time a run records
    (`running.timing.time_call` of the method's `compute` on its `prepare`d input) over the
    time of the bare library call (`library_calls`) on the same input, timed the same way in
    this process, on the run's threads. Goals: median ratio <= 1.3x, none above 2x."""
    import warnings

    from nnbench.methods import METHODS
    from nnbench.running.threads import thread_limit

    library = library_calls()
    classical = [m for m in METHODS.values() if m.group == "classical"]
    cases = [(m, n, 1) for n in sizes for m in classical]
    cases += [(m, side, batch) for m in classical if m.batchable]
    print(
        f"classical methods on random Gaussian input (SPD where a method needs it), float64, "
        f"CPU, {DEFAULT_THREADS} thread(s); median of up to {repeats} alternating calls each"
    )
    print(
        f"{'method':<22} {'input':>10} {'library call':<30} {'nnbench us':>12} "
        f"{'library us':>12} {'ratio':>6}"
    )
    ratios: dict[str, float] = {}
    with thread_limit(DEFAULT_THREADS), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")  # as the runner records them
        for method, n, count in cases:
            k = min(rank, max(1, n // 4)) if method.needs_rank else None
            shape = f"{n}x{n}" if count == 1 else f"{count}x{n}x{n}"
            x = _overhead_input(method, n, count)
            ratio = _overhead_row(
                method, shape, x, k, library[method.name], repeats=repeats, budget_s=budget_s
            )
            if ratio is not None:
                ratios[f"{method.name} {shape}"] = ratio
    _print_verdict(ratios)


def _overhead_row(
    method: Any,
    shape: str,
    a: np.ndarray,
    k: int | None,
    call: LibraryCall,
    *,
    repeats: int,
    budget_s: float,
) -> float | None:
    """Prints the method's row (its median time, the library call's and their ratio, or why
    it skipped); returns the ratio (None: skipped)."""
    from nnbench.errors import SkipCell

    try:
        x = method.prepare(a, device="cpu")
        ours_s, theirs_s = alternating_medians(
            lambda: method.compute(x, rank=k, seed=0),
            call.bind(x, k or 1),
            repeats=repeats,
            budget_s=budget_s,
        )
    except SkipCell as skip:
        print(f"{method.name:<22} {shape:>10} {call.label:<30} skipped: {skip.reason}")
        return None
    print(
        f"{method.name:<22} {shape:>10} {call.label:<30} {ours_s * 1e6:>12,.1f} "
        f"{theirs_s * 1e6:>12,.1f} {ours_s / theirs_s:>6.2f}"
    )
    return ours_s / theirs_s


def _print_verdict(ratios: dict[str, float]) -> None:
    """The median and the largest ratio, against the goals."""
    worst = max(ratios, key=ratios.__getitem__)
    median = float(np.median(list(ratios.values())))
    met = median <= 1.3 and ratios[worst] <= 2.0
    print(
        f"median ratio {median:.2f}x (goal <= 1.3x); max {ratios[worst]:.2f}x, {worst} "
        f"(goal <= 2x): {'met' if met else 'NOT met'}"
    )
