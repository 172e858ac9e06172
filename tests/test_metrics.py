"""Property tests (hypothesis) and known values for the metrics."""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.errors import SkipCell
from nnbench.methods import LUFactorization, get_method, select_methods
from nnbench.metrics import (
    METRICS,
    backward_error,
    det_rel_err,
    doolittle_factor_err,
    error_ratio,
    norm_2,
    norm_fro,
    numerical_rank,
    opt_err_2,
    opt_err_fro,
    rel_err_2,
    rel_err_fro,
)
from nnbench.metrics.evaluation import MetricInput, evaluate

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
shapes = st.tuples(st.integers(1, 8), st.integers(1, 8))
matrices = shapes.flatmap(lambda s: arrays(np.float64, s, elements=finite))
seeds = st.integers(0, 2**32 - 1)


@given(matrices)
def test_errors_of_the_matrix_itself_are_zero(a):
    assert rel_err_2(a, a) == 0.0 and rel_err_fro(a, a) == 0.0


# entries in steps of 1e-3: scaling by 1e-3..1e3 must not underflow (subnormals lose digits)
moderate = shapes.flatmap(
    lambda s: arrays(np.float64, s, elements=st.integers(-(10**6), 10**6).map(lambda i: i / 1000))
)


@given(moderate, st.floats(1e-3, 1e3))
def test_relative_errors_are_scale_invariant(a, scale):
    approx = np.round(a)
    for fn in (rel_err_2, rel_err_fro):
        assert fn(scale * a, scale * approx) == pytest.approx(fn(a, approx), rel=1e-9, abs=1e-12)


@given(matrices)
def test_the_zero_approximation_has_relative_error_one(a):
    if np.any(a):
        zero = np.zeros_like(a)
        assert rel_err_2(a, zero) == pytest.approx(1.0) == rel_err_fro(a, zero)


same_shape_pairs = shapes.flatmap(
    lambda s: st.tuples(
        arrays(np.float64, s, elements=finite), arrays(np.float64, s, elements=finite)
    )
)


@given(same_shape_pairs)
def test_norms_are_ordered(pair):
    """||E||_2 <= ||E||_F <= sqrt(rank) ||E||_2 for the error E = A - B (every draw is a
    pair of one shape: the test used to return early on ~63 of 64 draws)."""
    a, b = pair
    assert a.shape == b.shape
    e2, ef = norm_2(a - b), norm_fro(a - b)
    assert e2 <= ef * (1 + 1e-12)
    assert ef <= np.sqrt(min(a.shape)) * e2 * (1 + 1e-12)


