"""The corpus: determinism, shapes, dtypes, every tag verified numerically, selection, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse
from conftest import instance_id, instances

from nnbench.corpus import (
    MATRIX_FAMILIES,
    TAG_CHECKS,
    file_family,
    numerical_rank,
    select_matrices,
)
from nnbench.corpus.generators import singular_values
from nnbench.errors import NNBenchError

INSTANCES = instances()


@pytest.mark.parametrize("item", INSTANCES, ids=instance_id)
def test_every_tag_holds_numerically(item):
    family, n = item
    for seed in (0, 1):
        a = family.make(n, seed=seed)
        if family.name == "needs-pivoting" and n is not None and n < 2:
            continue
        for tag in family.tags:
            assert TAG_CHECKS[tag](a), f"{family.name} n={n} seed={seed} fails tag {tag!r}"


@pytest.mark.parametrize("item", INSTANCES, ids=instance_id)
def test_numeric_tags_hold(item):
    family, n = item
    if not family.sizable:
        return
    a = family.make(n, seed=3)
    values = family.tag_values(n)
    if "rank" in values:
        assert numerical_rank(a) == values["rank"]
    if "cond" in values and values["cond"] > 0:
        assert np.linalg.cond(a) == pytest.approx(values["cond"], rel=1e-6)
    if "effective_rank" in values:
        s = np.linalg.svd(a, compute_uv=False)
        r = int(values["effective_rank"])
        if r < min(a.shape):
            assert s[r] / s[0] < 1e-5 < s[r - 1] / s[0]


@pytest.mark.parametrize("item", INSTANCES, ids=instance_id)
def test_deterministic_shape_and_dtype(item):
    family, n = item
    a = family.make(n, seed=7)
    assert np.array_equal(a, family.make(n, seed=7))
    assert a.shape == family.shape(n)
    assert a.dtype == np.float64 and a.flags.c_contiguous and np.all(np.isfinite(a))
    a32 = family.make(n, seed=7, dtype="float32")
    assert a32.dtype == np.float32
    np.testing.assert_allclose(a32, a, rtol=1e-6, atol=1e-6 * np.abs(a).max())


@pytest.mark.parametrize(
    "name", ["random-uniform", "random-gaussian", "symmetric", "spd", "randsvd", "lowrank"]
)
def test_random_families_depend_on_seed(name):
    family = MATRIX_FAMILIES[name]
    assert not np.array_equal(family.make(6, seed=0), family.make(6, seed=1))


def test_study_numbers_follow_from_the_diagonal_conventions():
    # Study 002 reports SVD error 0.5918 for M_50, k = 20; that is 29/49 for diag(0..49).
    for name, expected in (("diagonal-mn0", 29 / 49), ("diagonal-mn", 30 / 50)):
        s = np.linalg.svd(MATRIX_FAMILIES[name].make(50), compute_uv=False)
        assert s[20] / s[0] == pytest.approx(expected, rel=1e-12)


def test_alphabet_is_900_by_26_full_rank_with_low_effective_rank():
    a = MATRIX_FAMILIES["alphabet"].make()
    assert a.shape == (900, 26) and numerical_rank(a) == 26
    s = np.linalg.svd(a, compute_uv=False)
    assert s[0] / s[1] > 1.5  # one dominant direction: the average letter


def test_randsvd_modes():
    np.testing.assert_allclose(singular_values(4, 1e3, "geometric"), [1, 0.1, 0.01, 0.001])
    np.testing.assert_allclose(singular_values(3, 10, "one-small"), [1, 1, 0.1])
    with pytest.raises(ValueError, match="mode"):
        singular_values(3, 10, "nope")


def test_unknown_parameter_is_refused():
    with pytest.raises(NNBenchError, match="has no parameter 'cnd'.*cond"):
        MATRIX_FAMILIES["randsvd"].make(4, cnd=3)


def test_selection_by_name_tag_and_all():
    names = [f.name for f in select_matrices("identity,spd")]
    assert names == ["identity", "spd"]
    spd = {f.name for f in select_matrices("tag:spd")}
    assert {"identity", "diagonal-mn", "spd"} <= spd and "random-gaussian" not in spd
    square_no_image = select_matrices("tag:square+!image")
    assert all("square" in f.tags and "image" not in f.tags for f in square_no_image)
    assert len(select_matrices("all")) == len(MATRIX_FAMILIES)
    assert [f.name for f in select_matrices("spd,tag:spd")].count("spd") == 1


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("idenity", "unknown matrix 'idenity'.*did you mean 'identity'"),
        ("tag:spdd", "unknown tag 'spdd'"),
        ("tag:spd+rectangular", "matches no matrices"),
        ("", "no matrices selected"),
    ],
)
def test_bad_selectors(selector, message):
    with pytest.raises(NNBenchError, match=message):
        select_matrices(selector)


def _write(path: Path, a: np.ndarray) -> str:
    if path.suffix == ".npy":
        np.save(path, a)
    elif path.suffix == ".csv":
        np.savetxt(path, a, delimiter=",")
    elif path.suffix == ".mtx":
        scipy.io.mmwrite(path, scipy.sparse.coo_matrix(a))
    return str(path)


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".mtx"])
def test_user_files_load_with_inferred_tags(tmp_path, suffix):
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    family = select_matrices(f"file:{_write(tmp_path / ('m' + suffix), a)}")[0]
    np.testing.assert_array_equal(family.make(), a)
    assert {"square", "symmetric", "spd"} <= family.tags
    assert family.fixed_shape == (3, 3)


def test_image_file_loads_as_gray(tmp_path):
    from skimage.io import imsave

    rgb = np.zeros((6, 4, 3), dtype=np.uint8)
    rgb[:, :2] = 255
    imsave(tmp_path / "im.png", rgb, check_contrast=False)
    family = file_family(str(tmp_path / "im.png"))
    a = family.make()
    assert a.shape == (6, 4) and "image" in family.tags
    np.testing.assert_allclose(a[:, :2], 1.0)
    np.testing.assert_allclose(a[:, 2:], 0.0)


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ".npy", "1 NaN/Inf entries"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ".npy", "NaN/Inf"),
        (np.zeros((0, 3)), ".npy", "is empty"),
        (np.arange(3.0), ".npy", "is 1-D"),
        (b"1,2\n3,oops\n", ".csv", "cannot read matrix file"),
        (b"not a numpy file", ".npy", "cannot read matrix file"),
        (b"%%MatrixMarket garbage", ".mtx", "cannot read matrix file"),
        (b"\x89PNG broken", ".png", "cannot read matrix file"),
        (b"1,2", ".txt", "unknown file type"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content)
    with pytest.raises(NNBenchError, match=message) as err:
        select_matrices(f"file:{path}")
    assert "\n" not in str(err.value) and ";" in str(err.value)


def test_missing_file():
    with pytest.raises(NNBenchError, match="does not exist"):
        select_matrices("file:/no/such/matrix.npy")
