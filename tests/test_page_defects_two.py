"""Issue 34, a referee's second reading of the committed pages: a CG breakdown that says what
broke, untimed fits flagged in the verdict tables, constant columns stated once, tables
titled by what they hold, counts whose denominators agree with the verdict's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnbench.metrics.solves import pcg


@pytest.mark.parametrize(
    ("a", "apply_inverse", "said"),
    [
        (np.diag([1.0, 2.0, 3.0]), lambda r: r * np.nan,
         "r^T M^-1 r = nan, not finite (the preconditioner produced NaN or Inf)"),
        (np.diag([np.inf, 2.0, 3.0]), lambda r: r,
         "p^T A p = inf, not finite (the preconditioner or A produced NaN or Inf)"),
        (np.diag([-1.0, -2.0, -3.0]), lambda r: r, "p^T A p = -6 (A not SPD)"),
        (np.diag([1.0, 2.0, 3.0]), lambda r: -r, "r^T M^-1 r = -3 (M not SPD)"),
    ],
)  # fmt: skip
def test_a_cg_breakdown_says_what_broke(a, apply_inverse, said):
    run = pcg(a, np.ones(3), apply_inverse)
    assert run.iterations is None
    assert run.reason == f"CG broke down at iteration 1: {said}"


def _fitted_lu_frame():
    """Two LU problems where a classical method with an untimed fit ("fitted-lu") is the
    fastest, beside scipy-lu and a hybrid."""
    from nnbench.results import to_frame
    from tests.test_figures import _row

    methods = {"scipy-lu": ("classical", 2e-3), "fitted-lu": ("classical", 1e-3),
               "hybrid-lu-newton": ("hybrid", 5e-3)}  # fmt: skip
    made = [
        _row(i, matrix=matrix, family=matrix, method=m, method_base=m, group=group, time_s=t,
             seed=i, train_time_s=0.13 if m == "fitted-lu" else float("nan"))
        for i, (matrix, (m, (group, t))) in enumerate(
            (matrix, item) for matrix in ("random-gaussian", "spd") for item in methods.items()
        )
    ]  # fmt: skip
    return to_frame(made)


def test_the_verdict_tables_flag_an_untimed_fit_and_say_once_what_it_means():
    from nnbench.report.build import _table_block
    from nnbench.report.judging import verdict, verdict_by_problem
    from nnbench.report.tables import TABLES

    results = _fitted_lu_frame()
    flagged = "fitted-lu (fit 0.13 s, untimed)"
    table = verdict(results)
    assert table["best classical"].tolist() == [flagged]
    by_problem = verdict_by_problem(results)
    assert (by_problem["classical: fastest"] == flagged).all()
    for spec, made in ((TABLES[0], table), (TABLES[2], by_problem)):
        note = _table_block(spec, made).note
        assert note.count("(fit T s, untimed): ") == 1, note


def test_a_column_with_one_value_on_every_row_is_said_once_in_any_table():
    import pandas as pd

    from nnbench.report.build import _table_block
    from nnbench.report.spec import TableSpec

    spec = TableSpec(name="study", title="A study's table", make=lambda res: pd.DataFrame())
    table = pd.DataFrame(
        {"matrix": ["a", "b", "c"], "device": ["cpu"] * 3, "train_time_s": [14.0] * 3,
         "reason": [""] * 3, "time_s": [1e-3, 2e-3, 3e-3]}
    )  # fmt: skip
    block = _table_block(spec, table)  # a study's table is not `compact`: 5 columns
    assert list(block.shown.columns) == ["matrix", "time_s"]
    assert "Every row: device cpu, train_time_s 14." in block.note
    assert "No row has a value for reason." in block.note
    one = _table_block(spec, table.head(1))  # one row reads whole
    assert list(one.shown.columns) == list(table.columns)
    same_kind = table.assign(kind="lu")[["kind", "matrix", "time_s", "device"]]
    block = _table_block(spec, same_kind)  # a first column of one value names no row apart
    assert list(block.shown.columns) == ["matrix", "time_s"]
    assert "Every row: kind lu, device cpu." in block.note


def test_reasons_that_differ_only_in_their_numbers_are_one_status_row():
    import pandas as pd

    from nnbench.report.tables import status_table

    capped = "GMRES reached ||r|| / ||b|| = {}, not 1e-10, within the cap of 320 iterations"
    bad = pd.DataFrame(
        {"method": ["gmres"] * 4 + ["ic0"],
         "status": ["diverged"] * 4 + ["skipped"],
         "reason": [capped.format(r) for r in (0.46, 13, 0.46, 0.000119)]
         + ["IC(0) broke down: pivot 2686 is -0.233"]}
    )  # fmt: skip
    table = status_table(bad)
    assert table.to_dict("records") == [
        {"method": "gmres", "status": "diverged", "reason": capped.format(0.000119),
         "cells": 4, "reasons": 3},
        {"method": "ic0", "status": "skipped", "reason": bad.reason.iloc[-1], "cells": 1,
         "reasons": 1},
    ]  # fmt: skip


def test_the_preconditioner_table_is_not_titled_by_a_solver_its_rows_may_not_run():
    from nnbench.report.tables import TABLES

    (spec,) = [t for t in TABLES if t.name == "errors_precond"]
    assert "CG" not in spec.title  # the warm-start study's rows precondition GMRES
    assert "cg_iterations" in spec.note and "GMRES" in spec.note


def test_the_warm_start_headline_counts_matrices_not_matrix_run_rows():
    import pandas as pd

    from nnbench.results import Results
    from nnbench.studies.warm_start import headline

    rows = []
    for start in ("amortized", "closed-form", "cold"):
        for seed in range(4):
            for run in range(3):
                converged = start == "amortized" and (seed < 2 or (seed == 2 and run == 0))
                rows.append(
                    {"cell_id": f"{start}-{seed}-{run}", "method_base": "gmres-warm-lu",
                     "init": start, "matrix": "random-gaussian", "n": 32, "matrix_seed": seed,
                     "run": run, "status": "ok" if converged else "diverged", "time_s": 1e-3,
                     "steps": 100, "final_loss": 1e-11}
                )  # fmt: skip
    (sentence,) = headline(Results(results=pd.DataFrame(rows), curves=pd.DataFrame()))
    assert (
        "of its 4 matrices (3 runs each), GMRES converges with the amortized start on 2 in "
        "every run and 1 more in some runs, the closed-form start on none, the cold start on "
        "none." in sentence
    ), sentence


def test_the_intervals_line_counts_problems_as_the_verdict_table_does():
    from nnbench.report.judging import verdict
    from nnbench.report.resampling import resampling, resampling_text
    from nnbench.results import to_frame
    from tests.test_figures import _row

    made = [
        _row(i, matrix=matrix, family=matrix, method=m, method_base=m, group=group, seed=i,
             time_s=t, rel_err_fro=err, rel_err_2=err, solve_backward_err=err)
        for i, (matrix, m, group, t, err) in enumerate([
            ("random-gaussian", "scipy-lu", "classical", 1e-3, 1e-15),
            ("random-gaussian", "hybrid-lu-newton", "hybrid", 5e-3, 1e-15),
            ("spd", "scipy-lu", "classical", 1e-3, 1e-15),
            ("spd", "hybrid-lu-newton", "hybrid", 5e-3, 1e-3),  # misses the level here
        ])
    ]  # fmt: skip
    results = to_frame(made)
    (row,) = verdict(results).to_dict("records")
    assert (row["problems"], row["hybrid: reached"]) == (2, "1/2")
    counts = resampling(results)
    assert (counts.problems, counts.judged) == (1, 2)
    assert resampling_text(counts).startswith(
        "Intervals: 95% bootstrap over 1 problem (of the 2 the verdict judges in that task, "
        "those where both a classical method and another group's method reach the matched "
        "accuracy) × 1 matrix instance;"
    )


def test_the_headline_counts_out_of_the_problems_where_the_group_ran_as_the_verdict_does():
    from nnbench.report.judging import verdict
    from nnbench.report.sentences import headline
    from nnbench.results import to_frame
    from tests.test_figures import _row

    cells = [
        ("random-gaussian", "scipy-lu", "classical", "ok", 1e-15),
        ("random-gaussian", "hybrid-lu-newton", "hybrid", "ok", 1e-15),
        ("random-uniform", "scipy-lu", "classical", "ok", 1e-15),
        ("random-uniform", "hybrid-lu-newton", "hybrid", "ok", 1e-3),  # misses the level
        ("spd", "scipy-lu", "classical", "ok", 1e-15),
        ("spd", "hybrid-lu-newton", "hybrid", "skipped", float("nan")),  # did not run
    ]
    made = [
        _row(i, matrix=matrix, family=matrix, method=m, method_base=m, group=group, seed=i,
             status=status, time_s=5e-3 if group == "hybrid" else 1e-3, rel_err_fro=err,
             rel_err_2=err, solve_backward_err=err)
        for i, (matrix, m, group, status, err) in enumerate(cells)
    ]  # fmt: skip
    results = to_frame(made)
    (row,) = verdict(results).to_dict("records")
    assert (row["problems"], row["hybrid: reached"]) == (3, "1/2")
    (sentence,) = headline(results)
    assert "method where both reach it, on 1 of the 2 problems where it ran (" in sentence
    assert sentence.endswith(", n = 8, 3 problems. Not run: neural, amortized.")


def test_the_amortized_break_even_flags_a_classical_rival_with_an_untimed_fit():
    """Reads the committed amortized-sketch results (read-only): sketch-pca, whose PCA basis
    is fitted before the cells, is the rival of some problems there."""
    import re
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.amortized import break_even, headline

    folder = Path(__file__).resolve().parents[1] / "reports/amortized/results/amortized-sketch"
    res = load_results(folder)
    flagged = re.compile(r"sketch-pca \(fit [0-9.e+-]+ s, untimed\)")
    rivals = {name for name in break_even(res.results).best_classical if "sketch-pca" in name}
    assert rivals and all(flagged.fullmatch(name) for name in rivals), rivals
    assert any(flagged.search(line) for line in headline(res))


def test_the_reverse_comparison_flags_a_fastest_classical_method_fitted_untimed():
    """Reads the committed sample results (read-only): sketch-pca, fitted before the cells, is
    the fastest classical method to some networks' accuracy there."""
    from pathlib import Path

    from nnbench.report.fronts import reverse_comparison
    from nnbench.results import load_results

    res = load_results(Path(__file__).resolve().parents[1] / "reports/sample/results")
    named = reverse_comparison(res.results)["fastest classical there"].astype(str)
    pca = named[named.str.contains("sketch-pca")]
    assert len(pca) and pca.str.contains(r"sketch-pca \(fit [0-9.e+-]+ s, untimed\)").all()


