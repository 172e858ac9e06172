"""Amortized methods (issue 15): trained once on a distribution, applied to unseen matrices."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nnbench import STUDIES, Grid, expand, run_grid
from nnbench.errors import NNBenchError
from nnbench.methods import get_method, select_methods
from nnbench.methods.amortized import AmortizedConfig, ModelStore, train, train_seeds

TINY = AmortizedConfig(count=32, steps=3, batch_size=8, hidden=16, depth=1)


@pytest.mark.parametrize(
    ("name", "study"),
    [
        ("amortized-lu", "amortized-lu"),
        ("amortized-cholesky", "amortized-lu"),
        ("amortized-sketch", "amortized-sketch"),
        ("amortized-ic", "amortized-precond"),
    ],
)
def test_training_seeds_never_meet_a_cells_evaluation_seeds(name, study):
    config = get_method(name).config
    training = {seed for _, seed in train_seeds(config)}
    assert len(training) == config.count  # distinct
    for grids in (STUDIES[study].grids, STUDIES[study].quick):
        for cell in (c for grid in grids for c in expand(grid)):
            assert training.isdisjoint(cell.instance_seeds)


def test_a_saved_model_loads_back_to_the_same_weights_and_outputs(tmp_path):
    trained = train(TINY)
    store = ModelStore(tmp_path)
    assert not store.has(TINY, "cpu", "float32")
    store.save(trained, "cpu", "float32")
    back = store.load(TINY, "cpu", "float32")
    a = torch.rand(4, TINY.n, TINY.n)
    with torch.no_grad():
        for x, y in zip(trained.net(a), back.net(a), strict=True):
            assert torch.equal(x, y)
    assert np.array_equal(trained.loss, back.loss) and back.train_time_s == trained.train_time_s
    assert not store.has(dataclasses.replace(TINY, steps=4), "cpu", "float32")  # another model
    assert store.has(dataclasses.replace(TINY, refine=5), "cpu", "float32")  # inference option


@pytest.mark.parametrize("structure", ["lu", "cholesky"])
def test_predicted_factors_have_exactly_their_structure(structure, tmp_path):
    config = dataclasses.replace(TINY, structure=structure, families=("spd",))
    method = select_methods(f"amortized-{structure}")[0].with_config(config)
    store = ModelStore(tmp_path)
    method.train_once(store, "cpu", "float64")
    bound = method.bind(store, "cpu", "float64")
    a = torch.from_numpy(np.stack([np.eye(8) * 3 + np.ones((8, 8)) * s for s in (0.1, 0.5)]))
    raw = bound.compute(a, rank=None, seed=0)
    lower, upper = raw["L"], raw["U"]
    assert torch.equal(lower, torch.tril(lower)) and torch.equal(upper, torch.triu(upper))
    if structure == "lu":
        assert torch.equal(torch.diagonal(lower, dim1=-2, dim2=-1), torch.ones(2, 8).double())
    else:
        assert (torch.diagonal(lower, dim1=-2, dim2=-1) > 0).all()
        assert torch.equal(upper, lower.mT)


def test_a_model_trained_on_one_size_refuses_another_with_a_clear_error():
    method = get_method("amortized-lu")
    reason = method.skip_reason((16, 16), rank=None, dtype="float32", device="cpu")
    assert reason is not None and "trained on 8x8" in reason and "[n=16]" in reason
    with pytest.raises(NNBenchError, match="trained on 8x8"):
        method.factorize(np.eye(16, dtype=np.float32))
    grid = Grid(matrices=("spd",), methods=("amortized-lu[steps=2]",), sizes=(16,))
    with pytest.raises(NNBenchError, match="nothing to run: .*trained on 8x8"):
        run_grid(grid)


def test_cells_time_inference_only_and_record_the_training(tmp_path):
    grid = Grid(
        matrices=("spd",),
        methods=("amortized-cholesky[steps=20,count=64]", "torch-cholesky"),
        sizes=(8,),
        batches=(50,),
        dtypes=("float32",),
        timing_repeats=1,
    )
    df = run_grid(grid, out=tmp_path).results
    mine = df[df.method.str.startswith("amortized")].iloc[0]
    assert mine.status == "ok" and mine.group == "amortized"
    assert mine.train_time_s > 0 and mine.time_s < mine.train_time_s
    assert len(list((tmp_path / "models").glob("*.pt"))) == 1


def test_the_contract_holds_for_an_amortized_model(tmp_path):
    """What test_methods asks of every method: factors of its kind that rebuild the input's
    shape, in float64, with the training history (the model's)."""
    from nnbench.methods import Factorization

    for name in ("amortized-lu", "amortized-cholesky"):
        method = get_method(name).with_config(dataclasses.replace(TINY, structure=name[10:]))
        method.train_once(ModelStore(tmp_path), "cpu", "float64")
        bound = method.bind(ModelStore(tmp_path), "cpu", "float64")
        a = np.eye(8) * 2 + 0.1
        fact = bound.factorize(a)
        assert isinstance(fact, Factorization) and fact.kind == "lu"
        assert fact.reconstruct().shape == a.shape and fact.history is not None
        assert np.isfinite(fact.history.loss).all() and fact.history.steps == TINY.steps


def test_a_learned_sketch_beats_random_sketches_of_its_size_on_its_own_distribution(tmp_path):
    """Indyk, Vakilian & Yuan's finding, on held-out photo crops (a short training)."""
    grid = Grid(
        matrices=("image-crops",),
        methods=("amortized-sketch[steps=150,count=64]", "sketch-gaussian", "scipy-tsvd"),
        sizes=(64,),
        ranks=(10,),
        dtypes=("float32",),
        repeats=4,
        timing_repeats=1,
    )
    df = run_grid(grid, out=tmp_path).results
    assert (df.status == "ok").all()
    excess = df.groupby("method").ratio_fro.median() - 1
    assert excess["scipy-tsvd"] < 1e-5
    assert excess["amortized-sketch[count=64,steps=150]"] < 0.7 * excess["sketch-gaussian"]
    learned = select_methods("amortized-sketch")[0]
    reason = learned.skip_reason((32, 32), rank=10, dtype="float32", device="cpu")
    assert reason is not None and "trained on 64x64" in reason


def test_a_learned_preconditioner_has_the_pattern_of_tril_a_and_serves_any_size(tmp_path):
    """NeuralIF-style: L on the sparsity of tril(A), positive diagonal, one model for every n;
    CG iterations are its score."""
    method = select_methods("amortized-ic[steps=30,count=32]")[0]
    store = ModelStore(tmp_path)
    method.train_once(store, "cpu", "float64")
    bound = method.bind(store, "cpu", "float64")
    from nnbench.corpus import MATRIX_FAMILIES

    for n in (16, 36):
        a = MATRIX_FAMILIES["grid-laplacian"].make(n, seed=7)
        assert bound.skip_reason(a.shape, rank=None, dtype="float64", device="cpu") is None
        lower = bound.factorize(a).factors["L"]
        assert np.all(lower[np.triu_indices(n, 1)] == 0)
        assert np.all(lower[np.tril(a == 0)] == 0)  # no fill-in
        assert np.all(np.diag(lower) > 0)
