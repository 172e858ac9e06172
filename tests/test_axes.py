"""A grid axis is declared once: each `Coordinates` field names the `Grid` field of its
values, and the cells, the rows, the command line and the version keys follow from them."""

from __future__ import annotations

from dataclasses import fields

from nnbench.cli import _grid_fields, _parser
from nnbench.results.record import AXES, CellSpec
from nnbench.running.cells import Cell, expand
from nnbench.running.grid import Grid


def test_each_axis_names_a_grid_field_and_cells_and_rows_carry_it():
    grid_fields = {f.name for f in fields(Grid)}
    for axis in AXES:
        assert axis.metadata["grid"] in grid_fields, axis.name
        assert axis.name in {f.name for f in fields(Cell)}
        assert axis.name in {f.name for f in fields(CellSpec)}


def test_every_grid_option_reaches_the_command_line_with_its_help():
    run = _parser().parse_args(
        ["run", "--sizes", "8,16", "--timing-repeats", "2", "--max-size", "9", "--runs", "2"]
    )
    assert {"sizes", "ranks", "dtypes", "runs", "threads", "max_size"} <= set(_grid_fields())
    assert (run.sizes, run.timing_repeats, run.max_size, run.runs) == ((8, 16), 2, 9, 2)
    for f in fields(Grid):
        assert f.metadata["help"], f.name


def test_cells_take_one_value_of_each_axis_run_by_run():
    grid = Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(4,), dtypes=("float32",
                "float64"), repeats=2, runs=2)  # fmt: skip
    cells = expand(grid)
    assert len(cells) == 2 * 2 * 2
    assert [c.run for c in cells] == [0] * 4 + [1] * 4  # each run in turn, same order
    assert [(c.dtype, c.repeat) for c in cells[:4]] == [(c.dtype, c.repeat) for c in cells[4:]]
    assert {c.rank for c in cells} == {None}  # an LU method has no rank axis
