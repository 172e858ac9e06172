"""Amortized methods (issue 15): trained once on a distribution, applied to unseen matrices."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nnbench.api import STUDIES, Grid, expand, run_grid
from nnbench.errors import NNBenchError
from nnbench.methods import RunContext, get_method, select_methods
from nnbench.methods.amortized import AmortizedConfig, ModelStore, train, train_seeds
from nnbench.methods.amortized import method as amortized_method

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
    assert not store.has(TINY, "cpu", "float32", code="0123abcd")  # trained by other code


@pytest.mark.parametrize("structure", ["lu", "cholesky"])
def test_predicted_factors_have_exactly_their_structure(structure, tmp_path):
    config = dataclasses.replace(TINY, structure=structure, families=("spd",))
    method = select_methods(f"amortized-{structure}")[0].with_config(config)
    bound = method.setup(RunContext(folder=tmp_path, dtype="float64"))
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
    assert mine.train_time_s > 0 and mine.time_s > 0  # both measured (no race between them)
    assert len(list((tmp_path / "models").glob("*.pt"))) == 1


def test_the_contract_holds_for_an_amortized_model(tmp_path):
    """What test_methods asks of every method: factors of its kind that rebuild the input's
    shape, in float64, with the training history (the model's)."""
    from nnbench.methods import Factorization

    for name in ("amortized-lu", "amortized-cholesky"):
        method = get_method(name).with_config(dataclasses.replace(TINY, structure=name[10:]))
        bound = method.setup(RunContext(folder=tmp_path, dtype="float64"))
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
    bound = method.setup(RunContext(folder=tmp_path, dtype="float64"))
    from nnbench.corpus import MATRIX_FAMILIES

    for n in (16, 36):
        a = MATRIX_FAMILIES["grid-laplacian"].make(n, seed=7)
        assert bound.skip_reason(a.shape, rank=None, dtype="float64", device="cpu") is None
        lower = bound.factorize(a).factors["L"]
        assert np.all(lower[np.triu_indices(n, 1)] == 0)
        assert np.all(lower[np.tril(a == 0)] == 0)  # no fill-in
        assert np.all(np.diag(lower) > 0)


def test_setup_trains_once_then_loads_and_leaves_the_method_untouched(tmp_path, monkeypatch):
    """The runner's call trains and saves; a worker's call loads what it left (no training);
    the registered method itself stays without a model."""
    method = get_method("amortized-lu").with_config(TINY)
    context = RunContext(folder=tmp_path, dtype="float64")
    first = method.setup(context)
    assert first is not method and first.trained is not None and method.trained is None
    assert (first.code_hash, first.config_hash) == (method.code_hash, method.config_hash)

    def no_training(*args, **kwargs):
        raise AssertionError("a second setup trained again")

    monkeypatch.setattr(amortized_method, "train", no_training)
    again = method.setup(context)
    assert again.train_time_s == first.train_time_s
    a = np.eye(8) * 2 + 0.1
    np.testing.assert_array_equal(again.factorize(a).factors["U"], first.factorize(a).factors["U"])
    with pytest.raises(NNBenchError, match="no trained model"):
        method.factorize(a)


def test_each_model_states_its_own_loss():
    """The `loss` column says what each model's training loss computes (they differ, so their
    final losses are not comparable)."""
    losses = {
        name: get_method(name).settings(8).loss
        for name in ("amortized-lu", "amortized-cholesky", "amortized-sketch", "amortized-ic")
    }
    assert len(set(losses.values())) == 4
    assert "||(L U - A) z||^2" in losses["amortized-lu"]
    assert "||(L L^T - A) z||^2" in losses["amortized-cholesky"]
    assert "/ ||A||_F^2" in losses["amortized-ic"] and "L L^T" in losses["amortized-ic"]
    assert (
        "rank-10" in losses["amortized-sketch"] and "row space of S A" in losses["amortized-sketch"]
    )
    assert get_method("amortized-sketch").settings(64).init.startswith("Gaussian")


def test_the_documented_way_to_add_a_learned_model_runs(tmp_path, monkeypatch):
    """docs/methods.md's "Adding a learned (amortized) model": its module, as written (with
    the imports it lists), and its MODELS line give a method that trains, is kept and runs."""
    import pathlib
    import re
    import sys
    import types

    from nnbench.corpus import MATRIX_FAMILIES
    from nnbench.methods.amortized import AmortizedMethod, models

    text = (pathlib.Path(__file__).parents[1] / "docs" / "methods.md").read_text()
    section = text.split("### Adding a learned (amortized) model")[1]
    module = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    imports = (
        "import dataclasses\nfrom dataclasses import dataclass\nfrom typing import Any, ClassVar\n"
        "import numpy as np\nimport torch\n"
        "from nnbench.methods.amortized.config import TRAIN_NAMESPACE, minibatches\n"
        "from nnbench.methods.amortized.model import Model\n"
        "from nnbench.methods.preconditioners import SPD, spd_only\n"
        "from nnbench.seeds import derive_seed, stable_hash\n"
    )
    written = types.ModuleType("scaled_jacobi")  # a module: dataclasses read its namespace
    monkeypatch.setitem(sys.modules, written.__name__, written)
    source = "from __future__ import annotations\n" + imports + module
    exec(compile(source, "docs/methods.md", "exec"), written.__dict__)
    monkeypatch.setitem(models.MODELS, "scaled-jacobi", written.SCALED_JACOBI)
    method = AmortizedMethod("amortized-scaled-jacobi", written.ScaledJacobiConfig(), "")
    ready = method.small_budget().setup(RunContext(folder=tmp_path, dtype="float64"))
    fact = ready.factorize(MATRIX_FAMILIES["spd"].make(24, seed=1, dense=True))
    assert fact.kind == "precond" and fact.history is not None and ready.train_time_s > 0
    assert len(list((tmp_path / "models").glob("*.pt"))) == 1
