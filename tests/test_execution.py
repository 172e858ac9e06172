"""Executors, cache/resume and hard timeouts (issue: scale and resilience)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from slow_methods import Hang

from nnbench.api import Execution, Grid, expand, load_results, run_grid
from nnbench.errors import NNBenchError
from nnbench.methods import Method
from nnbench.metrics import METRICS
from nnbench.running.journal import Journal

ERROR_COLUMNS = [m.name for m in METRICS] + ["status", "reason", "final_loss", "steps"]
SMALL = Grid(
    matrices=("spd", "random-uniform", "colour-wheel"),
    methods=("scipy-lu", "scipy-tsvd", "hybrid-lowrank-als"),
    sizes=(6, 10),
    ranks=(1, 3),
    repeats=2,
    timing_repeats=1,
)


def _errors(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("cell_id").sort_index()[ERROR_COLUMNS]


DASK_CLUSTER = pytest.mark.xdist_group("dask-cluster")
"""The mark of a test that runs cells on `dask_cluster` (started once, on one worker)."""


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[str]:
    """A local dask cluster of two worker processes, one thread each, started once for the
    tests that run cells on it (each worker loads nnbench: seconds); its scheduler address."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@DASK_CLUSTER
def test_inline_processes_and_dask_give_identical_errors(dask_cluster):
    inline = run_grid(SMALL).results
    processes = run_grid(SMALL, execution=Execution(jobs=2)).results
    on_dask = run_grid(SMALL, execution=Execution(scheduler=dask_cluster)).results
    assert len(inline) == len(expand(SMALL)) > 50
    pd.testing.assert_frame_equal(_errors(inline), _errors(processes))
    pd.testing.assert_frame_equal(_errors(inline), _errors(on_dask))
    assert (processes.threads == 1).all() and processes.peak_mem_mb.gt(0).any()


def test_a_hanging_cell_is_cut_at_its_timeout_and_the_others_finish(tmp_path):
    hang = Hang()
    grid = Grid(
        matrices=("spd",), methods=("scipy-lu", "scipy-qr"), sizes=(4, 5, 6), timing_repeats=1
    )
    cells = expand(grid)
    hanging = expand(Grid(matrices=("spd",), methods=("scipy-tsvd",), sizes=(4,)))[0]
    from dataclasses import replace

    cells.append(replace(hanging, method=hang))
    from nnbench.results import to_frame
    from nnbench.running.executors import run_processes

    timeout = 2.0
    outcomes = list(run_processes(cells, Execution(jobs=2, timeout=timeout)))
    rows = to_frame(o.row for o in outcomes)
    assert len(rows) == len(cells) and rows.cell_id.is_unique
    cut = rows[rows.method == "test-hang"].iloc[0]
    assert cut.status == "timeout" and "killed after" in cut.reason
    assert cut.time_s >= timeout  # by construction: its time is taken after the kill
    assert (rows[rows.method != "test-hang"].status == "ok").all()


def test_rerun_reuses_finished_cells_and_force_recomputes(tmp_path):
    first = run_grid(SMALL, out=tmp_path)
    again = run_grid(SMALL, out=tmp_path)
    assert again.provenance["cached_cells"] == len(first.results)
    pd.testing.assert_frame_equal(_errors(first.results), _errors(again.results))
    forced = run_grid(SMALL, out=tmp_path, execution=Execution(force=True))
    assert forced.provenance["cached_cells"] == 0
    assert len(Journal(tmp_path).load()) == len(first.results)  # duplicates count once


def test_the_journal_reuses_a_cell_only_for_the_same_code(tmp_path, edit_code):
    """A journal line is reused only for the same cell id: after a reworded description, yes;
    after an edit of the method's code (here LibraryMethod.compute, rewritten to the same
    result), no: its cells run again, under new ids."""
    from nnbench.methods import METHODS
    from nnbench.methods.classical import LibraryMethod

    grid = SMALL.replace(matrices=("spd",), methods=("scipy-lu",))
    first = run_grid(grid, out=tmp_path)
    edit_code(METHODS["scipy-lu"], "description", "LAPACK getrf, in other words")
    assert run_grid(grid, out=tmp_path).provenance["cached_cells"] == len(first.results)
    original = LibraryMethod.compute

    def compute(self, x, *, rank, seed):
        raw = original(self, x, rank=rank, seed=seed)
        return raw

    edit_code(LibraryMethod, "compute", compute)
    edited = run_grid(grid, out=tmp_path)
    assert edited.provenance["cached_cells"] == 0
    assert set(edited.results.cell_id).isdisjoint(first.results.cell_id)
    assert (edited.results.seed.to_numpy() == first.results.seed.to_numpy()).all()
    assert len(Journal(tmp_path).load()) == 2 * len(first.results)
    # the folder's table holds each cell once: the edited code's version replaces the other
    assert set(load_results(tmp_path).results.cell_id) == set(edited.results.cell_id)


