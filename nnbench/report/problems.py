"""Problems, tasks and results folders: the keys the fair comparison groups results by.

A *problem* is (task, batch, matrix, n, rank, dtype, device) within one results folder: a
batched task (a stack of small matrices per call) is a task of its own. Pure functions of
the results, and `per_table`, which computes one of them once per results table."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

SOURCE = "source"  # which results folder (one run) a row came from: `build.combine` sets it
MACHINE = "machine"  # the machine its folder ran on (CPU, threads, GPUs): `build.combine` too
PROBLEM = ["kind", "batch", "matrix", "n", "rank", "dtype", "device", SOURCE]
"""A problem is judged within one run: the same matrix in two results folders is two
problems, so no time is compared with one measured in another run."""


def sourced(results: pd.DataFrame) -> pd.DataFrame:
    """`results` with its `source` column: 0 throughout for a single run's table."""
    return results if SOURCE in results.columns else results.assign(**{SOURCE: 0})


def by_folder(results: pd.DataFrame) -> bool:
    """Whether the results come from folders run on different machines (or thread counts):
    then the verdict gives each folder its own rows, never pooling ratios across machines."""
    return MACHINE in results.columns and results[MACHINE].nunique() > 1


def folder_labels(results: pd.DataFrame) -> dict[int, str]:
    """Each results folder with its machine, as the page names it where the folders ran on
    different machines: "2 (CPU ..., 4 thread(s))" (numbered in the provenance's order)."""
    machines = sourced(results).drop_duplicates(SOURCE).set_index(SOURCE)
    return {int(s): f"{int(s) + 1} ({m})" for s, m in machines.get(MACHINE, {}).items()}


T = TypeVar("T")


def per_table(fn: Callable[[pd.DataFrame], T]) -> Callable[[pd.DataFrame], T]:
    """`fn(results)` computed once for each results table while the table lives: a report's
    tables and figures ask the same question (its points, its verdict) of one table a dozen
    times. Tables are never changed in place here, and neither is what `fn` returns."""
    memo: dict[int, tuple[weakref.ref[pd.DataFrame], Any]] = {}

    @functools.wraps(fn)
    def cached(results: pd.DataFrame) -> T:
        key = id(results)
        hit = memo.get(key)
        if hit is not None and hit[0]() is results:
            return hit[1]
        value = fn(results)
        memo[key] = (weakref.ref(results, lambda _: memo.pop(key, None)), value)
        return value

    return cached


GROUP_ORDER = ("classical", "hybrid", "neural", "amortized")
TASK = ["kind", "batch", "dtype", "device"]  # a verdict row


def source_shown(table: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """A table's `source` as "results folder" (1, 2, ... in the provenance's order, with its
    machine where they differ: `folder_labels`) where the report combines several runs; left
    out for one."""
    if table[SOURCE].nunique() <= 1:
        return table.drop(columns=SOURCE)
    labels = folder_labels(results)
    shown = table[SOURCE] + 1 if not by_folder(results) else table[SOURCE].map(labels)
    return table.assign(**{SOURCE: shown}).rename(columns={SOURCE: "results folder"})


Key = tuple[object, ...]


def problem_key(values: Sequence[object]) -> Key:
    """A problem's key with missing values (an LU's rank) as None, so that keys compare."""
    return tuple(None if pd.isna(v) else v for v in values)


def task_label(problem: dict[str, object]) -> str:
    """A task as its tables name it: "lu x1000, float64, cpu"."""
    batch = problem["batch"]
    times = f" x{batch}" if isinstance(batch, (int, np.integer)) and batch > 1 else ""
    return f"{problem['kind']}{times}, {problem['dtype']}, {problem['device']}"
