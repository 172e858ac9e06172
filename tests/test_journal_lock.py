"""The journal is durable without an fsync per cell, and a results folder has one writer
(issue 33: two runs into one --out lost 54 of 162 rows and computed 5 cells twice)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnbench.api import Grid, expand, load_results, run_grid
from nnbench.cli import main
from nnbench.errors import NNBenchError, RunInterrupted
from nnbench.results import to_frame
from nnbench.running import journal as journal_module
from nnbench.running.executors import EXECUTORS, run_inline
from nnbench.running.journal import FolderLock, Holder, Journal
from nnbench.running.measure import CellResult, stopped

GRID = Grid(matrices=("identity",), methods=("scipy-lu", "torch-lu"), sizes=(8, 16), repeats=3)
NNBENCH = [sys.executable, "-m", "nnbench"]
RUN = ["run", "--matrices", "identity", "--methods", "scipy-lu,torch-lu", "--sizes", "8,16",
       "--repeats", "3", "--no-progress", "--out"]  # fmt: skip
WAIT_S = 300  # for a subprocess to reach a point: generous, the machine may be loaded

# Appends cells 0..N-1 of a made-up run to the journal of OUT, skipping those it holds
# already (a resume), each with a curve file as trained cells have; then waits to be killed.
APPENDER = """
import sys, time
from dataclasses import replace
import pandas as pd
from nnbench.api import Grid, expand
from nnbench.running.measure import CellResult, stopped
from nnbench.running.journal import Journal

out, n, wait = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "wait"
cell = expand(Grid(matrices=("identity",), methods=("scipy-lu",), sizes=(4,)))[0]
row = stopped(cell, "skipped", "made up").row
journal = Journal(out)
done = journal.load()
for i in range(n):
    cell_id = f"cell-{i:05d}"
    if cell_id not in done:
        curve = pd.DataFrame({"cell_id": [cell_id] * 3, "step": [0, 1, 2], "unit": "step",
                              "loss": [1.0, 0.5, 0.25], "elapsed_s": [0.0, 0.1, 0.2]})
        journal.append(CellResult(replace(row, cell=replace(row.cell, cell_id=cell_id)), curve))
journal.close()
if wait:
    time.sleep(600)
"""
APPENDED = 400  # a few ms each (a curve file, a line): far more than the 0.3 s to the kill


def _parsed_ids(journal: Journal) -> list[str | None]:
    """Each line's cell_id, None for a line that does not parse."""
    ids: list[str | None] = []
    for line in journal.lines.read_bytes().split(b"\n"):
        try:
            ids.append(json.loads(line)["cell_id"])
        except (ValueError, KeyError):
            ids.append(None)
    return ids


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_a_journal_killed_at_a_random_moment_loads_whole_rows_and_resumes_each_cell_once(
    tmp_path, seed
):
    rng = np.random.default_rng(seed)
    journal = Journal(tmp_path)
    command = [sys.executable, "-c", APPENDER, str(tmp_path), str(APPENDED)]
    proc = subprocess.Popen([*command, "wait"])
    try:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not (
            journal.lines.is_file() and journal.lines.stat().st_size
        ):
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
    finally:
        proc.kill()  # SIGKILL
        proc.wait()
    loaded = journal.load()
    assert 1 <= len(loaded) < APPENDED, "the kill should land mid-run"
    ids = _parsed_ids(journal)
    assert None not in ids[:-1], "only the last line may be torn"
    assert [i for i in ids if i is not None] == sorted(loaded), "whole rows, none doubled"
    for cell_id, result in loaded.items():  # a line is written after its curve
        assert result.row.cell.cell_id == cell_id and result.row.outcome.reason == "made up"
        assert result.curve is not None and list(result.curve.cell_id) == [cell_id] * 3

    subprocess.run([*command, "done"], check=True, timeout=WAIT_S)
    ids = [i for i in _parsed_ids(journal) if i is not None]
    expected = [f"cell-{i:05d}" for i in range(APPENDED)]
    assert sorted(ids) == expected and set(Counter(ids).values()) == {1}  # each cell once
    assert sorted(Journal(tmp_path).load()) == expected


def _made_up(n: int) -> list[CellResult]:
    """`n` rows of made-up cells (ids c0, c1, ...)."""
    row = stopped(expand(GRID)[0], "skipped", "made up").row
    return [CellResult(replace(row, cell=replace(row.cell, cell_id=f"c{i}"))) for i in range(n)]


