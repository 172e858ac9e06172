"""track_* accuracy that must not regress (asv: lower is better), one run per class through
the same `run_grid` API as the CLI."""

from __future__ import annotations

import pandas as pd

from nnbench.methods import METHODS
from nnbench.running.grid import Grid
from nnbench.running.run import run_grid

from .common import CLASSICAL, RANK, TRAINED, limit_threads, method_name, unit

ACCURACY_MATRICES = ["spd", "randsvd", "image-logo"]
NEURAL_MATRICES = ["random-uniform", "diagonal-mn0", "image-logo"]


def _ok(df: pd.DataFrame, method: str, matrix: str) -> pd.DataFrame:
    """`ok` cells of the asv parameter `method` (`name@config_hash`) on `matrix`."""
    name = method_name(method)
    return df[(df.method == name) & (df.matrix == matrix) & (df.status == "ok")]


def _median(df: pd.DataFrame, column: str, method: str, matrix: str) -> float:
    return float(_ok(df, method, matrix)[column].median())


class _FromCache:
    """asv skips a parameter set only from `setup`: skip cells that were not `ok`."""

    def setup(self, df: pd.DataFrame, method: str, matrix: str) -> None:
        if _ok(df, method, matrix).empty:
            here = (df.method == method_name(method)) & (df.matrix == matrix)
            reasons = df[here].reason.unique()
            raise NotImplementedError(f"no ok cell: {'; '.join(map(str, reasons))}")


class ClassicalAccuracy(_FromCache):
    params = (CLASSICAL, ACCURACY_MATRICES)
    param_names = ("method", "matrix")

    def setup_cache(self) -> pd.DataFrame:
        limit_threads()
        grid = Grid(
            matrices=tuple(ACCURACY_MATRICES),
            methods=tuple(map(method_name, CLASSICAL)),
            sizes=(64,),
            ranks=(RANK,),
            repeats=2,
            timing_repeats=1,
        )
        return run_grid(grid).results

    @unit("relative error")
    def track_rel_err_fro(self, df: pd.DataFrame, method: str, matrix: str) -> float:
        return _median(df, "rel_err_fro", method, matrix)


class TrainedLowRankAccuracy(_FromCache):
    params = ([m for m in TRAINED if METHODS[method_name(m)].kind == "rank-k"], NEURAL_MATRICES)
    param_names = ("method", "matrix")
    timeout = 900

    def setup_cache(self) -> pd.DataFrame:
        limit_threads()
        methods = tuple(map(method_name, self.params[0]))
        grid = Grid(
            matrices=tuple(NEURAL_MATRICES),
            methods=methods,
            sizes=(32,),
            ranks=(RANK,),
            repeats=2,
            timing_repeats=1,
        )
        return run_grid(grid).results

    @unit("ratio - 1")
    def track_ratio_2_minus_1(self, df: pd.DataFrame, method: str, matrix: str) -> float:
        return _median(df, "ratio_2", method, matrix) - 1.0

    @unit("cells")
    def track_rank_mismatches(self, df: pd.DataFrame, method: str, matrix: str) -> float:
        return float((~_ok(df, method, matrix).rank_ok.astype(bool)).sum())

    @unit("steps")
    def track_steps(self, df: pd.DataFrame, method: str, matrix: str) -> float:
        return _median(df, "steps", method, matrix)