@DASK_CLUSTER
def test_an_amortized_model_is_trained_once_and_loaded_by_workers(tmp_path, dask_cluster):
    """The runner sets the method up (trains its model) before the cells; worker processes
    and dask workers set it up again by loading that model, and give the same rows."""
    grid = Grid(
        matrices=("spd",),
        methods=("amortized-cholesky[steps=5,count=32,hidden=16,depth=1]",),
        sizes=(8,),
        repeats=3,
        dtypes=("float32",),
        timing_repeats=1,
    )
    inline = run_grid(grid, out=tmp_path / "inline").results
    processes = run_grid(grid, out=tmp_path / "processes", execution=Execution(jobs=2)).results
    execution = Execution(scheduler=dask_cluster)
    on_dask = run_grid(grid, out=tmp_path / "dask", execution=execution).results
    assert (inline.status == "ok").all() and len(inline) == 3
    for other in (processes, on_dask):
        pd.testing.assert_frame_equal(_errors(inline), _errors(other))
        assert other.train_time_s.nunique() == 1 and other.train_time_s.gt(0).all()
    for run in ("inline", "processes", "dask"):
        assert len(list((tmp_path / run / "models").glob("*.pt"))) == 1


def test_torn_journal_line_is_ignored(tmp_path):
    res = run_grid(SMALL.replace(methods=("scipy-lu",)), out=tmp_path)
    journal = Journal(tmp_path)
    with open(journal.lines, "a") as f:
        f.write('{"cell_id": "abc", "stat')  # a write cut by SIGKILL
    assert set(journal.load()) == set(res.results.cell_id)
    # failed before: the next run's first line was glued to the torn one, and lost
    more = run_grid(SMALL.replace(methods=("scipy-qr",)), out=tmp_path)
    assert set(journal.load()) == set(res.results.cell_id) | set(more.results.cell_id)


