"""Every committed report was run from a clean commit of this repository, one that HEAD
descends from (issue 23): its results folders' run.json name it, without `-dirty`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNS = sorted((ROOT / "reports").glob("*/results/**/run.json"))


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="git")
@pytest.mark.parametrize("run", RUNS, ids=lambda p: str(p.relative_to(ROOT / "reports")))
def test_a_committed_report_names_a_clean_ancestor_commit(run):
    commit = json.loads(run.read_text())["git_commit"]
    assert commit and not commit.endswith("-dirty"), f"{run}: run from a modified tree"
    if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        pytest.skip(f"commit {commit[:12]} is not in this clone (a shallow one)")
    assert _git("merge-base", "--is-ancestor", commit, "HEAD").returncode == 0, commit


def test_there_are_committed_reports():
    assert RUNS, "no reports/*/results/**/run.json"


def _committed(report: Path) -> list[Path]:
    return sorted(p.parent for p in (report / "results").glob("**/results.parquet"))


REPORTS = sorted(page.parent for page in (ROOT / "reports").glob("*/report.md"))


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.name)
def test_a_committed_page_draws_only_what_git_holds(report):
    """The image panels, the letter-B figure and the loss curves on a committed page are drawn
    from the committed results folders (pruned artifacts and curves), so a page-only rebuild
    draws them again (issue 23, item 4)."""
    from nnbench.report.build import combine, safe_name
    from nnbench.report.figures import panel_cells
    from nnbench.report.tables import spectra
    from nnbench.results import load_results
    from nnbench.studies.study001 import _alphabet_cells

    page = (report / "report.md").read_text()
    shown = set(re.findall(r"\(figures/(images_[^)]*)\.png\)", page))
    res = combine([load_results(folder) for folder in _committed(report)])
    cells = panel_cells(res).drop_duplicates(["matrix", "n"])
    drawable = {safe_name(f"images_{m}_{n}") for m, n in zip(cells.matrix, cells.n, strict=True)}
    assert shown == drawable
    assert ("figures/alphabet_ranks.png" in page) == (not _alphabet_cells(res).empty)
    assert ("figures/singular_values.png" in page) == bool(spectra(res))
    assert ("figures/loss_curves.png" not in page) or len(res.curves) > 0
