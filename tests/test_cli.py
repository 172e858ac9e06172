"""The command line: list, run, and one clear error (exit 2, nothing written) per bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import on_quick_run

from nnbench.cli import main
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import METHODS
from nnbench.studies import STUDIES


def test_list_shows_every_family_with_tags_and_every_method(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for family in MATRIX_FAMILIES.values():
        line = next(line for line in out.splitlines() if line.split()[:1] == [family.name])
        assert ",".join(sorted(family.tags)) in line
    for name in [*METHODS, *STUDIES]:
        assert f"  {name} " in out


@pytest.mark.slow
@on_quick_run("quick")
def test_quick_classical_run_over_all_matrices_meets_the_accuracy_targets(
    tmp_path, quick_run, capsys
):
    """Acceptance: LU/QR/SVD float64 reconstruct to 1e-13 on well-conditioned matrices,
    truncated SVD sits on the Eckart-Young optimum with the right rank. The command line
    reuses the classical cells of the quick study's run (same cells, same ids) from a copy of
    its folder, and reads them back as a results table of its own."""
    out = tmp_path / "quick"
    shutil.copytree(quick_run("quick")[1], out)
    assert (
        main(
            [
                "run",
                "--matrices",
                "all",
                "--methods",
                "classical",
                "--quick",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    held = pd.read_parquet(out / "results.parquet")  # the folder: the quick study's cells too
    df = held[held.group == "classical"]
    printed = capsys.readouterr().out
    assert f"{len(df)} reused" in printed and f"the folder holds {len(held)}" in printed
    assert set(df.status) == {"ok", "skipped"}
    ok = df[(df.status == "ok") & (df.dtype == "float64")]
    closed_forms = [name for name, m in METHODS.items() if m.approximate]  # one step, by design
    pivoted = ok[
        ok.kind.isin(["lu", "qr", "svd"])
        & (ok.method != "doolittle")
        & ~ok.method.isin(closed_forms)
    ]
    well = pivoted[
        pivoted.matrix.isin(
            [
                "spd",
                "random-uniform",
                "random-gaussian",
                "symmetric",
                "identity",
                "diag-dominant",
                "image-logo",
            ]
        )
    ]
    assert len(well) > 50 and well.rel_err_fro.max() <= 1e-13
    rank_k = ok[ok.kind == "rank-k"]
    tsvd = rank_k[rank_k.method.isin(["scipy-tsvd", "torch-tsvd"])]  # truncations: the optimum
    gap_ok = tsvd[tsvd.opt_err_2 > 1e-3]  # where rounding (eps / opt_err) cannot reach 1e-12
    assert (gap_ok.ratio_2 - 1).abs().max() <= 1e-12
    assert (gap_ok.ratio_fro - 1).abs().max() <= 1e-12
    assert tsvd.rank_ok.all()
    # randomized and Krylov methods: never below the optimum (Eckart-Young), all ran
    resolvable = rank_k[rank_k.opt_err_fro > 1e-3]  # rounding is eps / opt_err of the ratio
    assert resolvable.ratio_fro.min() >= 1 - 1e-12
    assert set(rank_k.method) >= {"torch-rsvd", "scipy-svds-arpack", "scipy-svds-propack"}


def test_module_entry_point(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nnbench",
            "run",
            "--matrices",
            "study004-doolittle",
            "--methods",
            "doolittle",
            "--dtypes",
            "float64",
            "--repeats",
            "1",
            "--no-progress",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 cells of this run (1 ok; 0 reused" in proc.stdout


def _save(tmp_path, name, a):
    path = tmp_path / name
    np.save(path, a)
    return f"file:{path}"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("nan", "NaN/Inf entries"),
        ("inf", "NaN/Inf entries"),
        ("huge", "has entries up to 1e+308, beyond 1.3e+154 where float64 arithmetic overflows"),
        ("empty", "is empty"),
        ("1d", "is 1-D"),
        ("rect-lu", "nothing to run: scipy-lu needs a square matrix, got 3x2"),
        ("rank", "rank 7 is out of range"),
        ("unknown-matrix", "unknown matrix 'spdd'"),
        ("unknown-method", "unknown method 'svd'"),
        ("unknown-study", "unknown study 'quik'"),
        ("unreadable", "cannot read matrix file"),
        ("missing", "does not exist"),
        ("dtype", "unknown dtype 'float8'"),
        ("unknown-option", "hybrid-lu-newton has no option 'speed'"),
        ("classical-option", "scipy-lu has no options"),
        ("bad-option-value", "unknown optimizer 'newton'"),
        ("bad-option-type", "steps must be a positive number"),
        ("unclosed-option", "cannot read method"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, case, message):
    args = {
        "nan": ["--matrices", _save(tmp_path, "nan.npy", np.array([[1.0, np.nan], [2, 3]]))],
        "inf": ["--matrices", _save(tmp_path, "inf.npy", np.array([[1.0, np.inf], [2, 3]]))],
        "huge": ["--matrices", _save(tmp_path, "huge.npy", np.full((3, 3), 1e308))],
        "empty": ["--matrices", _save(tmp_path, "e.npy", np.zeros((0, 0)))],
        "1d": ["--matrices", _save(tmp_path, "v.npy", np.arange(4.0))],
        "rect-lu": [
            "--matrices",
            _save(tmp_path, "r.npy", np.ones((3, 2))),
            "--methods",
            "scipy-lu",
        ],
        "rank": ["--matrices", "spd", "--sizes", "4", "--methods", "scipy-tsvd", "--ranks", "7"],
        "unknown-matrix": ["--matrices", "spdd"],
        "unknown-method": ["--methods", "svd"],
        "unknown-study": ["--study", "quik"],
        "unknown-option": ["--methods", "hybrid-lu-newton[speed=2]"],
        "classical-option": ["--methods", "scipy-lu[pivot=false]"],
        "bad-option-value": ["--methods", "hybrid-lu-newton[optimizer=newton]"],
        "bad-option-type": ["--methods", "hybrid-lu-newton[steps=many]"],
        "unclosed-option": ["--methods", "hybrid-lu-newton[steps=3"],
        "unreadable": ["--matrices", f"file:{tmp_path / 'bad.csv'}"],
        "missing": ["--matrices", f"file:{tmp_path / 'nope.npy'}"],
        "dtype": ["--dtypes", "float8"],
    }[case]
    (tmp_path / "bad.csv").write_text("1,2\nthree,4\n")
    out = tmp_path / "out"
    assert main(["run", *args, "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nnbench: error: ") and "\n" not in err
    assert message in err
    assert not out.exists()


def test_a_run_of_a_users_file_without_a_study_uses_the_documented_defaults(tmp_path):
    """The README's example: one instance of the file, in its own precision, k as asked, at
    most 5 timed calls; not the quick study's two dtypes and two repeats."""
    rng = np.random.default_rng(0)
    for name, dtype in (("mine64.npy", np.float64), ("mine32.npy", np.float32)):
        np.save(tmp_path / name, rng.random((12, 12)).astype(dtype))
        out = tmp_path / name.removesuffix(".npy")
        argv = ["run", "--matrices", f"file:{tmp_path / name}", "--methods", "scipy-tsvd"]
        assert main([*argv, "--ranks", "1,5,10", "--no-progress", "--out", str(out)]) == 0
        df = pd.read_parquet(out / "results.parquet")
        assert len(df) == 3 and sorted(df["rank"]) == [1, 5, 10]
        assert set(df.dtype) == {np.dtype(dtype).name} and set(df.repeat) == {0}
        assert df.timing_repeats.max() <= 5 and df.timing_repeats.max() > 3


def test_runs_on_the_command_line_repeat_the_grid(tmp_path, capsys):
    out = tmp_path / "runs"
    argv = ["run", "--matrices", "random-gaussian", "--methods", "scipy-lu,torch-lu"]
    argv += ["--sizes", "4", "--runs", "3", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    held = pd.read_parquet(out / "results.parquet")
    assert sorted(held.run.unique()) == [0, 1, 2] and len(held) == 6
    assert held.groupby("method").seed.nunique().eq(1).all()  # the same seed in every run
