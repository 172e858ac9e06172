"""Running: a grid (`grid`, what to run) expands into cells (`cells`); one cell runs in
`measure` (set up, time, check, evaluate), many on an executor (`executors`: inline, a
process pool, dask); the journal keeps finished cells; `run.run_grids` is the API over them
all (also in `nnbench.api`).

The package imports none of its modules here, so that a study can build a `Grid` without
loading the methods (and torch)."""
