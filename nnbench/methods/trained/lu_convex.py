"""A gradient-only LU that converges (issue 25 item 3): learn G ~ L^-1 by optimizer steps on a
convex loss, then L ~ G^-1 by optimizer steps on a second one; U = triu(G A).

For A that needs no pivoting (every leading principal minor nonzero: diagonally dominant or
SPD matrices, say), A = L U with L unit lower, and G = L^-1 is the one unit-lower matrix that
makes G A upper triangular. The loss f(G) = ||tril(G A, -1)||_F^2 / ||A||_F^2 over G's
strictly lower entries (G = I + those) is a convex quadratic, zero exactly there: each row i
of G is a least-squares problem with the leading block A[:i, :i], so the optimizer's progress
is set by the leading blocks' condition numbers (squared). L is then the unit-lower minimizer
of ||tril(G L, -1)||_F^2 (convex again, zero at L = G^-1), and U = triu(G A) (a product).
L-BFGS (strong Wolfe, torch's) is the only thing that changes G and L, and no factorization
or solve runs anywhere: the method is `neural`. The loss curve holds both stages
(`switch_step`: where the second began); `passes` counts the first stage's reads of A.
Where A needs pivoting the minimum does not exist (a zero leading minor) or is
ill-conditioned: the method declines such matrices (`needs_pivoting`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
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


def fit_unit_lower(
    objective: Callable[[torch.Tensor], torch.Tensor],
    like: torch.Tensor,
    cfg: ConvexLU,
    rec: LossRecorder,
    *,
    tol: float,
    reads_a: bool,
) -> torch.Tensor:
    """The unit-lower X (I + its strictly lower entries, the weights) that minimizes the
    convex `objective(X)`, by L-BFGS from X = I; every loss goes to `rec` (and, where
    `reads_a`, each evaluation counts a pass over A)."""
    n = like.shape[0]
    rows, cols = torch.tril_indices(n, n, offset=-1, device=like.device)
    weights = torch.zeros(rows.numel(), dtype=like.dtype, device=like.device, requires_grad=True)
    eye = torch.eye(n, dtype=like.dtype, device=like.device)
    eps = torch.finfo(like.dtype).eps

    def unit_lower() -> torch.Tensor:
        return eye.index_put((rows, cols), weights)

    def lbfgs() -> torch.optim.LBFGS:
        return torch.optim.LBFGS(
            [weights], lr=1.0, max_iter=cfg.inner, history_size=cfg.history,
            tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe",
        )  # fmt: skip

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = objective(unit_lower())
        rec.passes += int(reads_a)
        loss.backward()
        return loss

    optimizer, best, start = lbfgs(), math.inf, len(rec.losses)
    for _ in range(cfg.max_steps):
        optimizer.step(closure)
        with torch.no_grad():
            loss = float(objective(unit_lower()))
        rec.passes += int(reads_a)
        if rec.record(loss) or loss <= tol:
            break
        if not loss < best * (1.0 - 4.0 * eps):  # stalled (a failed line search): restart
            optimizer = lbfgs()  # L-BFGS from the current X, its curvature pairs dropped
        best = min(best, loss)
    rec.switch = len(rec.losses) - start
    with torch.no_grad():
        return unit_lower()


def convex_lu(a: torch.Tensor, cfg: ConvexLU) -> tuple[torch.Tensor, torch.Tensor, LossRecorder]:
    """L, U and the losses of both convex stages: G with tril(G A, -1) ~ 0 (G ~ L^-1), then
    L with tril(G L, -1) ~ 0 (L ~ G^-1), both by L-BFGS from the identity; U = triu(G A)."""
    n = a.shape[0]
    eps = torch.finfo(a.dtype).eps
    tol = (n * eps) ** 2 if cfg.tol is None else cfg.tol
    scale = float(torch.sum(a * a)) or 1.0
    rec = LossRecorder(a.dtype, patience=cfg.patience)

    def triangularizes_a(g: torch.Tensor) -> torch.Tensor:
        return torch.sum(torch.tril(g @ a, -1) ** 2) / scale

    g = fit_unit_lower(triangularizes_a, a, cfg, rec, tol=tol, reads_a=True)
    first = len(rec.losses)
    rec.reset_plateau()

    def inverts_g(lower: torch.Tensor) -> torch.Tensor:
        return torch.sum(torch.tril(g @ lower, -1) ** 2) / n

    lower = fit_unit_lower(inverts_g, a, cfg, rec, tol=tol, reads_a=False)
    rec.switch = first
    with torch.no_grad():
        return lower, torch.triu(g @ a), rec


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
        # one step of one iteration: the code paths of L-BFGS and its line search (a warm-up
        # of 2 steps of 20 iterations took 0.19 s a cell at 16 x 16, most of it line search)
        return self.with_config(dataclasses.replace(self.config, max_steps=1, inner=1))

    def small_budget(self) -> Method:
        return self.with_config(dataclasses.replace(self.config, max_steps=20))

    def settings(self, n: int) -> Settings:
        return Settings(
            optimizer="lbfgs", lr=1.0, init="G = I (L = I, U = A)", data_size=n, loss=LOSS
        )

    def compute(self, x: Any, *, rank: int | None, seed: int) -> Raw:
        lower, upper, rec = convex_lu(x, self.config)
        return {"L": lower, "U": upper, "history": rec.history(lr=1.0, switch_step=rec.switch)}


CONVEX_LU = ConvexNeuralLU(
    "neural-lu-convex",
    ConvexLU(),
    "gradient-only LU that converges: L-BFGS (strong Wolfe) on the convex loss "
    "||tril(G A, -1)||^2 over unit-lower G ~ L^-1, then L = G^-1, U = triu(G A); no pivoting "
    "(declines matrices that need it)",
)
