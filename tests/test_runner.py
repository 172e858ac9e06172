"""Grid expansion, seeds, rows and statuses, the results folder."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import doubling_method

from nnbench.api import Grid, expand, load_results, run_grid
from nnbench.errors import NNBenchError
from nnbench.results import COLUMNS, STATUSES
from nnbench.running.measure import run_cell

SMALL = Grid(
    matrices=("spd", "needs-pivoting", "study004-doolittle", "rectangular"),
    methods=("doolittle", "scipy-lu", "scipy-tsvd", "torch-qr"),
    sizes=(4, 6),
    ranks=(1, 2),
    dtypes=("float64", "float32"),
    repeats=2,
    timing_repeats=2,
)


def test_cell_seeds_do_not_depend_on_order_or_neighbours():
    cells = {c.cell_id: c.seed for c in expand(SMALL)}
    reordered = SMALL.replace(
        matrices=tuple(reversed(SMALL.matrices)),
        methods=("torch-qr", "scipy-lu"),
        dtypes=("float32",),
    )
    for cell in expand(reordered):
        assert cells[cell.cell_id] == cell.seed
    assert len(set(cells.values())) == len(cells)


def test_a_cells_id_follows_its_methods_code_and_its_seeds_do_not():
    """Versions of one method: an edited `compute` gives the cell another id (its cached row
    is stale) but the same seeds (a seed is what the cell is, not the code); a reworded
    description or docstring changes nothing."""
    cell = expand(Grid(matrices=("spd",), methods=("scipy-tsvd",), sizes=(4,), ranks=(2,)))[0]
    versions = {
        "first": doubling_method(),
        "reworded": doubling_method(description="A times two", doc="Other words."),
        "edited": doubling_method(left="x + x"),
    }
    cells = {version: replace(cell, method=method) for version, method in versions.items()}
    ids = {version: c.cell_id for version, c in cells.items()}
    assert ids["first"] == ids["reworded"] != ids["edited"]
    assert len({(c.seed, c.matrix_seed, c.instance_seeds[0]) for c in cells.values()}) == 1
    row = run_cell(cells["edited"]).row
    assert row.outcome.status == "ok", row.outcome.reason
    assert row.cell.cell_id == ids["edited"]


def test_every_method_sees_the_same_matrix():
    cells = [c for c in expand(SMALL) if c.family.name == "spd" and c.n == 4 and c.repeat == 0]
    assert len({c.matrix_seed for c in cells}) == 1
    repeats = {c.matrix_seed for c in expand(SMALL) if c.family.name == "spd" and c.n == 4}
    assert len(repeats) == 2


def test_run_grid_rows_statuses_and_repeatability():
    res = run_grid(SMALL)
    df = res.results
    assert list(df.columns) == COLUMNS
    assert len(df) == len(expand(SMALL)) and df.cell_id.is_unique
    assert set(df.status) <= {"ok", "skipped"} < set(STATUSES)
    skipped = df[df.status == "skipped"]
    assert (skipped.reason.str.len() > 0).all()
    assert skipped.reason.str.contains("zero pivot").any()
    assert skipped.reason.str.contains("needs a square matrix").any()
    ok = df[df.status == "ok"]
    assert ok.time_s.gt(0).all() and (ok.timing_repeats == 2).all() and (df.threads == 1).all()
    assert ok.rel_err_fro.notna().all()
    f64 = ok[(ok.dtype == "float64") & (ok.kind != "rank-k") & (ok.matrix == "spd")]
    assert f64.rel_err_fro.max() < 1e-14
    again = run_grid(SMALL).results
    pd.testing.assert_series_equal(df.rel_err_fro, again.rel_err_fro)


def test_unavailable_devices_give_skipped_rows():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    res = run_grid(
        Grid(
            matrices=("spd",),
            methods=("torch-lu", "scipy-lu"),
            sizes=(4,),
            devices=("cpu", "cuda", "mps"),
        )
    )
    df = res.results.set_index(["method", "device"])
    assert df.loc[("torch-lu", "cpu"), "status"] == "ok"
    assert df.loc[("torch-lu", "cuda"), "reason"] == "no CUDA device on this machine"
    assert df.loc[("torch-lu", "mps"), "status"] == "skipped"
    # failed before: the reason named only "scipy-lu runs on the CPU only", not the absence
    assert df.loc[("scipy-lu", "cuda"), "reason"] == (
        "no CUDA device on this machine; scipy-lu runs on the CPU only (numpy/scipy)"
    )
    assert df.loc[("scipy-lu", "mps"), "reason"].startswith("no MPS (Apple GPU) device")
    assert res.provenance["devices"]["cuda"] == "no CUDA device on this machine"


def _patched(monkeypatch, name, call):
    """Registered method `name` with its library call replaced by `call(x, rank, seed, config)`."""
    from nnbench.methods import METHODS

    monkeypatch.setattr(METHODS[name], "call", call)


def test_a_crashing_method_becomes_a_failed_row(monkeypatch):
    def boom(x, rank, seed, config):
        raise RuntimeError("LAPACK exploded\nsecond line")

    _patched(monkeypatch, "scipy-qr", boom)
    cell = expand(Grid(matrices=("spd",), methods=("scipy-qr",), sizes=(3,)))[0]
    row = run_cell(cell).row
    assert row.outcome.status == "failed"
    assert row.outcome.reason == "RuntimeError: LAPACK exploded"
    assert np.isnan(row.metrics.rel_err_fro)


@pytest.mark.parametrize("jobs", [1, 2])
def test_nan_factors_fail_their_own_cell_and_the_run_goes_on(monkeypatch, jobs):
    """Failed before: inline the run raised from the metrics; on workers the row claimed
    'worker process died (out of memory?)'."""
    from nnbench.api import Execution

    _patched(monkeypatch, "scipy-qr", lambda x, *_: {"Q": np.full_like(x, np.nan), "R": x})
    grid = Grid(matrices=("spd",), methods=("scipy-qr", "scipy-lu"), sizes=(4, 5))
    df = run_grid(grid, execution=Execution(jobs=jobs)).results.set_index("method")
    qr = df.loc["scipy-qr"]
    assert (qr.status == "failed").all()
    assert qr.reason.str.fullmatch(r"invalid factors: factor Q has \d+ NaN/Inf entries").all()
    assert (df.loc["scipy-lu"].status == "ok").all()


def test_a_metric_that_raises_fails_only_its_cell(monkeypatch):
    from nnbench.running import measure as cell_module

    def broken(x):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(cell_module, "evaluate", broken)
    row = run_cell(expand(Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(3,)))[0]).row
    assert row.outcome.status == "failed"
    assert row.outcome.reason == "evaluating: LinAlgError: SVD did not converge"
    assert row.outcome.time_s > 0  # the method itself ran and was timed


@pytest.mark.parametrize("value", [1e308, 1e200, 1e-200])
def test_extreme_magnitudes_are_refused_with_one_line(tmp_path, value):
    """Failed before: a 3x3 matrix of 1e308 through file: ended in 'SVD did not converge'."""
    path = tmp_path / "big.npy"
    np.save(path, np.full((3, 3), value))
    with pytest.raises(NNBenchError, match="divide it by its largest entry"):
        run_grid(Grid(matrices=(f"file:{path}",), methods=("classical",)))


def test_float32_cells_of_a_matrix_beyond_float32s_range_are_skipped(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.diag([1e30, 1.0, 2.0]))
    grid = Grid(matrices=(f"file:{path}",), methods=("scipy-lu",), dtypes=("float64", "float32"))
    df = run_grid(grid).results.set_index("dtype")
    assert df.loc["float64", "status"] == "ok"
    assert df.loc["float32", "status"] == "skipped"
    assert "float32 arithmetic overflows" in df.loc["float32", "reason"]


def test_editing_a_file_matrix_invalidates_its_cached_cells(tmp_path):
    """Failed before: the cache key ignored the file's content and served stale results."""
    path, out = tmp_path / "a.npy", tmp_path / "out"
    grid = Grid(matrices=(f"file:{path}",), methods=("scipy-lu",))
    np.save(path, np.arange(9.0).reshape(3, 3) + np.eye(3))
    first = run_grid(grid, out=out)
    assert run_grid(grid, out=out).provenance["cached_cells"] == 1  # unchanged: reused
    np.save(path, 5 * np.eye(3))
    edited = run_grid(grid, out=out)
    assert edited.provenance["cached_cells"] == 0
    assert edited.results.cell_id.item() != first.results.cell_id.item()
    assert edited.results.det_rel_err.item() < 1e-15


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ranks": (0,)}, "rank 0 is out of range"),
        ({"ranks": (9,)}, "rank 9 is out of range"),
        ({"dtypes": ("float16",)}, "unknown dtype 'float16'"),
        ({"devices": ("tpu",)}, "unknown device 'tpu'"),
        ({"methods": ("scipy-luu",)}, "unknown method 'scipy-luu'.*did you mean 'scipy-lu'"),
        ({"repeats": 0}, "repeats 0"),
        ({"max_size": 1}, "raise --max-size"),
    ],
)
def test_bad_grids_are_refused_before_any_work(changes, message):
    with pytest.raises(NNBenchError, match=message):
        run_grid(SMALL.replace(**changes))


