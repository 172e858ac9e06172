"""Streaming rank-k (issue 25 item 2): Frequent Directions' guarantee, the single pass, and a
Hebbian network that learns the top-k subspace from A's rows with updates only."""

from __future__ import annotations

import numpy as np
import pytest

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.methods import get_method, select_methods


def _fro_err(a: np.ndarray, fact) -> float:
    return float(np.linalg.norm(a - fact.reconstruct()))


@pytest.mark.parametrize("family", ["lowrank-noise", "image-crops", "random-gaussian"])
def test_frequent_directions_keeps_its_guarantee(family):
    """Projection error^2 <= (1 + k / (l - k)) ||A - A_k||_F^2 with l = 2k (Ghashami et al.)."""
    a = MATRIX_FAMILIES[family].make(128, seed=3)
    k = 8
    s = np.linalg.svd(a, compute_uv=False)
    optimum = float(np.sum(s[k:] ** 2))
    error = _fro_err(a, get_method("stream-fd").factorize(a, rank=k)) ** 2
    assert error <= 2.0 * optimum * (1 + 1e-9) + 1e-20


def test_single_pass_reads_a_once_and_beats_nothing_on_a_low_rank_matrix():
    method = get_method("stream-rsvd1")
    assert method.cost((200, 100), 5).passes == 1
    a = MATRIX_FAMILIES["lowrank"].make(64, seed=1)  # exactly rank 16: one pass is exact
    assert _fro_err(a, method.factorize(a, rank=16)) <= 1e-9 * np.linalg.norm(a)


def test_the_hebbian_network_learns_the_top_subspace_with_updates_only():
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((400, 3)))
    v, _ = np.linalg.qr(rng.standard_normal((40, 3)))
    a = (u * [10.0, 5.0, 2.0]) @ v.T + 0.01 * rng.standard_normal((400, 40))
    s = np.linalg.svd(a, compute_uv=False)
    optimum = float(np.sqrt(np.sum(s[3:] ** 2)))
    errors = [
        _fro_err(a, select_methods([f"neural-gha[epochs={e}]"])[0].factorize(a, rank=3))
        for e in (1, 30)
    ]
    assert errors[1] < errors[0] and errors[1] <= 2.0 * optimum
    method = get_method("neural-gha")
    assert method.group == "neural" and method.cost((400, 40), 3).passes == 4


def test_the_learned_sparse_sketch_keeps_countsketchs_sparsity(tmp_path):
    """One entry a column, at rows fixed before training (only the values learn), none empty."""
    import dataclasses

    import torch

    from nnbench.methods.amortized.models import SparseSketchNet
    from nnbench.methods.base import RunContext

    method = get_method("amortized-sparse-sketch")
    config = dataclasses.replace(method.config, n=48, count=8, steps=15, rows=12, rank=4)
    before = SparseSketchNet(config).get_buffer("bucket").clone()
    ready = method.with_config(config).setup(RunContext(folder=tmp_path))
    net = ready.trained.net
    s = net.sketch().detach()
    assert torch.equal(net.get_buffer("bucket"), before)
    assert torch.all((s != 0).sum(dim=0) == 1) and torch.all((s != 0).sum(dim=1) >= 1)
    assert not torch.equal(s.abs(), torch.ones_like(s).where(s != 0, 0.0))  # values learned
    assert method.cost((256, 256), 10).passes == 2


STREAMING_TERMS = [
    "neural-eigengame",
    "neural-eigengame[epochs=2,left=last-pass]",
    "stream-isvd",
    "stream-isvd[extra=3]",
]


@pytest.mark.parametrize("term", STREAMING_TERMS)
def test_the_new_streaming_methods_return_rank_k_factors_and_declare_their_cost(term):
    method = select_methods([term])[0]
    a = MATRIX_FAMILIES["random-gaussian"].make(50, seed=2)[:, :37]
    fact = method.factorize(a, rank=4, seed=5)
    assert fact.left.shape == (50, 4) and fact.right.shape == (4, 37)
    assert np.linalg.matrix_rank(fact.reconstruct()) <= 4
    again = method.factorize(a, rank=4, seed=5)
    assert np.array_equal(fact.reconstruct(), again.reconstruct())  # seeds reproduce
    cost = method.cost((10_000, 500), 10)
    expected = {"neural-eigengame": 4, "stream-isvd": 1}[method.base_name]
    if "left=last-pass" in term:
        expected = 2  # epochs passes: the left factor is gathered in the last one
    assert cost.passes == expected
    assert 0 < cost.memory_floats < 0.05 * 10_000 * 500  # a sketch's worth, not A's


def test_the_groups_follow_the_rule():
    assert get_method("neural-eigengame").group == "neural"  # update steps only
    assert get_method("stream-isvd").group == "classical"  # a QR and an SVD per block


def test_eigengame_seeds_change_its_start():
    a = MATRIX_FAMILIES["random-gaussian"].make(40, seed=0)
    method = get_method("neural-eigengame")
    first, second = (method.factorize(a, rank=3, seed=s).right for s in (1, 2))
    assert not np.allclose(first, second)


