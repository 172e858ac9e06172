"""Where learning could win (1): a learned sparse preconditioner at scale (issue 24).

`amortized-gnn-ic` (a message-passing network over A's graph, NeuralIF-style) is trained once
on sparse diffusion-2d and graph-laplacian systems and applied to held-out ones of those
families, of an anisotropic diffusion family, of random sparse SPD matrices and of real
meshes (pyamg's shipped finite-element matrices, and diffusion on its triangle meshes refined)
it never saw, at n = 1,024 to 16,384, beside no preconditioner, Jacobi, sparse IC(0), ILUT,
smoothed-aggregation AMG and a sparse direct solve, all from one run on the same matrices.
Scored by what a user pays: CG iterations, build, solve and total time to 1e-8."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nnbench.report.spec import HeadlineSpec, TableSpec
from nnbench.report.stats import (
    MedianInterval,
    interval_summary,
    median_interval_text,
    median_ratio,
)
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

LEARNED = "amortized-gnn-ic"
TRAINED_ON = ("diffusion-2d", "graph-laplacian")
HELD_OUT_FAMILIES = ("diffusion-aniso", "sparse-spd")
FAMILIES = (*TRAINED_ON, *HELD_OUT_FAMILIES)
REFINED_MESHES = ("mesh-airfoil-refined", "mesh-square-refined")  # any n
SHIPPED_MESHES = ("mesh-airfoil", "mesh-bar", "mesh-knot", "mesh-unit-cube")  # 125 to 600
MESHES = (*SHIPPED_MESHES, *REFINED_MESHES)  # the `mesh` group: held out too
RIVALS = {"cg-jacobi": "jacobi", "sparse-ic0": "ic0", "amg": "amg"}
CLASSICAL = ("cg-none", "cg-jacobi", "sparse-ic0", "amg", "sparse-direct")
PROBLEM = ["matrix", "n"]
MATRIX = ["matrix", "n", "repeat"]  # the same matrix, in any run


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[(results.kind == "precond") & (results.status == "ok")]


SUMMARY_MEASURES = {
    "cg_iterations": "iterations",
    "time_s": "build_s",
    "cg_solve_s": "solve_s",
    "cg_total_s": "total_s",
    "cg_iteration_s": "iteration_s",
}


def _summary_key(key: dict[str, object], group: pd.DataFrame) -> dict[str, object]:
    matrix = key["matrix"]
    return {
        "matrix": matrix,
        "n": key["n"],
        "in_training_families": matrix in TRAINED_ON,
        "method": key["method_base"],
    }


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per family, n and method: in or out of the learned model's training families, how many
    matrices, how many ended `diverged` or `skipped`, and the median (95% bootstrap interval
    over matrices) of CG iterations and of the build, solve and total times."""
    cells = results[results.kind == "precond"]
    if cells.empty or not (cells.method_base == LEARNED).any():  # this study's table
        return pd.DataFrame()
    return interval_summary(cells, ["matrix", "n", "method_base"], SUMMARY_MEASURES, _summary_key)


def _seen(matrix: str) -> str:
    if matrix in TRAINED_ON:
        return "trained on"
    return "held-out mesh" if matrix in MESHES else "held out"


def generalisation(results: pd.DataFrame) -> pd.DataFrame:
    """Per family and n, the training families first, then the held-out ones, then the real
    meshes: the median CG iterations and total time (build + solve to 1e-8) of the learned
    preconditioner and of Jacobi, compiled IC(0) and AMG on the same matrices (NaN: no `ok`
    row; the summary table says why), and how many matrices the learned one solved."""
    ok = _ok(results)
    learned = ok[ok.method_base == LEARNED]
    if learned.empty:
        return pd.DataFrame()
    order = {"trained on": 0, "held out": 1, "held-out mesh": 2}
    rows = []
    for (matrix, n), mine in learned.groupby(PROBLEM, sort=True):
        here = ok[(ok.matrix == matrix) & (ok.n == n)]
        row: dict[str, object] = {"matrix": matrix, "n": n, "families": _seen(matrix)}
        row["matrices"] = mine.groupby(MATRIX).ngroups
        for column, label in (("cg_iterations", "iterations"), ("cg_total_s", "total_s")):
            row[f"learned_{label}"] = float(mine[column].median())
            for rival, short in RIVALS.items():
                theirs = here[here.method_base == rival][column]
                row[f"{short}_{label}"] = float(theirs.median()) if len(theirs) else math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    rank = table.families.map(order)
    return table.assign(_rank=rank).sort_values(["_rank", "matrix", "n"]).drop(columns="_rank")


