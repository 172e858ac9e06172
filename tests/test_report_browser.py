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


def _load(out: Path, shot: Path) -> dict[str, object]:
    """Open `out`/index.html at 1400 px: console errors, images, cut-off tables, headings."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
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
        wide = page.evaluate(  # the page itself wider than the window (a nav on one line)
            "document.documentElement.scrollWidth > window.innerWidth"
        )
        page.screenshot(path=str(shot), full_page=True)
        headings = page.locator("h2").all_inner_texts()
        browser.close()
    return {
        "errors": errors,
        "images": images,
        "cut_off": cut_off,
        "headings": headings,
        "wide": wide,
    }


def test_report_loads_cleanly_in_headless_chromium(tmp_path):
    grid = Grid(
        matrices=("colour-wheel", "spd", "random-uniform"),
        methods=("scipy-tsvd", "hybrid-lowrank-als", "scipy-lu"),
        sizes=(8, 12, 16),
        ranks=(1, 2, 4),
        repeats=2,
        timing_repeats=1,
    )
    out = build_report([run_grid(grid)], tmp_path / "report", sections=report_sections())
    seen = _load(out, tmp_path / "report.png")
    errors, images, cut_off, headings = (
        seen[k] for k in ("errors", "images", "cut_off", "headings")
    )
    assert errors == []
    assert cut_off == [], "tables wider than the page at 1400 px"
    assert seen["wide"] is False, "the page scrolls sideways at 1400 px"
    assert len(images) >= 4, "expected figures in the page"
    broken = [alt for alt, complete, width in images if not (complete and width > 0)]
    assert broken == []
    assert any(h.startswith("Verdict") for h in headings)
    assert "Provenance" in headings
    assert Path(tmp_path / "report.png").stat().st_size > 10_000


def test_a_report_of_a_users_file_matrices_loads_cleanly(tmp_path):
    """file: runs of a .png, a .npy, a .csv and a .mtx: the report opens without console
    errors, names each matrix by its file name, and carries no study's sections."""
    import numpy as np
    import scipy.io
    import scipy.sparse
    from matplotlib import pyplot as plt

    rng = np.random.default_rng(0)
    folder = tmp_path / "my data" / "matrices"
    folder.mkdir(parents=True)
    plt.imsave(folder / "coins.png", rng.random((24, 24)), cmap="gray")
    np.save(folder / "mine.npy", rng.random((16, 16)))
    np.savetxt(folder / "mine.csv", rng.random((12, 12)), delimiter=",")
    scipy.io.mmwrite(folder / "graph.mtx", scipy.sparse.random(20, 20, density=0.3, random_state=0))
    matrices = tuple(
        f"file:{folder / name}" for name in ("coins.png", "mine.npy", "mine.csv", "graph.mtx")
    )
    grid = Grid(
        matrices=matrices, methods=("scipy-lu", "scipy-tsvd"), ranks=(1, 2, 4), timing_repeats=1
    )
    out = build_report([run_grid(grid)], tmp_path / "report", sections=report_sections())
    seen = _load(out, tmp_path / "report.png")
    assert seen["errors"] == [] and seen["cut_off"] == [] and seen["wide"] is False
    page = (out / "index.html").read_text()
    assert "file:coins.png" in page and "my data" not in page.split("Provenance")[0]
    assert not any(str(h).startswith(("Reproduction", "Study")) for h in seen["headings"])


def test_committed_pages_with_the_longest_navigation_fit_the_window():
    """The nav bar wraps between its links, never inside one and never off the page: with
    each link kept whole by `white-space: nowrap` (and no space between links) it ran off the
    right of learned-sketch's and studies' pages at 1400 px."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    root = Path(__file__).resolve().parents[1] / "reports"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for name in ("learned-sketch", "studies"):
            page.goto((root / name / "index.html").as_uri())
            page.wait_for_load_state("domcontentloaded")
            wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            links = page.evaluate(  # a link broken over two lines has two client rects
                "Array.from(document.querySelectorAll('nav a'))"
                ".filter(a => a.getClientRects().length > 1).map(a => a.innerText)"
            )
            assert wide is False and links == [], (name, links)
        browser.close()
