"""A learned sparse preconditioner worth the name (issue 24): a message-passing network over
A's sparsity graph predicts L on the pattern of tril(A), trained once on a distribution of
sparse SPD systems and applied to unseen ones, sparse end to end (NeuralIF: Hausner, Oktem &
Sjolund, TMLR 2024).

- The system is Jacobi-scaled first, Â = D^-1/2 A D^-1/2 (unit diagonal: the network sees
  every matrix at one scale), and L = D^1/2 L̂, so M = L L^T = D^1/2 L̂ L̂^T D^1/2.
- Graph: one node per row (features: the row's off-diagonal |â| sum and largest entry, its
  number of neighbours / 10), one edge per off-diagonal nonzero, both directions (feature
  â_ij). `layers` rounds of message passing: each edge is updated from its two ends, each node
  from the sum of its incoming edges (O(nnz), plain torch, no n x n array). Inference
  (`GraphICNet.infer`, the timed call) computes the same maps without autograd, in place,
  gathering the nodes' projections to the edges and summing by a CSR product.
- Output: l̂_ij = â_ij + o_ij on the strictly lower edges (the network corrects tril(Â)), and
  l̂_ii = softplus(o_i + c) + 1e-3 with softplus(c) = 1: a diagonal that is exactly positive
  (so M is SPD by construction) and starts at 1.
- Loss: NeuralIF's stochastic Frobenius loss ||(L̂ L̂^T - Â) z||^2 / ||Â z||^2, z ~ N(0, I)
  (`probes` columns), whose expectation is ||L̂ L̂^T - Â||_F^2 relative to ||Â||_F^2.
- Applying M^-1 is two sparse triangular solves, as for IC(0) (`preconditioners`).

Training matrices: `families` x `sizes`, `count` of them, seeds in the training namespace
(`amortized.config.TRAIN_NAMESPACE`), disjoint from every cell's. A model of the amortized
framework (`GRAPH_IC`): its one training loop (Adam, cosine-annealed; here one matrix a step,
on the CPU in float32) and its one store (model and loss curve under the run's folder, by
config and code).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse
import torch

from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods.amortized.config import TRAIN_NAMESPACE
from nnbench.methods.amortized.model import Model
from nnbench.methods.preconditioners import SPD, spd_only, triangular_inverse
from nnbench.seeds import derive_seed

DIAGONAL_FLOOR = 1e-3  # l̂_ii >= this: exactly positive, in the Jacobi-scaled system
DIAGONAL_SHIFT = math.log(math.e - 1.0)  # softplus(DIAGONAL_SHIFT) = 1
NODE_FEATURES = 3


@dataclass(frozen=True, kw_only=True)
class GraphICConfig:
    """What the learned preconditioner is trained on and how (`[steps=..,count=..]` on the
    command line)."""

    structure: ClassVar[str] = "graph-ic"  # its model in `MODELS`
    families: tuple[str, ...] = ("diffusion-2d", "graph-laplacian")
    sizes: tuple[int, ...] = (256, 1024)
    count: int = 64
    steps: int = 800
    probes: int = 8
    hidden: int = 16
    layers: int = 3
    lr: float = 3e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.families, str):
            object.__setattr__(self, "families", tuple(self.families.split("+")))
        if isinstance(self.sizes, str | int):
            sizes = str(self.sizes).split("+")
            object.__setattr__(self, "sizes", tuple(int(s) for s in sizes))
        whole = (self.count, self.steps, self.probes, self.hidden, self.layers)
        if min(whole) < 1 or not self.families or min(self.sizes) < 4 or not self.lr > 0:
            raise NNBenchError(
                f"graph preconditioner config {self}",
                "use count, steps, probes, hidden, layers >= 1, sizes >= 4 and lr > 0",
            )

    @property
    def key(self) -> str:
        return hashlib.blake2b(repr(self).encode(), digest_size=6).hexdigest()

    def small_budget(self) -> GraphICConfig:
        """A few steps on two small matrices."""
        return dataclasses.replace(self, steps=min(self.steps, 10), count=2, sizes=(64,))

    def train_matrices(self) -> list[tuple[str, int, int]]:
        """(family, n, seed) of each training matrix, seeds in the training namespace."""
        return [
            (
                self.families[i % len(self.families)],
                self.sizes[(i // len(self.families)) % len(self.sizes)],
                derive_seed(TRAIN_NAMESPACE, "graph-ic", self.seed, i),
            )
            for i in range(self.count)
        ]


@dataclass(frozen=True)
class Graph:
    """A sparse SPD A as the network reads it: Jacobi-scaled entries on its edges, in the
    order of A's canonical CSR (edges into node i are `indptr[i]:indptr[i + 1]`)."""

    n: int
    rows: torch.Tensor  # (E,) off-diagonal edges i <- j, both directions, sorted by i then j
    cols: torch.Tensor
    values: torch.Tensor  # â_ij on those edges
    nodes: torch.Tensor  # (n, NODE_FEATURES)
    lower: torch.Tensor  # (E,) bool: i > j, the edges that carry an entry of L̂
    lower_edges: torch.Tensor  # (m,) int64: the positions of `lower`'s True, in order
    indptr: np.ndarray  # (n + 1,) int64
    incoming: torch.Tensor  # (n, E) sparse CSR of ones: incoming @ e sums each node's edges
    sqrt_diag: np.ndarray  # D^1/2, to unscale L̂


