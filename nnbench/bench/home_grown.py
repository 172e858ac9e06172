"""The dense and streaming part of `nnbench bench classical-speed`: every classical method
whose timed call is nnbench's own code (`speed_references.REFERENCES`) against its independent
implementation, after checking that both give the same output to rounding."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from nnbench.bench.speed_references import REFERENCES, Reference
from nnbench.bench.timers import alternating_times
from nnbench.report.stats import median_interval

GOAL = 2.0  # a verdict's comparator is at most this many times its reference's time
SAME = 1e-8  # the largest entry difference, relative to the largest entry, still rounding


@dataclass(frozen=True)
class SpeedRow:
    """One printed line: medians of alternating pairs, the ratio's median and 95% interval."""

    method: str
    n: int
    rank: int
    ours_s: float
    theirs_s: float
    ratio: tuple[float, float, float]
    gap: float


def comparator_studies(method: str) -> tuple[str, ...]:
    """The studies whose verdicts `method` is a comparator of: the fair studies' (any grid
    holding it) and every other study with a grid holding it beside a method of another
    group."""
    from nnbench.methods import METHODS
    from nnbench.studies import STUDIES
    from nnbench.studies.fair import FAIR, FAIR_GPU, FAIR_QUICK

    fair = {FAIR.name, FAIR_GPU.name, FAIR_QUICK.name}
    found = []
    for study in STUDIES.values():
        for grid in study.grids:
            names = {m.partition("[")[0] for m in grid.methods}
            groups = {METHODS[m].group for m in names if m in METHODS}
            if method in names and (study.name in fair or groups - {"classical"}):
                found.append(study.name)
                break
    return tuple(found)


def output_gap(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> float:
    """The largest entry difference of the named factors, relative to each factor's largest
    entry (the worst factor's)."""
    gaps = [
        float(np.abs(ours[name] - theirs[name]).max())
        / max(float(np.abs(ours[name]).max()), 1e-300)
        for name in theirs
    ]
    return max(gaps)


def ours_and_theirs(reference: Reference, a: np.ndarray, rank: int) -> tuple[Any, Any, float]:
    """The method's timed call, the reference's, and how far apart their outputs are."""
    from nnbench.methods import METHODS

    method = METHODS[reference.method]
    x = method.prepare(a, device="cpu")
    ours = partial(method.compute, x, rank=rank or None, seed=0)
    theirs = partial(reference.call, a, rank, 0)
    factorization = method.finish(ours())
    expected = theirs()
    if reference.by_product:
        got = {"product": factorization.reconstruct()}
        expected = {"product": expected["left"] @ expected["right"]}
    else:
        got = {name: np.asarray(value) for name, value in factorization.factors.items()}
    return ours, theirs, output_gap(got, expected)


def measure(reference: Reference, n: int, rank: int, *, pairs: int, budget_s: float) -> SpeedRow:
    """One size and rank of `reference`: outputs checked equal to rounding (AssertionError
    otherwise), then `pairs` alternating pairs of calls (fewer once `budget_s` is spent)."""
    from nnbench.corpus import MATRIX_FAMILIES

    a = MATRIX_FAMILIES[reference.matrix].make(n, seed=1)
    ours, theirs, gap = ours_and_theirs(reference, a, rank)
    assert gap <= SAME, f"{reference.method} and {reference.label} differ by {gap:.1e} at n = {n}"
    times = alternating_times(ours, theirs, repeats=pairs, budget_s=budget_s)
    ratio = median_interval(times[:, 0] / times[:, 1])
    return SpeedRow(
        reference.method, n, rank, float(np.median(times[:, 0])), float(np.median(times[:, 1])),
        (ratio.median, ratio.low, ratio.high), gap,
    )  # fmt: skip


def row_text(row: SpeedRow, label: str, studies: tuple[str, ...]) -> str:
    median, low, high = row.ratio
    verdict = "not a comparator"
    if studies:
        verdict = (
            "meets" if median <= GOAL else "MISSES"
        ) + f" <= {GOAL:g}x ({', '.join(studies)})"
    return (
        f"  {row.method:<22} {row.n:>5} {row.rank or '':>3} {row.ours_s * 1e3:10.3f} ms "
        f"{label:<46} {row.theirs_s * 1e3:10.3f} ms  {median:5.2f}x [{low:.2f}, {high:.2f}]  "
        f"{row.gap:.0e}  {verdict}"
    )


def _available(reference: Reference) -> bool:
    if not reference.needs:
        return True
    try:
        __import__(reference.needs)
    except ImportError:
        print(f"  {reference.method}: {reference.needs} not installed, {reference.label} skipped")
        return False
    return True


def home_grown_speed(
    *,
    sizes: tuple[int, ...] | None = None,
    ranks: tuple[int, ...] | None = None,
    pairs: int = 15,
    budget_s: float = 20.0,
    references: tuple[Reference, ...] = REFERENCES,
) -> list[SpeedRow]:
    """Prints each method against its reference at the reference's sizes and ranks (or
    `sizes`, `ranks` where given: a quick look), one thread (the bench's), ratios ours /
    theirs with their 95% bootstrap interval over the pairs, and returns the rows."""
    print(
        "nnbench's own code against an independent implementation (one thread; alternating "
        "pairs; ratio ours/theirs, median [95% interval]; largest output difference):"
    )
    print(f"  {'method':<22} {'n':>5} {'k':>3} {'ours':>13} {'reference':<46} {'theirs':>13}")
    rows = []
    for reference in references:
        if not _available(reference):
            continue
        studies = comparator_studies(reference.method)
        for n in sizes or reference.sizes:
            for rank in reference.ranks if reference.ranks == (0,) else ranks or reference.ranks:
                row = measure(reference, n, rank, pairs=pairs, budget_s=budget_s)
                print(row_text(row, reference.label, studies), flush=True)
                rows.append(row)
    return rows
