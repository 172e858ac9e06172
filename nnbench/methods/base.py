"""The method contract: one object per method, registered in `nnbench.methods.registry`.

A method's lifecycle: `setup(context)` once per (device, dtype) before any of its cells
(untimed work its cells share, such as training an amortized model; most methods have none);
then, per cell, three phases so that only the work itself is timed: `prepare` (the input on
the device, as its backend wants it, and checked where a method declines some inputs;
untimed), `compute` (timed; returns the factors by the field names of its kind's
factorization, plus `history` when it trained, or a library's own output as a
`LibraryOutput`) and `finish` (a library output assembled into factors, the factors as numpy
in a typed, self-checking `Factorization`; untimed).
"""

from __future__ import annotations

import copy
import hashlib
import math
import types
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nnbench.corpus.sparse import as_csr, is_sparse, to_dense
from nnbench.corpus.tags import TAG_CHECKS, TAG_WORDS
from nnbench.devices import DEVICES, get_device
from nnbench.errors import NNBenchError
from nnbench.methods.factorization import FACTORIZATIONS, Factorization, InverseOperator
from nnbench.methods.fingerprint import TEXT, code_fingerprint
from nnbench.seeds import stable_hash
from nnbench.settings import Settings
from nnbench.sources import NNBENCH

KINDS = tuple(FACTORIZATIONS)
GROUPS = ("classical", "hybrid", "neural", "amortized")
"""`classical`: library or textbook factorizations. `neural`: a network whose weights change
only through optimizer steps on its training loss (first-order or quasi-Newton). `hybrid`: a
network parametrization whose solver uses classical linear algebra (exact per-layer least
squares, QR/SVD or Gram solves of the weights, library pivoting, exact block solves).
`amortized`: a network trained once by gradient steps on a distribution of matrices, then
applied to unseen ones by a forward pass (and, if asked, gradient refinement steps)."""

Raw = dict[str, Any]
"""`compute`'s result: factor arrays (numpy or torch) by field name, and `history`."""


class LibraryOutput(NamedTuple):
    """`compute`'s result where the timed work is one library call: what the library returned
    (e.g. `lu_factor`'s packed LU and pivots), and the untimed step that `finish` runs to turn
    it into factors by field name (dense P, L and U; a truncation to `rank`), or that raises
    `SkipCell` when the library's own status says the input was unsuitable. A tuple, so that
    building it costs the timed call next to nothing."""

    output: Any
    rank: int | None
    assemble: Callable[[Any, int | None], Raw]

    def factors(self) -> Raw:
        return self.assemble(self.output, self.rank)


def _factors(raw: Raw | LibraryOutput) -> Raw:
    return raw.factors() if isinstance(raw, LibraryOutput) else raw


def _as_numpy(a: np.ndarray, device: str) -> Any:
    return a


def _as_tensor(a: np.ndarray, device: str) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(a)).to(device)


def _tensor_to_numpy(t: Any) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy())


@dataclass(frozen=True)
class Backend:
    """Where a method's arrays live: which devices it can use and how arrays get there/back."""

    name: str
    devices: tuple[str, ...]
    where: str  # for the skip reason on other devices
    prepare: Callable[[np.ndarray, str], Any]
    to_numpy: Callable[[Any], np.ndarray]


BACKENDS: dict[str, Backend] = {
    "numpy": Backend("numpy", ("cpu",), "on the CPU only (numpy/scipy)", _as_numpy, np.asarray),
    "torch": Backend("torch", tuple(DEVICES), "", _as_tensor, _tensor_to_numpy),
}


