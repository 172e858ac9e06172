"""The amortized LU as a warm start (issue 25 item 4): GMRES preconditioned by each start's
M = L U, the group each start earns, seeds, and the quick study."""

from __future__ import annotations

import numpy as np
import pytest

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.errors import Diverged, NNBenchError
from nnbench.methods import METHODS
from nnbench.methods.amortized import train_seeds
from nnbench.methods.variants import with_options
from nnbench.methods.warm_start import STARTS, gmres_rhs, gmres_solve
from nnbench.running.cells import expand
from nnbench.studies import get_study

BASE = METHODS["gmres-warm-lu"]


def _start(name: str, **options: str):
    """The start on a small training budget, GMRES to the study's rtol 1e-10."""
    return with_options(BASE.small_budget(), {"start": name, "rtol": "1e-10", **options})


@pytest.mark.parametrize("start", list(STARTS))
def test_each_start_gives_iterations_passes_and_a_converged_residual(start):
    a = MATRIX_FAMILIES["diag-dominant"].make(12, seed=5)
    fact = _start(start).factorize(a)
    history = fact.history
    assert fact.kind == "precond" and history is not None
    assert 1 <= history.steps <= 10 * 12 and fact.passes == history.steps + 1
    assert history.final_loss <= 1e-10  # the true residual of the x returned
    assert np.all(np.diff(history.elapsed_s) >= 0)


def test_an_exact_lu_preconditioner_converges_in_one_or_two_iterations():
    a = MATRIX_FAMILIES["diag-dominant"].make(40, seed=2)
    assert _start("exact").factorize(a).history.steps <= 2
    cold = _start("cold").factorize(a).history.steps
    assert cold > 10  # the scale: without M, many more


def test_perfect_factors_take_one_or_two_iterations_and_poor_ones_more():
    import scipy.linalg

    a = MATRIX_FAMILIES["diag-dominant"].make(30, seed=1)
    b = gmres_rhs(30)
    p, lower, upper = scipy.linalg.lu(a)
    assert np.allclose(p, np.eye(30))  # diagonally dominant: no row exchange

    def inverse(lo, up):
        return lambda r: scipy.linalg.solve_triangular(
            up, scipy.linalg.solve_triangular(lo, r, lower=True)
        )

    exact = gmres_solve(a, b, inverse(lower, upper))
    assert exact.converged and len(exact.residuals) <= 2
    rough = gmres_solve(a, b, inverse(np.eye(30), np.triu(a)))
    assert rough.converged and len(rough.residuals) > len(exact.residuals)


def test_a_solve_that_hits_the_cap_is_diverged_not_a_score():
    a = MATRIX_FAMILIES["random-gaussian"].make(40, seed=2)
    run = gmres_solve(a, gmres_rhs(40), lambda r: r, restart=2, cap=6)
    assert not run.converged and len(run.residuals) <= 6
    with pytest.raises(Diverged):
        with_options(BASE, {"start": "cold", "restart": "1"}).factorize(a)


def test_the_group_follows_the_start():
    """hybrid: a trained network's factors inside classical triangular solves and GMRES (not
    `amortized`, which allows a forward pass and gradient steps only); classical otherwise."""
    assert BASE.group == "hybrid" and BASE.config.start == "amortized"
    for name in ("closed-form", "cold", "ilu", "exact"):
        assert _start(name).group == "classical"
    with pytest.raises(NNBenchError, match="unknown start"):
        with_options(BASE, {"start": "magic"})


def test_the_network_start_calls_classical_linear_algebra(monkeypatch):
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("classical linear algebra")

    method = _start("amortized")
    a = MATRIX_FAMILIES["diag-dominant"].make(12, seed=0)
    x = method.prepare(a, device="cpu")  # trains its small network first, untimed
    monkeypatch.setattr(torch.linalg, "solve_triangular", refuse)
    with pytest.raises(AssertionError, match="classical linear algebra"):
        method.compute(x, rank=None, seed=0)


def test_training_and_study_matrices_are_disjoint():
    study = get_study("lu-warm-start")
    trained = {seed for _, seed in train_seeds(_start("amortized").config.network(8))}
    cells = [c for grid in study.quick for c in expand(grid)]
    assert cells and not trained & {c.matrix_seed for c in cells}
    # every start meets the same matrices: the pairs the savings table is built on
    by_start = {}
    for c in cells:
        by_start.setdefault(c.method.config.start, set()).add((c.family.name, c.matrix_seed))
    assert set(by_start) == set(STARTS) and len({frozenset(v) for v in by_start.values()}) == 1


def test_the_quick_study_runs_and_reports_savings(tmp_path):
    from nnbench.api import run_study
    from nnbench.results import load_results
    from nnbench.studies.warm_start import headline, savings, summary

    run_study("lu-warm-start", quick=True, out=tmp_path)
    res = load_results(tmp_path)
    rows = res.results
    assert set(rows.status) == {"ok"} and rows.steps.min() >= 1 and rows.time_s.gt(0).all()
    table = summary(res)
    assert set(table.start) == set(STARTS) and table.iterations.str.len().gt(0).all()
    exact = table[table.start == "exact"].iterations
    assert exact.str.startswith("1 ").all()
    paired = savings(res)
    assert set(paired.against) == {"closed-form", "cold"} and paired.paired_matrices.gt(0).all()
    assert len(headline(res)) == 2
