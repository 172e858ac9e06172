"""`python -m nnbench.report` tables from a results folder."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from nnbench.api import Grid, run_grid
from nnbench.report import build_report, error_table, status_table
from nnbench.report.__main__ import main
from nnbench.report.reproduction import reproduction_table
from nnbench.studies import STUDIES, report_sections

TARGETS = sorted((t for s in STUDIES.values() for t in s.targets), key=lambda t: t.study)
ANSWERS = [a for s in STUDIES.values() for a in s.known_answers]


def _reproduction(res):
    """The reproduction table of every registered study's targets and known answers."""
    return reproduction_table(res, TARGETS, ANSWERS)


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
    row = lu[(lu.matrix == "spd") & (lu["shape"] == "8x8") & (lu.method == "scipy-lu")].iloc[0]
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
    from nnbench.api import STUDIES, run_grids
    from nnbench.report.reproduction import VERDICTS

    grid = Grid(
        matrices=("identity", "diagonal-mn0", "diagonal-mn"),
        methods=("scipy-tsvd", "hybrid-lowrank-als"),
        sizes=(50,),
        ranks=(20,),
        timing_repeats=1,
    )
    svd_on_lu_matrix = Grid(matrices=("study000-b",), methods=("scipy-tsvd",), ranks=(1,))
    table = _reproduction(run_grids([grid, STUDIES["worked-examples"].quick[0], svd_on_lu_matrix]))
    assert len(table) == len(TARGETS) + 5  # + study 004's five, from the doolittle cell
    assert set(table.verdict) <= set(VERDICTS)  # one categorical column, no "nanx" text
    doolittle = table[table.study == "study 004"]
    assert (doolittle.verdict == "reproduced").all()
    assert doolittle.set_index("quantity").loc["det", "study_config"] == pytest.approx(166)
    without = _reproduction(run_grid(grid))  # the report runs nothing itself
    assert (without[without.study == "study 004"].verdict == "not run").all()
    rows = table.set_index(["experiment", "quantity"])
    svd = rows.loc[("M_50 = diag(0..49), k=20", "SVD error")]
    assert svd.svd == pytest.approx(29 / 49) and svd.verdict == "reproduced"
    # diag(1..50) has SVD error 0.6, not the study's 0.5918: another matrix, not scored
    assert (rows.loc["M_50 = diag(1..50), k=20"].verdict == "different matrix").all()
    nn = rows.loc[("identity 50, k=20", "NN error")]
    assert nn.reported == "1.00146" and nn.ours == pytest.approx(1.0)  # as printed, not 1.001
    assert "Frobenius" in nn.note  # the 2-norm cannot tell: the note compares Frobenius errors
    lu_product = table[table.experiment.str.contains("printed LU product")].iloc[0]
    assert np.isnan(lu_product.svd)  # no rank-k SVD cell answers an LU target
    missing = table[table.experiment.str.startswith("logo")].iloc[0]
    assert missing.verdict == "not run" and missing.run == "study002-reproduce"


def test_the_evidence_chooses_the_study_configuration_and_failures_say_what_was_tried():
    """Study 002's biases: both configurations are run; the one closer to the study's numbers
    is the table's study config, and a row that is not reproduced lists both values."""
    from nnbench.report.reproduction import config_choice

    grid = Grid(
        matrices=("random-uniform",),
        methods=("scipy-tsvd", "neural-lowrank-study", "neural-lowrank-study[bias=false]"),
        sizes=(10,),
        ranks=(1,),
        repeats=2,
        timing_repeats=1,
    )
    res = run_grid(grid)
    choice = config_choice(res, TARGETS)
    lowrank = choice[choice.candidates.str.startswith("neural-lowrank-study /")]
    assert lowrank.chosen.sum() == 1
    best = lowrank.loc[lowrank.median_abs_log10_ratio.idxmin()]
    assert best.chosen
    row = _reproduction(res).set_index("experiment").loc["random-uniform 10x10, k=1"]
    assert row.config == best.config
    if row.verdict == "not reproduced":
        assert "tried: neural-lowrank-study " in row.note and "[bias=False]" in row.note


def test_the_report_states_its_verdict_thresholds(tmp_path):
    from nnbench.report.reproduction import CRITERIA

    res = run_grid(Grid(matrices=("study004-doolittle",), methods=("doolittle",), timing_repeats=1))
    build_report([res], tmp_path, sections=report_sections())
    page = (tmp_path / "index.html").read_text()
    for criterion in CRITERIA.values():
        assert html.escape(criterion.rule) in page
    assert "reproduction_not_run" in page  # the studies that would fill the empty rows


def test_the_report_names_only_columns_of_the_typed_row():
    from nnbench.api import COLUMNS
    from nnbench.report.tables import KEYS, SUMMARIES

    assert set(KEYS) <= set(COLUMNS)
    assert {column for column, _ in SUMMARIES.values()} <= set(COLUMNS)


