"""Study 002 beyond its printed numbers: why its rank-10 photo failed (each hypothesis re-run)
and its funnel architectures ("powers of 2 ... often made all of the approximations rank 1")
with the rate of rank collapse over seeds. Pure functions of the results."""

from __future__ import annotations

import itertools

import pandas as pd

from nnbench.report.reproduction import canonical
from nnbench.running.studies import PHOTO_HYPOTHESES, PHOTO_RANK, STUDY_002_FUNNEL


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results.status == "ok"]


def photo_hypotheses(results: pd.DataFrame) -> pd.DataFrame:
    """Each hypothesis for the failed rank-10 photo (at each size run; the study's is 400):
    the re-run's error, the SVD's on the same
    matrix and dtype, their ratio, and whether the change reproduces the failure (ratio >= 2,
    the reproduction table's criterion)."""
    ok = _ok(results)
    ok = ok[ok["rank"] == PHOTO_RANK]
    rows = []
    for h, n in itertools.product(PHOTO_HYPOTHESES, sorted(ok.n.unique(), reverse=True)):
        here = ok[(ok.matrix == h.matrix) & (ok.n == n) & (ok.dtype == h.dtype)]
        nn = here[here.method == canonical(h.method)]
        svd = here[here.method == "scipy-tsvd"]
        if nn.empty or svd.empty:
            continue
        error, optimum = float(nn.rel_err_2.median()), float(svd.rel_err_2.median())
        rows.append(
            {
                "change": h.change,
                "n": n,
                "matrix": h.matrix,
                "method": nn.method.iloc[0],
                "dtype": h.dtype,
                "nn_rel_err_2": error,
                "svd_rel_err_2": optimum,
                "nn_over_svd": error / optimum,
                "rank_ok": bool(nn.rank_ok.all()),
                "reproduces_failure": error >= 2 * optimum,
            }
        )
    return pd.DataFrame(rows)


def funnel_collapse(results: pd.DataFrame) -> pd.DataFrame:
    """Study 002's funnel (widths halving by powers of 2 down to k) beside its n-n-k-n network
    on random matrices: per n and k, how often (over seeds) the learned A_k has numerical rank
    below k, or exactly 1, and the median error ratio to the SVD."""
    funnel = canonical(STUDY_002_FUNNEL)
    ok = _ok(results)
    cells = ok[ok.method.isin([funnel, "neural-lowrank-study"]) & (ok.matrix == "random-uniform")]
    both = cells.groupby(["n", "rank"]).method.nunique()
    cells = cells.set_index(["n", "rank"]).loc[both[both == 2].index].reset_index()
    if cells.empty:
        return pd.DataFrame()
    cells = cells.assign(
        architecture=cells.method.map({funnel: "funnel", "neural-lowrank-study": "n-n-k-n"}),
        collapsed=cells.numerical_rank < cells["rank"],
        rank_one=cells.numerical_rank == 1,
    )
    table = cells.groupby(["n", "rank", "architecture"], sort=True).agg(
        seeds=("collapsed", "size"),
        rank_collapse_rate=("collapsed", "mean"),
        rank_one_rate=("rank_one", "mean"),
        median_numerical_rank=("numerical_rank", "median"),
        median_ratio_2=("ratio_2", "median"),
    )
    return table.reset_index()
