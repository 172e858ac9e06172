"""`nnbench check`'s conformance suite (`nnbench.check`) on methods defined here: a correct
LU passes every check; a wrong one fails the check it breaks, with the reason."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.linalg
import torch

from nnbench.check import CHECKS, CheckResult, check_methods, print_results
from nnbench.errors import SkipCell
from nnbench.methods import METHODS, Method, Requirements
from nnbench.methods.base import LibraryOutput


def _dense_lu(output: Any, rank: int | None) -> dict[str, np.ndarray]:
    lu, piv = output
    n = lu.shape[0]
    order = np.arange(n)
    for i, j in enumerate(piv):  # LAPACK's row exchanges, in turn
        order[[i, j]] = order[[j, i]]
    p = np.eye(n, dtype=lu.dtype)[:, order]
    return {"P": p, "L": np.tril(lu, -1) + np.eye(n, dtype=lu.dtype), "U": np.triu(lu)}


class PluginLU(Method):
    """What a user would write: scipy's partial-pivoting LU, its library call alone timed."""

    name, kind, backend, square_only = "test-plugin-lu", "lu", "numpy", True

    def compute(self, x: Any, *, rank: int | None, seed: int) -> LibraryOutput:
        return LibraryOutput(scipy.linalg.lu_factor(x, check_finite=False), rank, _dense_lu)


class NotUpperLU(PluginLU):
    """Rebuilds A, but its U is A itself: not upper triangular."""

    name = "test-not-upper"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> dict[str, Any]:
        return {"L": np.eye(x.shape[0], dtype=x.dtype), "U": x.copy()}


class NeuralByLibrary(Method):
    """Declares `neural`, factors by `torch.linalg.lu_factor`."""

    name, kind, group, backend, square_only = "test-neural-lu-factor", "lu", "neural", "torch", True

    def compute(self, x: Any, *, rank: int | None, seed: int) -> dict[str, Any]:
        p, lower, upper = torch.lu_unpack(*torch.linalg.lu_factor(x))
        return {"P": p, "L": lower, "U": upper}


class CrashesOnSingular(PluginLU):
    """Raises where it should decline (and says nothing of what it requires)."""

    name = "test-crashes"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> LibraryOutput:
        if abs(np.linalg.det(x)) < 1e-12:
            raise ValueError("singular matrix")
        return super().compute(x, rank=rank, seed=seed)


class DeclinesWhatItShouldNot(PluginLU):
    """Requires nothing, declines symmetric matrices anyway."""

    name = "test-declines"

    def prepare(self, a: Any, *, device: str) -> Any:
        if np.allclose(a, np.transpose(a)):
            raise SkipCell("symmetric: not mine")
        return a


class UnseededRankK(Method):
    """A random projection drawn from numpy's global generator, not from `seed`."""

    name, kind, backend = "test-unseeded", "rank-k", "numpy"

    def compute(self, x: Any, *, rank: int | None, seed: int) -> dict[str, Any]:
        assert rank is not None
        q, _ = np.linalg.qr(x @ np.random.standard_normal((x.shape[1], rank)))
        return {"left": q, "right": q.T @ x}


class KeepsNoFloat32(PluginLU):
    name = "test-float64"

    def prepare(self, a: Any, *, device: str) -> Any:
        return np.asarray(a, dtype=np.float64)


class HybridByName(NeuralByLibrary):
    """Declares `hybrid`, but its work is a mask of A: by the rule it is neural."""

    name, group = "test-hybrid-in-name", "hybrid"
    requires = Requirements(without=frozenset({"needs_pivoting"}))

    def compute(self, x: Any, *, rank: int | None, seed: int) -> dict[str, Any]:
        if x.shape[0] > 1 and bool(torch.any(torch.diagonal(x) == 0)):
            raise SkipCell("a zero on the diagonal")
        eye = torch.eye(x.shape[0], dtype=x.dtype)
        return {"L": torch.tril(x, -1) / torch.diagonal(x) + eye, "U": torch.triu(x)}


def _by_check(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check: r for r in results}


def _failed(method: Method) -> dict[str, str]:
    return {r.check: r.reason for r in check_methods([method]) if not r.passed}


def test_a_correct_plug_in_passes_every_check(capsys):
    results = check_methods([PluginLU()])
    assert [r.check for r in results] == list(CHECKS)
    assert all(r.passed for r in results), [r for r in results if not r.passed]
    assert print_results(results) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ test-plugin-lu: declaration"
    assert "✓ test-plugin-lu: group rule — not held: classical: judged as declared" in out
    assert out[-1] == f"{len(CHECKS)} passed, 0 failed"


