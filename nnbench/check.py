"""`nnbench check NAME...`: the method contract that the tests hold every shipped method to,
as a command for a method nnbench does not ship (scikit-learn's `check_estimator` is the
model): one `CheckResult` per method and check, printed as a line each.

Each check runs the method at its `small_budget` (a contract, not an accuracy, is checked),
set up once per device and dtype in a scratch folder, on the CPU (and on CUDA for a torch
method where there is one). The inputs: well-conditioned n = 64 matrices (SPD, diagonally
dominant, Gaussian 96 x 64 and 64 x 96), every corpus family at n = 5 (fixed ones up to 64 a
side), and small shapes for the declared refusals. The helpers that judge one factorization
(`factor_problem`, `rank_k_problem`, `accuracy_problem`) are those of tests/test_methods.py.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nnbench.corpus import MATRIX_FAMILIES
from nnbench.corpus.sparse import Matrix, to_dense
from nnbench.devices import DEVICES
from nnbench.errors import Diverged, NNBenchError, SkipCell
from nnbench.methods import FACTORIZATIONS, GROUPS, KINDS, Factorization, Method, RunContext
from nnbench.methods.base import BACKENDS, LibraryOutput
from nnbench.metrics import rel_err_fro
from nnbench.running.guard import GroupRuleViolation, refusing_linalg
from nnbench.running.measure import first_line

N = 64  # the side of the main inputs
RANK = 5  # a rank-k method's rank on them (2 on the corpus's n = 5 ones, as the tests do)
SEED = 3
SAME_SEED_RTOL = 1e-10  # two calls with one seed: factors this close, relative to their largest
BACKWARD_SCALE = 10.0  # an exact method's backward error on a well-conditioned A: <= this n eps
STRUCTURE = {
    "lu": "L lower and U upper triangular",
    "qr": "Q with orthonormal columns and R upper triangular",
    "svd": "U and V with orthonormal columns",
    "precond": "L lower triangular",
}
"""What each kind's factors must be, in words (`Factorization.structure_error` measures it)."""
TRIANGLES = {"lu": {"L": "lower", "U": "upper"}, "qr": {"R": "upper"}, "precond": {"L": "lower"}}
"""The triangular factors of each kind, to name the one that is not."""


@dataclass(frozen=True)
class CheckResult:
    """One check of one method: passed or not, and why (a failure's reason; a note such as
    'not held: ...' for a check that does not apply to this method)."""

    method: str
    check: str
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str = ""


PASSED = Verdict(True)


def not_held(why: str) -> Verdict:
    return Verdict(True, f"not held: {why}")


@dataclass(frozen=True)
class Probe:
    """An input: a label for reasons ("spd 64x64"), the matrix as a method gets it (CSR for
    a sparse family) and dense."""

    label: str
    given: Matrix
    dense: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.dense.shape[0]), int(self.dense.shape[1]))


def family_probe(name: str, n: int | None, *, seed: int = 1, dtype: str = "float64") -> Probe:
    given = MATRIX_FAMILIES[name].make(n, seed=seed, dtype=dtype)
    dense = to_dense(given)
    return Probe(f"{name} {dense.shape[0]}x{dense.shape[1]}", given, dense)


def gaussian_probe(m: int, n: int, *, dtype: str = "float64") -> Probe:
    a = np.random.default_rng(SEED).standard_normal((m, n)).astype(dtype)
    return Probe(f"Gaussian {m}x{n}", a, a)


def well_conditioned(dtype: str = "float64") -> list[Probe]:
    """Inputs every backward-stable method factors to rounding level (cond below 100)."""
    return [
        family_probe("spd", N, dtype=dtype),
        family_probe("diag-dominant", N, dtype=dtype),
        gaussian_probe(96, N, dtype=dtype),
        gaussian_probe(N, 96, dtype=dtype),
    ]


def corpus_probes() -> list[Probe]:
    """Every family at n = 5, fixed-size ones up to 64 a side (as tests/test_methods.py)."""
    out = []
    for family in MATRIX_FAMILIES.values():
        if family.sizable or max(family.shape()) <= N:
            out.append(family_probe(family.name, 5 if family.sizable else None))
    return out


