"""`bench classical-speed`'s independent references give nnbench's methods' outputs to
rounding on small inputs (what the bench asserts before timing), and the methods sped up with
compiled kernels still give their textbook loops' factors. No test here times anything."""

from __future__ import annotations

import numpy as np
import pytest

from nnbench.bench.home_grown import SAME, comparator_studies, ours_and_theirs
from nnbench.bench.speed_references import REFERENCES, Reference
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.elimination import doolittle_lu
from nnbench.errors import SkipCell
from nnbench.methods import METHODS
from nnbench.methods.preconditioners import ic0


def _small(reference: Reference) -> tuple[int, int]:
    """A size and rank small enough for a test, large enough for two panels and blocks."""
    return (100 if reference.matrix == "grid-laplacian" else 96), min(reference.ranks[0], 5)


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: f"{r.method}-{r.call.__qualname__}")
def test_each_reference_gives_our_methods_output_to_rounding(reference):
    if reference.needs:
        pytest.importorskip(reference.needs)
    n, rank = _small(reference)
    a = MATRIX_FAMILIES[reference.matrix].make(n, seed=3)
    _, _, gap = ours_and_theirs(reference, a, rank)
    assert gap <= SAME


def test_every_home_grown_method_has_a_reference():
    home_grown = {
        "doolittle", "gram-schmidt", "gram-schmidt-modified", "ic0", "stream-fd",
        "stream-isvd", "stream-rsvd1", "sketch-gaussian", "sketch-countsketch", "sketch-power",
    }  # fmt: skip
    assert home_grown <= {r.method for r in REFERENCES}
    assert {r.method for r in REFERENCES} <= set(METHODS)


def test_comparators_are_the_fair_and_streaming_studies_classical_methods():
    assert "fair" in comparator_studies("doolittle")
    assert "fair" in comparator_studies("gram-schmidt-modified")
    assert "streaming" in comparator_studies("stream-fd")
    assert comparator_studies("no-such-method") == ()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 5, 64, 130])
def test_compiled_doolittle_gives_the_textbook_factors(n, dtype):
    a = MATRIX_FAMILIES["diag-dominant"].make(n, seed=4).astype(dtype)
    fact = METHODS["doolittle"].factorize(a)
    lower, upper = doolittle_lu(a)
    tol = 50 * n * np.finfo(dtype).eps
    np.testing.assert_allclose(fact.factors["L"], lower, rtol=tol, atol=tol)
    np.testing.assert_allclose(fact.factors["U"], upper, rtol=tol, atol=tol * np.abs(a).max())


def test_compiled_doolittle_declines_a_zero_pivot_as_the_textbook_loop_does():
    a = np.array([[0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(SkipCell, match="zero pivot at step 1"):
        doolittle_lu(a)
    with pytest.raises(SkipCell, match="zero pivot at step 1"):
        METHODS["doolittle"].compute(a, rank=None, seed=0)
    b = np.eye(70)
    b[66, 66] = 0.0  # the second panel's third pivot
    with pytest.raises(SkipCell, match="zero pivot at step 67"):
        METHODS["doolittle"].compute(b, rank=None, seed=0)


@pytest.mark.parametrize("name", ["gram-schmidt", "gram-schmidt-modified"])
def test_compiled_gram_schmidt_breaks_down_on_a_dependent_column(name):
    a = np.random.default_rng(0).standard_normal((8, 3))
    a[:, 2] = 0.0  # exactly dependent (a copy of a column leaves a remainder of rounding)
    with pytest.raises(SkipCell, match="column 3 is exactly a combination"):
        METHODS[name].compute(a, rank=None, seed=0)


@pytest.mark.parametrize("family", ["grid-laplacian", "spd"])
def test_dense_ic0_gives_the_textbook_loops_factor(family):
    a = MATRIX_FAMILIES[family].make(64, seed=5, dense=True)
    lower = METHODS["ic0"].finish(METHODS["ic0"].compute(a, rank=None, seed=0)).factors["L"]
    np.testing.assert_allclose(lower, ic0(a), rtol=1e-12, atol=1e-14)
