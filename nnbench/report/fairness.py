"""Accuracy per second, the headline of the fair comparison: pure functions of the results.

A *problem* is (task, batch, matrix, n, rank, dtype, device): a batched task (a stack of
small matrices per call) is a task of its own; a *point* is one method variant on it
(a budget: power iterations, steps, tolerance), with its worst accuracy over the problem's
matrix instances and its median time. From the points: error-vs-time fronts, the least time
each method needs to reach an accuracy (or "not reached", or "not measurable" where rounding
alone can cost that much on the problem), and a verdict per task that puts the best hybrid and
neural method beside each problem's own fastest classical one at matched accuracy, leaving
out the problems where that accuracy says nothing (with the reason)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbench.precision import PRECISIONS

PROBLEM = ["kind", "batch", "matrix", "n", "rank", "dtype", "device"]
GROUP_ORDER = ("classical", "hybrid", "neural", "amortized")
TASK = ["kind", "batch", "dtype", "device"]  # a verdict row


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
    left out ("" where it is judged)."""

    label: str
    short: str
    measure: Callable[[pd.DataFrame], pd.Series]
    levels: tuple[float, ...]
    target: dict[str, float]  # the verdict's matched accuracy, by storage dtype
    floor: Callable[[pd.DataFrame], pd.Series] = _no_floor
    floor_label: str = ""
    left_out: Callable[[pd.DataFrame], pd.Series] = _kept

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
)
ACCURACY: dict[str, Accuracy] = {
    "rank-k": Accuracy(
        "(rel_err - opt_err) / (1 - opt_err): the excess over the Eckart-Young optimum as a "
        "share of the zero matrix's (0 optimal, 1 no better than 0; worse of 2-norm and "
        "Frobenius)",
        "excess / (1 - opt_err)",
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
    top = max(accuracy.levels)
    if not floor > top:  # NaN: none stated
        return ""
    return f"no level is measurable: floor {floor:.2g} = {accuracy.floor_label} > {top:g}"


def budget_points(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, method variant) whose cells all ended ok: the worst accuracy over
    the problem's matrix instances, the median time, the method's group and base, and the
    problem's `floor` and `left_out` reason (see `Accuracy`)."""
    frames = []
    for kind, accuracy in ACCURACY.items():
        cells = results[results.kind == kind]
        if cells.empty:
            continue
        cells = _scored(cells, accuracy)
        cells = cells[cells.accuracy.notna() | (cells.status != "ok")]  # unmeasured: no point
        keys = [*PROBLEM, "group", "method_base", "method", "options"]
        points = cells.groupby(keys, dropna=False).agg(
            accuracy=("accuracy", "max"),
            time_s=("time_s", "median"),
            cells=("status", "size"),
            ok=("status", lambda s: int((s == "ok").sum())),
            floor=("floor", "first"),
            left_out=("left_out", "first"),
        )
        frames.append(points[points.ok == points.cells].reset_index())
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _least_time(points: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per (problem, method_base): the fastest variant whose accuracy is within `level`."""
    reached = points[points.accuracy <= level]
    best = reached.sort_values("time_s").groupby([*PROBLEM, "method_base"], dropna=False).head(1)
    return best.set_index([*PROBLEM, "method_base"])


def _cell(best: pd.DataFrame, key: tuple[object, ...], level: float, floor: float) -> str:
    if level < floor:  # NaN floor: none stated
        return "not measurable"
    if key not in best.index:
        return "not reached"
    row = best.loc[key]
    variant = f" [{row.options}]" if row.options else ""
    return f"{row.time_s:.3g} s{variant}"


def time_to_accuracy(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem and method: the least time to reach each accuracy level of its task, with
    the budget that did it; "not reached" within the budgets the run tried, or "not
    measurable" where the level is below the problem's `floor` (see `Accuracy`)."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    rows = []
    for kind, accuracy in ACCURACY.items():
        mine = points[points.kind == kind]
        if mine.empty:
            continue
        best = {level: _least_time(mine, level) for level in accuracy.levels}
        methods = mine.groupby([*PROBLEM, "method_base"], dropna=False)
        for key, first in methods[["group", "floor"]].first().iterrows():
            problem = dict(zip([*PROBLEM, "method"], key, strict=True))
            floor = float(first["floor"])
            levels = {
                f"time to <= {lv:g}": _cell(best[lv], key, lv, floor) for lv in accuracy.levels
            }
            rows.append({**problem, "group": first["group"], "floor": floor, **levels})
    loosest_first = sorted({lv for a in ACCURACY.values() for lv in a.levels}, reverse=True)
    columns = [
        *PROBLEM,
        "method",
        "group",
        "floor",
        *(f"time to <= {lv:g}" for lv in loosest_first),
    ]
    table = pd.DataFrame(rows, columns=columns)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    table = table.assign(_g=table.group.map(order))
    return table.sort_values([*PROBLEM, "_g", "method"]).drop(columns="_g").reset_index(drop=True)


@dataclass(frozen=True)
class Judged:
    """One problem as the verdict sees it: its matched accuracy (`level`) and each group's
    fastest point within it (a group run there that reached none is in `groups` only), or
    why it is left out (`left_out`; then `level` is NaN)."""

    problem: dict[str, object]
    level: float
    left_out: str
    groups: frozenset[str]
    fastest: dict[str, pd.Series]


def matched_level(accuracy: Accuracy, dtype: str, floor: float) -> float:
    """The tightest level at or above the dtype's target that the problem's floor lets mean
    something (the target itself unless rounding alone can cost that much there)."""
    target = accuracy.target[_storage(dtype)]
    return min(lv for lv in accuracy.levels if lv >= target and not lv < floor)


def judge(points: pd.DataFrame) -> list[Judged]:
    """Each problem of `budget_points`, in order."""
    judged = []
    for key, mine in points.groupby(PROBLEM, dropna=False, sort=True):
        problem = dict(zip(PROBLEM, key, strict=True))
        accuracy = ACCURACY[str(problem["kind"])]
        reason = str(mine.left_out.iloc[0])
        level = (
            np.nan if reason else matched_level(accuracy, str(problem["dtype"]), mine.floor.max())
        )
        within = mine[mine.accuracy <= level].sort_values("time_s", kind="stable")
        fastest = {str(g): rows.iloc[0] for g, rows in within.groupby("group")}
        judged.append(Judged(problem, level, reason, frozenset(map(str, mine.group)), fastest))
    return judged


def _task(problem: dict[str, object]) -> str:
    batch = problem["batch"]
    times = f" x{batch}" if isinstance(batch, (int, np.integer)) and batch > 1 else ""
    return f"{problem['kind']}{times}, {problem['dtype']}, {problem['device']}"


def _best(judged: Judged, group: str) -> str:
    if group in judged.fastest:
        return str(judged.fastest[group].method)
    return "none reached" if group in judged.groups else "not run"


def verdict_by_problem(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem: its matched accuracy, its own fastest classical method there with its
    time (the comparator of every time ratio on it), each other group's fastest method with
    its time and time / the classical one's; or, for a problem the verdict leaves out, why."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    judged = judge(points)
    groups = [g for g in GROUP_ORDER[1:] if any(g in j.groups for j in judged)]
    columns = ["task", "matrix", "n", "rank", "matched accuracy"]
    columns += ["classical: fastest", "classical: time_s"]
    columns += [f"{g}: {c}" for g in groups for c in ("best", "time_s", "time ratio")]
    rows = []
    for j in judged:
        row: dict[str, object] = {
            "task": _task(j.problem),
            "matrix": j.problem["matrix"],
            "n": j.problem["n"],
            "rank": j.problem["rank"],
            "matched accuracy": "" if j.left_out else f"<= {j.level:g}",
        }
        if not j.left_out:
            classical = j.fastest.get("classical")
            reference = np.nan if classical is None else float(classical.time_s)
            row["classical: fastest"] = _best(j, "classical")
            row["classical: time_s"] = reference
            for group in groups:
                own = j.fastest.get(group)
                time_s = np.nan if own is None else float(own.time_s)
                row[f"{group}: best"] = _best(j, group)
                row[f"{group}: time_s"] = time_s
                row[f"{group}: time ratio"] = time_s / reference
        row["reason"] = j.left_out  # last: the page wraps it
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*columns, "reason"])
    return table.assign(rank=pd.to_numeric(table["rank"]))  # LU's none: NaN, shown blank


def verdict(results: pd.DataFrame) -> pd.DataFrame:
    """Per task, dtype and device: the matched accuracy; how many problems it judges and how
    many it leaves out (`verdict_by_problem` says why); the classical methods that were each
    problem's fastest (`best classical`, with on how many problems where they differ), and
    for the other groups their fastest methods, the `time ratio` (median over the problems
    both reached of its time / that problem's fastest classical time) and on how many
    problems the group reached the matched accuracy at all."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    return pd.DataFrame([_verdict_row(judge(mine)) for _, mine in points.groupby(TASK)])


def _verdict_row(problems: list[Judged]) -> dict[str, object]:
    """One task's verdict from its problems (all of one task, dtype and device)."""
    first = problems[0].problem
    accuracy = ACCURACY[str(first["kind"])]
    kept = [j for j in problems if not j.left_out]
    classical = [j.fastest["classical"] for j in kept if "classical" in j.fastest]
    row: dict[str, object] = {
        "task": _task(first),
        "matched accuracy": _matched_text(accuracy, str(first["dtype"]), [j.level for j in kept]),
        "problems": len(kept),
        "left out": len(problems) - len(kept),
        "best classical": _names([p.method_base for p in classical]),
    }
    for group in GROUP_ORDER[1:]:
        if not any(group in j.groups for j in problems):
            row[f"{group}: best"] = "not run"
            continue
        own = [j for j in kept if group in j.fastest]
        ratios = [
            j.fastest[group].time_s / j.fastest["classical"].time_s
            for j in own
            if "classical" in j.fastest
        ]
        row[f"{group}: best"] = _names([j.fastest[group].method_base for j in own])
        row[f"{group}: time ratio"] = float(np.median(ratios)) if ratios else np.nan
        row[f"{group}: reached"] = f"{len(own)}/{len(kept)}"
    return row


def _matched_text(accuracy: Accuracy, dtype: str, levels: Sequence[float]) -> str:
    """The target, and the coarser levels some problems are judged at (their floor is above
    the target), with on how many."""
    target = accuracy.target[_storage(dtype)]
    text = f"{accuracy.short} <= {target:g}"
    coarser = pd.Series([lv for lv in levels if lv != target], dtype=float).value_counts()
    if coarser.empty:
        return text
    where = ", ".join(f"{lv:g} on {count}" for lv, count in sorted(coarser.items()))
    return f"{text} ({where} whose floor is above {target:g})"


def _names(methods: Sequence[object]) -> str:
    """The methods, most often first, with their counts where there are several."""
    counts = pd.Series(methods, dtype=object).value_counts(sort=False)
    if counts.empty:
        return "none reached"
    if len(counts) == 1:
        return str(counts.index[0])
    ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return ", ".join(f"{name} ({count})" for name, count in ordered)
