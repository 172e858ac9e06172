"""The results row as one typed record: what the cell is, how it went, what it measured.

`COLUMNS`, the pandas dtypes of the table and the parquet schema are all derived from the
record's fields, so the runner, the journal, the results files and the report cannot
disagree about a column (torch.utils.benchmark's TaskSpec/Measurement are the model)."""

from __future__ import annotations

import math
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args

import pandas as pd

from nnbench.metrics.values import MetricValues
from nnbench.settings import Settings

Status = Literal["ok", "skipped", "failed", "diverged", "timeout"]
STATUSES: tuple[Status, ...] = get_args(Status)
NAN = math.nan


def axis(
    grid: str = "", *, counted: bool = False, only_if: str = "", default: Any = MISSING
) -> Any:
    """A field of `Coordinates`: the value of one grid axis. `grid`: the `Grid` field whose
    values it takes (one cell for each; "": `Grid.axes` holds them, by the axis's name, and
    the axis needs a `default`, its one value where a grid gives none); `counted`: that field
    is a count (cells 0..count-1); `only_if`: a method attribute without which the axis has
    the one value None."""
    meta = {"grid": grid, "counted": counted, "only_if": only_if}
    return field(default=default, metadata=meta)


@dataclass(frozen=True, kw_only=True)
class Coordinates:
    """Where a cell sits on its grid's axes, one field each: what a cell (`running.Cell`)
    and its results row (`CellSpec`) carry, and what a results folder's versions of a cell
    share. A new axis is one field here, `NAME: T = axis(default=...)`: its values come from
    `Grid.axes` (`--axes NAME=V1,V2`, a TOML study's `axes = {NAME = [...]}`), and the cells,
    the rows' column, the cache keys and the seeds (only away from its default) follow; an
    axis may also get a `Grid` field of its own (`axis("names")`), as the ones below have."""

    rank: int | None = axis("ranks", only_if="needs_rank")
    dtype: str = axis("dtypes")
    device: str = axis("devices")
    repeat: int = axis("repeats", counted=True)
    batch: int = axis("batches")  # matrices factorized together in one call (1: one matrix)
    run: int = axis("runs", counted=True, default=0)
    """The independent repetition of the grid (`--runs`): same matrix and seed."""


AXES = fields(Coordinates)
OPEN_AXES = {a.name: a for a in AXES if not a.metadata["grid"]}
"""The axes whose values `Grid.axes` gives (no `Grid` field of their own)."""


@dataclass(frozen=True, kw_only=True)
class CellSpec(Coordinates):
    """What the cell is: the matrix instance, the method and where and how it ran (its place
    on the grid's axes: `Coordinates`)."""

    cell_id: str
    matrix: str
    family: str  # "file" for file:PATH matrices
    tags: str
    n: int
    n_rows: int
    n_cols: int
    method: str
    method_base: str  # the registered method a variant (e.g. a budget) belongs to
    method_source: str = "nnbench"  # where the method comes from: nnbench, or a plug-in's file
    group: str
    kind: str
    seed: int
    matrix_seed: int
    threads: int
    options: str  # the options a method variant changed, e.g. "optimizer=sgd,lr=0.01"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How the cell went. Timing and memory are those of `compute` alone (`eval_time_s`: the
    metrics', one wall-clock call, apart); `final_loss`, `steps` and `switch_step` come from
    training."""

    status: Status
    reason: str = ""
    device_name: str = ""
    tf32: bool = False
    time_s: float = NAN
    time_iqr_s: float = NAN
    time_per_matrix_s: float = NAN  # time_s / batch
    timing_repeats: int = 0
    timed_s: float = NAN  # every timed call's seconds together: what the run spent measuring
    peak_mem_mb: float = NAN
    # rank-k cost model (`methods.Cost`): products with A or A^T as a whole (NaN: a dense
    # factorization, or not reported), and floats of working memory besides A (NaN: not modelled)
    passes: float = NAN
    memory_floats: float = NAN
    train_time_s: float = NAN  # amortized methods: training, once, before the cells (untimed)
    shared_time_s: float = NAN  # what A alone determines (spectrum, ...): 0 once computed
    eval_time_s: float = NAN  # every metric of every matrix of the cell, but shared_time_s
    final_loss: float = NAN
    steps: float = NAN
    switch_step: float = NAN
    row_order: str = ""  # which row of A each row of P^T A is, e.g. "2,0,1"
    warning: str = ""  # the first warning the timed calls raised (e.g. non-convergence)


@dataclass(frozen=True)
class Row:
    """One results row: the cell, the trained method's settings, the outcome, the metrics."""

    cell: CellSpec
    settings: Settings = field(default_factory=Settings)
    outcome: Outcome = field(default_factory=lambda: Outcome(status="ok"))
    metrics: MetricValues = field(default_factory=MetricValues)

    def flat(self) -> dict[str, Any]:
        """{column: value} in `COLUMNS` order."""
        # shallow (every field of a part is a scalar): dataclasses.asdict deep-copies each
        # value, which costs more than a small cell on a run of thousands
        return {f: getattr(getattr(self, p), f) for p, names in _PART_FIELDS.items() for f in names}

    def changed(self) -> dict[str, Any]:
        """`flat` without the columns that hold their field's default (NaN for NaN):
        `from_flat` restores them. A journal line is a third of a full row's."""
        return {
            name: value
            for name, value in self.flat().items()
            if name not in _DEFAULTS or not _same(value, _DEFAULTS[name])
        }

    @classmethod
    def from_flat(cls, values: dict[str, Any]) -> Row:
        """The inverse of `flat` (journal lines); missing columns take their defaults."""
        parts = {}
        for part in PARTS:
            record = _PART_TYPES[part.name]
            known = {f.name: _restore(values[f.name], f.type) for f in fields(record)
                     if f.name in values}  # fmt: skip
            parts[part.name] = record(**known)
        return cls(**parts)


