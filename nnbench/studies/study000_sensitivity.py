"""Study 000's sensitivity study on [[10,20],[30,40]]: data_size for SGD and Adam, optimizer x
learning rate (with seed 001's 1/lambda_max rule), initial weights, Rprop then Adam; its
table and its Figures 3-6 as heatmaps and a line plot (pure functions of the results)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nnbench.report.spec import FigureSpec, Missing, TableSpec
from nnbench.results import Results
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

if TYPE_CHECKING:  # drawn only in a report (a run loads no figure library)
    from matplotlib.figure import Figure

STUDY_000_OPTIMIZERS = ("sgd", "asgd", "rprop", "rmsprop", "adagrad", "adam")
STUDY_000_BEST_LR = {"sgd": 0.01, "asgd": 0.01, "rprop": 0.01, "rmsprop": 0.01, "adagrad": 0.1}


def study_variant(**options: object) -> str:
    """`neural-lu-study-final[k=v,...]`: the study's final configuration, options changed."""
    return "neural-lu-study-final[" + ",".join(f"{k}={v}" for k, v in options.items()) + "]"


def _study000_sensitivity(*, steps: int, repeats: int, timing_repeats: int = 5) -> tuple[Grid, ...]:
    """Study 000's sensitivity study on [[10,20],[30,40]] (float32, as the study's Tensor):
    data_size for SGD and Adam; optimizer x lr {0.1, 0.01, 0.001}, plus seed 001's rule for the
    SGD variants; the three inits per optimizer at its best lr from the study's text (SGD/ASGD
    0.01, Rprop and RMSprop 0.01, Adagrad and Adam 0.1); Rprop then Adam below 1e-1 / 1e-2."""
    best = STUDY_000_BEST_LR | {"adam": 0.1}
    methods = [
        *(
            study_variant(optimizer=opt, lr=lr, steps=steps)
            for opt in STUDY_000_OPTIMIZERS
            for lr in (0.1, 0.01, 0.001)
        ),
        *(
            study_variant(optimizer=opt, lr=rule, steps=steps)
            for opt in ("sgd", "asgd")
            for rule in ("auto", "auto-final")
        ),
        *(
            study_variant(optimizer=opt, lr=best[opt], data_size=size, steps=steps)
            for opt in ("sgd", "adam")
            for size in (1, 2, 10, 100, 1000)
        ),
        *(
            study_variant(optimizer=opt, lr=best[opt], init=init, steps=steps)
            for opt in STUDY_000_OPTIMIZERS
            for init in ("default", "mean", "identity")
        ),
        *(
            study_variant(
                optimizer="rprop", lr=0.01, switch_to="adam", switch_below=below, steps=steps
            )
            for below in (0.1, 0.01)
        ),
    ]
    return (
        Grid(
            matrices=("study000-a",),
            methods=tuple(methods),
            dtypes=("float32",),
            repeats=repeats,
            timing_repeats=timing_repeats,
        ),
    )


STUDY_METHOD = "neural-lu-study-final"


SENSITIVITY_MATRIX = "study000-a"  # the study's sensitivity study ran on [[10,20],[30,40]]


def sensitivity_rows(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of the study configuration and its variants on the study's matrix (every status:
    divergence counts); the same configuration on a user's matrix is not this study."""
    is_study = (results.method == STUDY_METHOD) | results.method.str.startswith(f"{STUDY_METHOD}[")
    trained = results.optimizer.notna() & (results.optimizer != "")
    return results[is_study & trained & (results.matrix == SENSITIVITY_MATRIX)]


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
    text = text.where(~((share > 0) & (share < 1)), text + "*")
    return values, text.where(share.notna(), "not run")  # no cell of the grid ran there


def _heatmap(df: pd.DataFrame, index: str, columns: str, title: str) -> Figure:
    import matplotlib
    import seaborn as sns
    from matplotlib import pyplot as plt

    from nnbench.report.figures import theme

    values, text = grid_cells(df, index, columns)
    theme()
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * values.shape[1], 1.2 + 0.45 * values.shape[0]))
    cmap = matplotlib.colormaps["viridis_r"]
    sns.heatmap(values, ax=ax, cmap=cmap, cbar_kws={"label": "log10 final loss"})
    ax.patch.set_facecolor("white")  # seaborn leaves NaN cells (diverged, not run) empty:
    ax.patch.set_hatch("//")  # hatched, so that they never pass for a colour of the scale
    ax.patch.set_edgecolor("lightgray")
    low, high = np.nanmin(values.to_numpy(float)), np.nanmax(values.to_numpy(float))
    for (i, j), label in np.ndenumerate(text.to_numpy()):
        value = values.iloc[i, j]
        shade = cmap((value - low) / (high - low) if high > low else 0.5)
        dark = not pd.isna(value) and 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] < 0.5
        ax.text(j + 0.5, i + 0.5, label, ha="center", va="center", fontsize=8,
                color="white" if dark else "black")  # fmt: skip
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _study000_a(res: Results) -> pd.DataFrame:
    df = sensitivity_rows(res.results)
    return df[df.switch_to == ""]