def declines_by_shape(method: Method, shape: tuple[int, int], rank: int | None) -> bool:
    """Whether what `method` declares of its input's shape rules this one out."""
    m, n = shape
    return (
        (method.square_only and m != n)
        or (method.tall_only and m < n)
        or (method.needs_rank and (rank is None or not 1 <= rank <= min(shape)))
        or (method.rank_below_min and rank is not None and rank >= min(shape))
    )


def factor_problem(method: Method, a: np.ndarray, fact: Factorization) -> str | None:
    """Factors of the declared kind, numpy arrays, that rebuild A's shape in float64; a
    `neural` method's with its (finite) training history. None: no problem."""
    if not isinstance(fact, Factorization) or fact.kind != method.kind:
        return f"returned {type(fact).__name__}, not a factorization of kind {method.kind}"
    arrays = [k for k, f in fact.factors.items() if not isinstance(f, np.ndarray)]
    if arrays:
        return f"factor {arrays[0]} is not a numpy array"
    approx = fact.reconstruct()
    if approx.shape != a.shape or approx.dtype != np.float64:
        return f"the factors rebuild a {approx.dtype} {approx.shape}, not A's {a.shape}"
    history = fact.history
    if method.group == "neural":
        if history is None or history.steps == 0:
            return "a neural method's factors carry no training history (`history`)"
        if not np.isfinite(history.loss).all():
            return "its training history has NaN/Inf losses"
    return None


def rank_k_problem(
    method: Method, a: np.ndarray, fact: Factorization, rank: int, *, atol: float = 1e-12
) -> str | None:
    """A rank-k approximation: rank at most k, no better than the Eckart-Young optimum, and
    equal to it where the method declares itself `optimal`."""
    approx = fact.reconstruct()
    s = np.linalg.svd(a, compute_uv=False)
    optimum = float(np.sqrt(np.sum(s[rank:] ** 2) / np.sum(s**2)))
    error = rel_err_fro(a, approx)
    found = int(np.linalg.matrix_rank(approx))
    if found > rank:
        return f"its approximation has rank {found} > k = {rank}"
    if method.optimal and not abs(error - optimum) <= atol:
        return f"declared optimal, its error {error:.3e} is not the optimum {optimum:.3e}"
    if error < optimum - atol:
        return f"its error {error:.3e} beats the rank-{rank} optimum {optimum:.3e}: not rank k"
    return None


def structure_problem(fact: Factorization, tol: float) -> str | None:
    """The kind's structure (triangular, orthonormal) to within `tol` (`structure_error`)."""
    error = fact.structure_error()
    if not error > tol:  # (NaN: no structure to hold, e.g. an operator without L)
        return None
    for name, side in TRIANGLES.get(fact.kind, {}).items():
        m = fact.factors.get(name)
        if m is None:
            continue
        outside = np.triu(m, 1) if side == "lower" else np.tril(m, -1)
        share = float(np.linalg.norm(outside) / (np.linalg.norm(m) or 1.0))
        if share > tol:
            where = "above" if side == "lower" else "below"
            return (
                f"{name} is not {side} triangular: {share:.2g} of its norm lies {where} the "
                f"diagonal (tolerance {tol:.1e})"
            )
    return f"structure error {error:.2e} > {tol:.1e}: {STRUCTURE[fact.kind]}"


def accuracy_problem(a: np.ndarray, fact: Factorization, tol: float) -> str | None:
    """An exact kind's backward error ||A - factors||_F / ||A||_F within `tol`."""
    error = rel_err_fro(a, fact.reconstruct())
    if not error <= tol:
        return f"backward error {error:.2e} > {tol:.1e}"
    return None


Outcome = Factorization | Exception


