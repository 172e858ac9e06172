"""A grid of matrices x methods x sizes x ranks x dtypes x devices x repeats: what to run,
as names. A record only (studies build them without loading any method); `running.cells`
expands it into cells."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nnbench.running.threads import DEFAULT_THREADS


def option(default: Any, help: str, parse: str = "") -> Any:
    """A `Grid` field with its command-line option (`--name`, underscores as dashes): its
    help, and how its text parses (`PARSERS` in the CLI: ints, strs, int, float; "" for an
    option the CLI writes itself)."""
    return field(default=default, metadata={"help": help, "parse": parse})


@dataclass(frozen=True, kw_only=True)
class Grid:
    """What to run. Selectors are strings as on the command line (see `select_matrices`).
    Each field is a `--option` of `nnbench run` and a key of a TOML study; an axis's values
    fill the `Coordinates` field that names it."""

    matrices: tuple[str, ...] = option(("all",), "matrix selectors")
    methods: tuple[str, ...] = option(("classical",), "method selectors")
    sizes: tuple[int, ...] = option((16,), "n for sizable families, e.g. 8,32,128", "ints")
    ranks: tuple[int, ...] = option((1,), "k for rank-k methods, e.g. 1,5,10", "ints")
    dtypes: tuple[str, ...] = option(
        ("float64",), "float32,float64 and tf32 (float32 with TF32 matmuls, CUDA)", "strs"
    )
    devices: tuple[str, ...] = option(("cpu",), "cpu,cuda,mps", "strs")
    repeats: int = option(1, "matrix instances (seeds) per cell", "int")
    runs: int = option(
        1,
        "independent repetitions of the whole grid, each in its own cell order (the report's "
        "intervals resample them)",
        "int",
    )
    batches: tuple[int, ...] = option(
        (1,), "matrices per cell, factorized as one stack by batched methods, e.g. 1,1000", "ints"
    )
    axes: tuple[tuple[str, tuple[Any, ...]], ...] = option(
        (),
        "values of the axes without an option of their own (`Coordinates` fields declared "
        "`axis(default=...)`), e.g. NAME=V1,V2;OTHER=V3",
        "axes",
    )
    seed: int = option(0, "base seed; every cell's seed derives from it", "int")
    max_size: int | None = option(None, "drop matrices with a side larger than this", "int")
    timing_repeats: int = option(
        5, "timed calls per cell (median reported), at most, within the timing budget", "int"
    )
    threads: int = option(DEFAULT_THREADS, "torch/BLAS threads (default 1, measured)", "int")

    def replace(self, **changes: Any) -> Grid:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
