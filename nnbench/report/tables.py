"""Report tables: pure functions of a results DataFrame (no I/O)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import KINDS
from nnbench.report.sensitivity import sensitivity_table
from nnbench.reproduction import reproduction_table

KEYS = ["kind", "matrix", "n_rows", "n_cols", "rank", "method", "dtype", "device"]

SUMMARIES: dict[str, tuple[str, str]] = {
    "rel_err_2": ("rel_err_2", "median"),
    "rel_err_fro": ("rel_err_fro", "median"),
    "rel_err_fro_max": ("rel_err_fro", "max"),
    "ratio_2": ("ratio_2", "median"),
    "ratio_fro": ("ratio_fro", "median"),
    "rank_ok_rate": ("rank_ok", "mean"),
    "structure_err": ("structure_err", "median"),
    "factor_err": ("factor_err", "median"),
    "solve_backward_err": ("solve_backward_err", "median"),
    "det_rel_err": ("det_rel_err", "median"),
    "final_loss": ("final_loss", "median"),
    "steps": ("steps", "median"),
    "time_s": ("time_s", "median"),
    "time_iqr_s": ("time_iqr_s", "median"),
}
"""Output column -> (results column, aggregation over the seeds/repeats of a group)."""


def error_table(results: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One row per (matrix, size, rank, method, dtype, device) of `kind` with at least one `ok`
    cell: medians over seeds of the `ok` cells, the count of cells and of `ok` ones (the
    status table explains the rest). Columns that are all NaN are dropped."""
    rows = results[results["kind"] == kind].copy()
    if rows.empty:
        return pd.DataFrame()
    rows["rank_ok"] = rows["rank_ok"].astype("Float64")
    keys = [k for k in KEYS if k != "kind" and not (k == "rank" and kind != "rank-k")]
    counts = rows.groupby(keys, dropna=False, sort=True).agg(
        cells=("status", "size"), ok=("status", lambda s: int((s == "ok").sum()))
    )
    ok = rows[rows["status"] == "ok"]
    stats = ok.groupby(keys, dropna=False, sort=True).agg(**SUMMARIES)
    table = counts.join(stats, how="inner").reset_index()
    return table.dropna(axis=1, how="all")


def status_table(results: pd.DataFrame) -> pd.DataFrame:
    """Cells that did not end `ok`, counted by method, status and reason."""
    bad = results[results["status"] != "ok"]
    if bad.empty:
        return pd.DataFrame(columns=["method", "status", "reason", "cells"])
    return (
        bad.groupby(["method", "status", "reason"], sort=True).size().rename("cells").reset_index()
    )


def spectrum_table(a: np.ndarray) -> pd.DataFrame:
    """Singular values of `a`, normalised and cumulative energy (study 001's Figure 5)."""
    s = np.linalg.svd(a, compute_uv=False)
    return pd.DataFrame(
        {
            "i": np.arange(1, s.size + 1),
            "sigma": s,
            "sigma_over_sigma1": s / s[0],
            "energy_captured": np.cumsum(s**2) / np.sum(s**2),
        }
    )


def effective_rank(a: np.ndarray) -> dict[str, float]:
    """Effective rank by three definitions: entropy (Roy & Vetterli 2007, exp of the entropy
    of sigma / sum(sigma)) and the number of singular values holding 90% / 99% of ||A||_F^2."""
    s = np.linalg.svd(a, compute_uv=False)
    p = s[s > 0] / s.sum()
    energy = np.cumsum(s**2) / np.sum(s**2)
    return {
        "rank": float(np.linalg.matrix_rank(a)),
        "entropy_effective_rank": float(np.exp(-np.sum(p * np.log(p)))),
        "rank_for_90pct_energy": float(np.searchsorted(energy, 0.90) + 1),
        "rank_for_99pct_energy": float(np.searchsorted(energy, 0.99) + 1),
    }


def all_tables(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table of the report, by file stem, in report order."""
    tables = {"reproduction": reproduction_table(results)}
    tables |= {f"errors_{kind}": error_table(results, kind) for kind in KINDS}
    tables["statuses"] = status_table(results)
    tables["study000_sensitivity"] = sensitivity_table(results)
    if (results.matrix == "alphabet").any():
        alphabet = MATRIX_FAMILIES["alphabet"].make()
        tables["alphabet_spectrum"] = spectrum_table(alphabet)
        tables["alphabet_effective_rank"] = pd.DataFrame([effective_rank(alphabet)])
    return {name: table for name, table in tables.items() if not table.empty}


def history_table(history: pd.DataFrame, *, last: int = 10) -> pd.DataFrame:
    """asv results as benchmark x parameters rows and one column per commit (oldest first)."""
    if history.empty:
        return pd.DataFrame()
    order = history.groupby("commit").date.min().sort_values().index[-last:]
    recent = history[history.commit.isin(order)].assign(commit=lambda d: d.commit.str[:8])
    table = recent.pivot_table(
        index=["benchmark", "params", "unit"], columns="commit", values="value", aggfunc="first"
    )
    return table[[c[:8] for c in order]].reset_index()