def test_sigkill_mid_run_then_resume_loses_and_doubles_nothing(tmp_path):
    out = tmp_path / "run"
    args = [
        sys.executable,
        "-m",
        "nnbench",
        "run",
        "--matrices",
        "random-uniform,spd",
        "--methods",
        "hybrid-lowrank-als,scipy-lu",
        "--sizes",
        "8,16,24",
        "--ranks",
        "1,2,4",
        "--repeats",
        "3",
        "--timing-repeats",
        "2",
        "--no-progress",
        "--out",
        str(out),
    ]
    expected = len(
        expand(
            Grid(
                matrices=("random-uniform", "spd"),
                methods=("hybrid-lowrank-als", "scipy-lu"),
                sizes=(8, 16, 24),
                ranks=(1, 2, 4),
                repeats=3,
            )
        )
    )
    proc = subprocess.Popen(args, start_new_session=True)
    journal = Journal(out)
    deadline = time.time() + 120
    while time.time() < deadline:
        lines = journal.lines.read_text().count("\n") if journal.lines.is_file() else 0
        if lines >= 10:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(journal.load())
    assert 10 <= done_before < expected, "the kill should land mid-run"
    assert not (out / "results.parquet").exists()
    resumed = subprocess.run([*args, "--resume"], capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    df = load_results(out).results
    assert len(df) == expected and df.cell_id.is_unique  # 0 lost, 0 duplicated
    reused = int(re.search(r"; (\d+) reused", resumed.stdout).group(1))
    assert reused >= done_before  # finished cells were not recomputed
    assert set(df.status) == {"ok"}


def test_resume_without_a_run_is_an_error(tmp_path, capsys):
    from nnbench.cli import main

    assert main(["run", "--resume", "--out", str(tmp_path / "none"), "--no-progress"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_bad_execution_options():
    with pytest.raises(NNBenchError, match="jobs 0"):
        Execution(jobs=0)
    with pytest.raises(NNBenchError, match="timeout -1"):
        Execution(timeout=-1)
    with pytest.raises(NNBenchError, match="not enforced on a dask cluster"):
        Execution(scheduler="tcp://127.0.0.1:1", timeout=1.0)


def test_a_worker_killed_mid_cell_says_how_it_died():
    """A worker that dies (here: SIGKILL, as the OOM killer does) gives a failed row that
    names the signal, and the next cells run on a fresh worker."""
    from slow_methods import SelfKill

    from nnbench.results import to_frame
    from nnbench.running.executors import run_processes

    cells = expand(Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(4, 5), timing_repeats=1))
    victim = expand(Grid(matrices=("spd",), methods=("scipy-tsvd",), sizes=(4,)))[0]
    from dataclasses import replace

    rows = to_frame(
        o.row
        for o in run_processes([replace(victim, method=SelfKill()), *cells], Execution(jobs=1))
    ).set_index("method")
    assert rows.loc["test-self-kill", "status"] == "failed"
    assert (
        rows.loc["test-self-kill", "reason"]
        == "worker process was killed by SIGKILL (out of memory?)"
    )
    assert (rows.loc["scipy-lu", "status"] == "ok").all()


def test_progress_bar_stays_out_of_non_interactive_logs(tmp_path):
    """tqdm's convention: no bar (no carriage-return updates) when stderr is not a terminal."""
    proc = subprocess.run(
        [sys.executable, "-m", "nnbench", "run", "--matrices", "spd", "--methods", "scipy-lu",
         "--sizes", "4,5,6", "--repeats", "20", "--dtypes", "float64,float32",
         "--out", str(tmp_path / "r")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "\r" not in proc.stderr and "cells" not in proc.stderr
    assert "120 cells of this run (120 ok" in proc.stdout  # 3 sizes x 20 repeats x 2 dtypes


def test_peak_memory_and_tf32_are_recorded():
    df = run_grid(
        Grid(matrices=("spd",), methods=("scipy-svd",), sizes=(300,), timing_repeats=1)
    ).results
    row = df.iloc[0]
    assert row.peak_mem_mb > 1.0 and not row.tf32
    assert np.isfinite(row.peak_mem_mb)


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_grid_runs_at_its_own_thread_count(monkeypatch, jobs):
    """Failed before: `run_grids` ran every cell at the first grid's thread count while each
    row recorded its own grid's. The method says what it saw (as its skip reason)."""
    import torch

    from nnbench.api import run_grids
    from nnbench.errors import SkipCell
    from nnbench.methods import METHODS

    def seen(x, rank, seed, config):
        raise SkipCell(f"ran on {torch.get_num_threads()} threads")

    monkeypatch.setattr(METHODS["scipy-lu"], "call", seen)
    one = Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(4, 5), threads=1)
    two = one.replace(threads=2)
    df = run_grids([one, two, one.replace(sizes=(6,))], execution=Execution(jobs=jobs)).results
    assert len(df) == 5  # sizes 4 and 5 at 1 and 2 threads, and 6 at 1 again
    assert sorted(df.threads.unique()) == [1, 2]
    assert (df.reason == "ran on " + df.threads.astype(str) + " threads").all()


class _ExitsWorker(Method):
    """Ends its dask worker's process on 5x5 matrices, as a crash in C code would."""

    name, kind, group = "test-exits-worker", "lu", "classical"

    def compute(self, x, *, rank, seed):
        if x.shape == (5, 5):
            os._exit(1)
        from nnbench.methods import METHODS

        return METHODS["scipy-lu"].compute(x, rank=rank, seed=seed)


def test_a_dask_worker_that_dies_mid_cell_fails_that_cell_only():
    """Failed before: KilledWorker ended the whole run."""
    from dataclasses import replace

    distributed = pytest.importorskip("distributed")
    import dask

    from nnbench.results import to_frame
    from nnbench.running.executors import run_dask

    grid = Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(4, 5, 6), timing_repeats=1)
    cells = [replace(c, method=_ExitsWorker()) for c in expand(grid)]
    # the scheduler gives up on a task after its first dead worker (by default it tries it on
    # 4), and sends each worker one task at a time, so that no other task dies with it
    config = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with (
        dask.config.set(config),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
    ):
        execution = Execution(scheduler=cluster.scheduler_address)
        df = to_frame(r.row for r in run_dask(cells, execution)).set_index(["n", "dtype"])
    assert len(df) == len(cells) == 3
    dead = df.loc[5]
    assert (dead.status == "failed").all()
    assert dead.reason.str.match(r"dask worker tcp://\S+ died running this cell").all()
    assert (df.drop(index=5, level="n").status == "ok").all()