def test_a_variant_whose_options_change_its_group_says_so_in_the_reverse_comparison():
    """Reads the committed studies results (read-only): neural-lu-study-final is neural, its
    lr=auto-final variants hybrid (exact LU factors set their step size); the table said
    "hybrid" beside a "neural-..." name without a word."""
    from pathlib import Path

    from nnbench.report.fronts import BY_OPTIONS, reverse_comparison
    from nnbench.results import load_results

    folder = Path(__file__).resolve().parents[1] / "reports/studies/results/study000-sensitivity"
    table = reverse_comparison(load_results(folder).results).set_index("configuration").group
    moved = table[table.index.str.contains("lr=auto-final")]
    assert len(moved) and (moved == f"hybrid {BY_OPTIONS}").all()
    assert table["neural-lu-study-final"] == "neural"


def test_an_amortized_headline_counts_and_names_the_problems_it_never_succeeded_on():
    """Reads the committed amortized-precond results (read-only): amortized-ic diverged on
    every cell of spd n = 256 and 1024, and its headline said "on 10 of its 10 problems"."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.amortized import headline

    folder = Path(__file__).resolve().parents[1] / "reports/amortized/results/amortized-precond"
    res = load_results(folder)
    [sentence] = [s for s in headline(res) if s.startswith("amortized-ic ")]
    mine = res.results[(res.results.method == "amortized-ic") & (res.results.status != "skipped")]
    never = mine.groupby(["matrix", "n"]).status.apply(lambda s: not (s == "ok").any())
    assert never.any()
    assert f"of its {len(never)} problems" in sentence
    for matrix, n in never[never].index:
        assert f"{matrix} n = {n} (" in sentence


def test_the_sparse_precond_headline_reads_as_a_sentence():
    """It said "... is sparse-ic0, which the learned one takes 1.7x [1.6, 1.8] the time of;"."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.precond import headline

    folder = Path(__file__).resolve().parents[1] / "reports/sparse-precond/results"
    words = " ".join(headline(load_results(folder).results).headline)
    assert "the time of;" not in words
    assert "; the learned one takes " in words and "its time, and with its training" in words


