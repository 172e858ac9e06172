"""Defects found by use (issue 33, item 7), each pinned by the test that found it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from nnbench import names
from nnbench.api import Grid, run_grid
from nnbench.cli import _method_terms, main
from nnbench.corpus import MATRIX_FAMILIES, TAG_CHECKS, file_family, infer_tags
from nnbench.corpus.select import join_file_names
from nnbench.corpus.tags import TAG_WORDS
from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods import GROUPS, KINDS, METHODS, select_methods
from nnbench.studies import STUDIES


def test_amortized_ic_declines_what_conjugate_gradients_cannot_solve():
    """It preconditions CG, as the cg-* methods do: it needs what they need (an SPD matrix)
    and says so instead of running CG to a breakdown (`diverged`)."""
    method = METHODS["amortized-ic"]
    assert method.requires == METHODS["cg-none"].requires
    a = MATRIX_FAMILIES["random-gaussian"].make(8, seed=0)
    assert not method.requires.met_by(a)
    with pytest.raises(SkipCell, match="symmetric positive definite"):
        method.prepare(a, device="cpu")
    with pytest.raises(SkipCell):  # a stack with one unsuitable matrix
        method.prepare(np.stack([np.eye(8), a]), device="cpu")


@pytest.mark.parametrize("family", ["grid-laplacian", "graph-laplacian"])
def test_a_singular_laplacian_is_singular_and_not_spd(family, tmp_path):
    """Without its shift a Laplacian is positive semidefinite and singular; Cholesky finishes
    on it in floating point, and it was tagged `singular,spd`."""
    a = MATRIX_FAMILIES[family].make(64, seed=0, shift=0.0)
    dense = a.toarray() if hasattr(a, "toarray") else a
    for form in (a, dense):
        tags = infer_tags(form)
        assert "singular" in tags and "symmetric" in tags and "spd" not in tags
    np.save(tmp_path / "laplacian.npy", dense)
    tags = file_family(str(tmp_path / "laplacian.npy")).tags
    assert "singular" in tags and "spd" not in tags


@pytest.mark.parametrize("method", ["cg-none", "cg-jacobi", "amortized-ic"])
def test_methods_that_need_spd_decline_a_singular_laplacian(method):
    """What Cholesky finishes on with a pivot at rounding level is no SPD matrix for CG."""
    for n in (16, 256):  # Cholesky finishes on both (on n = 64 it fails: declined anyway)
        a = MATRIX_FAMILIES["grid-laplacian"].make(n, seed=1, shift=0.0)
        with pytest.raises(SkipCell, match="singular"):
            METHODS[method].prepare(a, device="cpu")
        METHODS[method].prepare(MATRIX_FAMILIES["grid-laplacian"].make(n, seed=1), device="cpu")


def test_no_family_declares_spd_and_singular():
    for family in MATRIX_FAMILIES.values():
        assert not {"spd", "singular"} <= set(family.tags), family.name


def test_every_tag_has_words_and_requirements_read_as_sentences():
    assert set(TAG_WORDS) == set(TAG_CHECKS)
    for method in METHODS.values():
        words = str(method.requires)
        assert words == "any matrix" or words.startswith("a matrix that "), method.name
        assert not re.search(r"frozenset|Requirements\(|<\w|_", words), (method.name, words)


def test_no_skip_reason_in_a_small_run_shows_python_internals(tmp_path):
    """Every skip reason is a sentence: no reprs of sets, dataclasses or objects."""
    grid = Grid(
        matrices=("diagonal-mn0", "needs-pivoting", "random-gaussian", "rectangular", "spd"),
        methods=(
            "classical",
            "gmres-warm-lu[start=exact]",
            "gmres-warm-lu[start=closed-form]",
            "gmres-warm-lu[start=cold]",
            "amortized-ic[steps=5,count=8]",
        ),
        sizes=(6,),
        ranks=(2,),
        dtypes=("float64",),
    )
    rows = run_grid(grid, out=tmp_path / "run").results
    skipped = rows[rows.status == "skipped"]
    assert len(skipped) > 20
    for reason in skipped.reason:
        assert reason and not re.search(r"frozenset|Requirements\(|<\w", reason), reason
    warm = skipped.set_index(["method", "matrix"]).reason
    exact = warm["gmres-warm-lu[start=exact]", "diagonal-mn0"]
    assert exact == "the exact start needs a matrix that is not singular"
    ic = rows[rows.method.str.startswith("amortized-ic")].set_index("matrix")
    assert ic.loc["random-gaussian", "status"] == "skipped"
    assert "symmetric positive definite" in ic.loc["random-gaussian", "reason"]
    assert ic.loc["spd", "status"] == "ok"


def test_a_dangling_link_says_where_it_points(tmp_path, capsys):
    (tmp_path / "link.npy").symlink_to(tmp_path / "gone.npy")
    argv = ["run", "--matrices", f"file:{tmp_path / 'link.npy'}", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert f"is a symbolic link to {str(tmp_path / 'gone.npy')!r}, which does not exist" in err


def test_a_file_name_with_commas_is_one_matrix(tmp_path, capsys):
    np.save(tmp_path / "a,b.npy", np.eye(3) + 1.0)
    np.save(tmp_path / "c.npy", np.eye(3))
    out = tmp_path / "out"
    selector = f"spd,file:{tmp_path / 'a,b.npy'},file:{tmp_path / 'c.npy'},identity"
    argv = ["run", "--matrices", selector, "--methods", "scipy-lu", "--sizes", "4"]
    assert main([*argv, "--no-progress", "--out", str(out)]) == 0
    matrices = set(pd.read_parquet(out / "results.parquet").matrix)
    assert matrices == {"spd", f"file:{tmp_path / 'a,b.npy'}", f"file:{tmp_path}/c.npy", "identity"}


@pytest.mark.parametrize(
    ("selector", "terms"),
    [
        ("file:{t}/a,b.npy,spd", ["file:{t}/a,b.npy", "spd"]),  # exists
        ("file:{t}/x,y.npy,spd", ["file:{t}/x,y.npy", "spd"]),  # missing: the name meant
        ("file:{t}/c.npy,spdd", ["file:{t}/c.npy", "spdd"]),  # a typo after a file
        ("file:{t}/gone.npy,spdd", ["file:{t}/gone.npy", "spdd"]),  # the readable join
        ("file:{t}/x,y", ["file:{t}/x,y"]),  # nothing readable: all of it
        ("tag:spd,all,file:{t}/c.npy", ["tag:spd", "all", "file:{t}/c.npy"]),
    ],
)
def test_file_names_are_joined_where_the_commas_split_them(tmp_path, selector, terms):
    np.save(tmp_path / "a,b.npy", np.eye(2))
    np.save(tmp_path / "c.npy", np.eye(2))
    pieces = selector.format(t=tmp_path).split(",")
    assert join_file_names(pieces) == [term.format(t=tmp_path) for term in terms]


def test_methods_with_several_options_are_one_term():
    """docs/methods.md's example: the commas inside [...] separate options, not methods."""
    text = "neural-lu-study-final[optimizer=sgd,lr=0.01],hybrid-lu-newton[pivot=false]"
    terms = _method_terms(text)
    assert terms == (
        "neural-lu-study-final[optimizer=sgd,lr=0.01]",
        "hybrid-lu-newton[pivot=false]",
    )
    assert [m.options for m in select_methods(list(terms))] == [
        "optimizer=sgd,lr=0.01",
        "pivot=False",
    ]


