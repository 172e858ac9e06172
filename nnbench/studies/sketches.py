"""Where learning could win (2), one pass: learned sparse sketches as Indyk, Vakilian & Yuan
built them (issue 25 item 1). `amortized-sparse-sketch` keeps CountSketch's sparsity and learns
its values by Adam through sketch-and-solve; `[positions=learned]` also places its entries
from the training matrices (Li, Liu, Vakilian, Wang & Woodruff, ICLR 2023: the rows of A with
the largest mean ridge leverage scores get a row of S each, the rest are hashed at random).
Each is trained once on photo crops (`image-crops`) or on frames of a window moving across a
photo (`image-moving-crop`, a video-like family) and applied to held-out instances of its
family; the crop-trained ones also to two other families (low rank plus noise, `lowrank-noise`;
a geometrically decaying spectrum, `randsvd`). Beside them, of the same size (m = 20 rows,
rank 10): CountSketch and Gaussian sketches, `sketch-pca` (the learned sketch's own training
matrices, one eigendecomposition, no gradient steps), `sketch-power` (one power iteration: 4
passes instead of 2), randomized SVD and the truncated SVD: how much is learning, how much
is using the data, and what another pass buys; by error against passes and time.

Sizes: n = 256 (16 x 16 frames) with the registered training budget (256 training matrices,
600 Adam steps of 16), and n = 1,024 (32 x 32 frames) trimmed to keep the whole study within
about 6 minutes on 2 cores (3 to 4 minutes measured): 32 training matrices, 100 steps of 4
(`AT_1024`), `sketch-pca` fit on the same 32, 6 held-out matrices per training family and 3
per other family. Learned positions use the default heavy-row count, rows // 2 = 10.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from nnbench.report.levels import ACCURACY
from nnbench.report.spec import HeadlineSpec, TableSpec
from nnbench.report.stats import median_text
from nnbench.results import Results
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

LEARNED = "amortized-sparse-sketch"
TRAINED_ON = ("image-crops", "image-moving-crop")  # the training families, one model each
OTHER_FAMILIES = ("lowrank-noise", "randsvd")  # held out: out of the training distribution
RANDOM_SKETCHES = (
    "sketch-countsketch",
    "sketch-gaussian",
    "sketch-power",
    "torch-rsvd[niter=0]",
    "torch-rsvd[niter=1]",
)
AT_256: Mapping[str, object] = {"count": 256}  # the registered training budget (`SPARSE_SKETCH`)
AT_1024: Mapping[str, object] = {
    "count": 32,
    "steps": 100,
    "batch_size": 4,
}  # trimmed: the study's wall time
QUICK: Mapping[str, object] = {"count": 16, "steps": 20}  # CI, at n = 64


def _variant(name: str, options: Mapping[str, object]) -> str:
    terms = ",".join(f"{key}={value}" for key, value in options.items())
    return f"{name}[{terms}]" if terms else name


def _sketches(family: str, n: int, budget: Mapping[str, object]) -> tuple[str, ...]:
    """The learned sparse sketch trained on `family` at size n, with random and with learned
    positions, and `sketch-pca` fit on the same training matrices."""
    trained: dict[str, object] = {} if family == "image-crops" else {"families": family}
    sized: dict[str, object] = {} if n == 256 else {"n": n, **budget}
    learned = {**trained, **sized}
    return (
        _variant(LEARNED, learned),
        _variant(LEARNED, {**learned, "positions": "learned"}),
        _variant("sketch-pca", {**trained, "count": budget["count"]}),
    )


def _grids(*, quick: bool) -> tuple[Grid, ...]:
    sizes = ((64, QUICK),) if quick else ((256, AT_256), (1024, AT_1024))
    grids = []
    baselines = (*RANDOM_SKETCHES, "scipy-tsvd")
    for n, budget in sizes:
        held_out = 3 if quick else (20 if n == 256 else 6)
        for family in TRAINED_ON:
            grids.append(
                Grid(
                    matrices=(family,),
                    methods=(*_sketches(family, n, budget), *baselines),
                    sizes=(n,),
                    ranks=(10,),
                    repeats=held_out,
                    timing_repeats=3,
                )
            )
        grids.append(
            Grid(  # out of the training distribution: the crop-trained sketches
                matrices=OTHER_FAMILIES,
                methods=(*_sketches("image-crops", n, budget), *baselines),
                sizes=(n,),
                ranks=(10,),
                repeats=1 if quick else (5 if n == 256 else 3),
                timing_repeats=3,
            )
        )
    return tuple(grids)


def sketch_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per family and method: the median excess (the verdict's, `ACCURACY["rank-k"]`) with its
    95% bootstrap interval over the held-out matrices, passes over A, training or fitting
    time (the learned and the data-driven sketches), and the median time per matrix."""
    ok = results[(results.kind == "rank-k") & (results.status == "ok")]
    if ok.empty or not (ok.method_base == LEARNED).any():
        return pd.DataFrame()
    rows = []
    for (matrix, n, method), group in ok.groupby(["matrix", "n", "method"], sort=True):
        excess = ACCURACY["rank-k"].measure(group).to_numpy(float)
        rows.append(
            {
                "matrix": matrix,
                "n": n,
                "method": method,
                "group": group.group.iloc[0],
                "excess [95% CI]": median_text(np.maximum(excess, 0.0)),
                "median_excess": float(np.median(excess)),
                "passes": group.passes.max(),
                "train_or_fit_s": group.train_time_s.iloc[0],
                "time_s": group.time_s.median(),
                "matrices": len(group),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(["matrix", "n", "median_excess"]).reset_index(drop=True)


def _best_of(table: pd.DataFrame, prefix: str) -> pd.Series | None:
    """The row of the lowest median excess among methods named `prefix` (or its variants)."""
    mine = table[(table.method == prefix) | table.method.str.startswith(prefix + "[")]
    return None if mine.empty else mine.sort_values("median_excess").iloc[0]


def headline(res: Results) -> list[str]:
    """One sentence per held-out family and n: the best learned sparse sketch (values, or
    values and positions) beside CountSketch, the data-driven sketch-pca and sketch-power, by
    median excess with its 95% interval and passes over A."""
    table = sketch_summary(res.results)
    if table.empty:
        return []
    words = []
    for (matrix, n), part in table.groupby(["matrix", "n"], sort=True):
        learned = _best_of(part, LEARNED)
        if learned is None:
            continue
        shown = [
            (f"the best learned sparse sketch ({learned.method})", learned),
            ("CountSketch", _best_of(part, "sketch-countsketch")),
            ("sketch-pca (its training data, one eigendecomposition, no gradient steps)",
             _best_of(part, "sketch-pca")),
            ("sketch-power", _best_of(part, "sketch-power")),
        ]  # fmt: skip
        clauses = [
            f"{label} {row['excess [95% CI]']} in {row.passes:g} passes"
            for label, row in shown
            if row is not None
        ]
        words.append(f"Sketches, {matrix}, n = {n}, median excess: " + "; ".join(clauses))
    return [w + "." for w in words]


TABLES = (
    TableSpec(
        name="sketch_summary",
        title="Learned sparse sketch beside random, data-driven and power-iterated sketches: "
        "excess, passes over A, training time",
        nav="Sketches",
        make=lambda res: sketch_summary(res.results),
        leading=True,
        note="excess = (rel_err - opt_err) / (1 - opt_err), as in the verdict (0: the truncated "
        "SVD, 1: the zero matrix), median over the held-out matrices [95% bootstrap "
        "interval]; train_or_fit_s: the learned sketch's "
        "training (Adam through QR and SVD) or sketch-pca's one eigendecomposition, both "
        "untimed in time_s.",
    ),
)


STUDY = Study(
    "learned-sketch",
    "learned sparse sketches (Indyk, Vakilian & Yuan): CountSketch's sparsity with learned "
    "values, and learned positions (Li et al.), trained once on photo crops or moving-window "
    "frames (n = 256 and 1,024), on held-out instances and two other families, beside "
    "CountSketch, Gaussian, data-driven (sketch-pca) and power-iterated sketches",
    grids=_grids(quick=False),
    quick=_grids(quick=True),
    tables=TABLES,
    headlines=(HeadlineSpec(name="learned_sketch_headline", make=headline),),
)
