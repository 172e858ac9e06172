"""Amortized methods: networks trained once on a distribution of matrices and applied to
unseen ones (LU and Cholesky of small dense matrices, a learned sketch for rank-k, a learned
preconditioner), beside the classical methods for the same job; how each does on held-out
matrices of its training distribution and of others, and after how many matrices its
training pays off against the best classical method at matched accuracy."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from nnbench.report.judging import count_names, names_text
from nnbench.report.levels import ACCURACY as FAIR_ACCURACY
from nnbench.report.spec import HeadlineSpec, TableSpec
from nnbench.report.stats import interval_text, ratio_interval, ratio_text, two_digits
from nnbench.report.untimed import untimed_labels
from nnbench.results import Results
from nnbench.running.grid import Grid
from nnbench.studies.competitors import RANK_K, RANK_K_QUICK
from nnbench.studies.study import Study

PROBLEM = ["kind", "matrix", "n", "rank", "batch", "dtype", "device"]
ACCURACY: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], str]] = {
    # kind -> (accuracy of each row, what it is): lower is better
    "lu": (FAIR_ACCURACY["lu"].measure, FAIR_ACCURACY["lu"].label),
    "rank-k": (FAIR_ACCURACY["rank-k"].measure, FAIR_ACCURACY["rank-k"].label),
    "precond": (
        lambda df: df.cg_iterations,
        "CG iterations to 1e-8 with M = L L^T",
    ),
}


def _scored(results: pd.DataFrame) -> pd.DataFrame:
    ok = results[(results.status == "ok") & results.kind.isin(list(ACCURACY))].copy()
    ok["accuracy"] = np.nan
    for kind, (measure, _) in ACCURACY.items():
        mine = ok.kind == kind
        if mine.any():
            ok.loc[mine, "accuracy"] = measure(ok[mine])
    ok["rank"] = ok["rank"].astype("Float64")  # LU rows have none: grouped as missing
    return ok


def generalization(results: pd.DataFrame) -> pd.DataFrame:
    """Per amortized method and test family: in or out of its training distribution, the
    median accuracy (by kind: `ACCURACY`), time per matrix, training time."""
    ok = _scored(results)
    cells = ok[ok.group == "amortized"]
    if cells.empty:
        return pd.DataFrame()
    table = cells.groupby(["method", *PROBLEM], sort=True, dropna=False).agg(
        trained_on=("trained_on", "first"),
        accuracy=("accuracy", "median"),
        rel_err_fro=("rel_err_fro", "median"),
        time_per_matrix_s=("time_per_matrix_s", "median"),
        train_time_s=("train_time_s", "first"),
        cells=("accuracy", "size"),
    )
    table = table.reset_index()
    table.insert(1, "trained_on", table.pop("trained_on"))
    inside = [m in t.split("+") for m, t in zip(table.matrix, table.trained_on, strict=True)]
    table.insert(2, "in_distribution", inside)
    return table


ACCURACY_NOTE = "accuracy, by task (lower is better): " + "; ".join(
    f"{kind}: {what}" for kind, (_, what) in ACCURACY.items()
)


def _pairs(results: pd.DataFrame) -> list[tuple[pd.Series, pd.Series | None]]:
    """Per amortized method and problem, its medians (accuracy, time paid per matrix, each
    cell's times, training time) and those of the fastest classical method at least as
    accurate there (None: no classical method is)."""
    ok = _scored(results)
    # what a user pays per matrix: the factorization; a preconditioner's build and its solve
    ok["paid_s"] = ok.time_per_matrix_s.where(ok.kind != "precond", ok.cg_total_s)
    med = (
        ok.groupby(["method", "group", *PROBLEM], sort=True, dropna=False)
        .agg(
            accuracy=("accuracy", "median"),
            per_matrix=("paid_s", "median"),
            times=("paid_s", tuple),  # each cell's: the interval of the time ratio
            train=("train_time_s", "first"),
            trained_on=("trained_on", "first"),
        )
        .reset_index()
    )
    pairs: list[tuple[pd.Series, pd.Series | None]] = []
    for _, mine in med[med.group == "amortized"].iterrows():
        same = (med[PROBLEM].fillna(-1) == mine[PROBLEM].fillna(-1)).all(axis=1)
        rivals = med[same & (med.group == "classical") & (med.accuracy <= mine.accuracy)]
        pairs.append((mine, None if rivals.empty else rivals.loc[rivals.per_matrix.idxmin()]))
    return pairs


def break_even(results: pd.DataFrame) -> pd.DataFrame:
    """Per amortized method and problem: the fastest classical method at least as accurate
    (matched accuracy), both per matrix, and how many matrices must be factorized before
    training + inference beats it: train / (t_classical - t_amortized); inf (never) when
    inference alone is slower. A classical method whose fit is untimed is flagged."""
    labelled = untimed_labels(results)
    rows = []
    for mine, best in _pairs(results):
        if best is None:
            continue
        gain = best.per_matrix - mine.per_matrix
        low, high = ratio_interval([(mine.times, best.times)])
        rows.append(
            {
                "method": mine.method,
                **{k: mine[k] for k in PROBLEM},
                "accuracy": mine.accuracy,
                "matrices_per_s": 1.0 / mine.per_matrix,
                "best_classical": labelled(str(best.method)),
                "classical_accuracy": best.accuracy,
                "classical_matrices_per_s": 1.0 / best.per_matrix,
                "time per matrix / classical [95% CI]": ratio_text(
                    mine.per_matrix / best.per_matrix, low, high
                ),
                "train_time_s": mine.train,
                "break_even_matrices": (
                    math.nan  # no clear gain per matrix: no break-even claimed
                    if np.isfinite(low) and low <= 1 <= high
                    else mine.train / gain
                    if gain > 0
                    else math.inf
                ),
            }
        )
    return pd.DataFrame(rows).replace({np.nan: None}) if rows else pd.DataFrame()


UNIT = {"precond": "system solved (build + CG to 1e-8)"}
AS_ACCURATE = {"precond": "needing at most its CG iterations"}


def headline(res: Results) -> list[str]:
    """One sentence per amortized method: over the problems where it ran, its time per
    matrix against the fastest classical method at least as accurate (median ratio, 95%
    interval over problems and cells), and with its training time counted, after how many
    matrices it breaks even (median over those problems; never where inference alone is
    slower)."""
    by_method: dict[str, list[tuple[pd.Series, pd.Series | None]]] = {}
    for mine, best in _pairs(res.results):
        by_method.setdefault(str(mine.method), []).append((mine, best))
    labelled = untimed_labels(res.results)
    words = []
    for method, pairs in by_method.items():
        failed = _never_ok(res.results, method)
        words.append(_break_even_sentence(method, pairs, labelled, len(failed)))
        if failed:
            words[-1] += (
                f" On the other {len(failed)} it had no ok cell: {', '.join(failed)} (the "
                "table 'Cells not ok' says why)."
            )
    return words


def _never_ok(results: pd.DataFrame, method: str) -> list[str]:
    """The problems where `method` ran without one ok cell, as "spd n = 256 (diverged)": its
    headline counts them among its problems and names them."""
    ran = results[(results.method == method) & (results.status != "skipped")]
    failed = []
    for key, cells in ran.groupby(PROBLEM, sort=True, dropna=False):
        if not (cells.status == "ok").any():
            where = dict(zip(PROBLEM, key, strict=True))
            statuses = ", ".join(sorted(set(cells.status)))
            failed.append(f"{where['matrix']} n = {where['n']} ({statuses})")
    return failed


def _break_even_sentence(
    method: str,
    pairs: list[tuple[pd.Series, pd.Series | None]],
    labelled: Callable[[str], str],
    failed: int = 0,
) -> str:
    """The sentence of `headline`; `failed`: more problems it ran on, never ok."""
    first = pairs[0][0]
    problems = len(pairs) + failed
    kind = str(first.kind)
    rivals = [(mine, best) for mine, best in pairs if best is not None]
    sizes = sorted({int(mine.n) for mine, _ in pairs})
    n = str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}..{sizes[-1]}"
    label = (
        f"{method} ({kind}, n = {n}, trained once in {two_digits(float(first.train))} s "
        f"on {first.trained_on})"
    )
    unit, accurate = UNIT.get(kind, "matrix"), AS_ACCURATE.get(kind, "at least as accurate")
    if not rivals:
        where = "its one problem" if problems == 1 else f"any of its {problems} problems"
        return f"{label}: no classical method is {accurate} on {where}."
    ratios = [mine.per_matrix / best.per_matrix for mine, best in rivals]
    low, high = ratio_interval([(mine.times, best.times) for mine, best in rivals])
    names = count_names([labelled(str(best.method)) for _, best in rivals])
    gains = [best.per_matrix - mine.per_matrix for mine, best in rivals]
    even = [float(m.train) / g for (m, _), g in zip(rivals, gains, strict=True) if g > 0]
    never = len(rivals) - len(even)
    where = (
        "the one problem" if len(even) == 1 else f"median over the {len(even)} problems"
    ) + " where inference alone is faster"
    pays = (
        f"with its training counted it breaks even after {two_digits(float(np.median(even)))} "
        f"matrices ({where})"
        if even
        else "with its training counted it never breaks even: inference alone is slower"
    )
    pays += f"; never on the other {never} (inference alone is slower)" if even and never else ""
    if np.isfinite(low) and low <= 1 <= high:  # no clear gain per matrix: no break-even claimed
        pays = (
            "its time per matrix is not clearly different from the classical one's (the "
            "interval holds 1), so no break-even with its training is claimed"
        )
    return (
        f"{label}: per {unit} it takes {two_digits(float(np.median(ratios)))}× "
        f"{interval_text(low, high)} the time of the fastest classical method {accurate} "
        f"({names_text(names)}), on {_of_its(len(rivals), problems)}; {pays}."
    )


def _of_its(count: int, problems: int) -> str:
    """ "its one problem", or "3 of its 4 problems" (it said "1 of its 1 problems")."""
    return "its one problem" if problems == count == 1 else f"{count} of its {problems} problems"


TABLES = (
    TableSpec(
        name="amortized_generalization",
        title="Amortized methods: trained once, applied to held-out matrices of their training "
        "family and of others",
        nav="Amortized",
        make=lambda res: generalization(res.results),
        leading=True,
        note="Each model is trained once (train_time_s, untimed in the cells) on held-out-seed "
        "matrices of trained_on, then factorizes stacks of unseen matrices in one forward pass "
        "(time_per_matrix_s); refine=R adds R gradient steps per matrix to the inference. "
        "in_distribution: the test family is one it was trained on. " + ACCURACY_NOTE + ".",
    ),
    TableSpec(
        name="amortized_break_even",
        title="Amortized methods: throughput and break-even against the best classical method "
        "at matched accuracy",
        nav="Break-even",
        make=lambda res: break_even(res.results),
        leading=True,
        note="best_classical: the fastest classical method whose backward error (the "
        "factorization's, and a solve's where A is nonsingular) is at most the amortized "
        "one's, on the same stacks. break_even_matrices = train_time_s / "
        "(classical time per matrix - amortized time per matrix): how many matrices must be "
        "factorized before training plus inference costs less; inf: never (inference alone is "
        "slower); none where the time-per-matrix interval holds 1 (no clear gain to pay the "
        "training back). "
        + ACCURACY_NOTE
        + ". time per matrix / classical: the amortized method's time per matrix over the "
        "classical one's, with the 95% bootstrap interval over both sides' cells (matrix "
        "stacks and runs). For preconditioners the accuracy is CG iterations and the time is "
        "the total time to solution (build + CG solve to 1e-8, cg_total_s), what a user pays "
        "per system.",
    ),
)


HEADLINE = HeadlineSpec(name="amortized_break_even_headline", make=headline, summary=True)


def _amortized(*, quick: bool) -> tuple[Grid, ...]:
    """Amortized LU and Cholesky (trained on diagonally dominant / SPD 8x8 matrices) on
    held-out matrices of their own family and of others, in stacks, beside the batched
    library factorizations; quick: short trainings (500 steps) and stacks of 100."""
    budget = "[steps=500]" if quick else ""
    methods = (
        f"amortized-lu{budget}",
        f"amortized-lu[{'steps=500,' if quick else ''}refine=20]",
        f"amortized-cholesky{budget}",
        "torch-lu",
        "torch-cholesky",
        "closed-form-lu",  # the one-step formulas the networks must beat
        "closed-form-cholesky",
    )
    return (
        Grid(
            matrices=("diag-dominant", "spd", "random-gaussian", "random-uniform"),
            methods=methods,
            sizes=(8,),
            batches=(100,) if quick else (1000, 10_000),
            dtypes=("float32",),
            repeats=1 if quick else 3,
            timing_repeats=3,
        ),
    )


def _amortized_sketch(*, quick: bool) -> tuple[Grid, ...]:
    """A sketch learned on photo crops against random sketches of the same size (m = 20) and
    the truncated SVD, at k = 10 on held-out crops and on other families."""
    learned = "amortized-sketch[steps=150,count=64]" if quick else "amortized-sketch"
    return (
        Grid(
            matrices=("image-crops", "lowrank-noise", "randsvd", "random-gaussian"),
            methods=(
                learned,
                "sketch-gaussian",
                "sketch-countsketch",
                "sketch-power",  # the same size, one power iteration
                "sketch-pca",  # data-driven from the learned sketch's own training crops
                *(RANK_K_QUICK if quick else RANK_K),
            ),
            sizes=(64,),
            ranks=(10,),
            dtypes=("float32",),
            repeats=3 if quick else 20,
            timing_repeats=3,
        ),
    )


def _amortized_precond(*, quick: bool) -> tuple[Grid, ...]:
    """A learned preconditioner (trained on 8 x 8 grid Laplacians, n = 64) on held-out grid
    Laplacians of that size and larger, and on dense SPD matrices, beside none, Jacobi and
    IC(0), scored by CG iterations."""
    learned = "amortized-ic[steps=200,count=64]" if quick else "amortized-ic"
    return (
        Grid(
            matrices=("grid-laplacian", "diffusion-2d", "graph-laplacian", "spd"),
            methods=(
                learned,
                "cg-none",
                "cg-jacobi",
                "ic0",
                "sparse-ic0",
                "ilut",
                "amg",
                "sparse-direct",
            ),
            sizes=(64,) if quick else (64, 256, 1024),
            repeats=2 if quick else 10,
            timing_repeats=3,
        ),
    )


AMORTIZED_LU = Study(
    "amortized-lu",
    "amortized LU and Cholesky: networks trained once on 8x8 diagonally dominant / SPD "
    "matrices, applied to held-out stacks of those and of other families beside batched "
    "torch-lu / torch-cholesky: generalization, throughput, break-even",
    grids=_amortized(quick=False),
    quick=_amortized(quick=True),
    tables=TABLES,
    headlines=(HEADLINE,),
)

AMORTIZED_SKETCH = Study(
    "amortized-sketch",
    "a learned sketch for rank-k (Indyk, Vakilian & Yuan): a 20 x 64 S trained once on "
    "photo crops, on held-out crops and other families beside Gaussian and CountSketch "
    "sketches of the same size and the truncated SVD (k = 10)",
    grids=_amortized_sketch(quick=False),
    quick=_amortized_sketch(quick=True),
    tables=TABLES,
    headlines=(HEADLINE,),
)

AMORTIZED_PRECOND = Study(
    "amortized-precond",
    "a NeuralIF-style preconditioner: L on the pattern of tril(A) learned once on "
    "weighted 8 x 8 grid Laplacians, on held-out grid Laplacians with n = 64 .. 1024 "
    "and on dense SPD matrices, beside no preconditioner, Jacobi and IC(0): CG "
    "iterations and build time",
    grids=_amortized_precond(quick=False),
    quick=_amortized_precond(quick=True),
    tables=TABLES,
    headlines=(HEADLINE,),
)