@pytest.fixture
def fsyncs(monkeypatch) -> list[int]:
    """The descriptors `os.fsync` is called on, from now on."""
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_the_journal_fsyncs_every_batch_of_cells_and_on_close(tmp_path, fsyncs):
    journal = Journal(tmp_path, sync_cells=4, sync_s=float("inf"))
    for result in _made_up(10):
        journal.append(result)
    assert len(fsyncs) == 2 and journal.unsynced == 2  # after cells 4 and 8
    assert len(journal.load()) == 10  # written at once: unsynced is not unwritten
    journal.close()
    assert len(fsyncs) == 3 and journal.unsynced == 0
    journal.close()
    assert len(fsyncs) == 3  # nothing left to sync


def test_the_journal_fsyncs_once_its_batch_is_old_enough(tmp_path, fsyncs):
    every = Journal(tmp_path / "a", sync_cells=1000, sync_s=0.0)
    for result in _made_up(3):
        every.append(result)
    assert len(fsyncs) == 3
    batched = Journal(tmp_path / "b", sync_cells=1000, sync_s=float("inf"))
    for result in _made_up(3):
        batched.append(result)
    assert len(fsyncs) == 3


def test_a_garbage_tail_left_by_a_power_loss_is_ignored(tmp_path):
    """An unsynced tail may come back as zeros or stray bytes, not only cut short."""
    journal = Journal(tmp_path)
    first, second = _made_up(2)
    journal.append(first)
    with open(journal.lines, "ab") as f:
        f.write(b"\x00\x00\xff\xfe{")
    journal.append(second)
    assert list(journal.load()) == ["c0", "c1"]


def test_a_run_syncs_its_journal_and_lets_the_folder_go_however_it_ends(
    tmp_path, monkeypatch, capsys
):
    closed: list[int] = []
    real_close = Journal.close

    def close(journal: Journal) -> None:
        real_close(journal)
        closed.append(journal.unsynced)

    monkeypatch.setattr(Journal, "close", close)
    run_grid(GRID, out=tmp_path)
    assert closed == [0]

    def interrupted(cells, execution):  # Ctrl-C after two cells
        yield from run_inline(list(cells)[:2], execution)
        raise KeyboardInterrupt

    monkeypatch.setitem(EXECUTORS, "inline", interrupted)
    with pytest.raises(RunInterrupted):
        run_grid(GRID, out=tmp_path / "ctrl-c")
    assert closed == [0, 0] and len(Journal(tmp_path / "ctrl-c").load()) == 2
    FolderLock.take(tmp_path / "ctrl-c").release()  # not held any more
    assert "taking over" not in capsys.readouterr().err


