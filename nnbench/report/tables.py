"""Report tables: pure functions of the results (no I/O, no matrices made, no methods run)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbench.methods import KINDS
from nnbench.report.amortized import break_even, generalization
from nnbench.report.fairness import time_to_accuracy, verdict
from nnbench.report.reproduction import config_choice, reproduction_table
from nnbench.report.sensitivity import sensitivity_table
from nnbench.report.study002 import funnel_collapse, photo_hypotheses
from nnbench.results import Results

KEYS = ["kind", "matrix", "n_rows", "n_cols", "rank", "batch", "method", "dtype", "device"]

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
    "loss": ("loss", "first"),  # what final_loss measures: compare like with like only
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
    shape = table.n_rows.astype(str) + "x" + table.n_cols.astype(str)
    table = table.drop(columns=["n_rows", "n_cols"])
    table.insert(1, "shape", shape)
    return table.dropna(axis=1, how="all")


def status_table(results: pd.DataFrame) -> pd.DataFrame:
    """Cells that did not end `ok`, counted by method, status and reason."""
    bad = results[results["status"] != "ok"]
    if bad.empty:
        return pd.DataFrame(columns=["method", "status", "reason", "cells"])
    return (
        bad.groupby(["method", "status", "reason"], sort=True).size().rename("cells").reset_index()
    )


def spectra(res: Results) -> dict[tuple[str, int, int], np.ndarray]:
    """Singular values of each image matrix instance the run kept, by (matrix, n_rows, n_cols),
    repeat 0 (study 001's Figure 5 for the alphabet)."""
    rows = res.results.set_index("cell_id")
    out: dict[tuple[str, int, int], np.ndarray] = {}
    for cell_id, artifact in sorted(res.artifacts.items()):
        if artifact.sigma is None or cell_id not in rows.index:
            continue
        row = rows.loc[cell_id]
        if row["repeat"] == 0:  # item access: Series.repeat is a method
            key = (str(row["matrix"]), int(row["n_rows"]), int(row["n_cols"]))
            out.setdefault(key, artifact.sigma)
    return out


def spectrum_table(sigmas: dict[tuple[str, int, int], np.ndarray]) -> pd.DataFrame:
    """Singular values per matrix, normalised, with the cumulative energy they capture."""
    frames = [
        pd.DataFrame(
            {
                "matrix": matrix,
                "shape": f"{m}x{n}",
                "i": np.arange(1, s.size + 1),
                "sigma": s,
                "sigma_over_sigma1": s / s[0] if s[0] else np.nan,
                "energy_captured": np.cumsum(s**2) / np.sum(s**2) if s[0] else np.nan,
            }
        )
        for (matrix, m, n), s in sigmas.items()
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def effective_rank(s: np.ndarray, shape: tuple[int, int]) -> dict[str, float]:
    """Effective rank from the singular values by three definitions: entropy (Roy & Vetterli
    2007, exp of the entropy of sigma / sum(sigma)) and the number of singular values that
    hold 90% / 99% of ||A||_F^2; beside the numerical rank (numpy's tolerance)."""
    if not s.size or s[0] == 0:
        return {"rank": 0.0}
    p = s[s > 0] / s.sum()
    energy = np.cumsum(s**2) / np.sum(s**2)
    return {
        "rank": float(np.sum(s > max(shape) * np.finfo(np.float64).eps * s[0])),
        "entropy_effective_rank": float(np.exp(-np.sum(p * np.log(p)))),
        "rank_for_90pct_energy": float(np.searchsorted(energy, 0.90) + 1),
        "rank_for_99pct_energy": float(np.searchsorted(energy, 0.99) + 1),
    }


def effective_rank_table(sigmas: dict[tuple[str, int, int], np.ndarray]) -> pd.DataFrame:
    rows = [
        {"matrix": matrix, "shape": f"{m}x{n}", **effective_rank(s, (m, n))}
        for (matrix, m, n), s in sigmas.items()
    ]
    return pd.DataFrame(rows)


def all_tables(res: Results) -> dict[str, pd.DataFrame]:
    """Every table of the report, by file stem, in report order."""
    results = res.results
    sigmas = spectra(res)
    reproduction = reproduction_table(res)
    run = reproduction.verdict != "not run"
    tables = {
        "verdict": verdict(results),
        "reproduction": reproduction[run],
        "reproduction_configs": config_choice(res).dropna(subset=["median_abs_log10_ratio"]),
        "study002_photo": photo_hypotheses(results),
        "study002_funnel": funnel_collapse(results),
        "amortized_generalization": generalization(results),
        "amortized_break_even": break_even(results),
        "reproduction_not_run": not_run(reproduction[~run]),
    }
    ladder = time_to_accuracy(results)
    for kind in KINDS:
        if not ladder.empty:
            tables[f"time_to_accuracy_{kind}"] = ladder[ladder.kind == kind].dropna(
                axis=1, how="all"
            )
    tables |= {f"errors_{kind}": error_table(results, kind) for kind in KINDS}
    tables["evaluation_cost"] = evaluation_cost(results)
    tables["statuses"] = status_table(results)
    tables["study000_sensitivity"] = sensitivity_table(results)
    tables["image_effective_rank"] = effective_rank_table(sigmas)
    tables["image_spectra"] = spectrum_table(sigmas)
    return {name: table for name, table in tables.items() if not table.empty}


EVAL_COST_FROM = 256  # below, a cell's fixed overheads decide the ratio


def evaluation_cost(results: pd.DataFrame) -> pd.DataFrame:
    """Evaluation time / method time (median over the ok single-matrix cells) by method and n,
    from n = `EVAL_COST_FROM`: what checking an answer costs beside computing it. What the
    instance alone determines, computed once and shared (`shared_time_s`), is apart."""
    needed = {"eval_time_s", "time_s", "batch", "n"}
    if not needed <= set(results.columns):
        return pd.DataFrame()
    rows = results[
        (results.status == "ok") & (results.batch == 1) & (results.n >= EVAL_COST_FROM)
    ].dropna(subset=["eval_time_s", "time_s"])
    rows = rows[rows.time_s > 0]
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(ratio=rows.eval_time_s / rows.time_s)
    keys = ["kind", "group", "method", "dtype", "device"]
    table = rows.pivot_table(index=keys, columns="n", values="ratio", aggfunc="median")
    table.columns = [f"n={n}" for n in table.columns]
    return table.reset_index()


def not_run(rows: pd.DataFrame) -> pd.DataFrame:
    """The reproduction rows this run has no cells for, counted by the study that fills them."""
    if rows.empty:
        return pd.DataFrame()
    counts = rows.groupby(["study", "run"], sort=True).size().rename("reported_numbers")
    table = counts.reset_index()
    return table.assign(command="python -m nnbench run --study " + table.run).drop(columns="run")


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
