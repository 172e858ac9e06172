"""The results folder: `results.parquet` + `results.csv` (one row per cell, columns from
`record.Row`), `curves.parquet` (loss per training step), `run.json` (provenance) and
`artifacts/CELL_ID.npz` (see `artifact.Artifact`). Files are written whole and renamed into
place, so a reader never sees a partial file."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from nnbench.errors import NNBenchError
from nnbench.results.artifact import Artifact, read_artifact
from nnbench.results.record import conform

SCHEMA_VERSION = 2  # 2: typed rows (settings columns switch_to, lr_rule, switch_step), .npz

CURVE_COLUMNS: list[str] = ["cell_id", "step", "unit", "loss", "elapsed_s"]


@dataclass(frozen=True)
class Results:
    """A run's tables and provenance, as notebooks and the report use them."""

    results: pd.DataFrame
    curves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CURVE_COLUMNS))
    provenance: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)  # by cell_id

    def save(self, out: str | Path, written: Callable[[str], Path] | None = None) -> Path:
        """Write the results folder; existing files of the same names are replaced atomically.
        `written(cell_id)` names where a cell's artifact is already written (the journal's
        copy): that file is hard-linked into the folder rather than written again."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "results.parquet", partial(write_parquet, self.results))
        atomic_write(out / "results.csv", lambda p: self.results.to_csv(p, index=False))
        atomic_write(out / "curves.parquet", partial(write_parquet, self.curves))
        if self.artifacts:
            (out / "artifacts").mkdir(exist_ok=True)
        for cell_id, artifact in self.artifacts.items():
            source = written(cell_id) if written is not None else None
            write = partial(_link, source) if source is not None and source.is_file() else None
            atomic_write(out / "artifacts" / f"{cell_id}.npz", write or artifact.write)
        text = json.dumps(self.provenance, indent=2, default=str)
        atomic_write(out / "run.json", lambda p: Path(p).write_text(text))
        return out


def _link(source: Path, path: str) -> None:
    """`path` as a hard link to `source` (a copy where the file system has no links)."""
    os.unlink(path)  # atomic_write's temporary name, made empty
    try:
        os.link(source, path)
    except OSError:
        shutil.copyfile(source, path)


def write_parquet(table: pd.DataFrame, path: str) -> None:
    table.to_parquet(path, index=False, compression="zstd")  # a fifth smaller than snappy


def umask() -> int:
    mask = os.umask(0)  # the only way to read it (Python has no getter)
    os.umask(mask)
    return mask


def atomic_write(target: Path, write: Callable[[str], object]) -> None:
    """Write `target` through `write(temporary path)` and rename it into place: a reader (or a
    run killed mid-write) never sees a partial file. The file gets the permissions of any new
    file (0666 less the umask), not mkstemp's private 0600."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by `Results.save` (or `nnbench run --out`)."""
    folder = Path(folder)
    path = folder / "results.parquet"
    if not path.is_file():
        raise NNBenchError(
            f"no results.parquet in {str(folder)!r}",
            "point at a folder written by `python -m nnbench run --out DIR`",
        )
    try:
        results = pd.read_parquet(path)
    except Exception as exc:
        raise NNBenchError(
            f"cannot read {str(path)!r} ({type(exc).__name__})", "re-run the study to rewrite it"
        ) from None
    results = conform(results)  # folders written before a column existed
    curves_path = folder / "curves.parquet"
    curves = (
        pd.read_parquet(curves_path)
        if curves_path.is_file()
        else pd.DataFrame(columns=CURVE_COLUMNS)
    )
    run_json = folder / "run.json"
    info = json.loads(run_json.read_text()) if run_json.is_file() else {}
    if info.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
        raise NNBenchError(
            f"{str(folder)!r} was written by a newer nnbench (schema {info['schema_version']})",
            "upgrade nnbench",
        )
    artifacts = {p.stem: read_artifact(p) for p in sorted((folder / "artifacts").glob("*.npz"))}
    return Results(results=results, curves=curves, provenance=info, artifacts=artifacts)
