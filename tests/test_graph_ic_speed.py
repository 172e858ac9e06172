"""The learned preconditioner's fast forward pass (issue 32 item 3): `GraphICNet.infer` and
`lower_factor` give the factor that the first implementation gave for the same trained weights
(kept below as the reference: a COO graph, the autograd forward pass at width 3 hidden, L
assembled from COO triplets and converted), to rounding: 1e-12 of max |L| in float64, the
float32 of the timed call within float32 rounding; whatever layout A comes in."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse
import torch

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods.amortized.graph_ic import (
    DIAGONAL_FLOOR,
    GraphICNet,
    graph_of,
    lower_factor,
)
from nnbench.methods.base import RunContext
from nnbench.methods.preconditioners import triangular_inverse

SMALL = "amortized-gnn-ic[steps=30,count=4,sizes=64]"
FAMILIES = ("diffusion-2d", "graph-laplacian", "sparse-spd")


@dataclass(frozen=True)
class ReferenceGraph:
    n: int
    rows: torch.Tensor
    cols: torch.Tensor
    values: torch.Tensor
    nodes: torch.Tensor
    lower: torch.Tensor
    sqrt_diag: np.ndarray


def reference_graph(a: scipy.sparse.sparray, dtype: torch.dtype) -> ReferenceGraph:
    """The first `graph_of`: A's COO triplets, np.maximum.at."""
    coo = scipy.sparse.coo_array(a)
    diagonal = np.asarray(a.diagonal(), dtype=np.float64)
    inv_sqrt = 1.0 / np.sqrt(diagonal)
    off = coo.row != coo.col
    rows, cols = coo.row[off].astype(np.int64), coo.col[off].astype(np.int64)
    values = coo.data[off] * inv_sqrt[rows] * inv_sqrt[cols]
    n = a.shape[0]
    magnitude = np.abs(values)
    row_sum = np.bincount(rows, weights=magnitude, minlength=n)
    row_max = np.zeros(n)
    np.maximum.at(row_max, rows, magnitude)
    count = np.bincount(rows, minlength=n) / 10.0
    nodes = np.stack([row_sum, row_max, count], axis=1)
    return ReferenceGraph(
        n=n,
        rows=torch.from_numpy(rows),
        cols=torch.from_numpy(cols),
        values=torch.from_numpy(values).to(dtype),
        nodes=torch.from_numpy(nodes).to(dtype),
        lower=torch.from_numpy(rows > cols),
        sqrt_diag=np.sqrt(diagonal),
    )


def reference_forward(net: GraphICNet, g: ReferenceGraph) -> tuple[torch.Tensor, torch.Tensor]:
    """The first forward pass: each edge update on [e, h_i, h_j] (width 3 hidden), each
    node's incoming edges summed by index_add_."""
    h = net.node_in(g.nodes)
    e = net.edge_in(g.values[:, None])
    for edge_update, node_update in zip(net.edge_updates, net.node_updates, strict=True):
        e = e + edge_update(torch.cat([e, h[g.rows], h[g.cols]], dim=1))
        incoming = torch.zeros_like(h).index_add_(0, g.rows, e)
        h = h + node_update(torch.cat([h, incoming], dim=1))
    off = g.values[g.lower] + net.edge_out(e[g.lower])[:, 0]
    shift = math.log(math.e - 1.0)
    diag = torch.nn.functional.softplus(net.node_out(h)[:, 0] + shift) + DIAGONAL_FLOOR
    return off, diag


def reference_factor(
    net: GraphICNet, a: scipy.sparse.sparray, dtype: torch.dtype
) -> scipy.sparse.csc_array:
    """The first timed call: graph, forward pass under no_grad, L from COO triplets, and the
    conversion `triangular_inverse` made of it."""
    g = reference_graph(a, dtype)
    with torch.no_grad():
        off, diag = reference_forward(net, g)
    n = g.n
    rows = np.concatenate([g.rows[g.lower].numpy(), np.arange(n)])
    cols = np.concatenate([g.cols[g.lower].numpy(), np.arange(n)])
    values = np.concatenate([off.double().numpy(), diag.double().numpy()])
    values *= g.sqrt_diag[rows]
    lower = scipy.sparse.csr_array((values, (rows, cols)), shape=(n, n))
    return triangular_inverse(lower).lower


def fast_factor(net: GraphICNet, a: scipy.sparse.sparray, dtype: torch.dtype):
    g = graph_of(a, dtype)
    return lower_factor(g, *net.infer(g))


def assert_same_factor(new, reference, *, rtol: float) -> None:
    """Same pattern (CSC arrays), entries within rtol of max |L|."""
    np.testing.assert_array_equal(new.indptr, reference.indptr)
    np.testing.assert_array_equal(new.indices, reference.indices)
    scale = float(np.abs(reference.data).max())
    np.testing.assert_allclose(new.data, reference.data, rtol=0, atol=rtol * scale)


