"""Studies: named sets of grids that the CLI, the report and asv reuse."""

from __future__ import annotations

from dataclasses import dataclass

from nnbench.corpus.examples import WORKED_EXAMPLES
from nnbench.running.grid import Grid
from nnbench.selection import unknown_name_error


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    grids: tuple[Grid, ...]
    quick: tuple[Grid, ...]  # the same question on small sizes/budgets, for CI and a first look


QUICK = Grid(
    matrices=("all",),
    methods=("classical", "hybrid-lu-newton", "hybrid-lowrank-als"),
    sizes=(8, 32),
    ranks=(1, 5),
    dtypes=("float64", "float32"),
    repeats=2,
    timing_repeats=3,
)

WORKED = Grid(
    matrices=tuple(WORKED_EXAMPLES),
    methods=("classical", "hybrid-lu-newton"),
    ranks=(1,),
    timing_repeats=1,
)

STUDY_000_MATRICES = ("study000-a", "study000-b", "study000-c")
STUDY_000_CONFIGS = ("neural-lu-study-final", "neural-lu-study-appendix")
STUDY_000_OURS = ("hybrid-lu-newton", "hybrid-lu-newton[pivot=false]", "doolittle")
LU_BARRIER = (  # the pivot-sign barrier: ours without the convex start and without pivoting
    "hybrid-lu-newton[init=identity]",
    "hybrid-lu-newton[init=identity,pivot=false]",
    "hybrid-lu-newton[optimizer=als,init=identity,steps=200,patience=10]",
    "hybrid-lu-newton[pivot=false]",
)
LU_SCALE_MATRICES = ("spd", "diag-dominant", "random-uniform", "random-gaussian", "needs-pivoting")
LOWRANK_002 = ("scipy-tsvd", "neural-lowrank-study", "hybrid-lowrank-als")


STUDY_000_OPTIMIZERS = ("sgd", "asgd", "rprop", "rmsprop", "adagrad", "adam")
STUDY_000_BEST_LR = {"sgd": 0.01, "asgd": 0.01, "rprop": 0.01, "rmsprop": 0.01, "adagrad": 0.1}


def study_variant(**options: object) -> str:
    """`neural-lu-study-final[k=v,...]`: the study's final configuration, options changed."""
    return "neural-lu-study-final[" + ",".join(f"{k}={v}" for k, v in options.items()) + "]"


def _study000_sensitivity(*, steps: int, repeats: int) -> tuple[Grid, ...]:
    """Study 000's sensitivity study on [[10,20],[30,40]] (float32, as the study's Tensor):
    data_size for SGD and Adam; optimizer x lr {0.1, 0.01, 0.001}, plus seed 001's rule for the
    SGD variants; the three inits per optimizer at its best lr from the study's text (SGD/ASGD
    0.01, Rprop and RMSprop 0.01, Adagrad and Adam 0.1); Rprop then Adam below 1e-1 / 1e-2."""
    best = STUDY_000_BEST_LR | {"adam": 0.1}
    methods = [
        *(
            study_variant(optimizer=opt, lr=lr, steps=steps)
            for opt in STUDY_000_OPTIMIZERS
            for lr in (0.1, 0.01, 0.001)
        ),
        *(
            study_variant(optimizer=opt, lr=rule, steps=steps)
            for opt in ("sgd", "asgd")
            for rule in ("auto", "auto-final")
        ),
        *(
            study_variant(optimizer=opt, lr=best[opt], data_size=size, steps=steps)
            for opt in ("sgd", "adam")
            for size in (1, 2, 10, 100, 1000)
        ),
        *(
            study_variant(optimizer=opt, lr=best[opt], init=init, steps=steps)
            for opt in STUDY_000_OPTIMIZERS
            for init in ("default", "mean", "identity")
        ),
        *(
            study_variant(
                optimizer="rprop", lr=0.01, switch_to="adam", switch_below=below, steps=steps
            )
            for below in (0.1, 0.01)
        ),
    ]
    return (
        Grid(
            matrices=("study000-a",),
            methods=tuple(methods),
            dtypes=("float32",),
            repeats=repeats,
        ),
    )


STUDY_002_NO_BIAS = "neural-lowrank-study[bias=false]"
STUDY_002_FUNNEL = "neural-lowrank-study[architecture=funnel]"


