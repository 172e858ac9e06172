"""`nnbench run` as a user meets it (issue 21, a command line that never surprises): a bad
--out, failed cells, a results folder run into twice, Ctrl-C, ranks that fit some matrices."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from nnbench.api import Execution, Grid, expand, load_results, run_grid
from nnbench.cli import main
from nnbench.errors import NNBenchError
from nnbench.running.journal import Journal
from nnbench.running.measure import stopped

SPD_LU = ["--matrices", "spd", "--methods", "scipy-lu", "--sizes", "4", "--dtypes", "float64"]
SPD_LU += ["--repeats", "1", "--timing-repeats", "5"]  # the Grid's defaults, as any study's
SPD_LU_GRID = Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(4,), dtypes=("float64",))


def _bad_out(tmp_path, case):
    """An --out that cannot be a results folder, and what must stay as it is."""
    if case == "existing-file":
        out = tmp_path / "results.txt"
        out.write_text("keep me")
        return out
    if case == "under-a-file":
        (tmp_path / "file").write_text("keep me")
        return tmp_path / "file" / "results"
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return locked / "results"
    # root writes in a folder of mode 0o500; not in sysfs, where only the kernel makes folders
    sysfs = Path("/sys/nnbench-results")
    try:
        sysfs.mkdir()
    except OSError:
        return sysfs
    sysfs.rmdir()
    pytest.skip("no place this root user cannot write in")


def _listing(tmp_path):
    return sorted((str(p), p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("case", ["existing-file", "under-a-file", "unwritable"])
def test_a_bad_out_is_refused_before_any_work(tmp_path, case, capsys, monkeypatch):
    """Failed before: a traceback and exit 1, after the first cell was computed."""
    from nnbench.running import executors

    def never(cell):
        raise AssertionError("a cell ran")

    monkeypatch.setattr(executors, "run_cell", never)
    out = _bad_out(tmp_path, case)
    before = _listing(tmp_path)
    assert main(["run", *SPD_LU, "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnbench: error: --out ")
    assert "--out" in err[0].split(";", 1)[1]  # the fix
    with pytest.raises(NNBenchError, match="--out"):
        run_grid(SPD_LU_GRID, out=out)
    assert _listing(tmp_path) == before  # nothing written


@pytest.mark.parametrize("status", ["ok", "skipped", "diverged", "timeout", "failed"])
def test_failed_cells_run_again_and_other_statuses_are_reused(tmp_path, status):
    cell = expand(SPD_LU_GRID)[0]
    earlier = stopped(cell, status, "in an earlier run")
    Journal(tmp_path).append(earlier)
    res = run_grid(SPD_LU_GRID, out=tmp_path)
    row = res.results.iloc[0]
    if status == "failed":
        assert res.provenance["cached_cells"] == 0
        assert row.status == "ok"
    else:
        assert res.provenance["cached_cells"] == 1
        assert (row.status, row.reason) == (status, "in an earlier run")


def test_keep_failures_reuses_failed_cells(tmp_path, capsys):
    cell = expand(SPD_LU_GRID)[0]
    Journal(tmp_path).append(stopped(cell, "failed", "in an earlier run"))
    kept = run_grid(SPD_LU_GRID, out=tmp_path, execution=Execution(keep_failures=True))
    assert kept.provenance["cached_cells"] == 1
    assert kept.results.status.item() == "failed"
    args = ["run", *SPD_LU, "--no-progress", "--out", str(tmp_path)]
    assert main([*args, "--keep-failures"]) == 0
    assert "1 cells of this run (1 failed; 1 reused" in capsys.readouterr().out
    assert main(args) == 0
    assert "1 cells of this run (1 ok; 0 reused" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "--keep-failures" in capsys.readouterr().out


def test_a_second_run_into_a_folder_keeps_the_first_runs_cells(tmp_path, capsys):
    """Failed before: the table held only the last run's cells; the others survived only in
    the journal."""
    first = Grid(
        matrices=("study004-doolittle", "spd"),
        methods=("doolittle", "hybrid-lowrank-als"),
        sizes=(6,),
        ranks=(2,),
        timing_repeats=1,
    )
    args = ["run", *SPD_LU, "--no-progress", "--out", str(tmp_path)]
    a = run_grid(first, out=tmp_path).results
    assert main(args) == 0
    b = load_results(tmp_path)
    n_first = len(a)
    printed = capsys.readouterr().out
    assert f"1 cells of this run (1 ok; 0 reused from {tmp_path}) in " in printed
    assert f"; the folder holds {n_first + 1} -> " in printed
    assert set(b.results.cell_id) == set(a.cell_id) | {expand(SPD_LU_GRID)[0].cell_id}
    assert b.provenance["folder_cells"] == n_first + 1
    trained = set(a[a.method == "hybrid-lowrank-als"].cell_id)
    assert trained and trained <= set(b.curves.cell_id)
    worked = set(a[a.matrix == "study004-doolittle"].cell_id)
    assert worked and worked <= set(b.artifacts)
    pd.testing.assert_frame_equal(
        b.results.set_index("cell_id").loc[a.cell_id, ["status", "rel_err_fro"]],
        a.set_index("cell_id")[["status", "rel_err_fro"]],
    )
    # --force recomputes this run's cells only
    before = load_results(tmp_path).results.set_index("cell_id").time_s
    assert main([*args, "--force"]) == 0
    assert "1 cells of this run (1 ok; 0 reused" in capsys.readouterr().out
    after = load_results(tmp_path).results.set_index("cell_id").time_s
    assert len(after) == n_first + 1
    pd.testing.assert_series_equal(after.loc[a.cell_id], before.loc[a.cell_id])  # untouched


def test_ranks_that_fit_some_matrices_run_and_the_rest_are_skipped(tmp_path, capsys):
    """Failed before: --ranks 5,14 on a 10-column matrix refused the whole run."""
    args = ["run", "--matrices", "spd", "--methods", "scipy-tsvd", "--sizes", "10"]
    args += ["--dtypes", "float64", "--repeats", "1", "--no-progress"]
    assert main([*args, "--ranks", "5,14", "--out", str(tmp_path)]) == 0
    df = load_results(tmp_path).results.set_index("rank")
    assert df.loc[5, "status"] == "ok"
    assert df.loc[14, "status"] == "skipped"
    assert df.loc[14, "reason"] == "rank 14 is outside 1..10 for a 10x10 matrix"
    assert main([*args, "--ranks", "11,14", "--out", str(tmp_path / "no")]) == 2
    assert "rank 11 is out of range" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_prints_one_line_exits_130_and_the_run_resumes(tmp_path, jobs):
    """Failed before: a 71-line traceback. SIGINT goes to the process group, as a terminal's
    Ctrl-C does (worker processes included)."""
    out = tmp_path / "run"
    args = [
        "run",
        "--matrices",
        "random-uniform,spd",
        "--methods",
        "hybrid-lowrank-als,scipy-lu",
        "--sizes",
        "8,16,24",
        "--ranks",
        "1,2",
        "--repeats",
        "2",
        "--jobs",
        jobs,
        "--no-progress",
        "--out",
        str(out),
    ]
    command = [sys.executable, "-m", "nnbench"]
    # pytest's worker may ignore SIGINT, and a child inherits that: give it the default
    proc = subprocess.Popen(
        [*command, *args],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    journal = Journal(out)
    deadline = time.time() + 120
    while time.time() < deadline:
        if journal.lines.is_file() and journal.lines.read_text().count("\n") >= 5:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    text = journal.lines.read_text()
    assert text.endswith("\n")  # the journal is clean: whole lines only, each a cell
    done = len(journal.load())
    assert done == text.count("\n")
    finished, total = map(int, re.search(r"(\d+) of (\d+) cells", lines[0]).groups())
    assert finished == done and 5 <= done < total
    resume = shlex.split(lines[0].split("resume with: ", 1)[1])
    assert resume[:2] == ["nnbench", "run"] and resume[-1] == "--resume"
    resumed = subprocess.run([*command, *resume[1:]], capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    df = load_results(out).results
    assert len(df) == total and df.cell_id.is_unique  # 0 lost, 0 duplicated
    assert f"{done} reused" in resumed.stdout
