"""Every committed report was run from a clean commit of this repository, one that HEAD
descends from (issue 23): its results folders' run.json name it, without `-dirty`."""

from __future__ import annotations

import json
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
