"""The default study: every matrix family under the classical methods and the two hybrids,
and gradient-only methods for LU and for rank-k on the families made for them, at small
sizes: a first look at everything, in a few minutes. (QR and SVD have no network in the suite
yet.)"""

from __future__ import annotations

from nnbench.running.grid import Grid
from nnbench.studies.study import Study

QUICK = Grid(
    matrices=("all",),
    methods=("classical", "hybrid-lu-newton", "hybrid-lowrank-als"),
    sizes=(8, 32),
    ranks=(1, 5),
    dtypes=("float64", "float32"),
    repeats=2,
    timing_repeats=3,
)
NEURAL_LU = QUICK.replace(  # no pivoting: the convex loss has its minimum at L^-1
    matrices=("diag-dominant", "spd", "diffusion-2d"),
    methods=("neural-lu-convex[max_steps=100]", "scipy-lu", "torch-lu", "hybrid-lu-newton"),
)
NEURAL_RANK_K = QUICK.replace(
    matrices=("lowrank-noise", "randsvd", "image-camera", "random-gaussian"),
    methods=("neural-lowrank-lbfgs[max_steps=40]", "scipy-tsvd", "scipy-svds-propack"),
)

STUDY = Study(
    "quick",
    "every matrix family x classical methods, hybrid-lu-newton and hybrid-lowrank-als, and "
    "neural-lu-convex / neural-lowrank-lbfgs on families made for them, at n = 8, 32 (the "
    "default study)",
    grids=(QUICK, NEURAL_LU, NEURAL_RANK_K),
    quick=(QUICK, NEURAL_LU, NEURAL_RANK_K),
)