def _paired_ratio(mine: pd.DataFrame, theirs: pd.DataFrame, column: str) -> MedianInterval:
    """Median over matrices of mine / theirs on the same matrix (each side the median of its
    runs), with its 95% two-level bootstrap interval: the matrices, then each one's runs (a
    fixed mesh, one matrix: its runs alone)."""
    own = mine.groupby(MATRIX)[column].apply(list)
    ref = theirs.groupby(MATRIX)[column].apply(list)
    return median_ratio([(own[key], ref[key]) for key in own.index.intersection(ref.index)])


def _matrices(part: pd.DataFrame) -> str:
    """How many held-out matrices `part` holds, and the runs of each: "10 held-out matrices
    x 3 runs", "1 held-out matrix"."""
    count, runs = part.groupby(MATRIX).ngroups, part.run.nunique()
    words = f"{count} held-out {'matrix' if count == 1 else 'matrices'}"
    return words + (f" x {runs} runs" if runs > 1 else "")


def comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem (family, n): the learned preconditioner against IC(0), against AMG and
    against that problem's fastest classical method by median total time, as paired ratios
    (learned / classical on the same matrix; > 1: the learned one needs more) of iterations
    and total time, with 95% bootstrap intervals over matrices; and the break-even count: how
    many systems must be solved before training + its solves cost less than the classical
    method's (inf: never, its solves alone are slower)."""
    ok = _ok(results)
    learned = ok[ok.method_base == LEARNED]
    if learned.empty:
        return pd.DataFrame()
    rows = []
    for (matrix, n), mine in learned.groupby(PROBLEM, sort=True):
        same = ok[(ok.matrix == matrix) & (ok.n == n) & (ok.group == "classical")]
        if same.empty:
            continue
        fastest = same.groupby("method_base").cg_total_s.median().idxmin()
        for rival in dict.fromkeys(("sparse-ic0", "amg", fastest)):  # the fastest once
            theirs = same[same.method_base == rival]
            if theirs.empty:
                continue
            iterations = _paired_ratio(mine, theirs, "cg_iterations")
            total = _paired_ratio(mine, theirs, "cg_total_s")
            gain = theirs.cg_total_s.median() - mine.cg_total_s.median()
            train = float(mine.train_time_s.iloc[0])
            rows.append(
                {
                    "matrix": matrix,
                    "n": n,
                    "in_training_families": matrix in TRAINED_ON,
                    "against": f"{rival} (fastest)" if rival == fastest else rival,
                    "iterations_ratio": median_interval_text(iterations),
                    "total_time_ratio": median_interval_text(total),
                    "train_time_s": train,
                    "parameters": mine.parameters.iloc[0],
                    "break_even_systems": train / gain if gain > 0 else math.inf,
                }
            )
    return pd.DataFrame(rows)


def slopes(results: pd.DataFrame) -> pd.DataFrame:
    """Per method and family: the fitted exponent p of total time ~ n^p (least squares on the
    log of each matrix's time against log n, over every size run)."""
    ok = _ok(results)
    if not (ok.method_base == LEARNED).any():  # this study's table
        return pd.DataFrame()
    rows = []
    for (method, matrix), group in ok.groupby(["method_base", "matrix"], sort=True):
        sizes = group.n.nunique()
        if sizes < 2:
            continue
        x, y = np.log(group.n.to_numpy(float)), np.log(group.cg_total_s.to_numpy(float))
        p = float(np.polyfit(x, y, 1)[0])
        rows.append(
            {
                "method": method,
                "matrix": matrix,
                "sizes": sizes,
                "n_range": f"{group.n.min()}-{group.n.max()}",
                "total_time_exponent": p,
            }
        )
    return pd.DataFrame(rows)


def _clearly(ratio: MedianInterval, below: str, above: str) -> str:
    """`below` / `above` where the whole 95% interval is below / above 1, else neither."""
    _, low, high = ratio
    if high < 1:
        return below
    if low > 1:
        return above
    return f"not clearly {below} or {above} (the interval holds 1)"


