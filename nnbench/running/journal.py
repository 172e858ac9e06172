"""The run journal behind cache and resume: one JSON line per finished cell (its typed row),
appended after its curve and artifact files are in place, so a line means the cell is
complete. A run killed at any moment leaves at most a torn last line, which loading ignores
(and the next append starts a line after); a cell that appears twice (re-run with --force, or
a failed cell tried again) counts once, the last time.

Lines are keyed by `cell_id` (`Cell.description`), which holds the method's configuration
and code fingerprints: a line is reused only by a cell of the same id, so a cell computed by
other code (an edited method) is recomputed, and a reworded description is not."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnbench.results import Row, atomic_write
from nnbench.results.artifact import Artifact, read_artifact
from nnbench.running.cell import CellResult

JOURNAL_DIR = ".journal"


def _plain(value: Any) -> Any:
    """JSON for what `json` cannot write itself: numpy scalars."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot journal {type(value).__name__}")


def _json_line(row: Row) -> str:
    return json.dumps(row.flat(), default=_plain)  # NaN and Infinity as Python's json writes


class Journal:
    def __init__(self, out: str | Path) -> None:
        self.dir = Path(out) / JOURNAL_DIR
        self.lines = self.dir / "cells.jsonl"

    def load(self) -> dict[str, CellResult]:
        """Finished cells by cell_id, in the order of their last lines."""
        if not self.lines.is_file():
            return {}
        done: dict[str, CellResult] = {}
        for line in self.lines.read_text().splitlines():
            try:
                row = Row.from_flat(json.loads(line))
            except (json.JSONDecodeError, KeyError, TypeError):  # the torn tail of a kill
                continue
            cell_id = row.cell.cell_id
            done.pop(cell_id, None)
            done[cell_id] = CellResult(row, self._curve(cell_id), self._artifact(cell_id))
        return done

    def append(self, result: CellResult) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        cell_id = result.row.cell.cell_id
        curve, artifact = result.curve, result.artifact
        if curve is not None:
            atomic_write(
                self.dir / "curves" / f"{cell_id}.parquet",
                lambda p: curve.to_parquet(p, index=False),
            )
        if artifact is not None:
            atomic_write(self.dir / "artifacts" / f"{cell_id}.npz", artifact.write)
        line = (_json_line(result.row) + "\n").encode()
        fd = os.open(self.lines, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # after a torn line, which stays a line of its own
            # one write() of a regular file: a signal (Ctrl-C) does not cut it
            while line:
                line = line[os.write(fd, line) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _curve(self, cell_id: str) -> pd.DataFrame | None:
        path = self.dir / "curves" / f"{cell_id}.parquet"
        return pd.read_parquet(path) if path.is_file() else None

    def _artifact(self, cell_id: str) -> Artifact | None:
        path = self.dir / "artifacts" / f"{cell_id}.npz"
        return read_artifact(path) if path.is_file() else None
