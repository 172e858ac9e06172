"""Shared by the asv benchmarks: parameters from the registries, one thread as in nnbench runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import METHODS, Method, RunContext
from nnbench.running.measure import scratch_folder
from nnbench.running.threads import DEFAULT_THREADS


def keyed(name: str) -> str:
    """The asv parameter of a method: `name@config_hash`, so that asv's history of a method
    whose configuration changed is a new series, not the old one continued under its name.
    `config_hash` is the same key a cell's id uses for its method; the id's other part, the
    code fingerprint (`Method.code_hash`), is left out here on purpose: asv's history runs
    along the commits, and a series is there to show what code changes did."""
    return f"{name}@{METHODS[name].config_hash}"


def method_name(param: str) -> str:
    return param.partition("@")[0]


CLASSICAL = [keyed(name) for name, m in METHODS.items() if m.group == "classical"]
TRAINED = [
    keyed(name)
    for name, m in METHODS.items()
    if m.group in ("hybrid", "neural") and not m.expensive
]
"""Hybrid and neural methods at their own budgets (the studies' minutes-long ones left out;
amortized models are trained by a run, not per benchmark call)."""
TORCH = [
    keyed(name)
    for name, m in METHODS.items()
    if m.backend == "torch" and (m.group == "classical" or name.startswith("hybrid"))
]
"""The methods that run on a torch device: asv times them on each device (`DEVICES`)."""
DEVICES = ["cpu", "cuda"]
SIZES = [64, 256]
RANK = 5


def limit_threads() -> None:
    torch.set_num_threads(DEFAULT_THREADS)
    threadpool_limits(limits=DEFAULT_THREADS)


def prepared(
    name: str, family: str, n: int, device: str = "cpu"
) -> tuple[Method, object, int | None]:
    """The method of asv parameter `name`, set up as a run sets it up (`Method.setup`), and
    its input for `family` at size n on `device`; or NotImplementedError (asv: skipped), e.g.
    for cuda on a machine without a GPU."""
    method = METHODS[method_name(name)]
    a = MATRIX_FAMILIES[family].make(n, seed=0)
    rank = RANK if method.needs_rank else None
    reason = method.skip_reason(a.shape, rank=rank, dtype="float64", device=device)
    if reason:
        raise NotImplementedError(reason)
    method = method.setup(RunContext(folder=scratch_folder(), device=device))
    return method, method.prepare(np.ascontiguousarray(a), device=device), rank


F = TypeVar("F", bound=Callable[..., float])


def unit(name: str) -> Callable[[F], F]:
    """The unit asv shows for a track_* benchmark (asv reads the function's `unit`)."""

    def mark(fn: F) -> F:
        fn.unit = name  # type: ignore[attr-defined]
        return fn

    return mark
