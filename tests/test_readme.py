"""The README's examples run as written.

Its Extending blocks each start with `# in nnbench/PATH.py`: a block that defines something runs
in that module's namespace and its definitions are set on the module; a block that is one
expression (a registry line) is evaluated there and its entries are registered. Everything is
undone after each test (monkeypatch), so no other test sees the new family or method.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from nnbench import api
from nnbench.corpus import MATRIX_FAMILIES, TAG_CHECKS, MatrixFamily
from nnbench.methods import METHODS, Method

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
WHERE = re.compile(r"# in (nnbench/[\w/]+)\.py")
MAX_LINES = 300  # the README is an entrance; measurements live in docs/ and reports/


def section(text: str, heading: str) -> str:
    """The text under `## heading`, up to the next second-level heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def python_blocks(heading: str) -> list[str]:
    return BLOCK.findall(section(README.read_text(), heading))


def extending_blocks() -> list[tuple[ModuleType, str]]:
    """(module, code) for each block under Extending that names its module."""
    found = []
    for code in python_blocks("Extending"):
        where = WHERE.match(code)
        if where:
            found.append((importlib.import_module(where[1].replace("/", ".")), code))
    return found


def run_block(module: ModuleType, code: str, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Run `code` as if written in `module`; return the entries of a registry line."""
    namespace = dict(vars(module))
    tree = ast.parse(code)
    filename = f"README.md ({module.__name__})"
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        value = eval(compile(ast.Expression(tree.body[0].value), filename, "eval"), namespace)
        return list(value) if isinstance(value, tuple) else [value]
    exec(compile(tree, filename, "exec"), namespace)
    for name, value in namespace.items():
        if name not in vars(module) or vars(module)[name] is not value:
            monkeypatch.setattr(module, name, value, raising=False)
    return []


def register(monkeypatch: pytest.MonkeyPatch) -> tuple[list[MatrixFamily], list[Method]]:
    """Run every Extending block and register what its registry lines build."""
    families: list[MatrixFamily] = []
    methods: list[Method] = []
    for module, code in extending_blocks():
        for entry in run_block(module, code, monkeypatch):
            if isinstance(entry, MatrixFamily):
                monkeypatch.setitem(MATRIX_FAMILIES, entry.name, entry)
                families.append(entry)
            elif isinstance(entry, Method):
                monkeypatch.setitem(METHODS, entry.name, entry)
                methods.append(entry)
            else:
                raise AssertionError(f"a registry line built {entry!r}")
    return families, methods


@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch) -> tuple[MatrixFamily, Method]:
    families, methods = register(monkeypatch)
    assert len(families) == 1, "the README shows one matrix family"
    assert len(methods) == 1, "the README shows one method"
    return families[0], methods[0]


def test_readme_is_an_entrance() -> None:
    lines = README.read_text().count("\n")
    assert lines <= MAX_LINES, f"README.md has {lines} lines; move measurements to docs/"


def test_new_family_is_selectable_and_its_tags_hold(
    extended: tuple[MatrixFamily, Method],
) -> None:
    family, _ = extended
    assert family.name in [f.name for f in api.select_matrices("tag:spd")]
    for n in (1, 2, 16, 64):
        a = family.make(n, seed=3)
        assert a.shape == (n, n) and a.dtype == np.float64
        np.testing.assert_array_equal(a, family.make(n, seed=3))
        for tag in family.tags:
            assert TAG_CHECKS[tag](a), f"tag {tag} does not hold at n = {n}"


def test_new_method_runs_on_new_family(extended: tuple[MatrixFamily, Method]) -> None:
    family, method = extended
    assert api.get_method(method.name) is method
    assert [m.name for m in api.select_methods(method.name)] == [method.name]
    grid = api.Grid(
        matrices=(family.name,),
        methods=(method.name, "scipy-tsvd"),
        sizes=(16,),
        ranks=(3,),
        timing_repeats=1,
    )
    rows = api.run_grid(grid).results.set_index("method")
    assert (rows.status == "ok").all(), rows[["status", "reason"]]
    new = rows.loc[method.name]
    assert (new.group, new.kind, bool(new.rank_ok)) == ("classical", "rank-k", True)
    # a symmetric matrix's truncated eigendecomposition is its truncated SVD
    np.testing.assert_allclose(new.ratio_2, 1.0, rtol=1e-10)
    np.testing.assert_allclose(new.rel_err_fro, rows.loc["scipy-tsvd"].rel_err_fro, rtol=1e-10)


def test_new_method_skips_what_it_cannot_factor(extended: tuple[MatrixFamily, Method]) -> None:
    _, method = extended
    grid = api.Grid(
        matrices=("random-gaussian",), methods=(method.name,), ranks=(3,), timing_repeats=1
    )
    row = api.run_grid(grid).results.iloc[0]
    assert row.status == "skipped"
    assert "not symmetric" in row.reason


def test_new_method_keeps_the_method_contract(extended: tuple[MatrixFamily, Method]) -> None:
    """What `nnbench check` and the contract test hold every method to (rectangular inputs
    declined by shape, declared refusals, ...) holds for the example as written."""
    from nnbench.check import check_methods

    _, method = extended
    failed = [f"{r.check}: {r.reason}" for r in check_methods([method]) if not r.passed]
    assert not failed, failed


def test_registration_is_undone() -> None:
    modules = {module for module, _ in extending_blocks()}
    before = {module: dict(vars(module)) for module in modules}
    with pytest.MonkeyPatch.context() as patch:
        families, methods = register(patch)
        assert families[0].name in MATRIX_FAMILIES and methods[0].name in METHODS
    assert families[0].name not in MATRIX_FAMILIES
    assert methods[0].name not in METHODS
    for module in modules:
        assert vars(module).keys() == before[module].keys(), module.__name__


def test_python_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (code,) = python_blocks("Usage")
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md (Python API)", "exec"), namespace)
    assert (tmp_path / "results" / "spd" / "results.parquet").is_file()
    assert (tmp_path / "results" / "worked" / "results.parquet").is_file()
    lu = namespace["lu"]
    a = np.array([[8.0, 2, 9], [4, 9, 4], [6, 7, 9]])
    np.testing.assert_allclose(lu.reconstruct(), a, rtol=1e-14)  # type: ignore[attr-defined]


LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.DOTALL | re.MULTILINE)
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


@pytest.mark.parametrize(
    "page", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name
)
def test_relative_links_resolve(page: Path) -> None:
    for link in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", link):
            continue  # a URL
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name} links to missing {link}"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{page.name} links to missing anchor {link}"
