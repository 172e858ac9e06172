"""Where learning could win (2), streaming: rank-k from A's rows seen once or a few times
(issue 25 item 2). Frequent Directions, single-pass randomized SVD and a Hebbian network
(GHA) beside sketch-and-solve, randomized SVD with power iterations and the Krylov and full
SVDs, scored by error against passes over A, memory held and time: the best of each group
under each pass budget."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbench.report.spec import TableSpec
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

BUDGETS = (1, 2, 4, np.inf)
STREAMING = ("stream-fd", "stream-rsvd1", "neural-gha")
METHODS = (
    "stream-fd",
    "stream-rsvd1",
    *(f"neural-gha[epochs={e}]" for e in (1, 3, 10)),
    "sketch-gaussian",
    "sketch-power",
    *(f"torch-rsvd[niter={q}]" for q in (0, 1, 4)),
    "scipy-svds-propack",
    "scipy-tsvd",
)


def by_passes(results: pd.DataFrame) -> pd.DataFrame:
    """Per pass budget (at most 1, 2, 4 passes over A, or any) and group: the method with the
    lowest median excess error (||A - A_k||_F / ||A - A_k*||_F - 1, over the problems) among
    those whose passes fit, its passes, memory (floats, median) and median time."""
    ok = results[(results.kind == "rank-k") & (results.status == "ok")].copy()
    if ok.empty or not ok.method_base.isin(STREAMING).any():  # a streaming study's table
        return pd.DataFrame()
    ok["excess"] = ok.ratio_fro - 1.0
    per = ok.groupby(["method", "group"]).agg(
        excess=("excess", "median"),
        worst=("excess", "max"),
        passes=("passes", "max"),
        memory_floats=("memory_floats", "median"),
        time_s=("time_s", "median"),
        problems=("excess", "size"),
    )
    per = per.reset_index()
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


TABLES = (
    TableSpec(
        name="streaming_by_passes",
        title="Streaming rank-k: the best of each group under each budget of passes over A",
        nav="Streaming",
        make=lambda res: by_passes(res.results),
        leading=True,
        note="excess = ||A - A_k||_F / ||A - A_k*||_F - 1 (0: the truncated SVD's error), "
        "median over problems; passes: reads of A as a whole (a block of rows at a time is "
        "part of one pass); the full SVD reads A at random, so only 'any' admits it.",
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
    "streaming rank-k: Frequent Directions, single-pass randomized SVD and a Hebbian network "
    "(GHA) beside sketch-and-solve, randomized SVD and the full SVD, by passes over A",
    grids=_grids(quick=False),
    quick=_grids(quick=True),
    tables=TABLES,
)
