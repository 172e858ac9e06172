"""Report figures: pure functions of the results (no I/O). Each returns a matplotlib Figure,
or a `Missing` that says what data it needs and which study produces it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from nnbench.report.fairness import ACCURACY, GROUP_ORDER, PROBLEM, budget_points
from nnbench.report.sensitivity import grid_cells, lr_label, sensitivity_rows
from nnbench.report.tables import effective_rank, spectra
from nnbench.results import Results

MAX_FACETS = 9


@dataclass(frozen=True)
class Missing:
    reason: str


@dataclass(frozen=True)
class FigureSpec:
    name: str
    title: str
    caption: str
    make: Callable[[Results], Figure | Missing | list[tuple[str, Figure]]]


def _ok(results: Results) -> pd.DataFrame:
    return results.results[results.results.status == "ok"]


def _style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)


def error_vs_rank(res: Results) -> Figure | Missing:
    """Study 002's Figures 10 and 12 as plots: relative 2-norm error against k."""
    df = _ok(res)
    df = df[(df.kind == "rank-k") & (df.dtype == "float64")]
    groups = df.groupby(["matrix", "n"])["rank"].nunique()
    keep = groups[groups >= 3].index[:MAX_FACETS]
    if len(keep) == 0:
        return Missing(
            "needs rank-k cells at 3 or more ranks: run --study study002-reproduce "
            "or study001-alphabet"
        )
    df = df.set_index(["matrix", "n"]).loc[list(keep)].reset_index()
    df["matrix (n)"] = df.matrix + " (" + df.n.astype(str) + ")"
    _style()
    grid = sns.relplot(
        data=df,
        x="rank",
        y="rel_err_2",
        hue="method",
        style="method",
        col="matrix (n)",
        col_wrap=min(3, len(keep)),
        kind="line",
        markers=True,
        estimator="median",
        errorbar=("pi", 50),
        height=3.2,
        aspect=1.2,
        facet_kws={"sharey": False},
    )
    grid.set(yscale="log")
    grid.set_axis_labels("rank k", "relative 2-norm error (median, IQR band)")
    grid.figure.suptitle("Error against rank: networks vs truncated SVD", y=1.02)
    return grid.figure


def _picture(ax: Any, image: np.ndarray | None, title: str) -> None:
    """One grayscale picture panel (values clipped to [0, 1]), titled, without ticks."""
    assert image is not None  # the figures draw only cells whose artifacts kept one
    ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def image_panels(res: Results) -> list[tuple[str, Figure]] | Missing:
    """Original / SVD / each network, one row per rank, for every image matrix and size; the
    pictures are the run's artifacts (a view such as one letter where the matrix is not one
    picture)."""
    pictures = {k: a for k, a in res.artifacts.items() if a.approx_picture is not None}
    if not pictures:
        return Missing(
            "needs rank-k cells on image matrices (their pictures are kept "
            "in artifacts/): run --study study002-reproduce or quick"
        )
    df = res.results[res.results.cell_id.isin(pictures.keys())]
    # one column per method at its registered budget (a budget sweep would add dozens)
    df = df[(df["dtype"] == "float64") & (df["repeat"] == 0) & (df.method == df.method_base)]
    if df.empty:
        return Missing("needs float64 rank-k cells of registered methods on image matrices")
    figures = []
    for (matrix, n), group in df.groupby(["matrix", "n"], sort=True):
        methods = sorted(group.method.unique(), key=lambda m: (m != "scipy-tsvd", m))
        ranks = sorted(group["rank"].unique())
        first = group.iloc[0]
        artifact = pictures[first.cell_id]
        cols = 1 + len(methods)
        fig, axes = plt.subplots(  # constrained: titles never overlap the row above
            len(ranks), cols, figsize=(2.3 * cols, 2.7 * len(ranks)), squeeze=False,
            layout="constrained",
        )  # fmt: skip
        for ax in axes.flat:
            ax.set_axis_off()
        for i, rank in enumerate(ranks):
            axes[i, 0].set_axis_on()
            _picture(axes[i, 0], artifact.picture, "original")
            axes[i, 0].set_ylabel(f"k = {rank}")
            for j, method in enumerate(methods, start=1):
                cell = group[(group.method == method) & (group["rank"] == rank)]
                if cell.empty:
                    continue
                approx = pictures[cell.cell_id.iloc[0]].approx_picture
                axes[i, j].set_axis_on()
                title = f"{method}\nrel. err {cell.rel_err_2.iloc[0]:.3g}"
                _picture(axes[i, j], approx, title)
        label = f": {artifact.picture_label}" if artifact.picture_label else ""
        fig.suptitle(f"{matrix} ({first.n_rows}x{first.n_cols}){label}")
        figures.append((f"images_{matrix}_{n}", fig))
    return figures