def test_the_warm_start_headline_puts_the_network_beside_the_fastest_classical_start():
    """Reads the committed warm-start results (read-only): the sentences compared the network
    with the closed-form and cold starts only and said the exact LU's iterations, not its
    total time (0.22 ms against the network's 2.1 ms)."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.warm_start import headline

    res = load_results(Path(__file__).resolve().parents[1] / "reports/warm-start/results")
    words = headline(res)
    amortized_ok = res.results[(res.results.init == "amortized") & (res.results.status == "ok")]
    for (matrix, n), _ in amortized_ok.groupby(["matrix", "n"]):
        [sentence] = [w for w in words if w.startswith(f"{matrix} (") and f"n = {n}:" in w]
        assert "against the fastest classical start it takes " in sentence, sentence
        assert "e+0" not in sentence


def test_medians_with_intervals_print_counts_positionally():
    """Iteration counts read "2.2e+02 [2e+02, 2.3e+02]" on warm-start and sparse-precond."""
    from nnbench.report.stats import MedianInterval, median_interval_text

    assert median_interval_text(MedianInterval(221.0, 199.6, 231.0)) == "220 [200, 230]"
    assert median_interval_text(MedianInterval(1.0, 1.0, 1.0)) == "1 [1, 1]"
    assert median_interval_text(MedianInterval(4.5e-5, 4e-5, 5e-5)) == "4.5e-05 [4e-05, 5e-05]"


def test_no_break_even_number_where_the_time_per_matrix_interval_holds_1():
    """Reads the committed amortized-sketch results (read-only): image-crops at 0.98x
    [0.86, 1.1] showed break_even_matrices 1.5e+06 while the headline claims none."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.amortized import break_even

    folder = Path(__file__).resolve().parents[1] / "reports/amortized/results/amortized-sketch"
    table = break_even(load_results(folder).results)
    holds = table["time per matrix / classical [95% CI]"].str.contains("not clearly")
    assert holds.any()
    assert table[holds].break_even_matrices.isna().all()


