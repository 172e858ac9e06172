"""Accuracy levels: how each task's accuracy is measured (0 is exact), the levels the tables
ask for, the rounding floor below which a level is not measurable, and the *points*: one
method variant (a budget: power iterations, steps, tolerance) on one problem, with its worst
accuracy over the problem's matrix instances and its median time. Pure functions of the
results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbench.precision import PRECISIONS
from nnbench.report.problems import PROBLEM, per_table, sourced


def _no_floor(df: pd.DataFrame) -> pd.Series:
    return pd.Series(np.nan, index=df.index)


def _kept(df: pd.DataFrame) -> pd.Series:
    return pd.Series("", index=df.index, dtype=object)


@dataclass(frozen=True)
class Accuracy:
    """How a task's accuracy is measured (0 is exact), the levels the tables ask for and the
    verdict's target by dtype (one of the levels). Per row, `floor` is the least accuracy that
    rounding lets mean something (`floor_label` says what it is; NaN: none stated): a level
    below it is "not measurable" on that problem, and a problem whose floor is above every
    level is left out of the verdict; `left_out` gives any other reason a row's problem is
    left out ("" where it is judged). `scales`: the floor is rounding's (c n eps), and a
    problem whose `FLOOR_MARGIN` x floor is above the target is judged there, at a level of
    its own precision, instead of at the next coarser level of the ladder (float32 LU's
    1e-3 is met by every correct factorization, and by some wrong ones)."""

    label: str
    short: str
    measure: Callable[[pd.DataFrame], pd.Series]
    levels: tuple[float, ...]
    target: dict[str, float]  # the verdict's matched accuracy, by storage dtype
    floor: Callable[[pd.DataFrame], pd.Series] = _no_floor
    floor_label: str = ""
    left_out: Callable[[pd.DataFrame], pd.Series] = _kept
    scales: bool = False

    def __post_init__(self) -> None:
        if not set(self.target.values()) <= set(self.levels):
            raise ValueError(f"{self.short}: each target must be one of the levels {self.levels}")


def _storage(precision: object) -> str:
    """The dtype a precision stores in (tf32: float32), as the metrics' floor takes it."""
    return PRECISIONS[str(precision)].storage


def rounding(df: pd.DataFrame) -> pd.Series:
    """max(m, n) eps(dtype) per row: the relative error that rounding alone can cause, and the
    numerical rank's tolerance (`nnbench.metrics.norms.error_floor`, over a table)."""
    eps = df["dtype"].map(lambda p: float(np.finfo(_storage(p)).eps)).astype(float)
    return np.maximum(df.n_rows.astype(float), df.n_cols.astype(float)) * eps


RANK_K_LEVELS = (1e-2, 1e-6, 1e-12)
FLOOR_MARGIN = 10.0
"""c of a level at c n eps: a backward-stable method meets it on any matrix without great
growth, an approximation that stops short of the precision does not."""


