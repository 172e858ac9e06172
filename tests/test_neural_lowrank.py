"""Neural rank-k: the study's configuration, the rank check, and ours reaching the optimum."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnbench.api import Grid, run_grid
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.errors import NNBenchError
from nnbench.methods import LowRankFactorization, get_method
from nnbench.methods.trained import LowRankTraining, NeuralLowRank
from nnbench.methods.trained.lowrank_net import KERAS_HE_TRUNCATION, init_layers, layer_widths
from nnbench.metrics.evaluation import MetricInput, evaluate


def scores(a: np.ndarray, fact, k: int, dtype: str = "float64") -> dict[str, float]:
    x = MetricInput(a=a.astype(np.float64), fact=fact, dtype=dtype, rank=k)
    return dataclasses.asdict(evaluate(x))


def test_rank_check_catches_a_rank_collapsed_output():
    """Study 002's bug: asked for rank 3, the network silently gave rank 1."""
    a = MATRIX_FAMILIES["random-gaussian"].make(8, seed=0)
    u, s, vt = np.linalg.svd(a)
    collapsed = LowRankFactorization(
        left=np.outer(u[:, 0] * s[0], [1, 1, 1]), right=np.tile(vt[:1] / 3, (3, 1))
    )
    row = scores(a, collapsed, 3)
    assert row["numerical_rank"] == 1 and row["expected_rank"] == 3 and row["rank_ok"] == 0.0
    assert row["ratio_2"] > 1.0


def test_study_configuration_matches_study_002():
    method = get_method("neural-lowrank-study")
    cfg = method.config
    assert (cfg.architecture, cfg.init, cfg.inputs, cfg.optimizer) == (
        "n-n-k-n",
        "he_normal",
        "uniform",
        "adam",
    )
    assert (cfg.lr, cfg.batch_size, cfg.samples, cfg.epochs, cfg.bias) == (
        1e-3,
        32,
        10_000,
        10,
        True,
    )
    image = get_method("neural-lowrank-study-image").config
    assert (image.samples, image.epochs) == (100_000, 100)
    assert layer_widths("n-n-k-n", 10, 3, 10) == [10, 10, 3, 10]
    # he_normal as Keras draws it: truncated normal, std sqrt(2 / fan_in) after truncation
    gen = torch.Generator().manual_seed(0)
    like = torch.zeros(1, dtype=torch.float64)
    layers = init_layers(cfg.init, [400, 400, 5, 400], 1.0, 5, gen, like)
    w = layers[0].detach()
    assert w.shape == (400, 400)
    assert float(w.std()) == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    bound = 2 * math.sqrt(2 / 400) / KERAS_HE_TRUNCATION
    assert float(w.abs().max()) <= bound


def test_study_configuration_trains_with_biases_and_epochs():
    a = MATRIX_FAMILIES["random-uniform"].make(6, seed=1)
    method = get_method("neural-lowrank-study")
    fact = NeuralLowRank("t", replace(method.config, samples=320, epochs=3), "").factorize(
        a, rank=2, seed=5
    )
    assert fact.history.unit == "epoch" and fact.history.steps == 3
    assert fact.left.shape == (6, 2) and fact.right.shape == (2, 6)


def test_funnel_widths_are_powers_of_two():
    assert layer_widths("funnel", 64, 5, 64) == [64, 32, 16, 8, 5, 8, 16, 32, 64]
    assert layer_widths("funnel", 10, 5, 12) == [10, 8, 5, 8, 12]


@pytest.mark.parametrize("method", ["hybrid-lowrank-als", "hybrid-lowrank-scaledgd"])
@pytest.mark.parametrize("dtype, tol", [("float64", 1e-9), ("float32", 1e-5)])
def test_ours_reaches_the_optimum_on_a_planted_low_rank_matrix(method, dtype, tol):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 4)) @ rng.standard_normal((4, 30))
    a += 1e-3 * rng.standard_normal(a.shape)
    fact = get_method(method).factorize(a.astype(dtype), rank=4, seed=1)
    row = scores(a.astype(dtype), fact, 4, dtype)
    assert row["rank_ok"] == 1.0
    assert 1 - 1e-12 <= row["ratio_2"] <= 1 + tol and 1 - 1e-12 <= row["ratio_fro"] <= 1 + tol


def test_ours_on_a_degenerate_optimum_gives_a_rank_k_projection():
    a = np.eye(12)
    fact = get_method("hybrid-lowrank-als").factorize(a, rank=5, seed=2)
    p = fact.reconstruct()
    np.testing.assert_allclose(p @ p, p, atol=1e-10)
    np.testing.assert_allclose(p, p.T, atol=1e-10)
    assert np.linalg.matrix_rank(p) == 5