@dataclass
class Subject:
    """A method under check: at its small budget, set up once per (device, dtype) in
    `folder`, with what it returned for each input kept (checks share them)."""

    method: Method
    folder: Path
    ready_methods: dict[tuple[str, str], Method] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)

    def ready(self, device: str = "cpu", dtype: str = "float64") -> Method:
        key = (device, dtype)
        if key not in self.ready_methods:
            context = RunContext(folder=self.folder, device=device, dtype=dtype)
            self.ready_methods[key] = self.method.setup(context)
        return self.ready_methods[key]

    def rank(self, shape: tuple[int, int]) -> int | None:
        return (RANK if min(shape) > RANK else 2) if self.method.needs_rank else None

    def declines(self, probe: Probe, device: str = "cpu") -> bool:
        """Whether it declines `probe` before any work: by its declarations, or by its own
        `skip_reason` (an amortized model that factorizes one size)."""
        shape, rank, dtype = probe.shape, self.rank(probe.shape), str(probe.dense.dtype)
        return declines_by_shape(self.method, shape, rank) or bool(
            self.method.skip_reason(shape, rank=rank, dtype=dtype, device=device)
        )

    def factorize(self, probe: Probe, *, again: bool = False) -> Outcome:
        """`factorize` on `probe` (on the CPU, in its dtype, with seed `SEED`): the factors or
        the exception; the first call's, unless `again` asks for another call."""
        key = (probe.label, str(probe.dense.dtype))
        if again or key not in self.outcomes:
            try:
                method = self.ready(dtype=str(probe.dense.dtype))
                outcome: Outcome = method.factorize(
                    probe.given, rank=self.rank(probe.shape), seed=SEED
                )
            except Exception as exc:  # (judged by the checks: SkipCell may be fine)
                outcome = exc
            if again:
                return outcome
            self.outcomes[key] = outcome
        return self.outcomes[key]

    def factorized(self, probes: Sequence[Probe]) -> Iterator[tuple[Probe, Factorization]]:
        """The probes it accepts and factors, with their factors; raises `CheckFailed` on one
        it crashes on or declines although it meets its declared requirements."""
        for probe in probes:
            if self.declines(probe):
                continue
            outcome = self.factorize(probe)
            if isinstance(outcome, Factorization):
                yield probe, outcome
            elif isinstance(outcome, SkipCell) and not self.method.requires.met_by(probe.dense):
                continue
            else:
                raise CheckFailed(f"on {probe.label}: {first_line(outcome)}")


class CheckFailed(Exception):
    """A check's reason to fail, raised from a helper deep in it."""


def _every(subject: Subject, probes: Sequence[Probe], judge: Callable[..., str | None]) -> Verdict:
    """`judge(probe, fact)` on every probe the method factors: the first problem fails."""
    count = 0
    for probe, fact in subject.factorized(probes):
        count += 1
        problem = judge(probe, fact)
        if problem:
            return Verdict(False, f"on {probe.label}: {problem}")
    if not count:
        return Verdict(False, f"it factored none of {', '.join(p.label for p in probes)}")
    return PASSED


def check_declaration(subject: Subject) -> Verdict:
    method = subject.method
    for what, value, allowed in [
        ("kind", method.kind, KINDS),
        ("group", method.group, GROUPS),
        ("backend", method.backend, tuple(BACKENDS)),
    ]:
        if value not in allowed:
            return Verdict(False, f"{what} {value!r} is none of {', '.join(allowed)}")
    if not method.name or any(c in method.name for c in " ,"):
        return Verdict(False, f"name {method.name!r}: one word, no comma (a --methods term)")
    return PASSED


def check_factors(subject: Subject) -> Verdict:
    method = subject.method
    return _every(subject, well_conditioned(), lambda p, f: factor_problem(method, p.dense, f))


def check_dtype_and_device(subject: Subject) -> Verdict:
    """Its factors in the input's dtype, and (torch) on the input's device."""
    method = subject.method
    devices = [d for d in BACKENDS[method.backend].devices if d == "cpu" or d == "cuda"]
    devices = [d for d in devices if not DEVICES[d].missing()]
    for device in devices:
        for dtype in ("float32", "float64"):
            if dtype == "float64" and not DEVICES[device].float64:
                continue
            probe = family_probe("spd", N, dtype=dtype)
            if subject.declines(probe, device):
                probe = gaussian_probe(96, N, dtype=dtype)
            if subject.declines(probe, device):
                continue
            ready = subject.ready(device, dtype)
            try:
                x = ready.prepare(probe.given, device=device)
                raw = ready.compute(x, rank=subject.rank(probe.shape), seed=SEED)
                fact = ready.finish(raw)
            except (SkipCell, Diverged):
                continue
            output = raw.output if isinstance(raw, LibraryOutput) else raw
            elsewhere = _off_device(output, device)
            if elsewhere:
                return Verdict(False, f"on {device}, {elsewhere}")
            for name, factor in fact.factors.items():
                if factor.dtype != np.dtype(dtype):
                    return Verdict(False, f"factor {name} is {factor.dtype} for a {dtype} input")
    return PASSED


