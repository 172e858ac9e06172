"""`python -m nnbench.report` tables from a results folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnbench import Grid, run_grid
from nnbench.report import error_table, status_table
from nnbench.report.__main__ import main


def test_report_from_results_folder(tmp_path):
    grid = Grid(
        matrices=("spd", "needs-pivoting"),
        methods=("classical",),
        sizes=(4, 8),
        ranks=(2,),
        repeats=3,
        timing_repeats=1,
    )
    run_grid(grid).save(tmp_path / "res")
    assert main(["--results", str(tmp_path / "res"), "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## LU factorizations" in md and "## Rank-k approximations" in md
    assert "zero pivot" in md
    lu = pd.read_csv(tmp_path / "rep" / "tables" / "errors_lu.csv")
    row = lu[(lu.matrix == "spd") & (lu.n_rows == 8) & (lu.method == "scipy-lu")].iloc[0]
    assert row.cells == 3 and row.ok == 3 and row.rel_err_fro < 1e-14


def test_error_table_medians_over_seeds():
    df = run_grid(
        Grid(
            matrices=("random-gaussian",),
            methods=("scipy-tsvd",),
            sizes=(6,),
            ranks=(1, 3),
            repeats=4,
            timing_repeats=1,
        )
    ).results
    table = error_table(df, "rank-k")
    assert list(table["rank"]) == [1, 3] and (table.cells == 4).all()
    expected = df[df["rank"] == 3].rel_err_2.median()
    assert table.loc[table["rank"] == 3, "rel_err_2"].item() == expected
    assert status_table(df).empty


def test_report_with_missing_results_folder_fails_cleanly(tmp_path, capsys):
    assert main(["--results", str(tmp_path / "none"), "--out", str(tmp_path / "rep")]) == 2
    assert "no results.parquet" in capsys.readouterr().err


def test_history_table_has_one_column_per_commit_oldest_first():
    from nnbench.report.tables import history_table

    history = pd.DataFrame(
        {
            "commit": ["bbbbbbbbbb", "aaaaaaaaaa", "bbbbbbbbbb", "aaaaaaaaaa"],
            "date": pd.to_datetime([2, 1, 2, 1], unit="s", utc=True),
            "machine": "m",
            "env": "e",
            "benchmark": ["t.track_x", "t.track_x", "t.time_y", "t.time_y"],
            "params": "",
            "value": [2.0, 1.0, 4.0, 3.0],
            "unit": ["u", "u", "s", "s"],
        }
    )
    table = history_table(history)
    assert list(table.columns) == ["benchmark", "params", "unit", "aaaaaaaa", "bbbbbbbb"]
    row = table[table.benchmark == "t.track_x"].iloc[0]
    assert (row.aaaaaaaa, row.bbbbbbbb) == (1.0, 2.0)


def test_reproduction_table_puts_ours_beside_the_study():
    from nnbench import STUDIES, run_grids
    from nnbench.report.reproduction import TARGETS, reproduction_table

    grid = Grid(
        matrices=("identity", "diagonal-mn0"),
        methods=("scipy-tsvd", "hybrid-lowrank-als"),
        sizes=(50,),
        ranks=(20,),
        timing_repeats=1,
    )
    svd_on_lu_matrix = Grid(matrices=("study000-b",), methods=("scipy-tsvd",), ranks=(1,))
    table = reproduction_table(
        run_grids([grid, STUDIES["worked-examples"].quick[0], svd_on_lu_matrix])
    )
    assert len(table) == len(TARGETS) + 5  # + study 004's five, from the doolittle cell
    doolittle = table[table.study == "study 004"]
    assert (doolittle.verdict == "reproduced").all()
    assert doolittle.set_index("quantity").loc["det", "ours"] == pytest.approx(166, rel=1e-14)
    without = reproduction_table(run_grid(grid))  # the report runs nothing itself
    assert without[without.study == "study 004"].verdict.str.startswith("not run").all()
    svd = table[
        (table.experiment == "M_50 = diag(0..49), k=20") & (table.quantity == "SVD error")
    ].iloc[0]
    assert svd.svd == pytest.approx(29 / 49) and svd.verdict == "the SVD optimum, reproduced"
    nn = table[(table.experiment == "identity 50, k=20") & (table.quantity == "NN error")].iloc[0]
    assert nn.reported == "1.00146" and nn.ours == pytest.approx(1.0)  # as printed, not 1.001
    lu_product = table[table.experiment.str.contains("printed LU product")].iloc[0]
    assert np.isnan(lu_product.svd)  # no rank-k SVD cell answers an LU target
    missing = table[table.experiment.str.startswith("logo")].iloc[0]
    assert missing.verdict.startswith("not run: python -m nnbench run --study")


def test_the_report_names_only_columns_of_the_typed_row():
    from nnbench import COLUMNS
    from nnbench.report.tables import KEYS, SUMMARIES

    assert set(KEYS) <= set(COLUMNS)
    assert {column for column, _ in SUMMARIES.values()} <= set(COLUMNS)
