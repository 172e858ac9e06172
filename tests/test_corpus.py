"""The corpus: determinism, shapes, dtypes, every tag verified numerically, selection, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse
from conftest import instance_id, instances
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnbench.corpus import (
    MATRIX_FAMILIES,
    TAG_CHECKS,
    VALUE_CHECKS,
    file_family,
    numerical_rank,
    select_matrices,
)
from nnbench.corpus.examples import worked_example
from nnbench.corpus.generators import singular_values
from nnbench.corpus.tags import needs_pivoting
from nnbench.errors import NNBenchError

INSTANCES = instances()


@pytest.mark.parametrize("item", INSTANCES, ids=instance_id)
def test_every_tag_holds_numerically(item):
    family, n = item
    for seed in (0, 1):
        a = family.make(n, seed=seed)
        for tag in family.tags:
            assert TAG_CHECKS[tag](a), f"{family.name} n={n} seed={seed} fails tag {tag!r}"


@pytest.mark.parametrize("item", INSTANCES, ids=instance_id)
def test_numeric_tags_hold(item):
    """Every value a family declares (exact rank, condition number, pixel scale) holds of its
    instances; and every family declares one, so that no case checks nothing."""
    family, n = item
    values = family.tag_values(n)
    assert values, f"{family.name} declares no numeric tag: give it numeric_tags= (rank, ...)"
    assert set(values) <= set(VALUE_CHECKS), f"{family.name}: no check for {set(values)}"
    for seed in (0, 3):
        a = family.make(n, seed=seed)
        for name, value in values.items():
            assert VALUE_CHECKS[name](a, value), (
                f"{family.name} n={n} seed={seed}: {name} != {value}"
            )


def test_value_checks_refuse_wrong_values():
    a = np.diag([4.0, 2.0, 1.0])
    assert VALUE_CHECKS["rank"](a, 3) and not VALUE_CHECKS["rank"](a, 2)
    assert VALUE_CHECKS["cond"](a, 4.0) and not VALUE_CHECKS["cond"](a, 4.001)
    noisy = np.diag([1.0, 0.5, 1e-7])
    assert VALUE_CHECKS["effective_rank"](noisy, 2) and not VALUE_CHECKS["effective_rank"](noisy, 3)
    pixels = np.array([[0.0, 0.5], [1.0, 0.25]])
    assert VALUE_CHECKS["pixel_max"](pixels, 1.0)
    assert not VALUE_CHECKS["pixel_max"](pixels, 255.0)  # pixels in [0, 1] are not 8-bit values
    assert not VALUE_CHECKS["pixel_max"](255 * pixels, 1.0)
    assert not VALUE_CHECKS["pixel_max"](pixels - 0.5, 1.0)


@pytest.mark.parametrize("item", INSTANCES, ids=instance_id)
def test_deterministic_shape_and_dtype(item):
    family, n = item
    if family.sparse:  # a canonical CSR array; its values checked dense below
        sparse = family.make(n, seed=7)
        assert sparse.format == "csr" and sparse.has_canonical_format
        np.testing.assert_array_equal(sparse.toarray(), family.make(n, seed=7, dense=True))
    a = family.make(n, seed=7, dense=True)
    assert np.array_equal(a, family.make(n, seed=7, dense=True))
    assert a.shape == family.shape(n)
    assert a.dtype == np.float64 and a.flags.c_contiguous and np.all(np.isfinite(a))
    a32 = family.make(n, seed=7, dtype="float32", dense=True)
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


def _needs_pivoting_by_the_loop(a: np.ndarray) -> bool:
    """The tag's definition, as it was computed (one rank-1 update per step): elimination
    without row exchanges meets a pivot below 1e-8 max|a_ij| (or zero) before its last step."""
    n = a.shape[0]
    if a.shape != (n, n) or n < 2:
        return False
    u = a.astype(np.float64, copy=True)
    scale = float(np.abs(u).max(initial=0.0)) or 1.0
    smallest = np.inf
    for k in range(n - 1):
        pivot = u[k, k]
        smallest = min(smallest, abs(pivot) / scale)
        if pivot == 0.0:
            return True
        u[k + 1 :, k:] -= np.outer(u[k + 1 :, k] / pivot, u[k, k:])
    return bool(smallest < 1e-8)


def _with_pivots(pivots: list[float], seed: int = 0) -> np.ndarray:
    """L U with unit-lower L: elimination without row exchanges meets exactly `pivots`."""
    n, rng = len(pivots), np.random.default_rng(seed)
    lower = np.tril(rng.standard_normal((n, n)), -1) + np.eye(n)
    return lower @ (np.triu(rng.standard_normal((n, n)), 1) + np.diag(pivots))


def _planted(n: int, step: int, pivot: float) -> np.ndarray:
    pivots = [1.0 + i % 3 for i in range(n)]
    pivots[step] = pivot
    return _with_pivots(pivots, seed=n + step)


NEEDS_PIVOTING = {
    "zero-first": (_planted(9, 0, 0.0), True),
    "zero-middle": (_planted(9, 4, 0.0), True),
    "zero-second-last": (_planted(9, 7, 0.0), True),
    "zero-last": (_planted(9, 8, 0.0), False),  # singular, yet its LU needs no exchange
    "tiny-middle": (_planted(33, 17, 1e-12), True),
    "small-not-tiny": (_planted(33, 17, 1e-4), False),
    "tiny-in-a-right-half": (_planted(64, 45, 1e-11), True),
    "permutation": (np.array([[0.0, 1.0], [1.0, 0.0]]), True),
    "zeros": (np.zeros((4, 4)), True),
    "identity": (np.eye(5), False),
    "one-by-one-zero": (np.zeros((1, 1)), False),
    "rectangular": (np.zeros((3, 2)), False),
    "study004-pivot": (worked_example("study004-pivot"), True),
    "gaussian-129": (np.random.default_rng(1).standard_normal((129, 129)), False),
}


@pytest.mark.parametrize("case", NEEDS_PIVOTING)
def test_needs_pivoting_is_the_elimination_verdict(case):
    """Computed by blocked elimination (matrix products), the verdict of the loop."""
    a, expected = NEEDS_PIVOTING[case]
    assert needs_pivoting(a) is expected
    assert _needs_pivoting_by_the_loop(a) is expected


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda n: arrays(np.float64, (n, n), elements=st.integers(-2, 2).map(float))
    )
)
def test_needs_pivoting_agrees_with_the_loop_on_small_integer_matrices(a):
    """Small integer matrices meet exactly zero pivots often; nonzero ones are far above 1e-8
    (a 6 x 6 determinant of entries in -2..2 is at most 13824), so rounding decides nothing."""
    assert needs_pivoting(a) == _needs_pivoting_by_the_loop(a)
