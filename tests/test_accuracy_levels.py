"""The accuracy levels of the fair comparison: what a level means on a problem (rank-k as a
share of the gap between the zero matrix and the optimum, LU above n eps), which problems the
verdict leaves out and why, and which classical method each problem's ratios are against."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_figures import _row

from nnbench.metrics import opt_err_2, opt_err_fro, rank_of
from nnbench.report.judging import verdict, verdict_by_problem
from nnbench.report.levels import ACCURACY
from nnbench.report.time_to_accuracy import time_to_accuracy
from nnbench.results import to_frame

CELL_IDS = itertools.count()
LEVELS = [f"time to <= {lv:g}" for lv in ACCURACY["rank-k"].levels]


def _rank_k_rows(
    sigma: np.ndarray, k: int, methods: dict[str, tuple[str, float, float]], **problem: object
) -> list:
    """Rows of one rank-k problem whose matrix has singular values `sigma`: per method
    (name -> (group, how far from the optimum towards the zero matrix: 0 optimal, 1 zero,
    time)), its relative errors and the optimum's, as the metrics compute them."""
    n = sigma.size
    dtype = str(problem.get("dtype", "float64"))
    opt = {"2": opt_err_2(sigma, k), "fro": opt_err_fro(sigma, k)}
    rows = []
    for name, (group, share, time_s) in methods.items():
        err = {norm: o + share * (1.0 - o) for norm, o in opt.items()}
        rows.append(
            _row(next(CELL_IDS), kind="rank-k", rank=k, n=n, n_rows=n, n_cols=n,
                 method=name, method_base=name, group=group, time_s=time_s,
                 rel_err_2=err["2"], rel_err_fro=err["fro"],
                 opt_err_2=opt["2"], opt_err_fro=opt["fro"],
                 ratio_2=err["2"] / opt["2"] if opt["2"] else 1.0,
                 ratio_fro=err["fro"] / opt["fro"] if opt["fro"] else 1.0,
                 expected_rank=min(k, rank_of(sigma, (n, n), dtype)), **problem)
        )  # fmt: skip
    return rows


def _frame(*problems: list) -> pd.DataFrame:
    return to_frame([row for problem in problems for row in problem])


