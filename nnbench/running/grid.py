"""A grid of matrices x methods x sizes x ranks x dtypes x devices x repeats: what to run,
as names. A record only (studies build them without loading any method); `running.cells`
expands it into cells."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from nnbench.running.threads import DEFAULT_THREADS


@dataclass(frozen=True, kw_only=True)
class Grid:
    """What to run. Selectors are strings as on the command line (see `select_matrices`)."""

    matrices: tuple[str, ...] = ("all",)
    methods: tuple[str, ...] = ("classical",)
    sizes: tuple[int, ...] = (16,)
    ranks: tuple[int, ...] = (1,)
    dtypes: tuple[str, ...] = ("float64",)
    devices: tuple[str, ...] = ("cpu",)
    repeats: int = 1
    runs: int = 1  # independent repetitions of the whole grid, each in its own order
    batches: tuple[int, ...] = (1,)  # > 1: a cell factorizes a stack of that many instances
    seed: int = 0
    max_size: int | None = None
    timing_repeats: int = 5  # at most, within the timing budget (see running.timing)
    threads: int = DEFAULT_THREADS

    def replace(self, **changes: Any) -> Grid:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
