"""Defects found by use (issue 33, item 7), each pinned by the test that found it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from nnbench.api import Grid, run_grid
from nnbench.cli import _method_terms, main
from nnbench.corpus import MATRIX_FAMILIES, TAG_CHECKS, file_family, infer_tags
from nnbench.corpus.select import join_file_names
from nnbench.corpus.tags import TAG_WORDS
from nnbench.errors import SkipCell
from nnbench.methods import METHODS, select_methods


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
