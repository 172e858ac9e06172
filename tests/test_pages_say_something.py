"""Every page says something (issue 34 items 2 and 3): no headline about a group the page
did not compare, no level the zero-information answer meets, no `nan`/`None`/`inf` left
unexplained, no tiny negative printed. The checks are functions of a page's Markdown,
applied to pages built here from committed results folders and to the committed pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import OLD_RUN_PAGE

REPORTS = Path(__file__).resolve().parents[1] / "reports"
FAST = ("learned-sketch",)  # built once for the tests that read it (conftest)
GROUPS = ("hybrid", "neural", "amortized")


def _headline(md: str) -> list[str]:
    """The sentences between the title and the cell count."""
    lines = md.split("\n## ")[0].splitlines()
    return [line for line in lines[1:] if line and not re.match(r"\d+ cells", line)]


def uncompared_groups(md: str) -> list[str]:
    """Groups a headline calls slower or faster ("no hybrid or neural method is faster")
    that the page's verdict gives no time ratio for."""
    wrong = []
    for sentence in _headline(md):
        for named in re.findall(r"no ([a-z ,]+?) method is faster", sentence):
            for group in re.split(r", | or ", named):
                if group in GROUPS and f"{group}: time ratio" not in md:
                    wrong.append(f"{group}: {sentence[:80]}")
    return wrong


def zero_information_levels(md: str) -> list[str]:
    """Levels in the headline that the zero matrix (error 1) would meet."""
    levels = re.findall(r"≤ (\d[\d.e+-]*)(?![\d.e+-]| n eps)", "\n".join(_headline(md)))
    return [lv for lv in levels if float(lv.rstrip(".,")) >= 1]


def unexplained_missing(md: str) -> list[str]:
    """Table cells reading nan, None or <NA>; and inf in a table whose note does not say
    what inf means."""
    found = []
    for section in md.split("\n## ")[1:]:
        cells = [c.strip() for line in section.splitlines() if line.startswith("|")
                 for c in line.split("|")]  # fmt: skip
        title = section.splitlines()[0]
        found += [f"{title}: {c}" for c in cells if c in ("nan", "None", "<NA>")]
        note = "\n".join(line for line in section.splitlines() if not line.startswith("|"))
        if "inf" in cells and "inf" not in note:
            found.append(f"{title}: inf unexplained")
    return found


def tiny_negatives(md: str) -> list[str]:
    """Printed negatives of magnitude below 1e-9 (rounding's, to be shown as 0)."""
    return re.findall(r"(?<![\w.])-\d(?:\.\d+)?e-(?:09|[1-9]\d)\b", md)


CHECKS = (uncompared_groups, zero_information_levels, unexplained_missing, tiny_negatives)


def _folders(report: str) -> list[Path]:
    results = REPORTS / report / "results"
    return [results] if (results / "results.parquet").exists() else sorted(results.iterdir())


@OLD_RUN_PAGE
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_a_page_built_from_committed_results_passes(old_run_page, check):
    """Today's code on a committed run (the committed pages are checked below)."""
    assert check((old_run_page / "report.md").read_text()) == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_committed_pages_pass(check):
    pages = sorted(REPORTS.glob("*/report.md"))
    assert pages
    failing = {p.parent.name: check(p.read_text()) for p in pages if check(p.read_text())}
    assert failing == {}


def test_the_checks_catch_what_they_are_for():
    page = (
        "# nnbench report\n\nLU, float32, CPU: no hybrid or neural method is faster at "
        "backward error ≤ 1 — ...\n\n4 cells: 4 ok\n\n## Verdict\n\n| a | hybrid: time ratio |\n"
        "|---|---|\n| nan | -5.551e-16 |\n| inf | 1 |\n"
    )
    assert uncompared_groups(page) == ["neural: " + _headline(page)[0][:80]]
    assert zero_information_levels(page) == ["1"]
    assert unexplained_missing(page) == ["Verdict: nan", "Verdict: inf unexplained"]
    assert tiny_negatives(page) == ["-5.551e-16"]