SENSITIVITY_MISSING = Missing(
    "needs study 000's sensitivity study: run --study study000-sensitivity"
)


def sensitivity_heatmap(res: Results) -> Figure | Missing:
    """Study 000's Figure 5 as a grid: optimizer x learning rate (data_size 100, default
    init); `lr` from seed 001's rule shows its value."""
    df = _study000_a(res)
    df = df[(df.init == "default") & (df.data_size == 100)]
    if df.optimizer.nunique() < 2 or df.lr.nunique() < 2:
        return SENSITIVITY_MISSING
    df = df.assign(lr=lr_label(df))
    return _heatmap(
        df, "optimizer", "lr", "log10 median final loss, [[10,20],[30,40]] (div: diverged)"
    )


def init_heatmap(res: Results) -> Figure | Missing:
    """Study 000's Figure 6: optimizer x initial weights, data_size 100."""
    df = _study000_a(res)
    df = df[df.data_size == 100]
    df = df.assign(lr=lr_label(df))
    inits = df.groupby(["optimizer", "lr"]).init.transform("nunique")
    df = df[inits >= 2]
    if df.empty:
        return SENSITIVITY_MISSING
    df = df.assign(optimizer=df.optimizer + " lr " + df.lr)
    return _heatmap(df, "optimizer", "init", "log10 median final loss by initial weights")


def data_size_plot(res: Results) -> Figure | Missing:
    """Study 000's Figures 3 and 4: final loss against data_size for SGD and Adam."""
    import seaborn as sns
    from matplotlib import pyplot as plt

    from nnbench.report.figures import theme

    df = _study000_a(res)
    df = df[(df.init == "default") & (df.status == "ok")]
    sizes = df.groupby(["optimizer", "lr"]).data_size.nunique()
    keep = sizes[sizes >= 3].index
    if len(keep) == 0:
        return SENSITIVITY_MISSING
    df = df.set_index(["optimizer", "lr"]).loc[list(keep)].reset_index()
    df["optimizer, lr"] = df.optimizer + ", lr " + df.lr.map(lambda v: f"{v:.3g}")
    theme()
    fig, ax = plt.subplots(figsize=(6, 4))
    sns.lineplot(
        df,
        x="data_size",
        y="final_loss",
        hue="optimizer, lr",
        marker="o",
        ax=ax,
        estimator="median",
        errorbar=("pi", 50),
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("data_size (input rows per step)")
    ax.set_ylabel("final loss (median, IQR)")
    ax.set_title("Final loss against data_size, [[10,20],[30,40]]")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # off the data
    fig.tight_layout()
    return fig


STUDY = Study(
    "study000-sensitivity",
    "study 000's sensitivity study on [[10,20],[30,40]]: data_size for SGD and Adam, "
    "optimizer x learning rate (with seed 001's 1/lambda_max), initial weights, Rprop then "
    "Adam; 5000 steps, 5 seeds",
    grids=_study000_sensitivity(steps=5000, repeats=5),
    quick=_study000_sensitivity(steps=100, repeats=1, timing_repeats=1),  # final losses: one call
    tables=(
        TableSpec(
            name="study000_sensitivity",
            title="Study 000's sensitivity study: final loss by configuration",
            nav="Sensitivity",
            make=lambda res: sensitivity_table(res.results),
        ),
    ),
    figures=(
        FigureSpec(
            name="sensitivity",
            title="Optimizer x learning rate",
            caption="Final loss of neural LU by optimizer and learning rate (study 000, Fig. 5).",
            make=sensitivity_heatmap,
            optional=True,
        ),
        FigureSpec(
            name="sensitivity_init",
            title="Optimizer x initial weights",
            caption="Final loss of neural LU by optimizer and initial weights (study 000, Fig. 6).",
            make=init_heatmap,
            optional=True,
        ),
        FigureSpec(
            name="sensitivity_data_size",
            title="Final loss against data_size",
            caption="SGD and Adam with 1 to 1000 input rows per step (study 000, Figs. 3-4).",
            make=data_size_plot,
            optional=True,
        ),
    ),
)