def test_a_held_folder_is_refused_naming_its_holder(tmp_path):
    lock = FolderLock.take(tmp_path, "nnbench run --out x")
    try:
        with pytest.raises(NNBenchError) as refused:
            FolderLock.take(tmp_path)
        with pytest.raises(NNBenchError):
            run_grid(GRID, out=tmp_path)
    finally:
        lock.release()
    assert str(refused.value) == (
        f"--out {str(tmp_path)!r} is in use by another nnbench run (pid {os.getpid()}: "
        "nnbench run --out x); wait for it to finish, or pass another --out"
    )
    assert not (tmp_path / "results.parquet").exists()
    FolderLock.take(tmp_path).release()  # free again


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_line(tmp_path, capsys):
    out = tmp_path / "run"
    pid = _dead_pid()
    lock = out / journal_module.JOURNAL_DIR / "lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "command": "nnbench"}))
    assert main([*RUN, str(out)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines.count(f"taking over the lock of pid {pid}, which is no longer running") == 1
    assert lock.read_text() == ""  # a clean end: nothing to take over next time
    assert main([*RUN, str(out)]) == 0
    assert "taking over" not in capsys.readouterr().err
    assert len(load_results(out).results) == len(expand(GRID))


HOLD_AND_FORK = """
import multiprocessing, sys, time
from nnbench.running.journal import FolderLock

FolderLock.take(sys.argv[1], "holder")
multiprocessing.get_context("fork").Process(target=time.sleep, args=(600,)).start()
time.sleep(600)
"""


@pytest.mark.slow
def test_the_lock_goes_with_its_process_not_with_the_workers_it_forked(tmp_path, capsys):
    """A `--jobs` worker is forked with the lock's descriptor: were it kept, a run killed
    with its workers still busy would hold the folder until they end."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD_AND_FORK, str(tmp_path)],
                            start_new_session=True)  # fmt: skip
    try:
        holder = _wait_for_holder(tmp_path, proc)
        with pytest.raises(NNBenchError, match=f"pid {proc.pid}: holder"):
            FolderLock.take(tmp_path)
        proc.kill()  # the holder only: its forked child lives on
        proc.wait()
        FolderLock.take(tmp_path).release()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert holder.pid == proc.pid
    assert f"taking over the lock of pid {proc.pid}" in capsys.readouterr().err


def _wait_for_holder(out: Path, proc: subprocess.Popen) -> Holder:
    """The lock's holder once `proc` has taken the folder (its name is in the lock)."""
    lock = out / journal_module.JOURNAL_DIR / "lock"
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and proc.poll() is None:
        holder = Holder.parse(lock.read_bytes()) if lock.is_file() else None
        if holder is not None and holder.pid == proc.pid:
            return holder
        time.sleep(0.01)
    raise AssertionError(f"{proc.args} did not take {out} (exit code {proc.poll()})")


def _each_cell_once(out: Path) -> None:
    df = load_results(out).results
    assert sorted(df.cell_id) == sorted(c.cell_id for c in expand(GRID))  # none lost, none twice
    journal = Journal(out)  # a finished run's lines are in its checkpoint, every one of them
    compacted = list(pd.read_parquet(journal.checkpoint).cell_id)
    ids = compacted + [i for i in _parsed_ids(journal) if i is not None]
    assert set(Counter(ids).values()) == {1}  # no cell computed twice


def _refusal(stderr: str, pid: int) -> None:
    """`stderr` says, in one line, that the folder is another run's."""
    errors = [line for line in stderr.splitlines() if line.startswith("nnbench: error:")]
    assert errors == [line for line in stderr.splitlines() if "in use" in line], stderr
    assert len(errors) == 1, stderr
    assert f"is in use by another nnbench run (pid {pid}: nnbench run --matrices" in errors[0]
    assert errors[0].endswith("; wait for it to finish, or pass another --out")


@pytest.mark.slow
def test_a_second_run_into_a_folder_a_live_run_holds_exits_2_and_the_first_finishes(tmp_path):
    """The first run is stopped (SIGSTOP) while it holds the folder, so that the second meets
    it there however slow the machine is."""
    out = tmp_path / "run"
    first = subprocess.Popen(
        [*NNBENCH, *RUN, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait_for_holder(out, first)
        first.send_signal(signal.SIGSTOP)
        second = subprocess.run(
            [*NNBENCH, *RUN, str(out)], capture_output=True, text=True, timeout=WAIT_S, check=False
        )
        first.send_signal(signal.SIGCONT)
        _, first_err = first.communicate(timeout=WAIT_S)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and second.stdout == ""
    _refusal(second.stderr, first.pid)
    _each_cell_once(out)


@pytest.mark.slow
def test_two_runs_started_together_leave_every_cell_once(tmp_path):
    """The issue's case: whichever meets the other's lock is refused; if they did not
    overlap, the second reuses the first's cells. Either way no row is lost or doubled."""
    out = tmp_path / "run"
    runs = [
        subprocess.Popen(
            [*NNBENCH, *RUN, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    ended = [(run, *run.communicate(timeout=WAIT_S)) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes in ([0, 0], [0, 2]), [err for _, _, err in ended]
    for run, _, stderr in ended:
        if run.returncode == 2:
            (other,) = (r for r in runs if r is not run)
            _refusal(stderr, other.pid)
    _each_cell_once(out)
    assert pd.read_parquet(out / "results.parquet").cell_id.is_unique


def test_a_finished_run_compacts_its_journal_and_a_later_run_reuses_it(tmp_path):
    """The lines of a finished run become one table (a tenth of the bytes); the cells load
    the same from it, and a later run's new lines load after it."""
    grid = Grid(matrices=("spd",), methods=("scipy-lu", "scipy-qr"), sizes=(4, 6), repeats=2)
    first = run_grid(grid, out=tmp_path).results
    journal = Journal(tmp_path)
    assert journal.checkpoint.is_file() and journal.lines.stat().st_size == 0
    loaded = journal.load()
    assert set(loaded) == set(first.cell_id)
    row = loaded[first.cell_id.iloc[0]].row
    assert to_frame([row]).iloc[0].equals(first.iloc[0])  # the same row, every column
    more = run_grid(grid.replace(sizes=(4, 8)), out=tmp_path)
    assert more.provenance["cached_cells"] == len(first) // 2  # n = 4 reused
    assert set(journal.load()) == set(first.cell_id) | set(more.results.cell_id)
