"""Method contract over every registered method x family, and the studies' worked examples."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import compiled, doubling_method, instance_id, instances

from nnbench.check import (
    accuracy_problem,
    declines_by_shape,
    factor_problem,
    rank_k_problem,
    structure_problem,
)
from nnbench.corpus import MATRIX_FAMILIES
from nnbench.corpus.sparse import to_dense
from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods import (
    METHODS,
    Requirements,
    get_method,
    select_methods,
)
from nnbench.metrics import rel_err_fro

METHOD_NAMES = [name for name, m in METHODS.items() if m.group != "amortized"]
"""Every method that factorizes any matrix on its own (an amortized model needs its training
first and fits one size: tests/test_amortized.py holds it to the same contract)."""
SMALL = [item for item in instances() if item[1] in (None, 5) and max(item[0].shape(5)) <= 128]
"""Sizable families at n = 5 and the fixed matrices up to 128 on a side (the alphabet and the
larger meshes, 239 to 900, take minutes over every method: tests/test_meshes.py runs the
preconditioners on those)."""
# cond(A) * eps bounds what any backward-stable method can reach; these families are far from it
WELL_CONDITIONED = {
    "random-uniform",
    "random-gaussian",
    "symmetric",
    "identity",
    "diagonal-mn",
    "spd",
    "diag-dominant",
    "colour-wheel",
    "study004-doolittle",
}


@pytest.mark.parametrize("name", METHOD_NAMES)
@pytest.mark.parametrize("item", SMALL, ids=instance_id)
def test_contract(name, item):
    """Every method declines, with a reason, exactly the shapes it declares it cannot take
    and at run time only matrices that fail its declared `requires`; otherwise it returns
    factors that rebuild the input."""
    family, n = item
    method = METHODS[name].small_budget()
    given = family.make(n, seed=1)  # CSR for a sparse family: `factorize` takes either
    a = to_dense(given)
    rank = 2 if method.needs_rank else None
    reason = method.skip_reason(a.shape, rank=rank, dtype="float64", device="cpu")
    assert bool(reason) == declines_by_shape(method, a.shape, rank), reason
    if reason:
        with pytest.raises(NNBenchError, match=f"cannot run {re.escape(name)}"):
            method.factorize(given, rank=rank)
        return
    try:
        fact = method.factorize(given, rank=rank)
    except SkipCell as skip:  # a `skipped` row with this reason in a run
        assert skip.reason and not method.requires.met_by(a), (
            f"{name} declined a matrix that meets {method.requires}: {skip.reason}"
        )
        return
    assert factor_problem(method, a, fact) is None  # its kind, numpy, A's shape (history)
    if method.kind == "rank-k":  # Eckart-Young: nothing of rank k does better
        assert rank_k_problem(method, a, fact, rank) is None
    elif (
        method.group == "classical"
        and family.name in WELL_CONDITIONED
        and fact.exact
        and not method.approximate
    ):
        assert accuracy_problem(a, fact, 1e-13) is None
        # what a method loses by design (Gram-Schmidt's orthogonality) grows with cond(A)
        power = method.structure_cond_power
        lost = np.linalg.cond(a) ** power * 1e-15 if power else 0
        assert structure_problem(fact, 1e-13 + lost) is None


def test_declared_requirements_are_what_the_methods_decline():
    """Each declaration read by the contract test, on a matrix that fails it."""
    singular = np.array([[1.0, 0.0], [2.0, 0.0]])
    zero_pivot = np.array([[0.0, 1.0], [1.0, 0.0]])
    not_spd = np.array([[1.0, 2.0], [2.0, 1.0]])  # symmetric, positive diagonal, indefinite
    not_symmetric = np.array([[1.0, 2.0], [0.0, 1.0]])
    for name, a in [
        ("doolittle", zero_pivot),
        ("scipy-cholesky", not_spd),
        ("torch-cholesky", not_spd),
        ("gram-schmidt", singular),
        ("gram-schmidt-modified", singular),
        ("hybrid-lu-newton", singular),
        ("cg-none", not_symmetric),
        ("ic0", not_spd),
    ]:
        assert not METHODS[name].requires.met_by(a)
        with pytest.raises(SkipCell):
            METHODS[name].factorize(a)
    assert METHODS["scipy-lu"].requires.met_by(singular)  # partial pivoting declines nothing
    # a neural LU's configuration decides, for its variants too
    convex = select_methods("neural-lu-adam[init=convex]")[0]
    assert METHODS["neural-lu-adam"].requires.met_by(zero_pivot)
    assert not convex.requires.met_by(zero_pivot)
    with pytest.raises(SkipCell, match="no LU without pivoting"):
        convex.factorize(zero_pivot)
    with pytest.raises(NNBenchError, match="unknown tag 'sdp'"):
        Requirements(tags=frozenset({"sdp"}))


@pytest.mark.parametrize(
    ("name", "shape", "rank"),
    [("gram-schmidt", (3, 5), None), ("scipy-svds-arpack", (4, 4), 4), ("scipy-lu", (3, 2), None)],
)
def test_declared_shapes_are_what_the_methods_refuse(name, shape, rank):
    method = METHODS[name]
    assert declines_by_shape(method, shape, rank)
    assert method.skip_reason(shape, rank=rank, dtype="float64", device="cpu")
    square = (min(shape), min(shape))
    allowed = None if rank is None else min(shape) - 1
    assert not method.skip_reason(square, rank=allowed, dtype="float64", device="cpu")


@pytest.mark.parametrize(
    "name",
    [
        m
        for m in METHOD_NAMES
        if METHODS[m].group == "classical"
        and METHODS[m].kind != "precond"
        and not METHODS[m].approximate  # a closed-form one step: accurate in no dtype
    ],
)
def test_float32_stays_float32_accurate(name):
    method = METHODS[name]
    a = MATRIX_FAMILIES["spd"].make(12, seed=2, dtype="float32")
    rank = None
    if method.needs_rank:  # full rank where the solver allows it (ARPACK, LOBPCG: k < n)
        allowed = method.skip_reason((12, 12), rank=12, dtype="float32", device="cpu") is None
        rank = 12 if allowed else 11
    fact = method.factorize(a, rank=rank)
    s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    optimum = np.sqrt(np.sum(s[rank or 12 :] ** 2) / np.sum(s**2))
    assert rel_err_fro(a.astype(np.float64), fact.reconstruct()) < optimum + 1e-5


def test_doolittle_known_answer_study004():
    a = np.array([[8.0, 2, 9], [4, 9, 4], [6, 7, 9]])
    fact = get_method("doolittle").factorize(a)
    np.testing.assert_allclose(fact.L, [[1, 0, 0], [0.5, 1, 0], [0.75, 0.6875, 1]], rtol=1e-15)
    np.testing.assert_allclose(fact.U, [[8, 2, 9], [0, 8, -0.5], [0, 0, 2.59375]], rtol=1e-15)
    sign, logdet = fact.slogdet()
    assert sign * np.exp(logdet) == pytest.approx(166.0, rel=1e-14)


def test_lu_and_qr_known_answer_study003():
    a = np.array([[4.0, 3], [6, 3]])
    lu = get_method("doolittle").factorize(a)
    np.testing.assert_allclose(lu.L, [[1, 0], [1.5, 1]], rtol=1e-15)
    np.testing.assert_allclose(lu.U, [[4, 3], [0, -1.5]], rtol=1e-15)
    # Gram-Schmidt by hand: q1 = a1 / sqrt(52), r11 = sqrt(52), r12 = 30 / sqrt(52)
    for name in ("scipy-qr", "torch-qr"):
        qr = get_method(name).factorize(a)
        signs = np.sign(np.diag(qr.R))  # QR is unique up to the signs of R's diagonal
        q, r = qr.Q * signs, qr.R * signs[:, None]
        np.testing.assert_allclose(q[:, 0], np.array([4, 6]) / np.sqrt(52), rtol=1e-14)
        np.testing.assert_allclose(r[0], [np.sqrt(52), 30 / np.sqrt(52)], rtol=1e-14)
        np.testing.assert_allclose(q.T @ q, np.eye(2), atol=1e-15)


@pytest.mark.parametrize("name", ["scipy-lu", "torch-lu"])
def test_pivoted_lu_known_answer_study004(name):
    # PA = LU with P swapping rows 1 and 3 first (the study's worked example)
    a = np.array([[0.0, 5, 5], [2, 9, 0], [6, 8, 8]])
    fact = get_method(name).factorize(a)
    np.testing.assert_allclose(fact.P.T @ a, [[6, 8, 8], [2, 9, 0], [0, 5, 5]], atol=0)
    np.testing.assert_allclose(fact.L, [[1, 0, 0], [1 / 3, 1, 0], [0, 15 / 19, 1]], rtol=1e-14)
    np.testing.assert_allclose(
        fact.U, [[6, 8, 8], [0, 19 / 3, -8 / 3], [0, 0, 135 / 19]], rtol=1e-14
    )


def test_doolittle_skips_zero_pivot_with_a_reason():
    with pytest.raises(SkipCell, match="zero pivot at step 1.*partial pivoting"):
        get_method("doolittle").factorize(np.array([[0.0, 5, 5], [2, 9, 0], [6, 8, 8]]))


@pytest.mark.parametrize("name", ["doolittle", "scipy-lu", "torch-lu", "scipy-qr", "scipy-svd"])
def test_solve_known_answer_study004(name):
    a = np.array([[3.0, 2, -1], [2, -2, 4], [-1, 0.5, -1]])
    x = get_method(name).factorize(a).solve(np.array([1.0, -2, 0]))
    np.testing.assert_allclose(x, [1, -2, -2], rtol=1e-13)


def test_factorize_rejects_bad_input():
    lu = get_method("scipy-lu")
    with pytest.raises(NNBenchError, match="needs a square matrix, got 3x2"):
        lu.factorize(np.ones((3, 2)))
    with pytest.raises(NNBenchError, match="NaN/Inf"):
        lu.factorize(np.array([[1.0, np.nan], [0, 1]]))
    with pytest.raises(NNBenchError, match="2-D float32/float64"):
        lu.factorize(np.ones(3))
    with pytest.raises(NNBenchError, match="rank 4 is outside 1..3"):
        get_method("scipy-tsvd").factorize(np.eye(3), rank=4)
    with pytest.raises(NNBenchError, match="needs a rank k"):
        get_method("scipy-tsvd").factorize(np.eye(3))


def test_cuda_and_mps_are_skipped_with_a_reason_when_absent():
    import torch

    method = get_method("torch-lu")
    if not torch.cuda.is_available():
        reason = method.skip_reason((4, 4), rank=None, dtype="float64", device="cuda")
        assert reason == "no CUDA device on this machine"
    assert "CPU only" in get_method("scipy-lu").skip_reason(
        (4, 4), rank=None, dtype="float64", device="cuda"
    )


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", [m for m in METHOD_NAMES if METHODS[m].backend == "torch"])
def test_torch_methods_on_cuda(name):
    method = METHODS[name].small_budget()  # full study budgets take minutes of launches
    a = MATRIX_FAMILIES["spd"].make(64, seed=0)
    fact = method.factorize(a, rank=5 if method.needs_rank else None, device="cuda")
    approx = fact.reconstruct()
    assert approx.shape == a.shape and np.isfinite(approx).all()
    if name in ("torch-lu", "torch-qr", "torch-svd", "hybrid-lu-newton"):  # exact, budget or not
        assert rel_err_fro(a, approx) < 1e-12


def test_variant_selectors_split_parse_and_name_by_what_differs():
    from nnbench.methods import select_methods

    chosen = select_methods(
        "scipy-lu,neural-lu-study-final[lr=0.01,optimizer=sgd],hybrid-lu-newton[pivot=true]"
    )
    names = [m.name for m in chosen]
    # options in the config's field order; an option equal to the default is no variant
    assert names == ["scipy-lu", "neural-lu-study-final[optimizer=sgd,lr=0.01]", "hybrid-lu-newton"]
    variant = chosen[1]
    assert variant.options == "optimizer=sgd,lr=0.01" and variant.config.lr == 0.01
    assert METHODS["neural-lu-study-final"].config.optimizer == "adam"  # registered one untouched
    assert select_methods("hybrid-lu-newton[steps=1e3]")[0].config.steps == 1000


def test_config_hash_follows_the_configuration_not_the_name():
    """asv keys its history by `name@config_hash`: a changed configuration is a new series."""
    from nnbench.methods import select_methods

    base = METHODS["neural-lowrank-adam"]
    same = select_methods("neural-lowrank-adam[lr=0.03]")[0]
    other = select_methods("neural-lowrank-adam[lr=0.01]")[0]
    assert base.config_hash == same.config_hash != other.config_hash
    hashes = [m.config_hash for m in METHODS.values()]
    assert len(set(hashes)) == len(hashes)  # two registered methods never share a series


def test_a_code_fingerprint_follows_the_code_not_its_words():
    """Docstrings, comments and line positions are not code; a changed expression, constant
    or helper is."""
    from nnbench.methods.fingerprint import code_fingerprint

    base = (
        'def helper(x):\n    return x + 1\n\ndef f(x):\n    """Add one."""\n    return helper(x)\n'
    )
    same = (
        "\n\n# a comment\ndef helper(x):\n    # why\n    return x + 1\n\n"
        'def f(x):\n    """Add one, in other words."""\n\n    return helper(x)  # the helper\n'
    )
    edits = [
        base.replace("return x + 1", "return x + 2"),  # a constant of the helper
        base.replace("return x + 1", "return 1 + x"),  # an expression of the helper
        base.replace("return helper(x)", "return helper(x) * 1"),  # the function itself
    ]
    first = code_fingerprint(compiled(base, "f"))
    assert code_fingerprint(compiled(same, "f")) == first
    assert len({first, *(code_fingerprint(compiled(s, "f")) for s in edits)}) == 1 + len(edits)


def test_code_hash_changes_with_the_code_and_not_with_the_words():
    """Two versions of one method class: an edited `compute` is other code; a reworded
    description or docstring is not. Nor is a registered method's reworded description."""
    first = doubling_method()
    assert doubling_method(description="A times two", doc="Other words.").code_hash == (
        first.code_hash
    )
    assert doubling_method(left="x + x").code_hash != first.code_hash
    reworded = METHODS["scipy-lu"].with_config(None)
    reworded.description = "reworded: LAPACK getrf with partial pivoting"
    assert reworded.code_hash == METHODS["scipy-lu"].code_hash
    assert reworded.config_hash == METHODS["scipy-lu"].config_hash