def _canonical_csr(a: Any) -> scipy.sparse.csr_array:
    """A as CSR with sorted column indices and no duplicates: no copy when it already is
    (a corpus instance is); the caller's matrix is never changed."""
    if isinstance(a, scipy.sparse.csr_array) and a.has_canonical_format:
        return a
    csr = scipy.sparse.csr_array(a, copy=True)
    csr.sum_duplicates()  # sorts too
    return csr


def _incidence(indptr: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """(n, E) sparse CSR with a one at (i, p) for each edge p into node i. int32 indices:
    torch's CSR product (MKL) converts int64 ones on every call."""
    edges = int(indptr[-1])
    with warnings.catch_warnings():  # "sparse CSR support is in beta": once per process
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(indptr.astype(np.int32)),
            torch.arange(edges, dtype=torch.int32),
            torch.ones(edges, dtype=dtype),
            size=(indptr.size - 1, edges),
            check_invariants=False,
        )


def graph_of(a: Any, dtype: torch.dtype = torch.float32) -> Graph:
    """`a` (scipy.sparse, SPD, positive diagonal) as a `Graph`: O(nnz), nothing n x n, read
    from A's CSR arrays as they are (no COO conversion)."""
    csr = _canonical_csr(a)
    n = csr.shape[0]
    diagonal = np.asarray(csr.diagonal(), dtype=np.float64)
    if np.any(diagonal <= 0):
        raise SkipCell("the learned preconditioner needs a positive diagonal (an SPD matrix)")
    inv_sqrt = 1.0 / np.sqrt(diagonal)
    every_row = np.repeat(np.arange(n), np.diff(csr.indptr))
    off = csr.indices != every_row
    rows, cols = every_row[off], csr.indices[off].astype(np.int64)
    values = csr.data[off] * inv_sqrt[rows] * inv_sqrt[cols]
    off_before = np.zeros(off.size + 1, dtype=np.int64)  # off-diagonal entries before each
    np.cumsum(off, out=off_before[1:])
    indptr = off_before[csr.indptr]
    counts = np.diff(indptr)
    magnitude = np.abs(values)
    row_sum = np.bincount(rows, weights=magnitude, minlength=n)
    row_max = np.zeros(n)
    filled = counts > 0  # reduceat reads an empty segment as its next entry
    if magnitude.size:
        row_max[filled] = np.maximum.reduceat(magnitude, indptr[:-1][filled])
    nodes = np.stack([row_sum, row_max, counts / 10.0], axis=1)
    lower = rows > cols
    return Graph(
        n=n,
        rows=torch.from_numpy(rows),
        cols=torch.from_numpy(cols),
        values=torch.from_numpy(values).to(dtype),
        nodes=torch.from_numpy(nodes).to(dtype),
        lower=torch.from_numpy(lower),
        lower_edges=torch.from_numpy(np.flatnonzero(lower)),
        indptr=indptr,
        incoming=_incidence(indptr, dtype),
        sqrt_diag=np.sqrt(diagonal),
    )


def _mlp(inputs: int, hidden: int, outputs: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, outputs)
    )


