from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch

from nnbench.corpus import MATRIX_FAMILIES, MatrixFamily
from nnbench.methods import Method
from nnbench.methods.amortized import AmortizedMethod
from nnbench.methods.fingerprint import code_fingerprint
from nnbench.methods.trained import NeuralLowRank, NeuralLU
from nnbench.running.threads import DEFAULT_THREADS

# Methods called directly (not through the runner) run with the runner's thread count: on a
# 2-core machine torch's default of 2 threads made small trainings 10-30x slower.
torch.set_num_threads(DEFAULT_THREADS)

SIZES = (2, 5, 16)


def instances() -> list[tuple[MatrixFamily, int | None]]:
    """(family, n) pairs covering every family: sizable ones at several sizes."""
    out: list[tuple[MatrixFamily, int | None]] = []
    for family in MATRIX_FAMILIES.values():
        out += [(family, n) for n in SIZES] if family.sizable else [(family, None)]
    return out


def instance_id(item: tuple[MatrixFamily, int | None]) -> str:
    family, n = item
    return f"{family.name}-{n}" if n else family.name


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def edit_code(monkeypatch):
    """`edit_code(target, name, value)`: monkeypatch.setattr for code, with the (cached) code
    fingerprints recomputed while the edit holds and again once it is undone."""

    def edit(target: object, name: str, value: object) -> None:
        monkeypatch.setattr(target, name, value)
        code_fingerprint.cache_clear()

    yield edit
    monkeypatch.undo()
    code_fingerprint.cache_clear()


def on_small_budget(method: Method) -> Method:
    """The same trained model with a few steps: the contract, not the accuracy, is tested."""
    if isinstance(method, NeuralLU):
        return method.with_config(replace(method.config, steps=20))
    if isinstance(method, NeuralLowRank):
        return method.with_config(replace(method.config, samples=64, epochs=2, max_steps=30))
    if isinstance(method, AmortizedMethod):
        return method.with_config(replace(method.config, steps=20, count=64))
    return method


def compiled(source: str, name: str) -> Any:
    """`name` from `source` run as a module of its own (two versions of some code)."""
    namespace: dict[str, Any] = {"__name__": "edited_module"}
    exec(compile(source, "edited_module.py", "exec"), namespace)
    return namespace[name]


DOUBLING = """
import numpy as np
from nnbench.methods import Method

class Doubling(Method):
    \"\"\"{doc}\"\"\"

    name, kind, description = "test-double", "rank-k", "{description}"

    def compute(self, x, *, rank, seed):
        return {{"left": {left}, "right": np.eye(x.shape[1], dtype=x.dtype)}}
"""


def doubling_method(
    *, left: str = "2 * x", description: str = "scales A by two", doc: str = "Doubles A."
) -> Method:
    """A version of one method (the same class name and module): `left` is its code."""
    source = DOUBLING.format(left=left, description=description, doc=doc)
    return compiled(source, "Doubling")()
