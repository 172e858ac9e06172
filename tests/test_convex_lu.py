"""The gradient-only LU that converges (issue 25 item 3): L-BFGS on a convex loss for
G ~ L^-1, then L and U read from it; `neural` (only optimizer steps change G)."""

from __future__ import annotations

import numpy as np
import pytest

from nnbench.api import Grid, run_grid
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import get_method

HELD_OUT = 24680


@pytest.mark.parametrize("family", ["diag-dominant", "spd"])
@pytest.mark.parametrize("n", [32, 128])
def test_it_reaches_backward_error_1e_10_in_float64(family, n):
    method = get_method("neural-lu-convex")
    for seed in range(3):
        a = MATRIX_FAMILIES[family].make(n, seed=HELD_OUT + seed)
        fact = method.factorize(a)
        assert np.allclose(np.diag(fact.L), 1.0) and fact.structure_error() == 0.0
        error = np.linalg.norm(a - fact.L @ fact.U, 2) / np.linalg.norm(a, 2)
        assert error <= 1e-10, (family, n, seed, error)


def test_it_is_neural_counts_its_passes_and_declines_what_needs_pivoting():
    method = get_method("neural-lu-convex")
    assert method.group == "neural" and method.kind == "lu"
    grid = Grid(
        matrices=("diag-dominant", "needs-pivoting"), methods=("neural-lu-convex",), sizes=(16,)
    )
    rows = run_grid(grid).results.set_index("matrix")
    ok = rows.loc["diag-dominant"]
    assert ok.status == "ok" and ok.passes > ok.steps > 0 and ok.rel_err_2 < 1e-12
    assert rows.loc["needs-pivoting", "status"] == "skipped"


def test_the_same_matrix_gives_the_same_factors():
    a = MATRIX_FAMILIES["spd"].make(24, seed=5)
    first = get_method("neural-lu-convex").factorize(a)
    again = get_method("neural-lu-convex").factorize(a)
    np.testing.assert_array_equal(first.L, again.L)
    np.testing.assert_array_equal(first.U, again.U)