def _quiet(message: str) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Requirements:
    """What a method needs of a matrix beyond its shape, in tags (`corpus.TAG_CHECKS`): its
    `compute` may decline (raise `SkipCell` for) a matrix that lacks a tag of `tags` or has
    one of `without`, and factors every other. Not checked before the work (the checks cost
    as much as a factorization); the method contract test holds each method to them."""

    tags: frozenset[str] = frozenset()
    without: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted((self.tags | self.without) - set(TAG_CHECKS))
        if unknown:
            raise NNBenchError(f"unknown tag {unknown[0]!r}", f"use {', '.join(TAG_CHECKS)}")

    def __str__(self) -> str:
        """In words, for skip reasons: "a matrix that is not singular"."""
        words = [TAG_WORDS[t][0] for t in sorted(self.tags)]
        words += [TAG_WORDS[t][1] for t in sorted(self.without)]
        return f"a matrix that {' and '.join(words)}" if words else "any matrix"

    def met_by(self, a: np.ndarray) -> bool:
        """Whether `a` has every tag of `tags` and none of `without`."""
        return all(TAG_CHECKS[t](a) for t in self.tags) and not any(
            TAG_CHECKS[t](a) for t in self.without
        )


ANY_MATRIX = Requirements()


@dataclass(frozen=True, kw_only=True)
class Cost:
    """A rank-k method's cost model on one input (the `passes` and `memory_floats` columns).
    `passes`: how many times the algorithm multiplies by A or A^T as a whole (a block of
    vectors at once counts once), i.e. the passes over A a streaming implementation needs;
    NaN where the algorithm is a dense factorization that reads A at random, not in passes
    (full SVD), or where the library does not report its products (Krylov `svds`).
    `memory_floats`: the floats of the working arrays the algorithm holds at its peak besides
    A itself, to leading order (bytes: times the dtype's itemsize); NaN: not modelled."""

    passes: float = math.nan
    memory_floats: float = math.nan


CostModel = Callable[[tuple[int, int], int, Any], Cost]
"""`(shape (m, n), rank k, the method's config) -> Cost`: a rank-k method's declared model."""


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """Where a method's cells run, for its `setup`: `folder` keeps what its cells share (and
    later runs reuse): the results folder, or a scratch folder for a run without one; a
    method keeps its files in a subfolder of its own. `device` and `dtype` (the storage
    dtype, float32 or float64) are its cells'; `log` reports long work (training) in a line."""

    folder: Path
    device: str = "cpu"
    dtype: str = "float64"
    log: Callable[[str], None] = _quiet