def test_results_folder_round_trip(tmp_path):
    res = run_grid(SMALL.replace(methods=("scipy-lu",), sizes=(4,)))
    res.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "artifacts",  # the factors of the worked example study004-doolittle
        "curves.parquet",
        "results.csv",
        "results.parquet",
        "run.json",
    ]
    back = load_results(tmp_path)
    pd.testing.assert_frame_equal(back.results, res.results)
    worked = set(res.results[res.results.matrix == "study004-doolittle"].cell_id)
    assert set(back.artifacts) == worked and len(worked) == 4  # 2 dtypes x 2 repeats
    for cell_id in worked:
        saved, kept = back.artifacts[cell_id].factors, res.artifacts[cell_id].factors
        assert set(saved) == {"P", "L", "U"}
        np.testing.assert_array_equal(saved["U"], kept["U"])
    csv = pd.read_csv(tmp_path / "results.csv")
    assert list(csv.columns) == COLUMNS and len(csv) == len(res.results)
    info = json.loads((tmp_path / "run.json").read_text())
    for key in ("schema_version", "versions", "cpu", "threads", "git_commit", "command", "grids"):
        assert key in info
    assert info["versions"]["torch"] and info["grids"][0]["sizes"] == [4]


def test_load_results_needs_a_results_folder(tmp_path):
    with pytest.raises(NNBenchError, match="no results.parquet"):
        load_results(tmp_path)