def test_editing_code_a_method_reaches_changes_its_code_hash(edit_code):
    """A method's fingerprint covers the code its class reaches by name (here the training
    function an amortized method's setup calls) and the functions an instance holds (a
    library method's call); another class's code is not part of it."""
    from nnbench.methods.amortized import method as amortized_method

    amortized, scipy_lu = METHODS["amortized-lu"], METHODS["scipy-lu"]
    before, lu_before = amortized.code_hash, scipy_lu.code_hash
    original = amortized_method.train

    def train(config, device="cpu", dtype="float32"):
        trained = original(config, device, dtype)
        return trained  # an edit of the bytecode, not of the result

    edit_code(amortized_method, "train", train)
    assert amortized.code_hash != before
    assert scipy_lu.code_hash == lu_before
    call = scipy_lu.call
    edit_code(scipy_lu, "call", lambda x, rank, seed, config: call(x, rank, seed, config))
    assert scipy_lu.code_hash != lu_before


def _before_issue_22(name: str, a: np.ndarray, rank: int | None) -> dict[str, np.ndarray]:
    """A method's factors as its one timed call computed them before issue 22 (the dense
    factors and truncations assembled in the call itself)."""
    import scipy.linalg
    import torch
    from scipy.sparse.linalg import svds

    t = torch.from_numpy(a)
    if name == "scipy-lu":
        return dict(zip("PLU", scipy.linalg.lu(a, check_finite=False), strict=True))
    if name == "torch-lu":
        return dict(zip("PLU", (f.numpy() for f in torch.linalg.lu(t)), strict=True))
    if name == "scipy-cholesky":
        lower = scipy.linalg.cholesky(a, lower=True, check_finite=False)
        return {"L": lower, "U": lower.T}
    if name == "torch-cholesky":
        lower = torch.linalg.cholesky(t)
        return {"L": lower.numpy(), "U": lower.mT.numpy()}
    if name == "scipy-tsvd":
        u, s, vt = scipy.linalg.svd(a, full_matrices=False, check_finite=False)
        return {"left": u[:, :rank] * s[:rank], "right": vt[:rank]}
    if name == "torch-tsvd":
        u, s, vt = (f.numpy() for f in torch.linalg.svd(t, full_matrices=False))
        return {"left": u[:, :rank] * s[:rank], "right": vt[:rank]}
    if name == "torch-rsvd":
        torch.manual_seed(0)
        u, s, v = torch.svd_lowrank(t, q=min(rank + 10, *a.shape), niter=4)
        return {"left": (u[:, :rank] * s[:rank]).numpy(), "right": v[:, :rank].mT.numpy()}
    assert name == "scipy-svds-propack"
    u, s, vt = svds(
        a, k=rank, solver="propack", tol=0.0, maxiter=min(a.shape), rng=np.random.default_rng(0)
    )
    order = np.argsort(s)[::-1]
    return {"left": u[:, order] * s[order], "right": vt[order]}


