"""Accuracy per second, the headline of the fair comparison: pure functions of the results.

A *problem* is (task, batch, matrix, n, rank, dtype, device): a batched task (a stack of
small matrices per call) is a task of its own; a *point* is one method variant on it
(a budget: power iterations, steps, tolerance), with its worst accuracy over the problem's
matrix instances and its median time. From the points: error-vs-time fronts, the least time
each method needs to reach an accuracy (or "not reached", or "not measurable" where rounding
alone can cost that much on the problem), and a verdict per task that puts the best hybrid and
neural method beside each problem's own fastest classical one at matched accuracy, leaving
out the problems where that accuracy says nothing (with the reason), each ratio with a 95%
bootstrap interval; and the headline, that verdict in one sentence per task."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from nnbench.precision import PRECISIONS

SOURCE = "source"  # which results folder (one run) a row came from: `build.combine` sets it
MACHINE = "machine"  # the machine its folder ran on (CPU, threads, GPUs): `build.combine` too
PROBLEM = ["kind", "batch", "matrix", "n", "rank", "dtype", "device", SOURCE]
"""A problem is judged within one run: the same matrix in two results folders is two
problems, so no time is compared with one measured in another run."""


def sourced(results: pd.DataFrame) -> pd.DataFrame:
    """`results` with its `source` column: 0 throughout for a single run's table."""
    return results if SOURCE in results.columns else results.assign(**{SOURCE: 0})


def by_folder(results: pd.DataFrame) -> bool:
    """Whether the results come from folders run on different machines (or thread counts):
    then the verdict gives each folder its own rows, never pooling ratios across machines."""
    return MACHINE in results.columns and results[MACHINE].nunique() > 1


def folder_labels(results: pd.DataFrame) -> dict[int, str]:
    """Each results folder with its machine, as the page names it where the folders ran on
    different machines: "2 (CPU ..., 4 thread(s))" (numbered in the provenance's order)."""
    machines = sourced(results).drop_duplicates(SOURCE).set_index(SOURCE)
    return {int(s): f"{int(s) + 1} ({m})" for s, m in machines.get(MACHINE, {}).items()}


T = TypeVar("T")


def per_table(fn: Callable[[pd.DataFrame], T]) -> Callable[[pd.DataFrame], T]:
    """`fn(results)` computed once for each results table while the table lives: a report's
    tables and figures ask the same question (its points, its verdict) of one table a dozen
    times. Tables are never changed in place here, and neither is what `fn` returns."""
    memo: dict[int, tuple[weakref.ref[pd.DataFrame], Any]] = {}

    @functools.wraps(fn)
    def cached(results: pd.DataFrame) -> T:
        key = id(results)
        hit = memo.get(key)
        if hit is not None and hit[0]() is results:
            return hit[1]
        value = fn(results)
        memo[key] = (weakref.ref(results, lambda _: memo.pop(key, None)), value)
        return value

    return cached


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