def test_tf32_cells_skip_cleanly_off_cuda_and_record_tf32_on_it():
    """tf32 = float32 storage with TF32 tensor-core matmuls: a CUDA mode (issue 14)."""
    import torch

    devices = ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)
    grid = Grid(
        matrices=("random-gaussian",),
        methods=("torch-lu", "torch-rsvd"),
        sizes=(32,),
        ranks=(4,),
        dtypes=("tf32", "float32"),
        devices=devices,
        timing_repeats=1,
    )
    df = run_grid(grid).results
    off = df[(df.dtype == "tf32") & (df.device == "cpu")]
    assert (off.status == "skipped").all() and off.reason.str.contains("--devices cuda").all()
    assert (df[df.dtype == "float32"].status == "ok").all()
    on = df[(df.dtype == "tf32") & (df.device == "cuda")]
    assert (on.status == "ok").all() and on.tf32.all()
    assert not torch.backends.cuda.matmul.allow_tf32  # restored after the cell


def test_results_files_get_the_users_umask(tmp_path):
    """Failed before: the files were created 0600 (tempfile.mkstemp), whatever the umask."""
    import os
    import stat

    grid = Grid(matrices=("study004-doolittle",), methods=("doolittle",), timing_repeats=1)
    previous = os.umask(0o027)
    try:
        run_grid(grid, out=tmp_path)
    finally:
        os.umask(previous)
    names = ["results.parquet", "results.csv", "curves.parquet", "run.json"]
    files = [tmp_path / name for name in names] + list(tmp_path.glob("artifacts/*.npz"))
    assert len(files) > len(names)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name


