"""Where learning could win (2), streaming: rank-k from A's rows seen once or a few times
(issue 25 item 2). Frequent Directions, single-pass randomized SVD and incremental SVD, and
two networks trained by update steps only (GHA and mu-EigenGame), beside sketch-and-solve,
randomized SVD with power iterations and the Krylov and full SVDs, scored by error against
passes over A, memory held and time: the best of each group under each pass budget, and the
verdict per cost model (one pass, few passes, unlimited; `nnbench.report.costs`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from nnbench.report.costs import (
    STREAMING_NETWORKS,
    by_cost_model,
    cost_model_headline,
    cost_model_verdict,
    per_method,
)
from nnbench.report.spec import HeadlineSpec, TableSpec
from nnbench.results import Results
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

BUDGETS = (1, 2, 4, np.inf)
STREAMING = ("stream-fd", "stream-rsvd1", "stream-isvd", "neural-gha", "neural-eigengame")
METHODS = (
    "stream-fd",
    "stream-rsvd1",
    "stream-isvd",
    "stream-isvd[extra=10]",
    *(f"neural-gha[epochs={e}]" for e in (1, 3, 10)),
    *(f"neural-eigengame[epochs={e}]" for e in (1, 3, 10)),
    "neural-eigengame[epochs=1,left=last-pass]",  # the one-pass network
    "sketch-gaussian",
    "sketch-power",
    *(f"torch-rsvd[niter={q}]" for q in (0, 1, 4)),
    "scipy-svds-propack",
    "scipy-tsvd",
)


def by_passes(results: pd.DataFrame) -> pd.DataFrame:
    """Per pass budget (at most 1, 2, 4 passes over A, or any) and group: the method with the
    lowest median excess (the verdict's, `ACCURACY["rank-k"]`, over the problems) among
    those whose passes fit, its passes, memory (floats, median) and median time."""
    if not _streaming(results):  # a streaming study's table
        return pd.DataFrame()
    each, _ = per_method(results)  # per problem (its instances and runs), as the verdict
    per = (
        each.groupby(["method", "group"])
        .agg(
            excess=("error", "median"),
            worst=("error", "max"),
            problems=("error", "size"),
            passes=("passes", "max"),
            memory_floats=("memory_floats", "median"),
            time_s=("time_s", "median"),
        )
        .reset_index()
    )
    passes = per.passes.fillna(np.inf)  # a dense SVD reads A at random: no pass budget fits
    rows = []
    for budget in BUDGETS:
        fits = per[passes <= budget]
        for group, mine in fits.groupby("group", sort=True):
            best = mine.loc[mine.excess.idxmin()]
            rows.append(
                {
                    "passes_allowed": "any" if np.isinf(budget) else f"<= {budget:g}",
                    "group": group,
                    "best": best.method,
                    "median_excess": best.excess,
                    "worst_excess": best.worst,
                    "passes": best.passes,
                    "memory_floats": best.memory_floats,
                    "time_s": best.time_s,
                    "problems": best.problems,
                }
            )
    return pd.DataFrame(rows)


def _streaming(results: pd.DataFrame) -> bool:
    """Whether the results hold this study's cells: its networks trained by update steps
    (`STREAMING_NETWORKS`), which no other study runs. The classical streaming methods alone
    are no sign of it: every rank-k grid of classical methods (cpu-scale, quick) has them,
    and its tables would compare one group with nothing."""
    ok = results[(results.kind == "rank-k") & (results.status == "ok")]
    return bool(ok.method_base.isin(STREAMING_NETWORKS).any())


def _when_streaming(
    make: Callable[[pd.DataFrame], pd.DataFrame],
) -> Callable[[Results], pd.DataFrame]:
    return lambda res: make(res.results) if _streaming(res.results) else pd.DataFrame()


COST_NOTE = (
    "excess = (rel_err - opt_err) / (1 - opt_err), the rank-k excess of the verdict "
    "(0: the truncated SVD's error, 1: the zero matrix's; worse of 2-norm and Frobenius), "
    "median over the problem's instances (worst: their largest); memory (x mn): the floats "
    "held besides A over m n; a group's best is its lowest error among the methods whose "
    "passes fit the budget (per problem, so the pick of variant is an oracle's); the winner "
    "has the lower error, a tie where two differ by less than the problem's rounding floor. "
    "The full SVD and Krylov svds read A at random or uncounted: unlimited only."
)

TABLES = (
    TableSpec(
        name="streaming_cost_verdict",
        title="Streaming rank-k: the verdict per cost model (one pass, few passes, unlimited)",
        nav="Streaming verdict",
        make=_when_streaming(cost_model_verdict),
        leading=True,
        note="wins: problems (matrix family x n) on which the group's best method within the "
        "budget has the lower error; see the next table for each problem.",
    ),
    TableSpec(
        name="streaming_by_cost_model",
        title="Streaming rank-k per cost model and problem: each group's best within the budget",
        nav="Streaming per problem",
        make=_when_streaming(by_cost_model),
        leading=True,
        note=COST_NOTE,
    ),
    TableSpec(
        name="streaming_by_passes",
        title="Streaming rank-k: the best of each group under each budget of passes over A",
        nav="Streaming",
        make=lambda res: by_passes(res.results),
        leading=True,
        note="excess = (rel_err - opt_err) / (1 - opt_err), as in the verdict (0: the "
        "truncated SVD's error, 1: the zero matrix's), per problem the median over its "
        "instances and runs, then the median (worst: the largest) over problems. One method "
        "for every problem: the verdict above picks each problem's best, so its medians can "
        "be lower. passes: reads "
        "of A as a whole (a block of rows at a time is part of one pass); the full SVD "
        "reads A at random, so only 'any' admits it.",
    ),
)


def _grids(*, quick: bool) -> tuple[Grid, ...]:
    return (
        Grid(
            matrices=("lowrank-noise", "image-crops", "randsvd", "random-gaussian"),
            methods=METHODS,
            sizes=(64,) if quick else (256, 1024),
            ranks=(5,) if quick else (10,),
            repeats=1 if quick else 3,
            timing_repeats=3,
        ),
    )


STUDY = Study(
    "streaming",
    "streaming rank-k: Frequent Directions, single-pass and incremental SVD, and two networks "
    "trained by update steps (GHA, mu-EigenGame) beside sketch-and-solve, randomized SVD and "
    "the full SVD, by passes over A, memory held and time, with the verdict per cost model",
    grids=_grids(quick=False),
    quick=_grids(quick=True),
    tables=TABLES,
    headlines=(
        HeadlineSpec(
            name="streaming_cost_headline",
            make=lambda res: cost_model_headline(res.results) if _streaming(res.results) else [],
        ),
    ),
)