class GraphICNet(torch.nn.Module):
    """Message passing over A's graph -> L̂'s entries (see the module's docstring)."""

    def __init__(self, hidden: int, layers: int) -> None:
        super().__init__()
        self.node_in = torch.nn.Linear(NODE_FEATURES, hidden)
        self.edge_in = torch.nn.Linear(1, hidden)
        self.edge_updates = torch.nn.ModuleList(
            _mlp(3 * hidden, hidden, hidden) for _ in range(layers)
        )
        self.node_updates = torch.nn.ModuleList(
            _mlp(2 * hidden, hidden, hidden) for _ in range(layers)
        )
        self.edge_out = _mlp(hidden, hidden, 1)
        self.node_out = _mlp(hidden, hidden, 1)
        for head in (self.edge_out, self.node_out):  # start at L̂ = tril(Â) + I
            last = head[-1]
            assert isinstance(last, torch.nn.Linear)
            torch.nn.init.zeros_(last.weight)
            torch.nn.init.zeros_(last.bias)

    def forward(self, g: Graph) -> tuple[torch.Tensor, torch.Tensor]:
        """(l̂ on the strictly lower edges, in `g.lower`'s order; l̂_ii, exactly positive)."""
        h = self.node_in(g.nodes)
        e = self.edge_in(g.values[:, None])
        for edge_update, node_update in zip(self.edge_updates, self.node_updates, strict=True):
            e = e + edge_update(torch.cat([e, h[g.rows], h[g.cols]], dim=1))
            incoming = torch.zeros_like(h).index_add_(0, g.rows, e)
            h = h + node_update(torch.cat([h, incoming], dim=1))
        off = g.values[g.lower] + self.edge_out(e[g.lower])[:, 0]
        diag = (
            torch.nn.functional.softplus(self.node_out(h)[:, 0] + DIAGONAL_SHIFT) + DIAGONAL_FLOOR
        )
        return off, diag

    @torch.inference_mode()
    def infer(self, g: Graph) -> tuple[torch.Tensor, torch.Tensor]:
        """`forward`'s (off, diag) to rounding, for inference only: no autograd record, and
        the first linear map of each edge update split by the blocks of its input, so that
        h's two blocks are projected on the n nodes and then gathered to the E edges (not
        gathered at width 3 hidden and then multiplied); in place on two (E, hidden)
        buffers; each node's incoming edges summed by a CSR product (`g.incoming`)."""
        hidden = self.node_in.out_features
        h = self.node_in(g.nodes)
        e = torch.addmm(self.edge_in.bias, g.values[:, None], self.edge_in.weight.T)
        pre, gathered = torch.empty_like(e), torch.empty_like(e)
        for edge_update, node_update in zip(self.edge_updates, self.node_updates, strict=True):
            first, second = _linears(edge_update)
            on_edge, on_row, on_col = first.weight.split(hidden, dim=1)
            torch.index_select(torch.addmm(first.bias, h, on_row.T), 0, g.rows, out=pre)
            torch.index_select(h @ on_col.T, 0, g.cols, out=gathered)
            pre.add_(gathered).addmm_(e, on_edge.T).relu_()
            e.addmm_(pre, second.weight.T).add_(second.bias)
            incoming = g.incoming @ e
            first, second = _linears(node_update)
            on_self, on_incoming = first.weight.split(hidden, dim=1)
            pre_node = torch.addmm(first.bias, h, on_self.T).addmm_(incoming, on_incoming.T)
            h = torch.addmm(h, pre_node.relu_(), second.weight.T).add_(second.bias)
        lower = torch.index_select(e, 0, g.lower_edges, out=gathered[: g.lower_edges.numel()])
        off = self.edge_out(lower)[:, 0].add_(g.values[g.lower_edges])
        diag = torch.nn.functional.softplus(self.node_out(h)[:, 0] + DIAGONAL_SHIFT)
        return off, diag.add_(DIAGONAL_FLOOR)


def _linears(mlp: torch.nn.Module) -> tuple[torch.nn.Linear, torch.nn.Linear]:
    """The two linear maps of an `_mlp`."""
    first, _, second = mlp.children()
    assert isinstance(first, torch.nn.Linear) and isinstance(second, torch.nn.Linear)
    return first, second


def lower_factor(g: Graph, off: torch.Tensor, diag: torch.Tensor) -> scipy.sparse.csc_array:
    """L = D^1/2 L̂ (float64) as CSC with sorted rows and its diagonal first in each column,
    the layout `triangular_inverse` applies without conversion. L̂'s strictly lower edges
    come in A's row order; scipy's CSR -> CSC (a counting sort, O(m + n)) reorders them by
    column."""
    n, m = g.n, g.lower_edges.numel()
    lower_edges = g.lower_edges.numpy()
    lower_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(g.rows.numpy()[lower_edges], minlength=n), out=lower_ptr[1:])
    cols = g.cols.numpy()[lower_edges]
    by_column = scipy.sparse.csr_array((np.arange(m), cols, lower_ptr), shape=(n, n)).tocsc()
    indptr = by_column.indptr + np.arange(n + 1)  # each column gains its diagonal, first
    first = indptr[:-1]
    below = np.ones(m + n, dtype=bool)
    below[first] = False
    indices = np.empty(m + n, dtype=by_column.indices.dtype)
    indices[first] = np.arange(n)
    indices[below] = by_column.indices
    data = np.empty(m + n)
    data[first] = diag.numpy().astype(np.float64) * g.sqrt_diag
    data[below] = off.numpy().astype(np.float64)[by_column.data] * g.sqrt_diag[by_column.indices]
    lower = scipy.sparse.csc_array((data, indices, indptr), shape=(n, n))
    lower.has_sorted_indices = True
    return lower


