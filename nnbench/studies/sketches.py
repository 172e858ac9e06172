"""Where learning could win (2), one pass: learned sparse sketches as Indyk, Vakilian & Yuan
built them (issue 25 item 1). `amortized-sparse-sketch` keeps CountSketch's sparsity and learns
its values on photo crops at n = 256; beside it CountSketch and Gaussian sketches of the same
size, `sketch-pca` (the same training data, one eigendecomposition, no gradient steps),
`sketch-power` (one power iteration: 4 passes instead of 2), randomized SVD and the truncated
SVD: how much is learning, how much is using the data, and what another pass buys."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbench.report.spec import TableSpec
from nnbench.running.grid import Grid
from nnbench.studies.precond import _interval, _spread
from nnbench.studies.study import Study

LEARNED = "amortized-sparse-sketch"
BASELINES = (
    "sketch-countsketch",
    "sketch-gaussian",
    "sketch-pca",
    "sketch-power",
    "torch-rsvd[niter=0]",
    "torch-rsvd[niter=1]",
    "scipy-tsvd",
)


def sketch_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per family and method: the median excess error (||A - A_k||_F / optimum - 1) with its
    95% bootstrap interval over the held-out matrices, passes over A, training or fitting
    time (the learned and the data-driven sketches), and the median time per matrix."""
    ok = results[(results.kind == "rank-k") & (results.status == "ok")]
    if ok.empty or not (ok.method_base == LEARNED).any():
        return pd.DataFrame()
    rows = []
    for (matrix, n, method), group in ok.groupby(["matrix", "n", "method"], sort=True):
        excess = (group.ratio_fro - 1.0).to_numpy(float)
        rows.append(
            {
                "matrix": matrix,
                "n": n,
                "method": method,
                "group": group.group.iloc[0],
                "excess [95% CI]": _spread(*_interval(np.maximum(excess, 0.0))),
                "median_excess": float(np.median(excess)),
                "passes": group.passes.max(),
                "train_or_fit_s": group.train_time_s.iloc[0],
                "time_s": group.time_s.median(),
                "matrices": len(group),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(["matrix", "n", "median_excess"]).reset_index(drop=True)


TABLES = (
    TableSpec(
        name="sketch_summary",
        title="Learned sparse sketch beside random, data-driven and power-iterated sketches: "
        "excess error, passes over A, training time",
        nav="Sketches",
        make=lambda res: sketch_summary(res.results),
        leading=True,
        note="excess = ||A - A_k||_F / ||A - A_k*||_F - 1 (0: the truncated SVD), median over "
        "the held-out matrices [95% bootstrap interval]; train_or_fit_s: the learned sketch's "
        "training (Adam through QR and SVD) or sketch-pca's one eigendecomposition, both "
        "untimed in time_s.",
    ),
)


def _grids(*, quick: bool) -> tuple[Grid, ...]:
    learned = f"{LEARNED}[n=64,count=16,steps=20]" if quick else LEARNED
    size = 64 if quick else 256
    return (
        Grid(
            matrices=("image-crops",),
            methods=(learned, *BASELINES),
            sizes=(size,),
            ranks=(10,),
            repeats=3 if quick else 20,
            timing_repeats=3,
        ),
        Grid(  # out of the training distribution
            matrices=("lowrank-noise", "randsvd"),
            methods=(learned, *BASELINES),
            sizes=(size,),
            ranks=(10,),
            repeats=1 if quick else 5,
            timing_repeats=3,
        ),
    )


STUDY = Study(
    "learned-sketch",
    "learned sparse sketches (Indyk, Vakilian & Yuan): CountSketch's sparsity with learned "
    "values, trained once on photo crops (n = 256), on held-out crops and two other families, "
    "beside CountSketch, Gaussian, data-driven (sketch-pca) and power-iterated sketches",
    grids=_grids(quick=False),
    quick=_grids(quick=True),
    tables=TABLES,
)
