"""A predicted LU as a warm start (issue 25 item 4): approximate factors L̂, Û of A used as
the preconditioner M = L̂ Û of restarted GMRES on A x = b, scored by the iterations they
save against other starts on the same matrices.

`gmres-warm-lu` builds M from a start (`STARTS`, the `start` option), then runs
`scipy.sparse.linalg.gmres` from x = 0 with M^-1 r = Û^-1 (L̂^-1 r) (two triangular solves)
until ||b - A x|| <= rtol ||b||, b a fixed Gaussian vector (`gmres_rhs`). Starts:
`amortized` (the `amortized-lu` network's forward pass, trained once on held-out-seed
matrices), `closed-form` (`closed-form-lu`'s one step), `cold` (no preconditioner, M = I), and
the classical ends of the scale: `ilu` (scipy spilu) and `exact` (LAPACK's pivoted LU: one
iteration).

Group, by the rule in `methods.base.GROUPS`: with the network's start it is `hybrid` (a
trained network's output handed to classical linear algebra: triangular solves inside a
Krylov solver; `amortized` allows a forward pass and gradient steps only), with any other
start `classical`. Kind `precond`: it is a preconditioner scored by Krylov iterations, kept
out of the LU verdicts (its factors are approximate by design).

The results row: `time_s` = build + solve (the timed call); `steps` = GMRES iterations
(inner, the restarts' included), `passes` = products with A; the loss curve (`curves`)
holds GMRES's relative residual estimate per iteration with the seconds since the solve
began (the last point: the true ||b - A x|| / ||b|| of the returned x and the solve's
seconds), `final_loss` that true residual. A solve that hits the iteration cap is a
`diverged` row, never a score. The CG columns stay NaN: this solve is GMRES, not CG.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
import torch

from nnbench.errors import Diverged, InvalidFactorization, NNBenchError, SkipCell
from nnbench.methods.amortized import AmortizedConfig, AmortizedMethod, train
from nnbench.methods.base import ANY_MATRIX, Method, Raw, Requirements, RunContext
from nnbench.methods.classical import closed_form_lu
from nnbench.methods.factorization import Factorization, TrainingHistory, _chain, _off_triangle
from nnbench.methods.preconditioners import ILUT_OPTIONS
from nnbench.settings import Settings

GMRES_RTOL = 1e-10
GMRES_RESTART = 20
GMRES_CAP_PER_N = 10.0  # at most this many times n inner iterations: else `diverged`
RHS_SEED = 0  # b ~ N(0, I) from this seed: the same b for every start on a matrix


@dataclass(frozen=True)
class Start:
    """One way to build M: `build(A float64 numpy, the method) -> (apply M^-1, L, U)` (L, U:
    what M is, dense, for the row's rel_err), its group, and what it needs of A."""

    build: Callable[[np.ndarray, GmresWarmStart], tuple[Callable[[np.ndarray], np.ndarray], Any]]
    group: str
    description: str
    requires: Requirements = ANY_MATRIX


def _triangular_inverse(lower: np.ndarray, upper: np.ndarray) -> Callable[[np.ndarray], Any]:
    """r -> Û^-1 (L̂^-1 r); inf/NaN where a pivot is zero (GMRES then stops: `diverged`)."""

    lo, up = torch.from_numpy(lower), torch.from_numpy(upper)

    def apply(r: np.ndarray) -> np.ndarray:
        y = torch.linalg.solve_triangular(lo, torch.from_numpy(r)[:, None], upper=False)
        return torch.linalg.solve_triangular(up, y, upper=True)[:, 0].numpy()

    return apply


def _from_amortized(a: np.ndarray, method: GmresWarmStart) -> tuple[Callable[..., Any], Any]:
    network = method.network_for(a.shape[0])
    dtype = getattr(torch, method.storage)
    raw = network.compute(torch.from_numpy(a).to(dtype), rank=None, seed=0)
    lower = raw["L"].detach().numpy().astype(np.float64)
    upper = raw["U"].detach().numpy().astype(np.float64)
    return _triangular_inverse(lower, upper), (lower, upper)


def _from_closed_form(a: np.ndarray, method: GmresWarmStart) -> tuple[Callable[..., Any], Any]:
    if np.any(np.diagonal(a)[:-1] == 0):
        raise SkipCell("a zero diagonal entry: the closed form divides by it")
    raw = closed_form_lu(torch.from_numpy(a), None, 0, None)
    lower, upper = raw["L"].numpy(), raw["U"].numpy()
    return _triangular_inverse(lower, upper), (lower, upper)


def _identity(r: np.ndarray) -> np.ndarray:
    return r


def _none(a: np.ndarray, method: GmresWarmStart) -> tuple[Callable[..., Any], Any]:
    eye = np.eye(a.shape[0])
    return _identity, (eye, eye)


def _ilu(a: np.ndarray, method: GmresWarmStart) -> tuple[Callable[..., Any], Any]:
    try:
        lu = scipy.sparse.linalg.spilu(
            scipy.sparse.csc_array(a),
            drop_tol=ILUT_OPTIONS.drop_tol,
            fill_factor=ILUT_OPTIONS.fill_factor,
        )
    except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
        raise SkipCell(f"ILU broke down: {exc}") from exc
    return lu.solve, None


def _exact(a: np.ndarray, method: GmresWarmStart) -> tuple[Callable[..., Any], Any]:
    factors = scipy.linalg.lu_factor(a, check_finite=False)

    def apply(r: np.ndarray) -> np.ndarray:
        return np.asarray(scipy.linalg.lu_solve(factors, r, check_finite=False))

    return apply, None


NO_PIVOTING = Requirements(without=frozenset({"needs_pivoting", "singular"}))
NONSINGULAR = Requirements(without=frozenset({"singular"}))
STARTS: dict[str, Start] = {
    "amortized": Start(
        _from_amortized,
        "hybrid",
        "the amortized-lu network's factors (one forward pass)",
        NO_PIVOTING,
    ),
    "closed-form": Start(
        _from_closed_form,
        "classical",
        "closed-form-lu: L = I + tril(A, -1) diag(A)^-1, U = triu(A)",
        NO_PIVOTING,
    ),
    "cold": Start(_none, "classical", "cold start: no preconditioner (M = I)", NONSINGULAR),
    "ilu": Start(_ilu, "classical", "scipy spilu, drop_tol 1e-4, fill_factor 10", NONSINGULAR),
    "exact": Start(_exact, "classical", "scipy lu_factor: exact pivoted LU", NONSINGULAR),
}
"""The starts, by name (`gmres-warm-lu[start=NAME]`)."""


@dataclass(frozen=True, kw_only=True)
class WarmStart:
    """The start, GMRES's options (restart length, relative tolerance; the cap is
    `GMRES_CAP_PER_N` n inner iterations) and the network's training budget and size
    (`n`: the size its amortized-lu model is trained for, as `amortized-lu[n=..]`)."""

    start: str = "amortized"
    restart: int = GMRES_RESTART
    rtol: float = GMRES_RTOL
    n: int = 8
    train_steps: int = 4000
    count: int = 4096

    def __post_init__(self) -> None:
        if self.start not in STARTS:
            raise NNBenchError(f"unknown start {self.start!r}", f"use {', '.join(STARTS)}")
        if self.restart < 1 or not 0 < self.rtol < 1 or min(self.n, self.train_steps) < 1:
            raise NNBenchError(
                f"warm start {self}", "use restart >= 1, 0 < rtol < 1, n and train_steps >= 1"
            )

    def network(self, n: int) -> AmortizedConfig:
        """The amortized-lu model's config for n x n matrices (its defaults otherwise)."""
        return AmortizedConfig(n=n, steps=self.train_steps, count=self.count)


@dataclass(frozen=True)
class KrylovPreconditioner(Factorization):
    """M = L U handed to a Krylov solver (dense L, U where the start has them; none for an
    operator: ILU, a pivoted LU), scored by the solver's iterations (`history`), not by how
    close M is to A."""

    kind: ClassVar[str] = "precond"
    exact: ClassVar[bool] = False
    L: np.ndarray | None = None
    U: np.ndarray | None = None
    n: int = 0

    def __post_init__(self) -> None:
        for name, factor in self.factors.items():  # (`n` is a size, not a factor)
            if factor.dtype.kind != "f" or not np.all(np.isfinite(factor)):
                raise InvalidFactorization(f"factor {name} is not a finite float array")
        self.check_shapes()

    def check_shapes(self) -> None:
        if self.L is not None and self.U is not None:
            _chain(("L", self.L), ("U", self.U))

    @property
    def factors(self) -> dict[str, np.ndarray]:
        return {} if self.L is None or self.U is None else {"L": self.L, "U": self.U}

    def reconstruct(self, matmul: Callable[..., np.ndarray] = np.matmul) -> np.ndarray:
        if self.L is None or self.U is None:
            return np.full((self.n, self.n), np.nan)
        return matmul(self.L.astype(np.float64), self.U.astype(np.float64))

    def structure_error(self, matmul: Callable[..., np.ndarray] = np.matmul) -> float:
        if self.L is None or self.U is None:
            return float("nan")
        return max(_off_triangle(self.L, lower=True), _off_triangle(self.U, lower=False))


def gmres_rhs(n: int) -> np.ndarray:
    """The right-hand side every start solves for on an n x n matrix."""
    return np.random.default_rng(RHS_SEED).standard_normal(n)


@dataclass(frozen=True)
class KrylovRun:
    """One GMRES solve: the residual estimate per inner iteration, the seconds since the
    solve began at each, the true final relative residual, and whether it converged."""

    residuals: np.ndarray
    elapsed_s: np.ndarray
    final_residual: float
    converged: bool
    cap: int


def gmres_solve(
    a: np.ndarray,
    b: np.ndarray,
    apply_inverse: Callable[[np.ndarray], np.ndarray],
    *,
    restart: int = GMRES_RESTART,
    rtol: float = GMRES_RTOL,
    cap: int | None = None,
) -> KrylovRun:
    """Restarted GMRES from x = 0 with M^-1 = `apply_inverse` until ||b - A x|| <= rtol ||b||,
    at most `cap` (default `GMRES_CAP_PER_N` n) inner iterations."""
    n = a.shape[0]
    cap = max(1, int(GMRES_CAP_PER_N * n)) if cap is None else cap
    restart = min(restart, n)
    residuals: list[float] = []
    elapsed: list[float] = []
    start = time.perf_counter()

    def record(r: float) -> None:
        residuals.append(float(r))
        elapsed.append(time.perf_counter() - start)

    operator = scipy.sparse.linalg.LinearOperator((n, n), matvec=apply_inverse, dtype=np.float64)
    with np.errstate(all="ignore"):
        x, info = scipy.sparse.linalg.gmres(
            a,
            b,
            rtol=rtol,
            atol=0.0,
            restart=restart,
            maxiter=math.ceil(cap / restart),
            M=operator,
            callback=record,
            callback_type="pr_norm",
        )
        final = float(np.linalg.norm(b - a @ x) / np.linalg.norm(b))
    seconds = time.perf_counter() - start
    converged = info == 0 and np.isfinite(final) and final <= rtol * (1 + 1e-6)
    if residuals:  # the last point: the true residual of the x returned, at the solve's end
        residuals[-1], elapsed[-1] = final, seconds
    return KrylovRun(np.array(residuals), np.array(elapsed), final, bool(converged), cap)


class GmresWarmStart(Method):
    """GMRES on A x = b preconditioned by a start's factors (see the module's docstring)."""

    name = "gmres-warm-lu"
    kind = "precond"
    backend = "numpy"
    square_only = True
    config: WarmStart

    def __init__(self, config: WarmStart | None = None) -> None:
        self.config = config or WarmStart()
        self.description = (
            "restarted GMRES (restart 20, rtol 1e-10) preconditioned by M = L U from a start: "
            + "; ".join(f"{k}: {s.description}" for k, s in STARTS.items())
        )
        self.storage = "float32"
        self.models: dict[int, AmortizedMethod] = {}

    @property
    def start(self) -> Start:
        return STARTS[self.config.start]

    @property
    def group(self) -> str:  # type: ignore[override]
        return self.start.group

    @property
    def requires(self) -> Requirements:  # type: ignore[override]
        return self.start.requires

    @property
    def trains_model(self) -> bool:  # type: ignore[override]
        return self.config.start == "amortized"

    def has_trained_model(self, context: RunContext) -> bool:
        """With the network's start: never, as far as `kind:` can tell. Its cells train a
        network for each matrix size but `n` (in `prepare`, minutes at the default budget),
        and which sizes a selection meets is not known when it is made."""
        return not self.trains_model

    def with_config(self, config: Any) -> Method:
        variant = copy.copy(self)
        variant.config, variant.models = config, {}
        return variant

    def small_budget(self) -> Method:
        """A network trained for 20 steps on 64 matrices, GMRES to rtol 1e-6 (contract tests,
        not accuracy: GMRES stalls near 1e-9 on the nearly singular test matrices)."""
        cfg = self.config
        return self.with_config(dataclasses.replace(cfg, train_steps=20, count=64, rtol=1e-6))

    def settings(self, n: int) -> Settings:
        cfg = self.config
        network = self.config.start == "amortized"
        return Settings(
            optimizer=f"gmres(restart={cfg.restart}, rtol={cfg.rtol:g})",
            init=cfg.start,  # the start, by its name in STARTS
            loss="GMRES relative residual per iteration (last: true ||b - A x|| / ||b||)",
            data_size=float(cfg.count) if network else math.nan,
            trained_on="diag-dominant" if network else "",
        )

    def setup(self, context: RunContext) -> Method:
        """With the network's start: the amortized-lu model for `n`, trained once into the
        run's folder (shared with `amortized-lu` cells of the same config) or loaded."""
        ready = copy.copy(self)
        ready.storage, ready.models = context.dtype, dict(self.models)
        if self.config.start == "amortized":
            network = AmortizedMethod("amortized-lu", self.config.network(self.config.n), "")
            ready.models[self.config.n] = network.setup(context)
            ready.train_time_s = ready.models[self.config.n].train_time_s
        return ready

    def network_for(self, n: int) -> AmortizedMethod:
        """The trained network for n x n matrices: set up before the cells, or (another n, or
        a method that was not set up: tests, notebooks) trained now, in `prepare`, untimed."""
        if n not in self.models:
            trained = train(self.config.network(n), "cpu", self.storage)
            network = AmortizedMethod("amortized-lu", trained.config, "")
            network.trained, network.train_time_s = trained, trained.train_time_s
            self.models[n] = network
            self.train_time_s = trained.train_time_s
        return self.models[n]

    def prepare(self, a: np.ndarray, *, device: str) -> Any:
        x = np.asarray(a, dtype=np.float64)
        if not self.requires.met_by(x):  # untimed: singular, or needs pivoting (no-pivot starts)
            raise SkipCell(f"the {self.config.start} start needs {self.requires}")
        if self.config.start == "amortized":
            self.network_for(x.shape[0])  # untimed training where no model was set up
        return x

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        """The timed call: the start's build, then GMRES to rtol (raises `Diverged` at the
        cap or on a preconditioner that is not finite)."""
        apply_inverse, factors = self.start.build(x, self)
        run = gmres_solve(
            x, gmres_rhs(x.shape[0]), apply_inverse, restart=self.config.restart,
            rtol=self.config.rtol,
        )  # fmt: skip
        if not run.converged:
            steps = len(run.residuals)
            where = (
                f"within the cap of {run.cap} iterations"
                if steps >= run.cap
                else f"when it stopped before its cap of {run.cap} iterations (an n = "
                f"{x.shape[0]} system's Krylov space ends by step {x.shape[0]})"
            )
            raise Diverged(
                steps,
                f"GMRES reached ||r|| / ||b|| = {run.final_residual:.3g}, not "
                f"{self.config.rtol:g}, {where}",
            )
        lower, upper = factors if factors is not None else (None, None)
        history = TrainingHistory(run.residuals, run.elapsed_s, unit="gmres iteration")
        return {"L": lower, "U": upper, "n": x.shape[0], "history": history,
                "passes": len(run.residuals) + 1}  # fmt: skip

    def finish(self, raw: Any) -> Factorization:
        return KrylovPreconditioner(
            L=raw["L"], U=raw["U"], n=raw["n"], history=raw["history"], passes=raw["passes"]
        )


GMRES_WARM_LU = GmresWarmStart()
