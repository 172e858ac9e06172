"""The default study: every matrix family under the classical methods and the two hybrids,
at small sizes: a first look at everything, in about a minute."""

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

STUDY = Study(
    "quick",
    "every matrix family x classical methods, hybrid-lu-newton and hybrid-lowrank-als at "
    "n = 8, 32 (the default study)",
    grids=(QUICK,),
    quick=(QUICK,),
)
