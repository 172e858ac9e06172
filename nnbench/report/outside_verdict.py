"""The verdict for the methods nnbench does not ship (a plug-in's): per task, each one's time
at matched accuracy against each problem's fastest classical method of nnbench's own,
measured in the same run, with the 95% bootstrap interval. Pure functions of the results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbench.report.judging import Counts, Judged, count_names, names_text, task_problems
from nnbench.report.levels import ACCURACY, budget_points, matched_text
from nnbench.report.problems import (
    PROBLEM,
    SOURCE,
    Key,
    by_folder,
    folder_labels,
    per_table,
    problem_key,
    sourced,
    task_label,
)
from nnbench.report.stats import ratio_interval, ratio_text

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
        for problems in task_problems(results):
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
        accuracy=matched_text(
            ACCURACY[str(first["kind"])], str(first["dtype"]), [j.level for j in kept]
        ),
        ran=len(kept),
        reached=reached,
        comparators=count_names(comparators),
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
            "nnbench's fastest classical": names_text(v.comparators) if v.compared else "",
            "time ratio [95% CI]": ratio_text(v.ratio, v.low, v.high),
            "time ratio": v.ratio,
            "time ratio low": v.low,
            "time ratio high": v.high,
        }
        for v in verdicts
    ]
    return pd.DataFrame(rows)
