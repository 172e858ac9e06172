"""The cells of a grid: one unit of work each, with its identity, its seed and whether it can
run at all; `expand` turns a `Grid` into them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import Field, dataclass, field, fields
from functools import cached_property
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from nnbench.corpus import MATRIX_FAMILIES, MatrixFamily, select_matrices
from nnbench.corpus.sparse import DENSE_LIMIT, densify_skip_reason
from nnbench.devices import DEVICES
from nnbench.errors import NNBenchError
from nnbench.methods import METHODS, Method, RunContext, select_methods
from nnbench.precision import PRECISIONS, tf32_skip_reason
from nnbench.results.record import AXES, OPEN_AXES, Coordinates
from nnbench.running.grid import Grid
from nnbench.seeds import derive_seed, stable_hash
from nnbench.sources import NNBENCH, PLUGINS

AXIS_NAMES = tuple(a.name for a in AXES)
SEEDED = ("rank", "dtype", "device", "repeat", "batch")
"""The axes in every cell's seed since seeds were fixed; an axis added later enters a seed
only away from its default (`Cell.identity`)."""
DEFAULTS = {a.name: a.default for a in AXES}


@dataclass(frozen=True)
class Cell(Coordinates):
    """One unit of work: a matrix instance, a method, its place on the grid's axes
    (`Coordinates`: rank, dtype, device, repeat, batch, run) and its parameters."""

    family: MatrixFamily
    n: int | None  # None for fixed-shape families
    method: Method
    base_seed: int
    timing_repeats: int
    threads: int
    shape: tuple[int, int] = field(compare=False)
    shared: str = field(default="", compare=False)  # `RunContext.folder` of the method's setup
    ready: Method | None = field(default=None, compare=False, repr=False)
    """The method its `setup` returned in this process (the runner's); None: set it up in the
    cell. It never travels to a worker process, which sets the method up again."""

    @cached_property
    def skip_reason(self) -> str | None:
        """Why the cell cannot run, known without running it (`static_skip_reason`): decided
        once per process and kept on the cell."""
        return static_skip_reason(self)

    @property
    def storage(self) -> str:
        """The dtype of the matrix and the factors (`dtype` may be a precision such as tf32)."""
        return PRECISIONS[self.dtype].storage

    @property
    def matrix_seed(self) -> int:
        """Same matrix for every method, dtype and device of a (family, n, repeat)."""
        return derive_seed(self.base_seed, self.family.name, self.n, self.repeat)

    @property
    def instance_seeds(self) -> list[int]:
        """The matrix seed of each instance: one, or `batch` of them for a stack."""
        if self.batch == 1:
            return [self.matrix_seed]
        return [derive_seed(self.matrix_seed, "batch", i) for i in range(self.batch)]

    @property
    def seed(self) -> int:
        """Derived from what the cell is (names), never from code: editing a method gives its
        cells new ids but the same seeds."""
        return derive_seed(*self.identity)

    @property
    def identity(self) -> tuple[object, ...]:
        """The cell's seed comes from these: base seed, matrix, n, method and every axis but
        `run` (a run repeats the same cells); an axis added since the seeds were fixed enters
        only where it is not at its default, so that it changes no earlier cell's seed."""
        return (
            self.base_seed,
            self.family.name,
            self.n,
            self.method.name,
            *(getattr(self, name) for name in SEEDED),
            *((name, value) for name, value in self.added_axes() if value != DEFAULTS[name]),
        )

    def added_axes(self) -> list[tuple[str, object]]:
        return [(a.name, getattr(self, a.name)) for a in AXES if a.name not in (*SEEDED, "run")]

    @property
    def description(self) -> tuple[object, ...]:
        """Everything the cell's result depends on, its key for the cache: what the cell is
        (`identity`), its family's parameters and matrix fingerprint, its method's
        configuration (`config_hash`, the key asv's series use too) and the code that
        computes it (`code_hash`). Descriptions (words) are not in it."""
        family, method = self.family, self.method
        return (
            *self.identity,
            sorted(family.params.items()),
            family.fixed_shape,
            family.fingerprint,
            method.config_hash,
            method.code_hash,
            self.timing_repeats,
            self.threads,
            *((("run", self.run),) if self.run else ()),  # run 0: the ids of a single run
        )

    @cached_property
    def cell_id(self) -> str:
        """Order-independent key: a hash of the full description. The journal reuses a
        finished cell only for the same id. Hashed once per cell (a run asked six times)."""
        return stable_hash(*self.description)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # nnbench's families and methods travel by name (workers rebuild them from their own
        # registries); user matrices, variants and plug-ins' objects travel whole (a worker
        # need not have loaded the plug-in: unpickling imports its module)
        shipped = MATRIX_FAMILIES.get(self.family.name) is self.family and not any(
            self.family.name in plugin.families for plugin in PLUGINS.values()
        )
        family = self.family.name if shipped else self.family
        registered = METHODS.get(self.method.name) is self.method
        method = self.method.name if registered and self.method.source == NNBENCH else self.method
        rest = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("family", "method", "ready")
        }
        return (_rebuild_cell, (family, method, rest))


