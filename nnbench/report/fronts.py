"""Fronts and the reverse comparison: pure functions of the results.

A method *configuration* is a method with its options but the budget (steps, power
iterations, tolerance): its budget variants are points of one algorithm, and only they are
joined into a front. A front is Pareto: a point is on it when no faster point of the same
configuration is at least as accurate.

The reverse comparison asks the verdict's question the other way round: for each non-classical
configuration's final point on a problem (its most accurate budget), what the fastest classical
method costs to reach that same accuracy there (never tighter than the problem's rounding
floor), and the ratio of the two times with a 95% bootstrap interval over problems and runs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nnbench.report.levels import budget_points
from nnbench.report.problems import GROUP_ORDER, PROBLEM, TASK, per_table, problem_key, task_label
from nnbench.report.stats import ratio_interval, ratio_text
from nnbench.report.untimed import untimed_labels

BUDGET_OPTIONS = frozenset({"steps", "max_steps", "niter", "tol", "epochs", "passes"})
"""Options that set how much work a method does, not which algorithm it is."""


def configuration(method_base: str, options: str) -> str:
    """The method with its options but the budget: `neural-lu-adam[lr=0.1]` for
    `neural-lu-adam` with options "steps=300,lr=0.1"; the base name where only the budget
    was changed."""
    kept = [
        term
        for term in filter(None, (t.strip() for t in str(options).split(",")))
        if term.split("=", 1)[0].strip() not in BUDGET_OPTIONS
    ]
    return f"{method_base}[{','.join(kept)}]" if kept else method_base


def with_configuration(points: pd.DataFrame) -> pd.DataFrame:
    """`budget_points` with a `configuration` column."""
    names = [configuration(b, o) for b, o in zip(points.method_base, points.options, strict=True)]
    return points.assign(configuration=names)


def pareto_front(points: pd.DataFrame) -> pd.DataFrame:
    """The points no faster (or equally fast) point beats on accuracy, in order of time: one
    configuration's front on one problem."""
    ordered = points.sort_values(["time_s", "accuracy"], kind="stable")
    best = ordered.accuracy.cummin().shift(fill_value=np.inf)
    return ordered[ordered.accuracy < best]


def final_points(points: pd.DataFrame) -> pd.DataFrame:
    """Per problem and non-classical configuration, its most accurate budget point (the
    fastest among equally accurate ones): the network's own final accuracy."""
    others = with_configuration(points[points.group != "classical"])
    ordered = others.sort_values(["accuracy", "time_s"], kind="stable")
    return ordered.groupby([*PROBLEM, "configuration"], dropna=False).head(1)


@per_table
def reverse_pairs(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, non-classical configuration): its final accuracy and time, the
    accuracy asked of the classical methods (that one, or the problem's rounding floor if it
    is below it), the fastest classical point reaching it (method, time, times) and the time
    ratio (NaN with `classical` "none reaches it" where none does). Problems the verdict
    leaves out are left out here too."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    points = points[points.left_out.astype(str) == ""]
    classical = points[points.group == "classical"]
    by_problem = {problem_key(key): same for key, same in classical.groupby(PROBLEM, dropna=False)}
    nothing = classical.iloc[:0]
    rows = []
    for _, own in final_points(points).iterrows():
        problem = {c: own[c] for c in PROBLEM}
        target = float(np.fmax(own.accuracy, own.floor))
        same = by_problem.get(problem_key(list(problem.values())), nothing)
        reached = same[same.accuracy <= target].sort_values("time_s", kind="stable")
        first = reached.iloc[0] if len(reached) else None
        rows.append(
            {
                **problem,
                "group": own.group,
                "method_base": own.method_base,
                "configuration": own.configuration,
                "accuracy": float(own.accuracy),
                "target": target,
                "time_s": float(own.time_s),
                "times": own.times,
                "classical": first.method if first is not None else "none reaches it",
                "classical_time_s": float(first.time_s) if first is not None else np.nan,
                "classical_times": first.times if first is not None else (),
            }
        )
    pairs = pd.DataFrame(rows)
    if pairs.empty:
        return pairs
    return pairs.assign(ratio=pairs.time_s / pairs.classical_time_s)


def reverse_comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Per task and non-classical configuration: on how many problems it ran, the median of
    its final accuracy, the median over problems of its time / the fastest classical time to
    that accuracy with the 95% interval, and the classical methods that were fastest there."""
    pairs = reverse_pairs(results)
    if pairs.empty:
        return pd.DataFrame()
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    label = untimed_labels(results)  # a classical method fitted untimed says so
    plain = results[results.method == results.method_base]
    base_group = plain.groupby("method_base").group.first()  # a variant may differ from it
    rows = []
    for key, mine in pairs.groupby([*TASK, "configuration"], dropna=False, sort=True):
        task, config = key[:-1], key[-1]
        paired = mine[mine.ratio.notna()]
        ratio = float(paired.ratio.median()) if len(paired) else np.nan
        low, high = ratio_interval(list(zip(paired.times, paired.classical_times, strict=True)))
        rows.append(
            {
                "task": task_label(dict(zip(TASK, task, strict=True))),
                "configuration": config,
                "group": _group_text(mine, base_group),
                "problems": len(mine),
                "its final accuracy (median)": _accuracy_text(mine.accuracy),
                "time ratio [95% CI]": ratio_text(ratio, low, high),
                "fastest classical there": _counted([label(c) for c in paired.classical]),
                "classical reaches it": f"{len(paired)}/{len(mine)}",
                "time ratio": ratio,
                "time ratio low": low,
                "time ratio high": high,
                "_g": order.get(str(mine.group.iloc[0]), len(order)),
            }
        )
    table = pd.DataFrame(rows).sort_values(["task", "_g", "time ratio"], kind="stable")
    return table.drop(columns="_g").reset_index(drop=True)


BY_OPTIONS = "(by its options)"


def _group_text(mine: pd.DataFrame, base_group: pd.Series) -> str:
    """A configuration's group, said to come from its options where it differs from its
    method's own (the group rule: `neural-lu-study-final[lr=auto-final]` takes exact LU
    factors for its step size, so it is hybrid where the method is neural)."""
    group, base = str(mine.group.iloc[0]), mine.method_base.iloc[0]
    return f"{group} {BY_OPTIONS}" if str(base_group.get(base, group)) != group else group


def _accuracy_text(values: pd.Series) -> str:
    return f"{float(values.median()):.2g}"


NAMED = 3  # the classical methods a row names (most often the fastest first)


def _counted(names: Sequence[str]) -> str:
    counts = pd.Series(list(names), dtype=object).value_counts()
    if counts.empty:
        return ""
    if len(counts) == 1:
        return str(counts.index[0])
    named = ", ".join(f"{name} ({count})" for name, count in counts.iloc[:NAMED].items())
    more = len(counts) - NAMED
    return named + (f" and {more} more" if more > 0 else "")


__all__ = [
    "BUDGET_OPTIONS",
    "configuration",
    "final_points",
    "pareto_front",
    "reverse_comparison",
    "reverse_pairs",
]
