"""A run's provenance names the commit whose code ran: `-dirty` when tracked code is modified,
not when a report's rebuild rewrites its own committed results under reports/."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from nnbench.results.provenance import git_commit


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_rewritten_report_is_not_dirty_code(tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "nnbench").mkdir()
    (tmp_path / "reports").mkdir()
    (tmp_path / "nnbench" / "code.py").write_text("x = 1\n")
    (tmp_path / "reports" / "run.json").write_text("{}\n")
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    clean = git_commit(tmp_path)
    assert len(clean) == 40
    (tmp_path / "reports" / "run.json").unlink()  # a rebuild's `fresh` folder
    (tmp_path / "untracked.txt").write_text("a symlinked venv, say\n")
    assert git_commit(tmp_path) == clean
    (tmp_path / "nnbench" / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path) == f"{clean}-dirty"
