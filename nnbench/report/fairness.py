"""Accuracy per second, the headline of the fair comparison: pure functions of the results.

A *problem* is (task, batch, matrix, n, rank, dtype, device): a batched task (a stack of
small matrices per call) is a task of its own; a *point* is one method variant on it
(a budget: power iterations, steps, tolerance), with its worst accuracy over the problem's
matrix instances and its median time. From the points: error-vs-time fronts, the least time
each method needs to reach an accuracy (or "not reached"), and a verdict per task that puts
the best hybrid and neural method beside the best classical one at matched accuracy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

PROBLEM = ["kind", "batch", "matrix", "n", "rank", "dtype", "device"]
GROUP_ORDER = ("classical", "hybrid", "neural", "amortized")


@dataclass(frozen=True)
class Accuracy:
    """How a task's accuracy is measured (0 is exact) and the levels the tables ask for."""

    label: str
    short: str
    measure: Callable[[pd.DataFrame], pd.Series]
    levels: tuple[float, ...]
    target: dict[str, float]  # the verdict's matched accuracy, by dtype


def _ratio_excess(df: pd.DataFrame) -> pd.Series:
    return np.maximum(df.ratio_2, df.ratio_fro) - 1.0


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
        "ratio - 1 (achieved / Eckart-Young optimum, worse of 2-norm and Frobenius)",
        "ratio - 1",
        _ratio_excess,
        (1e-2, 1e-6, 1e-12),
        {"float64": 1e-6, "float32": 1e-2},
    ),
    "lu": Accuracy(
        "backward error: max(||PA - LU|| / ||A||, that of Ax = 1 solved with the factors where "
        "A is nonsingular)",
        "backward error",
        _backward,
        (1e-6, 1e-12),
        {"float64": 1e-12, "float32": 1e-6},
    ),
    "qr": ORTHOGONAL,
    "svd": ORTHOGONAL,
}
"""By task (the `kind` column)."""


def budget_points(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, method variant) whose cells all ended ok: the worst accuracy over
    the problem's matrix instances, the median time, and the method's group and base."""
    frames = []
    for kind, accuracy in ACCURACY.items():
        cells = results[results.kind == kind]
        if cells.empty:
            continue
        cells = cells.assign(accuracy=accuracy.measure(cells).clip(lower=0.0))
        cells = cells[cells.accuracy.notna() | (cells.status != "ok")]  # unmeasured: no point
        keys = [*PROBLEM, "group", "method_base", "method", "options"]
        points = cells.groupby(keys, dropna=False).agg(
            accuracy=("accuracy", "max"),
            time_s=("time_s", "median"),
            cells=("status", "size"),
            ok=("status", lambda s: int((s == "ok").sum())),
        )
        frames.append(points[points.ok == points.cells].reset_index())
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _least_time(points: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per (problem, method_base): the fastest variant whose accuracy is within `level`."""
    reached = points[points.accuracy <= level]
    best = reached.sort_values("time_s").groupby([*PROBLEM, "method_base"], dropna=False).head(1)
    return best.set_index([*PROBLEM, "method_base"])


def _cell(best: pd.DataFrame, key: tuple[object, ...]) -> str:
    if key not in best.index:
        return "not reached"
    row = best.loc[key]
    variant = f" [{row.options}]" if row.options else ""
    return f"{row.time_s:.3g} s{variant}"


def time_to_accuracy(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem and method: the least time to reach each accuracy level of its task, with
    the budget that did it, or "not reached" within the budgets the run tried."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    rows = []
    for kind, accuracy in ACCURACY.items():
        mine = points[points.kind == kind]
        if mine.empty:
            continue
        best = {level: _least_time(mine, level) for level in accuracy.levels}
        methods = mine.groupby([*PROBLEM, "method_base"], dropna=False).group.first()
        for key, group in methods.items():
            problem = dict(zip([*PROBLEM, "method"], key, strict=True))
            levels = {f"time to <= {lv:g}": _cell(best[lv], key) for lv in accuracy.levels}
            rows.append({**problem, "group": group, **levels})
    table = pd.DataFrame(rows)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    table = table.assign(_g=table.group.map(order))
    return table.sort_values([*PROBLEM, "_g", "method"]).drop(columns="_g").reset_index(drop=True)


def verdict(results: pd.DataFrame) -> pd.DataFrame:
    """Per task, dtype and device: the matched accuracy, the classical method that was
    fastest to it most often (`best classical`), and for the other groups their
    best method, the `time ratio` (median over the problems both reached of its time / the
    best classical time) and on how many problems the group reached the target at all."""
    points = budget_points(results)
    if points.empty:
        return pd.DataFrame()
    rows = []
    for (kind, batch, dtype, device), mine in points.groupby(["kind", "batch", "dtype", "device"]):
        accuracy = ACCURACY[kind]
        target = accuracy.target[dtype]
        best = _fastest_within(mine, target)
        problems = len(mine.groupby(PROBLEM, dropna=False))
        classical = best.get("classical", pd.DataFrame())
        row: dict[str, object] = {
            "task": f"{kind}{f' x{batch}' if batch > 1 else ''}, {dtype}, {device}",
            "matched accuracy": f"{accuracy.short} <= {target:g}",
            "problems": problems,
            "best classical": _most_often(classical),
        }
        for group in GROUP_ORDER[1:]:
            if group not in set(mine.group):
                row[f"{group}: best"] = "not run"
                continue
            own = best.get(group, pd.DataFrame())
            ratio = np.nan
            if len(own) and len(classical):
                both = own.time_s.to_frame().join(classical.time_s.rename("c"), how="inner")
                ratio = float((both.time_s / both.c).median()) if len(both) else np.nan
            row[f"{group}: best"] = _most_often(own)
            row[f"{group}: time ratio"] = ratio
            row[f"{group}: reached"] = f"{len(own)}/{problems}"
        rows.append(row)
    return pd.DataFrame(rows)


def _fastest_within(points: pd.DataFrame, target: float) -> dict[str, pd.DataFrame]:
    """Per group: its fastest point within `target` on each problem, indexed by problem."""
    within = points[points.accuracy <= target].sort_values("time_s")
    best = within.groupby([*PROBLEM, "group"], dropna=False).head(1)
    return {g: rows.set_index(PROBLEM) for g, rows in best.groupby("group")}


def _most_often(best: pd.DataFrame) -> str:
    return str(best.method_base.mode().iloc[0]) if len(best) else "none reached"
