"""The bad-input table of docs/bad-input.md, run as written: each row's command gives one line
on stderr that starts with the documented message, exits with the documented code and writes
nothing. The table is the documentation and the test at once, so neither goes stale."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nnbench.cli import main

TABLE = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"
ROW = re.compile(  # the message is a ``code span``: it may hold single backticks
    r"^\| (?P<what>[^|]+) \| `(?P<command>[^`]+)` \| `` (?P<message>.+?) `` \| (?P<code>\d+) \|$"
)


def _rows() -> list[dict[str, str]]:
    lines = [line for line in TABLE.read_text().splitlines() if line.startswith("| ")]
    rows = [m.groupdict() for line in lines if (m := ROW.match(line))]
    assert len(rows) == len(lines) - 1 >= 25, "a row of the table is not in the test's form"
    return rows


def _files(folder: Path) -> None:
    """The bad files the table's commands name."""
    np.save(folder / "nan.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    np.save(folder / "vector.npy", np.ones(4))
    np.save(folder / "cube.npy", np.ones((2, 2, 2)))
    np.save(folder / "huge.npy", np.full((3, 3), 1e200))
    np.save(folder / "wide.npy", np.random.default_rng(0).random((3, 5)))
    np.save(folder / "ok.npy", np.random.default_rng(0).random((4, 4)))
    (folder / "inf.csv").write_text("1,2\ninf,4\n")
    (folder / "empty.csv").write_text("")
    (folder / "ragged.csv").write_text("1,2,3\n4,5,6\n7,8\n")
    (folder / "loop.npy").symlink_to(folder / "loop-back.npy")
    (folder / "loop-back.npy").symlink_to(folder / "loop.npy")
    (folder / "garbage.npy").write_bytes(b"not a numpy file")
    (folder / "matrix.txt").write_text("1 2\n3 4\n")
    (folder / "folder.npy").mkdir()
    (folder / "a-file").write_text("in the way")
    _plugins(folder)
    _studies(folder)


def _plugins(folder: Path) -> None:
    """Bad plug-ins."""
    (folder / "syntax.py").write_text("NNBENCH_METHODS = [\n    oops(\n")
    (folder / "importer.py").write_text("import numpy\nimport no_such_module_here\n")
    (folder / "nomethods.py").write_text("import numpy\n")
    (folder / "notmethod.py").write_text("def f():\n    pass\n\n\nNNBENCH_METHODS = [f]\n")
    (folder / "collision.py").write_text(
        "from nnbench.api import LibraryMethod\n\nNNBENCH_METHODS = [\n"
        "    LibraryMethod('scipy-lu', 'lu', print, 'mine'),\n]\n"
    )


STUDY = """name = "mine"
description = "a study of my own"

[[grids]]
matrices = ["spd"]
methods = ["scipy-lu"]
sizes = [8]
"""


def _studies(folder: Path) -> None:
    """Bad TOML studies."""
    (folder / "badkey.toml").write_text(STUDY.replace("sizes =", "sizez ="))
    (folder / "badvalue.toml").write_text(STUDY + "repeats = 'two'\n")
    (folder / "broken.toml").write_text(STUDY.replace("[[grids]]", "[[grids]"))
    (folder / "noname.toml").write_text(STUDY.replace('name = "mine"', ""))


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["what"].strip())
def test_bad_input_gives_one_line_its_exit_code_and_writes_nothing(row, tmp_path, capsys):
    _files(tmp_path)
    out = tmp_path / "out"
    argv = row["command"].removeprefix("nnbench ").format(tmp=tmp_path, out=out).split()
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == int(row["code"])
    message = row["message"].strip().format(tmp=tmp_path, out=out)
    assert err and err[-1].startswith(message), err
    assert len([line for line in err if "error:" in line]) == 1
    assert not out.exists()
