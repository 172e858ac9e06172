"""What a run ran on: versions, CPU/GPU names, threads, git commit, command line, dates."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from nnbench.devices import DEVICES, cpu_name
from nnbench.results.table import SCHEMA_VERSION
from nnbench.sources import PLUGINS

PACKAGES = ("nnbench", "numpy", "scipy", "torch", "pandas", "pyarrow", "scikit-image")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_commit(root: Path | None = None) -> str:
    """HEAD of the nnbench checkout (or of `root`), with `-dirty` if a tracked file outside
    `reports/` is modified (a report's rebuild rewrites its own committed results, which is
    not the code that ran), or '' outside git."""
    root = Path(__file__).resolve().parent.parent if root is None else root
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!reports"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{commit}-dirty" if dirty else commit


def provenance(
    *,
    grids: list[dict[str, Any]],
    threads: int,
    command: str,
    started: pd.Timestamp,
    devices: list[str],
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command or " ".join(sys.argv),
        "started": started.isoformat(),
        "finished": pd.Timestamp.now(tz="UTC").isoformat(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in PACKAGES},
        "cpu": cpu_name(),
        "devices": {d: (DEVICES[d].missing() or DEVICES[d].describe()) for d in devices},
        "threads": threads,
        "grids": grids,
        # each plug-in loaded: its file's path and sha256, or its distribution and version
        "plugins": [plugin.record() for plugin in PLUGINS.values()],
    }