@dataclass(frozen=True)
class Hypothesis:
    """One change from study 002's configuration on its photo at k = 10, n = 400: why did
    the study's network fail where our re-run of it does not?"""

    change: str
    matrix: str
    method: str
    dtype: str = "float64"


PHOTO_N, PHOTO_RANK = 400, 10
_IMAGE = "neural-lowrank-study-image"
PHOTO_HYPOTHESES: tuple[Hypothesis, ...] = (
    Hypothesis("none (study configuration)", "image-camera", _IMAGE),
    Hypothesis("biases off", "image-camera", f"{_IMAGE}[bias=false]"),
    Hypothesis("float32 (Keras' default)", "image-camera", _IMAGE, "float32"),
    Hypothesis("pixels 0..255 (not divided by 255)", "image-camera-255", _IMAGE),
    Hypothesis(
        "its 10,000 x 10-epoch budget (Section 5.3)", "image-camera", "neural-lowrank-study"
    ),
)


def _study002(*, quick: bool) -> tuple[Grid, ...]:
    """Study 002's experiments, its configuration with biases on (Keras' default) and off, the
    hypotheses for its failed rank-10 photo, and the funnel architectures it tried; `quick`
    trains the images with the 10-epoch budget at n = 64 and runs fewer seeds."""
    image = "neural-lowrank-study" if quick else "neural-lowrank-study-image"
    image_n, photo_n = (64, 64) if quick else (256, PHOTO_N)
    both = ("scipy-tsvd", "neural-lowrank-study", STUDY_002_NO_BIAS, "hybrid-lowrank-als")
    hypotheses = PHOTO_HYPOTHESES[-1:] if quick else PHOTO_HYPOTHESES[1:]
    return (
        Grid(
            matrices=("identity", "diagonal-mn", "diagonal-mn0"),
            methods=both,
            sizes=(50,),
            ranks=(20,),
            repeats=1 if quick else 3,
        ),
        Grid(
            matrices=("random-uniform", "symmetric"),
            methods=both,
            sizes=(10,),
            ranks=(1, 5) if quick else tuple(range(1, 10)),
            repeats=2 if quick else 10,
        ),
        Grid(
            matrices=("image-logo",),
            methods=("scipy-tsvd", image, f"{image}[bias=false]", "hybrid-lowrank-als"),
            sizes=(image_n,),
            ranks=(10,),
        ),
        Grid(
            matrices=("image-camera",),
            methods=("scipy-tsvd", image, "hybrid-lowrank-als"),
            sizes=(photo_n,),
            ranks=(1, 10),
        ),
        *(
            Grid(
                matrices=(h.matrix,),
                methods=(h.method, "scipy-tsvd"),
                sizes=(photo_n,),
                ranks=(PHOTO_RANK,),
                dtypes=(h.dtype,),
            )
            for h in hypotheses
        ),
        Grid(
            matrices=("colour-wheel",),
            methods=(
                "scipy-tsvd",
                "neural-lowrank-study-wheel",
                "neural-lowrank-study-wheel[bias=false]",
                "hybrid-lowrank-als",
            ),
            sizes=(10,),
            ranks=(5,),
            repeats=1 if quick else 3,
        ),
        Grid(  # "powers of 2 ... often made all of the approximations rank 1" (Section 4)
            matrices=("random-uniform",),
            methods=("neural-lowrank-study", STUDY_002_FUNNEL),
            sizes=(16,) if quick else (16, 64),
            ranks=(4,) if quick else (2, 4, 8),
            repeats=2 if quick else 10,
        ),
    )


# The fair comparison (README: "Fair comparison"): every group's methods with their budgets
# swept, so that each gives an error-vs-time front and a least time to each accuracy.
FAIR_RANK_K = (
    "scipy-tsvd",
    "torch-tsvd",
    *(f"torch-rsvd[niter={q}]" for q in (0, 1, 2, 4, 8, 16)),
    *(f"scipy-svds-arpack[tol={t}]" for t in (1e-2, 1e-6, 0)),
    "scipy-svds-propack",
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
) -> tuple[Grid, ...]:
    base = Grid(dtypes=dtypes, devices=devices, repeats=repeats, timing_repeats=3)
    return (
        base.replace(
            matrices=FAIR_RANK_K_MATRICES, methods=FAIR_RANK_K, sizes=rank_k_sizes, ranks=ranks
        ),
        base.replace(matrices=FAIR_LU_MATRICES, methods=FAIR_LU, sizes=lu_sizes),
        base.replace(matrices=("random-gaussian", "randsvd"), methods=FAIR_QR, sizes=rank_k_sizes),
        base.replace(
            matrices=("random-gaussian", "spd"),
            methods=FAIR_BATCH_LU,
            sizes=batch_sizes,
            batches=batches,
            repeats=1,
        ),
    )


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
    sizes=(256, 1024, 4096, 8192),
    ranks=(10,),
    dtypes=("float32", "float64", "tf32"),
    devices=("cuda",),
    repeats=3,
    timing_repeats=3,
)