def test_u_not_upper_triangular_fails_the_structure_check_with_the_reason(capsys):
    results = check_methods([NotUpperLU()])
    failed = {r.check: r.reason for r in results if not r.passed}
    assert list(failed) == ["structure"]
    assert failed["structure"].startswith("on spd 64x64: U is not upper triangular")
    assert print_results(results) == 1
    out = capsys.readouterr().out
    assert f"✗ test-not-upper: structure — {failed['structure']}\n" in out


def test_a_neural_method_calling_lu_factor_fails_the_group_rule_naming_the_call():
    failed = _failed(NeuralByLibrary())
    assert failed["group rule"].startswith("test-neural-lu-factor called torch.linalg.lu_factor:")
    assert "no training history" in failed["factors of its kind"]  # not trained: no curve


def test_a_hybrid_that_calls_no_classical_linear_algebra_is_neural_by_the_rule():
    failed = _failed(HybridByName())
    assert "group rule" in failed and "by the rule it is neural" in failed["group rule"]


@pytest.mark.parametrize(
    ("method", "check", "reason"),
    [
        (CrashesOnSingular(), "declines by SkipCell", "ValueError: singular matrix"),
        (DeclinesWhatItShouldNot(), "declared refusals", "which meets its requirements"),
        (UnseededRankK(), "same seed, same factors", "gave different left"),
        (KeepsNoFloat32(), "dtype and device kept", "is float64 for a float32 input"),
    ],
    ids=["crash", "undeclared-skip", "unseeded", "dtype"],
)
def test_a_broken_contract_fails_its_check_with_the_reason(method, check, reason):
    failed = _failed(method)
    assert check in failed and reason in failed[check], failed


@pytest.mark.parametrize(
    "name", ["scipy-lu", "torch-qr", "scipy-tsvd", "gram-schmidt", "ic0", "neural-lu-convex"]
)
def test_shipped_methods_pass_the_check(name):
    results = check_methods([METHODS[name]])
    assert all(r.passed for r in results), [r for r in results if not r.passed]


PLUGIN = """
import torch

from nnbench.api import Method


class UpperIsNot(Method):
    name, kind, backend, square_only = "wrong-upper", "lu", "torch", True

    def compute(self, x, *, rank, seed):
        return {"L": torch.eye(x.shape[0], dtype=x.dtype), "U": x.clone()}


class NeuralCheat(Method):
    name, kind, group, backend, square_only = "neural-cheat", "lu", "neural", "torch", True

    def compute(self, x, *, rank, seed):
        p, lower, upper = torch.lu_unpack(*torch.linalg.lu_factor(x))
        return {"P": p, "L": lower, "U": upper}


NNBENCH_METHODS = [UpperIsNot(), NeuralCheat()]
"""


@pytest.fixture
def plugin(tmp_path):
    """The plug-in above in a file; the registries as they were after the test."""
    import sys

    from nnbench.sources import PLUGINS

    path = tmp_path / "cheats.py"
    path.write_text(PLUGIN)
    saved, modules = (dict(METHODS), dict(PLUGINS)), set(sys.modules)
    yield path
    for live, old in zip((METHODS, PLUGINS), saved, strict=True):
        live.clear()
        live.update(old)  # type: ignore[arg-type]
    for name in set(sys.modules) - modules:
        if name.startswith("nnbench_plugin_"):
            del sys.modules[name]


def test_nnbench_check_and_run_judge_a_plug_in(plugin, tmp_path, capsys):
    """Acceptance: through the command line, `check` fails the wrong LU (its U) and the
    neural one (the call it makes), and `run` gives the neural one failed rows naming it."""
    import pandas as pd

    from nnbench.cli import main

    assert main(["check", "--plugin", str(plugin), "wrong-upper", "neural-cheat"]) == 1
    out = capsys.readouterr().out
    assert "✗ wrong-upper: structure — on spd 64x64: U is not upper triangular" in out
    assert "✗ neural-cheat: group rule — neural-cheat called torch.linalg.lu_factor:" in out
    assert "✓ wrong-upper: backward error\n" in out
    run = ["run", "--plugin", str(plugin), "--methods", "neural-cheat", "--matrices", "spd"]
    assert main([*run, "--sizes", "8", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    rows = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert rows.status.tolist() == ["failed"]
    assert "neural-cheat called torch.linalg.lu_factor:" in rows.reason.iloc[0]
