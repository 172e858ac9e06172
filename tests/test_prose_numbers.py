"""Numbers in prose come from the reports (issue 33): every number in the README's verdict and
in docs/findings.md's section on the committed reports is printed, the same way, by a committed
report that its paragraph or bullet links (`reports/NAME/report.md`).

A quoted number is matched by its form: `6.4× [3.9, 9.1]` against an interval the report prints
(`6.4× slower [3.9, 9.1]`), `10 of 16` against `10 of 16` or `10/16`, `6.4×` against a ratio (a
number with × or x, or in a table column whose name says ratio), `10×10` against `10x10`, and a
bare number against a whole table cell or a number in the report's own sentences. `5,800` and
`5800`, `1e-6` and `1e-06` are the same number; `0.26` and `0.2563` are not: quote the report's
digits, so that a re-run that moves a number fails here until the prose moves with it.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"

CHECKED = (
    ("README.md", "Current verdict"),
    ("docs/findings.md", "The committed reports"),
)
"""(page, second-level heading): the prose whose every number must come from a report."""

NOT_MEASURED = (
    r"\b2-core\b",  # the machine the reports ran on (reports/README.md), not a measurement
    r"about 8 minutes",  # what gpu.sh is sized to take; no GPU report is committed to check it
    r"\b\d{4}-\d{2}-\d{2}\b",  # a date names a rebuild
    r"\b[Ss]tudy \d{3}\b",  # the source studies' names (study 002)
)
"""Phrases with digits that are names or plans, not numbers a report measured: removed first."""

DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?"
NUM = rf"(?<!\w)(?<!\d\.){DIGITS}"  # not the tail of a name (H100, 16bc8e4) or of a decimal
END = r"(?!\w)"
TIMES = r"(?:×|x(?!\w))"
QUANTITY = re.compile(
    rf"(?P<interval>(?P<centre>{NUM})(?P<times>{TIMES})?(?: slower| faster| \(as fast\))?"
    rf" \[(?P<low>{NUM}), (?P<high>{NUM})\])"
    rf"|(?P<count>(?P<part>{NUM}) of (?:the |its |all )?(?P<whole>{NUM}){END})"
    rf"|(?P<slash>(?P<num>{NUM})/(?P<den>{NUM}){END})"
    rf"|(?P<dims>(?P<rows>{NUM})[×x](?P<cols>{DIGITS}){END})"
    rf"|(?P<span>(?P<first>{NUM})–(?P<last>{NUM})(?P<span_times>{TIMES})?{END})"
    rf"|(?P<ratio>(?P<factor>{NUM}){TIMES})"
    rf"|(?P<plain>{NUM}{END})"
)
RATIO_COLUMN = re.compile(r"(?<![a-z])ratio")  # time ratio, ratio_fro; not iterations
LINKED_REPORT = re.compile(r"\((?:\.\./)?reports/([\w-]+)/")

Fact = tuple[str, ...]
"""(kind, number, ...): ('interval', '6.4', '3.9', '9.1'), ('count', '10', '16'), ('plain', '9')."""


def _number(text: str) -> str:
    """A number written one way: 5,800 and 5800.0 read the same, as 1e-6 and 1e-06."""
    return format(Decimal(text.replace(",", "")).normalize(), "f")


def _facts(match: re.Match[str], *, ratio: bool = False) -> list[Fact]:
    """What one matched quantity says; `ratio`: it stands in a table column of ratios."""

    def n(*groups: str) -> tuple[str, ...]:
        return tuple(_number(match[group]) for group in groups)

    if match["interval"]:
        centre = [("ratio", *n("centre"))] if ratio or match["times"] else []
        return [("interval", *n("centre", "low", "high")), *centre]
    if match["count"]:
        return [("count", *n("part", "whole"))]
    if match["slash"]:
        return [("count", *n("num", "den"))]
    if match["dims"]:
        return [("dims", *n("rows", "cols"))]
    if match["span"]:
        kind = "ratio" if match["span_times"] else "plain"
        return [(kind, *n("first")), (kind, *n("last"))]
    if match["ratio"]:
        return [("ratio", *n("factor"))]
    return [("ratio" if ratio else "plain", *n("plain"))]


def _prose(text: str) -> str:
    """Text as a reader reads it: no comments, code, link targets or line breaks."""
    text = re.sub(r"<!--.*?-->|```.*?```|`[^`]*`", " ", text, flags=re.DOTALL)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"\s+", " ", text)


def printed_facts(markdown: str) -> set[Fact]:
    """Every fact a report page prints: in its sentences, and in its tables' cells.

    A bare number in a table counts only as a whole cell: 0.00046 is not a fact of the cell
    `0.000434 s [0.00037, 0.00046]`."""
    facts: set[Fact] = set()
    header: list[str] = []
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = []
            for match in QUANTITY.finditer(_prose(line)):
                facts.update(_facts(match))
                facts.update(("plain", _number(n)) for n in re.findall(NUM, match[0]))
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not header:
            header = cells
            continue
        # a cell may hold '|' (a norm: ||A||), so a row can have more cells than its header
        for column, cell in zip(header, cells, strict=False):
            for match in QUANTITY.finditer(cell):
                if not match["plain"] or match[0] == cell:
                    facts.update(_facts(match, ratio=RATIO_COLUMN.search(column) is not None))
                if match["interval"]:
                    facts.add(("plain", _number(match["centre"])))
    return facts


def reproduction_counts(table: Path) -> set[Fact]:
    """'16 of its 18': a study's reproduced rows of one quantity, as its table marks them row
    by row (the report prints each verdict, not their count)."""
    with table.open(newline="") as rows:
        rows_of = Counter(
            (row["study"], row["quantity"], row["verdict"]) for row in csv.DictReader(rows)
        )
    totals: Counter[tuple[str, str]] = Counter()
    for (study, quantity, _), count in rows_of.items():
        totals[study, quantity] += count
    return {
        ("count", str(count), str(totals[study, quantity]))
        for (study, quantity, verdict), count in rows_of.items()
        if verdict == "reproduced"
    }


@cache
def report_facts(name: str) -> frozenset[Fact]:
    folder = REPORTS / name
    facts = printed_facts((folder / "report.md").read_text())
    if (folder / "tables" / "reproduction.csv").is_file():
        facts |= reproduction_counts(folder / "tables" / "reproduction.csv")
    return frozenset(facts)


@dataclass(frozen=True)
class Quote:
    """A number as the prose prints it, what it says, and the reports it may come from."""

    shown: str
    context: str
    reports: tuple[str, ...]
    facts: tuple[Fact, ...]

    def is_printed(self) -> bool:
        known = frozenset().union(*(report_facts(name) for name in self.reports))
        return all(fact in known for fact in self.facts)


def section(text: str, heading: str) -> str:
    """The text under the second-level heading that starts with `heading`, up to the next."""
    start = re.search(rf"^## {re.escape(heading)}.*$", text, flags=re.MULTILINE)
    assert start, f"no section '## {heading}'"
    end = text.find("\n## ", start.end())
    return text[start.end() : end if end != -1 else len(text)]


def quotes(text: str) -> list[Quote]:
    """Every number in `text`, a paragraph or bullet at a time, with the reports it links."""
    found = []
    for block in re.split(r"\n\s*\n|\n(?=- )", text):
        reports = tuple(n for n in LINKED_REPORT.findall(block) if (REPORTS / n).is_dir())
        prose = _prose(block)
        for phrase in NOT_MEASURED:
            prose = re.sub(phrase, " ", prose)
        for match in QUANTITY.finditer(prose):
            context = prose[max(0, match.start() - 60) : match.end() + 20].strip()
            found.append(Quote(match[0], context, reports, tuple(_facts(match))))
    return found


@pytest.mark.parametrize(("page", "heading"), CHECKED, ids=[page for page, _ in CHECKED])
def test_every_number_in_the_prose_is_printed_by_a_report_it_links(page: str, heading: str) -> None:
    found = quotes(section((ROOT / page).read_text(), heading))
    assert len(found) > 20, f"{page} '{heading}': {len(found)} numbers; is the section moved?"
    unprinted = [
        f"{q.shown!r} is in none of {list(q.reports) or 'its linked reports (none)'}: "
        f"... {q.context} ..."
        for q in found
        if not q.is_printed()
    ]
    assert not unprinted, f"{page}, '{heading}':\n" + "\n".join(unprinted)


STALE_VERDICT = """
- **No hybrid or neural method is faster than the best classical one at matched accuracy** on
  any task measured (`fair-quick`: 3 independent runs, each in its own cell order, one job;
  each ratio is to each problem's own fastest classical method, median over problems with a
  95% bootstrap interval over problems and runs). Rank-k (excess over the optimum ≤ 1e-6 of the
  zero-to-optimum gap; the fastest classical: `scipy-svds-propack` on 11 of the 16 problems):
  `hybrid-lowrank-als` 5.6× [3.7, 8.5], `neural-lowrank-lbfgs` 230× [170, 380]. The LU
  comparator is `torch-lu` on 4 of 6 single-matrix problems and on every stack. LU (backward
  error of the factorization ≤ 1e-12, the timed region the library call alone):
  `hybrid-lu-newton` 73× [63, 100] on single matrices, 20× [10, 31] on stacks of 1,000; the
  gradient-only `neural-lu-convex` (L-BFGS on a convex loss for L⁻¹) gets there on the 4 of 6
  problems that need no pivoting, at 6,300× [1,100, 9,200]. Asked the other way round (the
  reverse comparison: what the fastest classical method needs to reach each network's own final
  accuracy), `hybrid-lowrank-als` takes 15× [11, 25] that time and `neural-lowrank-lbfgs` 620×
  [360, 860]. [reports/fair-quick](reports/fair-quick/report.md)