class Method(ABC):
    """Base class. Subclasses (or instances) set the attributes and implement `compute`, which
    raises `SkipCell` for unsuitable input and `Diverged` when training blows up."""

    name: str
    kind: str
    group: str = "classical"
    backend: str = "numpy"
    description: str = ""
    square_only: bool = False
    tall_only: bool = False  # needs m >= n (Gram-Schmidt orthogonalizes columns)
    rank_below_min: bool = False  # needs k < min(m, n) (ARPACK, LOBPCG)
    # takes a sparse family's instance as scipy.sparse CSR (a sparse preconditioner); the
    # others get it dense, untimed, up to `corpus.sparse.DENSE_LIMIT`
    takes_sparse: bool = False
    requires: Requirements = ANY_MATRIX  # what `compute` may decline (see `Requirements`)
    optimal: bool = False  # rank-k: returns the best rank-k approximation (Eckart-Young)
    approximate: bool = False  # exact kinds: approximates A by design (a closed-form one step)
    # its factors' `structure_error` grows like cond(A) ** structure_cond_power * eps (0: does
    # not grow; Gram-Schmidt's Q loses orthogonality like cond^2 eps, modified like cond eps)
    structure_cond_power: int = 0
    expensive: bool = False  # a study's own budget, minutes a cell at large n: not in asv/kind:
    # its cells need a model trained first (by `setup`, or in `prepare`): minutes, so `kind:`
    # selects it only where that model is already trained (`has_trained_model`)
    trains_model: bool = False
    batchable: bool = False  # `compute` takes a stack (b, m, n) and returns stacked factors
    options: str = ""  # the options a variant changed, e.g. "optimizer=sgd,lr=0.01"
    base: str = ""  # a variant's registered method ("" for a registered one: see `base_name`)
    config: Any = None  # a trained method's options (a frozen dataclass)
    cost_model: CostModel | None = None  # rank-k: its passes over A and memory (see `Cost`)
    # where it comes from: nnbench, or the plug-in that registered it (`nnbench.plugins` sets
    # it; the rows' `method_source`). Not code: no part of a cell's id
    source: str = NNBENCH

    @property
    def base_name(self) -> str:
        """The registered method this one is (a variant's base): its budget variants share it."""
        return self.base or self.name

    @property
    def config_hash(self) -> str:
        """8 hex digits of what decides this method's results: its class, kind, backend, the
        library call it makes and its config. asv keys its history by `name@config_hash`, so
        that a method whose configuration changed starts a new series under its old name."""
        call = getattr(self, "call", None)
        what = (
            type(self).__qualname__,
            self.kind,
            self.backend,
            repr(self.config),
            # a function by its qualified name (its repr has an address); a callable record by repr
            getattr(call, "__module__", ""),
            getattr(call, "__qualname__", repr(call)),
        )
        return hashlib.blake2b(repr(what).encode(), digest_size=4).hexdigest()

    @property
    def code_hash(self) -> str:
        """16 hex digits of the code that computes this method's factors: its class's (see
        `methods.fingerprint`) and that of the functions it holds (a library method's call).
        Part of a cell's id, so that editing the code recomputes its cached cells; its
        description and its state (a loaded model) are not code."""
        held: list[Any] = []
        for name, value in vars(self).items():
            code = getattr(value, "__func__", value)  # a bound method: its function
            if name not in TEXT and callable(code):
                held.append(code if isinstance(code, types.FunctionType | type) else type(code))
        own = [code_fingerprint(f, Method) for f in (type(self), *held)]
        return stable_hash(*own)

    @property
    def needs_rank(self) -> bool:
        return self.kind == "rank-k"

    def skip_reason(
        self, shape: tuple[int, int], *, rank: int | None, dtype: str, device: str, batch: int = 1
    ) -> str | None:
        """Why this method cannot run on such an input (a stack of `batch` of them), or None.
        Checked before any work."""
        if batch > 1 and not self.batchable:
            return (
                f"{self.name} factorizes one matrix at a time; batch cells need a batched "
                "method (torch-lu, torch-qr, torch-svd, torch-cholesky, the LU networks)"
            )
        backend = BACKENDS[self.backend]
        if device not in backend.devices:
            return f"{self.name} runs {backend.where}"
        target = get_device(device)
        missing = target.missing()
        if missing:
            return missing
        if dtype == "float64" and not target.float64:
            return f"{device} has no float64"
        if self.square_only and shape[0] != shape[1]:
            return f"{self.name} needs a square matrix, got {shape[0]}x{shape[1]}"
        if self.tall_only and shape[0] < shape[1]:
            return f"{self.name} needs m >= n (tall or square), got {shape[0]}x{shape[1]}"
        if self.needs_rank:
            if rank is None:
                return f"{self.name} needs a rank k"
            if not 1 <= rank <= min(shape):
                return f"rank {rank} is outside 1..{min(shape)} for a {shape[0]}x{shape[1]} matrix"
            if self.rank_below_min and rank >= min(shape):
                return f"this solver needs k < min(m, n) = {min(shape)}"
        return None

    def cost(self, shape: tuple[int, int], rank: int | None) -> Cost:
        """Its cost model on an input of `shape` at `rank`: NaN (not modelled) without one."""
        if self.cost_model is None or rank is None:
            return Cost()
        return self.cost_model(shape, rank, self.config)

    train_time_s: float = math.nan  # the training `setup` did (or found done), untimed
    warmup_at_full_size: bool = False  # factorizes one size only: warmed up on the cell's input

    def setup(self, context: RunContext) -> Method:
        """The method ready to run its cells on `context.device` in `context.dtype`: this one
        (the default), or a copy holding what they share (an amortized model, trained into
        `context.folder` unless it is there). The runner calls it once before the cells,
        untimed; a worker process calls it again for its cells, which must then be cheap
        (loading what the first call left in `context.folder`)."""
        return self

    def has_trained_model(self, context: RunContext) -> bool:
        """Whether `context.folder` holds the model this method's cells would otherwise train
        first, for `context.device` and `context.dtype`, so that its `setup` only loads it
        (True for a method that trains none)."""
        return not self.trains_model

    def warmup_method(self) -> Method:
        """What the timing protocol's warm-up call runs: this method (trained ones shorten
        their budget to a few steps; see `running.timing`)."""
        return self

    def small_budget(self) -> Method:
        """This method on a budget of a few training steps, for tests of its contract (not of
        its accuracy): this one where nothing trains."""
        return self

    def with_config(self, config: Any) -> Method:
        """A copy of this method with another configuration (see `variants`)."""
        variant = copy.copy(self)
        variant.config = config
        return variant

    def settings(self, n: int) -> Settings:
        """Training settings for the results row; none for classical methods."""
        return Settings()

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        """The input as `compute` wants it: numpy, or a tensor on `device`. A method may
        decline `a` (a matrix or a stack) here, untimed, by raising `SkipCell`."""
        return BACKENDS[self.backend].prepare(a, device)

    @abstractmethod
    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw | LibraryOutput:
        """The timed work. Raise `SkipCell` if the input turns out to be unsuitable."""

    def finish(self, raw: Raw | LibraryOutput) -> Factorization:
        """`compute`'s factors as numpy, in the self-checking factorization of this kind."""
        raw = _factors(raw)
        to_numpy = BACKENDS[self.backend].to_numpy
        factors = {  # an operator (a preconditioner's M^-1) is not an array: kept as it is
            k: v if v is None or isinstance(v, InverseOperator) else to_numpy(v)
            for k, v in raw.items()
            if k not in ("history", "passes")
        }
        return FACTORIZATIONS[self.kind](
            **factors, history=raw.get("history"), passes=raw.get("passes")
        )

    def finish_batch(self, raw: Raw | LibraryOutput) -> list[Factorization]:
        """A stack's factors, one self-checking factorization per matrix (history shared)."""
        raw = _factors(raw)
        to_numpy = BACKENDS[self.backend].to_numpy
        stacks = {k: None if v is None else to_numpy(v) for k, v in raw.items() if k != "history"}
        count = next(len(v) for v in stacks.values() if v is not None)
        return [
            FACTORIZATIONS[self.kind](
                **{k: None if v is None else v[i] for k, v in stacks.items()},
                history=raw.get("history"),
            )
            for i in range(count)
        ]

    def factorize(
        self, a: np.ndarray, *, rank: int | None = None, device: str = "cpu", seed: int = 0
    ) -> Factorization:
        """Factorize `a` in one call (notebooks, tests). Raises NNBenchError on unusable input.
        A scipy.sparse `a` reaches a method that `takes_sparse` as CSR, any other dense."""
        if is_sparse(a):
            if self.takes_sparse:
                sparse = as_csr(a, a.dtype if a.dtype.name in ("float32", "float64") else "f8")
                return self._factorize_sparse(sparse, rank=rank, device=device, seed=seed)
            a = to_dense(a)
        a = np.asarray(a)
        if a.ndim != 2 or a.dtype.name not in ("float32", "float64"):
            raise NNBenchError(
                f"{self.name} needs a 2-D float32/float64 array, got {a.dtype} {a.shape}",
                "pass e.g. np.asarray(A, dtype=np.float64)",
            )
        reason = self.skip_reason(
            (a.shape[0], a.shape[1]), rank=rank, dtype=a.dtype.name, device=device
        )
        if reason:
            raise NNBenchError(
                f"cannot run {self.name}: {reason}", "choose another matrix or method"
            )
        if not np.all(np.isfinite(a)):
            raise NNBenchError(f"{self.name} got NaN/Inf entries", "clean the matrix first")
        return self.finish(self.compute(self.prepare(a, device=device), rank=rank, seed=seed))

    def _factorize_sparse(
        self, a: Any, *, rank: int | None, device: str, seed: int
    ) -> Factorization:
        reason = self.skip_reason(a.shape, rank=rank, dtype=a.dtype.name, device=device)
        if reason:
            raise NNBenchError(
                f"cannot run {self.name}: {reason}", "choose another matrix or method"
            )
        if not np.all(np.isfinite(a.data)):
            raise NNBenchError(f"{self.name} got NaN/Inf entries", "clean the matrix first")
        return self.finish(self.compute(self.prepare(a, device=device), rank=rank, seed=seed))
