"""Each page says in one line what its intervals resample (issue 34 item 1): problems ×
matrix instances × runs, with the counts of its results, and where there is one run, that
its intervals leave run-to-run timing noise out. The counts are checked against the parquet
counted here with pandas alone."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest
from conftest import OLD_RUN_PAGE

from nnbench.report.build import combine
from nnbench.report.resampling import Resampling, resampling, resampling_text
from nnbench.results import load_results

ROOT = Path(__file__).resolve().parent.parent
REPORTS = sorted(page.parent for page in (ROOT / "reports").glob("*/report.md"))


def _folders(report: Path) -> list[Path]:
    return sorted(p.parent for p in (report / "results").glob("**/results.parquet"))


def _parquet(report: Path) -> list[pd.DataFrame]:
    return [pd.read_parquet(folder / "results.parquet") for folder in _folders(report)]


def _line(page: str) -> str:
    lines = [line for line in page.splitlines() if line.startswith("Intervals: ")]
    assert len(lines) <= 1, lines
    return lines[0] if lines else ""


@OLD_RUN_PAGE
def test_a_page_built_from_one_run_says_its_intervals_leave_out_timing_noise(
    old_run_page,
):
    report = ROOT / "reports" / "cpu-scale"
    out = old_run_page
    line = _line((out / "report.md").read_text())
    (cells,) = _parquet(report)
    assert cells.run.nunique() == 1
    counts = cells[cells.status == "ok"].groupby(["matrix", "n"]).repeat.nunique()
    low, high = int(counts.min()), int(counts.max())
    shown = str(low) if low == high else f"{low}–{high}"
    assert line == (
        f"Intervals: 95% bootstrap over each row's {shown} matrix instances per "
        "problem; this report has one run, so they do not include run-to-run timing noise."
    )
    assert html.escape(line) in (out / "index.html").read_text()
    head = (out / "report.md").read_text().split("\n## ")[0]
    assert line in head  # near the top: after the headline and the cell count


def test_three_runs_are_named_as_resampling_timing_noise():
    report = ROOT / "reports" / "fair-quick"
    (cells,) = _parquet(report)
    counts = resampling(combine([load_results(f) for f in _folders(report)]).results)
    assert counts.runs == (cells.run.nunique(), cells.run.nunique()) == (3, 3)
    text = resampling_text(counts)
    assert text.endswith("× 3 runs (the runs resample timing noise).")
    assert f"over {counts.problems} problems (" in text


@pytest.mark.parametrize(
    ("counts", "text"),
    [
        (
            Resampling(48, (48, 48), (2, 2), (3, 3)),
            "Intervals: 95% bootstrap over 48 problems × 2 matrix instances × 3 runs "
            "(the runs resample timing noise).",
        ),
        (
            Resampling(1, (1, 1), (1, 1), (1, 1)),
            "Intervals: 95% bootstrap over 1 problem × 1 matrix instance; this report has one "
            "run, so they do not include run-to-run timing noise.",
        ),
        (
            Resampling(0, (0, 0), (1, 13), (1, 3)),
            "Intervals: 95% bootstrap over each row's 1–13 matrix instances per problem × 1–3 "
            "runs; on a problem with one run they do not include run-to-run timing noise.",
        ),
    ],
)
def test_resampling_text(counts, text):
    assert resampling_text(counts) == text


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.name)
def test_committed_page_resampling_line_matches_its_parquet(report):
    """Reads the committed page (reports/*/report.md): its "Intervals:" line is the one its
    committed results give, and says "one run" exactly where every committed parquet has
    one run."""
    line = _line((report / "report.md").read_text())
    assert line, f"{report.name}: no line says what its intervals resample"
    runs = {int(cells.run.nunique()) for cells in _parquet(report)}
    assert ("this report has one run" in line) == (runs == {1})
    assert (f"× {max(runs)} runs" in line) == (max(runs) > 1)
    combined = combine([load_results(f) for f in _folders(report)])
    assert line == resampling_text(resampling(combined.results))
