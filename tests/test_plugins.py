"""Plug-ins as a user writes them: a file outside the repository (in a folder whose name has a
space) or an installed package with an `nnbench` entry point, built from `nnbench.api` alone;
its rows, its provenance, its cells' ids; `--methods +NAME`, a study as a TOML file; and a
report that combines folders run on different machines."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnbench import plugins
from nnbench.api import METHODS, STUDIES, Execution, Grid, expand, get_study, with_methods
from nnbench.cli import main
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.errors import NNBenchError
from nnbench.sources import PLUGINS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "my_methods.py"
PACKAGE = ROOT / "examples" / "nnbench-example-plugin"


@pytest.fixture(autouse=True)
def registries():
    """Every registry as it was before the test: a plug-in loaded here is gone after it."""
    saved = (dict(METHODS), dict(MATRIX_FAMILIES), dict(STUDIES), dict(PLUGINS))
    modules = set(sys.modules)
    yield
    for live, old in zip((METHODS, MATRIX_FAMILIES, STUDIES, PLUGINS), saved, strict=True):
        live.clear()
        live.update(old)  # type: ignore[arg-type]
    for name in set(sys.modules) - modules:
        if name.startswith(plugins.FILE_MODULE):
            del sys.modules[name]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder outside the repository whose name has a space."""
    made = tmp_path / "my plug-ins"
    made.mkdir()
    return made


@pytest.fixture
def mine(folder: Path) -> Path:
    """The example plug-in, copied outside the repository."""
    return Path(shutil.copy(EXAMPLE, folder / "my_methods.py"))


def _run(argv: list[str]) -> int:
    return main([*argv, "--no-progress"]) if argv[0] == "run" else main(argv)


def _results(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "results.parquet")


