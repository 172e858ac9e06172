"""The package's shape: each stage imports only from the stages below it, no import forms a
circle, the report and the runner import no study, and what needs no torch loads none.

Data flows corpus -> methods -> metrics -> running -> results -> report. In imports, `results`
(the typed row and the files that hold rows) sits below `running`, which builds rows and
writes them: the runner imports the row record, the record imports no runner."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from nnbench.methods import KINDS, select_methods
from nnbench.report.tables import KIND_TITLES
from nnbench.studies import STUDIES

PACKAGE = Path(__file__).resolve().parents[1] / "nnbench"
STAGES = ("corpus", "methods", "metrics", "results", "running", "report", "studies")
"""In import order; modules outside them (errors, seeds, devices, ...) are shared below."""
# faces over the whole package (and every __main__); `names` indexes the registries for `cli`;
# `plugins` loads into every registry, `check` runs methods as the runner does
ABOVE_ALL = ("cli", "api", "bench", "names", "plugins", "check")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every nnbench module and the nnbench modules it imports (at any level of its code)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module(path)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found if m.startswith("nnbench.") or m == "nnbench"}
    return graph


def _stage(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    if parts[1] in ABOVE_ALL or parts[-1] == "__main__":
        return len(STAGES)
    return STAGES.index(parts[1]) if parts[1] in STAGES else -1  # -1: shared, below all


def test_no_import_runs_up_the_pipeline():
    """A stage imports only earlier stages and the shared modules below them all."""
    wrong = [
        f"{module} imports {target}"
        for module, targets in _imports().items()
        for target in targets
        if (here := _stage(module)) is not None
        and (there := _stage(target)) is not None
        and there > here
    ]
    assert not wrong, wrong


def test_no_import_forms_a_circle_between_modules():
    graph = _imports()
    known = set(graph)

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    edges = {m: {t for t in map(resolve, targets) if t and t != m} for m, targets in graph.items()}
    # a package's __init__ importing its own submodules is how packages re-export: not a cycle
    for module in edges:
        edges[module] = {t for t in edges[module] if not t.startswith(module + ".")}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_running_and_report_import_no_study():
    for module, targets in _imports().items():
        if module.startswith(("nnbench.running", "nnbench.report")):
            assert not any(t.startswith("nnbench.studies") for t in targets), module


@pytest.mark.parametrize(
    "statement",
    [
        "import nnbench",
        "import nnbench.results",
        "import nnbench.report",
        "import nnbench.studies",
        "from nnbench.cli import main",
    ],
)
def test_what_needs_no_torch_loads_none(statement):
    code = f"import sys; {statement}; print(sorted(m for m in sys.modules if m == 'torch' "
    code += "or m.startswith('nnbench.methods')))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]", shown.stdout


def test_building_a_report_from_a_results_folder_loads_no_torch(tmp_path):
    from nnbench.api import Grid, run_grid

    run_grid(Grid(matrices=("spd",), methods=("scipy-lu",), sizes=(4,)), out=tmp_path / "res")
    code = (
        "import sys; from nnbench.cli import main; "
        f"assert main(['report', '--results', {str(tmp_path / 'res')!r}, '--out', "
        f"{str(tmp_path / 'rep')!r}, '--asv', {str(tmp_path / 'none')!r}]) == 0; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('nnbench.methods')))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip().splitlines()[-1] == "[]", shown.stdout
    assert (tmp_path / "rep" / "index.html").is_file()


def test_a_run_loads_no_figure_library_and_no_compiler_it_does_not_use(tmp_path):
    """A run (the command line's `run`, a study included) draws nothing: matplotlib, seaborn
    and scipy.stats load with the report, not before (they were 1.4 s of every `nnbench`
    process's start); numba loads with the first method that calls a compiled kernel."""
    out = tmp_path / "res"
    code = (
        "import sys; from nnbench.cli import main; "
        f"assert main(['run', '--study', 'study000-reproduce', '--quick', '--methods', "
        f"'scipy-lu', '--no-progress', '--out', {str(out)!r}]) == 0; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'seaborn', 'numba') or m == 'scipy.stats'))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip().splitlines()[-1] == "[]", shown.stdout
    assert (out / "results.parquet").is_file()


def test_every_kind_has_its_report_tables():
    assert set(KIND_TITLES) == set(KINDS)


@pytest.mark.parametrize("study", list(STUDIES.values()), ids=lambda s: s.name)
def test_a_studys_method_names_are_spelled_as_results_rows_spell_them(study):
    """Targets match cells by the method column: a name must be the canonical spelling."""
    names = {n for t in study.targets for n in (*t.configs, t.ours) if n}
    for name in names:
        assert select_methods(name)[0].name == name


def test_the_asv_benchmarks_draw_nothing_and_reach_no_study():
    """asv measures the runner: its benchmarks import neither `nnbench.api` nor the report,
    and loading them loads no plotting library and no study."""
    root = PACKAGE.parent
    for path in (root / "benchmarks").glob("*.py"):
        imported = {
            node.module
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not {m for m in imported if m.startswith(("nnbench.api", "nnbench.report"))}, path
    code = (
        "import sys, benchmarks.bench_accuracy, benchmarks.bench_time; print(sorted(m for m in "
        "sys.modules if m.startswith(('matplotlib', 'seaborn', 'nnbench.studies'))))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=root)  # fmt: skip
    assert shown.stdout.strip() == "[]"