"""
"""The README's fair-quick bullet before issue 33, against the reports re-run at 99a8152."""


def test_the_verdict_that_went_stale_is_caught() -> None:
    stale = {q.shown for q in quotes(STALE_VERDICT) if not q.is_printed()}
    assert stale == {
        "11 of the 16",
        "5.6× [3.7, 8.5]",
        "230× [170, 380]",
        "73× [63, 100]",
        "20× [10, 31]",
        "6,300× [1,100, 9,200]",
        "15× [11, 25]",
        "620× [360, 860]",
    }


@pytest.mark.parametrize(
    ("prose", "printed", "found"),
    [
        ("5,800× [1,100, 11,000]", "| time ratio |\n|--|\n| 5800× slower [1100, 11000] |", True),
        ("5,800× [1,100, 11,000]", "| time ratio |\n|--|\n| 5800× slower [1100, 12000] |", False),
        ("1.1× the iterations", "it needs 1.1x [1.1, 1.2] the iterations", True),
        (
            "0.55× its time",
            "| iterations_ratio | total_time_ratio |\n|--|--|\n| 1.1 | 0.55 |",
            True,
        ),
        ("0.55× its time", "| iterations | total_time |\n|--|--|\n| 1.1 | 0.55 |", False),
        ("33× the time", "| iterations |\n|--|\n| 33 [32, 34] |", False),
        ("error 0.00046", "| t |\n|--|\n| 0.000434 s [0.00037, 0.00046] |", False),
        ("error 0.2204", "| t |\n|--|\n| 0.2204 |", True),
        ("10 of 16 problems", "reached | 10/16 |", True),
        ("11 of the 16 problems", "scipy-svds-propack on 10 of 16 problems", False),
        ("at 1e-6", "excess ≤ 1e-06", True),
        ("12–32× its time", "cg-jacobi 12x [12, 15]; cg-jacobi 32x [28, 34]", True),
        ("12–33× its time", "cg-jacobi 12x [12, 15]; cg-jacobi 32x [28, 34]", False),
    ],
)
def test_a_number_is_found_only_as_the_report_prints_it(
    prose: str, printed: str, found: bool
) -> None:
    facts = printed_facts(printed)
    assert all(all(f in facts for f in q.facts) for q in quotes(prose)) is found


def test_a_number_in_a_paragraph_that_links_no_report_is_unprinted() -> None:
    """A number the linked report prints counts only where the paragraph links it (the
    report's printed number is read from it, so a re-run does not break this test)."""
    report = (REPORTS / "fair-quick" / "report.md").read_text()
    centre, low, high = re.search(rf"({NUM})× slower \[({NUM}), ({NUM})\]", report).groups()
    said = f"it takes {centre}× [{low}, {high}] the time"
    assert not quotes(f"- {said}\n")[0].is_printed()
    assert quotes(f"- {said} ([r](reports/fair-quick/report.md))\n")[0].is_printed()