def _off_device(output: Any, device: str) -> str:
    """Which of a computed result's tensors is not on `device` ("" if none)."""
    values = (
        output.items()
        if isinstance(output, dict)
        else enumerate(output if isinstance(output, tuple | list) else [output])
    )
    for name, value in values:
        where = getattr(getattr(value, "device", None), "type", None)
        if where is not None and where != device:
            return f"{name} came back on {where}"
    return ""


def check_structure(subject: Subject) -> Verdict:
    method = subject.method
    if method.kind not in STRUCTURE:
        return not_held(f"{method.kind} factors have no structure to hold")
    eps = float(np.finfo(np.float64).eps)

    def judge(probe: Probe, fact: Factorization) -> str | None:
        power = method.structure_cond_power
        lost = float(np.linalg.cond(probe.dense)) ** power if power else 0.0
        return structure_problem(fact, BACKWARD_SCALE * N * eps * (1.0 + lost))

    return _every(subject, well_conditioned(), judge)


def check_backward_error(subject: Subject) -> Verdict:
    method = subject.method
    if method.needs_rank or not FACTORIZATIONS[method.kind].exact:
        return not_held(f"{method.kind} factors approximate A by kind")
    if method.approximate:
        return not_held("declared approximate")
    if method.group != "classical":
        return not_held(f"a {method.group} method's accuracy is what the benchmark measures")
    tol = BACKWARD_SCALE * N * float(np.finfo(np.float64).eps)
    return _every(subject, well_conditioned(), lambda p, f: accuracy_problem(p.dense, f, tol))


def check_rank_k(subject: Subject) -> Verdict:
    method = subject.method
    if not method.needs_rank:
        return not_held(f"{method.kind} is not rank-k")

    def judge(probe: Probe, fact: Factorization) -> str | None:
        rank = subject.rank(probe.shape)
        assert rank is not None
        return rank_k_problem(method, probe.dense, fact, rank)

    return _every(subject, well_conditioned(), judge)


def _shapes_and_ranks(method: Method) -> list[tuple[tuple[int, int], int | None]]:
    shapes = [(8, 8), (12, 8), (8, 12)]
    ranks: tuple[int | None, ...] = (None, 0, 1, 7, 8, 9) if method.needs_rank else (None,)
    return [(shape, rank) for shape in shapes for rank in ranks]


def check_declared_refusals(subject: Subject) -> Verdict:
    """Declines the shapes it declares it cannot take (`square_only`, `tall_only`, a rank
    outside 1..min(m, n), `rank_below_min`), with a reason, before any work (its own
    `skip_reason` may decline more, saying why); and at run time only matrices that fail its
    `requires`. (The shipped methods' test also asks that they decline nothing more.)"""
    method = subject.method
    for shape, rank in _shapes_and_ranks(method):
        reason = method.skip_reason(shape, rank=rank, dtype="float64", device="cpu")
        declared = declines_by_shape(method, shape, rank)
        at = f"{shape[0]}x{shape[1]}" + ("" if rank is None else f" at rank {rank}")
        if declared and not reason:
            return Verdict(False, f"does not decline {at}, which its declarations rule out")
        if declared:
            a = np.random.default_rng(SEED).standard_normal(shape)
            try:
                method.factorize(a, rank=rank)
            except NNBenchError:
                continue
            except Exception as exc:
                return Verdict(False, f"factorize on {at} raised {first_line(exc)}, not why")
            return Verdict(False, f"factorize ran on {at}, which it declines")
    for probe in corpus_probes():
        if subject.declines(probe):
            continue
        outcome = subject.factorize(probe)
        if isinstance(outcome, SkipCell):
            if not outcome.reason:
                return Verdict(False, f"declined {probe.label} without a reason")
            if method.requires.met_by(probe.dense):
                return Verdict(
                    False,
                    f"declined {probe.label}, which meets its requirements "
                    f"({method.requires}): {outcome.reason}",
                )
    return PASSED


def check_declines_by_skipcell(subject: Subject) -> Verdict:
    """Over the corpus, what it cannot factor is a `SkipCell` (or `Diverged`), not a crash."""
    for probe in corpus_probes():
        if subject.declines(probe):
            continue
        outcome = subject.factorize(probe)
        if isinstance(outcome, Exception) and not isinstance(outcome, SkipCell | Diverged):
            return Verdict(
                False,
                f"on {probe.label}: {first_line(outcome)} (decline what it cannot factor by "
                "raising SkipCell with the reason)",
            )
    return PASSED


