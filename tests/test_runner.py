"""Grid expansion, seeds, rows and statuses, the results folder."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nnbench import Grid, expand, load_results, run_grid
from nnbench.errors import NNBenchError
from nnbench.results import RESULT_COLUMNS
from nnbench.runner import STATUSES, run_cell

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


def test_every_method_sees_the_same_matrix():
    cells = [c for c in expand(SMALL) if c.family.name == "spd" and c.n == 4 and c.repeat == 0]
    assert len({c.matrix_seed for c in cells}) == 1
    repeats = {c.matrix_seed for c in expand(SMALL) if c.family.name == "spd" and c.n == 4}
    assert len(repeats) == 2


def test_run_grid_rows_statuses_and_repeatability():
    res = run_grid(SMALL)
    df = res.results
    assert list(df.columns) == RESULT_COLUMNS
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
    assert "CPU only" in df.loc[("scipy-lu", "cuda"), "reason"]
    assert res.provenance["devices"]["cuda"] == "no CUDA device on this machine"


def test_a_crashing_method_becomes_a_failed_row(monkeypatch):
    from nnbench.methods.classical import ScipyQR

    def boom(self, x, *, rank, seed):
        raise RuntimeError("LAPACK exploded\nsecond line")

    monkeypatch.setattr(ScipyQR, "compute", boom)
    cell = expand(Grid(matrices=("spd",), methods=("scipy-qr",), sizes=(3,)))[0]
    row = run_cell(cell).row
    assert row["status"] == "failed" and row["reason"] == "RuntimeError: LAPACK exploded"
    assert np.isnan(row["rel_err_fro"])


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
        "curves.parquet",
        "results.csv",
        "results.parquet",
        "run.json",
    ]
    back = load_results(tmp_path)
    pd.testing.assert_frame_equal(back.results, res.results)
    csv = pd.read_csv(tmp_path / "results.csv")
    assert list(csv.columns) == RESULT_COLUMNS and len(csv) == len(res.results)
    info = json.loads((tmp_path / "run.json").read_text())
    for key in ("schema_version", "versions", "cpu", "threads", "git_commit", "command", "grids"):
        assert key in info
    assert info["versions"]["torch"] and info["grids"][0]["sizes"] == [4]


def test_load_results_needs_a_results_folder(tmp_path):
    with pytest.raises(NNBenchError, match="no results.parquet"):
        load_results(tmp_path)
