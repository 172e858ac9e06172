"""Issue 34, a referee's second reading of the committed pages: a CG breakdown that says what
broke, untimed fits flagged in the verdict tables, constant columns stated once, tables
titled by what they hold, counts whose denominators agree with the verdict's."""

from __future__ import annotations

import numpy as np
import pytest

from nnbench.metrics.solves import pcg


@pytest.mark.parametrize(
    ("a", "apply_inverse", "said"),
    [
        (np.diag([1.0, 2.0, 3.0]), lambda r: r * np.nan,
         "r^T M^-1 r = nan, not finite (the preconditioner produced NaN or Inf)"),
        (np.diag([np.inf, 2.0, 3.0]), lambda r: r,
         "p^T A p = inf, not finite (the preconditioner or A produced NaN or Inf)"),
        (np.diag([-1.0, -2.0, -3.0]), lambda r: r, "p^T A p = -6 (A not SPD)"),
        (np.diag([1.0, 2.0, 3.0]), lambda r: -r, "r^T M^-1 r = -3 (M not SPD)"),
    ],
)  # fmt: skip
def test_a_cg_breakdown_says_what_broke(a, apply_inverse, said):
    run = pcg(a, np.ones(3), apply_inverse)
    assert run.iterations is None
    assert run.reason == f"CG broke down at iteration 1: {said}"