def check_same_seed(subject: Subject) -> Verdict:
    probes = well_conditioned()
    for probe in (probes[0], probes[2]):  # square and tall
        if subject.declines(probe):
            continue
        first, again = subject.factorize(probe), subject.factorize(probe, again=True)
        if not isinstance(first, Factorization) or not isinstance(again, Factorization):
            continue  # (what it declines or where it crashes: the other checks say)
        for name, factor in first.factors.items():
            other = again.factors[name]
            gap = float(np.max(np.abs(factor - other), initial=0.0))
            # rounding-level only: BLAS may round a product differently with the memory
            # alignment of its operands (stream-rsvd1: 9e-15 in 1 call of 6)
            if not gap <= SAME_SEED_RTOL * float(np.max(np.abs(factor), initial=0.0)):
                return Verdict(
                    False,
                    f"two calls with seed {SEED} on {probe.label} gave different {name} (max "
                    f"difference {gap:.1e}): draw every random number from `seed`",
                )
    return PASSED


def check_group_rule(subject: Subject) -> Verdict:
    """neural: its setup, timed call and finish run with `running.guard.REFUSED` refused;
    hybrid: refusing them must show (else it is neural by the rule); classical and amortized
    are judged as declared."""
    method = subject.method
    if method.group not in ("neural", "hybrid"):
        return not_held(f"{method.group}: judged as declared")
    probe = family_probe("spd", N)
    if subject.declines(probe):
        probe = gaussian_probe(96, N)
    if subject.declines(probe):
        return Verdict(False, f"it declines {probe.label} and spd {N}x{N}: the rule went unchecked")
    ready = subject.ready()
    try:
        x = ready.prepare(probe.given, device="cpu")  # (untimed checks of the input may factor)
        with refusing_linalg(method):
            ready = method.setup(RunContext(folder=subject.folder))
            ready.finish(ready.compute(x, rank=subject.rank(probe.shape), seed=SEED))
    except GroupRuleViolation as violation:
        if method.group == "neural":
            return Verdict(False, str(violation))
        return Verdict(True, f"hybrid: {violation.call} on {probe.label}")
    except (SkipCell, Diverged) as exc:
        return Verdict(False, f"declined {probe.label}, so the rule went unchecked: {exc}")
    if method.group == "hybrid":
        return Verdict(
            False,
            f"declared hybrid, but on {probe.label} it called no factorization, decomposition, "
            "inverse or solve: by the rule it is neural",
        )
    return PASSED


CHECKS: dict[str, Callable[[Subject], Verdict]] = {
    "declaration": check_declaration,
    "factors of its kind": check_factors,
    "dtype and device kept": check_dtype_and_device,
    "structure": check_structure,
    "backward error": check_backward_error,
    "rank-k optimum": check_rank_k,
    "declared refusals": check_declared_refusals,
    "declines by SkipCell": check_declines_by_skipcell,
    "same seed, same factors": check_same_seed,
    "group rule": check_group_rule,
}
"""Each check by name: the subject -> passed or not, and why."""


def check_method(method: Method, folder: Path) -> list[CheckResult]:
    """Every check of `CHECKS` on `method` (at its small budget), set up in `folder`."""
    subject = Subject(method.small_budget(), folder)
    results = []
    for name, check in CHECKS.items():
        try:
            verdict = check(subject)
        except CheckFailed as failed:
            verdict = Verdict(False, str(failed))
        except Exception as exc:  # the method crashed where the check did not expect it
            verdict = Verdict(False, first_line(exc))
        results.append(CheckResult(method.name, name, verdict.passed, verdict.reason))
    return results


def check_methods(methods: Sequence[Method]) -> list[CheckResult]:
    """Every check on every method, in order (each set up in a scratch folder of its own)."""
    results = []
    for method in methods:
        with (
            tempfile.TemporaryDirectory(prefix="nnbench-check-") as folder,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # (a library's on a singular probe: not a check)
            results += check_method(method, Path(folder))
    return results


def print_results(results: Sequence[CheckResult]) -> int:
    """One line per check, `✓ name: check` or `✗ name: check — reason`; 1 if any failed."""
    for r in results:
        mark = "✓" if r.passed else "✗"
        print(f"{mark} {r.method}: {r.check}" + (f" — {r.reason}" if r.reason else ""))
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed" if results else "nothing checked")
    return 1 if failed else 0
