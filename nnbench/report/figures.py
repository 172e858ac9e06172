"""Report figures: pure functions of the results (no I/O). Each returns a matplotlib Figure,
or a `Missing` that says what data it needs and which study produces it."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from nnbench.report.fronts import pareto_front, reverse_pairs, with_configuration
from nnbench.report.levels import ACCURACY, budget_points
from nnbench.report.problems import GROUP_ORDER, PROBLEM, TASK
from nnbench.report.profiles import on_problem, profile_ratios, profiles, tau_range
from nnbench.report.spec import FigureSpec, Missing
from nnbench.report.tables import drawn_spectra, spectra
from nnbench.report.untimed import untimed_fits, untimed_label
from nnbench.results import Results
from nnbench.results.artifact import picture_scale

MAX_FACETS = 9
LEGEND_MAX = 12  # legend entries (methods) per panel; past it, a figure says which it drew


def _ok(results: Results) -> pd.DataFrame:
    return results.results[results.results.status == "ok"]


def _on_task(frame: pd.DataFrame, task: tuple[object, ...]) -> pd.Series:
    """Rows of `frame` on `task` (values of TASK; compared as text: a missing batch too)."""
    return (frame[TASK].astype(str) == pd.Series(task, index=TASK).astype(str)).all(axis=1)


def theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)


def _rank_panel(ax: Any, panel: pd.DataFrame, styles: dict[str, dict[str, Any]]) -> None:
    """One (matrix, n) panel: each method's median error with its IQR band, and the optimal
    rank-k error (the truncated SVD's, rel_err_2 / ratio_2 of any cell) as a black line."""
    for method, cells in panel.groupby("method", sort=True):
        stats = cells.groupby("rank").rel_err_2.quantile([0.25, 0.5, 0.75]).unstack()
        ax.plot(stats.index, stats[0.5], lw=1.1, ms=4, label=method, **styles[method])
        color = styles[method]["color"]
        ax.fill_between(stats.index, stats[0.25], stats[0.75], color=color, alpha=0.15)
    optimum = (panel.rel_err_2 / panel.ratio_2).where(panel.ratio_2 > 0)
    best = optimum.groupby(panel["rank"]).median().dropna()
    if len(best):
        ax.plot(best.index, best.to_numpy(), color="black", ls="--", lw=1.4, zorder=5,
                label="optimal rank-k error (truncated SVD)")  # fmt: skip
    ax.set_yscale("log")
    ax.set_title(f"{panel.matrix.iloc[0]} (n = {panel.n.iloc[0]})", fontsize=10)
    ax.set_xlabel("rank k")
    ax.set_ylabel("relative 2-norm error", fontsize=9)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, integer=True))