def _least_time(points: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per (problem, method_base): the fastest variant whose accuracy is within `level`."""
    reached = points[points.accuracy <= level]
    return reached.sort_values("time_s").groupby([*PROBLEM, "method_base"], dropna=False).head(1)


def _level_column(methods: pd.DataFrame, points: pd.DataFrame, level: float) -> pd.Series:
    """One level's column of `time_to_accuracy` for `methods` (a row per problem and
    method_base, with its problem's `floor`): the least time with its spread and budget, in
    `methods`' order. (A merge, not a reindex: it matches an LU's missing rank to itself.)"""
    keys = [*PROBLEM, "method_base"]
    best = _least_time(points, level)
    shown = best[keys].assign(
        shown=[
            f"{t:.3g} s{_spread(times)}" + (f" ({options})" if options else "")
            for t, times, options in zip(best.time_s, best.times, best.options, strict=True)
        ]
    )
    column = methods[keys].merge(shown, on=keys, how="left").shown
    column = column.astype(object).fillna("not reached").set_axis(methods.index)
    return column.mask(level < methods["floor"], "not measurable")  # NaN floor: none stated


def _spread(times: Sequence[float]) -> str:
    """The range of a point's cell times (its matrix instances and runs), " [low, high]" to
    two significant digits; "" for a single time or where they agree to two digits."""
    low, high = two_digits(float(np.min(times))), two_digits(float(np.max(times)))
    return "" if low == high else f" [{low}, {high}]"


def time_to_accuracy(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem and method: the least time to reach each accuracy level of its task (the
    median over its cells, with their range in brackets: matrix instances and runs), with
    the budget that did it in parentheses; "not reached" within the budgets the run tried, or "not
    measurable" where the level is below the problem's `floor` (see `Accuracy`)."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    rows = []
    for kind, accuracy in ACCURACY.items():
        mine = points[points.kind == kind]
        if mine.empty:
            continue
        methods = mine.groupby([*PROBLEM, "method_base"], dropna=False)[["group", "floor"]]
        table = methods.first().reset_index()
        levels = {f"time to <= {lv:g}": _level_column(table, mine, lv) for lv in accuracy.levels}
        rows.append(table.assign(**levels).rename(columns={"method_base": "method"}))
    loosest_first = sorted({lv for a in ACCURACY.values() for lv in a.levels}, reverse=True)
    columns = [
        *PROBLEM,
        "method",
        "group",
        "floor",
        *(f"time to <= {lv:g}" for lv in loosest_first),
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.concat(rows, ignore_index=True).reindex(columns=columns)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    table = table.assign(_g=table.group.map(order))
    table = table.sort_values([*PROBLEM, "_g", "method"]).drop(columns="_g")
    return _source_shown(table.reset_index(drop=True), results)


def _source_shown(table: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """A table's `source` as "results folder" (1, 2, ... in the provenance's order, with its
    machine where they differ: `folder_labels`) where the report combines several runs; left
    out for one."""
    if table[SOURCE].nunique() <= 1:
        return table.drop(columns=SOURCE)
    labels = folder_labels(results)
    shown = table[SOURCE] + 1 if not by_folder(results) else table[SOURCE].map(labels)
    return table.assign(**{SOURCE: shown}).rename(columns={SOURCE: "results folder"})


@dataclass(frozen=True)
class Judged:
    """One problem as the verdict sees it: its matched accuracy (`level`), the groups with a
    cell there that was not skipped (`groups`; one that reached nothing is there only), each
    group's fastest point within the level (`fastest`) and the points at that same time, one
    per method (`tied`: a tie names them all); or why it is left out (`left_out`; then
    `level` is NaN)."""

    problem: dict[str, object]
    level: float
    left_out: str
    groups: frozenset[str]
    fastest: dict[str, pd.Series]
    tied: dict[str, pd.DataFrame]


def matched_level(accuracy: Accuracy, dtype: str, floor: float) -> float:
    """The tightest level at or above the dtype's target that the problem's floor lets mean
    something (the target itself unless rounding alone can cost that much there)."""
    target = accuracy.target[_storage(dtype)]
    return min(lv for lv in accuracy.levels if lv >= target and not lv < floor)


Key = tuple[object, ...]


def problem_key(values: Sequence[object]) -> Key:
    """A problem's key with missing values (an LU's rank) as None, so that keys compare."""
    return tuple(None if pd.isna(v) else v for v in values)


@per_table
def groups_run(results: pd.DataFrame) -> dict[Key, frozenset[str]]:
    """Per problem (`problem_key`), the groups with a cell there that was not skipped: a method that
    failed or diverged ran there; one that declined the input did not."""
    results = sourced(results)
    run = results[results.status != "skipped"].groupby(PROBLEM, dropna=False).group
    return {problem_key(key): frozenset(map(str, groups)) for key, groups in run}


def judge(points: pd.DataFrame, ran: dict[Key, frozenset[str]]) -> list[Judged]:
    """Each problem of `budget_points`, in order (`ran`: `groups_run` of the results)."""
    judged = []
    for key, mine in points.groupby(PROBLEM, dropna=False, sort=True):
        problem = dict(zip(PROBLEM, key, strict=True))
        accuracy = ACCURACY[str(problem["kind"])]
        reason = str(mine.left_out.iloc[0])
        level = (
            np.nan if reason else matched_level(accuracy, str(problem["dtype"]), mine.floor.max())
        )
        within = mine[mine.accuracy <= level].sort_values("time_s", kind="stable")
        fastest, tied = {}, {}
        for group, rows in within.groupby("group"):
            fastest[str(group)] = rows.iloc[0]
            at_best = rows[rows.time_s == rows.time_s.iloc[0]]
            tied[str(group)] = at_best.drop_duplicates("method_base")
        groups = ran.get(problem_key(key), frozenset()) | frozenset(map(str, mine.group))
        judged.append(Judged(problem, level, reason, groups, fastest, tied))
    return judged


@per_table
def judged_problems(results: pd.DataFrame) -> list[Judged]:
    """`judge` of every problem of the results, in order."""
    points = budget_points(results)
    return [] if points.empty else judge(points, groups_run(results))


def task_label(problem: dict[str, object]) -> str:
    """A task as its tables name it: "lu x1000, float64, cpu"."""
    batch = problem["batch"]
    times = f" x{batch}" if isinstance(batch, (int, np.integer)) and batch > 1 else ""
    return f"{problem['kind']}{times}, {problem['dtype']}, {problem['device']}"


def _best(judged: Judged, group: str, column: str = "method") -> str:
    """The group's fastest on the problem ("a = b" where methods tie), or why there is none."""
    if group in judged.tied:
        return " = ".join(map(str, judged.tied[group][column]))
    return "none reached" if group in judged.groups else "not run"


