"""The HTML report in a real browser: headless Chromium loads it, every image decodes and the
console stays free of errors. Skipped (with the reason) where Chromium is not installed;
.ci/run installs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nnbench.api import Grid, run_grid
from nnbench.report import build_report
from nnbench.studies import report_sections

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)


def test_report_loads_cleanly_in_headless_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    grid = Grid(
        matrices=("colour-wheel", "spd", "random-uniform"),
        methods=("scipy-tsvd", "hybrid-lowrank-als", "scipy-lu"),
        sizes=(8, 12, 16),
        ranks=(1, 2, 4),
        repeats=2,
        timing_repeats=1,
    )
    out = build_report([run_grid(grid)], tmp_path / "report", sections=report_sections())
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"failed request {r.url}"))
        page.goto((out / "index.html").resolve().as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
        )
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        cut_off = page.evaluate(  # a table wider than its box hides its right columns
            "Array.from(document.querySelectorAll('div.scroll'))"
            ".filter(d => d.scrollWidth > d.clientWidth + 1).map(d => d.innerText.slice(0, 40))"
        )
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        headings = page.locator("h2").all_inner_texts()
        browser.close()
    assert errors == []
    assert cut_off == [], "tables wider than the page at 1400 px"
    assert len(images) >= 4, "expected figures in the page"
    broken = [alt for alt, complete, width in images if not (complete and width > 0)]
    assert broken == []
    assert any(h.startswith("Reproduction") for h in headings)
    assert "Provenance" in headings
    assert Path(tmp_path / "report.png").stat().st_size > 10_000
