"""The learned sparse sketch's positions option (heavy rows by ridge leverage scores, Li et al.
ICLR 2023), the moving-crop family it trains on, and the learned-sketch study's seeds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import on_quick_run

from nnbench import corpus
from nnbench.corpus import MATRIX_FAMILIES, MatrixFamily
from nnbench.corpus.images import frame_shape
from nnbench.errors import NNBenchError
from nnbench.methods import get_method
from nnbench.methods.amortized import AmortizedConfig, train, train_seeds
from nnbench.methods.amortized.config import POSITIONS
from nnbench.methods.amortized.models import PLACEMENTS, ridge_leverage_scores
from nnbench.methods.sketch import best_in_row_space
from nnbench.running.cells import expand
from nnbench.seeds import derive_seed
from nnbench.studies import STUDIES

HEAVY = (3, 11, 20, 29, 38, 45)  # rows of A that carry most of its energy, in every instance


def heavy_rows(n: int, rng: np.random.Generator) -> np.ndarray:
    """Light Gaussian rows, and the rows `HEAVY` ten times larger (a new draw every seed)."""
    a = 0.3 * rng.standard_normal((n, n))
    a[list(HEAVY)] = 3.0 * rng.standard_normal((len(HEAVY), n))
    return a


@pytest.fixture
def heavy_family(monkeypatch):
    family = MatrixFamily("test-heavy-rows", heavy_rows, frozenset({"square"}), "heavy rows")
    monkeypatch.setitem(corpus.MATRIX_FAMILIES, family.name, family)
    return family


def _config(**changes) -> AmortizedConfig:
    base = AmortizedConfig(
        structure="sparse-sketch", families=("test-heavy-rows",), n=48, count=24, steps=30,
        batch_size=8, lr=5e-2, rank=6, rows=12,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def _excess(sketch: torch.Tensor, family: MatrixFamily, n: int, k: int) -> float:
    """Median ||A - A_k||_F / optimum - 1 over held-out instances (seeds of no training set)."""
    out = []
    for i in range(8):
        a = torch.from_numpy(family.make(n, seed=derive_seed("held-out", i))).float()
        left, right = best_in_row_space(a, sketch @ a, k)
        s = torch.linalg.svdvals(a.double())
        optimum = float(torch.sqrt((s[k:] ** 2).sum()))
        out.append(float(torch.linalg.matrix_norm((a - left @ right).double())) / optimum - 1)
    return float(np.median(out))


def test_every_position_rule_is_a_config_choice():
    assert set(PLACEMENTS) == set(POSITIONS)
    with pytest.raises(NNBenchError, match="unknown positions"):
        _config(positions="greedy")
    with pytest.raises(NNBenchError, match="heavy"):
        _config(heavy=12)
    with pytest.raises(NNBenchError, match="sparse sketch only"):
        AmortizedConfig(structure="sketch", n=64, positions="learned")
    assert AmortizedConfig(families="a+b").families == ("a", "b")  # as a command-line option


def test_ridge_leverage_scores_find_the_heavy_rows_and_sum_to_at_most_2k():
    a = torch.from_numpy(np.stack([heavy_rows(48, np.random.default_rng(s)) for s in range(4)]))
    scores = ridge_leverage_scores(a, 6)
    assert scores.shape == (4, 48)
    assert torch.all(scores.sum(-1) <= 2 * 6 + 1e-9)
    top = torch.argsort(scores.mean(0), descending=True)[: len(HEAVY)]
    assert sorted(top.tolist()) == list(HEAVY)


def test_learned_positions_give_each_heavy_row_a_row_of_its_own(heavy_family):
    trained = train(_config(positions="learned"))
    bucket = trained.net.get_buffer("bucket")
    s = trained.net.sketch().detach()
    counts = torch.bincount(bucket, minlength=12)
    assert sorted(bucket[list(HEAVY)].tolist()) == list(range(len(HEAVY)))
    assert torch.all(counts[: len(HEAVY)] == 1) and torch.all(counts >= 1)
    assert torch.all((s != 0).sum(dim=0) == 1)  # CountSketch's sparsity: one entry a column
    again = train(_config(positions="learned"))  # the same seed: the same sketch
    assert torch.equal(again.net.get_buffer("bucket"), bucket)
    assert torch.equal(again.net.sketch().detach(), s)
    other = train(_config(positions="learned", seed=1)).net.get_buffer("bucket")
    assert sorted(other[list(HEAVY)].tolist()) == list(range(len(HEAVY)))  # found again
    assert not torch.equal(other, bucket)  # another seed: the light rows hash elsewhere
    assert trained.train_time_s > 0


def test_learned_positions_beat_random_positions_when_a_few_rows_are_heavy(heavy_family):
    sketches = {p: train(_config(positions=p)).net.sketch().detach() for p in POSITIONS}
    excess = {p: _excess(s, heavy_family, 48, 6) for p, s in sketches.items()}
    assert excess["learned"] < 0.5 * excess["random"], excess


def _moves_one_pixel_a_frame(a: np.ndarray, h: int, w: int) -> bool:
    """Whether each column of A, as an h x w frame, is the previous one shifted by one step
    (dy, dx in -1, 0, 1): equal on their overlap, as frames of a moving window are."""
    frames = a.T.reshape(a.shape[1], h, w)
    return all(
        any(
            np.array_equal(
                frames[t + 1][max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)],
                frames[t][max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)],
            )
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
        for t in range(a.shape[1] - 1)
    )


@pytest.mark.parametrize(("n", "seed"), [(256, 0), (256, 5), (1024, 2), (35, 1)])
def test_moving_crop_frames_are_a_window_moving_one_pixel_a_frame(n, seed):
    family = MATRIX_FAMILIES["image-moving-crop"]
    a = family.make(n, seed=seed)
    h, w = frame_shape(n)
    assert a.shape == (n, n) == family.shape(n) and h * w == n and h <= w
    assert np.array_equal(a, family.make(n, seed=seed))
    assert _moves_one_pixel_a_frame(a, h, w)
    assert not np.array_equal(a[:, 0], a[:, 1])  # it moves
    shuffled = a[:, np.random.default_rng(0).permutation(n)]  # the same frames, out of order
    assert not _moves_one_pixel_a_frame(shuffled, h, w)
    assert not np.array_equal(a, family.make(n, seed=seed + 1))


def test_moving_crop_frames_are_16_by_16_at_256_columns_and_strips_at_a_prime():
    assert frame_shape(256) == (16, 16) and frame_shape(1024) == (32, 32)
    assert frame_shape(35) == (5, 7) and frame_shape(13) == (1, 13)


def test_the_studys_training_seeds_never_meet_its_cells():
    learned = 0
    study = STUDIES["learned-sketch"]
    for cell in (c for grids in (study.grids, study.quick) for g in grids for c in expand(g)):
        if cell.method.base_name != "amortized-sparse-sketch":
            continue
        learned += 1
        training = {seed for _, seed in train_seeds(cell.method.config)}
        assert training.isdisjoint(cell.instance_seeds)
        assert cell.family.name in cell.method.config.families or cell.family.name in (
            "lowrank-noise",
            "randsvd",
        )
    assert learned > 0
    assert get_method("amortized-sparse-sketch").config.positions == "random"


@on_quick_run("learned-sketch")
def test_the_studys_headline_puts_the_learned_sketch_beside_countsketch_and_sketch_pca(quick_run):
    from nnbench.studies.sketches import headline

    res, _ = quick_run("learned-sketch")
    words = headline(res)
    assert words and all(w.startswith("Sketches, ") for w in words)
    assert all("CountSketch" in w and "sketch-pca" in w and "[" in w for w in words)