def _rank_k_scores(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per row, the excess over the Eckart-Young optimum as a share of the zero matrix's,
    (rel_err - opt_err) / (1 - opt_err) (0: optimal; 1: no better than the zero matrix), and
    its floor max(m, n) eps / (1 - opt_err), each the larger over the norms (2-norm and
    Frobenius) that count.

    The floor: a backward-stable truncated SVD in `dtype` is the exact one of A + E with
    ||E|| <= about max(m, n) eps ||A||, so rounding alone moves rel_err off opt_err by about
    max(m, n) eps (constant 1, the tolerance of the numerical rank), and the excess by that
    over the gap 1 - opt_err. A norm whose floor is above the loosest level (a gap within
    rounding of 0: sigma_(k+1) ~ sigma_1 in the 2-norm on a flat spectrum) cannot tell the
    zero matrix from the optimum and is not counted; where neither norm can, both count, and
    the problem, whose floor is then above every level, is left out of the verdict."""
    eps = rounding(df)
    excess, floor = [], []
    for norm in ("2", "fro"):
        opt = df[f"opt_err_{norm}"].astype(float)
        gap = np.maximum(1.0 - opt, eps)
        excess.append((df[f"rel_err_{norm}"].astype(float) - opt) / gap)
        floor.append(eps / gap)
    counts = [f <= max(RANK_K_LEVELS) for f in floor]
    neither = ~(counts[0] | counts[1])
    keep = [c | neither for c in counts]

    def worse(series: list[pd.Series]) -> pd.Series:
        return np.fmax(series[0].where(keep[0]), series[1].where(keep[1]))

    return worse(excess), worse(floor)


def _rank_k_excess(df: pd.DataFrame) -> pd.Series:
    return _rank_k_scores(df)[0]


def _rank_k_floor(df: pd.DataFrame) -> pd.Series:
    return _rank_k_scores(df)[1]


def _k_at_least_rank(df: pd.DataFrame) -> pd.Series:
    """k >= the numerical rank of A: sigma_(k+1) / sigma_1 (opt_err_2) at the rounding floor,
    where `expected_rank` (min(k, rank A)) is below k or equal to it. The optimum is A itself:
    the task is an exact factorization there, not an approximation."""
    k = df["rank"].astype(float)
    exact = (df.expected_rank.astype(float) < k) | (df.opt_err_2.astype(float) <= rounding(df))
    reasons = [
        f"k = {k_:g} >= the numerical rank {r:g} of A: the optimum is A itself" if e else ""
        for e, k_, r in zip(exact, k, df.expected_rank.astype(float), strict=True)
    ]
    return pd.Series(reasons, index=df.index, dtype=object)


def _backward(df: pd.DataFrame) -> pd.Series:
    """The factorization's normwise backward error ||PA - LU|| / ||A|| (the worse of the 2-norm
    and Frobenius, with the factors as returned), and where A is numerically nonsingular also
    the backward error of a solve with them: on a singular A a solve's backward error is met
    by wrong factors (a huge solution has a tiny residual relative to it), so there it never
    counts, and nowhere does it count alone."""
    factorization = np.maximum(df.rel_err_2, df.rel_err_fro)
    nonsingular = df.expected_rank >= np.minimum(df.n_rows, df.n_cols)
    solve = df.solve_backward_err.where(nonsingular & df.solve_backward_err.notna(), 0.0)
    return np.maximum(factorization, solve)


def _error_and_orthogonality(df: pd.DataFrame) -> pd.Series:
    return np.maximum(df.rel_err_fro, df.structure_err)


ORTHOGONAL = Accuracy(  # QR and SVD: the factors rebuild A and the orthogonal ones are
    "max(rel. Frobenius error, loss of orthogonality)",
    "max(error, orthogonality)",
    _error_and_orthogonality,
    (1e-6, 1e-12),
    {"float64": 1e-12, "float32": 1e-6},
    # Householder QR and the SVD are backward stable with a bound of order n eps, as LU's
    floor=rounding,
    floor_label="n eps(dtype)",
    scales=True,
)
ACCURACY: dict[str, Accuracy] = {
    "rank-k": Accuracy(
        "excess = (rel_err - opt_err) / (1 - opt_err): the excess over the Eckart-Young "
        "optimum as a share of the zero matrix's (0 optimal, 1 no better than 0; worse of "
        "2-norm and Frobenius)",
        "excess",
        _rank_k_excess,
        RANK_K_LEVELS,
        {"float64": 1e-6, "float32": 1e-2},
        floor=_rank_k_floor,
        floor_label="max(m, n) eps(dtype) / (1 - opt_err)",
        left_out=_k_at_least_rank,
    ),
    "lu": Accuracy(
        "backward error: max(||PA - LU|| / ||A||, that of Ax = 1 solved with the factors where "
        "A is nonsingular)",
        "backward error",
        _backward,
        (1e-3, 1e-6, 1e-12),
        {"float64": 1e-12, "float32": 1e-6},
        # Wilkinson's bound for LU is growth x n eps: below n eps (constant 1), whether a
        # correct factorization gets there is the matrix's rounding luck, not the method's
        floor=rounding,
        floor_label="n eps(dtype)",
        scales=True,
    ),
    "qr": ORTHOGONAL,
    "svd": ORTHOGONAL,
}
"""By task (the `kind` column)."""


def _first_reason(reasons: pd.Series) -> str:
    return next((str(r) for r in reasons if r), "")


def _scored(cells: pd.DataFrame, accuracy: Accuracy) -> pd.DataFrame:
    """`cells` of one task with each one's accuracy, and its problem's floor (the largest over
    the problem's instances) and reason to be left out of the verdict ("" where judged)."""
    scored = cells.assign(
        accuracy=accuracy.measure(cells).clip(lower=0.0),
        floor=accuracy.floor(cells),
        left_out=accuracy.left_out(cells),
    )
    problem = scored.groupby(PROBLEM, dropna=False)
    floor = problem.floor.transform("max")
    reasons = [
        r or _no_level_measurable(accuracy, f)
        for r, f in zip(problem.left_out.transform(_first_reason), floor, strict=True)
    ]
    return scored.assign(floor=floor, left_out=reasons)


def _no_level_measurable(accuracy: Accuracy, floor: float) -> str:
    """Why no level is measurable on a problem: its floor above every level of the ladder,
    or (a scaling floor) FLOOR_MARGIN x floor at 1 or above, where the zero-information
    answer (the zero matrix) would meet the level."""
    top = 1.0 / FLOOR_MARGIN if accuracy.scales else max(accuracy.levels)
    if not floor > top:  # NaN: none stated
        return ""
    return f"no level is measurable: floor {floor:.2g} = {accuracy.floor_label} > {top:g}"


@per_table
def budget_points(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, method variant) whose cells all ended ok: the worst accuracy over
    the problem's matrix instances, the median time and each cell's (`times`), the method's
    group and base, and the problem's `floor` and `left_out` reason (see `Accuracy`)."""
    frames = []
    results = sourced(results)
    for kind, accuracy in ACCURACY.items():
        cells = results[results.kind == kind]
        if cells.empty:
            continue
        cells = _scored(cells, accuracy)
        cells = cells[cells.accuracy.notna() | (cells.status != "ok")]  # unmeasured: no point
        keys = [*PROBLEM, "group", "method_base", "method", "options"]
        points = (
            cells.assign(is_ok=cells.status == "ok")
            .groupby(keys, dropna=False)
            .agg(
                accuracy=("accuracy", "max"),
                time_s=("time_s", "median"),
                times=("time_s", tuple),  # each cell's (repeat's): the verdict's intervals
                cells=("status", "size"),
                ok=("is_ok", "sum"),
                floor=("floor", "first"),
                left_out=("left_out", "first"),
            )
        )
        frames.append(points[points.ok == points.cells].reset_index())
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def matched_level(accuracy: Accuracy, dtype: str, floor: float) -> float:
    """The tightest level at or above the dtype's target that the problem's floor lets mean
    something (the target itself unless rounding alone can cost that much there)."""
    target = accuracy.target[_storage(dtype)]
    if accuracy.scales:
        return target if not FLOOR_MARGIN * floor > target else _up(FLOOR_MARGIN * floor)
    return min(lv for lv in accuracy.levels if lv >= target and not lv < floor)


def _up(x: float) -> float:
    """x rounded up to two significant digits (1.22e-3 -> 1.3e-3): a level as printed."""
    unit = 10.0 ** (int(np.floor(np.log10(x))) - 1)
    return float(f"{np.ceil(round(x / unit, 9)) * unit:.2g}")


def matched_text(accuracy: Accuracy, dtype: str, levels: Sequence[float]) -> str:
    """The target, and the coarser levels some problems are judged at (their floor is above
    the target), with on how many."""
    target = accuracy.target[_storage(dtype)]
    text = f"{accuracy.short} <= {target:g}"
    coarser = pd.Series([lv for lv in levels if lv != target], dtype=float).value_counts()
    if coarser.empty:
        return text
    if accuracy.scales:
        own = f"{FLOOR_MARGIN:g} {accuracy.floor_label.replace('dtype', _storage(dtype))}"
        span = f"{coarser.index.min():.2g}..{coarser.index.max():.2g}"
        own += f" = {coarser.index.min():.2g}" if len(coarser) == 1 else f" = {span}"
        if coarser.sum() == len(levels):
            return f"{accuracy.short} <= {own}"
        return f"{text} ({own} on the {coarser.sum()} problems where that is above {target:g})"
    where = ", ".join(f"{lv:g} on {count}" for lv, count in sorted(coarser.items()))
    return f"{text} ({where} whose floor is above {target:g})"
