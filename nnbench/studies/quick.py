"""The default study: every matrix family under the classical methods and the two hybrids,
and gradient-only methods for LU and for rank-k on the families made for them, at small
sizes (no side over 64) in float64: a first verdict in about a minute. `survey` asks the
same in float32 too, and of the 900-row alphabet.
(QR and SVD have no network in the suite yet.)"""

from __future__ import annotations

from nnbench.running.grid import Grid
from nnbench.studies.study import Study

QUICK = Grid(
    matrices=("all",),
    methods=("classical", "hybrid-lu-newton", "hybrid-lowrank-als"),
    sizes=(8, 32),
    ranks=(1, 5),
    dtypes=("float64",),
    repeats=2,
    timing_repeats=3,
    max_size=64,  # not the 900-row alphabet: its sketch-pca basis alone took 20 s to fit
)
NEURAL_LU = QUICK.replace(  # no pivoting: the convex loss has its minimum at L^-1
    matrices=("diag-dominant", "spd", "diffusion-2d"),
    methods=("neural-lu-convex[max_steps=100]", "scipy-lu", "torch-lu", "hybrid-lu-newton"),
)
NEURAL_RANK_K = QUICK.replace(
    matrices=("lowrank-noise", "randsvd", "image-camera", "random-gaussian"),
    methods=("neural-lowrank-lbfgs[max_steps=40]", "scipy-tsvd", "scipy-svds-propack"),
)
BOTH_PRECISIONS = ("float64", "float32")

STUDY = Study(
    "quick",
    "every matrix family x classical methods, hybrid-lu-newton and hybrid-lowrank-als, and "
    "neural-lu-convex / neural-lowrank-lbfgs on families made for them, at n = 8, 32, float64 "
    "(the default study; survey adds float32)",
    grids=(QUICK, NEURAL_LU, NEURAL_RANK_K),
    quick=(QUICK, NEURAL_LU, NEURAL_RANK_K),
)
SURVEY_GRIDS = tuple(grid.replace(dtypes=BOTH_PRECISIONS, max_size=None) for grid in STUDY.grids)
SURVEY = Study(
    "survey",
    "the quick study in float64 and float32, the 900-row alphabet included: every matrix "
    "family x classical methods and the two hybrids, the gradient-only methods on families "
    "made for them, at n = 8, 32",
    grids=SURVEY_GRIDS,
    quick=tuple(  # what the quick study has not: float32, at one size
        grid.replace(dtypes=("float32",), sizes=(8,), repeats=1) for grid in STUDY.grids
    ),
)