def test_runs_repeat_every_cell_with_the_same_seeds_in_an_order_of_their_own():
    from nnbench.running.cells import expand, interleaved

    grid = Grid(matrices=("random-gaussian",), methods=("scipy-lu", "torch-lu"), sizes=(4, 8),
                runs=3)  # fmt: skip
    cells = expand(grid)
    assert len(cells) == 12 and {c.run for c in cells} == {0, 1, 2}
    assert len({c.cell_id for c in cells}) == 12  # each run's cell is a cell of its own
    by_run = {r: [c for c in interleaved(cells) if c.run == r] for r in range(3)}
    assert [c.seed for c in by_run[0]] == [c.seed for c in cells if c.run == 0]
    orders = {tuple((c.method.name, c.n) for c in by_run[r]) for r in range(3)}
    assert len(orders) > 1  # not the same order every run
    assert {c.seed for c in by_run[1]} == {c.seed for c in by_run[0]}
    results = run_grid(grid).results
    assert sorted(results.run.unique()) == [0, 1, 2]
    assert results.groupby(["method", "n"]).rel_err_fro.nunique().eq(1).all()
    with pytest.raises(NNBenchError, match="runs 0 is out of range"):
        expand(replace(grid, runs=0))


def test_a_deadline_stops_starting_cells_and_says_so_on_their_rows(tmp_path):
    from nnbench.running.executors import Execution

    grid = Grid(matrices=("random-gaussian",), methods=("scipy-lu", "torch-lu"), sizes=(4, 8))
    results = run_grid(grid, out=tmp_path, execution=Execution(deadline=1e-9)).results
    assert (results.status == "skipped").all()
    assert results.reason.str.contains("--deadline of 1e-09 s had passed").all()
    rerun = run_grid(grid, out=tmp_path).results  # not journaled: a later run runs them
    assert (rerun.status == "ok").all()
    with pytest.raises(NNBenchError, match="--deadline needs the cells run one after"):
        Execution(deadline=10.0, jobs=2)


@pytest.mark.parametrize(("method", "warm_ups"), [("scipy-qr", 1), ("neural-gha", 4)])
def test_a_process_warms_a_method_form_once_and_a_guarded_one_every_cell(
    monkeypatch, method, warm_ups
):
    """Step 1 of the timing protocol: a classical method's later cells of the same form (its
    dtype, device and warm-up shape) skip the warm-up call; a neural method's cells, under the
    group rule's guard, make it every time (the call takes what the guard disturbs)."""
    from nnbench.running import measure, timing

    made: list[tuple[int, int]] = []

    def counted(shape, dtype, seed):
        made.append(shape)
        return timing.warmup_input(shape, dtype, seed)

    monkeypatch.setattr(measure, "WARM", set())
    monkeypatch.setattr(measure, "warmup_input", counted)
    grid = Grid(
        matrices=("spd",), methods=(method,), sizes=(20, 24), ranks=(2,), repeats=2,
        timing_repeats=3,
    )  # fmt: skip
    df = run_grid(grid).results
    assert len(df) == 4 and set(df.status) == {"ok"}
    assert made == [(16, 16)] * warm_ups