def _rebuild_cell(family: str | MatrixFamily, method: str | Method, rest: dict[str, Any]) -> Cell:
    return Cell(
        family=MATRIX_FAMILIES[family] if isinstance(family, str) else family,
        method=METHODS[method] if isinstance(method, str) else method,
        **rest,
    )


def _check_choices(values: tuple[str, ...], allowed: tuple[str, ...], what: str) -> None:
    """Every value is one of `allowed`."""
    for value in values:
        if value not in allowed:
            raise NNBenchError(f"unknown {what} {value!r}", f"use one of {', '.join(allowed)}")


def validate(grid: Grid) -> None:
    """Raise NNBenchError for anything wrong with the grid itself, before any work."""
    _check_choices(grid.dtypes, tuple(PRECISIONS), "dtype")
    _check_choices(grid.devices, tuple(DEVICES), "device")
    for name, values in (("size", grid.sizes), ("rank", grid.ranks), ("batch", grid.batches)):
        if not values:
            raise NNBenchError(f"no {name}s given", f"pass at least one {name}")
        if any(v < 1 for v in values):
            raise NNBenchError(f"{name} {min(values)} is out of range", f"use {name}s >= 1")
    if grid.runs < 1:
        raise NNBenchError(f"runs {grid.runs} is out of range", "use --runs 1 or more")
    if grid.repeats < 1:
        raise NNBenchError(f"repeats {grid.repeats} is out of range", "use --repeats 1 or more")
    if grid.timing_repeats < 1:
        raise NNBenchError(
            f"timing repeats {grid.timing_repeats} is out of range",
            "use --timing-repeats 1 or more",
        )
    if grid.threads < 1:
        raise NNBenchError(f"threads {grid.threads} is out of range", "use --threads 1 or more")
    for name, values in grid.axes:
        open_axis_values(name, values)


