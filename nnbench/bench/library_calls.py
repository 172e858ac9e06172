"""Each classical method's bare library call (a textbook method's own loop), with the method's
own options (its registered `config`, `DEFAULT_MAXITER`, `ILUT_OPTIONS`), one table per task:
what `nnbench bench timing-overhead` times the method's `compute` against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
import torch

from nnbench.elimination import doolittle_lu
from nnbench.methods import get_method
from nnbench.methods.classical import (
    DEFAULT_MAXITER,
    SKETCH_PCA,
    closed_form_cholesky,
    closed_form_lu,
    gram_schmidt,
)
from nnbench.methods.preconditioners import ILUT_OPTIONS, ILUT_ORDERING, ic0, sparse_ic0
from nnbench.methods.sketch import best_in_row_space, count_sketch, gaussian_sketch, sketch_power
from nnbench.methods.streaming import frequent_directions, incremental_svd, single_pass_rsvd

Bind = Callable[[Any, int], Callable[[], object]]
"""`(input, rank) ->` the call, ready to time."""


@dataclass(frozen=True)
class LibraryCall:
    """One line of a table: the call's `label`, as timing-overhead prints it, and `bind`."""

    label: str
    bind: Bind


def _configured(name: str, call: Callable[[Any, int, int, Any], object]) -> Bind:
    """`call(x, k, 0, config)` with the method's own config: an own loop as `compute` calls
    it, at seed 0."""
    config = get_method(name).config
    return lambda x, k: partial(call, x, k, 0, config)


def lu_calls() -> dict[str, LibraryCall]:
    """LU and Cholesky (task `lu`)."""
    return {
        "doolittle": LibraryCall(
            "doolittle_lu (textbook loop)", lambda x, k: partial(doolittle_lu, x)
        ),
        "scipy-lu": LibraryCall(
            "scipy.linalg.lu_factor",
            lambda x, k: partial(scipy.linalg.lu_factor, x, check_finite=False),
        ),
        "scipy-cholesky": LibraryCall(
            "scipy.linalg.cho_factor",
            lambda x, k: partial(scipy.linalg.cho_factor, x, lower=True, check_finite=False),
        ),
        "torch-lu": LibraryCall(
            "torch.linalg.lu_factor_ex", lambda x, k: partial(torch.linalg.lu_factor_ex, x)
        ),
        "torch-cholesky": LibraryCall(
            "torch.linalg.cholesky_ex", lambda x, k: partial(torch.linalg.cholesky_ex, x)
        ),
        "closed-form-lu": LibraryCall(
            "closed form (torch)", _configured("closed-form-lu", closed_form_lu)
        ),
        "closed-form-cholesky": LibraryCall(
            "closed form (torch)", _configured("closed-form-cholesky", closed_form_cholesky)
        ),
    }


def qr_calls() -> dict[str, LibraryCall]:
    """QR (task `qr`)."""
    return {
        "scipy-qr": LibraryCall(
            "scipy.linalg.qr",
            lambda x, k: partial(scipy.linalg.qr, x, mode="economic", check_finite=False),
        ),
        "gram-schmidt": LibraryCall(
            "gram_schmidt (textbook loop)", lambda x, k: partial(gram_schmidt, x, modified=False)
        ),
        "gram-schmidt-modified": LibraryCall(
            "gram_schmidt (textbook loop)", lambda x, k: partial(gram_schmidt, x, modified=True)
        ),
        "torch-qr": LibraryCall(
            "torch.linalg.qr", lambda x, k: partial(torch.linalg.qr, x, mode="reduced")
        ),
    }


def _svds(solver: str) -> Bind:
    """`scipy.sparse.linalg.svds` as `scipy-svds-<solver>` calls it (its `Krylov` config),
    the generator drawn inside the call as there."""
    config = get_method(f"scipy-svds-{solver}").config

    def bind(x: Any, k: int) -> Callable[[], object]:
        maxiter = config.maxiter or DEFAULT_MAXITER[solver](x.shape, k)
        rng = np.random.default_rng
        return lambda: scipy.sparse.linalg.svds(
            x, k=k, solver=solver, tol=config.tol, maxiter=maxiter, rng=rng(0)
        )

    return bind


def svd_calls() -> dict[str, LibraryCall]:
    """The SVD (task `svd`) and rank-k by a full, a Krylov or a randomized SVD."""
    rsvd = get_method("torch-rsvd").config
    svd = LibraryCall(
        "scipy.linalg.svd",
        lambda x, k: partial(scipy.linalg.svd, x, full_matrices=False, check_finite=False),
    )
    torch_svd = LibraryCall(
        "torch.linalg.svd", lambda x, k: partial(torch.linalg.svd, x, full_matrices=False)
    )
    return {
        "scipy-svd": svd,
        "scipy-tsvd": svd,
        "torch-svd": torch_svd,
        "torch-tsvd": torch_svd,
        **{
            f"scipy-svds-{solver}": LibraryCall("scipy.sparse.linalg.svds", _svds(solver))
            for solver in ("arpack", "propack", "lobpcg")
        },
        "torch-rsvd": LibraryCall(
            "torch.svd_lowrank",
            lambda x, k: partial(
                torch.svd_lowrank, x, q=min(k + rsvd.oversample, *x.shape), niter=rsvd.niter
            ),
        ),
    }


