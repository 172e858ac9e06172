"""Report figures: pure functions of the results (no I/O). Each returns a matplotlib Figure,
or a `Missing` that says what data it needs and which study produces it."""

from __future__ import annotations

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
from nnbench.report.profiles import TASK, profile_ratios, profiles
from nnbench.report.spec import FigureSpec, Missing
from nnbench.report.tables import spectra
from nnbench.results import Results

MAX_FACETS = 9


def _ok(results: Results) -> pd.DataFrame:
    return results.results[results.results.status == "ok"]


def theme() -> None:
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
    theme()
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


def picture(ax: Any, image: np.ndarray | None, title: str) -> None:
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
            picture(axes[i, 0], artifact.picture, "original")
            axes[i, 0].set_ylabel(f"k = {rank}")
            for j, method in enumerate(methods, start=1):
                cell = group[(group.method == method) & (group["rank"] == rank)]
                if cell.empty:
                    continue
                approx = pictures[cell.cell_id.iloc[0]].approx_picture
                axes[i, j].set_axis_on()
                title = f"{method}\nrel. err {cell.rel_err_2.iloc[0]:.3g}"
                picture(axes[i, j], approx, title)
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
    theme()
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
    theme()
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
    df = df[(df.dtype == "float64") & (df.kind != "precond")].copy()  # precond: iterations
    df["error"] = np.where(df.kind == "rank-k", df.ratio_fro - 1.0, df.rel_err_fro)
    df = df[np.isfinite(df["error"].astype(float))]
    if df.empty:
        return Missing("needs ok factorization cells in float64: run e.g. --study quick")
    df["error"] = df["error"].clip(lower=1e-17)
    theme()
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
    theme()
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
    theme()
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
        ax.set_ylabel(ACCURACY[kind].short, fontsize=8)  # the label is in the tables
        ax.legend(fontsize=6, ncol=2)
    for ax in list(axes.flat)[len(problems) :]:
        ax.set_axis_off()
    fig.suptitle("Accuracy per second: each method's budget variants (floor 1e-17)")
    fig.tight_layout()
    return fig


LEGEND_MAX = 12  # methods per panel; past it, the ones fastest most often are drawn


def performance_profiles(res: Results) -> Figure | Missing:
    """Dolan-More profiles per task (`report.profiles`): rho(tau), the fraction of problems on
    which a method is within tau x the fastest at matched accuracy; colour by group."""
    ratios = profile_ratios(res.results)
    if ratios.empty:
        return Missing("needs judged fair-comparison problems: run --study fair-quick")
    taus = np.geomspace(1.0, 1e4, 200)
    curves = profiles(ratios, taus)
    tasks = curves.groupby(TASK, dropna=False).size().index[:MAX_FACETS]
    theme()
    cols = min(3, len(tasks))
    rows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.6 * cols, 4.4 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks, strict=False):
        mine = curves[(curves[TASK].astype(str) == pd.Series(task, index=TASK).astype(str)).all(1)]
        area = mine.groupby("method_base").rho.mean().sort_values(ascending=False)
        shown = list(area.index[:LEGEND_MAX])
        for base in shown:
            line = mine[mine.method_base == base]
            group = str(line.group.iloc[0])
            index = shown.index(base)
            ax.step(line.tau, line.rho, where="post", lw=1.3, color=GROUP_COLORS.get(group, "gray"),
                    ls=("-", "--", ":", "-.")[index % 4], label=f"{base} ({group})")  # fmt: skip
        kind, batch, dtype, device = task
        stack = f" x{batch}" if batch and batch > 1 else ""
        hidden = len(area) - len(shown)
        ax.set_title(f"{kind}{stack}, {dtype}, {device}" + (f" (+{hidden} more)" if hidden else ""),
                     fontsize=9)  # fmt: skip
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("tau: time / fastest at matched accuracy")
        ax.set_ylabel("fraction of problems within tau")
        ax.legend(fontsize=6, loc="lower right")
    for ax in list(axes.flat)[len(tasks) :]:
        ax.set_axis_off()
    fig.suptitle("Performance profiles (Dolan-More) at each task's matched accuracy")
    fig.tight_layout()
    return fig


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        name="performance_profiles",
        title="Performance profiles",
        caption="For each task, the fraction of its problems on which a method reaches the "
        "matched accuracy within tau times the fastest method's time there (tau = 1: it is the "
        "fastest; the right end: how often it gets there at all). Blue classical, orange "
        "hybrid, green neural, purple amortized; at most 12 methods a panel, those most often "
        "near the fastest.",
        make=performance_profiles,
    ),
    FigureSpec(
        name="fronts",
        title="Error against time, by budget",
        caption="Each line is a method; its points are budgets (power iterations, steps, "
        "tolerance). Lower and further left is better.",
        make=fronts,
    ),
    FigureSpec(
        name="error_vs_rank",
        title="Error against rank k",
        caption="Median relative 2-norm error against k per method (study 002, Figs. 10/12).",
        make=error_vs_rank,
    ),
    FigureSpec(
        name="images",
        title="Images: original, SVD and networks",
        caption="Rank-k approximations side by side with each cell's relative 2-norm error.",
        make=image_panels,
    ),
    FigureSpec(
        name="loss_curves",
        title="Training loss",
        caption="Loss per step/epoch, log scale.",
        make=loss_curves,
    ),
    FigureSpec(
        name="time_vs_n",
        title="Time against size",
        caption="Median time, log-log, fitted slopes.",
        make=time_vs_n,
    ),
    FigureSpec(
        name="error_vs_time",
        title="Error against time",
        caption="Each point is a cell: its accuracy and what it cost.",
        make=error_vs_time,
    ),
    FigureSpec(
        name="singular_values",
        title="Singular values of the image matrices",
        caption="Normalised singular values of each image matrix (repeat 0), log-log.",
        make=singular_values,
    ),
)
"""The report's own figures; a study adds its own (`Study.figures`)."""
