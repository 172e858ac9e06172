"""Amortized methods (issue 15): how a model trained once on one distribution does on held-out
matrices of it and of other families, and after how many matrices its training pays off
against the best classical method at matched accuracy. Pure functions of the results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nnbench.report.reproduction import canonical_method

PROBLEM = ["kind", "matrix", "n", "rank", "batch", "dtype", "device"]
ACCURACY = {  # kind -> (results column, what it is): lower is better
    "lu": ("solve_backward_err", "backward error of Ax = 1 solved with the factors"),
    "rank-k": ("ratio_fro", "Frobenius error / Eckart-Young optimum"),
    "precond": ("cg_iterations", "CG iterations to 1e-8 with M = L L^T (build time only)"),
}


def _scored(results: pd.DataFrame) -> pd.DataFrame:
    ok = results[(results.status == "ok") & results.kind.isin(list(ACCURACY))].copy()
    ok["accuracy"] = [row[ACCURACY[row.kind][0]] for _, row in ok.iterrows()] if len(ok) else []
    ok["rank"] = ok["rank"].astype("Float64")  # LU rows have none: grouped as missing
    return ok


def generalization(results: pd.DataFrame) -> pd.DataFrame:
    """Per amortized method and test family: in or out of its training distribution, the
    median accuracy (by kind: `ACCURACY`), time per matrix, training time."""
    ok = _scored(results)
    cells = ok[ok.group == "amortized"]
    if cells.empty:
        return pd.DataFrame()
    trained_on = {m: "+".join(canonical_method(m).config.families) for m in cells.method.unique()}
    table = cells.groupby(["method", *PROBLEM], sort=True, dropna=False).agg(
        accuracy=("accuracy", "median"),
        rel_err_fro=("rel_err_fro", "median"),
        time_per_matrix_s=("time_per_matrix_s", "median"),
        train_time_s=("train_time_s", "first"),
        cells=("accuracy", "size"),
    )
    table = table.reset_index()
    table.insert(1, "trained_on", table.method.map(trained_on))
    inside = [m in t.split("+") for m, t in zip(table.matrix, table.trained_on, strict=True)]
    table.insert(2, "in_distribution", inside)
    table.insert(3, "accuracy_is", table.kind.map(lambda k: ACCURACY[k][1]))
    return table


def break_even(results: pd.DataFrame) -> pd.DataFrame:
    """Per amortized method and problem: the fastest classical method at least as accurate
    (matched accuracy), both per matrix, and how many matrices must be factorized before
    training + inference beats it: train / (t_classical - t_amortized); inf (never) when
    inference alone is slower."""
    ok = _scored(results)
    med = (
        ok.groupby(["method", "group", *PROBLEM], sort=True, dropna=False)
        .agg(
            accuracy=("accuracy", "median"),
            per_matrix=("time_per_matrix_s", "median"),
            train=("train_time_s", "first"),
        )
        .reset_index()
    )
    rows = []
    for _, mine in med[med.group == "amortized"].iterrows():
        same = (med[PROBLEM].fillna(-1) == mine[PROBLEM].fillna(-1)).all(axis=1)
        rivals = med[same & (med.group == "classical") & (med.accuracy <= mine.accuracy)]
        if rivals.empty:
            continue
        best = rivals.loc[rivals.per_matrix.idxmin()]
        gain = best.per_matrix - mine.per_matrix
        rows.append(
            {
                "method": mine.method,
                **{k: mine[k] for k in PROBLEM},
                "accuracy": mine.accuracy,
                "matrices_per_s": 1.0 / mine.per_matrix,
                "best_classical": best.method,
                "classical_accuracy": best.accuracy,
                "classical_matrices_per_s": 1.0 / best.per_matrix,
                "train_time_s": mine.train,
                "break_even_matrices": mine.train / gain if gain > 0 else math.inf,
            }
        )
    return pd.DataFrame(rows).replace({np.nan: None}) if rows else pd.DataFrame()
