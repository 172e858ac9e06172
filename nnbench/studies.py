"""Studies: named grids that the CLI, the report and asv reuse."""

from __future__ import annotations

from dataclasses import dataclass

from nnbench.corpus.select import unknown_name_error
from nnbench.grid import Grid


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    grid: Grid
    quick: Grid  # the same question on small sizes, for CI and a first look


QUICK = Grid(
    matrices=("all",),
    methods=("all",),
    sizes=(8, 32),
    ranks=(1, 5),
    dtypes=("float64", "float32"),
    repeats=2,
    timing_repeats=3,
)

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            "quick",
            "every matrix family x every method at n = 8, 32 (the default study)",
            grid=QUICK,
            quick=QUICK,
        ),
        Study(
            "classical-scale",
            "classical LU/QR/SVD from n = 16 to 1024: time vs n and accuracy vs conditioning",
            grid=Grid(
                matrices=("random-gaussian", "spd", "randsvd", "image-camera"),
                methods=("classical",),
                sizes=(16, 32, 64, 128, 256, 512, 1024),
                ranks=(10,),
                dtypes=("float64", "float32"),
                repeats=3,
            ),
            quick=Grid(
                matrices=("random-gaussian", "spd"),
                methods=("classical",),
                sizes=(16, 64, 256),
                ranks=(10,),
                repeats=1,
                timing_repeats=3,
            ),
        ),
    )
}


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise unknown_name_error("study", name, list(STUDIES), "studies")
    return STUDIES[name]
