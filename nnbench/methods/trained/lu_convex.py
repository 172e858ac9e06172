"""A gradient-only LU that converges (issue 25 item 3): learn G ~ L^-1 by optimizer steps on a
convex loss, then read L and U from it.

For A that needs no pivoting (every leading principal minor nonzero: diagonally dominant or
SPD matrices, say), A = L U with L unit lower, and G = L^-1 is the one unit-lower matrix that
makes G A upper triangular. The loss f(G) = ||tril(G A, -1)||_F^2 / ||A||_F^2 over G's
strictly lower entries (G = I + those) is a convex quadratic, zero exactly there: each row i
of G is a least-squares problem with the leading block A[:i, :i], so the optimizer's progress
is set by the leading blocks' condition numbers (squared). L-BFGS (strong Wolfe, torch's) is
the only thing that changes G: the method is `neural`. Afterwards L = G^-1 (one unit-lower
triangular inverse) and U = triu(G A) are read from the weights, untimed by nothing: both are
in the timed call. Where A needs pivoting the minimum does not exist (a zero leading minor) or
is ill-conditioned: the method declines such matrices (`needs_pivoting`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch

from nnbench.corpus.tags import TAG_CHECKS
from nnbench.errors import NNBenchError, SkipCell
from nnbench.methods.base import Method, Raw, Requirements, Settings
from nnbench.methods.trained.training import LossRecorder, TrainedMethod

LOSS = "||tril(G A, -1)||_F^2 / ||A||_F^2 over unit-lower G (convex); L = G^-1, U = triu(G A)"


@dataclass(frozen=True, kw_only=True)
class ConvexLU:
    """L-BFGS on the convex loss: `max_steps` optimizer steps of at most `inner` evaluations
    each (torch's `max_iter`) with `history` curvature pairs, restarted without them when a
    step gains nothing (a failed line search). Training stops on a plateau (`patience` steps
    without a relative improvement of 4 eps) or at a loss below `tol` (relative to
    ||A||_F^2; default (n eps)^2 of the dtype)."""

    max_steps: int = 500
    inner: int = 20
    history: int = 50
    patience: int = 10
    tol: float | None = None
    group: str = "neural"

    def __post_init__(self) -> None:
        if min(self.max_steps, self.inner, self.history, self.patience) < 1:
            raise NNBenchError(
                f"convex LU config {self}", "use max_steps, inner, history, patience >= 1"
            )


def _strict_lower_index(n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    rows, cols = torch.tril_indices(n, n, offset=-1, device=device)
    return rows, cols


def fit_inverse_factor(a: torch.Tensor, cfg: ConvexLU) -> tuple[torch.Tensor, LossRecorder]:
    """G (unit lower) with tril(G A, -1) ~ 0, by L-BFGS on the convex loss."""
    n = a.shape[0]
    rows, cols = _strict_lower_index(n, a.device)
    weights = torch.zeros(rows.numel(), dtype=a.dtype, device=a.device, requires_grad=True)
    eye = torch.eye(n, dtype=a.dtype, device=a.device)
    scale = float(torch.sum(a * a)) or 1.0
    eps = torch.finfo(a.dtype).eps
    tol = (n * eps) ** 2 if cfg.tol is None else cfg.tol
    rec = LossRecorder(a.dtype, patience=cfg.patience)

    def lbfgs() -> torch.optim.LBFGS:
        return torch.optim.LBFGS(
            [weights], lr=1.0, max_iter=cfg.inner, history_size=cfg.history,
            tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe",
        )  # fmt: skip

    optimizer = lbfgs()

    def unit_lower() -> torch.Tensor:
        return eye.index_put((rows, cols), weights)

    def closure() -> torch.Tensor:  # each evaluation reads A once (G A)
        optimizer.zero_grad(set_to_none=True)
        loss = torch.sum(torch.tril(unit_lower() @ a, -1) ** 2) / scale
        rec.passes += 1
        loss.backward()
        return loss

    best = math.inf
    for _ in range(cfg.max_steps):
        optimizer.step(closure)
        with torch.no_grad():
            loss = float(torch.sum(torch.tril(unit_lower() @ a, -1) ** 2) / scale)
        rec.passes += 1
        if rec.record(loss) or loss <= tol:
            break
        if not loss < best * (1.0 - 4.0 * eps):  # stalled (a failed line search): restart
            optimizer = lbfgs()  # L-BFGS from the current G, its curvature pairs dropped
        best = min(best, loss)
    with torch.no_grad():
        return unit_lower(), rec


class ConvexNeuralLU(TrainedMethod):
    """`neural-lu-convex`: see the module's docstring."""

    kind = "lu"
    square_only = True
    requires = Requirements(without=frozenset({"needs_pivoting"}))
    config: ConvexLU

    def prepare(self, a: Any, *, device: str) -> Any:
        """Declines, untimed, a matrix whose elimination without pivoting meets a zero or tiny
        pivot: there the convex loss has no minimum, or an ill-conditioned one."""
        if TAG_CHECKS["needs_pivoting"](a):
            raise SkipCell(
                "A needs pivoting (a zero or tiny leading pivot): G A cannot be made upper "
                "triangular by a unit-lower G; hybrid-lu-newton factors P^T A"
            )
        return super().prepare(a, device=device)

    def warmup_method(self) -> Method:
        return self.with_config(dataclasses.replace(self.config, max_steps=2))

    def small_budget(self) -> Method:
        return self.with_config(dataclasses.replace(self.config, max_steps=20))

    def settings(self, n: int) -> Settings:
        return Settings(
            optimizer="lbfgs", lr=1.0, init="G = I (L = I, U = A)", data_size=n, loss=LOSS
        )

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        g, rec = fit_inverse_factor(x, self.config)
        n = x.shape[0]
        eye = torch.eye(n, dtype=x.dtype, device=x.device)
        lower = torch.linalg.solve_triangular(g, eye, upper=False, unitriangular=True)
        upper = torch.triu(g @ x)
        return {"L": lower, "U": upper, "history": rec.history(lr=1.0)}


CONVEX_LU = ConvexNeuralLU(
    "neural-lu-convex",
    ConvexLU(),
    "gradient-only LU that converges: L-BFGS (strong Wolfe) on the convex loss "
    "||tril(G A, -1)||^2 over unit-lower G ~ L^-1, then L = G^-1, U = triu(G A); no pivoting "
    "(declines matrices that need it)",
)
