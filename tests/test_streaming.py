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
