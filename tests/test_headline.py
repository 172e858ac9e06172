"""The verdict's 95% intervals and the headline: one sentence per task, in words, that opens
every report, from synthetic LU results (no run)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from test_figures import _row

from nnbench.report.build import build_report
from nnbench.report.judging import verdict
from nnbench.report.sentences import headline
from nnbench.report.stats import ratio_interval, two_digits
from nnbench.results import Results, to_frame
from nnbench.results.table import CURVE_COLUMNS

CELL_IDS = itertools.count()
CLASSICAL_S = 1e-3


def _cells(n: int, method: str, group: str, times: list[float], **fields: object) -> list:
    """One LU problem's cells of one method that meet float64's 1e-12: one per repeat."""
    return [
        _row(next(CELL_IDS), kind="lu", n=n, n_rows=n, n_cols=n, matrix=f"m{n}", method=method,
             method_base=method, group=group, rel_err_2=1e-15, rel_err_fro=1e-15,
             solve_backward_err=1e-16, expected_rank=n, repeat=repeat, time_s=time_s,
             **fields)
        for repeat, time_s in enumerate(times)
    ]  # fmt: skip


def _lu(hybrid_ratios: list[float], repeats: int = 1) -> list:
    """One problem per ratio (n = 8, 9, ...): torch-lu in 1 ms, the hybrid in ratio x that,
    each timed `repeats` times with the same median."""
    spread = np.linspace(0.9, 1.1, repeats) if repeats > 1 else np.ones(1)
    return [
        cell
        for n, ratio in enumerate(hybrid_ratios, start=8)
        for cell in (
            *_cells(n, "torch-lu", "classical", list(CLASSICAL_S * spread)),
            *_cells(n, "hybrid-lu-newton", "hybrid", list(ratio * CLASSICAL_S * spread)),
        )
    ]


def _hybrid(rows: list) -> pd.Series:
    return verdict(to_frame(rows)).iloc[0]


def _bounds(row: pd.Series) -> tuple[float, float, float]:
    return row["hybrid: time ratio low"], row["hybrid: time ratio"], row["hybrid: time ratio high"]


def test_the_interval_holds_the_median_ratio_and_widens_when_problems_disagree():
    agree = _hybrid(_lu([3.8, 3.9, 4.0, 4.0, 4.1, 4.2, 4.0]))
    disagree = _hybrid(_lu([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0]))
    for row in (agree, disagree):
        low, ratio, high = _bounds(row)
        assert ratio == pytest.approx(4.0) and low <= ratio <= high
    assert disagree["hybrid: time ratio high"] - disagree["hybrid: time ratio low"] > 2 * (
        agree["hybrid: time ratio high"] - agree["hybrid: time ratio low"]
    )
    assert (
        _hybrid(_lu([3.8, 3.9, 4.0, 4.0, 4.1, 4.2, 4.0]))["hybrid: time ratio [95% CI]"]
        == agree["hybrid: time ratio [95% CI]"]
    )  # a fixed seed: the same report every time
    text = disagree["hybrid: time ratio [95% CI]"]
    assert re.fullmatch(r"4\.0× slower \[\d\.?\d?, \d+\.?\d?\]", text), text


def test_repeated_times_of_one_problem_are_resampled_too():
    """One problem: timed once there is no interval; timed five times with a spread, its
    times are drawn again and the interval has width."""
    once = _hybrid(_lu([4.0]))
    assert np.isnan(once["hybrid: time ratio low"])
    assert (
        once["hybrid: time ratio [95% CI]"] == "4.0× slower [no interval: one problem, timed once]"
    )
    low, ratio, high = _bounds(_hybrid(_lu([4.0], repeats=5)))
    assert ratio == pytest.approx(4.0) and low < ratio < high
    two_levels = ratio_interval([([4.0, 4.4, 3.6], [1.0, 1.1, 0.9])] * 3)
    one_level = ratio_interval([([4.0], [1.0])] * 3)
    assert two_levels[0] < 4.0 < two_levels[1] and one_level == (4.0, 4.0)


@pytest.mark.parametrize(
    ("x", "shown"),
    [(42.68, "43"), (7.93, "7.9"), (0.523, "0.52"), (0.4, "0.40"), (9.96, "10"), (1234, "1200")],
)
def test_ratios_are_printed_to_two_significant_digits(x, shown):
    assert two_digits(x) == shown


def test_a_group_that_did_not_run_is_named_and_not_counted_in_reached():
    """neural ran on m8 (reached), failed on m9 (ran, not reached) and declined m10 (skipped:
    did not run); amortized ran nowhere."""
    rows = _lu([2.0, 2.0, 2.0])
    rows += _cells(8, "neural-lu-adam", "neural", [5e-3])
    rows += _cells(9, "neural-lu-adam", "neural", [np.nan], status="failed", reason="nan loss")
    rows += _cells(10, "neural-lu-adam", "neural", [np.nan], status="skipped", reason="too big")
    row = verdict(to_frame(rows)).iloc[0]
    assert row["hybrid: reached"] == "3/3" and row["neural: reached"] == "1/2"
    assert row["amortized: best"] == "not run"
    (sentence,) = headline(to_frame(rows))
    assert sentence.endswith(" Not run: amortized.")
    assert "the best hybrid, hybrid-lu-newton, is slower: it takes 2.0× [2.0, 2.0]" in sentence


@pytest.mark.parametrize(
    ("ratios", "word", "claim"),
    [
        ([0.5, 0.4, 0.6, 0.5, 0.3], "(faster)", "the best hybrid, hybrid-lu-newton, is faster"),
        ([0.5, 0.4, 8.0, 9.0, 7.0], "slower", "the best hybrid, hybrid-lu-newton, is neither"),
        ([3.0, 4.0, 5.0, 4.0, 6.0], "slower", "no hybrid method is faster"),
    ],
)
def test_the_headline_says_faster_only_where_the_hybrid_is_faster_everywhere(ratios, word, claim):
    """Faster on every problem: faster; slower on every problem: slower; on some of them:
    neither, clearly (the interval holds 1)."""
    results = to_frame(_lu(ratios))
    assert word in _hybrid(_lu(ratios))["hybrid: time ratio [95% CI]"]
    (sentence,) = headline(results)
    assert sentence.startswith(f"LU, float64, CPU: {claim}")
    assert ("slower" in sentence) == (word == "slower")
    assert "(torch-lu on all 5 problems), n = 8..12, 5 problems." in sentence
    assert "Not run: neural, amortized." in sentence


def test_a_tie_between_classical_methods_names_both():
    """m8: scipy-lu and torch-lu in the same time; m9: scipy-lu fastest; m10: torch-lu."""
    rows = _lu([3.0, 3.0, 3.0])
    rows += _cells(8, "scipy-lu", "classical", [CLASSICAL_S])
    rows += _cells(9, "scipy-lu", "classical", [CLASSICAL_S / 2])
    rows += _cells(10, "scipy-lu", "classical", [CLASSICAL_S * 2])
    row = verdict(to_frame(rows)).iloc[0]
    assert row["best classical"] == "scipy-lu (1), scipy-lu = torch-lu (1), torch-lu (1)"
    (sentence,) = headline(to_frame(rows))
    assert "(scipy-lu, scipy-lu = torch-lu and torch-lu, on 1 of 3 problems each)" in sentence


def _report(rows: list, tmp_path) -> list[str]:
    results = Results(
        results=to_frame(rows),
        curves=pd.DataFrame(columns=CURVE_COLUMNS),
        provenance={"runs": []},
        artifacts={},
    )
    out = build_report([results], tmp_path / "report")
    page = (out / "index.html").read_text()
    if 'class="headline"' in page:
        assert page.index('class="headline"') < page.index("cells:")
    return (out / "report.md").read_text().splitlines()


def test_the_headline_is_the_first_thing_after_the_title(tmp_path):
    md = _report(_lu([2.0, 3.0]), tmp_path)
    assert md[0] == "# nnbench report" and md[1] == ""
    assert md[2] == headline(to_frame(_lu([2.0, 3.0])))[0]
    assert md[2].startswith("LU, float64, CPU: no hybrid method is faster") and md[4].startswith(
        "4 cells:"
    )


def test_a_report_without_a_fair_comparison_has_no_headline(tmp_path):
    hybrid_only = [row for row in _lu([2.0]) if row.cell.group == "hybrid"]
    assert headline(to_frame(hybrid_only)) == []
    assert _report(hybrid_only, tmp_path)[2] == "1 cells: 1 ok"


def test_a_group_the_suite_has_no_method_of_is_said_so_not_not_run():
    """QR has classical methods only: its headline says the suite has no other, and does not
    call them 'not run' as if a study had left them out."""
    rows = [
        _row(next(CELL_IDS), kind="qr", n=8, n_rows=8, n_cols=8, matrix="m8", method=method,
             method_base=method, group="classical", rel_err_2=1e-15, rel_err_fro=1e-15,
             structure_err=1e-15, expected_rank=8, repeat=0, time_s=time_s)
        for method, time_s in (("scipy-qr", CLASSICAL_S), ("torch-qr", CLASSICAL_S / 2))
    ]  # fmt: skip
    (sentence,) = headline(to_frame(rows))
    assert sentence.startswith("QR, float64, CPU: only classical methods ran")
    assert sentence.endswith(" The suite has no hybrid, neural or amortized QR method.")
    assert "Not run" not in sentence
    row = verdict(to_frame(rows)).iloc[0]
    assert row["neural: best"] == "none in the suite"


def test_the_groups_offered_per_task_are_the_registry_s():
    from nnbench.methods.registry import METHODS
    from nnbench.report.judging import OFFERED

    registered: dict[str, set[str]] = {}
    for method in METHODS.values():
        registered.setdefault(method.kind, set()).add(method.group)
    assert {kind: set(groups) for kind, groups in OFFERED.items()} == registered


def test_a_problem_in_two_results_folders_is_judged_within_each_run():
    """Run A: torch-lu 1 ms, the hybrid 2 ms on m8. Run B: the same problem, torch-lu timed
    at 0.01 ms (another run, another machine state). Combined, the hybrid's ratio is 2 (its
    own run's), never 200, and the problem counts once per run."""
    from nnbench.report.build import combine
    from nnbench.report.judging import verdict_by_problem

    run_a = to_frame(_lu([2.0]))
    run_b = to_frame(_cells(8, "torch-lu", "classical", [CLASSICAL_S / 100]))
    both = combine([Results(results=run_a), Results(results=run_b)]).results
    row = verdict(both).iloc[0]
    assert row["hybrid: time ratio"] == pytest.approx(2.0)
    assert row["problems"] == 2
    table = verdict_by_problem(both)
    assert list(table["results folder"]) == [1, 2]
    assert "source" not in verdict_by_problem(run_a) and "results folder" not in verdict_by_problem(
        run_a
    )