def _break_even(mine: pd.DataFrame, theirs: pd.DataFrame, ratio: MedianInterval) -> str:
    """With its training counted, after how many systems the learned preconditioner costs
    less than `theirs` in all: never where its solves alone are not clearly faster."""
    train = float(mine.train_time_s.iloc[0])
    gain = float(theirs.cg_total_s.median() - mine.cg_total_s.median())
    if not ratio.high < 1 or gain <= 0:
        return f"with its training ({train:.2g} s) counted it never breaks even against it"
    systems = f"{train / gain:,.0f}"
    return f"with its training ({train:.2g} s) counted it breaks even after {systems} systems"


def headline(results: pd.DataFrame) -> pd.DataFrame:
    """The answer in words, one sentence per family at the largest n it ran: where the
    learned preconditioner stands against IC(0) and against AMG, by iterations and by total
    time (paired ratios over the held-out matrices, 95% bootstrap intervals), and the fastest
    classical method there by total time; then what was not scored."""
    ok = _ok(results)
    learned = ok[ok.method_base == LEARNED]
    rows = []
    for matrix, part in learned.groupby("matrix", sort=True):
        n = int(part.n.max())
        mine = part[part.n == n]
        here = ok[(ok.matrix == matrix) & (ok.n == n) & (ok.group == "classical")]
        if here.empty:
            continue
        clauses = []
        for rival, label in (("sparse-ic0", "IC(0)"), ("amg", "AMG")):
            theirs = here[here.method_base == rival]
            if theirs.empty:
                continue
            it = _paired_ratio(mine, theirs, "cg_iterations")
            tt = _paired_ratio(mine, theirs, "cg_total_s")
            pairs = len(mine.groupby(MATRIX).size().index.intersection(
                theirs.groupby(MATRIX).size().index))  # fmt: skip
            where = "" if pairs == mine.groupby(MATRIX).ngroups else (
                f" (on the {pairs} where {label} ran)")  # fmt: skip
            clauses.append(
                f"{_words(it)} the CG iterations of {label} ({_clearly(it, 'fewer', 'more')}) "
                f"and {_words(tt)} its total time ({_clearly(tt, 'faster', 'slower')}){where}"
            )
        fastest = here.groupby("method_base").cg_total_s.median().idxmin()
        vs = _paired_ratio(mine, here[here.method_base == fastest], "cg_total_s")
        seen = "a training family" if matrix in TRAINED_ON else "a family it never saw"
        words = (
            f"{matrix} ({seen}), n = {n:,}, {_matrices(mine)}: {LEARNED} needs "
            + "; ".join(clauses or ["no IC(0) or AMG row to compare"])
            + f". The fastest classical method by total time (build + CG to 1e-8) is {fastest}; "
            f"the learned one takes {_words(vs)} its time, and "
            + _break_even(mine, here[here.method_base == fastest], vs)
            + ". CPU, one thread."
        )
        rows.append(
            {"matrix": matrix, "n": n, "matrices": mine.groupby(MATRIX).ngroups, "headline": words}
        )
    stopped = results[(results.kind == "precond") & (results.status != "ok")]
    if rows and not stopped.empty:
        counts = stopped.groupby(["method_base", "status", "matrix"]).size()
        what = "; ".join(f"{m} {s} on {c} {x} matrices" for (m, s, x), c in counts.items())
        words = f"Not scored (all sizes): {what} (the summary table gives the reasons)."
        rows.append({"matrix": "", "n": None, "matrices": len(stopped), "headline": words})
    return pd.DataFrame(rows)


def _words(ratio: MedianInterval) -> str:
    median, low, high = ratio
    return f"{median:.2g}x [{low:.2g}, {high:.2g}]"