def test_two_overlapping_results_folders_make_one_report_without_duplicate_cells(tmp_path):
    """Study 000's cells in two folders (a re-run into another folder) count once."""
    from nnbench.api import load_results

    grid = Grid(matrices=("study000-a", "study000-b"), methods=("doolittle",), timing_repeats=1)
    first, second = tmp_path / "a", tmp_path / "b"
    run_grid(grid, out=first)
    run_grid(grid.replace(matrices=("study000-b", "study000-c")), out=second)
    runs = [load_results(first), load_results(second)]
    out = build_report(runs, tmp_path / "report")
    table = pd.read_csv(out / "tables" / "errors_lu.csv")
    assert table.cells.sum() == 3  # a, b, c: b's cell is in both folders
    assert "3 cells: 3 ok" in (out / "report.md").read_text()


def test_no_lu_row_draws_from_rank_k_cells_and_reported_numbers_appear_verbatim(tmp_path):
    from nnbench.api import run_grids

    grids = [
        Grid(matrices=("study000-b",), methods=("scipy-tsvd", "doolittle"), ranks=(1,)),
        Grid(
            matrices=("identity", "diagonal-mn0"),
            methods=("scipy-tsvd", "hybrid-lowrank-als"),
            sizes=(50,),
            ranks=(20,),
        ),
        Grid(matrices=("study004-doolittle",), methods=("doolittle",)),
        Grid(matrices=("identity",), methods=("neural-lowrank-study",), sizes=(50,), ranks=(20,)),
    ]
    res = run_grids([g.replace(timing_repeats=1) for g in grids])
    table = _reproduction(res)
    lu_rows = [t.experiment for t in TARGETS if t.rank is None]
    assert table[table.experiment.isin(lu_rows)].svd.isna().all()
    page = (build_report([res], tmp_path, sections=report_sections()) / "index.html").read_text()
    shown = table[table.verdict != "not run"]
    assert {"1.00146", "0.5918", "166", "2.59375"} <= set(shown.reported)
    for reported in shown.reported:
        assert f"<td>{reported}</td>" in page  # as the study printed it, not re-rounded


def test_each_row_times_its_evaluation_apart_and_the_report_gives_the_ratio():
    """Spec item 3 / issue 14: evaluation is timed apart from the method; what the instance
    alone determines, shared by every cell on it, is timed apart again (paid once)."""
    from nnbench.metrics import INSTANCE_CACHE
    from nnbench.report.tables import EVAL_COST_FROM, evaluation_cost

    INSTANCE_CACHE.clear()
    df = run_grid(
        Grid(
            matrices=("random-gaussian",),
            methods=("scipy-lu", "scipy-qr", "torch-rsvd"),
            sizes=(EVAL_COST_FROM,),
            ranks=(5,),
            repeats=1,
            timing_repeats=1,
        )
    ).results
    assert (df.status == "ok").all() and (df.eval_time_s > 0).all()
    assert (df.shared_time_s > 0).sum() == 1  # the first cell on A: its SVD (and det, ...)
    table = evaluation_cost(df).set_index("method")
    for method in ("scipy-lu", "scipy-qr", "torch-rsvd"):
        row = df[df.method == method].iloc[0]
        assert table.loc[method, f"n={EVAL_COST_FROM}"] == row.eval_time_s / row.time_s
    assert evaluation_cost(df.assign(n=EVAL_COST_FROM - 1)).empty  # small n: overheads only


def test_a_page_shows_no_nan_none_or_na_for_a_missing_value():
    from nnbench.report.page import _table_html, _table_markdown

    table = pd.DataFrame(
        {
            "int": pd.array([1, None], dtype="Int64"),
            "nullable": pd.array([0.5, None], dtype="Float64"),
            "text": ["a", None],
            "float": [1.5, float("nan")],
        }
    )
    page, md = _table_html(table), _table_markdown(table)
    for shown in (page, md):
        assert not any(word in shown for word in ("&lt;NA&gt;", "<NA>", "None", "nan", "NaN"))
    assert "0.5" in page and "1.5" in md


def test_a_long_table_shows_its_first_rows_on_the_page_and_all_of_them_in_its_csv(
    tmp_path, monkeypatch
):
    import nnbench.report.build as build

    monkeypatch.setattr(build, "PAGE_ROWS", 2)
    grid = Grid(matrices=("random-gaussian", "spd"), methods=("scipy-lu", "torch-lu"), sizes=(4,))
    out = build_report([run_grid(grid)], tmp_path / "report", sections=report_sections())
    csv = pd.read_csv(out / "tables" / "errors_lu.csv")
    assert len(csv) == 4  # 2 matrices x 2 methods
    page, md = (out / "index.html").read_text(), (out / "report.md").read_text()
    cut = "The page shows the first 2 of 4 rows; the CSV has all."
    assert cut in page and cut in md
