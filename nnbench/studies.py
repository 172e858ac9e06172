"""Studies: named sets of grids that the CLI, the report and asv reuse."""

from __future__ import annotations

from dataclasses import dataclass

from nnbench.corpus.select import unknown_name_error
from nnbench.grid import Grid


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    grids: tuple[Grid, ...]
    quick: tuple[Grid, ...]  # the same question on small sizes/budgets, for CI and a first look


QUICK = Grid(
    matrices=("all",),
    methods=("classical", "neural-lu", "neural-lowrank"),
    sizes=(8, 32),
    ranks=(1, 5),
    dtypes=("float64", "float32"),
    repeats=2,
    timing_repeats=3,
)

STUDY_000_MATRICES = ("study000-a", "study000-b", "study000-c")
LU_SCALE_MATRICES = ("spd", "diag-dominant", "random-uniform", "random-gaussian", "needs-pivoting")
LOWRANK_002 = ("scipy-tsvd", "neural-lowrank-study", "neural-lowrank")
LOWRANK_002_IMAGES = ("scipy-tsvd", "neural-lowrank-study-image", "neural-lowrank")


def _study002(*, quick: bool) -> tuple[Grid, ...]:
    """Study 002's experiments; `quick` trains the images with the 10-epoch budget at n = 64."""
    images = (
        ("scipy-tsvd", "neural-lowrank-study", "neural-lowrank") if quick else (LOWRANK_002_IMAGES)
    )
    return (
        Grid(
            matrices=("identity", "diagonal-mn", "diagonal-mn0"),
            methods=LOWRANK_002,
            sizes=(50,),
            ranks=(20,),
            repeats=1 if quick else 3,
        ),
        Grid(
            matrices=("random-uniform", "symmetric"),
            methods=LOWRANK_002,
            sizes=(10,),
            ranks=tuple(range(1, 10)),
            repeats=2 if quick else 10,
        ),
        Grid(matrices=("image-logo",), methods=images, sizes=(64 if quick else 256,), ranks=(10,)),
        Grid(
            matrices=("image-camera",), methods=images, sizes=(64 if quick else 400,), ranks=(1, 10)
        ),
        Grid(
            matrices=("colour-wheel",),
            methods=("scipy-tsvd", "neural-lowrank-study-wheel", "neural-lowrank"),
            sizes=(10,),
            ranks=(5,),
            repeats=1 if quick else 3,
        ),
    )


STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            "quick",
            "every matrix family x classical methods, neural-lu and neural-lowrank at n = 8, 32 "
            "(the default study)",
            grids=(QUICK,),
            quick=(QUICK,),
        ),
        Study(
            "classical-scale",
            "classical LU/QR/SVD from n = 16 to 1024: time vs n and accuracy vs conditioning",
            grids=(
                Grid(
                    matrices=("random-gaussian", "spd", "randsvd", "image-camera"),
                    methods=("classical",),
                    sizes=(16, 32, 64, 128, 256, 512, 1024),
                    ranks=(10,),
                    dtypes=("float64", "float32"),
                    repeats=3,
                ),
            ),
            quick=(
                Grid(
                    matrices=("random-gaussian", "spd"),
                    methods=("classical",),
                    sizes=(16, 64, 256),
                    ranks=(10,),
                    timing_repeats=3,
                ),
            ),
        ),
        Study(
            "study002-reproduce",
            "study 002 re-run: identity/M_50 k=20, random and symmetric 10x10 k=1..9 over 10 "
            "matrices, logo 256 k=10, photo 400 k=1,10, colour wheel k=5; study config, ours "
            "and the truncated SVD",
            grids=_study002(quick=False),
            quick=_study002(quick=True),
        ),
        Study(
            "study000-reproduce",
            "study 000 re-run: its three 2x2 matrices x 10 seeds, the Appendix A configuration "
            "(float32, as torch.Tensor) beside ours (float64)",
            grids=(
                Grid(
                    matrices=STUDY_000_MATRICES,
                    methods=("neural-lu-study",),
                    dtypes=("float32",),
                    repeats=10,
                ),
                Grid(matrices=STUDY_000_MATRICES, methods=("neural-lu", "doolittle"), repeats=10),
            ),
            quick=(
                Grid(
                    matrices=STUDY_000_MATRICES,
                    methods=("neural-lu-study",),
                    dtypes=("float32",),
                    repeats=2,
                ),
                Grid(matrices=STUDY_000_MATRICES, methods=("neural-lu", "doolittle"), repeats=2),
            ),
        ),
        Study(
            "lu-scale",
            "neural LU from n = 2 to 256 over SPD, diagonally dominant, random uniform and "
            "Gaussian and needs-pivoting matrices, float32 and float64, 5 seeds",
            grids=(
                Grid(
                    matrices=LU_SCALE_MATRICES,
                    methods=("neural-lu", "scipy-lu"),
                    sizes=(2, 4, 8, 16, 32, 64, 128, 256),
                    dtypes=("float64", "float32"),
                    repeats=5,
                    timing_repeats=1,
                ),
            ),
            quick=(
                Grid(
                    matrices=LU_SCALE_MATRICES,
                    methods=("neural-lu", "scipy-lu"),
                    sizes=(2, 8, 32),
                    repeats=2,
                    timing_repeats=1,
                ),
            ),
        ),
        Study(
            "study001-alphabet",
            "study 001's alphabet matrix (900x26): singular values, rank-r reconstructions, "
            "neural vs SVD",
            grids=(
                Grid(matrices=("alphabet",), methods=LOWRANK_002, ranks=(1, 2, 3, 5, 10, 20, 26)),
            ),
            quick=(
                Grid(
                    matrices=("alphabet",), methods=("scipy-tsvd", "neural-lowrank"), ranks=(1, 5)
                ),
            ),
        ),
        Study(
            "lowrank-scale",
            "neural-lowrank vs truncated SVD, n up to 1024, k in {1,5,10,20,50}, every "
            "family, float32 and float64, 3 seeds",
            grids=(
                Grid(
                    matrices=("all",),
                    methods=("scipy-tsvd", "neural-lowrank"),
                    sizes=(64, 128, 256, 512, 1024),
                    ranks=(1, 5, 10, 20, 50),
                    dtypes=("float64", "float32"),
                    repeats=3,
                    timing_repeats=1,
                ),
            ),
            quick=(
                Grid(
                    matrices=("tag:square+!needs_pivoting",),
                    methods=("scipy-tsvd", "neural-lowrank"),
                    sizes=(32, 64),
                    ranks=(1, 5, 10),
                    dtypes=("float64", "float32"),
                    timing_repeats=1,
                ),
            ),
        ),
    )
}


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise unknown_name_error("study", name, list(STUDIES), "studies")
    return STUDIES[name]