def error_vs_rank(res: Results) -> Figure | Missing:
    """Study 002's Figures 10 and 12 as plots: relative 2-norm error against k, median with
    the IQR band, each panel with the optimal rank-k error where its cells have ratio_2; one
    legend for the figure, below the panels."""
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
    methods = sorted(df.method.unique())
    palette = sns.color_palette("tab20", 20)
    styles = {  # one look per method in every panel
        m: {"color": palette[(2 * i) % 20 + (2 * i) // 20 % 2], "marker": MARKERS[i % len(MARKERS)]}
        for i, m in enumerate(methods)
    }
    theme()
    cols = min(3, len(keep))
    rows = -(-len(keep) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows + 1.2), squeeze=False,
                             layout="constrained")  # fmt: skip
    for ax, (matrix, n) in zip(axes.flat, keep, strict=False):
        _rank_panel(ax, df[(df.matrix == matrix) & (df.n == n)], styles)
    for ax in list(axes.flat)[len(keep) :]:
        ax.set_axis_off()
    handles: dict[str, Any] = {}  # one entry per method over every panel
    for ax in axes.flat:
        handles.update(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=4,
               fontsize=8)  # fmt: skip
    fig.suptitle("Error against rank: networks vs truncated SVD (median, IQR band)")
    return fig


def wrap_name(name: str, width: int) -> str:
    """A method variant's name on lines of at most `width` characters where it can be, broken
    after its '[' and commas ("amortized-sparse-sketch[families=image-moving-crop,\nn=1024,
    ..."), so that neighbouring panels' titles never overlap."""
    lines: list[str] = []
    for token in re.split(r"(?<=[\[,])", name):
        if lines and len(lines[-1]) + len(token) <= width:
            lines[-1] += token
        else:
            lines.append(token)
    return "\n".join(lines)


def picture(ax: Any, image: np.ndarray | None, title: str, vmax: float | None = None) -> None:
    """One grayscale picture panel, titled, without ticks, on the scale [0, vmax]: by default
    the picture's own, max(1, its largest value), so a 0-255 image is not clipped to white.
    Give an approximation its original's `vmax` so both are drawn alike."""
    assert image is not None  # the figures draw only cells whose artifacts kept one
    ax.imshow(image, cmap="gray", vmin=0.0, vmax=picture_scale(image) if vmax is None else vmax)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def panel_cells(res: Results) -> pd.DataFrame:
    """The cells the image panels show: float64, repeat 0, run 0, each matrix at its largest
    size only (an 8 x 8 picture shows little, and drawing every size doubled the report's
    time), and of a method's budget variants (a fair sweep runs networks only as variants)
    the most accurate at each rank; a matrix's first row is also its original's picture."""
    pictures = {k for k, a in res.artifacts.items() if a.approx_picture is not None}
    df = res.results[res.results.cell_id.isin(pictures)]
    df = df[(df["dtype"] == "float64") & (df["repeat"] == 0) & (df["run"] == 0)]
    area = df.n_rows * df.n_cols
    df = df[area == area.groupby(df.matrix).transform("max")]
    df = df.sort_values(["rel_err_2", "method"], na_position="last")
    return df.drop_duplicates(["matrix", "n", "method_base", "rank"])


def drawn_panels(res: Results) -> set[tuple[str, str]]:
    """What the image panels draw: every shown cell's approximation, each matrix's first
    cell's original."""
    cells = panel_cells(res)
    firsts = cells.drop_duplicates(["matrix", "n"]).cell_id
    return {(c, "approx_picture") for c in cells.cell_id} | {(c, "picture") for c in firsts}


CELL_W, CELL_H, TITLE_H, LEFT, TOP = 2.3, 2.7, 0.45, 0.3, 0.5
"""The image panels' layout in inches: a cell per picture (its two-line title above it), a
margin for each row's rank label and one for the figure's title."""
PER_LINE = 6
"""Pictures a line of an image figure: a rank's original and methods wrap onto more lines
(sixteen on one line were shown at a third of their size, their titles unreadable)."""


def _tile(ax: Any, image: np.ndarray, title: str, at: tuple[int, int], vmax: float) -> None:
    """One picture in its grid cell `at` (row, column) of a one-axes figure whose data units
    are inches: scaled to fit the cell, its title above it."""
    row, col = at
    x, y = LEFT + col * CELL_W, TOP + row * CELL_H + TITLE_H
    h, w = image.shape[:2]
    scale = min((CELL_W - 0.15) / w, (CELL_H - TITLE_H - 0.1) / h)
    left = x + (CELL_W - scale * w) / 2
    ax.imshow(image, cmap="gray", vmin=0.0, vmax=vmax, interpolation="nearest",
              extent=(left, left + scale * w, y + scale * h, y))  # fmt: skip
    ax.text(x + CELL_W / 2, y - 0.03, title, ha="center", va="bottom", fontsize=8)


def image_panels(res: Results) -> list[tuple[str, Figure]] | Missing:
    """Original / SVD / each network, one row per rank, for every image matrix and size; the
    pictures are the run's artifacts (a view such as one letter where the matrix is not one
    picture). Each figure is one axes in inches holding every picture: an axes per picture
    took 70% of the report's image time to make and draw."""
    pictures = {k: a for k, a in res.artifacts.items() if a.approx_picture is not None}
    if not pictures:
        return Missing(
            "needs rank-k cells on image matrices (their pictures are kept "
            "in artifacts/): run --study study002-reproduce or quick"
        )
    df = panel_cells(res)
    if df.empty:
        return Missing("needs float64 rank-k cells on image matrices")
    figures = []
    for (matrix, n), group in df.groupby(["matrix", "n"], sort=True):
        methods = sorted(group.method_base.unique(), key=lambda m: (m != "scipy-tsvd", m))
        ranks = sorted(group["rank"].unique())
        first = group.iloc[0]
        artifact = pictures[first.cell_id]
        scale = picture_scale(artifact.picture)  # the original's, for its approximations too
        lines = -(-(1 + len(methods)) // PER_LINE)  # per rank
        width = LEFT + CELL_W * min(1 + len(methods), PER_LINE)
        height = TOP + CELL_H * len(ranks) * lines
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0.0, width)
        ax.set_ylim(height, 0.0)
        ax.set_axis_off()
        for i, rank in enumerate(ranks):
            assert artifact.picture is not None  # panel_cells keeps cells with pictures
            _tile(ax, artifact.picture, "original", (i * lines, 0), scale)
            middle = TOP + i * lines * CELL_H + (TITLE_H + CELL_H) / 2
            ax.text(LEFT / 2, middle, f"k = {rank}", rotation=90, ha="center", va="center")
            for j, method in enumerate(methods, start=1):
                cell = group[(group.method_base == method) & (group["rank"] == rank)]
                if cell.empty:
                    continue
                approx = pictures[cell.cell_id.iloc[0]].approx_picture
                assert approx is not None
                title = (
                    f"{wrap_name(cell.method.iloc[0], 30)}\nrel. err {cell.rel_err_2.iloc[0]:.3g}"
                )
                _tile(ax, approx, title, (i * lines + j // PER_LINE, j % PER_LINE), scale)
        label = f": {artifact.picture_label}" if artifact.picture_label else ""
        ax.text(width / 2, TOP / 2, f"{matrix} ({first.n_rows}x{first.n_cols}){label}",
                ha="center", va="center", fontsize=12)  # fmt: skip
        figures.append((f"images_{matrix}_{n}", fig))
    return figures


TRAINING_UNITS = frozenset({"step", "epoch"})
"""Curve units that are a training loss; a solver's residual per iteration (GMRES's "gmres
iteration") is not one, and its study draws or tabulates it itself."""


def training_curves(res: Results) -> pd.DataFrame:
    """The run's training-loss curves (`TRAINING_UNITS`) with each cell's method, group,
    problem and dtype; an amortized method's one training once, as "its training"."""
    columns = ["method", "method_base", "group", "matrix", "n", "rank", "dtype"]
    first_run = res.results[res.results.run == res.results.run.min()]  # runs repeat a curve
    meta = first_run.set_index("cell_id")[columns]
    trained = res.curves[res.curves.unit.astype(str).isin(TRAINING_UNITS)]
    curves = trained.join(meta, on="cell_id", how="inner")
    once = curves.group == "amortized"  # one model's training, copied to each of its cells
    first = curves[once].groupby(["method", "dtype"]).cell_id.transform("min")
    model = curves[once][curves[once].cell_id == first].assign(matrix="its training", n=0)
    return pd.concat([curves[~once], model], ignore_index=True)


def single_point_methods(curves: pd.DataFrame) -> list[str]:
    """The methods whose every curve has one recorded point (one step, one epoch): a point
    is no curve, and alone on an axis its step range is meaningless."""
    points = curves.groupby(["method", "cell_id"]).step.nunique().groupby("method").max()
    return sorted(points[points < 2].index)


def _loss_panel(ax: Any, sub: pd.DataFrame, method: str) -> None:
    """One method's panel: its six largest problems' median curves with IQR bands, in the
    precision its cells trained in (float64 where it ran in both)."""
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
        marker = "o" if len(stats) < 3 else None  # a one-step curve is a point, not a line
        ax.plot(stats.index, stats[0.5], color=color, label=label, lw=1.2, marker=marker, ms=4)
        ax.fill_between(stats.index, stats[0.25], stats[0.75], color=color, alpha=0.2, lw=0)
    ax.set_yscale("log")
    ax.set_title(wrap_name(f"{method} (trained in {dtype})", 52), fontsize=10)
    ax.set_xlabel(str(sub.unit.iloc[0]) if len(sub) else "step")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=True))
    ax.set_ylabel("training loss (the method's objective)", fontsize=8)
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))