TABLES = (
    TableSpec(
        name="precond_comparison",
        title="Learned preconditioner against IC(0), AMG and each problem's fastest classical "
        "method: iterations, total time, break-even",
        nav="Precond vs classical",
        make=lambda res: comparison(res.results),
        leading=True,
        note="total time = build (the timed call) + CG solve to ||r|| <= 1e-8 ||b||. "
        "break_even_systems = train_time_s / (classical median total - learned median total): "
        "systems to solve before training pays; inf: never. in_training_families: the test "
        "family is one the model was trained on (the seeds never are).",
    ),
    TableSpec(
        name="precond_generalisation",
        title="Generalisation: the learned preconditioner on its training families, on held-out "
        "ones and on real meshes, against Jacobi, compiled IC(0) and AMG (median CG iterations "
        "and total time)",
        nav="Precond generalisation",
        make=lambda res: generalisation(res.results),
        note="families: trained on (the network's training families, other seeds), held out "
        "(families it never saw), held-out mesh (pyamg's shipped finite-element matrices and "
        "diffusion on its refined triangle meshes). total_s = build + CG to 1e-8, seconds, CPU, "
        "one thread; NaN: that method has no ok row there (see the summary for why).",
    ),
    TableSpec(
        name="precond_summary",
        title="Sparse preconditioners per family and size: CG iterations, build, solve and "
        "total time (median [95% interval] over matrices)",
        nav="Precond summary",
        make=lambda res: summary(res.results),
    ),
    TableSpec(
        name="precond_slopes",
        title="Total time against n: fitted exponent p of time ~ n^p",
        nav="Precond slopes",
        make=lambda res: slopes(res.results),
    ),
)


RUNS = 3
"""Independent runs of the full study, each in its own cell order: the intervals resample them."""


def _grids(*, quick: bool) -> tuple[Grid, ...]:
    learned = f"{LEARNED}[steps=200,count=16,sizes=256]" if quick else f"{LEARNED}[steps=2000]"
    if quick:
        return (
            Grid(
                matrices=(*FAMILIES, *REFINED_MESHES),
                methods=(learned, *CLASSICAL),
                sizes=(256, 1024),
                repeats=2,
                timing_repeats=3,
            ),
            Grid(  # one matrix each: fixed
                matrices=SHIPPED_MESHES, methods=(learned, *CLASSICAL), timing_repeats=3
            ),
        )
    return (
        Grid(  # >= 50 held-out matrices at n = 4096: 4 families x 13, and 26 of the meshes
            matrices=(*FAMILIES, *REFINED_MESHES),
            methods=(learned, *CLASSICAL),
            sizes=(1024, 4096),
            repeats=13,
            timing_repeats=3,
            runs=RUNS,
        ),
        Grid(  # ILUT is for CG only where its M stays near-symmetric (diverges elsewhere)
            matrices=("diffusion-2d", "diffusion-aniso"),
            methods=("ilut",),
            sizes=(1024, 4096),
            repeats=13,
            timing_repeats=3,
            runs=RUNS,
        ),
        Grid(  # the largest size, 10 matrices a family
            matrices=(*TRAINED_ON, "diffusion-aniso", *REFINED_MESHES),
            methods=(learned, *CLASSICAL[:-1]),
            sizes=(16384,),
            repeats=10,
            timing_repeats=3,
            runs=RUNS,
        ),
        Grid(  # the sparse direct solve where it does not fill in: 171 s a graph Laplacian
            # at n = 16,384 (and more on sparse-spd)
            matrices=("diffusion-2d", "diffusion-aniso", *REFINED_MESHES),
            methods=("sparse-direct",),
            sizes=(16384,),
            repeats=10,
            timing_repeats=3,
            runs=RUNS,
        ),
        Grid(  # pyamg's shipped matrices: one each (fixed)
            matrices=SHIPPED_MESHES, methods=(learned, *CLASSICAL), timing_repeats=3, runs=RUNS
        ),
    )


HEADLINE = HeadlineSpec(
    name="precond_headline",
    make=lambda res: list(headline(res.results).get("headline", pd.Series(dtype=str))),
)

STUDY = Study(
    "sparse-precond",
    "a learned sparse preconditioner at scale: a message-passing network (NeuralIF-style) "
    "trained once on diffusion-2d and graph-laplacian systems, on held-out ones, on two "
    "families it never saw (anisotropic diffusion, random sparse SPD) and on real meshes "
    "(pyamg's finite-element matrices, refined), n = 1,024 .. 16,384, "
    "beside none, Jacobi, IC(0), ILUT, AMG and a sparse direct solve: CG iterations and "
    "build, solve and total time, 3 independent runs",
    grids=_grids(quick=False),
    quick=_grids(quick=True),
    tables=TABLES,
    headlines=(HEADLINE,),
)