def test_a_plugin_file_gets_ok_rows_with_a_shipped_methods_metrics_and_its_provenance(
    mine, tmp_path
):
    out = tmp_path / "out"
    argv = ["run", "--plugin", str(mine), "--matrices", "spd,random-gaussian", "--sizes", "8"]
    assert _run([*argv, "--methods", "my-lu,scipy-lu", "--out", str(out)]) == 0
    rows = _results(out).set_index(["method", "matrix"])
    assert set(rows.status) == {"ok"}
    metrics = ["rel_err_fro", "structure_err", "factor_err", "solve_backward_err", "det_rel_err"]
    for matrix in ("spd", "random-gaussian"):
        ours, shipped = rows.loc[("my-lu", matrix)], rows.loc[("scipy-lu", matrix)]
        filled = [c for c in rows.columns if pd.api.types.is_float_dtype(rows[c])]
        assert [c for c in filled if pd.notna(ours[c])] == [
            c for c in filled if pd.notna(shipped[c])
        ]
        np.testing.assert_allclose(ours[metrics].astype(float), shipped[metrics].astype(float),
                                   atol=1e-13)  # fmt: skip
    assert set(rows.loc["my-lu"].method_source) == {str(mine.resolve())}
    assert set(rows.loc["scipy-lu"].method_source) == {"nnbench"}
    info = json.loads((out / "run.json").read_text())
    [plugin] = info["plugins"]
    assert plugin["path"] == str(mine.resolve())
    assert plugin["sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert plugin["methods"] == ["my-lu", "my-lowrank-adam"]


def test_a_neural_plugin_method_trains_in_worker_processes(mine, tmp_path):
    """--jobs: forked workers get the plug-in's objects (a variant travels whole)."""
    out = tmp_path / "out"
    argv = ["run", "--plugin", str(mine), "--matrices", "random-gaussian", "--sizes", "8"]
    argv += ["--methods", "my-lowrank-adam[steps=20],my-lu", "--ranks", "2", "--jobs", "2"]
    assert _run([*argv, "--out", str(out)]) == 0
    rows = _results(out)
    assert set(rows.status) == {"ok"}, rows[["method", "reason"]]
    assert (rows[rows.method_base == "my-lowrank-adam"].steps == 20).all()


def test_list_methods_names_each_plugins_file(mine, capsys):
    assert main(["list", "methods", "--plugin", str(mine)]) == 0
    shown = capsys.readouterr().out
    assert f"Methods of the plug-in {mine.resolve()}:" in shown
    after = shown.split(f"Methods of the plug-in {mine.resolve()}:")[1]
    assert "my-lu" in after and "my-lowrank-adam" in after and "scipy-lu" not in after


def _cell_ids(method: str) -> list[str]:
    grid = Grid(matrices=("spd",), methods=(method,), sizes=(4, 8))
    return [cell.cell_id for cell in expand(grid)]


def _reloaded(path: Path, text: str) -> list[str]:
    for plugin in list(PLUGINS.values()):
        plugins.unload(plugin)
    path.write_text(text)
    plugins.load_plugin(str(path))
    return _cell_ids("my-lu")


def test_editing_a_plugins_code_recomputes_its_cells_and_rewording_it_does_not(mine):
    original = mine.read_text()
    before = _reloaded(mine, original)
    edited = original.replace(
        "    multipliers = u[j + 1 :, j] / u[j, j]\n",
        "    multipliers = u[j + 1 :, j] * (1.0 / u[j, j])\n",
    )
    assert edited != original
    assert set(_reloaded(mine, edited)).isdisjoint(before)
    reworded = original.replace(
        "LU with partial pivoting, right-looking, in numpy (a plug-in example)",
        "textbook LU, partial pivoting",
    ).replace('"""A = P L U by right-looking', '"""A = P L U (reworded) by right-looking')
    assert reworded != original
    assert _reloaded(mine, reworded) == before


def test_moving_a_plugin_file_keeps_its_cells(mine, folder):
    plugins.load_plugin(str(mine))
    before = _cell_ids("my-lu")
    for plugin in list(PLUGINS.values()):
        plugins.unload(plugin)
    (folder / "elsewhere").mkdir()
    moved = Path(shutil.move(mine, folder / "elsewhere" / mine.name))
    plugins.load_plugin(str(moved))
    assert _cell_ids("my-lu") == before


BAD = {
    "syntax": ("NNBENCH_METHODS = [\n  oops(\n", "line 2: SyntaxError"),
    "import": ("import numpy\nimport no_such_module_here\n", "line 2: ModuleNotFoundError"),
    "raises": ("x = 1\nraise RuntimeError('boom')\n", "line 2: RuntimeError: boom"),
    "missing": ("x = 1\n", "defines no NNBENCH_METHODS"),
    "function": (
        "def f():\n    pass\n\nNNBENCH_METHODS = [f]\n",
        "line 4: NNBENCH_METHODS[0] is the function f, not a method",
    ),
    "class": (
        "from nnbench.api import Method\n\nclass Mine(Method):\n    name = 'mine'\n"
        "    kind = 'lu'\n    def compute(self, x, *, rank, seed):\n        return {}\n\n"
        "NNBENCH_METHODS = [Mine]\n",
        "line 9: NNBENCH_METHODS[0] is the class Mine, not a method",
    ),
    "shipped name": (
        "from nnbench.api import LibraryMethod\n\nNNBENCH_METHODS = [\n"
        "    LibraryMethod('scipy-lu', 'lu', print, 'mine'),\n]\n",
        "line 3: method name 'scipy-lu' is already a method of nnbench",
    ),
    "bad kind": (
        "from nnbench.api import LibraryMethod\n\nNNBENCH_METHODS = [\n"
        "    LibraryMethod('mine', 'cholesky', print, 'mine'),\n]\n",
        "line 3: method 'mine' has kind 'cholesky'",
    ),
    "bad name": (
        "from nnbench.api import LibraryMethod\n\nNNBENCH_METHODS = [\n"
        "    LibraryMethod('my lu', 'lu', print, 'mine'),\n]\n",
        "line 3: method name 'my lu' cannot be selected",
    ),
    "not a list": ("NNBENCH_METHODS = 'my-lu'\n", "line 1: NNBENCH_METHODS is a str, not a list"),
    "section name taken": (
        "from nnbench.api import Grid, Study, TableSpec\n\nNNBENCH_METHODS = []\n"
        "NNBENCH_STUDIES = [\n    Study('mine', 'mine', grids=(Grid(),), quick=(Grid(),),\n"
        "          tables=(\n"
        "        TableSpec(name='verdict', title='Mine', make=lambda res: res.results),)),\n]\n",
        "line 4: study 'mine' names a section 'verdict', a name another report section has",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_a_bad_plugin_is_one_line_naming_the_file_exit_2_nothing_written(
    case, folder, tmp_path, capsys
):
    text, message = BAD[case]
    path = folder / "bad.py"
    path.write_text(text)
    out = tmp_path / "out"
    methods = METHODS.copy()
    for command in (["run", "--plugin", str(path), "--matrices", "spd", "--out", str(out)],
                    ["list", "methods", "--plugin", str(path)]):  # fmt: skip
        assert _run(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith(f"nnbench: error: plug-in {str(path)!r}"), err
        assert message in err[0], err
    assert not out.exists()
    assert methods == METHODS  # nothing of it registered
    assert not [m for m in sys.modules if m.startswith(plugins.FILE_MODULE)]


def test_a_missing_plugin_and_a_module_that_is_not_there(tmp_path, capsys):
    assert _run(["run", "--plugin", str(tmp_path / "nope.py"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"nnbench: error: plug-in {str(tmp_path / 'nope.py')!r} does not exist; check the path "
        "(a module's name has no .py)"
    )
    assert _run(["list", "--plugin", "no_such_plugin_module"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "nnbench: error: plug-in module 'no_such_plugin_module' is not importable"
    )


def test_two_plugins_may_not_share_a_method_name_or_a_file_name(mine, folder):
    plugins.load_plugin(str(mine))
    assert plugins.load_plugin(str(mine)) is plugins.load_plugin(str(folder / "my_methods.py"))
    (folder / "other").mkdir()
    other = folder / "other" / "second.py"
    other.write_text(EXAMPLE.read_text())
    with pytest.raises(NNBenchError, match=f"is already a method of plug-in {mine.resolve()}"):
        plugins.load_plugin(str(other))
    same_name = Path(shutil.copy(EXAMPLE, folder / "other" / "my_methods.py"))
    with pytest.raises(NNBenchError, match="has the file name of"):
        plugins.load_plugin(str(same_name))


def test_a_plugin_file_is_refused_on_a_dask_cluster(mine):
    plugins.load_plugin(str(mine))
    with pytest.raises(NNBenchError, match="dask workers cannot import the plug-in file"):
        plugins.check_execution(Execution(scheduler="tcp://127.0.0.1:1"))
    plugins.check_execution(Execution(jobs=2))  # fork: the workers have it


def test_added_methods_join_the_grids_of_their_kind(mine):
    plugins.load_plugin(str(mine))
    quick = get_study("fair-quick").quick
    grids = with_methods(quick, ["my-lu", "my-lowrank-adam[steps=50]"])
    kinds = ["rank-k", "lu", "qr", "lu"]  # fair-quick's grids, in order
    for grid, old, kind in zip(grids, quick, kinds, strict=True):
        added = [m for m in grid.methods if m not in old.methods]
        assert grid.methods[: len(old.methods)] == old.methods
        assert added == {"lu": ["my-lu"], "rank-k": ["my-lowrank-adam[steps=50]"], "qr": []}[kind]


def test_methods_plus_and_plain_terms_do_not_mix(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(["run", "--study", "fair-quick", "--methods", "+scipy-lu,torch-lu",
                 "--out", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mixes +NAME terms" in err[0]
    assert not out.exists()


STUDY = """
name = "my-lu-check"
description = "my-lu beside scipy-lu on SPD and Gaussian matrices"

[[grids]]
matrices = ["spd", "random-gaussian"]
methods = ["scipy-lu", "my-lu"]
sizes = [8]
repeats = 2
"""


def test_a_toml_study_runs(mine, folder, tmp_path):
    study = folder / "my study.toml"
    study.write_text(STUDY)
    out = tmp_path / "out"
    assert _run(["run", "--plugin", str(mine), "--study", str(study), "--out", str(out)]) == 0
    rows = _results(out)
    assert set(rows.status) == {"ok"} and len(rows) == 2 * 2 * 2
    assert json.loads((out / "run.json").read_text())["grids"][0]["repeats"] == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (STUDY.replace("sizes =", "sizez ="), "[[grids]] 1 has no key 'sizez'; use matrices,"),
        (STUDY.replace("repeats = 2", "repeats = 'two'"), "repeats = 'two' is not an integer"),
        (STUDY.replace("sizes = [8]", "sizes = 8"), "sizes = 8 is not a list of integers"),
        (STUDY.replace("sizes = [8]", "sizes = [0]"), "[[grids]] 1: size 0 is out of range"),
        (STUDY.replace('name = "my-lu-check"', ""), "needs a name"),
        (STUDY.replace("[[grids]]", "[grids]"), "grids is not a list of tables"),
        (STUDY + "\nversion = 2\n", "has no key 'version'"),
        (STUDY.replace("[[grids]]", "[[grids]"), "is not TOML"),
    ],
)
def test_a_bad_toml_study_is_one_line_exit_2_nothing_written(text, message, folder, tmp_path,
                                                              capsys):  # fmt: skip
    study = folder / "study.toml"
    study.write_text(text)
    out = tmp_path / "out"
    assert _run(["run", "--study", str(study), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"nnbench: error: study file {str(study)!r}"), err
    assert message in err[0], err
    assert not out.exists()


def _two_machines(tmp_path: Path) -> list:
    """One LU run, as two results folders that say they ran on different machines, the
    second's times all 10x the first's (a slower machine), as another folder's cells."""
    from nnbench.api import load_results, run_grid

    grid = Grid(matrices=("spd", "diag-dominant"), methods=("scipy-lu", "hybrid-lu-newton"),
                sizes=(8, 16), timing_repeats=1)  # fmt: skip
    run_grid(grid, out=tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    info = json.loads((tmp_path / "b" / "run.json").read_text())
    info |= {"cpu": "Slow CPU 9000", "threads": 4}
    (tmp_path / "b" / "run.json").write_text(json.dumps(info))
    slow = load_results(tmp_path / "b")
    # (another cell id: the report counts a cell found in two folders once)
    again = slow.results.assign(time_s=slow.results.time_s * 10, cell_id=slow.results.cell_id + "b")
    slow = replace(slow, results=again)
    return [load_results(tmp_path / "a"), slow]


def test_a_report_of_folders_from_two_machines_judges_each_within_its_folder(tmp_path):
    from nnbench.report.build import combine
    from nnbench.report.judging import verdict, verdict_by_problem
    from nnbench.report.sentences import headline

    res = combine(_two_machines(tmp_path))
    table = verdict(res.results)
    assert list(table["results folder"]) == [
        f"1 (CPU {res.provenance['runs'][0]['cpu']}, 1 thread(s))",
        "2 (CPU Slow CPU 9000, 4 thread(s))",
    ]
    # each folder's ratio is its own times' (the slower machine's are the same ratios)
    np.testing.assert_allclose(*table["hybrid: time ratio"], rtol=1e-12)
    assert table["hybrid: time ratio"].iloc[0] != 10 * table["hybrid: time ratio"].iloc[0]
    problems = verdict_by_problem(res.results)
    assert set(problems["results folder"]) == set(table["results folder"])
    sentences = headline(res.results)
    assert sentences[0].startswith("These results folders ran on different machines")
    assert "(results folder 2 (CPU Slow CPU 9000, 4 thread(s)))" in sentences[2]


def test_a_report_of_folders_from_one_machine_pools_them(tmp_path):
    from nnbench.report.build import combine
    from nnbench.report.judging import verdict
    from nnbench.report.sentences import headline

    first, second = _two_machines(tmp_path)
    second = replace(second, provenance=first.provenance)
    res = combine([first, second])
    assert "results folder" not in verdict(res.results).columns
    assert not headline(res.results)[0].startswith("These results folders")


@pytest.mark.slow
def test_fair_quick_with_a_plugin_method_names_it_in_the_reports_verdict(mine, tmp_path):
    """The issue's command on one of fair-quick's matrices, timed once per cell (20 s; the
    whole quick study with two plug-in methods: 219 cells, 77 s on two cores)."""
    out, report = tmp_path / "out", tmp_path / "report"
    argv = ["run", "--plugin", str(mine), "--study", "fair-quick", "--quick"]
    argv += ["--methods", "+my-lu,+my-lowrank-adam[steps=100]", "--matrices", "spd"]
    argv += ["--timing-repeats", "1", "--sizes", "8"]
    argv += ["--out", str(out)]
    assert _run(argv) == 0
    assert main(["report", "--results", str(out), "--out", str(report), "--asv",
                 str(tmp_path / "none")]) == 0  # fmt: skip
    page = (report / "report.md").read_text()
    lines = page.splitlines()
    assert any(line.startswith(f"my-lu (from {mine.resolve()}), LU") for line in lines), page
    table = pd.read_csv(report / "tables" / "outside_verdict.csv")
    assert set(table.method) == {"my-lu", "my-lowrank-adam"}
    assert set(table.source) == {str(mine.resolve())}
    # like a shipped method: the reverse comparison asks the classical methods for its accuracy
    reverse = pd.read_csv(report / "tables" / "reverse_comparison.csv")
    assert reverse.configuration.str.startswith("my-lowrank-adam").any(), reverse
    assert "## Plug-in verdict" in page or "Verdict for methods nnbench does not ship" in page


INSTALLED = pytest.mark.xdist_group("installed-plugin")
"""The mark of a test that reads `installed` (pip-installed once, on one worker)."""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """The example package installed into a folder of its own (not the venv), once for the
    tests that use it: the environment of a process that sees it."""
    target = tmp_path_factory.mktemp("installed") / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(PACKAGE)],
        check=True, capture_output=True, cwd=target.parent,
    )  # fmt: skip
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}


@pytest.mark.slow
@INSTALLED
def test_an_installed_plugin_loads_on_its_own_checks_and_runs(tmp_path, installed):
    env = installed

    def nnbench(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nnbench", *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True)  # fmt: skip

    listed = nnbench("list", "methods")
    assert "Methods of the plug-in nnbench_example_plugin (nnbench-example-plugin 0.1.0):" in (
        listed.stdout
    ), listed.stderr
    # the installed plug-in's method, checked beside a --plugin file's: one process for both
    checked = nnbench("check", "example-mgs-qr", "my-lu", "--plugin", str(EXAMPLE))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "✓ example-mgs-qr:" in checked.stdout and "✓ my-lu:" in checked.stdout
    out = tmp_path / "out"
    ran = nnbench("run", "--matrices", "random-gaussian,spd", "--sizes", "8", "--methods",
                  "example-mgs-qr,scipy-qr", "--no-progress", "--out", str(out))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    rows = _results(out)
    assert set(rows.status) == {"ok"}
    assert set(rows[rows.method == "example-mgs-qr"].method_source) == {
        "nnbench_example_plugin (nnbench-example-plugin 0.1.0)"
    }
    [plugin] = json.loads((out / "run.json").read_text())["plugins"]
    assert (plugin["distribution"], plugin["version"]) == ("nnbench-example-plugin", "0.1.0")
    assert plugin["loaded_from"] == "entry point" and len(plugin["sha256"]) == 64


@pytest.mark.slow
@INSTALLED
def test_an_installed_plugins_cell_reaches_a_process_that_never_loaded_it(tmp_path, installed):
    """A dask worker gets a plug-in's method inside the pickled cell, by importing its
    module, with no registry entry of its own."""
    import pickle

    env = installed
    sys.path.insert(0, env["PYTHONPATH"].split(os.pathsep)[0])
    try:
        plugins.load_plugin("nnbench_example_plugin")
        [cell] = expand(Grid(matrices=("spd",), methods=("example-mgs-qr",), sizes=(4,)))
    finally:
        sys.path.pop(0)
    code = (
        "import pickle, sys; from nnbench.running.measure import run_cell; "
        "cell = pickle.loads(sys.stdin.buffer.read()); row = run_cell(cell).row; "
        "print(row.cell.cell_id, row.cell.method_source, row.outcome.status)"
    )
    shown = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(cell), env=env,
                           capture_output=True, check=True, cwd=tmp_path)  # fmt: skip
    # (loaded here by its module's name: its source is the module's)
    assert shown.stdout.decode().split() == [cell.cell_id, "nnbench_example_plugin", "ok"]


def test_the_tutorials_plugin_runs_as_written(folder):
    """docs/plugins.md's first block is a whole plug-in: loaded from a file, its LU is A's."""
    import re

    from nnbench.api import get_method

    text = (ROOT / "docs" / "plugins.md").read_text()
    block = re.findall(r"```python\n(.*?)```", text, re.DOTALL)[0]
    (folder / "tutorial.py").write_text(block)
    plugin = plugins.load_plugin(str(folder / "tutorial.py"))
    assert plugin.methods == ("my-lu",)
    a = np.random.default_rng(0).standard_normal((6, 6))
    lu = get_method("my-lu").factorize(a)
    np.testing.assert_allclose(lu.reconstruct(), a, atol=1e-12)