def loss_curves(res: Results) -> Figure | Missing:
    """Training loss per step (or epoch) on a log axis, one line per (matrix, n, k): median
    over seeds with the IQR band; the six largest problems per method, float64 where the
    method ran in float64 (study 000's configuration runs in float32, as the study did). An
    amortized method's model was trained once: one line, "its training"."""
    if res.curves.empty:
        return Missing("needs trained (neural) methods: run --study quick or study002-reproduce")
    meta = res.results.set_index("cell_id")[["method", "group", "matrix", "n", "rank", "dtype"]]
    curves = res.curves.join(meta, on="cell_id")
    once = curves.group == "amortized"  # one model's training, copied to each of its cells
    first = curves[once].groupby(["method", "dtype"]).cell_id.transform("min")
    model = curves[once][curves[once].cell_id == first].assign(matrix="its training", n=0)
    curves = pd.concat([curves[~once], model], ignore_index=True)
    methods = sorted(curves.method.unique())[:MAX_FACETS]
    _style()
    fig, axes = plt.subplots(1, len(methods), figsize=(4.6 * len(methods), 3.8), squeeze=False)
    for ax, method in zip(axes[0], methods, strict=False):
        sub = curves[curves.method == method]
        dtype = "float64" if (sub.dtype == "float64").any() else sub.dtype.iloc[0]
        sub = sub[sub.dtype == dtype]
        groups = sorted(
            sub.groupby(["matrix", "n", "rank"], dropna=False),
            key=lambda item: (-item[0][1], str(item[0][0])),
        )[:6]
        colors = sns.color_palette("tab10", len(groups))
        for color, ((matrix, n, rank), g) in zip(colors, groups, strict=False):
            stats = g.groupby("step").loss.quantile([0.25, 0.5, 0.75]).unstack()
            label = f"{matrix} n={n}" if n else str(matrix)  # n = 0: a model's training
            label += "" if pd.isna(rank) else f" k={rank}"
            ax.plot(stats.index, stats[0.5], color=color, label=label, lw=1.2)
            ax.fill_between(stats.index, stats[0.25], stats[0.75], color=color, alpha=0.2, lw=0)
        ax.set_yscale("log")
        ax.set_title(f"{method} ({dtype})", fontsize=10)
        ax.set_xlabel(str(sub.unit.iloc[0]) if len(sub) else "step")
        ax.set_ylabel("training loss (see its loss column)")
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle("Loss per step (median over seeds, IQR band)")
    fig.tight_layout()
    return fig


