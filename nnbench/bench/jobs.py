"""`nnbench bench jobs-speedup`: a grid of small trainings inline and in worker processes."""

from __future__ import annotations

from functools import partial

from nnbench.bench.timers import best_of


def jobs_speedup(
    *, jobs: int = 2, sizes: tuple[int, ...] = (16, 24, 32, 48, 64), repeats: int = 4
) -> None:
    """Wall time of a grid of small trainings (200 cells: 5 families x 5 `sizes` x 2 ranks
    x 4 `repeats`), inline vs `jobs` worker processes."""
    from nnbench.api import Execution, Grid, expand, run_grid

    grid = Grid(
        matrices=("random-uniform", "random-gaussian", "spd", "symmetric", "randsvd"),
        methods=("hybrid-lowrank-als",),
        sizes=sizes,
        ranks=(2, 4),
        repeats=repeats,
        timing_repeats=1,
    )
    cells = len(expand(grid))
    inline_s, inline = best_of(partial(run_grid, grid), 1)
    parallel_s, parallel = best_of(partial(run_grid, grid, execution=Execution(jobs=jobs)), 1)
    same = (
        inline.results.set_index("cell_id")
        .rel_err_fro.sort_index()
        .equals(parallel.results.set_index("cell_id").rel_err_fro.sort_index())
    )
    print(f"{cells} cells of hybrid-lowrank-als training, 1 thread per process")
    print(
        f"  inline: {inline_s:.1f} s; --jobs {jobs}: {parallel_s:.1f} s (worker start-up "
        f"included) -> speed-up {inline_s / parallel_s:.2f}x (goal >= 1.7x); "
        f"identical errors: {same}"
    )
