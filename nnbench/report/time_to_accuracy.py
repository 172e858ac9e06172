"""Time to accuracy: the least time each method needs to reach each accuracy level of its
task on each problem, or "not reached", or "not measurable" where rounding alone can cost
that much there. A pure function of the results."""

from __future__ import annotations

import math

import pandas as pd

from nnbench.report.levels import ACCURACY, budget_points
from nnbench.report.problems import GROUP_ORDER, PROBLEM, per_table, source_shown
from nnbench.report.stats import range_text
from nnbench.report.untimed import UNTIMED_FIT, untimed_fits

FLOOR_MULTIPLES = (1e6, 1e3, 10.0)
"""A task whose floor is rounding's (`Accuracy.scales`: LU, QR, SVD) is timed to these
multiples of each problem's floor (10 n eps is the verdict's level; 1e-3 was met by every
correct LU and 1e-6 and 1e-12 told no QR apart), loosest first."""


def _least_time(points: pd.DataFrame, level: float | pd.Series) -> pd.DataFrame:
    """Per (problem, method_base): the fastest variant whose accuracy is within `level` (one
    for all, or each point's own)."""
    reached = points[points.accuracy <= level]
    return reached.sort_values("time_s").groupby([*PROBLEM, "method_base"], dropna=False).head(1)


def _level_column(
    methods: pd.DataFrame, points: pd.DataFrame, level: float, *, of_floor: bool = False
) -> pd.Series:
    """One level's column of `time_to_accuracy` for `methods` (a row per problem and
    method_base, with its problem's `floor`): the least time with its spread and budget, in
    `methods`' order; `of_floor`: the level is that multiple of each problem's floor. (A
    merge, not a reindex: it matches an LU's missing rank to itself.)"""
    keys = [*PROBLEM, "method_base"]
    best = _least_time(points, level * points["floor"] if of_floor else level)
    shown = best[keys].assign(
        shown=[
            f"{t:.3g} s{range_text(times)}" + (f" ({options})" if options else "")
            for t, times, options in zip(best.time_s, best.times, best.options, strict=True)
        ]
    )
    column = methods[keys].merge(shown, on=keys, how="left").shown
    column = column.astype(object).fillna("not reached").set_axis(methods.index)
    if of_floor:
        return column.mask(methods["floor"].isna(), "not measurable")
    return column.mask(level < methods["floor"], "not measurable")  # NaN floor: none stated


def floor_level(multiple: float) -> str:
    """The column of a level at `multiple` x each problem's floor: "time to <= 1e3 x floor"."""
    shown = f"{multiple:.0e}".replace("e+0", "e") if multiple >= 1e3 else f"{multiple:g}"
    return f"time to <= {shown} x floor"


@per_table  # one table for every task's section
def time_to_accuracy(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem and method: the least time to reach each accuracy level of its task (the
    median over its cells, with their range in brackets: matrix instances and runs), with
    the budget that did it in parentheses; "not reached" within the budgets the run tried, or "not
    measurable" where the level is below the problem's `floor` (see `Accuracy`). A method
    whose fit ran once before the cells, untimed, has its seconds in the `UNTIMED_FIT` column
    (`report.untimed`)."""
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
        if accuracy.scales:
            levels = {
                floor_level(m): _level_column(table, mine, m, of_floor=True)
                for m in FLOOR_MULTIPLES
            }
        else:
            levels = {
                f"time to <= {lv:g}": _level_column(table, mine, lv) for lv in accuracy.levels
            }
        rows.append(table.assign(**levels).rename(columns={"method_base": "method"}))
    loosest_first = sorted(
        {lv for a in ACCURACY.values() if not a.scales for lv in a.levels}, reverse=True
    )
    columns = [
        *PROBLEM,
        "method",
        "group",
        "floor",
        *(floor_level(m) for m in FLOOR_MULTIPLES),
        *(f"time to <= {lv:g}" for lv in loosest_first),
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.concat(rows, ignore_index=True).reindex(columns=columns)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    table = table.assign(_g=table.group.map(order))
    table = table.sort_values([*PROBLEM, "_g", "method"]).drop(columns="_g")
    fits = untimed_fits(results)  # a fit outside the timed call: said where it is ranked
    if fits:
        column = table.columns.get_loc("method") + 1
        base = dict(zip(results.method, results.method_base, strict=True))
        seconds = [fits.get(base.get(m, m), math.nan) for m in table.method]
        table.insert(column, UNTIMED_FIT, seconds)
    return source_shown(table.reset_index(drop=True), results)
