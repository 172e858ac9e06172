"""Defects found by use (issue 33, item 7), each pinned by the test that found it."""

from __future__ import annotations

import numpy as np
import pytest

from nnbench.corpus import MATRIX_FAMILIES, file_family, infer_tags
from nnbench.errors import SkipCell
from nnbench.methods import METHODS


@pytest.mark.parametrize("family", ["grid-laplacian", "graph-laplacian"])
def test_a_singular_laplacian_is_singular_and_not_spd(family, tmp_path):
    """Without its shift a Laplacian is positive semidefinite and singular; Cholesky finishes
    on it in floating point, and it was tagged `singular,spd`."""
    a = MATRIX_FAMILIES[family].make(64, seed=0, shift=0.0)
    dense = a.toarray() if hasattr(a, "toarray") else a
    for form in (a, dense):
        tags = infer_tags(form)
        assert "singular" in tags and "symmetric" in tags and "spd" not in tags
    np.save(tmp_path / "laplacian.npy", dense)
    tags = file_family(str(tmp_path / "laplacian.npy")).tags
    assert "singular" in tags and "spd" not in tags


@pytest.mark.parametrize("method", ["cg-none", "cg-jacobi"])
def test_methods_that_need_spd_decline_a_singular_laplacian(method):
    """What Cholesky finishes on with a pivot at rounding level is no SPD matrix for CG."""
    for n in (16, 256):  # Cholesky finishes on both (on n = 64 it fails: declined anyway)
        a = MATRIX_FAMILIES["grid-laplacian"].make(n, seed=1, shift=0.0)
        with pytest.raises(SkipCell, match="singular"):
            METHODS[method].prepare(a, device="cpu")
        METHODS[method].prepare(MATRIX_FAMILIES["grid-laplacian"].make(n, seed=1), device="cpu")


def test_no_family_declares_spd_and_singular():
    for family in MATRIX_FAMILIES.values():
        assert not {"spd", "singular"} <= set(family.tags), family.name
