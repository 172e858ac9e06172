"""Sparse matrices stay sparse end to end (issue 22 item 5): generated families and `.mtx`
files reach the sparse preconditioners as CSR, nothing n x n is formed, and the rows carry
CG iterations with the build, solve and total times."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from nnbench.api import Grid, run_grid
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.corpus import sparse as sparse_module
from nnbench.corpus import tags as tags_module
from nnbench.corpus.files import file_family
from nnbench.errors import NNBenchError

HELD_OUT = 12345  # a seed no study trains or tunes on
SPARSE_METHODS = ("cg-none", "cg-jacobi", "sparse-ic0", "ilut", "amg", "sparse-direct")
TIMES = ["time_s", "cg_solve_s", "cg_total_s"]


def test_n_65536_runs_sparse_end_to_end():
    """Dense, A alone would be 32 GiB (more than this machine has): the cells run only if
    nothing densifies it; the dense IC(0) is a skipped row that says why."""
    grid = Grid(
        matrices=("diffusion-2d",),
        methods=("cg-jacobi", "sparse-ic0", "amg", "ic0"),
        sizes=(65536,),
    )
    rows = run_grid(grid).results.set_index("method")
    for method in ("cg-jacobi", "sparse-ic0", "amg"):
        row = rows.loc[method]
        assert row.status == "ok", row.reason
        assert row.cg_iterations > 0 and np.all(row[TIMES] > 0)
        assert row.cg_total_s == pytest.approx(row.time_s + row.cg_solve_s)
    assert rows.loc["amg", "cg_iterations"] <= 12
    assert rows.loc["ic0", "status"] == "skipped"
    assert "needs a dense matrix" in rows.loc["ic0", "reason"]


@pytest.fixture(scope="module")
def mtx_files(tmp_path_factory):
    """Held-out 2-D diffusion problems with random coefficients as Matrix Market files."""
    folder = tmp_path_factory.mktemp("mtx")
    paths = []
    for n in (1024, 4096):
        path = folder / f"diffusion-{n}.mtx"
        scipy.io.mmwrite(path, MATRIX_FAMILIES["diffusion-2d"].make(n, seed=HELD_OUT + n))
        paths.append(str(path))
    return paths


def test_mtx_files_give_every_sparse_method_an_ok_row(mtx_files):
    matrices = tuple(f"file:{p}" for p in mtx_files)
    rows = run_grid(Grid(matrices=matrices, methods=SPARSE_METHODS)).results
    assert len(rows) == len(matrices) * len(SPARSE_METHODS)
    assert (rows.status == "ok").all(), rows[["matrix", "method", "reason"]]
    assert rows[TIMES].gt(0).all().all() and rows.cg_iterations.gt(0).all()
    assert rows[rows.method == "amg"].cg_iterations.le(12).all()
    assert rows[rows.method == "sparse-direct"].cg_iterations.le(2).all()


def test_a_sparse_mtx_file_is_read_sparse(mtx_files):
    family = file_family(mtx_files[0])
    a = family.make()
    assert family.sparse and scipy.sparse.issparse(a) and a.format == "csr"
    assert {"spd", "symmetric", "diagonally_dominant"} <= set(family.tags)


def test_a_sparse_file_with_nan_is_refused_in_one_line(tmp_path):
    a = scipy.sparse.random_array((50, 50), density=0.05, random_state=0, format="coo")
    a.data[0] = np.nan
    path = tmp_path / "bad.mtx"
    scipy.io.mmwrite(path, a)
    with pytest.raises(NNBenchError, match="NaN/Inf"):
        file_family(str(path))


@pytest.mark.parametrize(
    "name", ["diffusion-2d", "diffusion-aniso", "graph-laplacian", "sparse-spd"]
)
def test_sparse_tag_checks_agree_with_the_dense_ones(name, monkeypatch):
    """Past SPARSE_EXACT_SIDE the sparse forms decide: forced here on small matrices, where
    the dense checks can say what is right."""
    monkeypatch.setattr(tags_module, "SPARSE_EXACT_SIDE", 0)
    for seed in (0, 1):
        a = MATRIX_FAMILIES[name].make(144, seed=seed)
        dense = a.toarray()
        for tag, check in tags_module.SPARSE_TAG_CHECKS.items():
            assert check(a) == tags_module.DENSE_TAG_CHECKS[tag](dense), (name, tag)


def test_sparse_spd_check_refuses_an_indefinite_matrix():
    a = MATRIX_FAMILIES["sparse-spd"].make(3000, seed=0) - 5.0 * scipy.sparse.eye_array(3000)
    assert not tags_module.TAG_CHECKS["spd"](scipy.sparse.csr_array(a))


def test_dense_only_methods_get_a_dense_copy_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(sparse_module, "DENSE_LIMIT", 100)
    import nnbench.running.cells as cells

    monkeypatch.setattr(cells, "DENSE_LIMIT", 100)
    grid = Grid(matrices=("diffusion-2d",), methods=("ic0", "scipy-lu"), sizes=(64, 144))
    rows = run_grid(grid).results.set_index(["method", "n"])
    assert rows.loc[("ic0", 64), "status"] == "ok"
    assert rows.loc[("scipy-lu", 64), "status"] == "ok"
    assert rows.loc[("scipy-lu", 64), "rel_err_2"] < 1e-14
    for method in ("ic0", "scipy-lu"):
        assert "needs a dense matrix" in rows.loc[(method, 144), "reason"]


def test_a_stack_of_sparse_instances_reaches_a_batched_method_dense():
    grid = Grid(matrices=("diffusion-2d",), methods=("torch-lu",), sizes=(16,), batches=(4,))
    row = run_grid(grid).results.iloc[0]
    assert row.status == "ok" and row.batch == 4 and row.rel_err_2 < 1e-14