def _heatmap(df: pd.DataFrame, index: str, columns: str, title: str) -> Figure:
    values, text = grid_cells(df, index, columns)
    _style()
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * values.shape[1], 1.2 + 0.45 * values.shape[0]))
    sns.heatmap(values, ax=ax, cmap="viridis_r", cbar_kws={"label": "log10 final loss"})
    for (i, j), label in np.ndenumerate(text.to_numpy()):  # seaborn skips NaN (diverged) cells
        ax.text(j + 0.5, i + 0.5, label, ha="center", va="center", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _study000_a(res: Results) -> pd.DataFrame:
    df = sensitivity_rows(res.results)
    return df[(df.matrix == "study000-a") & (df.switch_to == "")]


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
    df = _study000_a(res)
    df = df[(df.init == "default") & (df.status == "ok")]
    sizes = df.groupby(["optimizer", "lr"]).data_size.nunique()
    keep = sizes[sizes >= 3].index
    if len(keep) == 0:
        return SENSITIVITY_MISSING
    df = df.set_index(["optimizer", "lr"]).loc[list(keep)].reset_index()
    df["optimizer, lr"] = df.optimizer + ", lr " + df.lr.map(lambda v: f"{v:.3g}")
    _style()
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
    fig.tight_layout()
    return fig


def time_vs_n(res: Results) -> Figure | Missing:
    """Median time against n, log-log, one panel per (device, dtype), each line a method with
    its fitted slope (3 for O(n^3) work). Batch cells and non-square matrices are left out."""
    df = _ok(res)
    df = df[(df.n_rows == df.n_cols) & (df.batch == 1)]
    sizes = df.groupby(["device", "dtype", "method"]).n.nunique()
    keep = sizes[sizes >= 3].index
    if len(keep) == 0:
        return Missing(
            "needs 3 or more sizes per method: run --study gpu-scale, classical-scale or "
            "lowrank-scale"
        )
    df = df.set_index(["device", "dtype", "method"]).loc[list(keep)].reset_index()
    med = df.groupby(["device", "dtype", "method", "n"]).time_s.median().reset_index()
    panels = sorted(med.groupby(["device", "dtype"]).groups)[:MAX_FACETS]
    _style()
    most = int(med.groupby(["device", "dtype"]).method.nunique().max())
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6.5 * len(panels), 4.5 + 0.16 * most), squeeze=False
    )
    colors = sns.color_palette("tab10", 10)
    style = {  # one look per method in every panel: 10 colours x line styles and markers
        method: {
            "color": colors[i % 10],
            "ls": ("-", "--", ":", "-.")[i // 10 % 4],
            "marker": MARKERS[i // 10 % len(MARKERS)],
        }
        for i, method in enumerate(sorted(med.method.unique()))
    }
    for ax, (device, dtype) in zip(axes[0], panels, strict=False):
        panel = med[(med.device == device) & (med.dtype == dtype)]
        for method, g in panel.groupby("method"):
            slope = np.polyfit(np.log(g.n), np.log(g.time_s), 1)[0]
            ax.plot(g.n, g.time_s, ms=5, label=f"{method} (slope {slope:.2f})", **style[method])
        ax.set_xscale("log")
        ax.set_yscale("log")
        n_values = sorted(panel.n.unique())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(n_values, [str(n) for n in n_values])
        ax.set_xlabel("n (matrix side)")
        ax.set_ylabel("time per factorization / fit [s] (median)")
        ax.set_title(f"{device}, {dtype}", fontsize=10)
        ax.legend(fontsize=7, ncol=1, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    fig.suptitle("Time against size, log-log, with fitted slopes (all families)")
    fig.tight_layout()
    return fig


def error_vs_time(res: Results) -> Figure | Missing:
    df = _ok(res)
    df = df[df.dtype == "float64"].copy()
    if df.empty:
        return Missing("needs ok cells: run a study, e.g. --study quick")
    df["error"] = np.where(df.kind == "rank-k", df.ratio_fro - 1.0, df.rel_err_fro)
    df["error"] = df["error"].clip(lower=1e-17)
    _style()
    grid = sns.relplot(
        data=df,
        x="time_s",
        y="error",
        hue="method",
        col="kind",
        palette="tab20",
        col_wrap=2,
        height=3.3,
        aspect=1.3,
        alpha=0.6,
        s=18,
        facet_kws={"sharey": False, "sharex": False},
    )
    grid.set(xscale="log", yscale="log")
    grid.set_axis_labels("time [s]", "rel. Frobenius error (rank-k: ratio - 1)")
    grid.figure.suptitle("What accuracy each method buys per second (float64; floor 1e-17)", y=1.02)
    return grid.figure


def singular_values(res: Results) -> Figure | Missing:
    """Normalised singular values of every image matrix the run kept (study 001, Fig. 5)."""
    sigmas = spectra(res)
    if not sigmas:
        return Missing(
            "needs rank-k cells on image matrices: run --study study001-alphabet or quick"
        )
    _style()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for (matrix, m, n), s in sigmas.items():
        if s.size and s[0] > 0:
            ax.semilogy(np.arange(1, s.size + 1), s / s[0], marker=".", label=f"{matrix} {m}x{n}")
    ax.set_xscale("log")
    ax.set_xlabel("index i")
    ax.set_ylabel("sigma_i / sigma_1")
    ax.set_title("Singular values of the image matrices (study 001, Fig. 5: the alphabet)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def alphabet_ranks(res: Results) -> Figure | Missing:
    """Study 001's 'effective rank close to 5', a visual judgement, beside our quantitative
    measures: the letter B of the truncated SVD at each rank run, with each measure named."""
    pictures = {k: a for k, a in res.artifacts.items() if a.approx_picture is not None}
    ok = _ok(res)
    cells = ok[(ok.matrix == "alphabet") & (ok.method == "scipy-tsvd") & ok.cell_id.isin(pictures)]
    cells = cells[cells["repeat"] == 0].drop_duplicates("rank").sort_values("rank")
    sigma = spectra(res).get(("alphabet", 900, 26))
    if cells.empty or sigma is None:
        return Missing(
            "needs scipy-tsvd cells on the alphabet matrix: run --study study001-alphabet"
        )
    measures = effective_rank(sigma, (900, 26))
    first = pictures[cells.cell_id.iloc[0]]
    cols = 1 + len(cells)
    fig, axes = plt.subplots(
        1, cols, figsize=(1.6 * cols, 3.0), squeeze=False, layout="constrained"
    )
    _picture(axes[0, 0], first.picture, "original")
    for ax, (_, cell) in zip(axes[0, 1:], cells.iterrows(), strict=True):
        approx = pictures[cell.cell_id].approx_picture
        _picture(ax, approx, f"r = {int(cell['rank'])}\nrel. err {cell.rel_err_2:.2f}")
    fig.suptitle(
        "Letter B at rank r (truncated SVD). Study 001 (visual): recognisable at r ~ 5.  Ours: "
        f"entropy effective rank {measures['entropy_effective_rank']:.1f} (Roy & Vetterli), "
        f"{measures['rank_for_90pct_energy']:.0f} / {measures['rank_for_99pct_energy']:.0f} "
        f"singular values hold 90% / 99% of ||A||_F^2, numerical rank {measures['rank']:.0f}",
        fontsize=8,
        wrap=True,
    )
    return fig


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
GROUP_COLORS = dict(
    zip(GROUP_ORDER, ("tab:blue", "tab:orange", "tab:green", "tab:purple"), strict=True)
)


def _same_problem(points: pd.DataFrame, problem: pd.Series) -> pd.Series:
    """Rows of `points` on `problem` (missing values, such as an LU's rank, match each other)."""
    keep = pd.Series(True, index=points.index)
    for column in PROBLEM:
        value = problem[column]
        same = points[column].isna() if pd.isna(value) else (points[column] == value)
        keep &= same.fillna(False).astype(bool)
    return keep


def fronts(res: Results) -> Figure | Missing:
    """Error against time per method, its budget variants joined in order of time: each
    method's front on the largest problems of each task (classical blue, hybrid orange,
    neural green)."""
    points = budget_points(res.results)
    if points.empty:
        return Missing("needs ok cells: run --study fair-quick")
    varied = points.groupby(PROBLEM, dropna=False).method.nunique()
    problems = varied[varied >= 3].reset_index()
    problems = problems.sort_values(["kind", "n"]).groupby("kind").tail(2).head(MAX_FACETS)
    if problems.empty:
        return Missing("needs 3 or more methods on one problem: run --study fair-quick")
    _style()
    cols = min(3, len(problems))
    rows = -(-len(problems) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for ax, (_, problem) in zip(axes.flat, problems.iterrows(), strict=False):
        mine = points[_same_problem(points, problem)]
        for (group, base), line in mine.groupby(["group", "method_base"]):
            line = line.sort_values("time_s")
            marker = MARKERS[sorted(set(mine[mine.group == group].method_base)).index(base) % 8]
            color = GROUP_COLORS.get(group, "gray")
            ax.plot(line.time_s, line.accuracy.clip(lower=1e-17), marker=marker, ms=4, lw=1,
                    color=color, alpha=0.85, label=f"{base} ({group})")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        kind = str(problem["kind"])  # item access: Series.dtype and friends are attributes
        rank = "" if pd.isna(problem["rank"]) else f", k={problem['rank']}"
        ax.set_title(
            f"{kind}: {problem['matrix']} n={problem['n']}{rank}, {problem['dtype']}", fontsize=9
        )
        ax.set_xlabel("time [s] (median)")
        ax.set_ylabel(ACCURACY[kind].label.split(" (")[0], fontsize=8)
        ax.legend(fontsize=6, ncol=2)
    for ax in list(axes.flat)[len(problems) :]:
        ax.set_axis_off()
    fig.suptitle("Accuracy per second: each method's budget variants (floor 1e-17)")
    fig.tight_layout()
    return fig


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "fronts",
        "Error against time, by budget",
        "Each line is a method; its points are budgets (power iterations, steps, tolerance). "
        "Lower and further left is better.",
        fronts,
    ),
    FigureSpec(
        "error_vs_rank",
        "Error against rank k",
        "Median relative 2-norm error against k per method (study 002, Figs. 10/12).",
        error_vs_rank,
    ),
    FigureSpec(
        "images",
        "Images: original, SVD and networks",
        "Rank-k approximations side by side with each cell's relative 2-norm error.",
        image_panels,
    ),
    FigureSpec("loss_curves", "Training loss", "Loss per step/epoch, log scale.", loss_curves),
    FigureSpec(
        "sensitivity",
        "Optimizer x learning rate",
        "Final loss of neural LU by optimizer and learning rate (study 000, Fig. 5).",
        sensitivity_heatmap,
    ),
    FigureSpec(
        "sensitivity_init",
        "Optimizer x initial weights",
        "Final loss of neural LU by optimizer and initial weights (study 000, Fig. 6).",
        init_heatmap,
    ),
    FigureSpec(
        "sensitivity_data_size",
        "Final loss against data_size",
        "SGD and Adam with 1 to 1000 input rows per step (study 000, Figs. 3-4).",
        data_size_plot,
    ),
    FigureSpec("time_vs_n", "Time against size", "Median time, log-log, fitted slopes.", time_vs_n),
    FigureSpec(
        "error_vs_time",
        "Error against time",
        "Each point is a cell: its accuracy and what it cost.",
        error_vs_time,
    ),
    FigureSpec(
        "alphabet_ranks",
        "Study 001: the letter B at rank r",
        "The study's effective rank (~5) is a visual judgement; the title gives our "
        "quantitative measures and whose each one is.",
        alphabet_ranks,
    ),
    FigureSpec(
        "singular_values",
        "Singular values of the image matrices",
        "Normalised singular values of each image matrix (repeat 0), log-log.",
        singular_values,
    ),
)
