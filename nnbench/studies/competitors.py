"""The classical competitors a practitioner would run for a job, shared by every study that
puts a learned method beside them: no study compares a network with a full SVD alone.

Rank-k: the truncated SVD (the optimum), randomized SVD with a power-iteration sweep (its
default, 4, is scikit-learn's; torch's own default is 2) and Krylov `svds` (PROPACK and ARPACK)
with a tolerance sweep, each a budget on one front."""

from __future__ import annotations

RANK_K = (
    "scipy-tsvd",
    *(f"torch-rsvd[niter={q}]" for q in (0, 1, 2, 4, 7)),
    *(f"scipy-svds-propack[tol={t}]" for t in (1e-2, 1e-6, 0)),
    *(f"scipy-svds-arpack[tol={t}]" for t in (1e-2, 1e-6, 0)),
)
RANK_K_QUICK = ("scipy-tsvd", "torch-rsvd", "scipy-svds-propack[tol=0.01]", "scipy-svds-arpack")
"""The same jobs on a quick variant's budget: one point per algorithm."""
