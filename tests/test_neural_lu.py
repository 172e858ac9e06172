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
from nnbench.methods.trained import LUTraining, NeuralLU, fit_lu_batch
from nnbench.methods.trained.lu_layers import INITS, Layers, convex_start
from nnbench.methods.trained.lu_training import _prefix_solve, fit, learning_rate
from nnbench.metrics.evaluation import MetricInput, evaluate


def test_study_configuration_is_appendix_a():
    cfg = get_method("neural-lu-study-final").config
    assert (cfg.optimizer, cfg.lr, cfg.data_size, cfg.steps, cfg.init) == (
        "adam",
        0.1,
        100,
        5000,
        "default",
    )
    assert (cfg.inputs, cfg.structure, cfg.pivot) == ("uniform", "penalty", False)


def test_penalty_is_the_studys_on_2x2_and_generalises():
    w1 = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    w2 = torch.tensor([[[5.0, 6.0], [7.0, 8.0]]])
    layers = Layers(w1, w2, exact=False)
    # Appendix A: model.fc2.weight[0,1]**2 + model.fc1.weight[1,0]**2
    assert layers.penalty().tolist() == [6.0**2 + 3.0**2]
    lower, upper = layers.factors()
    assert torch.equal(lower, w1.mT) and torch.equal(upper, w2.mT)
    exact = Layers(w1, w2, exact=True)
    lower, upper = exact.factors()
    assert torch.equal(lower[0], torch.tensor([[1.0, 0.0], [2.0, 1.0]]))
    assert torch.equal(upper[0], torch.tensor([[5.0, 7.0], [0.0, 8.0]]))


def test_default_init_is_torch_linear():
    a = torch.zeros(1, 16, 16, dtype=torch.float64)
    w1, _ = INITS["default"](a, torch.Generator().manual_seed(0))
    assert float(w1.abs().max()) <= 1 / math.sqrt(16)
    assert float(w1.std()) == pytest.approx(1 / math.sqrt(16) / math.sqrt(3), rel=0.1)