def verdict_by_problem(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem: its matched accuracy, its own fastest classical method there with its
    time (the comparator of every time ratio on it), each other group's fastest method with
    its time and time / the classical one's; or, for a problem the verdict leaves out, why."""
    judged = judged_problems(results)
    if not judged:
        return pd.DataFrame()
    groups = [g for g in GROUP_ORDER[1:] if any(g in j.groups for j in judged)]
    columns = ["task", "matrix", "n", "rank", SOURCE, "matched accuracy"]
    columns += ["classical: fastest", "classical: time_s"]
    columns += [f"{g}: {c}" for g in groups for c in ("best", "time_s", "time ratio")]
    rows = []
    for j in judged:
        row: dict[str, object] = {
            "task": task_label(j.problem),
            "matrix": j.problem["matrix"],
            "n": j.problem["n"],
            "rank": j.problem["rank"],
            SOURCE: j.problem[SOURCE],
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
    table = table.assign(rank=pd.to_numeric(table["rank"]))  # LU's none: NaN, shown blank
    return _source_shown(table, results)


RESAMPLES = 2000
SEED = 0  # fixed: the same results give the same intervals


def _resampled_medians(times: Sequence[float], draws: int, rng: np.random.Generator) -> np.ndarray:
    """`draws` medians of `times` drawn with replacement, shape (draws,)."""
    t = np.asarray(times, dtype=float)
    return np.median(t[rng.integers(0, t.size, (draws, t.size))], axis=1)


def ratio_interval(
    times: Sequence[tuple[Sequence[float], Sequence[float]]],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float]:
    """The 95% percentile-bootstrap interval of the median over problems of a group's time /
    the classical time. `times` holds per problem the group's repeated times and the
    classical method's (their medians are the points' `time_s`). Two levels: each resample
    draws the problems with replacement, then for each drawn problem its repeated times,
    each side apart. (NaN, NaN) where nothing can vary: one problem, each side timed once."""
    if not times or (len(times) == 1 and all(len(side) == 1 for side in times[0])):
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    ratios = np.stack(
        [
            _resampled_medians(own, resamples, rng) / _resampled_medians(ref, resamples, rng)
            for own, ref in times
        ]
    )  # (problems, resamples): each problem's ratio under resampled times
    count = len(times)
    drawn = rng.integers(0, count, (resamples, count))
    redrawn = rng.integers(0, resamples, (resamples, count))  # its times, drawn anew each time
    medians = np.median(ratios[drawn, redrawn], axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return float(low), float(high)


def two_digits(x: float) -> str:
    """`x` to two significant digits, positional (1200, 78, 7.9, 0.52, 0.0012)."""
    if not np.isfinite(x) or x == 0:
        return f"{x:g}"
    rounded = round(x, 1 - int(np.floor(np.log10(abs(x)))))
    decimals = 1 - int(np.floor(np.log10(abs(rounded))))  # again: 9.96 rounds to 10
    return f"{rounded:.{max(decimals, 0)}f}"


def _interval_text(low: float, high: float) -> str:
    if not np.isfinite(low):
        return "[no interval: one problem, timed once]"
    return f"[{two_digits(low)}, {two_digits(high)}]"


def ratio_text(ratio: float, low: float, high: float) -> str:
    """A time ratio in words with its interval: "7.9× slower [4.1, 9.5]", "0.52× (faster)
    [0.40, 0.61]"; "" where there is none."""
    if not np.isfinite(ratio):
        return ""
    shown = two_digits(ratio)
    way = "slower" if float(shown) > 1 else "(faster)" if float(shown) < 1 else "(as fast)"
    return f"{shown}× {way} {_interval_text(low, high)}"


Counts = tuple[tuple[str, int], ...]  # names with on how many problems, most often first


def _counts(names: Sequence[str]) -> Counts:
    counts = pd.Series(names, dtype=object).value_counts(sort=False)
    return tuple(sorted(((str(k), int(v)) for k, v in counts.items()), key=lambda c: (-c[1], c[0])))


def _names(counts: Counts) -> str:
    """The names, with their counts where there are several."""
    if not counts:
        return "none reached"
    if len(counts) == 1:
        return counts[0][0]
    return ", ".join(f"{name} ({count})" for name, count in counts)


@dataclass(frozen=True)
class GroupVerdict:
    """One non-classical group on one task: on how many judged problems it ran and reached
    the matched accuracy, its fastest methods there, and over the `compared` problems where
    it and a classical method both reached it, the median of its time / the classical one's
    with the 95% interval (`ratio_interval`; NaN: none)."""

    group: str
    ran: int
    reached: int
    methods: Counts
    compared: int
    ratio: float
    low: float
    high: float


@dataclass(frozen=True)
class TaskVerdict:
    """One task, dtype and device: its judged problems and how many it leaves out, each
    judged problem's fastest classical method (ties as "a = b"), the groups with a cell
    anywhere on it (`ran`), and a `GroupVerdict` for each non-classical one of those."""

    problem: dict[str, object]  # its first problem: the task, dtype and device
    accuracy: str  # the matched accuracy, in words
    judged: tuple[Judged, ...]
    left_out: int
    classical: Counts
    ran: frozenset[str]
    groups: tuple[GroupVerdict, ...]

    @property
    def not_run(self) -> list[str]:
        """The groups with a method for this task in the suite that did not run here."""
        offered = offered_groups(str(self.problem["kind"]))
        return [g for g in GROUP_ORDER[1:] if g not in self.ran and g in offered]

    @property
    def none_in_suite(self) -> list[str]:
        """The groups the suite has no method of for this task (QR, SVD: classical only)."""
        offered = offered_groups(str(self.problem["kind"]))
        return [g for g in GROUP_ORDER[1:] if g not in self.ran and g not in offered]


OFFERED: dict[str, frozenset[str]] = {
    "lu": frozenset({"classical", "hybrid", "neural", "amortized"}),
    "qr": frozenset({"classical"}),
    "svd": frozenset({"classical"}),
    "rank-k": frozenset({"classical", "hybrid", "neural", "amortized"}),
    "precond": frozenset({"classical", "hybrid", "amortized"}),
}
"""The groups the method registry has for each task (a test keeps it equal to the registry;
the report reads results only and never imports the methods, nor torch)."""


def offered_groups(kind: str) -> frozenset[str]:
    """The groups of the registered methods for a task; all of them for a kind unknown here."""
    return OFFERED.get(kind, frozenset(GROUP_ORDER))


def _tasks(results: pd.DataFrame) -> list[list[Judged]]:
    """The judged problems of each task, dtype and device (and results folder, where the
    folders ran on different machines: `by_folder`), in order."""
    task = [*TASK, SOURCE] if by_folder(results) else TASK
    tasks: dict[Key, list[Judged]] = {}
    for judged in judged_problems(results):  # in PROBLEM's order, which begins with TASK's
        tasks.setdefault(tuple(judged.problem[c] for c in task), []).append(judged)
    return [problems for _, problems in sorted(tasks.items(), key=lambda t: t[0])]


def task_verdicts(results: pd.DataFrame) -> list[TaskVerdict]:
    """One per task, dtype and device with an ok cell (and per results folder, where the
    folders ran on different machines), in order."""
    return [_task_verdict(problems) for problems in _tasks(results)]


def _task_verdict(problems: list[Judged]) -> TaskVerdict:
    first = problems[0].problem
    kept = [j for j in problems if not j.left_out]
    ran = frozenset[str]().union(*(j.groups for j in problems))
    reached = [_best(j, "classical", "method_base") for j in kept if "classical" in j.fastest]
    return TaskVerdict(
        problem=first,
        accuracy=_matched_text(
            ACCURACY[str(first["kind"])], str(first["dtype"]), [j.level for j in kept]
        ),
        judged=tuple(kept),
        left_out=len(problems) - len(kept),
        classical=_counts(reached),
        ran=ran,
        groups=tuple(_group_verdict(kept, g) for g in GROUP_ORDER[1:] if g in ran),
    )


def _group_verdict(kept: list[Judged], group: str) -> GroupVerdict:
    own = [j for j in kept if group in j.fastest]
    both = [(j.fastest[group], j.fastest["classical"]) for j in own if "classical" in j.fastest]
    ratios = [mine.time_s / classical.time_s for mine, classical in both]
    low, high = ratio_interval([(mine.times, classical.times) for mine, classical in both])
    return GroupVerdict(
        group=group,
        ran=sum(group in j.groups for j in kept),
        reached=len(own),
        methods=_counts([_best(j, group, "method_base") for j in own]),
        compared=len(both),
        ratio=float(np.median(ratios)) if ratios else np.nan,
        low=low,
        high=high,
    )


TASK_COLUMNS = ("task", "n", "matched accuracy", "problems", "left out", "best classical")
RATIO_NUMBERS = ("time ratio", "time ratio low", "time ratio high")
PAGE_HIDES = tuple(f"{g}: {c}" for g in GROUP_ORDER[1:] for c in RATIO_NUMBERS)
"""The verdict's ratios as numbers: its CSV has them, its page the words."""


def verdict(results: pd.DataFrame) -> pd.DataFrame:
    """Per task, dtype and device: its sizes n, the matched accuracy; how many problems it
    judges and how many it leaves out (`verdict_by_problem` says why); the classical methods
    that were each problem's fastest (`best classical`, with on how many problems where they
    differ), and for the other groups their fastest methods, the `time ratio` (median over
    the problems both reached of its time / that problem's fastest classical time) with its
    95% interval (`time ratio low`, `high`; in words in `time ratio [95% CI]`), and on how
    many of the judged problems where it ran the group reached the matched accuracy."""
    labels = folder_labels(results) if by_folder(results) else {}
    rows = [_verdict_row(task, labels) for task in task_verdicts(results)]
    if not rows:
        return pd.DataFrame()
    own = ("best", "time ratio [95% CI]", "reached", *RATIO_NUMBERS)
    every = [TASK_COLUMNS[0], "results folder", *TASK_COLUMNS[1:]]
    every += [f"{g}: {c}" for g in GROUP_ORDER[1:] for c in own]
    return pd.DataFrame(rows, columns=[c for c in every if any(c in row for row in rows)])


def _verdict_row(task: TaskVerdict, labels: dict[int, str]) -> dict[str, object]:
    folder = {"results folder": labels[int(str(task.problem[SOURCE]))]} if labels else {}
    row: dict[str, object] = {
        "task": task_label(task.problem),
        **folder,
        "n": _sizes(task),
        "matched accuracy": task.accuracy,
        "problems": len(task.judged),
        "left out": task.left_out,
        "best classical": _names(task.classical),
    }
    for group in task.not_run:
        row[f"{group}: best"] = "not run"
    for group in task.none_in_suite:
        row[f"{group}: best"] = "none in the suite"
    for own in task.groups:
        g = own.group
        row |= {
            f"{g}: best": _names(own.methods),
            f"{g}: time ratio [95% CI]": ratio_text(own.ratio, own.low, own.high),
            f"{g}: reached": f"{own.reached}/{own.ran}",
            f"{g}: time ratio": own.ratio,
            f"{g}: time ratio low": own.low,
            f"{g}: time ratio high": own.high,
        }
    return row


def _sizes(task: TaskVerdict) -> str:
    """The judged problems' n: "64" or "8..1024"."""
    ns = sorted({int(str(j.problem["n"])) for j in task.judged})
    if not ns:
        return ""
    return str(ns[0]) if len(ns) == 1 else f"{ns[0]}..{ns[-1]}"


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


KIND_WORDS = {"lu": "LU", "qr": "QR", "svd": "SVD", "rank-k": "Rank-k"}


def headline(results: pd.DataFrame) -> list[str]:
    """One sentence per task that ran a classical method, in words, from its verdict: where
    the best other group stands against each problem's fastest classical method at matched
    accuracy, with the 95% interval, and which groups did not run. Empty without such a
    task (a report with no fair comparison has no headline)."""
    labels = folder_labels(results) if by_folder(results) else {}
    machines = (
        [
            "These results folders ran on different machines (or thread counts): "
            + "; ".join(labels.values())
            + ". No time is divided by one measured in another folder: each folder has its "
            "own verdict."
        ]
        if labels
        else []
    )
    tasks = task_verdicts(results)
    verdicts = [_headline(task, labels) for task in tasks if "classical" in task.ran]
    if not verdicts:
        return []
    return [*machines, *verdicts, *(_outside_headline(v) for v in outside_verdicts(results))]


def _headline(task: TaskVerdict, labels: dict[int, str]) -> str:
    label = _task_words(task.problem)
    if labels:
        label += f" (results folder {labels[int(str(task.problem[SOURCE]))]})"
    not_run = f" Not run: {', '.join(task.not_run)}." if task.not_run else ""
    if none := task.none_in_suite:
        kind = KIND_WORDS.get(str(task.problem["kind"]), str(task.problem["kind"]))
        not_run += f" The suite has no {_either(none)} {kind} method."
    if not task.judged:
        why = "'Verdict by problem' says why"
        return f"{label}: the verdict leaves out every problem it has ({why}).{not_run}"
    count = len(task.judged)
    scope = f"n = {_sizes(task)}, {count} problem{'s' * (count != 1)}"
    if task.left_out:
        scope += f" ({task.left_out} left out)"
    return f"{label}: {_claim(task)}, {scope}.{not_run}"


def _claim(task: TaskVerdict) -> str:
    """What the verdict says of the non-classical groups against the classical ones."""
    accuracy = task.accuracy.replace("<=", "≤")
    reached = sum(count for _, count in task.classical)
    if not reached:
        return f"no classical method reaches {accuracy} on any problem, so nothing is compared"
    classical = _leaders(task.classical, reached)
    if not task.groups:
        return f"only classical methods ran; the fastest at {accuracy}: {classical}"
    others = _joined([g.group for g in task.groups], "or")
    compared = [g for g in task.groups if g.compared]
    if not compared:
        return (
            f"no {others} method reaches {accuracy} on a problem where a classical one does "
            f"(the fastest classical: {classical})"
        )
    best = min(compared, key=lambda g: g.ratio)
    name = best.methods[0][0] if len(best.methods) == 1 else _leaders(best.methods, best.reached)
    ratio = f"{two_digits(best.ratio)}× {_interval_text(best.low, best.high)}"
    where = f" on the {best.compared} problems where both reach it"
    where = "" if best.compared == len(task.judged) else where
    high = best.high if np.isfinite(best.high) else best.ratio
    low = best.low if np.isfinite(best.low) else best.ratio
    if high < 1:
        return (
            f"the best {best.group}, {name}, is faster than each problem's fastest classical "
            f"method at {accuracy}: it takes {ratio} its time{where} ({classical})"
        )
    if low > 1:
        return (
            f"no {others} method is faster than the fastest classical one at {accuracy} — the "
            f"best {best.group}, {name}, is slower: it takes {ratio} the time of each "
            f"problem's fastest classical method{where} ({classical})"
        )
    return (
        f"the best {best.group}, {name}, is neither clearly faster nor slower than each "
        f"problem's fastest classical method at {accuracy}: it takes {ratio} its "
        f"time{where} ({classical})"
    )


def _either(groups: Sequence[str]) -> str:
    """ "neural", "hybrid or neural", "hybrid, neural or amortized"."""
    return groups[0] if len(groups) == 1 else f"{', '.join(groups[:-1])} or {groups[-1]}"


def _task_words(problem: dict[str, object]) -> str:
    """ "LU, float64, CPU"; a batched task "LU (stacks of 50), float32, CUDA"."""
    kind = KIND_WORDS.get(str(problem["kind"]), str(problem["kind"]))
    batch = problem["batch"]
    stacks = f" (stacks of {batch})" if isinstance(batch, (int, np.integer)) and batch > 1 else ""
    return f"{kind}{stacks}, {problem['dtype']}, {str(problem['device']).upper()}"


def _leaders(counts: Counts, total: int) -> str:
    """The most often named, every one of them where several tie, on how many of `total`."""
    top = counts[0][1]
    names = [name for name, count in counts if count == top]
    if len(names) > 1:
        return f"{_joined(names, 'and')}, on {top} of {total} problems each"
    if top == total:
        return f"{names[0]} on {'the one problem' if total == 1 else f'all {total} problems'}"
    return f"{names[0]} on {top} of {total} problems"


def _joined(words: Sequence[str], last: str) -> str:
    """ "a", "a or b", "a, b or c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


OUTSIDE = "method_source"
"""The rows' column that names a method's source: nnbench, or a plug-in (its file)."""


def outside_methods(results: pd.DataFrame) -> dict[str, str]:
    """The methods (by base) of the results that nnbench does not ship, with their source,
    in the order they first appear (a folder written before the column: none)."""
    if OUTSIDE not in results.columns:
        return {}
    mine = results[~results[OUTSIDE].isin(["nnbench", ""])].drop_duplicates("method_base")
    return dict(zip(mine.method_base.astype(str), mine[OUTSIDE].astype(str), strict=True))


@dataclass(frozen=True)
class OutsideVerdict:
    """One method nnbench does not ship, on one task (and results folder, where folders ran on
    different machines): on how many judged problems it ran and reached the matched accuracy,
    and over the `compared` ones where one of nnbench's classical methods reached it too, the
    median of its time / the fastest of those with the 95% interval (`ratio_interval`)."""

    method: str
    source: str
    problem: dict[str, object]  # the task's first problem
    accuracy: str
    ran: int
    reached: int
    comparators: Counts  # nnbench's fastest classical method on each compared problem
    compared: int
    ratio: float
    low: float
    high: float


@per_table
def outside_verdicts(results: pd.DataFrame) -> list[OutsideVerdict]:
    """The verdict for each method nnbench does not ship (a plug-in's), per task: its time
    at matched accuracy against each problem's fastest classical method of nnbench's own
    (never itself or another plug-in's), measured in the same run."""
    outside = outside_methods(results)
    if not outside:
        return []
    results = sourced(results)
    points = budget_points(results)
    here = {problem_key(key): rows for key, rows in points.groupby(PROBLEM, dropna=False)}
    verdicts = []
    for name, source in outside.items():
        mine = results[(results.method_base == name) & (results.status != "skipped")]
        ran = {problem_key(key) for key in mine.groupby(PROBLEM, dropna=False).groups}
        for problems in _tasks(results):
            kept = [j for j in problems if not j.left_out and _key_of(j) in ran]
            if kept:
                verdicts.append(_outside_verdict(name, source, kept, here, set(outside)))
    return verdicts


def _key_of(judged: Judged) -> Key:
    return problem_key([judged.problem[c] for c in PROBLEM])


def _outside_verdict(
    name: str, source: str, kept: list[Judged], here: dict[Key, pd.DataFrame], outside: set[str]
) -> OutsideVerdict:
    pairs, comparators, reached = [], [], 0
    for j in kept:
        points = here.get(_key_of(j), pd.DataFrame(columns=["method_base", "accuracy"]))
        within = points[points.accuracy <= j.level].sort_values("time_s", kind="stable")
        own = within[within.method_base == name]
        if own.empty:
            continue
        reached += 1
        shipped = within[(within.group == "classical") & ~within.method_base.isin(outside)]
        if not shipped.empty:
            pairs.append((own.iloc[0], shipped.iloc[0]))
            comparators.append(str(shipped.iloc[0].method_base))
    ratios = [float(mine.time_s / ref.time_s) for mine, ref in pairs]
    low, high = ratio_interval([(mine.times, ref.times) for mine, ref in pairs])
    first = kept[0].problem
    return OutsideVerdict(
        method=name,
        source=source,
        problem=first,
        accuracy=_matched_text(
            ACCURACY[str(first["kind"])], str(first["dtype"]), [j.level for j in kept]
        ),
        ran=len(kept),
        reached=reached,
        comparators=_counts(comparators),
        compared=len(pairs),
        ratio=float(np.median(ratios)) if ratios else np.nan,
        low=low,
        high=high,
    )


def outside_verdict(results: pd.DataFrame) -> pd.DataFrame:
    """One row per method nnbench does not ship and task: where it comes from, on how many
    judged problems it reached the matched accuracy, nnbench's fastest classical methods
    there and its time ratio to them (`outside_verdicts`)."""
    verdicts = outside_verdicts(results)
    if not verdicts:
        return pd.DataFrame()
    labels = folder_labels(results) if by_folder(results) else {}
    rows = [
        {
            "method": v.method,
            "source": v.source,
            "task": task_label(v.problem),
            **({"results folder": labels[int(str(v.problem[SOURCE]))]} if labels else {}),
            "matched accuracy": v.accuracy,
            "reached": f"{v.reached}/{v.ran}",
            "nnbench's fastest classical": _names(v.comparators) if v.compared else "",
            "time ratio [95% CI]": ratio_text(v.ratio, v.low, v.high),
            "time ratio": v.ratio,
            "time ratio low": v.low,
            "time ratio high": v.high,
        }
        for v in verdicts
    ]
    return pd.DataFrame(rows)


def _outside_headline(v: OutsideVerdict) -> str:
    """The verdict for a method nnbench does not ship, in a sentence."""
    label = f"{v.method} (from {v.source}), {_task_words(v.problem)}"
    accuracy = v.accuracy.replace("<=", "≤")
    reached = f"it reaches {accuracy} on {v.reached} of the {v.ran} problems where it ran"
    if not v.compared:
        return f"{label}: {reached}, and no classical method of nnbench's does there beside it."
    ratio = f"{two_digits(v.ratio)}× {_interval_text(v.low, v.high)}"
    leaders = _leaders(v.comparators, v.compared)
    return (
        f"{label}: {reached}; where nnbench's classical methods reach it too ({v.compared} "
        f"problems), it takes {ratio} the time of the fastest of them ({leaders})."
    )
