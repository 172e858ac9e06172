"""The rank-k cost model (issue 22 item 4): every classical rank-k method declares its passes
over A and its working memory, and a run's rows carry them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnbench.api import Execution, Grid, run_grid
from nnbench.methods import METHODS, select_methods
from nnbench.methods.amortized import method as amortized_method
from nnbench.methods.base import Cost

RANK_K = [n for n, m in METHODS.items() if m.kind == "rank-k" and m.group == "classical"]
DENSE = {"scipy-tsvd", "torch-tsvd"}  # factor A in memory: no passes
UNREPORTED = {"scipy-svds-arpack", "scipy-svds-propack", "scipy-svds-lobpcg"}  # counted in the run


@pytest.mark.parametrize("name", RANK_K)
def test_every_classical_rank_k_method_declares_its_cost(name):
    cost = METHODS[name].cost((40, 30), 3)
    assert isinstance(cost, Cost) and cost.memory_floats > 0
    if name in DENSE | UNREPORTED:
        assert math.isnan(cost.passes)
    else:
        assert cost.passes >= 1 and float(cost.passes).is_integer()


def test_a_non_rank_k_method_and_a_counted_pass_count_are_nan_in_the_model():
    assert math.isnan(METHODS["scipy-lu"].cost((5, 5), None).passes)
    assert math.isnan(METHODS["neural-lowrank-adam"].cost((5, 5), 2).passes)  # counted at run


@pytest.mark.parametrize(
    ("term", "passes"),
    [
        ("sketch-gaussian", 2),  # S A, then A Q
        ("sketch-countsketch", 2),
        ("sketch-pca", 2),
        ("sketch-power", 4),
        ("sketch-power[q=0]", 2),
        ("sketch-power[q=3]", 8),
        ("torch-rsvd[niter=3]", 8),  # 2q + 2
        ("torch-rsvd[niter=0]", 2),
    ],
)
def test_passes_count_the_products_with_a(term, passes):
    assert select_methods(term)[0].cost((64, 64), 5).passes == passes


def test_memory_grows_with_the_sketch_and_not_with_power_iterations():
    small, large = (
        select_methods(t)[0].cost((64, 64), 5)
        for t in ("sketch-gaussian", "sketch-gaussian[rows=20]")
    )
    assert small.memory_floats < large.memory_floats
    assert (
        select_methods("sketch-power[q=3]")[0].cost((64, 64), 5).memory_floats
        == small.memory_floats
    )
    assert METHODS["scipy-tsvd"].cost((64, 64), 5).memory_floats > 64 * 64


def test_rows_of_rank_k_cells_carry_the_cost_and_others_nan():
    grid = Grid(
        matrices=("random-gaussian",),
        methods=("sketch-gaussian", "sketch-power", "torch-rsvd", "scipy-tsvd", "scipy-lu"),
        sizes=(12,),
        ranks=(2,),
        timing_repeats=1,
    )
    rows = run_grid(grid, execution=Execution(progress=False)).results.set_index("method")
    assert (rows.status == "ok").all(), rows.reason.to_dict()
    niter = METHODS["torch-rsvd"].config.niter
    assert rows.passes.drop(["scipy-tsvd", "scipy-lu"]).to_dict() == {
        "sketch-gaussian": 2.0,
        "sketch-power": 4.0,
        "torch-rsvd": 2.0 * niter + 2,
    }
    assert np.isnan(rows.passes[["scipy-tsvd", "scipy-lu"]]).all()
    assert rows.memory_floats.drop("scipy-lu").gt(0).all()
    assert np.isnan(rows.memory_floats["scipy-lu"])


def test_sketch_pca_reads_the_learned_sketchs_training_set():
    pca = METHODS["sketch-pca"].config
    learned = amortized_method.SKETCH
    assert (pca.families, pca.count, pca.seed) == (learned.families, learned.count, learned.seed)


def test_krylov_and_trained_rank_k_rows_count_their_passes():
    """What no model can say in advance is counted as it happens: a Krylov solver's products
    with A and A^T (`CountingOperator`), a trainer's reads of A (its identity-batch loss, each
    L-BFGS evaluation, ALS's three products a sweep); a learned sketch is sketch-and-solve."""
    from nnbench.api import Grid, run_grid

    methods = (
        "scipy-svds-arpack", "scipy-svds-propack", "hybrid-lowrank-als",
        "neural-lowrank-adam[max_steps=50]", "neural-lowrank-lbfgs[max_steps=40]",
    )  # fmt: skip
    grid = Grid(matrices=("lowrank-noise",), methods=methods, sizes=(32,), ranks=(4,))
    rows = run_grid(grid).results.set_index("method_base")
    assert (rows.status == "ok").all(), rows.reason
    assert rows.passes.notna().all() and (rows.passes >= 2).all()
    assert rows.passes["hybrid-lowrank-als"] == 1 + 3 * rows.steps["hybrid-lowrank-als"]
    assert rows.passes["neural-lowrank-adam"] == 1 + rows.steps["neural-lowrank-adam"]
    assert rows.passes["neural-lowrank-lbfgs"] > rows.steps["neural-lowrank-lbfgs"]


def test_every_rank_k_method_has_a_memory_model():
    """Issue 25: a passes and a memory column for every rank-k row (passes of trained methods
    and Krylov solvers are counted in the run; see the test above)."""
    for name, method in METHODS.items():
        if method.kind != "rank-k":
            continue
        cost = method.cost((64, 48), 4)
        assert cost.memory_floats > 0, name
