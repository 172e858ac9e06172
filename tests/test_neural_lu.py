"""Neural LU: study 000's Appendix A configuration, and ours on well-behaved matrices."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.errors import NNBenchError
from nnbench.methods import get_method
from nnbench.methods.neural_lu import LUTraining, NeuralLU, _Layers, _prefix_solve
from nnbench.metrics import MetricInput, evaluate


def test_study_configuration_is_appendix_a():
    cfg = get_method("neural-lu-study").config
    assert (cfg.optimizer, cfg.lr, cfg.data_size, cfg.steps, cfg.init) == (
        "adam",
        0.1,
        100,
        5000,
        "default",
    )
    assert (cfg.inputs, cfg.structure, cfg.pivot) == ("uniform", "penalty", False)


def test_penalty_is_the_studys_on_2x2_and_generalises():
    w1 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    w2 = torch.tensor([[5.0, 6.0], [7.0, 8.0]])
    layers = _Layers(LUTraining(), w1, w2)
    # Appendix A: model.fc2.weight[0,1]**2 + model.fc1.weight[1,0]**2
    assert float(layers.penalty()) == 6.0**2 + 3.0**2
    lower, upper = layers.factors()
    assert torch.equal(lower, w1.T) and torch.equal(upper, w2.T)
    exact = _Layers(LUTraining(structure="exact", inputs="full", optimizer="adam"), w1, w2)
    lower, upper = exact.factors()
    assert torch.equal(lower, torch.tensor([[1.0, 0.0], [2.0, 1.0]]))
    assert torch.equal(upper, torch.tensor([[5.0, 7.0], [0.0, 8.0]]))


def test_default_init_is_torch_linear():
    a = torch.zeros(16, 16, dtype=torch.float64)
    from nnbench.methods.neural_lu import _initial_weights

    w1, _ = _initial_weights(LUTraining(), a, torch.Generator().manual_seed(0))
    assert float(w1.abs().max()) <= 1 / math.sqrt(16)
    assert float(w1.std()) == pytest.approx(1 / math.sqrt(16) / math.sqrt(3), rel=0.1)


def test_study_configuration_fits_study000a_like_the_study():
    """Study 000 reports a final loss of 4.38e-12 for [[10,20],[30,40]] (float32)."""
    a = MATRIX_FAMILIES["study000-a"].make(dtype="float32")
    fact = get_method("neural-lu-study").factorize(a, seed=3)
    assert fact.history.steps == 5000
    assert fact.history.final_loss < 1e-9
    np.testing.assert_allclose(fact.reconstruct(), a, rtol=1e-4)


def test_prefix_solve_matches_row_by_row_solves():
    rng = np.random.default_rng(0)
    n = 7
    b = rng.standard_normal((n, n))
    gram = torch.from_numpy(b @ b.T + n * np.eye(n))
    rhs = torch.from_numpy(rng.standard_normal((n, n)))
    mask = torch.tril(torch.ones(n, n, dtype=torch.float64), -1)
    x = _prefix_solve(gram, rhs, mask).numpy()
    for i in range(1, n):
        expected = np.linalg.solve(gram.numpy()[:i, :i], rhs.numpy()[i, :i])
        np.testing.assert_allclose(x[i, :i], expected, rtol=1e-12)
        assert not x[i, i:].any()


@pytest.mark.parametrize("family", ["spd", "diag-dominant"])
@pytest.mark.parametrize("n", [2, 16, 64])
def test_ours_reaches_the_rounding_floor_with_exact_triangles(family, n):
    a = MATRIX_FAMILIES[family].make(n, seed=n)
    fact = get_method("neural-lu").factorize(a, seed=0)
    row = evaluate(MetricInput(a=a, fact=fact, dtype="float64"))
    assert row["rel_err_2"] <= 1e-13 and row["structure_err"] == 0.0
    assert row["factor_err"] <= 1e-12 and np.allclose(np.diag(fact.L), 1.0)


def test_ours_pivots_and_reports_the_permutation():
    a = MATRIX_FAMILIES["study004-pivot"].make()
    fact = get_method("neural-lu").factorize(a, seed=0)
    np.testing.assert_array_equal(fact.P.T @ a, [[6, 8, 8], [2, 9, 0], [0, 5, 5]])
    assert evaluate(MetricInput(a=a, fact=fact, dtype="float64"))["rel_err_2"] <= 1e-13


def test_gauss_newton_needs_exact_structure_and_full_inputs():
    with pytest.raises(NNBenchError, match="structure='exact' with inputs='full'"):
        LUTraining(optimizer="gauss-newton")


def test_sgd_at_lr_01_explodes_as_the_study_says():
    """Study 000: with SGD, 'learning rate 0.1 is much too large, the loss even explodes'."""
    from nnbench import Grid, run_grid
    from nnbench.methods import METHODS

    sgd = NeuralLU("neural-lu-sgd-0.1", replace(LUTraining(), optimizer="sgd", steps=2000), "")
    METHODS[sgd.name] = sgd
    try:
        df = run_grid(
            Grid(matrices=("study000-a",), methods=(sgd.name,), dtypes=("float32",))
        ).results
    finally:
        del METHODS[sgd.name]
    assert df.status.item() == "diverged" and "step" in df.reason.item()