def loss_curves(res: Results) -> Figure | Missing:
    """Training loss per step (or epoch) on a log axis, one line per (matrix, n, k): median
    over seeds with the IQR band; the six largest problems per method, float64 where the
    method ran in float64 (study 000's configuration runs in float32, as the study did). An
    amortized method's model was trained once: one line, "its training". Methods with one
    recorded point per curve are named in the title, not drawn; a solver's residuals
    (`TRAINING_UNITS`) are no training loss and are not drawn here."""
    if res.curves.empty:
        return Missing("needs trained (neural) methods: run --study quick or study002-reproduce")
    curves = training_curves(res)
    if curves.empty:
        units = ", ".join(sorted(set(res.curves.unit.astype(str))))
        return Missing(f"the run's curves are per {units}, a solver's residuals, not a training "
                       "loss; its study's tables give the iterations")  # fmt: skip
    single = single_point_methods(curves)
    curves = curves[~curves.method.isin(single)]
    title = "Training loss per step or epoch (median over seeds, IQR band)"
    if single:
        title += "\n" + "\n".join(textwrap.wrap(
            f"Not drawn, one recorded point each: {', '.join(single)}", 150))  # fmt: skip
    if curves.empty:
        return Missing(title.split("\n", 1)[1])
    methods = curve_methods(curves[["method", "method_base", "group"]].drop_duplicates())
    theme()
    cols = min(3, len(methods))
    rows = -(-len(methods) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.8 * rows), squeeze=False,
                             layout="constrained")  # fmt: skip
    for ax in list(axes.flat)[len(methods) :]:
        ax.set_axis_off()
    for ax, method in zip(axes.flat, methods, strict=False):
        _loss_panel(ax, curves[curves.method == method], method)
    fig.suptitle(title, fontsize=11)
    return fig


