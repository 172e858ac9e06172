"""The landing page of the committed reports (issue 34 item 6): reports/index.html lists
every committed report with its headline sentences, the commits that ran it, when, and a
link to its page; reports/rebuild.sh writes it after each report."""

from __future__ import annotations

import html
import re
from pathlib import Path

from nnbench.report.landing import entries, headline, landing_html, main

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def test_the_committed_landing_page_links_every_committed_report():
    """Reads the committed reports/index.html: a link to each reports/*/index.html."""
    page = (REPORTS / "index.html").read_text()
    linked = set(re.findall(r'href="([^"#]+/index\.html)"', page))
    pages = {p.relative_to(REPORTS).as_posix() for p in REPORTS.glob("*/index.html")}
    assert pages and linked == pages


def test_the_committed_landing_page_is_current():
    """The committed reports/index.html is what the committed pages and run.json give
    (rebuild.sh writes it after every report, --page-only included)."""
    assert (REPORTS / "index.html").read_text() == landing_html(entries(REPORTS))


def test_rebuild_writes_the_landing_page():
    script = (REPORTS / "rebuild.sh").read_text()
    assert "-m nnbench.report.landing reports" in script


def test_a_headline_is_the_lines_between_title_and_cell_count():
    page = "# nnbench report\n\nLU: one.\n\nQR: two.\n\n1,200 cells: 1200 ok\n\nIntervals: x\n"
    assert headline(page) == ("LU: one.", "QR: two.")


def test_each_entry_shows_its_headline_commit_and_date(tmp_path):
    report = tmp_path / "reports" / "mine"
    (report / "results").mkdir(parents=True)
    (report / "report.md").write_text("# nnbench report\n\nLU: faster.\n\n8 cells: 8 ok\n")
    (report / "index.html").write_text("<html></html>")
    (report / "results" / "run.json").write_text(
        '{"git_commit": "0123456789abcdef", "finished": "2026-12-01T21:37:00+00:00"}'
    )
    assert main([str(tmp_path / "reports")]) == 0
    page = (tmp_path / "reports" / "index.html").read_text()
    assert html.escape("LU: faster.") in page and "8 cells" not in page
    assert "<code>0123456789ab</code>" in page and "2026-12-01 21:37 UTC" in page
    assert 'href="mine/index.html"' in page
