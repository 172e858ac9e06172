"""Scale: time, memory and accuracy against n for every LU, QR, SVD and rank-k method on a
CUDA GPU, the classical methods from n = 16 to 1024, neural LU from n = 2 to 256 (and the
pivot-sign barrier), and the hybrid rank-k method against the truncated SVD up to n = 1024."""

from __future__ import annotations

from nnbench.running.grid import Grid
from nnbench.studies.competitors import RANK_K, RANK_K_QUICK
from nnbench.studies.study import Study

LU_BARRIER = (  # the pivot-sign barrier: ours without the convex start and without pivoting
    "hybrid-lu-newton[init=identity]",
    "hybrid-lu-newton[init=identity,pivot=false]",
    "hybrid-lu-newton[optimizer=als,init=identity,steps=200,patience=10]",
    "hybrid-lu-newton[pivot=false]",
)
LU_SCALE_MATRICES = ("spd", "diag-dominant", "random-uniform", "random-gaussian", "needs-pivoting")

GPU_SCALE_METHODS = (  # every LU, QR, SVD and rank-k method, each group, at budgets that fit
    "classical",  # scipy's and the textbook loops run on the CPU: skipped rows on cuda
    "hybrid-lu-newton",
    "hybrid-lowrank-als",
    "hybrid-lowrank-scaledgd",
    "neural-lu-adam[steps=300]",
    "neural-lowrank-adam[max_steps=300]",
    "neural-lowrank-lbfgs[max_steps=50]",
)
GPU_SCALE = Grid(
    matrices=("random-gaussian", "spd"),
    methods=GPU_SCALE_METHODS,
    sizes=(1024, 4096),
    ranks=(10,),
    dtypes=("float32", "float64", "tf32"),
    devices=("cuda",),
    repeats=2,
    timing_repeats=3,
)


GPU_SCALE_STUDY = Study(
    "gpu-scale",
    "time, peak device memory and accuracy at n = 1024 and 4096 on a CUDA GPU for "
    "every LU, QR, SVD and rank-k method (each group; trained ones at short budgets), "
    "float32, float64 and TF32, 2 instances, sized for a few minutes of a lent GPU "
    "(`bash reports/gpu.sh`; --sizes 256,1024,4096,8192 for the whole range); --quick: "
    "n = 32, 64 on the CPU",
    grids=(GPU_SCALE,),
    quick=(
        GPU_SCALE.replace(
            sizes=(32, 64), ranks=(5,), devices=("cpu",), repeats=1, timing_repeats=1
        ),
    ),
)

CLASSICAL_SCALE = Study(
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
)

LU_SCALE = Study(
    "lu-scale",
    "neural LU from n = 2 to 256 over SPD, diagonally dominant, random uniform and "
    "Gaussian and needs-pivoting matrices, float32 and float64, 5 seeds; and the "
    "pivot-sign barrier (identity start, no pivoting, alternating least squares)",
    grids=(
        Grid(
            matrices=LU_SCALE_MATRICES,
            methods=("hybrid-lu-newton", "scipy-lu"),
            sizes=(2, 4, 8, 16, 32, 64, 128, 256),
            dtypes=("float64", "float32"),
            repeats=5,
            timing_repeats=1,
        ),
        Grid(
            matrices=("random-gaussian", "spd"),
            methods=LU_BARRIER,
            sizes=(2, 8, 32, 128),
            repeats=3,
            timing_repeats=1,
        ),
    ),
    quick=(
        Grid(
            matrices=LU_SCALE_MATRICES,
            methods=("hybrid-lu-newton", "scipy-lu"),
            sizes=(2, 8, 32),
            repeats=2,
            timing_repeats=1,
        ),
    ),
)

LOWRANK_SCALE = Study(
    "lowrank-scale",
    "hybrid-lowrank-als vs truncated SVD, n up to 1024, k in {1,5,10,20,50}, every "
    "family, float32 and float64, 3 seeds",
    grids=(
        Grid(
            matrices=("all",),
            methods=(*RANK_K, "hybrid-lowrank-als"),
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
            methods=(*RANK_K_QUICK, "hybrid-lowrank-als"),
            sizes=(32, 64),
            ranks=(5,),
            dtypes=("float64", "float32"),
            timing_repeats=1,
        ),
    ),
)