def _sines(found: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Sines of the principal angles between span(found) and span(top) (orthonormal top)."""
    q, _ = np.linalg.qr(found)
    return np.linalg.svd(q - top @ (top.T @ q), compute_uv=False)


def test_mu_eigengame_finds_the_top_singular_vectors_on_a_decaying_spectrum():
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((400, 3)))
    v, _ = np.linalg.qr(rng.standard_normal((40, 3)))
    a = (u * [10.0, 6.0, 4.0]) @ v.T + 0.01 * rng.standard_normal((400, 40))
    top = np.linalg.svd(a)[2][:3].T
    few, many = (
        select_methods([f"neural-eigengame[epochs={e}]"])[0].factorize(a, rank=3, seed=4)
        for e in (1, 20)
    )
    assert _sines(few.right.T, top).max() > 0.5  # one pass is not enough here
    assert _sines(many.right.T, top).max() < 0.05
    # each player its own vector, in order (EigenGame's point), each of unit norm
    cosines = np.abs(np.sum(many.right.T * top, axis=0))
    assert np.all(cosines > 0.99)
    np.testing.assert_allclose(np.linalg.norm(many.right, axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("shape", [(90, 70), (70, 90)])
def test_incremental_svd_is_exact_on_a_matrix_of_rank_at_most_k(shape):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((shape[0], 5)) @ rng.standard_normal((5, shape[1]))
    fact = select_methods(["stream-isvd[block=16]"])[0].factorize(a, rank=6)
    np.testing.assert_allclose(fact.reconstruct(), a, atol=1e-11 * np.linalg.norm(a))
    s = np.linalg.svd(a, compute_uv=False)
    np.testing.assert_allclose(np.linalg.norm(fact.left, axis=0)[:5], s[:5], rtol=1e-10)


def test_incremental_svd_keeping_more_is_at_least_as_good():
    a = MATRIX_FAMILIES["randsvd"].make(96, seed=2)
    s = np.linalg.svd(a, compute_uv=False)
    optimum = float(np.sqrt(np.sum(s[6:] ** 2)))
    plain, more = (
        _fro_err(a, select_methods([t])[0].factorize(a, rank=6))
        for t in ("stream-isvd", "stream-isvd[extra=12]")
    )
    assert optimum <= more <= plain * (1 + 1e-9) and more <= 1.05 * optimum


def _row(method, group, passes, error, *, matrix="lowrank-noise", time_s=1.0):
    """A results row of a 64 x 64 rank-5 problem whose rank-k excess is `error`."""
    return {
        "kind": "rank-k", "status": "ok", "matrix": matrix, "n": 64, "n_rows": 64,
        "n_cols": 64, "rank": 5, "dtype": "float64", "device": "cpu", "method": method,
        "method_base": "neural-gha" if group == "neural" else method, "group": group,
        "passes": passes, "memory_floats": 64.0 * 5,
        "time_s": time_s, "opt_err_2": 0.5, "opt_err_fro": 0.5, "rel_err_2": 0.5 + 0.5 * error,
        "rel_err_fro": 0.5 + 0.5 * error, "expected_rank": 64,
    }  # fmt: skip


def test_the_cost_model_verdict_picks_each_groups_best_within_each_budget():
    import math

    import pandas as pd

    from nnbench.report.costs import by_cost_model, cost_model_verdict

    nan = math.nan
    frame = pd.DataFrame(
        [
            _row("c-one", "classical", 1, 0.1),
            _row("c-few", "classical", 4, 0.01),
            _row("c-dense", "classical", nan, 0.0, time_s=9.0),  # reads A at random
            _row("c-exact", "classical", 20, 0.0, time_s=2.0),  # as exact, faster
            _row("n-one", "neural", 1, 0.1, time_s=0.5),  # ties c-one: same error
            _row("n-few", "neural", 3, 0.001),
            _row("n-many", "neural", 5, 0.0005),  # over the few-pass budget
            _row("c-one", "classical", 1, 0.2, matrix="randsvd"),
            _row("n-few", "neural", 3, 0.3, matrix="randsvd"),
        ]
    )
    table = by_cost_model(frame).set_index(["cost model", "matrix"])
    one, few, unlimited = (
        table.loc[(c, "lowrank-noise")] for c in ("one pass", "few passes", "unlimited")
    )
    assert (one["classical: best"], one["neural: best"]) == ("c-one", "n-one")
    assert one.winner == "tie: classical = neural"
    assert (few["classical: best"], few["neural: best"], few.winner) == ("c-few", "n-few", "neural")
    assert unlimited["classical: best"] == "c-exact" and unlimited.winner == "classical"
    np.testing.assert_allclose(few["neural: excess"], 0.001)
    assert few["neural: memory (x mn)"] == 5 / 64
    other = table.loc[("one pass", "randsvd")]
    assert other["neural: best"] == "none fits"
    assert other.winner == "classical (neural: none fits)"
    verdict = cost_model_verdict(frame).set_index("cost model")
    assert verdict.loc["one pass", ["classical: wins", "neural: wins", "ties"]].tolist() == [
        1,
        0,
        1,
    ]
    assert verdict.loc["few passes", ["classical: wins", "neural: wins"]].tolist() == [1, 1]
    assert "tied on 1 (classical = neural on 1;" in verdict.loc["one pass", "headline"]
    assert by_cost_model(frame[frame.group == "classical"]).empty  # no streaming network


def test_the_cost_model_verdict_knows_every_streaming_network():
    from nnbench.methods import METHODS
    from nnbench.methods.streaming import STREAMING_METHODS
    from nnbench.report.costs import STREAMING_NETWORKS

    networks = {m.name for m in STREAMING_METHODS if m.group != "classical"}
    assert networks == set(STREAMING_NETWORKS) and networks <= set(METHODS)