@settings(deadline=None)
@given(seeds, st.integers(2, 9), st.integers(2, 9), st.data())
def test_eckart_young_no_rank_k_matrix_beats_the_optimum(seed, m, n, data):
    """Truncated SVD achieves ratio 1; a random rank-k matrix never goes below it."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, n))
    k = data.draw(st.integers(1, min(m, n) - 1))
    s = np.linalg.svd(a, compute_uv=False)
    fact = get_method("scipy-tsvd").factorize(a, rank=k)
    x = MetricInput(a=a, fact=fact, dtype="float64", rank=k)
    row = evaluate(x)
    assert row.ratio_2 == pytest.approx(1.0, abs=1e-10)
    assert row.ratio_fro == pytest.approx(1.0, abs=1e-10)
    assert row.rank_ok is True and row.numerical_rank == k
    other = rng.standard_normal((m, k)) @ rng.standard_normal((k, n))
    assert rel_err_2(a, other) >= opt_err_2(s, k) * (1 - 1e-12)
    assert rel_err_fro(a, other) >= opt_err_fro(s, k) * (1 - 1e-12)


@given(st.lists(st.floats(0, 1e3), min_size=1, max_size=10))
def test_optimum_decreases_with_rank(values):
    s = np.sort(np.asarray(values))[::-1]
    errs = [opt_err_fro(s, k) for k in range(s.size + 1)]
    assert all(b <= a + 1e-15 for a, b in pairwise(errs)) and errs[-1] == 0.0
    errs2 = [opt_err_2(s, k) for k in range(s.size + 1)]
    assert all(b <= a for a, b in pairwise(errs2)) and errs2[-1] == 0.0


@given(st.floats(0, 1), st.floats(0, 1), st.floats(1e-16, 1e-6))
def test_error_ratio_floor(achieved, optimum, floor):
    ratio = error_ratio(achieved, optimum, floor)
    assert ratio >= 0 and np.isfinite(ratio)
    if achieved <= floor and optimum <= floor:
        assert ratio == 1.0
    assert error_ratio(0.0, 0.0, floor) == 1.0


@settings(deadline=None)
@given(seeds, st.integers(1, 6), st.integers(6, 12))
def test_numerical_rank_of_a_product_of_rank_r_factors(seed, r, n):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, r)) @ rng.standard_normal((r, n))
    assert numerical_rank(m, "float64") == r
    assert numerical_rank(m.astype(np.float32), "float32") == r


@settings(deadline=None)
@given(seeds, st.integers(1, 10))
def test_backward_error_of_an_lu_solve_is_at_rounding_level(seed, n):
    rng = np.random.default_rng(seed)
    a = MATRIX_FAMILIES["diag-dominant"].make(n, seed=seed)  # cond(a) <= 2n + 1 or so
    b = rng.standard_normal(n)
    x = get_method("scipy-lu").factorize(a).solve(b)
    assert backward_error(a, x, b) < 1e-14
    assert backward_error(a, x * 1.01, b) > 1e-5
    assert backward_error(a, np.full(n, np.inf), b) == np.inf


@given(st.floats(-50, 50), st.sampled_from([-1.0, 1.0]), st.floats(-1e-3, 1e-3))
def test_det_rel_err(logdet, sign, delta):
    assert det_rel_err((sign, logdet), (sign, logdet)) == 0.0
    assert det_rel_err((sign, logdet), (sign, logdet + delta)) == pytest.approx(
        abs(np.expm1(delta)), rel=1e-8, abs=1e-13
    )  # rounding of logdet + delta
    assert det_rel_err((sign, logdet), (-sign, logdet)) == pytest.approx(2.0)
    assert np.isnan(det_rel_err((0.0, -np.inf), (sign, logdet)))


@settings(deadline=None)
@given(seeds, st.integers(2, 8), st.floats(0.1, 10))
def test_factor_err_ignores_the_lu_normalisation(seed, n, scale):
    """Any valid LU (diagonal moved between L and U) scores 0 against Doolittle."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) + 2 * n * np.eye(n)
    ref = get_method("doolittle").factorize(a)
    d = scale * np.where(rng.random(n) < 0.5, -1.0, 1.0)
    rescaled = LUFactorization(L=ref.L * d, U=ref.U / d[:, None])
    assert doolittle_factor_err(a, rescaled) < 1e-13
    wrong = LUFactorization(L=ref.L, U=ref.U * 1.01)
    assert doolittle_factor_err(a, wrong) == pytest.approx(0.01, rel=1e-6)


def test_structure_err_sees_mass_outside_the_triangles():
    a = np.array([[4.0, 3], [6, 3]])
    good = get_method("doolittle").factorize(a)
    assert good.structure_error() == 0.0
    bad = LUFactorization(L=good.L + np.array([[0, 0.5], [0, 0]]), U=good.U)
    assert bad.structure_error() == pytest.approx(0.5 / np.linalg.norm(bad.L))


def test_every_metric_is_a_results_column_with_a_direction():
    from nnbench.api import COLUMNS

    names = [m.name for m in METRICS]
    assert len(names) == len(set(names)) and set(names) <= set(COLUMNS)
    assert {m.direction for m in METRICS} <= {"lower", "higher", "none"}


WALL_CLOCK = {"cg_solve_s", "cg_iteration_s"}  # metrics that are a time measured here


def _scored(a, fact, rank=None, build_s=float("nan")):
    return evaluate(MetricInput(a=a, fact=fact, dtype="float64", rank=rank, build_s=build_s))


