"""The run journal behind cache and resume: one JSON line per finished cell, appended after its
curve and artifact files are in place, so a line means the cell is complete. A run killed at
any moment leaves at most a torn last line, which loading ignores; a cell that appears twice
(re-run with --force) counts once, the last time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnbench.results import atomic_write, save_npy

JOURNAL_DIR = ".journal"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA:
        return None
    raise TypeError(f"cannot journal {type(value).__name__}")


class Journal:
    def __init__(self, out: str | Path) -> None:
        self.dir = Path(out) / JOURNAL_DIR
        self.lines = self.dir / "cells.jsonl"

    def load(self) -> dict[str, Any]:
        """Finished cells by cell_id (as `CellOutcome`s)."""
        from nnbench.runner import CellOutcome

        if not self.lines.is_file():
            return {}
        done: dict[str, CellOutcome] = {}
        for line in self.lines.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # the torn tail of a killed run
                continue
            cell_id = row["cell_id"]
            done[cell_id] = CellOutcome(row, self._curve(cell_id), self._artifact(cell_id))
        return done

    def append(self, outcome: Any) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        cell_id = outcome.row["cell_id"]
        if outcome.curve is not None:
            curve = outcome.curve
            atomic_write(
                self.dir / "curves" / f"{cell_id}.parquet",
                lambda p: curve.to_parquet(p, index=False),
            )
        if outcome.artifact is not None:
            artifact = outcome.artifact
            atomic_write(self.dir / "artifacts" / f"{cell_id}.npy", lambda p: save_npy(p, artifact))
        text = json.dumps(outcome.row, default=_plain, allow_nan=True)
        with open(self.lines, "a") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _curve(self, cell_id: str) -> pd.DataFrame | None:
        path = self.dir / "curves" / f"{cell_id}.parquet"
        return pd.read_parquet(path) if path.is_file() else None

    def _artifact(self, cell_id: str) -> np.ndarray | None:
        path = self.dir / "artifacts" / f"{cell_id}.npy"
        return np.load(path) if path.is_file() else None