CURVES_MAX = 12  # loss-curve panels


def curve_methods(methods: pd.DataFrame, most: int = CURVES_MAX) -> list[str]:
    """At most `most` of the methods (rows: method, method_base, group), taken from each group
    in turn (GROUP_ORDER, then any other) so that every group present gets panels, and within
    a group one variant of each method_base before a second of any; sorted by group."""
    order = [*GROUP_ORDER, *sorted(set(methods.group.astype(str)) - set(GROUP_ORDER))]
    methods = methods.sort_values(["method_base", "method"])
    methods = methods.assign(turn=methods.groupby("method_base").cumcount())
    queues = {
        g: list(methods[methods.group == g].sort_values(["turn", "method_base"]).method)
        for g in order
    }
    chosen: list[str] = []
    while len(chosen) < most and any(queues.values()):
        for group in order:
            if queues[group] and len(chosen) < most:
                chosen.append(queues[group].pop(0))
    rank = {g: i for i, g in enumerate(order)}
    group_of = dict(zip(methods.method, methods.group.astype(str), strict=False))
    return sorted(chosen, key=lambda m: (rank[group_of[m]], m))


SLOPE_MIN_N = 64  # below it, overheads, not the O(n^p) work, set the time


def fitted_slope(line: pd.DataFrame) -> float | None:
    """Log-log slope of median time against n over sizes n >= SLOPE_MIN_N; None with fewer
    than 3 such sizes (tiny n measures overheads, not the algorithm's order)."""
    big = line[line.n >= SLOPE_MIN_N]
    if big.n.nunique() < 3:
        return None
    return float(np.polyfit(np.log(big.n), np.log(big.time_s), 1)[0])