@pytest.mark.parametrize("metric", [m for m in METRICS if m.direction != "none"], ids=str)
def test_each_metric_scores_a_worse_answer_worse_by_its_direction(metric):
    """For every metric with a direction, a pair (good, bad) of answers where it must tell
    them apart, and the direction says which is better."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6)) + 6 * np.eye(6)
    exact = get_method("doolittle").factorize(a)
    off = LUFactorization(L=exact.L + 0.1 * np.triu(np.ones((6, 6)), 1), U=exact.U * 1.1)
    u, s, vt = np.linalg.svd(a)
    best = get_method("scipy-tsvd").factorize(a, rank=2)
    collapsed = type(best)(left=np.outer(u[:, 0] * s[0], [1.0, 1.0]), right=vt[:2] * 0.5)
    spread = np.diag(np.r_[10.0, 5.0, 1.0, 1.0])  # sigma_gap at k=2: 4/10; at k=3: 0
    laplacian = MATRIX_FAMILIES["grid-laplacian"].make(36, seed=0)
    diffusion = MATRIX_FAMILIES["diffusion-2d"].make(256, seed=0)
    pairs = {  # metric -> (better answer's scores, worse answer's scores)
        "cg_iterations": (  # IC(0) preconditions a grid Laplacian better than nothing does
            _scored(laplacian, get_method("ic0").factorize(laplacian)),
            _scored(laplacian, get_method("cg-none").factorize(laplacian)),
        ),
        "cg_iterations_1e6": (
            _scored(laplacian, get_method("ic0").factorize(laplacian)),
            _scored(laplacian, get_method("cg-none").factorize(laplacian)),
        ),
        "cg_total_s": (  # the same solve after a build of 1 ms and of 10 s
            _scored(diffusion, get_method("amg").factorize(diffusion), build_s=1e-3),
            _scored(diffusion, get_method("amg").factorize(diffusion), build_s=10.0),
        ),
        "sigma_gap": (
            _scored(spread, get_method("scipy-tsvd").factorize(spread, rank=2), 2),
            _scored(spread, get_method("scipy-tsvd").factorize(spread, rank=3), 3),
        ),
        "rank_ok": (_scored(a, best, 2), _scored(a, collapsed, 2)),
        "opt_err_2": (_scored(a, best, 3), _scored(a, best, 2)),  # rank 3 can do better
        "opt_err_fro": (_scored(a, best, 3), _scored(a, best, 2)),
        "ratio_2": (_scored(a, best, 2), _scored(a, collapsed, 2)),
        "ratio_fro": (_scored(a, best, 2), _scored(a, collapsed, 2)),
    }
    if metric.name in WALL_CLOCK:
        # no two runs' seconds are compared (a loaded machine can turn them round): the
        # measured solve is positive and is what the total adds to the build
        scored = _scored(diffusion, get_method("amg").factorize(diffusion), build_s=1e-3)
        assert metric.direction == "lower" and scored.cg_solve_s > 0
        assert scored.cg_total_s == pytest.approx(1e-3 + scored.cg_solve_s)
        assert scored.cg_iteration_s * scored.cg_iterations == pytest.approx(scored.cg_solve_s)
        return
    good, bad = pairs.get(metric.name, (_scored(a, exact), _scored(a, off)))
    g, b = getattr(good, metric.name), getattr(bad, metric.name)
    if metric.direction == "lower":
        assert g < b, (g, b)
    else:
        assert g > b, (g, b)


def test_non_finite_products_score_inf_not_a_crash():
    """Finite factors whose product overflows: errors are inf and the rank is not ok."""
    a = np.eye(2)
    fact = LUFactorization(L=np.array([[1.0, 0], [1e300, 1]]), U=np.array([[1e300, 0], [0, 1]]))
    row = _scored(a, fact)
    assert row.rel_err_2 == np.inf and row.rank_ok is False and np.isnan(row.numerical_rank)


def test_cached_singular_values_equal_fresh_ones_and_each_instance_computes_them_once():
    """Every method, rank and repeat on one instance shares its spectrum (issue 14)."""
    from nnbench.api import Grid, run_grid
    from nnbench.corpus import MATRIX_FAMILIES
    from nnbench.metrics import INSTANCE_CACHE, InstanceCache

    cache = InstanceCache(size=4)
    a = MATRIX_FAMILIES["random-gaussian"].make(24, seed=5)
    first = cache(a)
    assert np.array_equal(first, np.linalg.svd(a, compute_uv=False))
    assert cache(a.copy()) is first and cache.computed["sigma"] == 1  # the same values: no new SVD
    b = a.copy()
    b[0, 0] += 1.0  # an edited matrix is another instance
    assert not np.array_equal(cache(b), first) and cache.computed["sigma"] == 2

    before = INSTANCE_CACHE.computed.copy()
    grid = Grid(
        matrices=("randsvd",),
        methods=("scipy-tsvd", "torch-rsvd", "scipy-svds-propack", "scipy-lu"),
        sizes=(40,),
        ranks=(1, 3, 5),
        repeats=2,
        timing_repeats=1,
    )
    res = run_grid(grid)
    assert (res.results.status == "ok").all()
    assert INSTANCE_CACHE.computed["sigma"] - before["sigma"] == 2  # two instances, 20 cells
    assert INSTANCE_CACHE.computed["slogdet"] - before["slogdet"] == 2  # the LU cells' det(A)


@given(m=st.integers(2, 30), n=st.integers(2, 30), k=st.integers(1, 6), seed=st.integers(0, 10**6))
def test_rank_k_spectrum_from_the_factors_equals_the_products(m, n, k, seed):
    from nnbench.metrics import rank_k_spectrum

    rng = np.random.default_rng(seed)
    k = min(k, m, n)
    left, right = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    fresh = np.linalg.svd(left @ right, compute_uv=False)[:k]
    assert np.allclose(rank_k_spectrum(left, right), fresh, rtol=1e-10, atol=1e-12 * fresh[0])


@pytest.mark.parametrize("family", ["random-gaussian", "randsvd", "image-camera", "spd"])
def test_lanczos_2_norms_of_residuals_match_the_dense_svd(family):
    """From n = LANCZOS_FROM on, norm_2 is a Lanczos estimate: its stated accuracy holds."""
    import scipy.linalg

    from nnbench.metrics import LANCZOS_FROM, norm_2

    a = MATRIX_FAMILIES[family].make(LANCZOS_FROM, seed=3)
    p, lower, upper = scipy.linalg.lu(a)
    q, r = np.linalg.qr(a)
    u, s, vt = np.linalg.svd(a)
    bigger = ()
    if family == "spd":  # the SPD LU residual at 2 * LANCZOS_FROM that fooled an unscaled ARPACK
        big = MATRIX_FAMILIES[family].make(2 * LANCZOS_FROM, seed=3)
        big_p, big_l, big_u = scipy.linalg.lu(big)
        bigger = (big - big_p @ big_l @ big_u,)
    rank_k = a - (u[:, :10] * s[:10]) @ vt[:10]
    perturbed = rank_k + 1e-6 * np.random.default_rng(0).standard_normal(a.shape)
    wide = perturbed[: LANCZOS_FROM // 2 + 1].T  # tall and wide: the smaller Gram matrix
    residuals = (a - p @ lower @ upper, a - q @ r, rank_k, perturbed, a, wide, wide.T)
    for residual in (*residuals, *bigger):
        exact = float(np.linalg.norm(residual, 2))
        assert norm_2(residual) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize(
    "method", ["scipy-lu", "torch-lu", "hybrid-lu-newton", "torch-qr", "torch-svd", "torch-rsvd"]
)
def test_evaluation_on_a_torch_device_equals_numpys(method):
    """GPU cells are evaluated by torch in float64 on their device (`EVALUATE_ON`); on the CPU
    the torch path must give numpy's numbers."""
    from nnbench.metrics import MetricValues

    a = MATRIX_FAMILIES["diag-dominant"].make(40, seed=2)
    m = get_method(method)
    rank = 5 if m.needs_rank else None
    fact = m.factorize(a, rank=rank)
    import torch

    linalgs = ("numpy", "torch-cpu", *(("torch-cuda",) if torch.cuda.is_available() else ()))
    values = {
        linalg: evaluate(MetricInput(a=a, fact=fact, dtype="float64", rank=rank, linalg=linalg))
        for linalg in linalgs
    }
    for f, linalg in itertools.product(dataclasses.fields(MetricValues), linalgs[1:]):
        here, there = getattr(values["numpy"], f.name), getattr(values[linalg], f.name)
        if isinstance(here, float) and not np.isnan(here):
            assert there == pytest.approx(here, rel=1e-6, abs=1e-12), f.name  # rounding level
        else:
            assert (here is there) or (here == there) or (np.isnan(here) and np.isnan(there))


