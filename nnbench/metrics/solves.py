"""What the factors do when used: the backward error of a solve, the error of the
determinant, and the iterations of conjugate gradients they precondition."""

from __future__ import annotations

from collections.abc import Callable

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


def pcg_iterations(
    a: np.ndarray,
    b: np.ndarray,
    apply_inverse: Callable[[np.ndarray], np.ndarray],
    *,
    tol: float = CG_TOL,
    maxiter: int | None = None,
) -> int:
    """Iterations of preconditioned conjugate gradients on A x = b from x = 0 until
    ||b - A x|| <= tol ||b||; maxiter + 1 (default 10 n + 1) when it does not get there, or
    when the preconditioner is not positive definite (CG breaks down)."""
    limit = 10 * a.shape[0] if maxiter is None else maxiter
    x = np.zeros_like(b)
    r = b.copy()
    z = apply_inverse(r)
    p, rz = z.copy(), float(r @ z)
    target = tol * float(np.linalg.norm(b))
    for i in range(1, limit + 1):
        if not (np.isfinite(rz) and rz > 0):
            return limit + 1
        ap = a @ p
        alpha = rz / float(p @ ap)
        x += alpha * p
        r -= alpha * ap
        if float(np.linalg.norm(r)) <= target:
            return i
        z = apply_inverse(r)
        rz, previous = float(r @ z), rz
        p = z + (rz / previous) * p
    return limit + 1


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