PARTS = fields(Row)
_PART_TYPES: dict[str, type] = {
    "cell": CellSpec,
    "settings": Settings,
    "outcome": Outcome,
    "metrics": MetricValues,
}
_PART_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in fields(record)) for name, record in _PART_TYPES.items()
}
_DEFAULTS: dict[str, Any] = {
    f.name: f.default
    for record in _PART_TYPES.values()
    for f in fields(record)
    if f.default is not MISSING and isinstance(f.default, (str, int, float, bool, type(None)))
}


def _same(value: Any, default: Any) -> bool:
    if isinstance(default, float) and default != default:  # NaN
        return isinstance(value, float) and value != value
    return type(value) is type(default) and value == default


_TYPES: dict[str, str] = {
    f.name: str(f.type) for part in PARTS for f in fields(_PART_TYPES[part.name])
}
COLUMNS: list[str] = list(_TYPES)
"""Every results column, in order."""

_PANDAS_DTYPES = {
    "str": "object",
    "Status": "object",
    "int": "int64",
    "int | None": "Int64",
    "float": "float64",
    "bool": "bool",
    "bool | None": "boolean",
}


_MISSING: dict[str, Any] = {
    "object": "",
    "int64": 0,
    "Int64": pd.NA,
    "float64": NAN,
    "bool": False,
    "boolean": pd.NA,
}


def _restore(value: Any, annotation: Any) -> Any:
    """A JSON value (or a table's) back in its field's type (JSON has no NaN-free floats or
    pd.NA)."""
    if value is None or value is pd.NA:  # pd.NA: a checkpoint table's missing Int64
        return NAN if str(annotation) == "float" else None
    return value


def column_dtypes() -> dict[str, str]:
    """The pandas dtype of every column, from the record's annotations."""
    return {name: _PANDAS_DTYPES[annotation] for name, annotation in _TYPES.items()}


def to_frame(rows: typing.Iterable[Row]) -> pd.DataFrame:
    """The results table: one row per record, `COLUMNS` in order, dtypes from the record."""
    frame = pd.DataFrame([row.flat() for row in rows], columns=COLUMNS)
    return frame.astype(column_dtypes())


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """A table read from disk in today's columns and dtypes: columns added since it was
    written are filled with their defaults' missing values; unknown ones are kept last."""
    dtypes = column_dtypes()
    for column in COLUMNS:
        if column not in frame:
            frame[column] = _MISSING[dtypes[column]]
    extra = [c for c in frame.columns if c not in _TYPES]
    return frame[[*COLUMNS, *extra]].astype(column_dtypes())
