"""The learned sparse preconditioner (issue 24): a message-passing network over A's graph,
sparse end to end, an exactly positive diagonal, training seeds apart from every cell's, a
trained model kept and read back, and a clear refusal of what it cannot take."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import scipy.sparse
import torch

from nnbench.api import Grid, run_grid
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods import get_method
from nnbench.methods.amortized import AmortizedMethod, ModelStore
from nnbench.methods.amortized.graph_ic import (
    DIAGONAL_FLOOR,
    GraphICConfig,
    GraphICNet,
    graph_of,
    stochastic_loss,
)
from nnbench.methods.base import RunContext
from nnbench.methods.factorization import PreconditionerFactorization
from nnbench.running.cells import expand

SMALL = "amortized-gnn-ic[steps=30,count=4,sizes=64]"


@pytest.fixture(scope="module")
def method(tmp_path_factory):
    from nnbench.methods import select_methods

    chosen = select_methods([SMALL])[0]
    return chosen.setup(RunContext(folder=tmp_path_factory.mktemp("gic")))


def test_the_diagonal_is_exactly_positive_even_for_adversarial_weights():
    net = GraphICNet(hidden=8, layers=2)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(-50.0)  # drives the diagonal head's output far negative
    g = graph_of(MATRIX_FAMILIES["diffusion-2d"].make(64, seed=0))
    off, diag = net(g)
    assert torch.all(diag >= DIAGONAL_FLOOR) and torch.all(torch.isfinite(off))


def test_the_stochastic_loss_is_the_relative_frobenius_error_in_expectation():
    """E ||(L L^T - A) z||^2 / ||A z||^2 ~ ||L L^T - A||_F^2 / ||A||_F^2 (many probes)."""
    a = MATRIX_FAMILIES["diffusion-2d"].make(36, seed=1)
    g = graph_of(a, dtype=torch.float64)
    net = GraphICNet(hidden=4, layers=1).double()
    gen = torch.Generator().manual_seed(0)
    estimate = float(stochastic_loss(net, g, 20000, gen).detach())
    off, diag = (t.detach() for t in net(g))
    lower = torch.diag(diag)
    lower[g.rows[g.lower], g.cols[g.lower]] = off
    scaled = torch.from_numpy(a.toarray() / np.outer(g.sqrt_diag, g.sqrt_diag))
    exact = float(torch.sum((lower @ lower.T - scaled) ** 2) / torch.sum(scaled**2))
    assert estimate == pytest.approx(exact, rel=0.05)


def test_its_factor_has_the_pattern_of_tril_a_and_rebuilds_an_spd_m(method):
    a = MATRIX_FAMILIES["graph-laplacian"].make(256, seed=3)
    fact = method.factorize(a)
    assert isinstance(fact, PreconditionerFactorization)
    lower = fact.operator.lower
    pattern = scipy.sparse.tril(a, format="csr")
    assert scipy.sparse.csr_array(abs(lower) > 0).nnz <= pattern.nnz
    assert (abs(lower) - abs(lower).multiply(pattern != 0)).nnz == 0  # nothing off the pattern
    assert np.all(lower.diagonal() > 0)
    m = (lower @ lower.T).toarray()
    assert np.linalg.eigvalsh(m)[0] > 0


def test_sparse_end_to_end_at_n_65536(tmp_path):
    """Dense, A would be 32 GiB: the cell runs only if nothing is densified."""
    grid = Grid(matrices=("diffusion-2d",), methods=(SMALL,), sizes=(65536,))
    row = run_grid(grid, out=tmp_path / "res").results.iloc[0]
    assert row.status == "ok", row.reason
    assert row.cg_iterations > 0 and row.time_s > 0
    assert row.cg_total_s == pytest.approx(row.time_s + row.cg_solve_s)
    assert row.group == "amortized" and row.train_time_s > 0


def test_training_seeds_are_disjoint_from_every_cells_seeds():
    config = GraphICConfig()
    train = {seed for _, _, seed in config.train_matrices()}
    grid = Grid(matrices=config.families, methods=("cg-none",), sizes=config.sizes, repeats=50)
    cells = {cell.matrix_seed for cell in expand(grid)}
    assert len(train) == config.count and not train & cells


def test_a_trained_model_is_saved_and_read_back(tmp_path):
    """By the amortized framework's one store, on the CPU in float32 whatever the cells'."""
    config = GraphICConfig(steps=5, count=2, sizes=(64,))
    method = get_method("amortized-gnn-ic").with_config(config)
    assert isinstance(method, AmortizedMethod)
    logs: list[str] = []
    context = RunContext(folder=tmp_path, dtype="float64", log=logs.append)
    assert not method.has_trained_model(context)
    first, again = method.setup(context), method.setup(context)
    assert len(logs) == 1 and method.has_trained_model(context)  # trained once, then read
    store = ModelStore(tmp_path / "models")
    assert store.has(config, "cpu", "float32", code=method.code_hash)
    assert first.trained is not None and again.trained is not None
    g = graph_of(MATRIX_FAMILIES["diffusion-2d"].make(64, seed=9))
    with torch.no_grad():
        for x, y in zip(first.trained.net(g), again.trained.net(g), strict=True):
            torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert again.train_time_s == first.train_time_s and len(again.trained.loss) == 5


def test_what_it_cannot_take_is_refused_clearly(method):
    with pytest.raises(NNBenchError, match="needs a square matrix"):
        method.factorize(np.ones((4, 6)))
    not_spd = scipy.sparse.csr_array(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(SkipCell, match="symmetric positive definite"):
        method.factorize(not_spd)
    with pytest.raises(NNBenchError):
        GraphICConfig(steps=0)


def test_the_config_is_set_from_the_command_line_syntax():
    from nnbench.methods import select_methods

    chosen = select_methods(["amortized-gnn-ic[sizes=256+1024,families=diffusion-2d]"])[0]
    config = chosen.config
    assert config.sizes == (256, 1024) and config.families == ("diffusion-2d",)
    assert dataclasses.replace(config, steps=3).key != config.key
    assert not math.isnan(get_method("amortized-gnn-ic").config.lr)


def test_held_out_mtx_files_give_the_learned_method_ok_rows(tmp_path):
    import scipy.io

    matrices = []
    for family in ("diffusion-2d", "sparse-spd"):
        path = tmp_path / f"{family}.mtx"
        scipy.io.mmwrite(path, MATRIX_FAMILIES[family].make(1024, seed=4242))
        matrices.append(f"file:{path}")
    grid = Grid(matrices=tuple(matrices), methods=(SMALL, "cg-jacobi", "amg"))
    rows = run_grid(grid, out=tmp_path / "res").results
    assert (rows.status == "ok").all(), rows.reason
    assert rows[["time_s", "cg_solve_s", "cg_total_s", "cg_iterations"]].gt(0).all().all()


def test_the_study_headline_says_where_it_stands_first_on_the_page(tmp_path):
    from nnbench.report import build_report
    from nnbench.studies import report_sections
    from nnbench.studies.precond import headline

    grid = Grid(
        matrices=("diffusion-2d",), methods=(SMALL, "sparse-ic0", "amg", "cg-jacobi"),
        sizes=(256,), repeats=3,
    )  # fmt: skip
    res = run_grid(grid, out=tmp_path / "res")
    sentences = headline(res.results).headline.tolist()
    assert len(sentences) == 1 and "IC(0)" in sentences[0] and "AMG" in sentences[0]
    assert "[" in sentences[0] and "fastest classical method by total time" in sentences[0]
    build_report([res], tmp_path / "report", sections=report_sections())
    lines = (tmp_path / "report" / "report.md").read_text().splitlines()
    # the method's summary over all its problems first, then the per-family sentence
    assert lines[0] == "# nnbench report" and lines[2].startswith("amortized-gnn-ic")
    assert lines[4] == sentences[0]


def test_the_model_size_is_counted_right():
    from nnbench.methods.amortized.graph_ic import parameter_count

    for config in (GraphICConfig(), GraphICConfig(hidden=8, layers=1)):
        net = GraphICNet(config.hidden, config.layers)
        assert parameter_count(config) == sum(p.numel() for p in net.parameters())