def test_study_code_path_is_appendix_a_step_for_step():
    """Appendix A transcribed (Linear layers, MSELoss + penalty, Adam 0.1, fresh U[0,1) rows
    each step) from the same weights and inputs gives the same weights after 25 steps."""
    a = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    cfg = replace(LUTraining(), steps=25)
    result = fit(cfg, a[None], gen=torch.Generator().manual_seed(7), on_step=lambda _: False)
    lower, upper = result.L, result.U

    gen = torch.Generator().manual_seed(7)  # replay our draws: W1, W2, then each step's rows
    w1, w2 = INITS[cfg.init](a[None], gen)
    fc1, fc2 = torch.nn.Linear(2, 2, bias=False), torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        fc1.weight.copy_(w1[0])
        fc2.weight.copy_(w2[0])
    optimizer = torch.optim.Adam([*fc1.parameters(), *fc2.parameters()], lr=0.1)
    for _ in range(25):
        x = torch.rand((1, 100, 2), generator=gen)[0]
        loss = (
            torch.nn.MSELoss()(fc2(fc1(x)), x @ a) + fc2.weight[0, 1] ** 2 + fc1.weight[1, 0] ** 2
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.testing.assert_close(lower[0], fc1.weight.detach().T, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(upper[0], fc2.weight.detach().T, rtol=1e-6, atol=1e-6)


def test_study_configuration_fits_study000a_like_the_study():
    """Study 000 reports a final loss of 4.38e-12 for [[10,20],[30,40]] (float32)."""
    a = MATRIX_FAMILIES["study000-a"].make(dtype="float32")
    fact = get_method("neural-lu-study-final").factorize(a, seed=3)
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


@pytest.mark.parametrize(
    "family", ["spd", "diag-dominant", "random-gaussian", "random-uniform", "needs-pivoting"]
)
@pytest.mark.parametrize("n", [2, 16, 64])
def test_ours_reaches_the_rounding_floor_with_exact_triangles(family, n):
    for seed in range(3):
        a = MATRIX_FAMILIES[family].make(n, seed=seed)
        fact = get_method("hybrid-lu-newton").factorize(a, seed=seed)
        row = evaluate(MetricInput(a=a, fact=fact, dtype="float64"))
        assert row.rel_err_2 <= 1e-13 and row.structure_err == 0.0
        assert np.all(np.diag(fact.L) == 1.0)


@pytest.mark.parametrize("family", ["random-gaussian", "spd"])
def test_ours_in_float32_reaches_1e6(family):
    a = MATRIX_FAMILIES[family].make(64, seed=1, dtype="float32")
    fact = get_method("hybrid-lu-newton").factorize(a, seed=1)
    assert fact.L.dtype == np.float32
    assert evaluate(MetricInput(a=a, fact=fact, dtype="float32")).rel_err_2 <= 1e-6


def test_convex_start_is_doolittle_on_study_004():
    """Study 004's worked example: L = [[1,0,0],[.5,1,0],[.75,.6875,1]], U = [[8,2,9],...]."""
    a = torch.tensor([[[8.0, 2, 9], [4, 9, 4], [6, 7, 9]]], dtype=torch.float64)
    lower, upper = convex_start(a)
    np.testing.assert_allclose(lower[0], [[1, 0, 0], [0.5, 1, 0], [0.75, 0.6875, 1]], atol=1e-15)
    np.testing.assert_allclose(upper[0], [[8, 2, 9], [0, 8, -0.5], [0, 0, 2.59375]], atol=1e-14)


def test_ours_pivots_and_reports_the_permutation():
    a = MATRIX_FAMILIES["study004-pivot"].make()
    fact = get_method("hybrid-lu-newton").factorize(a, seed=0)
    np.testing.assert_array_equal(fact.P.T @ a, [[6, 8, 8], [2, 9, 0], [0, 5, 5]])
    assert evaluate(MetricInput(a=a, fact=fact, dtype="float64")).rel_err_2 <= 1e-13
    from nnbench.api import Grid, run_grid

    row = run_grid(Grid(matrices=("study004-pivot",), methods=("hybrid-lu-newton",))).results.iloc[
        0
    ]
    assert row.row_order == "2,1,0" and row.status == "ok"
    assert row.optimizer == "gauss-newton" and math.isnan(row.lr)  # no learning rate to report


def test_a_zero_leading_minor_without_pivoting_is_skipped_with_the_fix():
    from nnbench.api import Grid, run_grid

    grid = Grid(matrices=("study004-pivot",), methods=("hybrid-lu-newton[pivot=false]",))
    row = run_grid(grid).results.iloc[0]
    assert row.status == "skipped" and "no LU without pivoting exists; set pivot=true" in row.reason


@pytest.mark.parametrize("matrix", ["diagonal-mn0", "lowrank", "file"])
def test_singular_matrices_are_skipped_with_the_true_reason(matrix, tmp_path):
    """Failed before: 'a leading principal minor is singular: ... needs pivot=True' although
    pivot=True is the default. scipy-lu factors these; hybrid-lu-newton says why it does not."""
    from nnbench.api import Grid, run_grid

    if matrix == "file":
        np.save(tmp_path / "a.npy", np.arange(9.0).reshape(3, 3))  # integer-valued, rank 2
        matrix = f"file:{tmp_path / 'a.npy'}"
    grid = Grid(matrices=(matrix,), methods=("hybrid-lu-newton", "scipy-lu"), sizes=(8,))
    df = run_grid(grid).results.set_index("method")
    assert df.loc["scipy-lu", "status"] == "ok"
    assert df.loc["hybrid-lu-newton", "status"] == "skipped"
    assert "singular" in df.loc["hybrid-lu-newton", "reason"]
    assert "pivot=True" not in df.loc["hybrid-lu-newton", "reason"]


@pytest.mark.parametrize("optimizer", ["gauss-newton", "als"])
def test_second_order_needs_exact_structure_and_full_inputs(optimizer):
    with pytest.raises(NNBenchError, match="structure='exact' with inputs='full'"):
        LUTraining(optimizer=optimizer)


def test_batch_fits_each_matrix_as_if_alone():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 4)) + 4 * np.eye(4)
    cfg = LUTraining(inputs="full", structure="exact", init="identity", steps=50, lr=0.05)
    together = fit_lu_batch(a, cfg)
    alone = fit_lu_batch(a[1:2], cfg)
    np.testing.assert_allclose(together.L[1], alone.L[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(together.U[1], alone.U[0], rtol=1e-12, atol=1e-14)
    assert together.final_loss.shape == (3,) and together.steps == 50


def test_batch_of_2x2_reaches_the_rounding_floor():
    a = np.random.default_rng(1).standard_normal((200, 2, 2))
    fit_ = fit_lu_batch(a, get_method("hybrid-lu-newton").config)
    assert fit_.rel_err_2.max() <= 1e-12 and fit_.P is not None


def test_batch_rejects_bad_input():
    with pytest.raises(NNBenchError, match=r"\(b, n, n\)"):
        fit_lu_batch(np.zeros((2, 3)), LUTraining())


def test_seed_001_learning_rate_is_one_over_the_hessians_largest_eigenvalue():
    """Checked against the full Hessian of the expected loss (input covariance
    I/12 + 11^T/4 of U[0,1) rows) from torch.autograd.functional.hessian."""
    a = torch.tensor([[10.0, 20.0], [30.0, 40.0]], dtype=torch.float64)
    cov = torch.eye(2, dtype=torch.float64) / 12 + 0.25

    def expected_loss(p):
        w1, w2 = p[:4].reshape(2, 2), p[4:].reshape(2, 2)
        d = w1.T @ w2.T - a
        return torch.trace(d.T @ cov @ d) / 2 + w2[0, 1] ** 2 + w1[1, 0] ** 2

    solution = torch.tensor([1.0, 3, 0, 1, 10, 0, 20, -20], dtype=torch.float64)  # W1 = L^T ...
    lam = torch.linalg.eigvalsh(torch.autograd.functional.hessian(expected_loss, solution))
    cfg = LUTraining(lr="auto-final")
    w = torch.zeros(1, 2, 2, dtype=torch.float64)
    assert learning_rate(cfg, a[None], w, w) == pytest.approx(float(1 / lam.abs().max()), rel=1e-6)
    start = torch.tensor([0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, -0.1], dtype=torch.float64)
    lam = torch.linalg.eigvalsh(torch.autograd.functional.hessian(expected_loss, start))
    w1, w2 = start[:4].reshape(1, 2, 2), start[4:].reshape(1, 2, 2)
    auto = learning_rate(LUTraining(lr="auto"), a[None], w1, w2)
    assert auto == pytest.approx(float(1 / lam.abs().max()), rel=1e-3)  # power iteration
    with pytest.raises(NNBenchError, match="unknown lr rule 'fast'; use one of auto, auto-final"):
        LUTraining(lr="fast")


def test_sgd_at_the_final_hessian_rate_converges_where_01_explodes():
    from nnbench.api import Grid, run_grid

    df = run_grid(
        Grid(
            matrices=("study000-a",),
            methods=(
                "neural-lu-study-final[optimizer=sgd,steps=2000]",
                "neural-lu-study-final[optimizer=sgd,lr=auto-final,steps=2000]",
            ),
            dtypes=("float32",),
        )
    ).results.set_index("options")
    explode = df.loc["optimizer=sgd,steps=2000"]
    assert explode.status == "diverged" and "step" in explode.reason  # as study 000 says
    rule = df.loc["optimizer=sgd,lr=auto-final,steps=2000"]
    assert rule.status == "ok" and rule.lr == pytest.approx(1 / 503.3, rel=0.01)
    assert rule.optimizer == "sgd" and rule.final_loss < 10  # from ~1e3: stable, slow


def test_rprop_then_adam_switches_and_rejects_a_second_order_start():
    # Rprop at 0.01 first gets below 0.1 near step 570 (the old 300-step test never switched)
    cfg = LUTraining(optimizer="rprop", lr=0.01, switch_to="adam", switch_below=1e-1, steps=1000)
    fact = NeuralLU("switch", cfg, "").factorize(MATRIX_FAMILIES["study000-a"].make(), seed=0)
    history = fact.history
    assert history.steps == 1000 and np.isfinite(history.final_loss)
    switch = history.switch_step  # the first step whose loss fell below switch_below
    assert switch is not None and 1 < switch < 1000
    assert history.loss[switch - 1] < 1e-1 <= history.loss[: switch - 1].min()
    never = LUTraining(optimizer="rprop", lr=0.01, switch_to="adam", switch_below=1e-30, steps=50)
    stays = NeuralLU("stays", never, "").factorize(MATRIX_FAMILIES["study000-a"].make(), seed=0)
    assert stays.history.switch_step is None
    with pytest.raises(NNBenchError, match="first-order"):
        LUTraining(optimizer="gauss-newton", structure="exact", inputs="full", switch_to="adam")


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA GPU")
def test_batch_on_cuda_reaches_the_floor_like_the_cpu():
    a = np.random.default_rng(2).standard_normal((64, 32, 32))
    config = get_method("hybrid-lu-newton").config
    gpu, cpu = fit_lu_batch(a, config, device="cuda"), fit_lu_batch(a, config)
    assert gpu.rel_err_2.max() <= 1e-13 and cpu.rel_err_2.max() <= 1e-13
    np.testing.assert_array_equal(gpu.P, cpu.P)


def test_appendix_a_transcription_runs():
    from nnbench.bench import appendix_a

    loss, err = appendix_a(np.array([[10.0, 20.0], [30.0, 40.0]]), nb_epochs=200)
    assert np.isfinite(loss) and 0 <= err < 1


@pytest.mark.parametrize("n", [1, 2, 7, 64, 65, 130])
def test_convex_start_solves_every_leading_block(n):
    """Row i of G = L^-1 solves g B[:i, :i] = -B[i, :i] (the convex problem's minimiser),
    whichever way the blocks are computed: here against a solve per row."""
    b = torch.from_numpy(MATRIX_FAMILIES["diag-dominant"].make(n, seed=n))
    lower, upper = convex_start(b)
    g = torch.linalg.inv(lower)
    for i in range(1, n):
        want = torch.linalg.solve(b[:i, :i].T, -b[i, :i])
        assert torch.allclose(g[i, :i], want, rtol=1e-10, atol=1e-12)
    assert torch.allclose(lower @ upper, b, rtol=1e-12, atol=1e-12 * float(b.abs().max()))


def test_convex_start_fits_n_2048_float64_in_quadratic_memory():
    """The padded leading-block solve needed an (n, n, n) tensor: 64 GiB here (issue 14)."""
    b = torch.from_numpy(MATRIX_FAMILIES["diag-dominant"].make(2048, seed=1))
    lower, upper = convex_start(b)
    err = torch.linalg.matrix_norm(lower @ upper - b) / torch.linalg.matrix_norm(b)
    assert float(err) < 1e-13
