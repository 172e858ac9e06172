"""`kind:` selects the methods of a task that run in seconds (issue 33 item 6): never one that
would first train a model, unless the run's folder holds it; named, every method runs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from nnbench.api import METHODS, Grid, expand, run_grid, select_methods
from nnbench.methods import KINDS, RunContext
from nnbench.methods.amortized import MODELS, ModelStore, Trained


@pytest.mark.parametrize("kind", KINDS)
def test_kind_selects_no_method_that_trains_a_model_first(kind):
    chosen = select_methods(f"kind:{kind}")
    assert chosen and all(m.kind == kind for m in chosen)
    assert not [m.name for m in chosen if m.trains_model or m.expensive]


def test_the_methods_that_train_a_model_first():
    training = {name for name, m in METHODS.items() if m.trains_model}
    assert {"amortized-lu", "amortized-ic", "amortized-gnn-ic", "gmres-warm-lu"} <= training
    assert not select_methods("gmres-warm-lu[start=ilu]")[0].trains_model


def test_named_they_are_selected_whatever_they_cost():
    names = ["gmres-warm-lu", "amortized-ic", "amortized-gnn-ic"]
    assert [m.name for m in select_methods(",".join(names))] == names


def _store_untrained_model(folder, name: str, device: str, dtype: str) -> None:
    """A model file for `name`'s default config, as its setup would leave it (the weights
    are untrained: only their presence matters here)."""
    method = METHODS[name]
    config = method.config
    net = MODELS[config.structure].build(config)
    trained = Trained(config, net, np.zeros(1), np.zeros(1), train_time_s=0.0)
    ModelStore(folder / "models").save(trained, device, dtype, code=method.code_hash)


def test_kind_selects_a_method_whose_model_the_run_folder_holds(tmp_path):
    context = RunContext(folder=tmp_path, device="cpu", dtype="float64")
    assert not METHODS["amortized-ic"].has_trained_model(context)
    _store_untrained_model(tmp_path, "amortized-ic", "cpu", "float64")
    assert METHODS["amortized-ic"].has_trained_model(context)
    chosen = [m.name for m in select_methods("kind:precond", trained_in=[context])]
    assert "amortized-ic" in chosen and "amortized-gnn-ic" not in chosen
    assert "gmres-warm-lu" not in chosen  # it trains a network per size, in its cells

    grid = Grid(matrices=("spd",), methods=("kind:precond",), sizes=(8,))
    in_folder = {c.method.name for c in expand(grid, folder=tmp_path)}
    assert "amortized-ic" in in_folder
    assert "amortized-ic" not in {c.method.name for c in expand(grid)}
    # every dtype of the grid must have its model: float32's is not there
    both = grid.replace(dtypes=("float64", "float32"))
    assert "amortized-ic" not in {c.method.name for c in expand(both, folder=tmp_path)}


def test_kind_precond_on_a_user_matrix_runs_only_the_classical_preconditioners(tmp_path):
    """The acceptance case: a 260-row SPD mesh from a file (measured: the whole command in
    about 7 s, where gmres-warm-lu's in-cell training had taken over 10 minutes)."""

    def second_difference(k: int) -> scipy.sparse.csr_array:
        return scipy.sparse.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(k, k))

    path = tmp_path / "mesh.mtx"  # the 5-point Laplacian of a 13 x 20 grid
    scipy.io.mmwrite(path, scipy.sparse.kronsum(second_difference(13), second_difference(20)))
    grid = Grid(matrices=(f"file:{path}",), methods=("kind:precond",), timing_repeats=1)
    rows = run_grid(grid).results
    assert set(rows.n) == {260}
    assert not any(METHODS[name].trains_model for name in rows.method)
    assert (rows.status == "ok").all(), rows[["method", "reason"]]
