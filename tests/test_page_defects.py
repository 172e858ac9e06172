"""Issue 34 item 4, beyond the figures: tables that fit their box whole, a CG reason that
says where it stopped once, Cholesky declined outside SPD, a study's tables only where its
cells are, an untimed fit said where a method is ranked."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from nnbench.errors import Diverged, SkipCell
from nnbench.metrics.solves import pcg
from nnbench.report import page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_wide_long_table_fits_its_box_and_no_row_is_cut(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    # the streaming per-problem table's shape: 19 columns, two of long method names
    columns = {
        f"group {c}: measure_{c}": [
            f"neural-eigengame[epochs={r},left=last-pass]" if c in (7, 13) else 1.23456e-4 * r
            for r in range(60)
        ]
        for c in range(19)
    }
    table = page.Table(name="wide", title="Wide", note="", shown=pd.DataFrame(columns),
                       digits=4, rows=60, collapsed=False, nav="wide")  # fmt: skip
    (tmp_path / "index.html").write_text(page.html_page([table]))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        view = browser.new_page(viewport={"width": 1400, "height": 900})
        view.goto((tmp_path / "index.html").as_uri())
        box = view.evaluate(
            "(() => { const d = document.querySelector('div.scroll'); return [d.scrollWidth,"
            " d.clientWidth, d.scrollHeight, d.clientHeight]; })()"
        )
        browser.close()
    scroll_width, width, scroll_height, height = box
    assert scroll_width <= width + 1, "the table is wider than its box"
    assert scroll_height <= height + 1, "the box cuts rows off"


def test_a_cg_breakdown_says_its_iteration_once():
    a = np.diag([1.0, 2.0, 3.0])
    run = pcg(a, np.ones(3), lambda r: -r)  # M^-1 negative definite: breaks down at once
    assert run.iterations is None and run.steps == 1
    assert run.reason.startswith("CG broke down at iteration 1:")
    message = str(Diverged(run.steps, run.reason, located=True))
    assert message == run.reason and "step" not in message


def test_amortized_cholesky_declines_a_matrix_that_is_not_spd():
    from nnbench.methods import get_method

    method = get_method("amortized-cholesky")
    assert "spd" in method.requires.tags
    with pytest.raises(SkipCell, match="Cholesky factor exists only for an SPD"):
        method.prepare(np.array([[2.0, 1.0], [0.0, 2.0]]), device="cpu")


def test_the_streaming_tables_appear_only_with_the_streaming_studys_networks():
    from nnbench.results import Results, to_frame
    from nnbench.studies.streaming import TABLES, _streaming
    from tests.test_figures import _row

    def rows(methods: list[str]) -> Results:
        made = [_row(i, kind="rank-k", rank=2, method=m, method_base=m, passes=1.0,
                     group="neural" if m.startswith("neural") else "classical")
                for i, m in enumerate(methods)]  # fmt: skip
        return Results(results=to_frame(made), curves=pd.DataFrame())

    classical = rows(["stream-fd", "stream-isvd", "scipy-tsvd"])  # a classical scale grid's
    assert all(spec.make(classical).empty for spec in TABLES)
    assert _streaming(rows(["stream-fd", "neural-gha", "scipy-tsvd"]).results)


def test_time_to_accuracy_names_an_untimed_fit_beside_the_method():
    from nnbench.report.time_to_accuracy import UNTIMED_FIT, time_to_accuracy
    from nnbench.results import to_frame
    from tests.test_figures import _row

    made = [_row(i, method=m, method_base=m, seed=i,
                 train_time_s=0.13 if m == "fitted-lu" else float("nan"))
            for i, m in enumerate(["scipy-lu", "fitted-lu"] * 2)]  # fmt: skip
    table = time_to_accuracy(to_frame(made)).set_index("method")
    assert UNTIMED_FIT in table.columns  # the method keeps its name
    assert (table.loc[["fitted-lu"], UNTIMED_FIT] == 0.13).all()
    assert table.loc[["scipy-lu"], UNTIMED_FIT].isna().all()