@pytest.mark.parametrize("reference", ["blocked_doolittle", "lapack_doolittle"])
@pytest.mark.parametrize("n", [1, 2, 5, 64, 100, 200])
def test_the_metrics_doolittle_is_the_textbook_doolittle(n, reference):
    import nnbench.metrics
    from nnbench.elimination import doolittle_lu

    doolittle = getattr(nnbench.metrics, reference)
    a = MATRIX_FAMILIES["diag-dominant"].make(n, seed=n)
    rows = np.random.default_rng(n).permutation(n)  # pivoting would exchange rows of these
    for matrix in (a, a[rows], MATRIX_FAMILIES["random-gaussian"].make(n, seed=n)):
        try:
            textbook = doolittle_lu(matrix)
        except SkipCell:
            with pytest.raises(SkipCell):
                doolittle(matrix)
            continue
        # without pivoting, two orders of the same arithmetic differ by rounding x growth
        growth = np.abs(textbook[0]).max() * np.abs(textbook[1]).max() / np.abs(matrix).max()
        tolerance = max(1e-13, 100 * np.finfo(np.float64).eps * growth)
        for mine, theirs in zip(doolittle(matrix), textbook, strict=True):
            assert rel_err_fro(theirs, mine) <= tolerance
    singular = a.copy()
    singular[0, 0] = 0.0
    zero_column = a.copy()
    zero_column[:, 0] = 0.0  # exactly singular: LAPACK would warn as well
    if n > 1:
        for matrix in (singular, zero_column):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # one clear outcome: the SkipCell, no warning
                with pytest.raises(SkipCell):
                    doolittle(matrix)


