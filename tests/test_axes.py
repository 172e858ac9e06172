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


def test_an_open_axis_takes_its_values_from_grid_axes_in_its_type(monkeypatch):
    """An axis declared `axis(default=...)` (no Grid field) gets its values from `Grid.axes`,
    text from the command line converted to its type; anything else is one clear error."""
    import dataclasses

    import pytest

    from nnbench.errors import NNBenchError
    from nnbench.running import cells

    trial = dataclasses.field(default=1, metadata={"grid": ""})
    trial.name, trial.type = "tries", "int"
    monkeypatch.setattr(cells, "OPEN_AXES", {"tries": trial})
    assert cells.open_axis_values("tries", ("1", "3")) == (1, 3)
    with pytest.raises(NNBenchError, match="axis 'tries' takes int values"):
        cells.open_axis_values("tries", ("many",))
    with pytest.raises(NNBenchError, match="no axis 'order' takes its values from --axes"):
        cells.validate(Grid(axes=(("order", ("a",)),)))
    parsed = _parser().parse_args(["run", "--axes", "tries=1,3;other=x"]).axes
    assert parsed == (("tries", ("1", "3")), ("other", ("x",)))


def test_a_toml_study_names_open_axes_in_a_table(tmp_path):
    import pytest

    from nnbench.errors import NNBenchError
    from nnbench.studies.study_file import load_study

    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\ndescription = "d"\n[[grids]]\nmatrices = ["spd"]\n'
        'axes = {order = ["a", "b"]}\n'
    )
    with pytest.raises(NNBenchError, match="no axis 'order' takes its values from --axes"):
        load_study(str(path))
    path.write_text('name = "mine"\ndescription = "d"\n[[grids]]\naxes = ["order"]\n')
    with pytest.raises(NNBenchError, match="a table of lists"):
        load_study(str(path))
