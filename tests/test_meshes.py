"""Real meshes (`corpus.meshes`): pyamg's shipped SPD examples as fixed families, finite-element
diffusion on its refined triangle meshes as sizable ones, the `mesh` group, and CG on them
counting what an independent scipy CG counts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from nnbench.corpus import MATRIX_FAMILIES, TAG_CHECKS, VALUE_CHECKS, meshes, select_matrices
from nnbench.corpus.registry import MATRIX_GROUPS
from nnbench.metrics.solves import pcg

MESH = MATRIX_GROUPS["mesh"]
SIZABLE = [name for name in MESH if MATRIX_FAMILIES[name].sizable]


def test_the_mesh_group_is_a_selector_of_sparse_spd_families():
    families = select_matrices("mesh")
    assert [f.name for f in families] == list(MESH) and len(MESH) == 6
    assert all(f.sparse and {"spd", "symmetric"} <= f.tags for f in families)
    assert [f.name for f in select_matrices("mesh,diffusion-2d")][-1] == "diffusion-2d"


@pytest.mark.parametrize("name", MESH)
def test_every_mesh_family_s_tags_hold_at_a_size_of_thousands(name):
    """test_corpus checks n = 2, 5, 16; here the sizes the precond study runs (sparse checks)."""
    family = MATRIX_FAMILIES[name]
    a = family.make(4096 if family.sizable else None, seed=11)
    assert a.shape == family.shape(4096 if family.sizable else None)
    for tag in family.tags:
        assert TAG_CHECKS[tag](a), f"{name} fails {tag}"
    assert not TAG_CHECKS["singular"](a)
    if not family.sizable:
        rank = family.tag_values()["rank"]
        assert VALUE_CHECKS["rank"](a, rank)


def test_the_assembled_airfoil_laplacian_is_pyamg_s_example():
    """The P1 assembly (c = 1) without the boundary rows is the matrix pyamg ships."""
    vertices, triangles = meshes.refined_mesh("airfoil", 0)
    stiffness = meshes.p1_stiffness(vertices, triangles, np.ones(triangles.shape[0]))
    inside = ~meshes.boundary_vertices(triangles, vertices.shape[0])
    shipped = MATRIX_FAMILIES["mesh-airfoil"].make()
    gap = abs(stiffness[inside][:, inside] - shipped)
    assert gap.max() <= 1e-14 * abs(shipped).max()


def test_refinement_quadruples_the_mesh_and_picks_the_fewest_levels():
    counts = [meshes.refined_mesh("square", levels)[1].shape[0] for levels in range(3)]
    assert counts == [688, 4 * 688, 16 * 688]
    assert meshes.refinement_level("square", 317) == 0  # 317 interior vertices unrefined
    assert meshes.refinement_level("square", 318) == 1


@pytest.mark.parametrize("name", SIZABLE)
def test_a_refined_mesh_family_is_n_by_n_deterministic_and_depends_on_the_seed(name):
    family = MATRIX_FAMILIES[name]
    a = family.make(1500, seed=2)
    assert a.shape == (1500, 1500) and a.format == "csr"
    assert (a != family.make(1500, seed=2)).nnz == 0
    assert (a != family.make(1500, seed=3)).nnz > 0


def test_every_interior_node_with_sigma_zero_is_the_mesh_s_dirichlet_laplacian():
    vertices, triangles = meshes.refined_mesh("square", 1)
    inside = ~meshes.boundary_vertices(triangles, vertices.shape[0])
    stiffness = meshes.p1_stiffness(vertices, triangles, np.ones(triangles.shape[0]))
    whole = MATRIX_FAMILIES["mesh-square-refined"].make(int(inside.sum()), seed=5, sigma=0.0)
    assert abs(whole - stiffness[inside][:, inside]).max() == 0.0


@pytest.mark.parametrize("name", ["mesh-airfoil", "mesh-bar", "mesh-square-refined"])
def test_cg_iterations_on_a_mesh_equal_scipy_s_cg(name):
    """The CG nnbench scores counts the iterations scipy's CG needs (Jacobi-preconditioned,
    same b, same tolerance): a mesh matrix is solved as any sparse SPD system is."""
    a = MATRIX_FAMILIES[name].make(2048, seed=0)
    b = np.random.default_rng(0).standard_normal(a.shape[0])
    inverse = 1.0 / a.diagonal()
    ours = pcg(a, b, lambda r: inverse * r)
    counted: list[int] = []
    jacobi = scipy.sparse.linalg.LinearOperator(a.shape, matvec=lambda r: inverse * r)
    _, info = scipy.sparse.linalg.cg(
        a, b, rtol=1e-8, atol=0.0, M=jacobi, maxiter=10 * a.shape[0],
        callback=lambda x: counted.append(1),
    )  # fmt: skip
    assert info == 0 and ours.iterations is not None
    assert abs(ours.iterations - len(counted)) <= 1


def test_the_sparse_preconditioners_run_on_every_mesh():
    """Each mesh through a run: CG converges under Jacobi, IC(0), AMG and the direct solve
    (1-2 iterations), and AMG needs fewer iterations than Jacobi."""
    from nnbench.api import Grid, run_grid

    grid = Grid(
        matrices=("mesh",),
        methods=("cg-jacobi", "sparse-ic0", "amg", "sparse-direct"),
        sizes=(512,),
    )
    rows = run_grid(grid).results
    assert set(rows.status) == {"ok"}, rows[rows.status != "ok"].reason.tolist()
    iterations = rows.pivot(index="matrix", columns="method", values="cg_iterations")
    assert sorted(iterations.index) == sorted(MESH)
    assert (iterations["sparse-direct"] <= 2).all()
    assert (iterations["amg"] < iterations["cg-jacobi"]).all()


def test_the_generalisation_table_puts_meshes_beside_the_training_families(tmp_path):
    """sparse-precond holds the meshes out; its table gives, per family, the learned
    preconditioner's iterations and total time beside Jacobi's, IC(0)'s and AMG's."""
    from nnbench.api import Grid, run_grid
    from nnbench.studies import STUDIES
    from nnbench.studies.precond import MESHES, TRAINED_ON, generalisation

    study = STUDIES["sparse-precond"]
    for variant in (study.grids, study.quick):
        held_out = {m for grid in variant for m in grid.matrices} - set(TRAINED_ON)
        assert set(MESHES) <= held_out
    learned = "amortized-gnn-ic[steps=30,count=4,sizes=64]"
    grid = Grid(
        matrices=("mesh-square-refined", "diffusion-aniso", "mesh-knot", "diffusion-2d"),
        methods=(learned, "cg-jacobi", "sparse-ic0", "amg"),
        sizes=(256,),
    )
    table = generalisation(run_grid(grid, out=tmp_path / "res").results)
    assert list(table.matrix) == [
        "diffusion-2d",
        "diffusion-aniso",
        "mesh-knot",
        "mesh-square-refined",
    ]
    assert list(table.families) == ["trained on", "held out", "held-out mesh", "held-out mesh"]
    for method in ("learned", "jacobi", "ic0", "amg"):
        assert (table[f"{method}_iterations"] >= 1).all()
        assert (table[f"{method}_total_s"] > 0).all()
    assert (table.amg_iterations < table.jacobi_iterations).all()
