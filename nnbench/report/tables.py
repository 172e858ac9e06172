"""Report tables: pure functions of a results DataFrame (no I/O)."""

from __future__ import annotations

import pandas as pd

from nnbench.methods import KINDS

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


def all_tables(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table of the report, by file stem, in report order."""
    tables = {f"errors_{kind}": error_table(results, kind) for kind in KINDS}
    tables["statuses"] = status_table(results)
    return {name: table for name, table in tables.items() if not table.empty}
