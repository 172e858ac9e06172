"""Where learning could win (4): the amortized LU as a warm start (issue 25 item 4).

`gmres-warm-lu` preconditions restarted GMRES (restart 20, rtol 1e-10, fixed Gaussian b)
with M = L̂ Û from each start, on the same held-out matrices of the amortized-lu study's
families: the amortized network's factors (trained once on diagonally dominant matrices,
seeds disjoint from the cells'), the closed-form one step, no preconditioner (cold), and the
classical scale: ILU and the exact pivoted LU (one iteration). Scored by the iterations saved,
paired per matrix, and by setup (build), solve and total time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nnbench.report.spec import HeadlineSpec, TableSpec
from nnbench.report.stats import (
    interval_summary,
    median_interval_text,
    median_ratio,
    median_text,
    two_digits,
)
from nnbench.results import Results
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

METHOD = "gmres-warm-lu"
STARTS = ("amortized", "closed-form", "cold", "ilu", "exact")
RIVALS = ("closed-form", "cold")  # what the network's start is paired against
FAMILIES = ("diag-dominant", "spd", "random-uniform", "random-gaussian")
TRAINED_ON = ("diag-dominant",)
INSTANCE = ["matrix", "n", "matrix_seed", "run"]  # the same matrix, timed in the same run
MATRIX = ["matrix", "n", "matrix_seed"]  # the same matrix, in any run
RESTART = 20  # the method's GMRES restart length (nnbench.methods.warm_start.GMRES_RESTART)


def _cells(res: Results) -> pd.DataFrame:
    """This study's rows with `start` (the `init` column) and the solve's seconds (the last
    point of each cell's GMRES curve) and the setup's (total - solve)."""
    df = res.results
    cells = df[df.method_base == METHOD].copy()
    if cells.empty:
        return cells
    cells["start"] = cells["init"]
    curves = res.curves
    solve = (
        curves[curves.cell_id.isin(cells.cell_id)].groupby("cell_id").elapsed_s.last()
        if len(curves)
        else pd.Series(dtype=float)
    )
    cells["solve_s"] = cells.cell_id.map(solve).astype(float)
    cells["setup_s"] = (cells.time_s - cells.solve_s).clip(lower=0.0)
    cells["iterations"] = cells.steps
    cells["final_residual"] = cells.final_loss
    return cells


SUMMARY_MEASURES = {
    "iterations": "iterations",
    "setup_s": "setup_s",
    "solve_s": "solve_s",
    "time_s": "total_s",
    "final_residual": "final_residual",
}


def _summary_key(key: dict[str, object], group: pd.DataFrame) -> dict[str, object]:
    matrix = key["matrix"]
    return {
        "matrix": matrix,
        "n": key["n"],
        "in_training_family": matrix in TRAINED_ON,
        "start": key["start"],
        "group": group.group.iloc[0],
    }


def summary(res: Results) -> pd.DataFrame:
    """Per family, n and start: matrices, how many ended `diverged` / `skipped`, and the
    median [95% bootstrap interval over matrices] of GMRES iterations, setup, solve and total
    time, and the final relative residual."""
    cells = _cells(res)
    if cells.empty:
        return pd.DataFrame()
    return interval_summary(cells, ["matrix", "n", "start"], SUMMARY_MEASURES, _summary_key)


def _paired(cells: pd.DataFrame, rival: str, column: str) -> tuple[pd.Series, pd.Series]:
    """(network's, rival's) `column` on the matrices where both ended ok, aligned."""
    ok = cells[cells.status == "ok"]
    mine = ok[ok.start == "amortized"].set_index(INSTANCE)[column]
    theirs = ok[ok.start == rival].set_index(INSTANCE)[column]
    both = mine.index.intersection(theirs.index)
    return mine.loc[both].astype(float), theirs.loc[both].astype(float)


def _by_matrix(mine: pd.Series, theirs: pd.Series) -> list[tuple[list[float], list[float]]]:
    """Paired values (aligned on INSTANCE) as each matrix's runs, one pair of lists each."""
    levels = MATRIX
    own, ref = mine.groupby(level=levels).apply(list), theirs.groupby(level=levels).apply(list)
    return [(own[key], ref[key]) for key in own.index]


def _counted(mine: pd.Series) -> str:
    """ "20 matrices x 3 runs" for paired values indexed by INSTANCE."""
    count = mine.groupby(level=MATRIX).ngroups
    runs = mine.index.get_level_values("run").nunique()
    return f"{count} matrices" + (f" x {runs} runs" if runs > 1 else "")


NOT_COMPARED = "not compared: n <= restart"  # GMRES ends by step n from any start


def savings(res: Results) -> pd.DataFrame:
    """Per family and n, the network's start against the closed-form and the cold start,
    paired per matrix (both ok): iterations saved (rival - network) and the ratio network /
    rival of iterations and of total time, median [95% bootstrap interval over matrices];
    `rival_diverged`: matrices where the rival hit the cap and the network's start did not."""
    cells = _cells(res)
    if cells.empty or not (cells.start == "amortized").any():
        return pd.DataFrame()
    rows = []
    for (matrix, n), part in cells.groupby(["matrix", "n"], sort=True):
        for rival in RIVALS:
            mine, theirs = _paired(part, rival, "iterations")
            mine_t, theirs_t = _paired(part, rival, "time_s")
            status = part.set_index(INSTANCE)
            ok_mine = status[(status.start == "amortized") & (status.status == "ok")].index
            lost = status[(status.start == rival) & (status.status == "diverged")].index
            rows.append(
                {
                    "matrix": matrix,
                    "n": n,
                    "in_training_family": matrix in TRAINED_ON,
                    "against": rival,
                    "paired_matrices": mine.groupby(level=MATRIX).ngroups,
                    "iterations_saved": NOT_COMPARED
                    if int(n) <= RESTART
                    else median_text((theirs - mine).groupby(level=MATRIX).median().to_numpy()),
                    "iterations_ratio": NOT_COMPARED
                    if int(n) <= RESTART
                    else median_interval_text(median_ratio(_by_matrix(mine, theirs))),
                    "total_time_ratio": median_interval_text(
                        median_ratio(_by_matrix(mine_t, theirs_t))
                    ),
                    "rival_diverged": len({k[:3] for k in ok_mine.intersection(lost)}),
                }
            )
    return pd.DataFrame(rows)


def headline(res: Results) -> list[str]:
    """One sentence per family and n: the network's start against the closed-form and the
    cold start, by iterations (paired median ratio, 95% interval), and the exact LU's count.
    Where n <= the restart length, GMRES ends by step n from any start (exact arithmetic), so
    an iteration count is decided by n and is not compared: the sentence compares total time
    (build M + solve) instead."""
    cells = _cells(res)
    if cells.empty or not (cells.start == "amortized").any():
        return []
    words = []
    for (matrix, n), part in cells.groupby(["matrix", "n"], sort=True):
        bounded = int(n) <= RESTART
        column, what = ("time_s", "total time") if bounded else ("iterations", "iterations")
        clauses = [_clause(part, rival, column, what) for rival in RIVALS]
        clauses = [c for c in clauses if c]
        ok = part[part.status == "ok"]
        exact = ok[ok.start == "exact"].iterations.median()
        seen = "its training family" if matrix in TRAINED_ON else "a family it never saw"
        scale = (
            ""
            if math.isnan(exact) or bounded
            else f"; the exact LU takes {exact:.3g} iteration{'' if exact == 1 else 's'}"
        )
        if not bounded and clauses:  # iterations, and what they cost: the total time too
            timed = [c for c in (_clause(part, r, "time_s", "total time") for r in RIVALS) if c]
            scale += "; in total time (building M + the solve) it takes " * bool(timed)
            scale += "; ".join(timed)
        scale += _fastest_classical(part)
        claim = (
            "takes " + "; ".join(clauses)
            if clauses
            else f"cannot be paired with a rival: {_converged(part)}"
        )
        bound = (
            f" (n <= the restart length {RESTART}: GMRES ends by step {n} from any start in "
            "exact arithmetic, "
            "so iterations are not compared)"
            if bounded
            else ""
        )
        words.append(
            f"{matrix} ({seen}), n = {n}: GMRES (restart {RESTART}, rtol 1e-10) preconditioned "
            f"by the amortized LU{bound} {claim}{scale}."
        )
    return words


def _converged(part: pd.DataFrame) -> str:
    """ "of its 20 matrices (3 runs each), GMRES converges with the amortized start on 10 in
    every run, the closed-form start on none, ...": counted in matrices, not matrix x run
    rows; a matrix that converged in some runs only is said apart ("and 2 more in some
    runs")."""
    runs = part.run.nunique()
    said = []
    for start in ("amortized", *RIVALS):
        mine = part[part.start == start]
        ok = (mine.status == "ok").groupby([mine[c] for c in MATRIX]).agg(["all", "any"])
        every, some = int(ok["all"].sum()), int((ok["any"] & ~ok["all"]).sum())
        count = f"{every} in every run" if runs > 1 else str(every)
        if some:
            count = f"{count} and {some} more in some runs" if every else f"{some} in some runs"
        said.append(f"the {start} start on {count if every or some else 'none'}")
    each = f" ({runs} runs each)" if runs > 1 else ""
    return f"of its {part.groupby(MATRIX).ngroups} matrices{each}, GMRES converges with " + (
        ", ".join(said)
    )


CLASSICAL = ("ilu", "exact")  # the classical starts: M from a library factorization


def _fastest_classical(part: pd.DataFrame) -> str:
    """ "; against the fastest classical start, exact, it takes 9.5x [9, 10] the total time
    ...": the network's start beside the start a practitioner would use, whatever the
    iteration counts say; "" where no classical start converged beside it."""
    ok = part[(part.status == "ok") & part.start.isin(CLASSICAL)]
    if ok.empty:
        return ""
    fastest = str(ok.groupby("start").time_s.median().idxmin())
    clause = _clause(part, fastest, "time_s", "total time")
    return f"; against the fastest classical start it takes {clause}" if clause else ""


def _clause(part: pd.DataFrame, rival: str, column: str, what: str) -> str:
    """ "1.2x [1.1, 1.3] the total time of the cold start (median 0.41 ms vs 0.35 ms, 20
    matrices)", paired per matrix; "" where no matrix pairs."""
    mine, theirs = _paired(part, rival, column)
    if mine.empty:
        return ""
    median, low, high = median_ratio(_by_matrix(mine, theirs))
    medians = [np.median(mine), np.median(theirs)]
    shown = (
        [f"{m * 1e3:.2g} ms" for m in medians]
        if column == "time_s"
        else [f"{m:.3g}" for m in medians]
    )
    return (
        f"{two_digits(median)}x [{two_digits(low)}, {two_digits(high)}] the {what} of the "
        f"{rival} start "
        f"(median {shown[0]} vs {shown[1]}, {_counted(mine)})"
    )


TABLES = (
    TableSpec(
        name="warm_start_savings",
        title="The amortized LU as a GMRES preconditioner: iterations saved against the "
        "closed-form and the cold start, paired per matrix",
        nav="Warm start",
        make=savings,
        leading=True,
        note="iterations_saved = rival's GMRES iterations - the network's start's, on the same "
        "matrix and b; ratios are network / rival (< 1: the network's start needs fewer). "
        "Median [95% bootstrap interval] over the held-out matrices where both ended ok; "
        "rival_diverged: matrices where the rival hit the cap (10 n iterations) and the "
        "network's start converged. Total time = building M (the network's forward pass, "
        "the closed form) + the GMRES solve. The rows say float32: the network runs in "
        "float32, as the amortized-lu study trains it; every start's M is applied and GMRES "
        "runs in float64.",
    ),
    TableSpec(
        name="warm_start_summary",
        title="GMRES per start: iterations, setup, solve and total time, final residual "
        "(median [95% interval] over matrices)",
        nav="Warm start summary",
        make=summary,
        note="setup_s = total - solve_s, solve_s the GMRES solve's own seconds (the last point "
        "of its curve); final_residual = ||b - A x|| / ||b|| of the x returned. ilu and exact "
        "are the classical scale: an (almost) exact factorization converges in one or two "
        "iterations.",
    ),
)

HEADLINE = HeadlineSpec(name="warm_start_headline", make=headline)


def _grids(*, quick: bool) -> tuple[Grid, ...]:
    """The starts on held-out matrices of the four families; quick: n = 8, a network trained
    for 200 steps; full: n = 8 (the amortized-lu study's model) and n = 32, 20 matrices a
    family."""
    if quick:
        trained = f"{METHOD}[train_steps=200,count=256]"
        return (
            Grid(
                matrices=FAMILIES[:2],
                methods=(trained, *(f"{METHOD}[start={s}]" for s in STARTS[1:])),
                sizes=(8,),
                dtypes=("float32",),
                repeats=4,
                timing_repeats=1,
            ),
        )
    return tuple(
        Grid(
            matrices=FAMILIES,
            methods=tuple(f"{METHOD}[start={s},n={n}]" for s in STARTS),
            sizes=(n,),
            dtypes=("float32",),
            repeats=20,
            timing_repeats=3,
        )
        for n in (8, 32)
    )


STUDY = Study(
    "lu-warm-start",
    "the amortized LU as a warm start: its factors as the GMRES preconditioner M = L U on "
    "held-out matrices of the amortized-lu study's families, beside the closed-form one step, "
    "no preconditioner, ILU and the exact LU: iterations saved (paired per matrix, 95% "
    "intervals), setup, solve and total time",
    grids=_grids(quick=False),
    quick=_grids(quick=True),
    tables=TABLES,
    headlines=(HEADLINE,),
)
