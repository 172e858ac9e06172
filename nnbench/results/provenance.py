"""What a run ran on: versions, CPU/GPU names and model, BLAS libraries, threads, git commit,
command line, dates."""

from __future__ import annotations

import os
import platform
import re
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


CPUINFO = Path("/proc/cpuinfo")
SIMD = ("avx512f", "avx2", "avx", "sse4_2", "neon", "asimd")  # widest first


def cpu_model() -> dict[str, Any]:
    """The CPU beyond its name (a virtual machine may name it only "AMD EPYC"): vendor,
    family, model and stepping from /proc/cpuinfo's first processor, the widest vector
    extension, whether a hypervisor runs it, and the logical CPUs; `platform` off Linux."""
    fields: dict[str, str] = {}
    try:
        for line in CPUINFO.read_text().split("\n\n", 1)[0].splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(fields.get("flags", fields.get("Features", "")).split())
    return {
        "model_name": fields.get("model name") or platform.processor() or platform.machine(),
        "vendor": fields.get("vendor_id", ""),
        "family": fields.get("cpu family", ""),
        "model": fields.get("model", ""),
        "stepping": fields.get("stepping", ""),
        "simd": next((f for f in SIMD if f in flags), ""),
        "hypervisor": "hypervisor" in flags,
        "logical_cpus": os.cpu_count(),
    }


def blas() -> dict[str, Any]:
    """The BLAS libraries loaded in this process (threadpoolctl), by the package that ships
    each ("numpy", "scipy": the folder above the library in site-packages), numpy's first:
    library kind (`internal_api`), version, threads, file name; and "torch": the BLAS and
    LAPACK torch was built with (`torch.__config__`), with MKL's version where it is MKL."""
    from threadpoolctl import threadpool_info

    found: dict[str, Any] = {}
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            path = Path(str(lib.get("filepath", "")))
            found.setdefault(
                _shipped_by(path),
                {
                    "internal_api": lib.get("internal_api"),
                    "version": lib.get("version"),
                    "num_threads": lib.get("num_threads"),
                    "library": path.name,
                },
            )
    ordered = dict(sorted(found.items(), key=lambda item: (item[0] != "numpy", item[0])))
    return {**ordered, "torch": _torch_blas()}


def _shipped_by(library: Path) -> str:
    """The package whose wheel holds `library`: numpy for site-packages/numpy.libs/x.so."""
    inside = [p for p in library.parents if p.parent.name in ("site-packages", "dist-packages")]
    return inside[0].name.removesuffix(".libs") if inside else library.parent.name


def _torch_blas() -> dict[str, str]:
    """torch's BLAS and LAPACK as built ({"blas": "mkl", "lapack": "mkl", "version":
    "2024.2"}); {} without torch. `show()` is a string of build settings, read offline."""
    try:
        import torch
    except ImportError:
        return {}
    built = torch.__config__.show()
    return {
        key: match[1]
        for key, pattern in (
            ("blas", r"BLAS_INFO=(\w+)"),
            ("lapack", r"LAPACK_INFO=(\w+)"),
            ("version", r"Math Kernel Library Version ([\w.]+)"),
        )
        if (match := re.search(pattern, built))
    }


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
        "cpu_model": cpu_model(),
        "blas": blas(),
        "devices": {d: (DEVICES[d].missing() or DEVICES[d].describe()) for d in devices},
        "threads": threads,
        "grids": grids,
        # each plug-in loaded: its file's path and sha256, or its distribution and version
        "plugins": [plugin.record() for plugin in PLUGINS.values()],
    }
