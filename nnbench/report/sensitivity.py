"""Study 000's sensitivity study as a table and figures (pure functions of the results)."""

from __future__ import annotations

import numpy as np
import pandas as pd

STUDY_METHOD = "neural-lu-study-final"


def sensitivity_rows(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of the study configuration and its variants (every status: divergence counts)."""
    is_study = (results.method == STUDY_METHOD) | results.method.str.startswith(f"{STUDY_METHOD}[")
    return results[is_study & results.optimizer.notna() & (results.optimizer != "")]


LR_RULE_LABELS = {"auto": "1/lambda init", "auto-final": "1/lambda final"}
"""How the heatmaps name seed 001's rules (the step sizes they choose vary by seed)."""


def lr_label(df: pd.DataFrame) -> pd.Series:
    """The learning rate as set: a number, or the rule that chose it."""
    rule = df.lr_rule.map(LR_RULE_LABELS)
    return rule.where(df.lr_rule != "", df.lr.map(lambda v: f"{v:.3g}"))


def sensitivity_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and matrix: median final loss over seeds, how many diverged, and
    the median steps and fit time."""
    df = sensitivity_rows(results)
    if df.empty:
        return pd.DataFrame()
    df = df.assign(
        options=df.options.fillna("").replace("", "(study config)"),
        diverged=df.status == "diverged",
        ok_loss=df.final_loss.where(df.status == "ok"),
    )
    return (
        df.groupby(["matrix", "options", "optimizer", "init", "data_size"], dropna=False)
        .agg(
            lr=("lr", "median"),
            seeds=("seed", "size"),
            diverged=("diverged", "sum"),
            median_final_loss=("ok_loss", "median"),
            median_steps=("steps", "median"),
            median_time_s=("time_s", "median"),
        )
        .reset_index()
    )


def grid_cells(df: pd.DataFrame, index: str, columns: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(log10 median final loss, annotation) for a heatmap; `div` where every seed diverged,
    `*` where some did."""
    ok_loss = df.final_loss.where(df.status == "ok")
    df = df.assign(ok_loss=ok_loss, diverged=df.status == "diverged")
    loss = df.pivot_table(index=index, columns=columns, values="ok_loss", aggfunc="median")
    share = df.pivot_table(index=index, columns=columns, values="diverged", aggfunc="mean")
    loss = loss.reindex(index=share.index, columns=share.columns)
    values = np.log10(loss.astype(float))
    text = values.map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    text = text.where(share.isna() | (share < 1), "div")
    return values, text.where(~((share > 0) & (share < 1)), text + "*")