@settings(deadline=None, max_examples=200)
@given(
    n=st.integers(2, 30),
    rank=st.integers(0, 30),
    noise=st.sampled_from([0.0, 1e-17, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=seeds,
)
def test_a_certified_rank_is_the_svds_rank(n, rank, noise, dtype, seed):
    """Weyl's certificate answers the SVD's answer, or does not answer, on exact-rank,
    nearly-rank-deficient and perturbed matrices."""
    from nnbench.metrics import certified_rank, numerical_rank

    rng = np.random.default_rng(seed)
    rank = min(rank, n)
    a = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n))
    a += 1e-14 * rng.standard_normal((n, n)) * rng.integers(0, 2)
    approx = a + noise * rng.standard_normal((n, n)) * max(1.0, float(np.abs(a).max()))
    sigma = np.linalg.svd(a, compute_uv=False)
    certified = certified_rank(sigma, norm_fro(a - approx), a.shape, dtype)
    if certified is not None:
        assert certified == numerical_rank(approx, dtype)


def test_the_rank_of_an_lu_or_qr_cell_needs_no_svd_of_its_product(monkeypatch):
    """Accurate full-size reconstructions get their rank certified from A's spectrum; a
    far-off one (a gradient-trained LU) is asked of the SVD, and still gets its answer."""
    a = MATRIX_FAMILIES["random-gaussian"].make(60, seed=1)
    asked: list[str] = []
    svd_of_product = MetricInput.approx_sigma.func
    trained = "neural-lu-adam[steps=30]"  # a few steps: far off
    for method in ("scipy-lu", "scipy-qr", "hybrid-lu-newton", trained):
        x = MetricInput(a=a, fact=select_methods(method)[0].factorize(a), dtype="float64")
        expected = numerical_rank(x.approx, "float64")
        monkeypatch.setattr(
            MetricInput,
            "approx_sigma",
            property(lambda y, m=method: asked.append(m) or svd_of_product(y)),
        )
        assert x.approx_rank == expected
        monkeypatch.undo()
    assert asked == [trained]


def test_doolittle_factors_are_shared_by_cells_with_the_same_row_order():
    from nnbench.metrics import INSTANCE_CACHE

    a = MATRIX_FAMILIES["random-gaussian"].make(50, seed=11)
    before = INSTANCE_CACHE.computed["doolittle"]
    values = [
        evaluate(MetricInput(a=a, fact=get_method(m).factorize(a), dtype="float64"))
        for m in ("scipy-lu", "torch-lu", "scipy-lu")
    ]
    assert INSTANCE_CACHE.computed["doolittle"] - before == 1  # the same P: one reference
    assert all(v.factor_err < 1e-12 for v in values)


def test_the_instance_cache_keeps_to_its_byte_budget():
    from nnbench.metrics import InstanceCache

    cache = InstanceCache(size=10, max_bytes=3 * 8 * 100)
    for seed in range(5):
        cache.get(np.full((10, 10), float(seed)), "copy", lambda x: (x.copy(),))
    assert len(cache._values) == 3  # three 800-byte values fit, the oldest two went
    huge = np.zeros((20, 20))
    assert cache.get(huge, "copy", lambda x: x.copy()).shape == (20, 20)  # kept alone
    assert len(cache._values) == 1


@given(index=st.permutations(list(range(7))))
def test_a_permutation_matrix_is_applied_by_indexing(index):
    from nnbench.methods.factorization import permutation_of, permutation_sign

    p = np.eye(7)[np.asarray(index)]
    assert np.array_equal(permutation_of(p), np.asarray(index))
    assert permutation_sign(np.asarray(index)) == np.round(np.linalg.det(p))
    rng = np.random.default_rng(0)
    lower, upper = np.tril(rng.standard_normal((7, 7))), np.triu(rng.standard_normal((7, 7)))
    fact = LUFactorization(L=lower, U=upper, P=p)
    assert np.allclose(fact.reconstruct(), p @ lower @ upper, rtol=0, atol=1e-14)
    b = rng.standard_normal(7)
    assert np.allclose(fact.unpermute_rows(b), p.T @ b, rtol=0, atol=0)
    assert fact.slogdet()[0] == np.sign(np.linalg.det(p @ lower @ upper))
    almost = p.copy()
    almost[0, index[0]] = 0.999  # a trained P: products, not indexing
    assert permutation_of(almost) is None
    fact = LUFactorization(L=lower, U=upper, P=almost)
    assert np.allclose(fact.reconstruct(), almost @ lower @ upper)
