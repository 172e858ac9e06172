"""Provenance on every page (issue 34 item 5): run.json records the CPU model and the BLAS in
use, and a page's footer (index.html and report.md) states the commits that ran its results,
the commit that rendered it, the CPU and the BLAS; a run from before BLAS was recorded says
so in words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from conftest import OLD_RUN_PAGE

from nnbench.report.build import rendered_at
from nnbench.report.page import NOT_RECORDED, Provenance, footer_lines, markdown
from nnbench.results.provenance import blas, cpu_model, provenance

ROOT = Path(__file__).resolve().parent.parent
OLD_RUN = ROOT / "reports" / "cpu-scale" / "results"  # `old_run_page`'s run, BLAS stripped


def test_run_json_names_the_cpu_model_and_numpys_blas():
    import numpy  # noqa: F401  # its BLAS is loaded, as in every run

    record = provenance(
        grids=[], threads=1, command="test", started=pd.Timestamp.now(tz="UTC"), devices=["cpu"]
    )
    numpy_blas = record["blas"]["numpy"]
    assert numpy_blas["internal_api"] and numpy_blas["library"] and numpy_blas["num_threads"] >= 1
    assert next(iter(record["blas"])) == "numpy" and "torch" in record["blas"]
    assert record["cpu_model"]["model_name"] == record["cpu"]
    json.dumps(record)  # run.json holds it as it is
    assert blas() == record["blas"] and cpu_model() == record["cpu_model"]


@OLD_RUN_PAGE
def test_a_pages_footer_names_both_commits_the_cpu_and_the_blas(old_run_page):
    ran = json.loads((OLD_RUN / "run.json").read_text())["git_commit"][:12]
    rendered = rendered_at()
    assert rendered.startswith("commit ")
    md = (old_run_page / "report.md").read_text()
    footer = md.split("## Provenance", 1)[1]
    assert f"- Results run at: commit {ran}\n" in footer
    assert f"- Page rendered at: {rendered}\n" in footer
    cpu = json.loads((OLD_RUN / "run.json").read_text())["cpu"]
    assert f"- CPU: {cpu}" in footer
    assert f"- BLAS: {NOT_RECORDED}\n" in footer  # recorded before BLAS was
    facts = footer.split("\n\n")[1]
    assert "?" not in facts and "None" not in facts
    page = (old_run_page / "index.html").read_text()
    html_footer = page.split("<footer>", 1)[1]
    for label in ("Results run at", "Page rendered at", "CPU", "BLAS"):
        assert f"<b>{label}</b>: " in html_footer
    assert f"commit {ran}" in html_footer and NOT_RECORDED in html_footer


def _run(commit: str, **extra: object) -> dict:
    return {"git_commit": commit, "cpu": "AMD EPYC 7B13", "threads": 2, **extra}


def test_the_footer_names_each_runs_blas_and_commit_by_results_folder():
    recorded = {
        "numpy": {
            "internal_api": "openblas",
            "version": "0.3.31",
            "num_threads": 2,
            "library": "libscipy_openblas64_.so",
        },
        "torch": {"blas": "mkl", "lapack": "mkl", "version": "2024.2"},
    }
    model = {"vendor": "AuthenticAMD", "family": "25", "model": "1", "stepping": "1"}
    block = Provenance(
        (
            _run("a" * 40, blas=recorded, cpu_model={**model, "simd": "avx2"}),
            _run("b" * 40 + "-dirty"),
            _run("a" * 40, blas=recorded, cpu_model={**model, "simd": "avx2"}),
        ),
        rendered="commit cccccccccccc + uncommitted changes",
    )
    facts = dict(footer_lines(block))
    assert facts["Results run at"] == (
        f"commit {'a' * 12} (results folders 1, 3); "
        f"commit {'b' * 12} + uncommitted changes (results folder 2)"
    )
    assert facts["Page rendered at"] == "commit cccccccccccc + uncommitted changes"
    assert facts["BLAS"].startswith(
        "numpy: openblas 0.3.31 (libscipy_openblas64_.so); torch: built with mkl "
        "2024.2 (results folders 1, 3)"
    )
    assert f"{NOT_RECORDED} (results folder 2)" in facts["BLAS"]
    assert "AuthenticAMD family 25 model 1 stepping 1, avx2" in facts["CPU"]
    text = markdown([block])
    assert not re.search(r"\bNone\b|\?", text.split("1. ")[0])
