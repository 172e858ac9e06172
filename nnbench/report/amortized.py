"""Amortized methods (issue 15): how a model trained once on one distribution does on held-out
matrices of it and of other families, and after how many matrices its training pays off
against the best classical method at matched accuracy. Pure functions of the results."""

from __future__ import annotations

import math

import pandas as pd

from nnbench.methods import select_methods

PROBLEM = ["matrix", "n", "batch", "dtype", "device"]


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[(results.status == "ok") & (results.kind == "lu")]


def generalization(results: pd.DataFrame) -> pd.DataFrame:
    """Per amortized method and test family: in or out of its training distribution, median
    errors over the cells, time per matrix, training time."""
    ok = _ok(results)
    cells = ok[ok.group == "amortized"]
    if cells.empty:
        return pd.DataFrame()
    trained_on = {m: "+".join(select_methods(m)[0].config.families) for m in cells.method.unique()}
    table = cells.groupby(["method", *PROBLEM], sort=True).agg(
        rel_err_2=("rel_err_2", "median"),
        solve_backward_err=("solve_backward_err", "median"),
        time_per_matrix_s=("time_per_matrix_s", "median"),
        train_time_s=("train_time_s", "first"),
    )
    table = table.reset_index()
    table.insert(1, "trained_on", table.method.map(trained_on))
    table.insert(
        2,
        "in_distribution",
        [m in t.split("+") for m, t in zip(table.matrix, table.trained_on, strict=True)],
    )
    return table


def break_even(results: pd.DataFrame) -> pd.DataFrame:
    """Per amortized method and problem: the fastest classical method whose backward error is
    at most the amortized one's (matched accuracy), both per matrix, and how many matrices
    must be factorized before training + inference beats it (train / (t_classical -
    t_amortized); never when inference alone is slower)."""
    ok = _ok(results)
    med = (
        ok.groupby(["method", "group", *PROBLEM], sort=True)
        .agg(
            backward=("solve_backward_err", "median"),
            per_matrix=("time_per_matrix_s", "median"),
            train=("train_time_s", "first"),
        )
        .reset_index()
    )
    rows = []
    for _, mine in med[med.group == "amortized"].iterrows():
        same = (med[PROBLEM] == mine[PROBLEM]).all(axis=1) & (med.group == "classical")
        rivals = med[same & (med.backward <= mine.backward)]
        if rivals.empty:
            continue
        best = rivals.loc[rivals.per_matrix.idxmin()]
        gain = best.per_matrix - mine.per_matrix
        rows.append(
            {
                "method": mine.method,
                **{k: mine[k] for k in PROBLEM},
                "backward_err": mine.backward,
                "matrices_per_s": 1.0 / mine.per_matrix,
                "best_classical": best.method,
                "classical_backward_err": best.backward,
                "classical_matrices_per_s": 1.0 / best.per_matrix,
                "train_time_s": mine.train,
                "break_even_matrices": mine.train / gain if gain > 0 else math.inf,
            }
        )
    return pd.DataFrame(rows)