@pytest.fixture(scope="module")
def method(tmp_path_factory):
    from nnbench.methods import select_methods

    chosen = select_methods([SMALL])[0]
    return chosen.setup(RunContext(folder=tmp_path_factory.mktemp("gic-speed")))


@pytest.fixture(scope="module")
def net64(method) -> GraphICNet:
    return copy.deepcopy(method.trained.net).double()


@pytest.mark.parametrize("family", FAMILIES)
def test_the_fast_forward_pass_gives_the_reference_factor_in_float64(net64, family):
    a = MATRIX_FAMILIES[family].make(1024, seed=11)
    assert_same_factor(
        fast_factor(net64, a, torch.float64),
        reference_factor(net64, a, torch.float64),
        rtol=1e-12,
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_the_timed_call_gives_the_reference_factor_in_float32(method, family):
    a = MATRIX_FAMILIES[family].make(256, seed=12)
    operator = method.compute(method.prepare(a, device="cpu"), rank=None, seed=0)["operator"]
    reference = reference_factor(method.trained.net, a, torch.float32)
    assert_same_factor(operator.lower, reference, rtol=1e-5)


def test_the_graph_reads_the_reference_features_exactly():
    a = MATRIX_FAMILIES["graph-laplacian"].make(512, seed=13)
    new, reference = graph_of(a, torch.float64), reference_graph(a, torch.float64)
    for name in ("rows", "cols", "values", "nodes", "lower"):
        torch.testing.assert_close(getattr(new, name), getattr(reference, name), rtol=0, atol=0)
    np.testing.assert_array_equal(new.sqrt_diag, reference.sqrt_diag)


def test_rows_without_neighbours_and_explicit_zeros_give_the_reference_factor(net64):
    """A node with no edge (its row's largest |a_ij| is 0, not the next row's) and a stored
    zero (an edge whose â_ij is 0) are read as the reference read them."""
    blocks = [MATRIX_FAMILIES["diffusion-2d"].make(64, seed=14), 2.0 * scipy.sparse.eye(3)]
    coo = scipy.sparse.coo_array(scipy.sparse.block_diag(blocks))
    rows, cols = np.append(coo.row, [0, 65]), np.append(coo.col, [65, 0])  # 64, 66 alone
    a = scipy.sparse.csr_array((np.append(coo.data, [0.0, 0.0]), (rows, cols)), shape=coo.shape)
    assert a.nnz == np.count_nonzero(a.data) + 2
    assert_same_factor(
        fast_factor(net64, a, torch.float64),
        reference_factor(net64, a, torch.float64),
        rtol=1e-12,
    )


def test_a_in_any_sparse_layout_gives_the_same_factor_and_is_left_unchanged(method):
    """Unsorted column indices, an entry split into duplicates, COO, CSC, a csr_matrix: the
    graph is read from A's canonical CSR, made on a copy."""
    net = method.trained.net
    a = MATRIX_FAMILIES["diffusion-2d"].make(256, seed=15)
    expected = fast_factor(net, a, torch.float32)
    shuffled = a.copy()
    for i in range(shuffled.shape[0]):
        span = slice(shuffled.indptr[i], shuffled.indptr[i + 1])
        shuffled.indices[span] = shuffled.indices[span][::-1]
        shuffled.data[span] = shuffled.data[span][::-1]
    shuffled.has_sorted_indices = False
    coo = scipy.sparse.coo_array(a)
    split = scipy.sparse.coo_array(
        (
            np.concatenate([coo.data / 2, coo.data / 2]),
            (np.concatenate([coo.row, coo.row]), np.concatenate([coo.col, coo.col])),
        ),
        shape=a.shape,
    )
    kept = shuffled.indices.copy()
    for other in (shuffled, coo, split, scipy.sparse.csc_array(a), scipy.sparse.csr_matrix(a)):
        assert_same_factor(fast_factor(net, other, torch.float32), expected, rtol=0)
    np.testing.assert_array_equal(shuffled.indices, kept)


def test_the_factor_reaches_the_compiled_solves_without_a_conversion(method):
    a = MATRIX_FAMILIES["graph-laplacian"].make(256, seed=16)
    lower = fast_factor(method.trained.net, a, torch.float32)
    applied = triangular_inverse(lower).lower
    for name in ("data", "indices", "indptr"):
        assert np.shares_memory(getattr(applied, name), getattr(lower, name)), name


def test_inference_records_no_autograd_graph(method):
    g = graph_of(MATRIX_FAMILIES["diffusion-2d"].make(64, seed=17))
    net = method.trained.net
    assert all(p.requires_grad for p in net.parameters())
    off, diag = net.infer(g)
    assert off.is_inference() and diag.is_inference()
    assert not off.requires_grad and off.grad_fn is None
