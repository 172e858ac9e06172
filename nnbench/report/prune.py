"""Results folders pruned for committing: of the artifacts a run kept (`artifacts/*.npz`:
pictures, singular values, factors), only the fields the report draws, pictures as the 256
grey levels they are drawn with; of each loss curve at most `CURVE_POINTS` evenly spaced steps
(its first and last kept). A committed report is then rebuilt, figures included, from what is
in git (`reports/rebuild.sh`), and the page built after pruning is the one committed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from nnbench.report.build import combine
from nnbench.report.figures import FIGURES
from nnbench.report.spec import FigureSpec, HeadlineSpec, NoteSpec, TableSpec
from nnbench.report.tables import TABLES
from nnbench.results import Results, atomic_write, load_results
from nnbench.results.artifact import read_artifact
from nnbench.results.table import write_parquet

CURVE_POINTS = 256  # a loss-curve panel is about 500 pixels wide

Section = TableSpec | FigureSpec | NoteSpec | HeadlineSpec


@dataclass(frozen=True)
class Pruned:
    artifacts_kept: int
    artifacts_removed: int
    artifact_bytes: tuple[int, int]  # before, after
    curve_steps: tuple[int, int]  # before, after

    def __str__(self) -> str:
        (a0, a1), (c0, c1) = self.artifact_bytes, self.curve_steps
        return (
            f"pruned: kept {self.artifacts_kept} artifacts ({a1:,} of {a0:,} bytes), removed "
            f"{self.artifacts_removed}; curves {c1:,} of {c0:,} steps"
        )


def drawn_artifacts(res: Results, sections: Iterable[Section]) -> dict[str, set[str]]:
    """The artifact fields the report's own sections and `sections` draw, by cell id."""
    drawn: dict[str, set[str]] = defaultdict(set)
    for spec in [*TABLES, *FIGURES, *sections]:
        if isinstance(spec, TableSpec | FigureSpec) and spec.draws is not None:
            for cell, name in spec.draws(res):
                drawn[cell].add(name)
    return dict(drawn)


def thin_curves(curves: pd.DataFrame, points: int = CURVE_POINTS) -> pd.DataFrame:
    """Each cell's curve at most `points` steps: every s-th (s a power of two, so curves of
    similar length keep the same steps and their quantiles line up), first and last kept."""
    if curves.empty:
        return curves
    by_cell = curves.groupby("cell_id", sort=False)
    length = by_cell.step.transform("size")
    index = by_cell.cumcount()
    stride = 2 ** np.ceil(np.log2(np.maximum(length / points, 1.0))).astype(int)
    keep = (index % stride == 0) | (index == length - 1)
    return curves[keep.to_numpy()].reset_index(drop=True)


def prune_results(folders: Sequence[Path], sections: Iterable[Section]) -> Pruned:
    """Prune `folders` (one report's results) in place: each file is replaced whole, so a
    folder is never left with a partial file."""
    drawn = drawn_artifacts(combine([load_results(folder) for folder in folders]), sections)
    kept = removed = before = after = steps_before = steps_after = 0
    for folder in folders:
        for path in sorted((folder / "artifacts").glob("*.npz")):
            before += path.stat().st_size
            if path.stem not in drawn:
                path.unlink()
                removed += 1
                continue
            atomic_write(path, read_artifact(path).only(drawn[path.stem]).write)
            kept += 1
            after += path.stat().st_size
        curves_file = folder / "curves.parquet"
        if curves_file.is_file():
            curves = pd.read_parquet(curves_file)
            thin = thin_curves(curves)
            steps_before, steps_after = steps_before + len(curves), steps_after + len(thin)
            if len(thin) < len(curves):
                atomic_write(curves_file, partial(write_parquet, thin))
    return Pruned(kept, removed, (before, after), (steps_before, steps_after))
