"""The results row survives every way it is stored: `Row.flat` and back, a journal line
(JSON, with NaN and Infinity), and the results table (`to_frame` -> parquet ->
`load_results`). Rows are drawn with every part filled, floats including NaN, +-inf,
subnormal and the largest finite ones; the strategies follow the record's fields."""

from __future__ import annotations

import math
import tempfile
from dataclasses import asdict, fields, replace
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import given, settings

from nnbench.metrics.values import MetricValues
from nnbench.results import COLUMNS, STATUSES, CellSpec, Outcome, Results, Row, load_results
from nnbench.results import to_frame as rows_to_frame
from nnbench.running.journal import Journal
from nnbench.running.measure import CellResult
from nnbench.settings import Settings

INT64 = st.integers(-(2**63), 2**63 - 1)
# pandas builds a column of ints and None (`rank`) through float64: exact up to 2**53
RANKS = 2**53
VALUES: dict[str, st.SearchStrategy[Any]] = {  # by a field's annotation, as `record` reads it
    "str": st.text(max_size=12),
    "Status": st.sampled_from(STATUSES),
    "int": INT64,
    "int | None": st.none() | st.integers(-RANKS, RANKS),
    "float": st.floats(),  # NaN, +-inf, subnormal, huge
    "bool": st.booleans(),
    "bool | None": st.none() | st.booleans(),
}
EDGE_FLOATS = (math.nan, math.inf, -math.inf, 5e-324, -1.7976931348623157e308, -0.0, 0.1)


def _part(record: type) -> st.SearchStrategy[Any]:
    return st.builds(record, **{f.name: VALUES[str(f.type)] for f in fields(record)})


ROWS = st.builds(
    Row,
    cell=_part(CellSpec),
    settings=_part(Settings),
    outcome=_part(Outcome),
    metrics=_part(MetricValues),
)


def same(x: Any, y: Any) -> bool:
    """Equal values of the same type; NaN is NaN and -0.0 is not 0.0."""
    if isinstance(x, float) and isinstance(y, float):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return x == y and math.copysign(1, x) == math.copysign(1, y)
    return type(x) is type(y) and x == y


def assert_same_row(got: Row, want: Row) -> None:
    a, b = got.flat(), want.flat()
    assert list(a) == list(b) == COLUMNS
    wrong = {k: (a[k], b[k]) for k in COLUMNS if not same(a[k], b[k])}
    assert not wrong, wrong


def filled_row(value: float, *, rank: int | None, rank_ok: bool | None) -> Row:
    """A row whose every float field holds `value` and every other field a non-default."""

    def part(record: type) -> Any:
        given_values = {
            "str": 'x,y "z" \u00e9\n',
            "Status": "diverged",
            "int": -(2**63),
            "int | None": rank,
            "float": value,
            "bool": True,
            "bool | None": rank_ok,
        }
        return record(**{f.name: given_values[str(f.type)] for f in fields(record)})

    return Row(part(CellSpec), part(Settings), part(Outcome), part(MetricValues))


FILLED = [
    filled_row(v, rank=(None, 3, RANKS)[i % 3], rank_ok=(None, True, False)[i % 3])
    for i, v in enumerate(EDGE_FLOATS)
]


def from_frame(frame: pd.DataFrame) -> list[Row]:
    """Rows back from a results table (pandas' missing values as the record's None)."""
    records = frame[COLUMNS].astype(object).to_dict("records")
    plain = [{k: None if v is pd.NA else _native(v) for k, v in r.items()} for r in records]
    return [Row.from_flat(r) for r in plain]


def _native(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def through_journal(rows: list[Row]) -> list[Row]:
    with tempfile.TemporaryDirectory() as out:
        for row in rows:
            Journal(out).append(CellResult(row))
        done = Journal(out).load()
    return [done[row.cell.cell_id].row for row in rows]


def through_parquet(rows: list[Row]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the table written, the table `load_results` reads back)."""
    frame = rows_to_frame(rows)
    with tempfile.TemporaryDirectory() as out:
        Results(results=frame).save(out)
        return frame, load_results(out).results


def test_filled_rows_fill_every_column():
    defaults = {**asdict(Settings()), **asdict(Outcome(status="ok")), **asdict(MetricValues())}
    for column, default in defaults.items():  # a cell's columns have no defaults
        assert any(not same(row.flat()[column], default) for row in FILLED), column


def test_flat_round_trip_of_filled_rows():
    for row in FILLED:
        assert Row.from_flat(row.flat()) == row


@given(ROWS)
def test_flat_round_trip(row):
    assert Row.from_flat(row.flat()) == row


def test_journal_round_trip_of_filled_rows():
    # the journal keeps a cell's last line: one id per row
    rows = [replace(r, cell=replace(r.cell, cell_id=f"c{i}")) for i, r in enumerate(FILLED)]
    for got, want in zip(through_journal(rows), rows, strict=True):
        assert_same_row(got, want)


@settings(max_examples=40, deadline=None)
@given(ROWS)
def test_journal_round_trip(row):
    (got,) = through_journal([row])
    assert_same_row(got, row)


def test_parquet_round_trip_of_filled_rows():
    frame, loaded = through_parquet(FILLED)
    pd.testing.assert_frame_equal(loaded, frame)
    for got, want in zip(from_frame(loaded), FILLED, strict=True):
        assert_same_row(got, want)


@settings(max_examples=25, deadline=None)
@given(st.lists(ROWS, min_size=1, max_size=4))
def test_parquet_round_trip(rows):
    frame, loaded = through_parquet(rows)
    pd.testing.assert_frame_equal(loaded, frame)
    for got, want in zip(from_frame(loaded), rows, strict=True):
        assert_same_row(got, want)