def _amortized(*, quick: bool) -> tuple[Grid, ...]:
    """Amortized LU and Cholesky (trained on diagonally dominant / SPD 8x8 matrices) on
    held-out matrices of their own family and of others, in stacks, beside the batched
    library factorizations; quick: short trainings (500 steps) and stacks of 100."""
    budget = "[steps=500]" if quick else ""
    methods = (
        f"amortized-lu{budget}",
        f"amortized-lu[{'steps=500,' if quick else ''}refine=20]",
        f"amortized-cholesky{budget}",
        "torch-lu",
        "torch-cholesky",
    )
    return (
        Grid(
            matrices=("diag-dominant", "spd", "random-gaussian", "random-uniform"),
            methods=methods,
            sizes=(8,),
            batches=(100,) if quick else (1000, 10_000),
            dtypes=("float32",),
            repeats=1 if quick else 3,
            timing_repeats=3,
        ),
    )


def _amortized_sketch(*, quick: bool) -> tuple[Grid, ...]:
    """A sketch learned on photo crops against random sketches of the same size (m = 20) and
    the truncated SVD, at k = 10 on held-out crops and on other families."""
    learned = "amortized-sketch[steps=150,count=64]" if quick else "amortized-sketch"
    return (
        Grid(
            matrices=("image-crops", "lowrank-noise", "randsvd", "random-gaussian"),
            methods=(learned, "sketch-gaussian", "sketch-countsketch", "scipy-tsvd", "torch-rsvd"),
            sizes=(64,),
            ranks=(10,),
            dtypes=("float32",),
            repeats=3 if quick else 20,
            timing_repeats=3,
        ),
    )


def _amortized_precond(*, quick: bool) -> tuple[Grid, ...]:
    """A learned preconditioner (trained on 8 x 8 grid Laplacians, n = 64) on held-out grid
    Laplacians of that size and larger, and on dense SPD matrices, beside none, Jacobi and
    IC(0), scored by CG iterations."""
    learned = "amortized-ic[steps=200,count=64]" if quick else "amortized-ic"
    return (
        Grid(
            matrices=("grid-laplacian", "spd"),
            methods=(learned, "cg-none", "cg-jacobi", "ic0"),
            sizes=(64,) if quick else (64, 256, 1024),
            repeats=2 if quick else 10,
            timing_repeats=3,
        ),
    )


STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            "quick",
            "every matrix family x classical methods, hybrid-lu-newton and hybrid-lowrank-als "
            "at n = 8, 32 (the default study)",
            grids=(QUICK,),
            quick=(QUICK,),
        ),
        Study(
            "worked-examples",
            "the studies' worked examples (studies 000, 003, 004) under every classical LU, QR "
            "and SVD and hybrid-lu-newton: the known answers of the reproduction table",
            grids=(WORKED,),
            quick=(WORKED,),
        ),
        Study(
            "fair-quick",
            "the fair comparison on this CPU: rank-k (n = 64, 256; k = 5, 20), LU (n = 16, 64), "
            "QR, and stacks of 1000 2x2 / 8x8 LUs, every group with its budgets swept: fronts, "
            "time to accuracy, verdict",
            grids=_fair(rank_k_sizes=(64, 256), lu_sizes=(16, 64), ranks=(5, 20)),
            quick=_fair(rank_k_sizes=(64,), lu_sizes=(16,), ranks=(5,), batches=(100,), repeats=1),
        ),
        Study(
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
            quick=_fair(rank_k_sizes=(64,), lu_sizes=(16,), ranks=(5,), batches=(100,), repeats=1),
        ),
        Study(
            "fair-gpu",
            "the fair comparison on a CUDA GPU: rank-k n = 1024..8192 (k = 10, 100), LU "
            "n = 256..1024, float32 and float64 (scipy's CPU-only methods give skipped rows)",
            grids=_fair(
                rank_k_sizes=(1024, 4096, 8192),
                lu_sizes=(256, 1024),
                ranks=(10, 100),
                dtypes=("float32", "float64"),
                devices=("cuda",),
                batch_sizes=(2, 8, 32, 128),
                batches=(100, 10_000),
            ),
            quick=_fair(rank_k_sizes=(64,), lu_sizes=(16,), ranks=(5,), batches=(100,), repeats=1),
        ),
        Study(
            "gpu-scale",
            "time, peak device memory and accuracy against n = 256 .. 8192 on a CUDA GPU for "
            "every LU, QR, SVD and rank-k method (each group; trained ones at short budgets), "
            "float32, float64 and TF32, 3 instances; --quick: n = 32, 64 on the CPU",
            grids=(GPU_SCALE,),
            quick=(
                GPU_SCALE.replace(
                    sizes=(32, 64), ranks=(5,), devices=("cpu",), repeats=1, timing_repeats=1
                ),
            ),
        ),
        Study(
            "amortized-lu",
            "amortized LU and Cholesky: networks trained once on 8x8 diagonally dominant / SPD "
            "matrices, applied to held-out stacks of those and of other families beside batched "
            "torch-lu / torch-cholesky: generalization, throughput, break-even",
            grids=_amortized(quick=False),
            quick=_amortized(quick=True),
        ),
        Study(
            "amortized-sketch",
            "a learned sketch for rank-k (Indyk, Vakilian & Yuan): a 20 x 64 S trained once on "
            "photo crops, on held-out crops and other families beside Gaussian and CountSketch "
            "sketches of the same size and the truncated SVD (k = 10)",
            grids=_amortized_sketch(quick=False),
            quick=_amortized_sketch(quick=True),
        ),
        Study(
            "amortized-precond",
            "a NeuralIF-style preconditioner: L on the pattern of tril(A) learned once on "
            "weighted 8 x 8 grid Laplacians, on held-out grid Laplacians with n = 64 .. 1024 "
            "and on dense SPD matrices, beside no preconditioner, Jacobi and IC(0): CG "
            "iterations and build time",
            grids=_amortized_precond(quick=False),
            quick=_amortized_precond(quick=True),
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
            "matrices, logo 256 k=10, photo 400 k=1,10, colour wheel k=5; the study config "
            "with biases on and off, ours and the truncated SVD; four hypotheses for the failed "
            "rank-10 photo; funnel architectures over 10 seeds",
            grids=_study002(quick=False),
            quick=_study002(quick=True),
        ),
        Study(
            "study000-reproduce",
            "study 000 re-run: its three 2x2 matrices x 10 seeds, its final configuration "
            "(Adam 0.1) and Appendix A's printed one (SGD 0.001), float32 as torch.Tensor, "
            "beside ours (float64, with and without pivoting)",
            grids=(
                Grid(
                    matrices=STUDY_000_MATRICES,
                    methods=STUDY_000_CONFIGS,
                    dtypes=("float32",),
                    repeats=10,
                ),
                Grid(matrices=STUDY_000_MATRICES, methods=STUDY_000_OURS, repeats=10),
            ),
            quick=(
                Grid(
                    matrices=STUDY_000_MATRICES,
                    methods=STUDY_000_CONFIGS,
                    dtypes=("float32",),
                    repeats=2,
                ),
                Grid(matrices=STUDY_000_MATRICES, methods=STUDY_000_OURS, repeats=2),
            ),
        ),
        Study(
            "study000-sensitivity",
            "study 000's sensitivity study on [[10,20],[30,40]]: data_size for SGD and Adam, "
            "optimizer x learning rate (with seed 001's 1/lambda_max), initial weights, "
            "Rprop then Adam; 5000 steps, 5 seeds",
            grids=_study000_sensitivity(steps=5000, repeats=5),
            quick=_study000_sensitivity(steps=300, repeats=1),
        ),
        Study(
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
                    matrices=("alphabet",),
                    methods=("scipy-tsvd", "hybrid-lowrank-als"),
                    ranks=(1, 5),
                ),
            ),
        ),
        Study(
            "lowrank-scale",
            "hybrid-lowrank-als vs truncated SVD, n up to 1024, k in {1,5,10,20,50}, every "
            "family, float32 and float64, 3 seeds",
            grids=(
                Grid(
                    matrices=("all",),
                    methods=("scipy-tsvd", "hybrid-lowrank-als"),
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
                    methods=("scipy-tsvd", "hybrid-lowrank-als"),
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
