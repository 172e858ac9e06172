"""The sparse preconditioners (issue 22 item 5): sparse IC(0) agrees with the dense one and
is fast, AMG and a sparse direct solve need the iterations their theory promises on held-out
2-D diffusion problems, and a CG run that hits its cap is a `diverged` row, not a score."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.corpus.generators import diffusion_2d as diffusion_2d_sparse
from nnbench.corpus.generators import graph_laplacian as graph_laplacian_sparse
from nnbench.methods import get_method
from nnbench.methods.factorization import InverseOperator, PreconditionerFactorization
from nnbench.methods.preconditioners import ic0, sparse_ic0
from nnbench.metrics.evaluation import MetricInput, evaluate
from nnbench.metrics.solves import pcg

HELD_OUT = 12345  # a seed no study trains or tunes on


def _scored(a: np.ndarray, name: str):
    return evaluate(MetricInput(a=a, fact=get_method(name).factorize(a), dtype="float64"))


@pytest.mark.parametrize("family", ["diffusion-2d", "graph-laplacian", "grid-laplacian"])
def test_sparse_ic0_equals_the_dense_one(family):
    a = MATRIX_FAMILIES[family].make(64, seed=HELD_OUT, dense=True)
    lower = sparse_ic0(scipy.sparse.csr_array(a)).toarray()
    np.testing.assert_allclose(lower, ic0(a), rtol=1e-12, atol=1e-14)


def test_sparse_ic0_at_n_4096_keeps_the_pattern_and_preconditions_cg():
    """(Its speed is a benchmark's question, not a test's: `nnbench bench timing-overhead`.)"""
    a = diffusion_2d_sparse(4096, np.random.default_rng(HELD_OUT))
    lower = sparse_ic0(a)
    assert lower.nnz == scipy.sparse.tril(a).nnz  # IC(0): no fill outside A's pattern
    b = np.random.default_rng(0).standard_normal(4096)
    fact = get_method("sparse-ic0").factorize(a.toarray())
    assert isinstance(fact, PreconditionerFactorization)
    assert pcg(a, b, fact.apply_inverse).iterations is not None


@pytest.mark.parametrize("n", [1024, 4096])
def test_amg_needs_at_most_12_iterations_on_held_out_diffusion(n):
    a = MATRIX_FAMILIES["diffusion-2d"].make(n, seed=HELD_OUT)
    row = _scored(a, "amg")
    print(f"amg, diffusion-2d n = {n}: {row.cg_iterations:.0f} iterations, {row.cg_solve_s:.4f} s")
    assert row.cg_iterations <= 12
    assert row.cg_iterations_1e6 <= row.cg_iterations
    assert row.cg_solve_s > 0 and np.isnan(row.rel_err_2)  # an operator: M is never formed


@pytest.mark.parametrize("family", ["diffusion-2d", "graph-laplacian"])
def test_sparse_direct_converges_in_one_or_two_iterations(family):
    row = _scored(MATRIX_FAMILIES[family].make(1024, seed=HELD_OUT), "sparse-direct")
    assert row.cg_iterations <= 2


def test_ilut_and_sparse_ic0_beat_no_preconditioner():
    a = MATRIX_FAMILIES["diffusion-2d"].make(1024, seed=HELD_OUT)
    plain = _scored(a, "cg-none").cg_iterations
    assert _scored(a, "sparse-ic0").cg_iterations < plain / 2
    assert _scored(a, "ilut").cg_iterations < plain / 4


def test_the_sparse_families_are_spd_and_sparse():
    for make in (diffusion_2d_sparse, graph_laplacian_sparse):
        a = make(256, np.random.default_rng(0))
        assert a.nnz < 0.05 * 256**2
        dense = a.toarray()
        np.testing.assert_array_equal(dense, dense.T)
        assert np.linalg.eigvalsh(dense)[0] > 0


def test_a_preconditioner_is_a_dense_factor_or_an_operator():
    from nnbench.errors import InvalidFactorization

    with pytest.raises(InvalidFactorization):
        PreconditionerFactorization()
    bad = scipy.sparse.csr_array(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(InvalidFactorization):
        InverseOperator(n=2, apply=lambda r: r, lower=bad)


def test_a_capped_cg_run_is_a_diverged_row_with_its_reason(monkeypatch):
    from nnbench.api import Grid, run_grid
    from nnbench.metrics import solves

    monkeypatch.setattr(solves, "CG_CAP_PER_N", 1 / 64)  # one iteration at n = 64
    grid = Grid(matrices=("diffusion-2d",), methods=("cg-none", "sparse-direct"), sizes=(64,))
    rows = run_grid(grid).results.set_index("method")
    capped = rows.loc["cg-none"]
    assert capped["status"] == "diverged" and np.isnan(capped["cg_iterations"])
    assert "within the cap of 1 iterations" in capped["reason"]
    assert rows.loc["sparse-direct", "status"] == "ok"
    assert rows.loc["sparse-direct", "cg_iterations"] == 1


def test_cg_stops_at_its_own_time_cap_and_says_so(monkeypatch):
    """Failed before: a CG that does not converge ran to its 10 n iteration cap (20 minutes
    at n = 74,000) unless --timeout killed the cell. Its time cap is `CG_TIME_CAP_S`."""
    from nnbench.api import Grid, run_grid
    from nnbench.metrics import solves

    a = MATRIX_FAMILIES["diffusion-2d"].make(256, seed=HELD_OUT)
    b = np.random.default_rng(0).standard_normal(256)
    run = pcg(a, b, lambda r: r, max_seconds=0.0)
    assert run.iterations is None and run.steps == 1 and run.cap == 2560
    assert run.reason.startswith("CG stopped at its time cap of 0 s after 1 iterations")
    assert pcg(a, b, lambda r: r).iterations is not None  # the default cap: far off
    monkeypatch.setattr(solves, "CG_TIME_CAP_S", 0.0)
    grid = Grid(matrices=("diffusion-2d",), methods=("cg-none", "sparse-direct"), sizes=(64,))
    rows = run_grid(grid).results.set_index("method")
    capped = rows.loc["cg-none"]
    assert capped["status"] == "diverged" and np.isnan(capped["cg_iterations"])
    assert "time cap of 0 s after 1 iterations" in capped["reason"] and capped["steps"] == 1
    assert rows.loc["sparse-direct", "status"] == "ok"  # converged at its first iteration