def test_the_method_listing_and_help_name_every_group_and_kind(capsys):
    assert main(["list", "methods"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    usage = " ".join(capsys.readouterr().out.split())
    methods_help = usage[usage.index("--methods METHODS") :]
    for text in (header, methods_help):
        assert all(group in text for group in GROUPS) and "all" in text and "kind:" in text
    assert all(kind in methods_help for kind in KINDS)


def test_the_name_index_is_the_registries_names():
    index = names.name_index()
    assert index == names.build_index()
    assert index.methods == tuple(METHODS) and index.studies == tuple(STUDIES)
    assert index.groups == GROUPS and index.kinds == KINDS
    stored = json.loads(names.index_path().read_text())
    assert names.NameIndex(**{k: tuple(v) for k, v in stored.items()}) == index


def test_a_torn_name_index_is_built_again():
    path = names.index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"methods": ["scipy-lu"')
    assert names.name_index() == names.build_index()


@pytest.mark.parametrize(
    "terms",
    [
        ["scipy-luu"],
        ["scipy-lu", "torch-qrr"],
        ["kind:lux"],
        ["kind:lu", "classical", "amortized", "all"],
        ["torch-rsvd[niter=4]", "neural-lu-adam[steps=3,lr=0.1]"],
        ["scipy-lu[oops"],
        ["nosuch[steps=3]"],
    ],
)
def test_the_early_name_check_agrees_with_the_registry(terms):
    """`names.check_method_terms` refuses what `select_methods` refuses for a name, with the
    same words, and lets through what it accepts (option values are checked later)."""
    try:
        select_methods(terms)
        expected = None
    except NNBenchError as exc:
        expected = str(exc)
    try:
        names.check_method_terms(terms, names.name_index())
        early = None
    except NNBenchError as exc:
        early = str(exc)
    assert early == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--methods", "scipy-luu", "--matrices", "spd"],
            "unknown method 'scipy-luu'; did you mean",
        ),
        (["--study", "quik"], "unknown study 'quik'; did you mean 'quick'?"),
        (["--matrices", "spdd", "--methods", "scipy-lu"], "unknown matrix 'spdd'; did you mean"),
    ],
)
def test_a_mistyped_name_is_refused_before_torch_loads(tmp_path, argv, message):
    """A typo costs the start of Python, not seconds of imports (torch, matplotlib)."""
    names.source_hash.cache_clear()  # this source, as the subprocess reads it
    names.name_index()  # what any earlier run of this source left in the cache folder
    script = (
        "import sys; from nnbench.cli import main; "
        f"code = main({['run', *argv, '--out', str(tmp_path / 'out')]!r}); "
        "print(sorted({'torch', 'matplotlib'} & set(sys.modules))); sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (2, "[]"), done.stderr
    err = done.stderr.strip()
    assert err.startswith("nnbench: error: ") and "\n" not in err and message in err