@pytest.mark.parametrize(
    "name",
    [
        "scipy-lu",
        "torch-lu",
        "scipy-cholesky",
        "torch-cholesky",
        "scipy-tsvd",
        "torch-tsvd",
        "torch-rsvd",
        "scipy-svds-propack",
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.filterwarnings("ignore:Diagonal number:scipy.linalg.LinAlgWarning")  # lowrank
def test_factors_and_metrics_are_those_from_before_the_timed_call_was_split(name, dtype):
    """Issue 22: the library's call alone is timed and the factors are assembled after it;
    they are the same arrays, to the bit and the memory layout (a solve's rounding follows the
    layout), and so every metric is the same."""
    from nnbench.methods import FACTORIZATIONS
    from nnbench.metrics.evaluation import MetricInput, evaluate

    method = METHODS[name]
    for family, n in [("spd", 7), ("random-gaussian", 6), ("study004-pivot", None), ("lowrank", 5)]:
        a = MATRIX_FAMILIES[family].make(n, seed=4, dtype=dtype)
        if method.kind == "lu" and not method.requires.met_by(a):
            continue
        rank = 2 if method.needs_rank else None
        before = _before_issue_22(name, a, rank)
        fact = method.factorize(a, rank=rank)
        assert fact.factors.keys() == before.keys()
        for field, old in before.items():
            new = fact.factors[field]
            np.testing.assert_array_equal(new, old, err_msg=f"{name} {family} {field}")
            assert (new.dtype, new.strides) == (old.dtype, old.strides), (name, family, field)
        old_fact = FACTORIZATIONS[method.kind](**before)
        metrics = [
            evaluate(MetricInput(a=a.astype(np.float64), fact=f, dtype=dtype, rank=rank))
            for f in (fact, old_fact)
        ]
        assert repr(metrics[0]) == repr(metrics[1]), (name, family)  # NaN == NaN here


@pytest.mark.filterwarnings("ignore:The problem size:UserWarning")  # LOBPCG on a 6x6 matrix
def test_the_timed_call_of_a_classical_method_is_the_library_call_alone(monkeypatch):
    """Issue 22: no symmetry check and no dense P, L, U inside `compute` (the timed region):
    it returns the library's output, the checks run in `prepare` and the assembly in
    `finish`, both untimed."""
    import torch

    from nnbench.methods.base import LibraryOutput

    def forbidden(*args, **kwargs):
        raise AssertionError("called inside the timed region")

    g = np.random.default_rng(0).standard_normal((6, 6))
    spd = g @ g.T / 6 + 6 * np.eye(6)  # diagonally dominant too (IC(0))
    for method in (m for m in METHODS.values() if m.group == "classical"):
        rank = 2 if method.needs_rank else None
        a = spd if method.requires.tags else g
        for batch in (1, 3) if method.batchable else (1,):
            x = method.prepare(a if batch == 1 else np.stack([a] * batch), device="cpu")
            with monkeypatch.context() as trap:
                for module, attribute in [
                    (np, "allclose"),
                    (torch, "allclose"),
                    (torch, "lu_unpack"),
                    (np, "argsort"),
                ]:
                    trap.setattr(module, attribute, forbidden)
                raw = method.compute(x, rank=rank, seed=0)
            assert isinstance(raw, LibraryOutput), method.name
            facts = method.finish_batch(raw) if batch > 1 else [method.finish(raw)]
            assert len(facts) == batch and all(f.kind == method.kind for f in facts)


@pytest.mark.parametrize("name", ["scipy-cholesky", "torch-cholesky"])
def test_cholesky_skips_what_is_not_spd_before_or_after_the_timed_call(name):
    """Not symmetric: declined in `prepare`, before timing. Symmetric but indefinite: the
    library's own test (scipy's error in the call, torch's `info` read in `finish`). Either
    way a run's row is `skipped` with the reason, a stack's too."""
    from nnbench.api import Execution, Grid, run_grid
    from nnbench.methods.classical import NOT_SPD

    method = METHODS[name]
    with pytest.raises(SkipCell, match="not symmetric positive definite"):
        method.prepare(np.array([[2.0, 1.0], [0.0, 2.0]]), device="cpu")
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(SkipCell, match="not symmetric positive definite"):
        method.finish(method.compute(method.prepare(indefinite, device="cpu"), rank=None, seed=0))
    for batches in ((1,), (3,)) if method.batchable else ((1,),):
        grid = Grid(
            matrices=("random-gaussian", "symmetric", "spd"),
            methods=(name,),
            sizes=(6,),
            batches=batches,
            timing_repeats=1,
        )
        rows = run_grid(grid, execution=Execution(progress=False)).results.set_index("matrix")
        assert rows.status.to_dict() == {
            "random-gaussian": "skipped",
            "symmetric": "skipped",
            "spd": "ok",
        }
        assert (rows.reason[rows.status == "skipped"] == NOT_SPD).all()


def test_sketch_power_without_iterations_is_sketch_gaussian():
    a = np.random.default_rng(3).standard_normal((30, 24))
    gaussian = get_method("sketch-gaussian").factorize(a, rank=4, seed=11).reconstruct()
    power0 = select_methods("sketch-power[q=0]")[0].factorize(a, rank=4, seed=11).reconstruct()
    np.testing.assert_allclose(power0, gaussian, rtol=0, atol=1e-12)
    power2 = select_methods("sketch-power[q=2]")[0].factorize(a, rank=4, seed=11).reconstruct()
    best = np.linalg.svd(a, compute_uv=False)[4:]
    optimum = np.sqrt(np.sum(best**2))
    assert optimum <= np.linalg.norm(a - power2) < np.linalg.norm(a - gaussian)


def test_sketch_power_validates_q():
    with pytest.raises(NNBenchError, match="q must be an integer >= 0"):
        select_methods("sketch-power[q=-1]")


def test_sketch_pca_has_orthonormal_rows_and_leads_on_its_own_distribution():
    import torch

    method = get_method("sketch-pca")
    like = torch.zeros(1, dtype=torch.float64)
    s = method.sketch(32, 8, like).numpy()
    assert s.shape == (8, 32)
    np.testing.assert_allclose(s @ s.T, np.eye(8), rtol=0, atol=1e-10)
    crops = MATRIX_FAMILIES["image-crops"]
    errors = {"sketch-pca": [], "sketch-gaussian": []}
    for seed in range(3):
        a = crops.make(32, seed=10_000 + seed)
        for name, found in errors.items():
            found.append(
                rel_err_fro(a, get_method(name).factorize(a, rank=4, seed=seed).reconstruct())
            )
    assert np.mean(errors["sketch-pca"]) < np.mean(errors["sketch-gaussian"])


@pytest.mark.parametrize("name", ["closed-form-lu", "closed-form-cholesky"])
def test_closed_forms_are_exact_on_a_diagonal_matrix(name):
    d = np.diag([1.0, 4.0, 9.0, 16.0])
    fact = get_method(name).factorize(d)
    np.testing.assert_allclose(fact.reconstruct(), d, rtol=0, atol=1e-14)
    expected_l = np.eye(4) if name == "closed-form-lu" else np.diag([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(fact.L, expected_l, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    ("name", "family"), [("closed-form-lu", "diag-dominant"), ("closed-form-cholesky", "spd")]
)
def test_closed_forms_batch_as_they_factor_one(name, family):
    method = get_method(name)
    stack = np.stack([MATRIX_FAMILIES[family].make(8, seed=s) for s in range(5)])
    batch = method.finish_batch(
        method.compute(method.prepare(stack, device="cpu"), rank=None, seed=0)
    )
    for a, fact in zip(stack, batch, strict=True):
        one = method.factorize(a)
        np.testing.assert_allclose(fact.L, one.L, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(fact.U, one.U, rtol=1e-13, atol=1e-13)
        error = rel_err_fro(a, fact.reconstruct())
        assert np.isfinite(error) and error < 1.0


def test_closed_form_lu_formula_and_its_zero_pivot_skip():
    a = np.array([[4.0, 1.0, 2.0], [2.0, 5.0, 1.0], [1.0, 3.0, 6.0]])
    fact = get_method("closed-form-lu").factorize(a)
    np.testing.assert_allclose(fact.L, np.eye(3) + np.tril(a, -1) / np.diag(a), atol=1e-15)
    np.testing.assert_allclose(fact.U, np.triu(a), atol=0)
    spd = a @ a.T
    cholesky = get_method("closed-form-cholesky").factorize(spd)
    np.testing.assert_allclose(cholesky.L, np.tril(spd) / np.sqrt(np.diag(spd)), atol=1e-14)
    with pytest.raises(SkipCell, match="zero diagonal"):
        get_method("closed-form-lu").prepare(np.array([[0.0, 1.0], [1.0, 1.0]]), device="cpu")
