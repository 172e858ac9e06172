"""The group rule at run time (`running.guard`): a `neural` method that calls a factorization,
decomposition, inverse or solve gets `failed` rows naming the call; every shipped neural
method runs under the rule; other groups and other threads are untouched."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.linalg import lu_factor  # bound before any guard: the guard finds it here

from nnbench.api import METHODS, Grid, expand, run_grid
from nnbench.methods import Method, RunContext
from nnbench.running import guard
from nnbench.running.guard import REFUSED, GroupRuleViolation, group_rule, refusing_linalg
from nnbench.running.measure import run_cell, set_up


def _masks(x: torch.Tensor) -> dict[str, Any]:
    """A gradient-free stand-in for trained factors: A's triangles (no refused call)."""
    return {"L": torch.tril(x, -1) + torch.eye(x.shape[0], dtype=x.dtype), "U": torch.triu(x)}


class Cheating(Method):
    """A `neural` LU whose work is a library call (`call`), what the rule refuses."""

    kind, group, backend, square_only = "lu", "neural", "torch", True

    def __init__(self, name: str, call: Callable[[torch.Tensor], object]) -> None:
        self.name = name
        self.call = call

    def compute(self, x: Any, *, rank: int | None, seed: int) -> dict[str, Any]:
        self.call(x)
        return _masks(x)


class Swallowing(Cheating):
    """Calls what the rule refuses inside its own `except Exception` and carries on."""

    def compute(self, x: Any, *, rank: int | None, seed: int) -> dict[str, Any]:
        try:  # noqa: SIM105 (the clause a plug-in would write)
            self.call(x)
        except Exception:
            pass
        return _masks(x)


class TrainsWithASolve(Cheating):
    """Its training (`setup`) solves a system."""

    def setup(self, context: RunContext) -> Method:
        np.linalg.solve(np.eye(3), np.ones(3))
        return self


def _neural_lu_factor(x: torch.Tensor) -> object:
    return lu_factor(x.numpy())  # the name this module bound to scipy.linalg.lu_factor


def test_every_refused_function_exists_where_it_is_looked_for():
    """A misspelt name would refuse nothing, silently."""
    import importlib

    for path, names in REFUSED.items():
        try:
            owner: Any = importlib.import_module(path)
        except ModuleNotFoundError:
            module, attribute = path.rsplit(".", 1)
            owner = getattr(importlib.import_module(module), attribute)
        missing = [name for name in names if not callable(getattr(owner, name, None))]
        assert not missing, (path, missing)


@pytest.mark.parametrize(
    ("call", "refused"),
    [
        (torch.linalg.lu_factor, "torch.linalg.lu_factor"),
        (lambda x: np.linalg.solve(x.numpy(), np.ones(x.shape[0])), "numpy.linalg.solve"),
        (lambda x: scipy.linalg.lu_factor(x.numpy()), "scipy.linalg.lu_factor"),
        (_neural_lu_factor, "scipy.linalg.lu_factor"),
        (lambda x: x.inverse(), "torch.Tensor.inverse"),
        (lambda x: torch.linalg.eigvalsh(x), "torch.linalg.eigvalsh"),
    ],
    ids=["torch", "numpy", "scipy", "bound-name", "tensor-method", "eigenvalues"],
)
def test_a_neural_method_that_factorizes_gets_failed_rows_naming_the_call(
    call, refused, monkeypatch
):
    for method in (Cheating("test-cheating", call), Swallowing("test-swallowing", call)):
        monkeypatch.setitem(METHODS, method.name, method)
        grid = Grid(matrices=("spd", "diag-dominant"), methods=(method.name,), sizes=(8,))
        rows = run_grid(grid).results
        assert (rows.status == "failed").all(), rows.reason.tolist()
        assert rows.reason.str.contains(f"called {refused}:", regex=False).all()
        assert rows.reason.str.startswith(f"GroupRuleViolation: {method.name} called").all()


def test_the_same_call_in_a_hybrid_or_classical_method_is_allowed(monkeypatch):
    for group in ("hybrid", "classical"):
        method = Cheating(f"test-{group}", torch.linalg.lu_factor)
        method.group = group
        monkeypatch.setitem(METHODS, method.name, method)
        grid = Grid(matrices=("spd",), methods=(method.name,), sizes=(8,), timing_repeats=1)
        assert run_grid(grid).results.status.tolist() == ["ok"]


def test_a_neural_methods_training_in_the_cell_is_guarded_too(monkeypatch):
    """`Method.setup` where the cell sets its method up (a worker, a cell run on its own)."""
    method = TrainsWithASolve("test-trains", lambda x: None)
    monkeypatch.setitem(METHODS, method.name, method)
    cell = expand(Grid(matrices=("spd",), methods=(method.name,), sizes=(8,)))[0]
    with pytest.raises(GroupRuleViolation, match=r"called numpy\.linalg\.solve"):
        set_up(cell)
    row = run_cell(cell).row
    assert row.outcome.status == "failed" and "numpy.linalg.solve" in row.outcome.reason


def test_the_originals_are_back_after_the_guard_and_other_threads_never_see_it():
    originals = {
        name: getattr(owner, name)
        for owner, name in [(torch.linalg, "lu_factor"), (np.linalg, "solve"), (scipy.linalg, "qr")]
    }
    method = Cheating("test-threads", lambda x: None)
    inside, done = threading.Event(), threading.Event()
    seen: list[object] = []

    def other_thread() -> None:
        inside.wait()
        seen.append(scipy.linalg.lu_factor(np.eye(3))[1])  # while the main thread is guarded
        seen.append(torch.linalg.qr(torch.eye(2)).Q)
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with pytest.raises(GroupRuleViolation, match="numpy.linalg.solve"), refusing_linalg(method):
        assert torch.linalg.lu_factor is not originals["lu_factor"]
        inside.set()
        done.wait(10)
        np.linalg.solve(np.eye(2), np.ones(2))
    worker.join()
    assert len(seen) == 2  # the other thread factorized while the guard held
    assert torch.linalg.lu_factor is originals["lu_factor"]
    assert np.linalg.solve is originals["solve"] and scipy.linalg.qr is originals["qr"]
    assert globals()["lu_factor"] is scipy.linalg.lu_factor  # the bound name, put back too
    assert not guard._PATCHES  # nothing left swapped


def test_the_rule_is_for_neural_methods_only():
    method = Cheating("test-rule", torch.linalg.lu_factor)
    with pytest.raises(GroupRuleViolation), group_rule(method):
        torch.linalg.lu_factor(torch.eye(2))
    method.group = "hybrid"
    with group_rule(method):
        torch.linalg.lu_factor(torch.eye(2))


SHIPPED_NEURAL = [name for name, m in METHODS.items() if m.group == "neural" and not m.expensive]


@pytest.mark.parametrize("name", SHIPPED_NEURAL)
def test_every_shipped_neural_method_runs_under_the_rule(name, tmp_path):
    """In a run, at a small budget: the warm-up, the timed calls and `finish` are guarded."""
    method = METHODS[name].small_budget()
    grid = Grid(matrices=("spd",), methods=(name,), sizes=(12,), ranks=(3,), timing_repeats=2)
    cell = dataclasses.replace(expand(grid)[0], method=method, shared=str(tmp_path))
    row = run_cell(cell).row
    assert row.outcome.status == "ok", row.outcome.reason
