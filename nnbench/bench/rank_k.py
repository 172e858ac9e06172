"""`nnbench bench lowrank-vs-svd`: the hybrid and the best neural rank-k method beside the
classical ones a practitioner would pick, each with its accuracy."""

from __future__ import annotations

from functools import partial

from nnbench.bench.timers import best_of
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.metrics.evaluation import MetricInput, evaluate
from nnbench.running.threads import DEFAULT_THREADS
from nnbench.running.timing import BUDGET_S

RANK_K_CONTENDERS = (
    "scipy-tsvd",
    "scipy-svds-propack",
    "scipy-svds-arpack",
    "torch-rsvd",  # niter=4, scikit-learn's default
    "torch-rsvd[niter=8]",
    "hybrid-lowrank-als",
    "neural-lowrank-lbfgs",
)


def lowrank_vs_svd(*, n: int = 512, ranks: tuple[int, ...] = (10, 50), repeats: int = 3) -> None:
    """Rank-k of the n x n photo: the hybrid and the best neural method beside the classical
    methods a practitioner would pick (full SVD, Lanczos svds, randomized SVD), same process,
    with each one's accuracy: which classical method matches the hybrid's, and how fast."""
    from nnbench.methods import select_methods

    a = MATRIX_FAMILIES["image-camera"].make(n)
    print(
        f"image-camera {n}x{n} float64, {DEFAULT_THREADS} thread(s); best of up to {repeats} "
        f"calls within {BUDGET_S:g} s"
    )
    for k in ranks:
        timed = {}
        for method in select_methods(list(RANK_K_CONTENDERS)):
            x = method.prepare(a, device="cpu")
            seconds, raw = best_of(partial(method.compute, x, rank=k, seed=0), repeats)
            row = evaluate(MetricInput(a=a, fact=method.finish(raw), dtype="float64", rank=k))
            excess = max(row.ratio_2, row.ratio_fro) - 1
            timed[method.name] = (seconds, excess, method.group)
        hybrid_s, hybrid_excess, _ = timed["hybrid-lowrank-als"]
        matched = {
            name: s
            for name, (s, e, group) in timed.items()
            if group == "classical" and e <= max(hybrid_excess, 1e-14)
        }
        best = min(matched, key=matched.__getitem__)
        print(f"  k = {k}:")
        for name, (seconds, excess, group) in timed.items():
            print(f"    {name:<24} {group:<9} {seconds:.4f} s, ratio - 1 = {excess:.1e}")
        print(
            f"    best classical at the hybrid's accuracy: {best}, {matched[best]:.4f} s; "
            f"the hybrid takes {hybrid_s / matched[best]:.1f}x its time"
        )