def parameter_count(config: GraphICConfig) -> int:
    """GraphICNet's trainable parameters, counted from its shape (no net built: no RNG drawn)."""
    h = config.hidden

    def linear(inputs: int, outputs: int) -> int:
        return inputs * outputs + outputs

    def mlp(inputs: int, outputs: int) -> int:
        return linear(inputs, h) + linear(h, outputs)

    per_layer = mlp(3 * h, h) + mlp(2 * h, h)
    return linear(NODE_FEATURES, h) + linear(1, h) + config.layers * per_layer + 2 * mlp(h, 1)


def _lower_times(g: Graph, off: torch.Tensor, diag: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L̂ y for y (n, p)."""
    rows, cols = g.rows[g.lower], g.cols[g.lower]
    return (diag[:, None] * y).index_add(0, rows, off[:, None] * y[cols])


def _lower_t_times(
    g: Graph, off: torch.Tensor, diag: torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    """L̂^T z for z (n, p)."""
    rows, cols = g.rows[g.lower], g.cols[g.lower]
    return (diag[:, None] * z).index_add(0, cols, off[:, None] * z[rows])


def _a_times(g: Graph, z: torch.Tensor) -> torch.Tensor:
    """Â z (unit diagonal)."""
    return z.index_add(0, g.rows, g.values[:, None] * z[g.cols])


def stochastic_loss(net: GraphICNet, g: Graph, probes: int, gen: torch.Generator) -> torch.Tensor:
    """||(L̂ L̂^T - Â) z||^2 / ||Â z||^2 over `probes` Gaussian columns z."""
    off, diag = net(g)
    z = torch.randn(g.n, probes, generator=gen, dtype=g.values.dtype)
    az = _a_times(g, z)
    residual = _lower_times(g, off, diag, _lower_t_times(g, off, diag, z)) - az
    return torch.sum(residual**2) / torch.sum(az**2)


def _training_graphs(config: GraphICConfig, dtype: torch.dtype, device: str) -> list[Graph]:
    """The training matrices as graphs (on the CPU: `GRAPH_IC.trains_on`)."""
    from nnbench.corpus import MATRIX_FAMILIES

    return [
        graph_of(MATRIX_FAMILIES[family].make(n, seed=seed), dtype)
        for family, n, seed in config.train_matrices()
    ]


def _one_graph_a_step(
    graphs: list[Graph], gen: torch.Generator, config: GraphICConfig
) -> Iterator[Graph]:
    """`config.steps` training graphs, drawn with replacement, in an order drawn at once."""
    order = torch.randint(0, len(graphs), (config.steps,), generator=gen)
    return (graphs[int(i)] for i in order)


def _loss(
    net: torch.nn.Module, g: Graph, gen: torch.Generator, config: GraphICConfig
) -> torch.Tensor:
    assert isinstance(net, GraphICNet)
    return stochastic_loss(net, g, config.probes, gen)


def _build(config: GraphICConfig) -> GraphICNet:
    return GraphICNet(config.hidden, config.layers)


def _infer(net: torch.nn.Module, a: Any, config: GraphICConfig, rank: int | None) -> dict[str, Any]:
    """The timed call: A's graph, the network's forward pass and the assembly of the sparse L
    (what a user must do before CG can start); M^-1 applies it by two triangular solves."""
    assert isinstance(net, GraphICNet)
    g = graph_of(a)
    off, diag = net.infer(g)
    return {"operator": triangular_inverse(lower_factor(g, off, diag))}


GRAPH_IC = Model(
    kind="precond",
    build=_build,
    data=_training_graphs,
    batches=_one_graph_a_step,
    loss=_loss,
    infer=_infer,
    loss_formula="||(L L^T - A) z||^2 / ||A z||^2, z ~ N(0, I), Jacobi-scaled A",
    init="L̂ = tril(Â) + I (zero output heads)",
    sparse=True,
    trains_on=("cpu", "float32"),  # one model, whatever the cells' device and dtype
    parameters=parameter_count,
    requires=SPD,
    check=spd_only,
)
