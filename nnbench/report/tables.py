"""Report tables: pure functions of the results (no I/O, no matrices made, no methods run)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbench.metrics.solves import CG_LOOSE_TOL, CG_TOL
from nnbench.report.fronts import reverse_comparison
from nnbench.report.judging import verdict, verdict_by_problem
from nnbench.report.levels import ACCURACY
from nnbench.report.outside_verdict import outside_verdict
from nnbench.report.spec import TableSpec
from nnbench.report.stats import RESAMPLES
from nnbench.report.time_to_accuracy import time_to_accuracy
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
    "cg_iterations": ("cg_iterations", "median"),  # preconditioners: CG to 1e-8 and 1e-6
    "cg_iterations_1e6": ("cg_iterations_1e6", "median"),
    "cg_solve_s": ("cg_solve_s", "median"),
    "cg_total_s": ("cg_total_s", "median"),
    "cg_iteration_s": ("cg_iteration_s", "median"),
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


NUMBER = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?"  # 13, 1,024, 0.000119, 1e-10


def status_table(results: pd.DataFrame) -> pd.DataFrame:
    """Cells that did not end `ok`, counted by method, status and reason, where reasons that
    differ only in their numbers (a residual, a pivot, a step) count as one: `reason` is the
    first of them in text order, `reasons` how many distinct ones the row counts (a column
    only where a row counts several)."""
    bad = results[results["status"] != "ok"]
    if bad.empty:
        return pd.DataFrame(columns=["method", "status", "reason", "cells"])
    words = bad.reason.astype(str).str.replace(NUMBER, "#", regex=True)
    table = (
        bad.assign(words=words)
        .groupby(["method", "status", "words"], sort=True)
        .agg(reason=("reason", "min"), cells=("reason", "size"), reasons=("reason", "nunique"))
        .reset_index()
        .drop(columns="words")
    )
    return table if (table.reasons > 1).any() else table.drop(columns="reasons")


def spectrum_cells(res: Results) -> dict[tuple[str, int, int], str]:
    """The cell whose kept singular values stand for each image matrix instance, by (matrix,
    n_rows, n_cols): the first by cell id of its repeat-0 cells."""
    rows = res.results.set_index("cell_id")
    out: dict[tuple[str, int, int], str] = {}
    for cell_id, artifact in sorted(res.artifacts.items()):
        if artifact.sigma is None or cell_id not in rows.index:
            continue
        row = rows.loc[cell_id]
        if row["repeat"] == 0:  # item access: Series.repeat is a method
            key = (str(row["matrix"]), int(row["n_rows"]), int(row["n_cols"]))
            out.setdefault(key, str(cell_id))
    return out


def spectra(res: Results) -> dict[tuple[str, int, int], np.ndarray]:
    """Singular values of each image matrix instance the run kept, by (matrix, n_rows, n_cols),
    repeat 0 (study 001's Figure 5 for the alphabet)."""
    sigmas = {key: res.artifacts[cell].sigma for key, cell in spectrum_cells(res).items()}
    return {key: s for key, s in sigmas.items() if s is not None}


def drawn_spectra(res: Results) -> set[tuple[str, str]]:
    return {(cell, "sigma") for cell in spectrum_cells(res).values()}


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


KIND_TITLES = {  # every kind of factorization (methods.KINDS, a test checks), in report order
    "lu": ("LU", "LU factorizations"),
    "qr": ("QR", "QR factorizations"),
    "svd": ("SVD", "SVD"),
    "rank-k": ("Rank-k", "Rank-k approximations (ratio = achieved / Eckart-Young optimum)"),
    "precond": ("Precond", "Preconditioners M: how close M is to A, and the solves it speeds up"),
}
LOSS_NOTE = (
    "final_loss is each method's own training loss (the loss column says which); compare it "
    "only between rows with the same loss."
)
EXACT_NOTE = (
    "det_rel_err: |det from the factors - det(A)| / |det(A)|; on a singular or nearly singular "
    "A, det(A) is rounding noise and this ratio means nothing (1e+14 there is no error). "
    "solve and det columns are blank where A is not square (no system, no determinant)."
)


PRECOND_NOTE = (
    f"cg_iterations (cg_iterations_1e6): conjugate gradients preconditioned by M to ||r|| <= "
    f"{CG_TOL:g} ||b|| ({CG_LOOSE_TOL:g} ||b||); cg_total_s: building M and that solve. A "
    "method that runs another solver with M (the loss column names it; GMRES for "
    "gmres-warm-lu) has no cg_ numbers: its steps are that solver's iterations and "
    "final_loss its last residual. For a trained preconditioner, loss, final_loss and steps "
    "are its training's."
)


def _time_to_accuracy(kind: str) -> TableSpec:
    def make(res: Results) -> pd.DataFrame:
        ladder = time_to_accuracy(res.results)
        if ladder.empty:
            return ladder
        mine = ladder[ladder.kind == kind].dropna(axis=1, how="all")
        named = f"time to {accuracy.short} <= " if accuracy else "time to <= "
        return mine.rename(columns=lambda c: c.replace("time to <= ", named))

    nav, _ = KIND_TITLES[kind]
    accuracy = ACCURACY.get(kind)
    note = (
        f"Accuracy: {accuracy.label}. Each time is the median over the problem's cells, "
        "with their range [low, high] over its matrix instances and runs; the budget that "
        "reached the level is in parentheses."
        if accuracy
        else ""
    )
    if accuracy and accuracy.scales:
        note += (
            f" floor = {accuracy.floor_label}, the most of it rounding alone can cause on the "
            "problem (the worst of its instances); the levels are multiples of each problem's "
            "own floor (10 x floor is the verdict's level: a fixed 1e-3 was met by every "
            "correct factorization), and 'not reached' means no budget the run tried got there."
        )
    elif accuracy and accuracy.floor_label:
        note += (
            f" floor = {accuracy.floor_label}, the most of it rounding alone can cause on the "
            "problem (the worst of its instances): a level below it is 'not measurable' there, "
            "where 'not reached' means no budget the run tried got there."
        )
    return TableSpec(
        name=f"time_to_accuracy_{kind}",
        title=f"{nav}: least time to an accuracy (the budget that did it)",
        nav=f"{nav} time-to-accuracy",
        make=make,
        note=note,
    )


def _errors(kind: str) -> TableSpec:
    nav, title = KIND_TITLES[kind]
    return TableSpec(
        name=f"errors_{kind}",
        title=title,
        nav=nav,
        make=lambda res: error_table(res.results, kind),
        note={"lu": f"{LOSS_NOTE} {EXACT_NOTE}", "rank-k": LOSS_NOTE, "precond": PRECOND_NOTE}.get(
            kind, EXACT_NOTE
        ),
        collapsed=True,
        compact=True,
    )


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        name="verdict",
        title="Verdict: each group's best at matched accuracy; time ratio = its time / each "
        "problem's own fastest classical method's time (median over problems with its 95% "
        "interval, measured in the same run)",
        nav="Verdict",
        make=lambda res: verdict(res.results),
        leading=True,
        compact=True,  # the page gives each ratio in words, the CSV as numbers too
        note="time ratio [95% CI]: the median over problems and its 95% percentile-bootstrap "
        f"interval ({RESAMPLES} resamples of the problems and of each one's repeated times; "
        "'no interval' where one problem was timed once). best classical: the classical "
        "method fastest to the matched accuracy on each problem, with on how many problems "
        "where they differ ('a = b': a tie); reached: on how many of the judged problems where "
        "the group ran it got there. The table 'Verdict by problem' "
        "names each problem's own and the problems left out, with the reason: rank-k where k "
        ">= the numerical rank of A (the optimum is A itself), any task where rounding alone "
        "can cost more than every level (rank-k: the zero matrix is within rounding of the "
        "optimum). A problem whose floor is above the target is judged at the tightest level "
        "above its floor, as the matched accuracy says.",
    ),
    TableSpec(
        name="outside_verdict",
        title="Verdict for methods nnbench does not ship (plug-ins): each one's time at matched "
        "accuracy / each problem's fastest classical method of nnbench's, measured in the same "
        "run",
        nav="Plug-in verdict",
        make=lambda res: outside_verdict(res.results),
        leading=True,
        compact=True,
        note="source: the plug-in's file (its sha256 is in the provenance) or module. reached: "
        "on how many of the judged problems where it ran it got to the matched accuracy; "
        "time ratio [95% CI]: the median over the problems where one of nnbench's classical "
        "methods got there too, with its 95% percentile-bootstrap interval, as in the verdict. "
        "A plug-in's method also stands in the verdict in its group, like any method.",
    ),
    TableSpec(
        name="verdict_by_problem",
        title="Verdict by problem: each problem's fastest classical method at its matched "
        "accuracy (the comparator of its time ratios) and each other group's fastest, or why "
        "the verdict leaves the problem out",
        nav="Verdict by problem",
        make=lambda res: verdict_by_problem(res.results),
        leading=True,
        collapsed=True,
    ),
    TableSpec(
        name="reverse_comparison",
        title="Reverse comparison: each hybrid, neural or amortized configuration's time / the "
        "fastest classical method's time to reach the configuration's own final accuracy",
        nav="Reverse comparison",
        make=lambda res: reverse_comparison(res.results),
        compact=True,
        note="Per problem, a configuration's final point is its most accurate budget; the "
        "classical methods are asked for that accuracy (or the problem's rounding floor where "
        "it is tighter), on the same problem in the same run. time ratio [95% CI]: the median "
        "over problems with its 95% percentile-bootstrap interval (problems, then each one's "
        "repeated times: matrix instances and runs). The CSV adds the ratios as numbers. A "
        "group 'by its options': not the method's own group, which this variant's options "
        "change (the group rule, docs/methods.md; e.g. lr=auto-final sets its "
        "step size from exact LU factors, classical linear algebra, so it is hybrid).",
    ),
    *(_time_to_accuracy(kind) for kind in KIND_TITLES),
    *(_errors(kind) for kind in KIND_TITLES),
    TableSpec(
        name="evaluation_cost",
        title="What evaluating a cell costs: evaluation time / the method's time",
        nav="Evaluation cost",
        make=lambda res: evaluation_cost(res.results),
        note="Median over cells of eval_time_s / time_s: every metric of the cell's factors "
        "(float64, on the method's device for CUDA cells) against the method's timed call. "
        "Left out (shared_time_s): what the instance alone determines, its singular values, "
        "log-determinant and Doolittle reference, computed once and shared by every cell on "
        "it. Goal: at most 1x for classical methods from n = 1024. An exact LU residual alone "
        "needs the product L U (2n^3 flops against the factorization's 2n^3/3); a sketch "
        "costs O(n^2 k), less than an exact 2-norm of its residual; a preconditioner's method "
        "time is its build, and its evaluation runs conjugate gradients.",
    ),
    TableSpec(
        name="statuses",
        title="Cells not ok (skipped, failed, diverged, timeout) with reasons",
        nav="Statuses",
        make=lambda res: status_table(res.results),
        note="Reasons that differ only in their numbers (a residual, a pivot, an iteration) "
        "are one row: reason is one of them (the first in text order), reasons (where a row "
        "counts several) how many distinct ones it counts; the results table has each "
        "cell's own.",
    ),
    TableSpec(
        name="image_effective_rank",
        title="Effective rank of the image matrices (study 001: alphabet ~5)",
        nav="Effective rank",
        make=lambda res: effective_rank_table(spectra(res)),
        draws=drawn_spectra,
        note="Whose measure is which: study 001's 'effective rank close to 5' is a visual "
        "judgement (the letter B is recognisable at r = 5; figure 'Study 001: the letter B at "
        "rank r'). The columns are ours: entropy_effective_rank is Roy & Vetterli's (2007), "
        "rank_for_90/99pct_energy count the singular values holding that share of ||A||_F^2, "
        "rank is the numerical rank (numpy's tolerance).",
    ),
    TableSpec(
        name="image_spectra",
        title="Singular values of the image matrices (study 001: the alphabet)",
        nav="Spectra",
        make=lambda res: spectrum_table(spectra(res)),
        collapsed=True,
        draws=drawn_spectra,
    ),
)
"""The report's own tables (every run has their data, or they are left out)."""

HISTORY = TableSpec(
    name="asv_history",
    title="asv history: value per commit (asv run; lower is better)",
    nav="asv history",
    make=lambda res: pd.DataFrame(),  # build_report fills it from the asv results it is given
    collapsed=True,
)