def test_the_streaming_passes_table_counts_problems_as_the_verdict_does():
    """Reads the committed streaming results (read-only): its "best of each group under each
    budget" table said "problems 72" (cells: 8 problems x 9) and medians over cells."""
    from pathlib import Path

    from nnbench.report.costs import cost_model_verdict
    from nnbench.results import load_results
    from nnbench.studies.streaming import by_passes

    res = load_results(Path(__file__).resolve().parents[1] / "reports/streaming/results")
    table = by_passes(res.results)
    verdict = cost_model_verdict(res.results)
    assert set(table.problems) == {8} and "8 problems" in " ".join(verdict.headline)


def test_the_verdict_by_problem_shows_the_problems_that_compare_something_first():
    """Reads the committed sample results (read-only): 128 of the page's 200 rows were QR and
    SVD problems that only classical methods ran ("not run" on every group)."""
    from pathlib import Path

    from nnbench.report.judging import verdict_by_problem
    from nnbench.results import load_results

    res = load_results(Path(__file__).resolve().parents[1] / "reports/sample/results")
    table = verdict_by_problem(res.results)
    times = [c for c in table.columns if c.endswith(": time_s") and not c.startswith("classical")]
    compared = table[times].notna().any(axis=1).tolist()
    assert compared[: sum(compared)] == [True] * sum(compared) and not all(compared)


def test_a_preconditioner_held_only_as_an_operator_has_no_distance_to_a():
    """Warm-start's exact and ILU starts (M as a solve, no L and U) showed rel_err_2 = inf and
    rank_ok False: an exact LU cannot be infinitely far from A; there is no M to compare."""
    from nnbench.api import Grid, run_grid

    grid = Grid(matrices=("diag-dominant",), sizes=(16,),
                methods=("gmres-warm-lu[start=exact]", "gmres-warm-lu[start=cold]"))  # fmt: skip
    rows = run_grid(grid).results.set_index("method")
    exact, cold = rows.loc["gmres-warm-lu[start=exact]"], rows.loc["gmres-warm-lu[start=cold]"]
    assert exact.status == "ok" and pd.isna(exact.rel_err_2) and pd.isna(exact.rank_ok)
    assert 0 < cold.rel_err_2 < 10


