"""The landing page of the committed reports, `reports/index.html`: every report with its
headline sentences (its report.md's lines after the title, up to the cell count), the
commits that ran it and when, and links to its page.

    python -m nnbench.report.landing reports
"""

from __future__ import annotations

import html
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from nnbench.report.page import CSS

CELL_COUNT = re.compile(r"^\d[\d,]* cells\b")  # the line that ends a page's headline


@dataclass(frozen=True)
class Entry:
    """One committed report as the landing page lists it."""

    name: str
    headline: tuple[str, ...]
    commits: tuple[str, ...]  # each run's git_commit (12 characters), in folder order
    finished: str  # the last run's finish, "2026-12-01 21:37 UTC"


def headline(report_md: str) -> tuple[str, ...]:
    """The sentences between a page's title and its cell count (non-blank lines)."""
    lines = report_md.splitlines()[1:]
    end = next((i for i, line in enumerate(lines) if CELL_COUNT.match(line)), len(lines))
    return tuple(line for line in lines[:end] if line.strip())


def entry(report: Path) -> Entry:
    """A report folder (its report.md and results/**/run.json) as an `Entry`."""
    runs = [json.loads(p.read_text()) for p in sorted((report / "results").glob("**/run.json"))]
    commits = tuple(dict.fromkeys(str(r.get("git_commit") or "not recorded")[:12] for r in runs))
    finished = max((str(r.get("finished", "")) for r in runs), default="")
    return Entry(
        name=report.name,
        headline=headline((report / "report.md").read_text()),
        commits=commits,
        finished=finished[:16].replace("T", " ") + " UTC" if finished else "not recorded",
    )


def entries(reports: Path) -> list[Entry]:
    """Every report under `reports` (a folder with a report.md), by name."""
    return [entry(page.parent) for page in sorted(reports.glob("*/report.md"))]


def _entry_html(item: Entry) -> str:
    name = html.escape(item.name)
    sentences = "".join(f'<p class="headline">{html.escape(s)}</p>' for s in item.headline)
    commits = ", ".join(f"<code>{html.escape(c)}</code>" for c in item.commits)
    return (
        f'<h2 id="{name}"><a href="{name}/index.html">{name}</a></h2>{sentences}'
        f'<p class="note">Run at commit{"s" * (len(item.commits) > 1)} {commits}, finished '
        f'{html.escape(item.finished)}. <a href="{name}/index.html">Page</a> · '
        f'<a href="{name}/report.md">Markdown</a></p>'
    )


def landing_html(items: list[Entry]) -> str:
    """The landing page: a navigation bar, then each report's headline and provenance."""
    nav = "".join(f'<a href="#{html.escape(i.name)}">{html.escape(i.name)}</a>' for i in items)
    intro = (
        "<p>Each report was run and rendered by <code>bash reports/rebuild.sh REPORT</code>; "
        "its page's footer names the commits that ran and rendered it, the CPU and the BLAS, "
        'and <a href="README.md">README.md</a> lists each rebuild.</p>'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<title>nnbench reports</title><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
        f"<nav>{nav}</nav><h1>nnbench reports</h1>{intro}"
        + "".join(map(_entry_html, items))
        + "</body></html>\n"
    )


def write_landing(reports: Path) -> Path:
    """Write `reports/index.html` from the reports under `reports`."""
    out = reports / "index.html"
    out.write_text(landing_html(entries(reports)))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m nnbench.report.landing REPORTS_FOLDER", file=sys.stderr)
        return 2
    print(write_landing(Path(args[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