FLAT = {  # spectra where sigma_(k+1) / sigma_1 and the Frobenius tail are both > 0.99
    "exactly flat": np.ones(512),
    "nearly flat": np.linspace(1.0, 0.995, 512),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("spectrum", list(FLAT))
def test_the_zero_matrix_meets_no_rank_k_level_on_a_flat_spectrum(spectrum, dtype):
    """Under ratio - 1 the zero matrix met 1e-2 here (1 / opt_err - 1 < 1e-2); as a share of
    the gap it scores 1. The optimal approximation meets every level that is measurable."""
    methods = {"zero": ("neural", 1.0, 1e-4), "optimal": ("classical", 0.0, 1e-3)}
    df = _frame(_rank_k_rows(FLAT[spectrum], 5, methods, dtype=dtype, matrix=spectrum))
    table = time_to_accuracy(df).set_index("method")
    assert opt_err_fro(FLAT[spectrum], 5) > 0.99
    for level in LEVELS:
        assert table.loc["zero", level] in ("not reached", "not measurable")
        assert table.loc["optimal", level] in ("0.001 s", "not measurable")
        if table.loc["optimal", level] == "not measurable":
            assert table.loc["zero", level] == "not measurable"
    measurable = [lv for lv in LEVELS if table.loc["optimal", lv] != "not measurable"]
    row = verdict(df).iloc[0]
    if measurable:  # float64: max(m, n) eps / (1 - opt_err) ~ 2e-11 leaves out 1e-12 only
        assert measurable == LEVELS[:2] and dtype == "float64"
        assert row["neural: reached"] == "0/1" and row["best classical"] == "optimal"
    else:  # float32: rounding alone costs more than 1e-2 of the gap
        reason = verdict_by_problem(df).reason.iloc[0]
        assert row["problems"] == 0 and row["left out"] == 1
        assert reason.startswith("no level is measurable")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(1e-3, 1.0), min_size=4, max_size=30),
    st.integers(1, 3),
    st.sampled_from(["float64", "float32"]),
)
def test_the_zero_matrix_scores_one_and_the_optimum_zero_wherever_a_level_is_measurable(
    values, k, dtype
):
    sigma = np.sort(np.array(values))[::-1]
    methods = {"zero": ("neural", 1.0, 1e-4), "optimal": ("classical", 0.0, 1e-3)}
    df = _frame(_rank_k_rows(sigma, k, methods, dtype=dtype))
    rank_k = ACCURACY["rank-k"]
    scores = pd.Series(rank_k.measure(df).to_numpy(), index=df.method)
    if rank_k.floor(df).max() <= max(rank_k.levels):
        assert scores["zero"] == pytest.approx(1.0, abs=1e-9)
        assert scores["optimal"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("rank_of_a", [3, 5])
def test_a_problem_with_k_at_or_above_the_rank_of_a_is_left_out_of_the_verdict(rank_of_a):
    """k = 5: on a rank-3 or rank-5 matrix the optimum is A itself, an exact factorization;
    the verdict judges only the full-rank problem and says why it left the other out."""
    methods = {"svd": ("classical", 0.0, 1e-3), "h": ("hybrid", 1e-8, 4e-3)}
    full = 1.0 / np.arange(1.0, 65.0)
    deficient = np.r_[full[:rank_of_a], np.zeros(64 - rank_of_a)]
    df = _frame(
        _rank_k_rows(full, 5, methods, matrix="full"),
        _rank_k_rows(deficient, 5, methods, matrix="deficient"),
    )
    row = verdict(df).iloc[0]
    assert row["problems"] == 1 and row["left out"] == 1
    assert row["hybrid: reached"] == "1/1" and row["hybrid: time ratio"] == pytest.approx(4.0)
    problems = verdict_by_problem(df).set_index("matrix")
    assert problems.loc["full", "reason"] == ""
    assert problems.loc["full", "classical: fastest"] == "svd"
    assert problems.loc["deficient", "reason"] == (
        f"k = 5 >= the numerical rank {rank_of_a} of A: the optimum is A itself"
    )
    assert pd.isna(problems.loc["deficient", "hybrid: time ratio"])
    assert set(time_to_accuracy(df).matrix) == {"full", "deficient"}  # measured all the same


def _lu_rows(n: int, dtype: str, backward_error: float) -> list:
    return [
        _row(next(CELL_IDS), kind="lu", n=n, n_rows=n, n_cols=n, dtype=dtype, matrix=f"m{n}",
             method=method, method_base=method, group=group, rel_err_2=backward_error,
             rel_err_fro=backward_error, solve_backward_err=backward_error, expected_rank=n,
             time_s=time_s)
        for method, group, time_s in (("lu", "classical", 1e-4), ("newton", "hybrid", 1e-3))
    ]  # fmt: skip


def test_an_lu_is_timed_to_multiples_of_its_own_floor():
    """Levels at 10, 1e3 and 1e6 x n eps(dtype) of each problem (a fixed 1e-3 was met by
    every correct LU, and float32's 1e-6 and 1e-12 were 'not measurable' on every row).
    float32 at n = 64: n eps = 7.6e-6; a backward error of 1e-4 is within 1e3 x floor, not
    10 x. float64 at n = 64: 1.4e-14; 1e-8 is within 1e6 x floor only."""
    from nnbench.report.time_to_accuracy import floor_level

    df = _frame(_lu_rows(64, "float32", 1e-4), _lu_rows(64, "float64", 1e-8))
    table = time_to_accuracy(df)
    lu = table[table.method == "lu"].set_index(["n", "dtype"])
    assert lu.loc[(64, "float32"), "floor"] == pytest.approx(64 * np.finfo(np.float32).eps)
    loose, middle, tight = (floor_level(m) for m in (1e6, 1e3, 10.0))
    assert lu.loc[(64, "float32"), middle] == "0.0001 s"
    assert lu.loc[(64, "float32"), tight] == "not reached"
    assert lu.loc[(64, "float64"), loose] == "0.0001 s"
    assert lu.loc[(64, "float64"), middle] == "not reached"
    assert "time to <= 0.001" not in table.dropna(axis=1, how="all").columns


def test_each_problems_ratio_is_against_its_own_fastest_classical_method():
    """On p and p2 classical a is fastest, on q classical b: every hybrid ratio is taken against
    the problem's own, and the verdict names both."""
    spectrum = 1.0 / np.arange(1.0, 33.0)
    times = {"p": (1e-3, 2e-3, 4e-3), "p2": (1e-3, 2e-3, 4e-3), "q": (3e-3, 1e-3, 2e-3)}
    df = _frame(
        *(
            _rank_k_rows(spectrum, 4, {"a": ("classical", 0.0, a), "b": ("classical", 0.0, b),
                                       "h": ("hybrid", 0.0, h)}, matrix=matrix)
            for matrix, (a, b, h) in times.items()
        )
    )  # fmt: skip
    problems = verdict_by_problem(df).set_index("matrix")
    assert dict(problems["classical: fastest"]) == {"p": "a", "p2": "a", "q": "b"}
    assert dict(problems["classical: time_s"]) == pytest.approx({"p": 1e-3, "p2": 1e-3, "q": 1e-3})
    assert dict(problems["hybrid: time ratio"]) == pytest.approx({"p": 4.0, "p2": 4.0, "q": 2.0})
    row = verdict(df).iloc[0]
    assert row["best classical"] == "a (2), b (1)"
    assert row["hybrid: time ratio"] == pytest.approx(4.0)  # median of 4, 4, 2
    assert row["hybrid: reached"] == "3/3" and row["left out"] == 0