def test_ours_with_k_above_the_rank_keeps_the_exact_matrix():
    a = MATRIX_FAMILIES["lowrank"].make(24, seed=0, rank=3)
    row = scores(a, get_method("hybrid-lowrank-als").factorize(a, rank=6, seed=0), 6)
    assert row["rel_err_fro"] < 1e-12 and row["rank_ok"] == 1.0 and row["numerical_rank"] == 3


def test_the_study_configuration_falls_short_on_random_matrices():
    """The gap the study reported is real: Adam on U[0,1) probes does not reach ratio 1."""
    a = MATRIX_FAMILIES["random-uniform"].make(10, seed=4)
    fact = get_method("neural-lowrank-study").factorize(a, rank=5, seed=4)
    row = scores(a, fact, 5)
    assert row["ratio_fro"] > 1.01 and row["rank_ok"] == 1.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"optimizer": "scaledgd", "architecture": "n-n-k-n"}, "preconditions two factors"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'"),
        ({"inputs": "sobol"}, "unknown inputs"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"optimizer": "als", "inputs": "uniform"}, "two factors on the identity batch"),
        ({"optimizer": "scaledgd", "oversample": 5}, "oversample needs optimizer='als'"),
        ({"optimizer": "als", "oversample": -1}, "oversample must be an integer"),
    ],
)
def test_bad_configurations_are_refused_when_built(options, message):
    with pytest.raises(NNBenchError, match=message):
        LowRankTraining(**options)


def test_exploding_training_is_recorded_as_diverged(monkeypatch):
    from nnbench.methods import METHODS

    wild = NeuralLowRank(
        "neural-lowrank-wild", LowRankTraining(optimizer="sgd", lr=1e6, max_steps=200), ""
    )
    monkeypatch.setitem(METHODS, wild.name, wild)
    df = run_grid(
        Grid(matrices=("random-gaussian",), methods=(wild.name,), sizes=(6,), ranks=(2,))
    ).results
    row = df.iloc[0]
    assert row.status == "diverged" and "step" in row.reason and row.steps >= 1


def test_image_cells_keep_their_approximation(tmp_path):
    res = run_grid(
        Grid(matrices=("colour-wheel", "spd"), methods=("scipy-tsvd",), sizes=(10,), ranks=(3,))
    )
    wheel = res.results[res.results.matrix == "colour-wheel"].cell_id.item()
    assert set(res.artifacts) == {wheel}
    res.save(tmp_path)
    from nnbench.api import load_results

    back = load_results(tmp_path).artifacts[wheel]
    assert back.approx_picture.shape == (10, 10) and back.approx_picture.dtype == np.float32
    assert back.picture.shape == (10, 10) and back.sigma.shape == (10,)
    np.testing.assert_array_equal(back.sigma, res.artifacts[wheel].sigma)


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-9), ("float32", 1e-5)])
def test_oversampled_als_is_optimal_across_a_small_gap(dtype, tol):
    """diag-dominant n=64 k=5 has sigma_6 / sigma_5 close to 1 (measured 0.99 here), where
    the un-oversampled training converges slowly; the output is still exactly rank k."""
    a = MATRIX_FAMILIES["diag-dominant"].make(64, seed=0, dtype=dtype)
    s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    assert s[5] / s[4] > 0.97
    fact = get_method("hybrid-lowrank-als").factorize(a, rank=5, seed=0)
    assert fact.left.shape == (64, 5) and fact.right.shape == (5, 64)
    row = scores(a, fact, 5, dtype)
    assert row["ratio_2"] <= 1 + tol and row["ratio_fro"] <= 1 + tol and row["rank_ok"] == 1.0


def test_als_in_float32_is_at_the_truncated_svds_floor():
    """randsvd (cond 1e6) at k=20: the tail is ~1e-4 of sigma_1, where float32 rounding of the
    factors limits any method; ours stays within 1e-3 of scipy's float32 truncated SVD."""
    a = MATRIX_FAMILIES["randsvd"].make(64, seed=0, dtype="float32")
    ours = scores(a, get_method("hybrid-lowrank-als").factorize(a, rank=20, seed=0), 20, "float32")
    svd = scores(a, get_method("scipy-tsvd").factorize(a, rank=20), 20, "float32")
    assert ours["ratio_fro"] <= svd["ratio_fro"] + 1e-3 and ours["rank_ok"] == 1.0
