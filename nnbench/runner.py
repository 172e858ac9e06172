"""Run cells: generate the matrix, time the method, evaluate the metrics, yield one flat row."""

from __future__ import annotations

import math
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nnbench.devices import device_name, tf32_enabled
from nnbench.errors import Diverged, SkipCell
from nnbench.grid import Cell, static_skip_reason
from nnbench.memory import peak_mb, reset_peak
from nnbench.methods import Factorization, LUFactorization
from nnbench.metrics import METRICS, MetricInput, evaluate
from nnbench.results import CURVE_COLUMNS, RESULT_COLUMNS, Results
from nnbench.timing import time_call

STATUSES = ("ok", "skipped", "failed", "diverged", "timeout")


@dataclass(frozen=True)
class CellOutcome:
    row: dict[str, Any]
    curve: pd.DataFrame | None = None
    artifact: np.ndarray | None = None  # the approximation of an image, for the report


def keeps_artifact(cell: Cell) -> bool:
    """Rank-k approximations of images are kept so the report can show them side by side."""
    return "image" in cell.family.tags and cell.method.kind == "rank-k"


def base_row(cell: Cell) -> dict[str, Any]:
    return {
        "cell_id": cell.cell_id,
        "matrix": cell.family.name,
        "family": cell.family.name.split(":", 1)[0],  # "file" for file:PATH matrices
        "tags": ",".join(sorted(cell.family.tags)),
        "n": cell.n if cell.n is not None else max(cell.shape),
        "n_rows": cell.shape[0],
        "n_cols": cell.shape[1],
        "method": cell.method.name,
        "group": cell.method.group,
        "kind": cell.method.kind,
        "rank": cell.rank,
        "dtype": cell.dtype,
        "device": cell.device,
        "device_name": device_name(cell.device) if cell.device == "cpu" else "",
        "seed": cell.seed,
        "matrix_seed": cell.matrix_seed,
        "repeat": cell.repeat,
        "threads": cell.threads,
        "status": "ok",
        "reason": "",
        **{metric.name: math.nan for metric in METRICS},
        "time_s": math.nan,
        "time_iqr_s": math.nan,
        "timing_repeats": 0,
        "peak_mem_mb": math.nan,
        "tf32": False,
        "final_loss": math.nan,
        "steps": math.nan,
        "options": cell.method.options,
        "optimizer": "",
        "lr": math.nan,
        "init": "",
        "data_size": math.nan,
        "row_order": "",
        **cell.method.row_options(cell.n if cell.n is not None else max(cell.shape)),
    }


def row_order(perm: np.ndarray) -> str:
    """Which row of A each row of P^T A is, e.g. "2,0,1" (A = P L U)."""
    return ",".join(str(i) for i in np.argmax(perm, axis=0))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_cell(cell: Cell) -> CellOutcome:
    """Run one cell. Never raises for the method's sake: failures become statuses."""
    row = base_row(cell)
    reason = static_skip_reason(cell)
    if reason:
        return CellOutcome({**row, "status": "skipped", "reason": reason})
    row["device_name"] = device_name(cell.device)
    row["tf32"] = tf32_enabled(cell.device)
    a = cell.family.make(cell.n, seed=cell.matrix_seed, dtype=cell.dtype)
    method = cell.method
    try:
        x = method.prepare(a, device=cell.device)
        reset_peak(cell.device)
        raw, timing = time_call(
            lambda: method.compute(x, rank=cell.rank, seed=cell.seed),
            repeats=cell.timing_repeats,
            warmup=method.warmup,
            device=cell.device,
        )
        row["peak_mem_mb"] = peak_mb(cell.device)
        fact: Factorization = method.finish(raw)
    except SkipCell as skip:
        return CellOutcome({**row, "status": "skipped", "reason": skip.reason})
    except Diverged as diverged:
        return CellOutcome(
            {**row, "status": "diverged", "reason": str(diverged), "steps": diverged.step}
        )
    except Exception as exc:  # a method's crash is a row, not the end of the run
        traceback.clear_frames(exc.__traceback__)
        return CellOutcome({**row, "status": "failed", "reason": _first_line(exc)})
    metrics = evaluate(
        MetricInput(a=a.astype(np.float64), fact=fact, dtype=cell.dtype, rank=cell.rank)
    )
    row.update(
        metrics, time_s=timing.median_s, time_iqr_s=timing.iqr_s, timing_repeats=timing.repeats
    )
    if isinstance(fact, LUFactorization) and fact.P is not None:
        row["row_order"] = row_order(fact.P)
    curve = None
    if fact.history is not None:
        row.update(final_loss=fact.history.final_loss, steps=fact.history.steps)
        if fact.history.lr is not None:
            row["lr"] = fact.history.lr
        curve = pd.DataFrame(
            {
                "cell_id": cell.cell_id,
                "step": np.arange(1, fact.history.steps + 1),
                "unit": fact.history.unit,
                "loss": fact.history.loss,
                "elapsed_s": fact.history.elapsed_s,
            }
        )
    artifact = fact.reconstruct().astype(np.float32) if keeps_artifact(cell) else None
    return CellOutcome(row, curve, artifact)


def to_results(outcomes: Iterable[CellOutcome], provenance: dict[str, Any]) -> Results:
    outcomes = list(outcomes)
    results = pd.DataFrame([o.row for o in outcomes], columns=RESULT_COLUMNS)
    results["rank"] = results["rank"].astype("Int64")
    results["rank_ok"] = results["rank_ok"].map({1.0: True, 0.0: False}).astype("boolean")
    curves = [o.curve for o in outcomes if o.curve is not None]
    curve_frame = (
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=CURVE_COLUMNS)
    )
    artifacts = {o.row["cell_id"]: o.artifact for o in outcomes if o.artifact is not None}
    return Results(results=results, curves=curve_frame, provenance=provenance, artifacts=artifacts)


__all__ = ["STATUSES", "CellOutcome", "base_row", "run_cell", "to_results"]
