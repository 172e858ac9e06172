"""The fair comparison: every group's methods with their budgets swept, so that each gives an
error-vs-time front and a least time to each accuracy (the report's verdict, time-to-accuracy
and fronts come from these cells); on this CPU, larger on the CPU, and on a CUDA GPU."""

from __future__ import annotations

from nnbench.running.grid import Grid
from nnbench.studies.competitors import RANK_K
from nnbench.studies.study import Study

FAIR_RANK_K = (
    *RANK_K,
    "torch-tsvd",
    *(f"torch-rsvd[niter={q}]" for q in (8, 16)),
    "scipy-svds-lobpcg",
    *(f"hybrid-lowrank-als[max_steps={s}]" for s in (1, 2, 4, 8, 16, 64)),
    "hybrid-lowrank-scaledgd",
    *(f"neural-lowrank-adam[max_steps={s}]" for s in (100, 300, 1000, 3000)),
    *(f"neural-lowrank-lbfgs[max_steps={s}]" for s in (200, 1000, 4000)),
)
FAIR_LU = (
    "scipy-lu",
    "torch-lu",
    "doolittle",
    "scipy-cholesky",
    "torch-cholesky",
    *(f"hybrid-lu-newton[steps={s}]" for s in (1, 2, 3, 50)),
    *(f"neural-lu-adam[steps={s}]" for s in (300, 1000, 5000)),
    *(f"neural-lu-convex[max_steps={s}]" for s in (1, 3, 10, 500)),
)
FAIR_BATCH_LU = (
    "torch-lu",
    "torch-cholesky",
    *(f"hybrid-lu-newton[steps={s}]" for s in (1, 2, 3, 50)),
    *(f"neural-lu-adam[steps={s}]" for s in (300, 1000)),
)
FAIR_QR = ("scipy-qr", "torch-qr", "gram-schmidt", "gram-schmidt-modified")
FAIR_RANK_K_MATRICES = ("random-gaussian", "image-camera", "randsvd", "lowrank-noise")
FAIR_LU_MATRICES = ("random-gaussian", "spd", "diag-dominant")


def _fair(
    *,
    rank_k_sizes: tuple[int, ...],
    lu_sizes: tuple[int, ...],
    ranks: tuple[int, ...],
    batch_sizes: tuple[int, ...] = (2, 8),
    batches: tuple[int, ...] = (1000,),
    dtypes: tuple[str, ...] = ("float64",),
    devices: tuple[str, ...] = ("cpu",),
    repeats: int = 2,
    runs: int = 3,
    rank_k_matrices: tuple[str, ...] = FAIR_RANK_K_MATRICES,
    rank_k_methods: tuple[str, ...] = FAIR_RANK_K,
    lu_methods: tuple[str, ...] = FAIR_LU,
    batch_methods: tuple[str, ...] = FAIR_BATCH_LU,
) -> tuple[Grid, ...]:
    """The fair grids; `runs` independent repetitions of each (the verdict's intervals
    resample them)."""
    base = Grid(dtypes=dtypes, devices=devices, repeats=repeats, runs=runs, timing_repeats=3)
    return (
        base.replace(
            matrices=rank_k_matrices, methods=rank_k_methods, sizes=rank_k_sizes, ranks=ranks
        ),
        base.replace(matrices=FAIR_LU_MATRICES, methods=lu_methods, sizes=lu_sizes),
        base.replace(matrices=("random-gaussian", "randsvd"), methods=FAIR_QR, sizes=rank_k_sizes),
        base.replace(
            matrices=("random-gaussian", "spd"),
            methods=batch_methods,
            sizes=batch_sizes,
            batches=batches,
            repeats=1,
        ),
    )


QUICK_BUDGETS = (
    "max_steps=1000",
    "max_steps=3000",
    "max_steps=4000",
    "steps=1000",
    "steps=5000",
    "max_steps=500",
)
"""Budgets the quick variant leaves out: two budgets a method still draw its front, and the
quick variant (what the tests run) stays under 20 s."""


def _quick(methods: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(m for m in methods if not m.endswith(tuple(f"[{b}]" for b in QUICK_BUDGETS)))


QUICK = _fair(
    rank_k_sizes=(64,),
    lu_sizes=(16,),
    ranks=(5,),
    batches=(100,),
    repeats=1,
    runs=1,
    rank_k_methods=_quick(FAIR_RANK_K),
    lu_methods=_quick(FAIR_LU),
    batch_methods=_quick(FAIR_BATCH_LU),
)
FAIR_GPU_RANK_K = (  # the fair sweep at budgets a few minutes of one GPU can run
    *(m for m in FAIR_RANK_K if not m.startswith(("neural-", "hybrid-lowrank-als"))),
    *(f"hybrid-lowrank-als[max_steps={s}]" for s in (1, 4, 16, 64)),
    *(f"neural-lowrank-adam[max_steps={s}]" for s in (300, 3000)),
    *(f"neural-lowrank-lbfgs[max_steps={s}]" for s in (200, 1000)),
)
FAIR_GPU_LU = (
    *(m for m in FAIR_LU if not m.startswith("neural-")),
    *(f"neural-lu-adam[steps={s}]" for s in (300, 1000)),
    *(f"neural-lu-convex[max_steps={s}]" for s in (3, 100)),
)

FAIR_QUICK = Study(
    "fair-quick",
    "the fair comparison on this CPU: rank-k (n = 64, 256; k = 5, 20), LU (n = 16, 64), "
    "QR, and stacks of 1000 2x2 / 8x8 LUs, every group with its budgets swept: fronts, "
    "time to accuracy, verdict",
    grids=_fair(rank_k_sizes=(64, 256), lu_sizes=(16, 64), ranks=(5, 20)),
    quick=QUICK,
)

FAIR = Study(
    "fair",
    "the fair comparison at larger sizes on the CPU: rank-k n = 128..1024, LU "
    "n = 16..256, float64 and float32",
    grids=_fair(
        rank_k_sizes=(128, 512, 1024),
        lu_sizes=(16, 64, 256),
        ranks=(5, 20, 50),
        dtypes=("float64", "float32"),
        batch_sizes=(2, 8, 32),
        batches=(1000, 10_000),
    ),
    quick=QUICK,
)

FAIR_GPU = Study(
    "fair-gpu",
    "the fair comparison on a CUDA GPU, sized for a few minutes of a lent H100/H200 "
    "(`bash reports/gpu.sh`): rank-k n = 1024, 4096 (k = 10, 100) on randsvd and "
    "low-rank-plus-noise, LU n = 256, 1024, stacks of 10,000 8x8 / 32x32 LUs, float32 and "
    "float64, 3 runs (scipy's CPU-only methods give skipped rows)",
    grids=_fair(
        rank_k_sizes=(1024, 4096),
        lu_sizes=(256, 1024),
        ranks=(10, 100),
        dtypes=("float32", "float64"),
        devices=("cuda",),
        batch_sizes=(8, 32),
        batches=(10_000,),
        repeats=1,
        rank_k_matrices=("randsvd", "lowrank-noise"),
        rank_k_methods=FAIR_GPU_RANK_K,
        lu_methods=FAIR_GPU_LU,
    ),
    quick=QUICK,
)
