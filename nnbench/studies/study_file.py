"""A study as a TOML file (`nnbench run --study path/study.toml`): `name`, `description`, its
grids as `[[grids]]` tables and, optionally, its small variant as `[[quick]]` tables (default:
the grids themselves). A table's keys are `Grid`'s fields, a list where the field is a tuple:

    name = "my-lu-check"
    description = "my-lu beside scipy-lu and torch-lu on SPD matrices"

    [[grids]]
    matrices = ["spd", "random-gaussian"]
    methods = ["scipy-lu", "torch-lu", "my-lu"]
    sizes = [16, 64]
    runs = 3

A wrong key or value is one NNBenchError naming the file, the table and the key."""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

from nnbench.errors import NNBenchError
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

KEYS = ("name", "description", "grids", "quick")
_HINTS = typing.get_type_hints(Grid)


def is_study_file(name: str) -> bool:
    """Whether `--study NAME` names a TOML file rather than a registered study."""
    return name.endswith(".toml")


def _type_words(hint: Any) -> str:
    """A field's type as a TOML value: "a list of strings", "an integer"."""
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return f"a list of {'strings' if item is str else 'integers'}"
    return "an integer"


def _value(hint: Any, value: Any) -> Any:
    """`value` (read from TOML) as the field of type `hint` holds it; raises ValueError."""
    if hint == _HINTS["axes"]:  # axes = {NAME = [values], ...}
        if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
            raise ValueError("a table of lists, axes = {NAME = [V1, V2]}")
        return tuple((str(k), tuple(v)) for k, v in value.items())
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list) or not all(_is(item, v) for v in value):
            raise ValueError(_type_words(hint))
        return tuple(value)
    if origin in (typing.Union, types.UnionType):  # `int | None`: TOML has no None, so int
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if not _is(hint, value):
        raise ValueError(_type_words(hint))
    return value


def _is(kind: Any, value: Any) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _grid(table: Any, where: str) -> Grid:
    from nnbench.running.cells import validate  # (the grids' own checks, as on the command line)

    if not isinstance(table, dict):
        raise NNBenchError(f"{where} is not a table", "write it as [[grids]] with key = value")
    known = [f.name for f in fields(Grid)]
    values = {}
    for key, value in table.items():
        if key not in known:
            raise NNBenchError(f"{where} has no key {key!r}", f"use {', '.join(known)}")
        try:
            values[key] = _value(_HINTS[key], value)
        except ValueError as exc:
            raise NNBenchError(
                f"{where}: {key} = {value!r} is not {exc}", f"write {key} as {exc}"
            ) from None
    grid = Grid(**values)
    try:
        validate(grid)
    except NNBenchError as exc:
        raise NNBenchError(f"{where}: {exc.problem}", exc.fix) from None
    return grid


def _read(path: Path) -> dict[str, Any]:
    if sys.version_info < (3, 11):
        raise NNBenchError("a TOML study needs Python 3.11 (tomllib)", "use Python 3.11 or later")
    import tomllib

    shown = str(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise NNBenchError(f"study file {shown!r} {what}", "check the path")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise NNBenchError(f"study file {shown!r} is not TOML: {exc}", "fix its syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NNBenchError(f"cannot read study file {shown!r} ({exc})", "check the file") from None


def load_study(path: str | Path) -> Study:
    """The study a TOML file describes (see the module docstring); raises NNBenchError."""
    path = Path(path)
    data = _read(path)
    shown = f"study file {str(path)!r}"
    for key in data:
        if key not in KEYS:
            raise NNBenchError(f"{shown} has no key {key!r}", f"use {', '.join(KEYS)}")
    for key in ("name", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise NNBenchError(f"{shown} needs a {key}", f'write {key} = "..." at its top')
    tables: dict[str, tuple[Grid, ...]] = {}
    for key in ("grids", "quick"):
        if key not in data:
            continue
        given = data[key]
        if not isinstance(given, list) or not given:
            raise NNBenchError(f"{shown}: {key} is not a list of tables", f"write [[{key}]] tables")
        tables[key] = tuple(_grid(t, f"{shown}, [[{key}]] {i + 1}") for i, t in enumerate(given))
    if "grids" not in tables:
        raise NNBenchError(f"{shown} has no grids", "add a [[grids]] table")
    return Study(
        data["name"],
        data["description"],
        grids=tables["grids"],
        quick=tables.get("quick", tables["grids"]),
    )
