"""Dolan-More performance profiles (Dolan & More, Math. Programming 2002) at matched accuracy:
pure functions of the results.

On each problem the verdict judges (`report.judging.judge`: not left out, at its matched accuracy
level), every method that ran there gets r = (its least time to reach the level over its
budget variants) / (the least such time of any method on the problem); r = inf where it never
got there. A method's profile is rho(tau) = the fraction of a task's problems with r <= tau:
rho(1) is how often it is the fastest, rho(inf) how often it reaches the accuracy at all."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from nnbench.report.judging import judged_problems
from nnbench.report.levels import budget_points
from nnbench.report.problems import PROBLEM, TASK, problem_key


def profile_ratios(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (judged problem, method that ran there): its time ratio r to the problem's
    fastest method at the matched level (inf: not reached)."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    by_problem = {problem_key(key): same for key, same in points.groupby(PROBLEM, dropna=False)}
    rows = []
    for judged in judged_problems(results):
        if judged.left_out or not math.isfinite(judged.level):
            continue
        key = tuple(judged.problem[c] for c in PROBLEM)
        same = by_problem[problem_key(key)]
        reached = same[same.accuracy <= judged.level]
        if reached.empty:
            continue
        best = float(reached.time_s.min())
        least = reached.groupby("method_base").time_s.min()
        for (base, group), _ in same.groupby(["method_base", "group"]):
            ratio = float(least[base]) / best if base in least.index else math.inf
            rows.append({**dict(zip(PROBLEM, key, strict=True)), "method_base": base,
                         "group": group, "ratio": ratio})  # fmt: skip
    return pd.DataFrame(rows)


def on_problem(points: pd.DataFrame, problem: Mapping[str, object]) -> pd.Series:
    """Rows of `points` on `problem` (missing values, such as an LU's rank, match each other)."""
    keep = pd.Series(True, index=points.index)
    for column in PROBLEM:
        value = problem[column]
        same = points[column].isna() if pd.isna(value) else points[column] == value
        keep &= same.fillna(False).astype(bool)
    return keep


def profiles(ratios: pd.DataFrame, taus: np.ndarray) -> pd.DataFrame:
    """rho(tau) per task and method: the fraction of the task's problems with r <= tau (a
    problem where the method did not run counts as not reached: r = inf)."""
    frames = []
    for task, mine in ratios.groupby(TASK, dropna=False):
        problems = mine.groupby([c for c in PROBLEM if c not in TASK], dropna=False).ngroups
        for (base, group), r in mine.groupby(["method_base", "group"]):
            values = np.sort(r.ratio.to_numpy(float))  # NaN sorts last: never within tau
            rho = np.searchsorted(values, taus, side="right") / problems
            where = dict(zip(TASK, task, strict=True))
            frames.append(pd.DataFrame({**where, "method_base": base, "group": group,
                                        "tau": taus.astype(float), "rho": rho}))  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def tau_range(ratios: pd.DataFrame, most: float = 1e4) -> float:
    """The right end of a profile's tau axis: the decade above the largest finite ratio (at
    least 10, at most `most`), so that the curves do not end in a flat half of the axis."""
    finite = ratios.ratio[np.isfinite(ratios.ratio.astype(float))]
    top = float(finite.max()) if len(finite) else 1.0
    return float(min(most, max(10.0, 10.0 ** math.ceil(math.log10(max(top, 1.0) * 1.05)))))