def _sketched(name: str, draw: Callable[..., Any]) -> Bind:
    """Sketch-and-solve with a sketch of `draw`'s kind, of the rows the method's config gives."""
    config = get_method(name).config

    def call(x: Any, k: int) -> object:
        gen = torch.Generator(device=x.device).manual_seed(0)
        s = draw(config.m(k, x.shape[0]), x.shape[0], gen, x)
        return best_in_row_space(x, s @ x, k)

    return lambda x, k: partial(call, x, k)


def _pca_sketched(x: Any, k: int) -> Callable[[], object]:
    """Sketch-and-solve with sketch-pca's basis, fitted here (as in its `prepare`)."""
    s = SKETCH_PCA.sketch(x.shape[0], SKETCH_PCA.config.m(k, x.shape[0]), x)
    return lambda: best_in_row_space(x, s @ x, k)


def sketch_calls() -> dict[str, LibraryCall]:
    """Rank-k by streaming or by sketching (own loops over torch)."""
    return {
        "stream-fd": LibraryCall(
            "frequent_directions (own loop)", _configured("stream-fd", frequent_directions)
        ),
        "stream-rsvd1": LibraryCall(
            "single_pass_rsvd (own loop)", _configured("stream-rsvd1", single_pass_rsvd)
        ),
        "stream-isvd": LibraryCall(
            "incremental_svd (own loop)", _configured("stream-isvd", incremental_svd)
        ),
        "sketch-gaussian": LibraryCall(
            "best_in_row_space (sketch)", _sketched("sketch-gaussian", gaussian_sketch)
        ),
        "sketch-countsketch": LibraryCall(
            "best_in_row_space (sketch)", _sketched("sketch-countsketch", count_sketch)
        ),
        "sketch-power": LibraryCall(
            "sketch_power (q = 1)", _configured("sketch-power", sketch_power)
        ),
        "sketch-pca": LibraryCall("best_in_row_space (sketch)", _pca_sketched),
    }


def _csr(x: Any) -> Any:
    return scipy.sparse.csr_array(np.asarray(x, dtype=np.float64))


def _csc(x: Any) -> Any:
    return scipy.sparse.csc_array(_csr(x))


def _ilut(x: Any) -> object:
    return scipy.sparse.linalg.spilu(
        _csc(x),
        drop_tol=ILUT_OPTIONS.drop_tol,
        fill_factor=ILUT_OPTIONS.fill_factor,
        **ILUT_ORDERING,
    )


def precond_calls() -> dict[str, LibraryCall]:
    """The classical preconditioners (task `precond`). The sparse ones convert the
    (dense-stored) matrix to CSR inside their timed call, as the method does: the corpus is
    dense; the ratio is the rest."""
    from pyamg import smoothed_aggregation_solver  # here: nnbench imports without pyamg

    return {
        "cg-none": LibraryCall(
            "scipy.sparse.eye_array (CSR)",
            lambda x, k: partial(scipy.sparse.eye_array, x.shape[0], format="csr"),
        ),
        "cg-jacobi": LibraryCall(
            "diags_array(sqrt(diag(x))) (CSR)",
            lambda x, k: lambda: scipy.sparse.diags_array(np.sqrt(np.diagonal(x)), format="csr"),
        ),
        "ic0": LibraryCall("ic0 (textbook loop)", lambda x, k: partial(ic0, x)),
        "sparse-ic0": LibraryCall("to CSR + sparse_ic0", lambda x, k: lambda: sparse_ic0(_csr(x))),
        "ilut": LibraryCall("to CSC + scipy.sparse.linalg.spilu", lambda x, k: partial(_ilut, x)),
        "amg": LibraryCall(
            "to CSR + pyamg smoothed aggregation",
            lambda x, k: lambda: smoothed_aggregation_solver(_csr(x)).aspreconditioner(cycle="V"),
        ),
        "sparse-direct": LibraryCall(
            "to CSC + scipy.sparse.linalg.splu",
            lambda x, k: lambda: scipy.sparse.linalg.splu(_csc(x)),
        ),
    }


TABLES = (lu_calls, qr_calls, svd_calls, sketch_calls, precond_calls)


def library_calls() -> dict[str, LibraryCall]:
    """Every table's calls, by method name."""
    return {name: call for table in TABLES for name, call in table().items()}