def open_axis_values(name: str, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """An entry of `Grid.axes` (values as given, or as text from the command line) in its
    axis's type; NNBenchError for a name that is no open axis of `Coordinates`, or a value
    not of its type."""
    if name not in OPEN_AXES:
        raise NNBenchError(
            f"no axis {name!r} takes its values from --axes",
            f"use {', '.join(OPEN_AXES) or 'an axis declared axis(default=...) in Coordinates'}"
            " (the others have options of their own)",
        )
    kind: type = {"int": int, "float": float}.get(str(OPEN_AXES[name].type), str)
    try:
        typed = tuple(kind(v) if isinstance(v, str) else v for v in values)
    except ValueError:
        typed = ()
    if not typed or not all(isinstance(v, kind) for v in typed):
        raise NNBenchError(
            f"axis {name!r} takes {kind.__name__} values, not {list(values)!r}",
            f"give {name}=V1,V2 with {kind.__name__} values",
        )
    return typed


def expand(grid: Grid, *, folder: str | Path | None = None) -> list[Cell]:
    """All cells of the grid, each of its runs in turn, in a fixed order (`interleaved` gives
    the order they run in). `folder`: the run's, where `kind:` selects a method that trains
    a model if its model is there for every device and dtype of the grid (without one: not
    at all). Raises NNBenchError on bad selections."""
    validate(grid)
    families = select_matrices(list(grid.matrices))
    contexts = [
        RunContext(folder=Path(folder), device=device, dtype=PRECISIONS[dtype].storage)
        for device in grid.devices
        for dtype in grid.dtypes
        if folder is not None
    ]
    methods = select_methods(list(grid.methods), trained_in=contexts)
    cells = list(_cells(grid, families, methods))
    if not cells:
        raise NNBenchError(
            f"no matrix of the selection fits --max-size {grid.max_size}", "raise --max-size"
        )
    _check_ranks(grid, cells, methods)
    return sorted(cells, key=lambda cell: cell.run)  # run by run, each in the same order


def interleaved(cells: list[Cell]) -> list[Cell]:
    """The order cells run in: run by run; run 0 in the grids' order, every later run in an
    order of its own (a permutation seeded by the run), so that a drift of the machine (load,
    heat, caches) falls on different cells in each run rather than on the same ones."""
    runs = sorted({cell.run for cell in cells})
    ordered: list[Cell] = []
    for run in runs:
        mine = [cell for cell in cells if cell.run == run]
        if run:
            order = np.random.default_rng(derive_seed(0, "run order", run)).permutation(len(mine))
            mine = [mine[i] for i in order]
        ordered += mine
    return ordered


def _cells(grid: Grid, families: list[MatrixFamily], methods: list[Method]) -> Iterator[Cell]:
    for family in families:
        for n in grid.sizes if family.sizable else (None,):
            shape = family.shape(n)
            if grid.max_size is not None and max(shape) > grid.max_size:
                continue
            for method in methods:
                for point in product(*(_axis_values(grid, a, method) for a in AXES)):
                    yield Cell(
                        family=family,
                        n=n,
                        method=method,
                        base_seed=grid.seed,
                        timing_repeats=grid.timing_repeats,
                        threads=grid.threads,
                        shape=shape,
                        **dict(zip(AXIS_NAMES, point, strict=True)),
                    )


def _axis_values(grid: Grid, axis: Field[Any], method: Method) -> Sequence[Any]:
    """The values an axis of `Coordinates` takes in `grid` for `method`'s cells."""
    if not axis.metadata["grid"]:  # an open axis: `Grid.axes`, or its default alone
        given = dict(grid.axes).get(axis.name)
        return open_axis_values(axis.name, given) if given else (axis.default,)
    values = getattr(grid, axis.metadata["grid"])
    if axis.metadata["only_if"] and not getattr(method, axis.metadata["only_if"]):
        return (None,)
    return range(values) if axis.metadata["counted"] else values


def _check_ranks(grid: Grid, cells: list[Cell], methods: list[Method]) -> None:
    """Refuse ranks that fit no selected matrix; a rank that fits some gives `skipped` rows
    (with the reason) on the others."""
    if not any(m.needs_rank for m in methods):
        return
    largest = max(min(cell.shape) for cell in cells)
    if min(grid.ranks) > largest:
        raise NNBenchError(
            f"rank {min(grid.ranks)} is out of range: the largest selected matrix allows "
            f"k <= {largest}",
            "pass smaller --ranks or larger --sizes",
        )


def sparse_skip_reason(cell: Cell) -> str | None:
    """Why a sparse family's cell cannot run: a method that needs a dense array at a size
    past `DENSE_LIMIT` (below it, and in stacks, it gets the instances dense)."""
    n = max(cell.shape)
    if cell.family.sparse and not cell.method.takes_sparse and n > DENSE_LIMIT:
        return densify_skip_reason(cell.method.name, n)
    return None


def static_skip_reason(cell: Cell) -> str | None:
    """Why the cell's method cannot run on its input, known without running it. An absent
    device comes first: it is what stops every cell on it."""
    absent = DEVICES[cell.device].missing()
    reason = (
        tf32_skip_reason(cell.dtype, cell.device)
        or cell.method.skip_reason(
            cell.shape, rank=cell.rank, dtype=cell.storage, device=cell.device, batch=cell.batch
        )
        or sparse_skip_reason(cell)
    )
    if absent and reason and reason != absent:
        return f"{absent}; {reason}"
    return absent or reason
