"""The one registry of matrix families. Adding a family = one generator + one line here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from nnbench.corpus import generators as g
from nnbench.corpus import images
from nnbench.corpus import meshes as mesh
from nnbench.corpus.examples import WORKED_EXAMPLES, worked_example
from nnbench.corpus.family import MatrixFamily
from nnbench.corpus.files import array_family


def _example(name: str) -> MatrixFamily:
    a = worked_example(name)
    family = array_family(name, a, source=WORKED_EXAMPLES[name][1], keep_factors=True)
    rank = min(a.shape)  # each is a nonsingular system the studies factor or solve
    return replace(family, description=str(a.tolist()), numeric_tags=lambda n, p: {"rank": rank})


def _rank_n(n: int, p: Mapping[str, Any]) -> dict[str, float]:
    return {"rank": n, "cond": 1.0}


def _full_rank(n: int, p: Mapping[str, Any]) -> dict[str, float]:
    """Nonsingular: by construction (SPD, diagonally dominant) or with probability one."""
    return {"rank": n}


def _gallery(name: str, example: str, description: str, extra: frozenset[str]) -> MatrixFamily:
    side = mesh.GALLERY_SIZES[example]
    return MatrixFamily(
        name,
        partial(mesh.gallery_matrix, example=example),
        SQ | {"spd", "symmetric"} | extra,
        description,
        fixed_shape=(side, side),
        source=f"pyamg.gallery.load_example({example!r}): a matrix pyamg ships, sparse CSR",
        numeric_tags=lambda n, p: {"rank": side},
        sparse=True,
    )


def _refined(name: str, where: str) -> MatrixFamily:
    return MatrixFamily(
        name,
        partial(mesh.mesh_diffusion, mesh=where),
        SQ | {"spd", "symmetric"},
        f"-div(c grad u), P1 finite elements on pyamg's {where} triangle mesh refined until it "
        "has >= n interior nodes (about 4x a level), the n nearest a random node kept (the rest "
        "Dirichlet), c = exp(sigma N(0,1)) per triangle",
        params={"sigma": 1.0},
        default_n=1024,
        source=f"pyamg's {where} mesh, refined by pyamg.gallery.fem.refine2dtri, sparse CSR",
        numeric_tags=_full_rank,
        sparse=True,
    )


def _pixels(n: int, p: Mapping[str, Any]) -> dict[str, float]:
    return {"pixel_max": float(p.get("scale", 1.0))}


SQ = frozenset({"square"})
SYM = SQ | {"symmetric"}
DIAG = SYM | {"diagonal"}
IMG = SQ | {"image"}

FAMILIES: tuple[MatrixFamily, ...] = (
    MatrixFamily(
        "random-uniform",
        g.random_uniform,
        SQ,
        "entries ~ U[0,1) (studies 000/002)",
        numeric_tags=_full_rank,
    ),
    MatrixFamily(
        "random-gaussian", g.random_gaussian, SQ, "entries ~ N(0,1)", numeric_tags=_full_rank
    ),
    MatrixFamily(
        "symmetric", g.symmetric, SYM, "U[0,1) mirrored (study 002)", numeric_tags=_full_rank
    ),
    MatrixFamily(
        "identity",
        g.identity,
        DIAG | {"spd", "identity", "diagonally_dominant"},
        "I_n (study 002)",
        numeric_tags=_rank_n,
    ),
    MatrixFamily(
        "diagonal-mn",
        partial(g.diagonal_mn, start=1),
        DIAG | {"spd", "diagonally_dominant"},
        "M_n = diag(1..n) as study 002's text says",
        numeric_tags=lambda n, p: {"rank": n, "cond": float(n)},
    ),
    MatrixFamily(
        "diagonal-mn0",
        partial(g.diagonal_mn, start=0),
        DIAG | {"singular"},
        "M_n = diag(0..n-1), which study 002's numbers imply (0.5918 = 29/49)",
        numeric_tags=lambda n, p: {"rank": n - 1},
    ),
    MatrixFamily("spd", g.spd, SYM | {"spd"}, "B B^T / n + I, B Gaussian", numeric_tags=_full_rank),
    MatrixFamily(
        "diag-dominant",
        g.diagonally_dominant,
        SQ | {"diagonally_dominant"},
        "Gaussian with |a_ii| > sum of the row's other |a_ij|",
        numeric_tags=_full_rank,
    ),
    MatrixFamily(
        "randsvd",
        g.randsvd,
        SQ,
        "U diag(s) V^T, s from 1 to 1/cond",
        params={"cond": 1e6, "mode": "geometric"},
        numeric_tags=lambda n, p: {"cond": float(p["cond"]) if n > 1 else 1.0},
    ),
    MatrixFamily(
        "lowrank",
        g.low_rank,
        SQ | {"singular"},
        "exactly rank r (default n // 4)",
        params={"rank": None, "noise": 0.0},
        numeric_tags=lambda n, p: {"rank": g.low_rank_size(n, p["rank"])},
    ),
    MatrixFamily(
        "lowrank-noise",
        g.low_rank,
        SQ,
        "rank r (default n // 4) + 1e-6 noise",
        params={"rank": None, "noise": 1e-6},
        numeric_tags=lambda n, p: {"effective_rank": g.low_rank_size(n, p["rank"])},
    ),
    MatrixFamily(
        "grid-laplacian",
        g.grid_laplacian,
        SQ | {"spd", "symmetric", "diagonally_dominant"},
        "weighted Laplacian of a g x n/g grid (8 x 8 for n = 64), random weights, + 0.01 I",
        params={"shift": 1e-2},
        default_n=64,
        source="2-D diffusion with random coefficients (NeuralIF's kind of SPD system)",
        numeric_tags=_full_rank,
    ),
    MatrixFamily(
        "diffusion-2d",
        g.diffusion_2d,
        SQ | {"spd", "symmetric", "diagonally_dominant"},
        "-div(c grad u) + 0.01 u, k x k grid (n = k^2), log-normal c, Dirichlet, 5-point",
        params={"sigma": 1.0, "shift": 1e-2, "anisotropy": 1.0},
        default_n=64,
        source="2-D diffusion in a random medium (NeuralIF's PDE systems), sparse CSR",
        numeric_tags=_full_rank,
        sparse=True,
    ),
    MatrixFamily(
        "diffusion-aniso",
        g.diffusion_2d,
        SQ | {"spd", "symmetric", "diagonally_dominant"},
        "diffusion-2d with vertical coupling 100x weaker (anisotropy 1e-2)",
        params={"sigma": 1.0, "shift": 1e-2, "anisotropy": 1e-2},
        default_n=64,
        source="anisotropic 2-D diffusion, sparse CSR (where point smoothers and IC(0) struggle)",
        numeric_tags=_full_rank,
        sparse=True,
    ),
    MatrixFamily(
        "graph-laplacian",
        g.graph_laplacian,
        SQ | {"spd", "symmetric", "diagonally_dominant"},
        "Laplacian of an Erdos-Renyi graph, mean degree 6, + 0.01 I",
        params={"degree": 6.0, "shift": 1e-2},
        default_n=64,
        source="graph Laplacian + small shift, sparse CSR",
        numeric_tags=_full_rank,
        sparse=True,
    ),
    MatrixFamily(
        "sparse-spd",
        g.random_sparse_spd,
        SQ | {"spd", "symmetric"},
        "M M^T + 0.01 I, M with 4 Gaussian entries a row at random columns",
        params={"per_row": 4, "shift": 1e-2},
        default_n=64,
        source="NeuralIF's synthetic random sparse SPD systems, sparse CSR",
        numeric_tags=_full_rank,
        sparse=True,
    ),
    _gallery(
        "mesh-airfoil",
        "airfoil",
        "P1 Laplacian on an unstructured 2-D triangle mesh around an airfoil (260 unknowns)",
        frozenset(),
    ),
    _gallery(
        "mesh-bar",
        "bar",
        "3-D linear elasticity on a hexahedral mesh of a bar (600 unknowns, 3 a node)",
        frozenset(),
    ),
    _gallery(
        "mesh-knot",
        "knot",
        "graph Laplacian of a knot's surface triangulation, one node grounded (239 unknowns)",
        frozenset(),
    ),
    _gallery(
        "mesh-unit-cube",
        "unit_cube",
        "Laplacian-type matrix on a tetrahedral mesh of the unit cube (125 unknowns)",
        frozenset({"diagonally_dominant"}),
    ),
    _refined("mesh-airfoil-refined", "airfoil"),
    _refined("mesh-square-refined", "square"),
    MatrixFamily(
        "needs-pivoting",
        g.needs_pivoting,
        SQ | {"needs_pivoting"},
        "Gaussian with a zero leading pivot",
        params={"pivot": 0.0},
        numeric_tags=_full_rank,
    ),
    MatrixFamily(
        "tiny-pivot",
        g.needs_pivoting,
        SQ | {"needs_pivoting"},
        "Gaussian with a 1e-12 leading pivot",
        params={"pivot": 1e-12},
        numeric_tags=_full_rank,
    ),
    MatrixFamily(
        "rectangular",
        g.rectangular,
        frozenset({"rectangular"}),
        "Gaussian n x ceil(aspect * n)",
        params={"aspect": 0.5},
        shape_of=g.rectangular_shape,
        numeric_tags=lambda n, p: {"rank": min(g.rectangular_shape(n, p))},
    ),
    MatrixFamily(
        "image-camera",
        partial(images.skimage_image, image="camera"),
        IMG,
        "scikit-image `camera` photo, resized",
        default_n=64,
        source="stand-in for study 002's 400x400 portrait photo",
        numeric_tags=_pixels,
    ),
    MatrixFamily(
        "image-camera-255",
        partial(images.skimage_image, image="camera"),
        IMG,
        "scikit-image `camera` photo, resized, pixels 0..255 (8-bit scale, as an image file "
        "loads without dividing by 255)",
        params={"scale": 255.0},
        default_n=64,
        source="study 002's photo at the pixel scale a Keras script may have fed it",
        numeric_tags=_pixels,
    ),
    MatrixFamily(
        "image-crops",
        images.photo_crop,
        IMG,
        "n x n crops of bundled scikit-image photos (camera, astronaut, coffee, chelsea, "
        "rocket, moon, coins) at random places and scales",
        default_n=64,
        source="a distribution of natural-image matrices (learned sketches train on it)",
        numeric_tags=_pixels,
    ),
    MatrixFamily(
        "image-moving-crop",
        images.moving_crop,
        IMG,
        "n frames (columns) of an h x w window (h w = n) moving across a bundled photo",
        default_n=64,
        source="a video-like distribution: seeds differ by photo, scale, start and direction",
        numeric_tags=_pixels,
    ),
    MatrixFamily(
        "image-astronaut",
        partial(images.skimage_image, image="astronaut"),
        IMG,
        "scikit-image `astronaut` portrait, grayscale, resized",
        default_n=64,
        source="second stand-in for study 002's portrait photo",
        numeric_tags=_pixels,
    ),
    MatrixFamily(
        "image-logo",
        partial(images.skimage_image, image="logo"),
        IMG,
        "scikit-image `logo` on white, grayscale, resized",
        default_n=64,
        source="stand-in for study 002's 256x256 Apple logo",
        numeric_tags=_pixels,
    ),
    MatrixFamily(
        "colour-wheel",
        images.colour_wheel,
        IMG,
        "generated hue wheel, grayscale",
        default_n=10,
        source="stand-in for study 002's 10x10 colour wheel",
        numeric_tags=_pixels,
    ),
    MatrixFamily(
        "alphabet",
        images.alphabet_matrix,
        frozenset({"image", "rectangular"}),
        "26 capitals of 30x30 px as columns (900x26)",
        fixed_shape=(900, 26),
        source="stand-in for study 001's alphabet matrix (DejaVu Sans, matplotlib)",
        numeric_tags=lambda n, p: {"pixel_max": 1.0, "rank": 26},
        view=images.letter_b,
        view_label="letter B",
    ),
    *(_example(name) for name in WORKED_EXAMPLES),
)

MATRIX_FAMILIES: dict[str, MatrixFamily] = {family.name: family for family in FAMILIES}

MATRIX_GROUPS: dict[str, tuple[str, ...]] = {
    "mesh": (
        "mesh-airfoil",
        "mesh-bar",
        "mesh-knot",
        "mesh-unit-cube",
        "mesh-airfoil-refined",
        "mesh-square-refined",
    ),
}
"""Named sets of families a selector may use (`--matrices mesh`): `mesh`, the matrices of
real meshes pyamg ships (`corpus.meshes`), fixed and refined."""
