"""Real meshes: the SPD matrices pyamg ships with its gallery (finite-element and mesh
Laplacians, read from the package's own files: nothing is downloaded), and piecewise-linear
finite-element diffusion matrices assembled on its 2-D triangle meshes refined to any size.
All sparse CSR, the held-out systems a preconditioner trained on grids never saw."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

GALLERY_SIZES = {"airfoil": 260, "bar": 600, "knot": 239, "unit_cube": 125}
"""pyamg's gallery examples that are SPD, with their side (the others: `unit_square` is
singular, `local_disc_galerkin_diffusion` and `recirc_flow` are not symmetric,
`helmholtz_2D` is complex and indefinite)."""


@functools.cache
def _example(name: str) -> dict[str, Any]:
    from pyamg.gallery import load_example

    return dict(load_example(name))


def gallery_matrix(n: int, rng: np.random.Generator, *, example: str) -> scipy.sparse.csr_array:
    """pyamg's gallery example `example` (its `A`, Dirichlet nodes removed), float64 CSR; `n`
    and `rng` are ignored (a fixed matrix)."""
    return scipy.sparse.csr_array(_example(example)["A"], dtype=np.float64, copy=True)


def _square_mesh() -> tuple[np.ndarray, np.ndarray]:
    import pyamg.gallery

    data = np.load(Path(pyamg.gallery.__file__).with_name("mesh_data") / "square_mesh.npz")
    return data["vertices"], data["elements"]


def _airfoil_mesh() -> tuple[np.ndarray, np.ndarray]:
    example = _example("airfoil")
    return example["vertices"], example["elements"]


TRIANGLE_MESHES = {"airfoil": _airfoil_mesh, "square": _square_mesh}
"""pyamg's 2-D triangle meshes: around an airfoil (322 vertices, 582 triangles; its gallery
example's mesh) and of the square [-1, 1]^2 (373 vertices, 688 triangles; `mesh_data`)."""


@functools.cache
def refined_mesh(mesh: str, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """`mesh` (a key of `TRIANGLE_MESHES`) refined uniformly `levels` times by pyamg's
    `refine2dtri` (each triangle into four: about 4x the vertices a level): its vertices
    (float64, nv x 2) and triangles (int64, ne x 3). Cached: read-only arrays."""
    if levels == 0:
        vertices, triangles = TRIANGLE_MESHES[mesh]()
    else:
        from pyamg.gallery.fem import refine2dtri

        vertices, triangles = refine2dtri(*refined_mesh(mesh, levels - 1))
    vertices = np.array(vertices, dtype=np.float64)
    triangles = np.array(triangles, dtype=np.int64)
    vertices.setflags(write=False)
    triangles.setflags(write=False)
    return vertices, triangles


def boundary_vertices(triangles: np.ndarray, count: int) -> np.ndarray:
    """Mask of the `count` vertices on the mesh's boundary: the ends of the edges that belong
    to one triangle only."""
    edges = np.sort(
        np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    )
    unique, times = np.unique(edges, axis=0, return_counts=True)
    mask = np.zeros(count, dtype=bool)
    mask[unique[times == 1].ravel()] = True
    return mask


def p1_stiffness(
    vertices: np.ndarray, triangles: np.ndarray, coefficient: np.ndarray
) -> scipy.sparse.csr_array:
    """The piecewise-linear finite-element matrix of -div(c grad u) on a triangle mesh,
    a_ij = sum over triangles T of c_T |T| grad phi_i . grad phi_j (`coefficient`: c_T per
    triangle), all vertices (nv x nv, float64 CSR; singular: the constants are its kernel).
    With c = 1 and the boundary rows and columns removed, pyamg's `airfoil` example's A."""
    corners = vertices[triangles]  # (ne, 3, 2)
    d1, d2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]  # twice the signed area
    g1 = np.stack([d2[:, 1], -d2[:, 0]], axis=1) / det[:, None]  # grad of barycentric 1
    g2 = np.stack([-d1[:, 1], d1[:, 0]], axis=1) / det[:, None]
    grads = np.stack([-g1 - g2, g1, g2], axis=1)  # (ne, 3, 2)
    local = (0.5 * np.abs(det) * coefficient)[:, None, None] * (grads @ grads.transpose(0, 2, 1))
    rows = np.repeat(triangles, 3, axis=1).ravel()
    cols = np.tile(triangles, (1, 3)).ravel()
    count = vertices.shape[0]
    coo = scipy.sparse.coo_array((local.ravel(), (rows, cols)), shape=(count, count))
    return scipy.sparse.csr_array(coo)


@functools.cache
def _interior(mesh: str, levels: int) -> np.ndarray:
    vertices, triangles = refined_mesh(mesh, levels)
    inside = np.flatnonzero(~boundary_vertices(triangles, vertices.shape[0]))
    inside.setflags(write=False)
    return inside


def refinement_level(mesh: str, n: int) -> int:
    """The fewest uniform refinements after which `mesh` has at least n interior vertices."""
    levels = 0
    while _interior(mesh, levels).size < n:
        levels += 1
    return levels


def mesh_diffusion(
    n: int, rng: np.random.Generator, *, mesh: str, sigma: float
) -> scipy.sparse.csr_array:
    """-div(c grad u) by piecewise-linear finite elements on `mesh` refined until it has at
    least n interior vertices (`refinement_level`), c = exp(sigma * Gaussian) per triangle
    (sigma = 0: the Laplacian), u = 0 on the boundary; of its interior vertices the n nearest
    a random one are the unknowns (the others held at 0, Dirichlet too), in the mesh's own
    numbering. A principal submatrix of an SPD matrix: SPD, n x n, CSR; not an M-matrix
    where triangles are obtuse."""
    vertices, triangles = refined_mesh(mesh, refinement_level(mesh, n))
    inside = _interior(mesh, refinement_level(mesh, n))
    centre = vertices[inside[rng.integers(inside.size)]]
    distance = np.linalg.norm(vertices[inside] - centre, axis=1)
    keep = np.sort(inside[np.argsort(distance, kind="stable")[:n]])
    coefficient = np.exp(sigma * rng.standard_normal(triangles.shape[0]))
    stiffness = p1_stiffness(vertices, triangles, coefficient)
    return scipy.sparse.csr_array(stiffness[keep][:, keep])
