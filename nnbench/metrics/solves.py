"""What the factors do when used: the backward error of a solve, the error of the
determinant, and the iterations of conjugate gradients they precondition."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnbench.metrics.norms import NAN, norm_2, ratio


def backward_error(
    a: np.ndarray, x: np.ndarray, b: np.ndarray, norm_a: float | None = None
) -> float:
    """Normwise (Rigal-Gaches) backward error ||b - A x|| / (||A|| ||x|| + ||b||), 2-norms
    (`norm_a`: ||A||_2 where already known)."""
    if not np.all(np.isfinite(x)):
        return float("inf")
    residual = float(np.linalg.norm(b - a @ x))
    norm_a = norm_2(a) if norm_a is None else norm_a
    return ratio(residual, norm_a * float(np.linalg.norm(x)) + float(np.linalg.norm(b)))


CG_TOL = 1e-8  # relative residual at which conjugate gradients stops
CG_LOOSE_TOL = 1e-6  # also reported: the iteration at which CG first got there
CG_CAP_PER_N = 10.0  # CG stops after this many times n iterations: the run is `diverged`
CG_TIME_CAP_S = 60.0
"""CG also stops after this many seconds, the run `diverged` with the reason saying so: 10 n
iterations of a solve that does not converge took 20 minutes at n = 74,000, and no cell of the
studies converges in more than a few seconds. A time, not a count: where it stops depends on
the machine, so its reason says which cap stopped the run, after how many iterations."""


@dataclass(frozen=True)
class CGRun:
    """One preconditioned CG solve: iterations to `CG_TOL` and to `CG_LOOSE_TOL` (None: not
    reached), the iteration cap, why it stopped short ("" when it converged), its seconds
    (the preconditioner's applications included) and the iterations it ran."""

    iterations: int | None
    iterations_loose: int | None
    cap: int
    reason: str
    seconds: float
    steps: int = 0


def pcg(
    a: Any,
    b: np.ndarray,
    apply_inverse: Callable[[np.ndarray], np.ndarray],
    *,
    tol: float = CG_TOL,
    loose_tol: float = CG_LOOSE_TOL,
    maxiter: int | None = None,
    max_seconds: float | None = None,
) -> CGRun:
    """Preconditioned conjugate gradients on A x = b (A dense or scipy.sparse) from x = 0
    until ||b - A x|| <= tol ||b||, at most `maxiter` (default `CG_CAP_PER_N` n) iterations
    and `max_seconds` (default `CG_TIME_CAP_S`); it stops short when the preconditioner is
    not positive definite (CG breaks down)."""
    cap = max(1, int(CG_CAP_PER_N * a.shape[0])) if maxiter is None else maxiter
    seconds = CG_TIME_CAP_S if max_seconds is None else max_seconds
    start = time.perf_counter()
    deadline = start + seconds
    x = np.zeros_like(b)
    r = b.copy()
    z = apply_inverse(r)
    p, rz = z.copy(), float(r @ z)
    norm_b = float(np.linalg.norm(b))
    loose: int | None = None
    reason = f"CG did not reach ||r|| <= {tol:g} ||b|| within the cap of {cap} iterations"
    i = 0
    for i in range(1, cap + 1):
        if not (np.isfinite(rz) and rz > 0):
            reason = _breakdown(i, "r^T M^-1 r", rz, "the preconditioner", "M")
            break
        ap = a @ p
        curvature = float(p @ ap)
        if not (np.isfinite(curvature) and curvature > 0):
            reason = _breakdown(i, "p^T A p", curvature, "the preconditioner or A", "A")
            break
        alpha = rz / curvature
        x += alpha * p
        r -= alpha * ap
        residual = float(np.linalg.norm(r))
        if loose is None and residual <= loose_tol * norm_b:
            loose = i
        if residual <= tol * norm_b:
            return CGRun(i, loose, cap, "", time.perf_counter() - start, i)
        if time.perf_counter() > deadline:
            reason = (
                f"CG stopped at its time cap of {seconds:g} s after {i:,} iterations, at "
                f"||r|| = {residual / norm_b:.2g} ||b|| (tolerance {tol:g}; iteration cap "
                f"{cap:,})"
            )
            break
        z = apply_inverse(r)
        rz, previous = float(r @ z), rz
        p = z + (rz / previous) * p
    return CGRun(None, loose, cap, reason, time.perf_counter() - start, i)


def _breakdown(i: int, quantity: str, value: float, source: str, spd: str) -> str:
    """Why CG stopped at iteration `i`: a non-finite `quantity` is NaN or Inf that `source`
    produced; a finite one <= 0 means `spd` is not SPD."""
    if not np.isfinite(value):
        return (
            f"CG broke down at iteration {i}: {quantity} = {value:.3g}, not finite ({source} "
            "produced NaN or Inf)"
        )
    return f"CG broke down at iteration {i}: {quantity} = {value:.3g} ({spd} not SPD)"


def pcg_iterations(
    a: Any,
    b: np.ndarray,
    apply_inverse: Callable[[np.ndarray], np.ndarray],
    *,
    tol: float = CG_TOL,
    maxiter: int | None = None,
) -> int:
    """Iterations of `pcg` to `tol`; maxiter + 1 (default 10 n + 1) when it does not get
    there (a scorer must not use that as a score: see `pcg`'s reason)."""
    run = pcg(a, b, apply_inverse, tol=tol, maxiter=maxiter)
    return run.cap + 1 if run.iterations is None else run.iterations


def det_rel_err(reference: tuple[float, float], estimate: tuple[float, float]) -> float:
    """|det_est - det| / |det| from (sign, log|det|) pairs, without overflow; NaN if det = 0."""
    sign_ref, log_ref = reference
    sign_est, log_est = estimate
    if sign_ref == 0.0 or not np.isfinite(log_ref):
        return NAN
    if sign_est == 0.0 or not np.isfinite(log_est):
        return 1.0
    with np.errstate(over="ignore"):
        if sign_est == sign_ref:
            return float(abs(np.expm1(log_est - log_ref)))
        return float(1.0 + np.exp(log_est - log_ref))
