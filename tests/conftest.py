from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from nnbench.corpus import MATRIX_FAMILIES, MatrixFamily
from nnbench.methods import Method
from nnbench.methods.fingerprint import code_fingerprint
from nnbench.results import Results
from nnbench.running.threads import DEFAULT_THREADS

# Tags of large file matrices are cached on disk by fingerprint: never in the user's cache
# during tests (set before any worker starts, so every xdist worker shares it)
os.environ.setdefault("NNBENCH_CACHE", tempfile.mkdtemp(prefix="nnbench-test-cache-"))

# Methods called directly (not through the runner) run with the runner's thread count: on a
# 2-core machine torch's default of 2 threads made small trainings 10-30x slower.
torch.set_num_threads(DEFAULT_THREADS)

SIZES = (2, 5, 16)

# What a fresh clone makes on first use, made once, in one background process, while the
# workers collect the tests (each worker and every early subprocess made them again): the
# numba kernels of nnbench/methods/compiled.py (7 s a process here), nnbench's bytecode (an
# environment with PYTHONDONTWRITEBYTECODE, like this machine's, never writes it: 0.2 s of
# every process's start) and matplotlib's font cache.
WARM_UP = (
    "import compileall, nnbench; compileall.compile_dir(nnbench.__path__[0], quiet=2); "
    "import matplotlib.font_manager; "
    "from nnbench.api import Grid, run_grid; "
    "run_grid(Grid(matrices=('spd', 'diffusion-2d'), methods=('doolittle', 'gram-schmidt', "
    "'gram-schmidt-modified', 'ic0', 'sparse-ic0'), sizes=(8,), dtypes=('float64', 'float32')))"
)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller started it
        return
    import subprocess
    import sys

    import nnbench.methods

    package = Path(nnbench.methods.__file__).parents[1]
    cached = package / "methods" / "__pycache__"
    kernels = any(cached.glob("compiled.*.nbi"))  # numba's index of a cached kernel
    bytecode = any((package / "__pycache__").glob("api.*.pyc"))
    if not (kernels and bytecode):
        subprocess.Popen(
            [sys.executable, "-c", WARM_UP], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )


def instances() -> list[tuple[MatrixFamily, int | None]]:
    """(family, n) pairs covering every family: sizable ones at several sizes."""
    out: list[tuple[MatrixFamily, int | None]] = []
    for family in MATRIX_FAMILIES.values():
        out += [(family, n) for n in SIZES] if family.sizable else [(family, None)]
    return out


def instance_id(item: tuple[MatrixFamily, int | None]) -> str:
    family, n = item
    return f"{family.name}-{n}" if n else family.name


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def fresh_code_fingerprints():
    """Code fingerprints are cached per class and function; a test that monkeypatches code
    (even without `edit_code`) must not leave its edit's fingerprint to later tests in the
    same worker (a study's cells would get other ids there than in a fresh process)."""
    yield
    code_fingerprint.cache_clear()


@pytest.fixture
def edit_code(monkeypatch):
    """`edit_code(target, name, value)`: monkeypatch.setattr for code, with the (cached) code
    fingerprints recomputed while the edit holds and again once it is undone."""

    def edit(target: object, name: str, value: object) -> None:
        monkeypatch.setattr(target, name, value)
        code_fingerprint.cache_clear()

    yield edit
    monkeypatch.undo()
    code_fingerprint.cache_clear()


def compiled(source: str, name: str) -> Any:
    """`name` from `source` run as a module of its own (two versions of some code)."""
    namespace: dict[str, Any] = {"__name__": "edited_module"}
    exec(compile(source, "edited_module.py", "exec"), namespace)
    return namespace[name]


DOUBLING = """
import numpy as np
from nnbench.methods import Method

class Doubling(Method):
    \"\"\"{doc}\"\"\"

    name, kind, description = "test-double", "rank-k", "{description}"

    def compute(self, x, *, rank, seed):
        return {{"left": {left}, "right": np.eye(x.shape[1], dtype=x.dtype)}}
"""


def doubling_method(
    *, left: str = "2 * x", description: str = "scales A by two", doc: str = "Doubles A."
) -> Method:
    """A version of one method (the same class name and module): `left` is its code."""
    source = DOUBLING.format(left=left, description=description, doc=doc)
    return compiled(source, "Doubling")()


def shared_quick_run(name: str) -> str:
    """The study whose quick run `quick_run(name)` reads (studies with the same quick grids
    share one)."""
    from nnbench.studies import STUDIES

    return next(s.name for s in STUDIES.values() if s.quick == STUDIES[name].quick)


def on_quick_run(name: str) -> pytest.MarkDecorator:
    """The mark of a test that reads `quick_run(name)`: tests of one quick run go to one
    xdist worker (`--dist loadgroup`), which builds it while the other worker runs other
    tests, instead of waiting on the file lock."""
    return pytest.mark.xdist_group(f"quick-{shared_quick_run(name)}")


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, worker_id) -> Callable[[str], tuple[Results, Path]]:
    """The quick variant of a study, run once per distinct set of quick grids in a test
    session, in whichever xdist worker asks first (a file lock keeps the others waiting, as
    pytest-xdist's docs do it), into a folder every worker reads; returns (results, folder).
    The run that made a folder checks that it reads back whole. Treat both as read-only."""
    from filelock import FileLock

    from nnbench.api import load_results, run_study

    shared = tmp_path_factory.getbasetemp()
    shared = shared if worker_id == "master" else shared.parent

    def run(name: str) -> tuple[Results, Path]:
        first = shared_quick_run(name)
        folder = shared / f"quick-{first}"
        with FileLock(f"{folder}.lock"):
            if not (folder / "results.parquet").is_file():
                made = run_study(first, quick=True, out=folder)
                back = load_results(folder)
                assert len(back.results) == len(made.results)
                assert set(back.artifacts) == set(made.artifacts)
        return load_results(folder), folder

    return run


OLD_RUN_PAGE = pytest.mark.xdist_group("old-run-page")
"""The mark of a test that reads `old_run_page` (built once a session: a file lock keeps the
other worker waiting for it, as `quick_run` does)."""


@pytest.fixture(scope="session")
def old_run_page(tmp_path_factory, worker_id) -> Path:
    """A page built, in a temporary folder, from a copy of the committed cpu-scale results
    (one run) whose run.json is made to look recorded before it named the CPU model and the
    BLAS: what a page of such a run says. The committed results and page are not touched."""
    import json
    import shutil

    from filelock import FileLock

    from nnbench.api import build_report, load_results, report_sections

    shared = tmp_path_factory.getbasetemp()
    shared = shared if worker_id == "master" else shared.parent
    out = shared / "page-old-run"
    with FileLock(f"{out}.lock"):
        if not (out / "report.md").is_file():
            root = Path(__file__).resolve().parents[1] / "reports" / "cpu-scale" / "results"
            copy = shared / "old-run-results"
            shutil.copytree(root, copy, dirs_exist_ok=True)
            run = json.loads((copy / "run.json").read_text())
            run.pop("blas", None)
            run.pop("cpu_model", None)
            (copy / "run.json").write_text(json.dumps(run))
            build_report([load_results(copy)], out, sections=report_sections())
    return out