def test_the_warm_start_savings_table_compares_no_iterations_where_n_is_at_most_the_restart():
    """Reads the committed warm-start results (read-only): the headline says iterations are
    not compared at n = 8 (GMRES ends by step n from any start), the table printed ratios."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.warm_start import NOT_COMPARED, RESTART, savings

    table = savings(
        load_results(Path(__file__).resolve().parents[1] / "reports/warm-start/results")
    )
    small = table[table.n <= RESTART]
    assert len(small) and (small.iterations_ratio == NOT_COMPARED).all()
    assert (table[table.n > RESTART].iterations_ratio != NOT_COMPARED).all()


def test_a_gmres_that_stops_before_its_cap_does_not_say_it_hit_the_cap(monkeypatch):
    """Warm-start's one n = 8 failure read "... within the cap of 80 iterations at step 8":
    GMRES had stopped at step 8, the end of an 8 x 8 system's Krylov space, not at its cap."""
    from nnbench.errors import Diverged
    from nnbench.methods import warm_start as module
    from nnbench.methods.registry import select_methods

    def stopped(x, b, apply_inverse, **options):
        return module.KrylovRun(np.ones(8), np.ones(8), 3.35e-10, False, 80)

    monkeypatch.setattr(module, "gmres_solve", stopped)
    [method] = select_methods("gmres-warm-lu[start=cold]")
    a = np.eye(8) + 0.1 * np.random.default_rng(0).random((8, 8))
    with pytest.raises(Diverged) as raised:
        method.compute(method.prepare(a, device="cpu"), rank=None, seed=0)
    assert "within the cap" not in str(raised.value)
    assert "before its cap of 80 iterations" in str(raised.value)


def test_a_methods_summary_sentence_comes_before_the_per_problem_ones():
    """sparse-precond's page said amortized-gnn-ic's overall sentence after eleven per-family
    paragraphs."""
    from nnbench.report.build import _headlines
    from nnbench.studies import report_sections

    specs = _headlines(report_sections())
    assert specs[0].name == "amortized_break_even_headline"
    assert [s.summary for s in specs] == sorted((s.summary for s in specs), reverse=True)


def test_the_precond_comparison_names_a_rival_once_marking_the_fastest():
    """Reads the committed sparse-precond results (read-only): 'sparse-ic0' and 'sparse-ic0
    (fastest)' were two identical rows."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.precond import comparison

    folder = Path(__file__).resolve().parents[1] / "reports/sparse-precond/results"
    table = comparison(load_results(folder).results)
    rivals = table.against.str.removesuffix(" (fastest)")
    assert not table.assign(rival=rivals).duplicated(["matrix", "n", "rival"]).any()
    assert (
        table.groupby(["matrix", "n"]).against.apply(lambda a: a.str.endswith("(fastest)").sum())
        == 1
    ).all()


def test_a_summary_counts_matrices_and_runs_apart_from_cells():
    """Reads the committed warm-start results (read-only): "matrices 60" was 20 matrices x 3
    runs (sparse-precond: 39 beside the generalisation table's 13)."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.warm_start import summary

    table = summary(
        load_results(Path(__file__).resolve().parents[1] / "reports/warm-start/results")
    )
    assert set(table.matrices) == {20} and set(table.runs) == {3} and set(table.cells) == {60}


def test_an_amortized_headline_on_one_problem_says_its_one_problem():
    """Reads the committed learned-sketch results (read-only): each network there has one
    problem, and its headline said "on 1 of its 1 problems"."""
    from pathlib import Path

    from nnbench.results import load_results
    from nnbench.studies.amortized import headline

    folder = Path(__file__).resolve().parents[1] / "reports/learned-sketch/results"
    sentences = headline(load_results(folder))
    assert sentences and not any("1 of its 1 problems" in s for s in sentences)
    assert any("on its one problem;" in s for s in sentences)