def time_vs_n(res: Results) -> Figure | Missing:
    """Median time against n, log-log, one panel per (device, dtype, matrix family), each line
    a method with its slope fitted over n >= 64 (3 for O(n^3) work) where 3 such sizes exist.
    Batch cells and non-square matrices are left out."""
    df = _ok(res)
    df = df[(df.n_rows == df.n_cols) & (df.batch == 1)]
    line = ["device", "dtype", "family", "method"]
    sizes = df.groupby(line).n.nunique()
    keep = sizes[sizes >= 3].index
    if len(keep) == 0:
        return Missing(
            "needs 3 or more sizes of one matrix family per method: run --study gpu-scale, "
            "classical-scale or "
            "lowrank-scale"
        )
    df = df.set_index(line).loc[list(keep)].reset_index()
    # a preconditioner costs its build and the solve it serves (its build alone flattered CG
    # without one): the total, as the headlines and the slopes table count it
    if "cg_total_s" in df.columns:
        df["time_s"] = df.time_s.where(df.kind != "precond", df.cg_total_s)
    med = df.groupby([*line, "n"]).time_s.median().reset_index().dropna(subset=["time_s"])
    lines = med.groupby(["device", "dtype", "family"]).method.nunique()
    # the panels with the most methods, shown in name order
    panels = sorted(lines.sort_values(ascending=False, kind="stable").index[:MAX_FACETS])
    theme()
    most = int(lines.max())
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(6.0 * cols, (4.5 + 0.16 * most) * rows), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    colors, many = PANEL_COLORS, len(PANEL_COLORS)
    style = {  # one look per method in every panel: 16 colours x line styles and markers
        method: {
            "color": colors[i % many],
            "ls": ("-", "--", ":", "-.")[i // many % 4],
            "marker": MARKERS[i // many % len(MARKERS)],
        }
        for i, method in enumerate(sorted(med.method.unique()))
    }
    for ax, (device, dtype, family) in zip(axes.flat, panels, strict=False):
        panel = med[(med.device == device) & (med.dtype == dtype) & (med.family == family)]
        for method, g in panel.groupby("method"):
            slope = fitted_slope(g)
            label = f"{method}" + ("" if slope is None else f" (slope {slope:.2f})")
            ax.plot(g.n, g.time_s, ms=5, label=label, **style[method])
        ax.set_xscale("log")
        ax.set_yscale("log")
        n_values = sorted(panel.n.unique())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(n_values, [str(n) for n in n_values])
        ax.set_xlabel("n (matrix side)")
        ax.set_ylabel("time per call [s] (median; a preconditioner: build + CG)", fontsize=8)
        ax.set_title(f"{family}: {device}, {dtype}", fontsize=10)
        ax.legend(fontsize=7, ncol=1, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_axis_off()
    fig.suptitle(
        f"Time against size per matrix family, log-log; slopes fitted over n >= {SLOPE_MIN_N}"
    )
    return fig


ERROR_LABEL = {  # each panel's y axis: what its "error" column holds
    "rank-k": "excess (err - opt) / (1 - opt), worse of 2-norm and Frobenius",
}
ERROR_DEFAULT = "relative Frobenius error ||A - rebuilt||_F / ||A||_F"


def legend_methods(panel: pd.DataFrame, most: int) -> list[str]:
    """The methods a panel names in its legend, taken from each group in turn, its most
    accurate (median) first, so that no group is only an "other" entry while another fills
    the legend; room is left in `most` entries for one "other <group>" entry per group of the
    rest. Returned most accurate first."""
    best = panel.groupby("method").error.median().sort_values(kind="stable")
    group_of = panel.groupby("method").group.first().astype(str)
    queues = {g: [m for m in best.index if group_of[m] == g] for g in group_of[best.index]}
    named: list[str] = []
    while any(queues.values()):
        for queue in queues.values():
            if not queue:
                continue
            rest = set(best.index) - {*named, queue[0]}
            if len(named) + 1 + len(set(group_of[list(rest)])) > most:
                return [m for m in best.index if m in named]
            named.append(queue.pop(0))
    return [m for m in best.index if m in named]


def error_vs_time(res: Results) -> Figure | Missing:
    """Every float64 cell's error against its time, one panel per kind, a colour per named
    method and a marker per group: at most LEGEND_MAX legend entries a panel (each group's
    most accurate methods by name, in turn; the rest as "other <group>", in its group's
    colour)."""
    df = _ok(res)
    df = df[(df.dtype == "float64") & (df.kind != "precond")].copy()  # precond: iterations
    df["error"] = df.rel_err_fro.astype(float)
    rank_k = df.kind == "rank-k"  # the one excess the verdict judges, not ratio_fro - 1
    if rank_k.any():
        df.loc[rank_k, "error"] = ACCURACY["rank-k"].measure(df[rank_k]).astype(float)
    df = df[np.isfinite(df["error"].astype(float))]
    if df.empty:
        return Missing("needs ok factorization cells in float64: run e.g. --study quick")
    df["error"] = df["error"].astype(float).clip(lower=1e-17)
    kinds = sorted(df.kind.unique())[:MAX_FACETS]
    theme()
    cols = min(2, len(kinds))
    rows = -(-len(kinds) // cols)
    room = legend_room(f"{m} (classical)" for m in df.method.unique())
    fig, axes = plt.subplots(
        rows, cols, figsize=((4.6 + room) * cols, 4.0 * rows), squeeze=False, layout="constrained"
    )
    for ax, kind in zip(axes.flat, kinds, strict=False):
        panel = df[df.kind == kind]
        named = legend_methods(panel, LEGEND_MAX)
        groups = list(GROUP_ORDER)
        for index, method in enumerate(named):  # a colour each; the marker says the group
            cells = panel[panel.method == method]
            group = str(cells.group.iloc[0])
            at = groups.index(group) if group in groups else len(groups)
            ax.scatter(cells.time_s, cells.error, s=18, alpha=0.7, label=f"{method} ({group})",
                       color=PANEL_COLORS[index % len(PANEL_COLORS)],
                       marker=MARKERS[at % len(MARKERS)])  # fmt: skip
        for group, cells in panel[~panel.method.isin(named)].groupby("group"):
            at = groups.index(str(group)) if str(group) in groups else len(groups)
            ax.scatter(cells.time_s, cells.error, s=8, alpha=0.5, zorder=0,
                       marker=MARKERS[at % len(MARKERS)], color=OTHERS,
                       label=f"other {group} ({cells.method.nunique()} methods)")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(kind, fontsize=10)
        ax.set_xlabel("time [s]")
        ax.set_ylabel(ERROR_LABEL.get(kind, ERROR_DEFAULT), fontsize=8)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    for ax in list(axes.flat)[len(kinds) :]:
        ax.set_axis_off()
    fig.suptitle("What accuracy each method buys per second (float64; floor 1e-17)")
    return fig


def singular_values(res: Results) -> Figure | Missing:
    """Normalised singular values of every image matrix the run kept (study 001, Fig. 5), one
    panel per matrix titled by its name, a line per shape."""
    sigmas = {key: s for key, s in spectra(res).items() if s.size and s[0] > 0}
    if not sigmas:
        return Missing(
            "needs rank-k cells on image matrices: run --study study001-alphabet or quick"
        )
    matrices = sorted({matrix for matrix, _, _ in sigmas})[:MAX_FACETS]
    theme()
    cols = min(3, len(matrices))
    rows = -(-len(matrices) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 3.8 * rows), squeeze=False,
                             layout="constrained")  # fmt: skip
    shapes = sorted({(m * n, m, n) for _, m, n in sigmas})
    colour = {(m, n): PANEL_COLORS[i % len(PANEL_COLORS)] for i, (_, m, n) in enumerate(shapes)}
    for ax, matrix in zip(axes.flat, matrices, strict=False):
        for (name, m, n), s in sorted(sigmas.items(), key=lambda item: item[0][1] * item[0][2]):
            if name == matrix:  # a shape has one colour in every panel
                ax.semilogy(np.arange(1, s.size + 1), s / s[0], marker=".", label=f"{m}x{n}",
                            color=colour[m, n])  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("index i")
        ax.set_ylabel("sigma_i / sigma_1")
        ax.set_title(f"Singular values of {matrix}", fontsize=10)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    for ax in list(axes.flat)[len(matrices) :]:
        ax.set_axis_off()
    fig.suptitle("Normalised singular values of the image matrices")
    return fig


def legend_room(labels: Iterable[str], points: float = 6.0) -> float:
    """Inches a panel needs beside it for a legend of `labels` at `points` size: a constrained
    layout shrinks the axes to fit one, and collapsed a 5.8-inch panel whose configuration
    names ran to 60 characters (learned-sketch's reverse comparison)."""
    longest = max((len(label) for label in labels), default=0)
    return min(6.0, 0.6 + 0.55 * points / 72 * longest)


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
OTHERS = (0.78, 0.78, 0.78)  # the methods a legend does not name: grey, under the named ones


def fronts(res: Results) -> Figure | Missing:
    """Error against time per method configuration (`report.fronts.configuration`: its
    options but the budget), on the largest problems of each task: every budget variant a
    marker, the configuration's Pareto front a line (never joining two configurations), at
    most LEGEND_MAX configurations a panel, those on the problem's overall front first."""
    points = budget_points(res.results)
    if points.empty:
        return Missing("needs ok cells: run --study fair-quick")
    points = with_configuration(points)
    varied = points.groupby(PROBLEM, dropna=False).configuration.nunique()
    problems = varied[varied >= 3].reset_index()
    problems = problems.sort_values(["kind", "n"]).groupby("kind").tail(2).head(MAX_FACETS)
    if problems.empty:
        return Missing("needs 3 or more methods on one problem: run --study fair-quick")
    theme()
    cols = min(2, len(problems))  # three a row were shown at two thirds of their size
    rows = -(-len(problems) // cols)
    room = legend_room(f"{c} (classical)" for c in points.configuration.unique())
    fig, axes = plt.subplots(rows, cols, figsize=((4.4 + room) * cols, 4.4 * rows),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, (_, problem) in zip(axes.flat, problems.iterrows(), strict=False):
        mine = points[on_problem(points, problem)]
        leaders = pareto_front(mine).configuration.drop_duplicates().tolist()
        rest = mine.sort_values("accuracy").configuration.drop_duplicates().tolist()
        shown = list(dict.fromkeys([*leaders, *rest]))[:LEGEND_MAX]
        for index, config in enumerate(shown):  # a colour each: shades of a hue looked alike
            own = mine[mine.configuration == config]
            group = str(own.group.iloc[0])
            color, marker = PANEL_COLORS[index], MARKERS[index % len(MARKERS)]
            ax.scatter(own.time_s, own.accuracy.clip(lower=1e-17), s=14, marker=marker,
                       color=color, alpha=0.45)  # fmt: skip
            front = pareto_front(own)
            ax.plot(front.time_s, front.accuracy.clip(lower=1e-17), marker=marker, ms=4, lw=1.1,
                    color=color, ls=GROUP_LINES.get(group, "-"),
                    label=f"{config} ({group})")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        kind = str(problem["kind"])  # item access: Series.dtype and friends are attributes
        rank = "" if pd.isna(problem["rank"]) else f", k={problem['rank']}"
        hidden = mine.configuration.nunique() - len(shown)
        more = f" (+{hidden} more)" if hidden > 0 else ""
        ax.set_title(
            f"{kind}: {problem['matrix']} n={problem['n']}{rank}, {problem['dtype']}{more}",
            fontsize=9,
        )
        ax.set_xlabel("time [s] (median)")
        ax.set_ylabel(ACCURACY[kind].short, fontsize=8)  # the label is in the tables
        ax.legend(fontsize=6, ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for ax in list(axes.flat)[len(problems) :]:
        ax.set_axis_off()
    fig.suptitle("Accuracy per second: each configuration's Pareto front over its budgets")
    return fig


def reverse_comparison_figure(res: Results) -> Figure | Missing:
    """Per task: each non-classical configuration's final accuracy on each problem (x) and
    its time / the fastest classical method's time to that same accuracy there (y): above 1,
    a classical method gets as far sooner. `report.fronts.reverse_pairs` is the data."""
    pairs = reverse_pairs(res.results)
    if pairs.empty or pairs.ratio.notna().sum() == 0:
        return Missing("needs hybrid or neural cells beside classical ones: run fair-quick")
    pairs = pairs[pairs.ratio.notna()]
    tasks = pairs.groupby(TASK, dropna=False).size().index[:MAX_FACETS]
    theme()
    cols = min(2, len(tasks))
    rows = -(-len(tasks) // cols)
    room = legend_room(f"{c} (amortized)" for c in pairs.configuration.unique())
    fig, axes = plt.subplots(rows, cols, figsize=((4.4 + room) * cols, 4.4 * rows),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, task in zip(axes.flat, tasks, strict=False):
        mine = pairs[_on_task(pairs, task)]
        configs = mine.groupby("configuration").ratio.median().sort_values().index
        for index, config in enumerate(configs[:LEGEND_MAX]):  # a colour each
            own = mine[mine.configuration == config]
            ax.scatter(own.target.clip(lower=1e-17), own.ratio, s=22,
                       marker=MARKERS[index % len(MARKERS)], color=PANEL_COLORS[index],
                       alpha=0.85, label=f"{config} ({own.group.iloc[0]})")  # fmt: skip
        ax.axhline(1.0, color="black", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):  # a narrow range labels its minor ticks: they collide
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        kind, batch, dtype, device = task
        stack = f" x{batch}" if batch and batch > 1 else ""
        ax.set_title(f"{kind}{stack}, {dtype}, {device}", fontsize=9)
        ax.set_xlabel(f"its final accuracy ({ACCURACY[str(kind)].short})", fontsize=8)
        ax.set_ylabel("its time / fastest classical time to it", fontsize=8)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for ax in list(axes.flat)[len(tasks) :]:
        ax.set_axis_off()
    fig.suptitle("Reverse comparison: what the fastest classical method needs to match each "
                 "network's own final accuracy (above 1: classical is faster)")  # fmt: skip
    return fig


PANEL_COLORS = (
    *sns.color_palette("tab10", 10),
    *((0.0, 0.0, 0.0), (0.7, 0.87, 0.54), (0.0, 0.0, 0.5), (1.0, 0.0, 1.0), (0.0, 0.55, 0.55)),
    (0.85, 0.7, 0.0),
)
"""One distinct colour per method in a panel (a profile shows up to 16): shades of one hue for the
methods of a group could not be told apart."""
GROUP_LINES = dict(zip(GROUP_ORDER, ("-", "--", ":", "-."), strict=True))
"""A group's line style, where colour names the method."""


def _profile_panel(ax: Any, mine: pd.DataFrame, task: tuple, fits: dict[str, float]) -> None:
    """One task's profiles: at most 16 methods, those most often near the fastest, a
    colour each, the line style their group's; the legend beside the axes."""
    area = mine.groupby("method_base").rho.mean().sort_values(ascending=False)
    shown = list(area.index[: len(PANEL_COLORS)])
    for index, base in enumerate(shown):
        line = mine[mine.method_base == base]
        group = str(line.group.iloc[0])
        ax.step(line.tau, line.rho, where="post", lw=1.4, color=PANEL_COLORS[index],
                ls=GROUP_LINES.get(group, "-"),
                label=f"{untimed_label(base, fits)} ({group})")  # fmt: skip
    kind, batch, dtype, device = task
    stack = f" x{batch}" if batch and batch > 1 else ""
    hidden = len(area) - len(shown)
    ax.set_title(f"{kind}{stack}, {dtype}, {device}" + (f" (+{hidden} more)" if hidden else ""),
                 fontsize=9)  # fmt: skip
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("tau: time / fastest at matched accuracy")
    ax.set_ylabel("fraction of problems within tau")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def performance_profiles(res: Results) -> Figure | Missing:
    """Dolan-More profiles per task (`report.profiles`): rho(tau), the fraction of problems on
    which a method is within tau x the fastest at matched accuracy; a colour per method, a
    line style per group, a method whose fit is untimed (`report.untimed`) flagged."""
    ratios = profile_ratios(res.results)
    if ratios.empty:
        return Missing("needs judged fair-comparison problems: run --study fair-quick")
    taus = np.geomspace(1.0, tau_range(ratios), 200)
    curves = profiles(ratios, taus)
    tasks = curves.groupby(TASK, dropna=False).size().index[:MAX_FACETS]
    fits = untimed_fits(res.results)
    theme()
    cols = min(2, len(tasks))  # three a row were shown at half size: legends unreadable
    rows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.4 * cols, 4.4 * rows), squeeze=False,
                             layout="constrained")  # fmt: skip
    for ax, task in zip(axes.flat, tasks, strict=False):
        _profile_panel(ax, curves[_on_task(curves, task)], task, fits)
    for ax in list(axes.flat)[len(tasks) :]:
        ax.set_axis_off()
    fig.suptitle("Performance profiles (Dolan-More) at each task's matched accuracy")
    return fig


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        name="performance_profiles",
        title="Performance profiles",
        caption="For each task, the fraction of its problems on which a method reaches the "
        "matched accuracy within tau times the fastest method's time there (tau = 1: it is the "
        "fastest; the right end: how often it gets there at all). A colour per method; line "
        "style by group: solid classical, dashed hybrid, dotted neural, dash-dot amortized; at "
        "most 16 methods a panel, those most often near the fastest. A method whose fit ran "
        "once before the cells, untimed (a learned basis or model), says so in the legend.",
        make=performance_profiles,
    ),
    FigureSpec(
        name="reverse_comparison_figure",
        title="Reverse comparison: the classical cost of each network's own accuracy",
        caption="For each hybrid, neural or amortized configuration on each problem: its final "
        "(most accurate) point's accuracy, and its time divided by the fastest classical "
        "method's time to reach that same accuracy (never tighter than the problem's rounding "
        "floor) on the same problem in the same run. Above the dashed line a classical method "
        "gets as far sooner. The table 'Reverse comparison' gives the medians with 95% "
        "intervals.",
        make=reverse_comparison_figure,
    ),
    FigureSpec(
        name="fronts",
        title="Error against time, by budget",
        caption="Each colour and marker is one method configuration (its options but the "
        "budget); its markers are its budgets (power iterations, steps, tolerance) and its "
        "line joins its Pareto front, the budgets no faster budget beats; different "
        "configurations are never joined. Lower and further left is better.",
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
        draws=drawn_panels,
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
        caption="Median time per factorization, log-log, with fitted slopes; a "
        "preconditioner's time is its build and the CG solve it serves (to 1e-8), as the "
        "headlines count it.",
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
        draws=drawn_spectra,
    ),
)
"""The report's own figures; a study adds its own (`Study.figures`)."""
