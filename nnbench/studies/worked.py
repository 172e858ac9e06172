"""The source studies' worked examples (studies 000, 003, 004) under every classical LU, QR
and SVD and hybrid-lu-newton, and study 004's Doolittle factors checked entry by entry."""

from __future__ import annotations

import dataclasses

import numpy as np

from nnbench.corpus.examples import WORKED_EXAMPLES
from nnbench.report.reproduction import CRITERIA, Target, as_printed
from nnbench.results import Results
from nnbench.running.grid import Grid
from nnbench.studies.study import Study

WORKED = Grid(
    matrices=tuple(WORKED_EXAMPLES),
    methods=("classical", "hybrid-lu-newton"),
    ranks=(1,),
    timing_repeats=1,
)

STUDY_004 = {  # study 004's worked Doolittle LU of [[8,2,9],[4,9,4],[6,7,9]], as printed
    "det": 166.0,
    "L[1,0] (=0.5)": 0.5,
    "L[2,1] (=0.6875)": 0.6875,
    "U[1,2] (=-0.5)": -0.5,
    "U[2,2] (=2.59375)": 2.59375,
}
STUDY_004_TARGET = Target(
    "004", "Doolittle LU", "study004-doolittle", 3, None, "", 0.0, "", ("doolittle",),
    "worked-examples", criterion="exact",
)  # fmt: skip


def study004_cells(res: Results) -> set[tuple[str, str]]:
    """The `doolittle` cell whose kept factors answer study 004's worked example: the first."""
    r = res.results
    cells = r[(r.matrix == "study004-doolittle") & (r.method == "doolittle") & (r.status == "ok")]
    kept = [str(c) for c in cells.cell_id if c in res.artifacts]
    return {(c, "factors") for c in kept[:1]}


def study004_rows(res: Results) -> list[dict[str, object]]:
    """Study 004's worked example against the factors our `doolittle` cell kept."""
    kept = [res.artifacts[c] for c, _ in study004_cells(res)]
    ours = dict.fromkeys(STUDY_004, np.nan)
    if kept:
        lower, upper = kept[0].factors["L"], kept[0].factors["U"]
        ours = {
            "det": float(np.prod(np.diag(lower)) * np.prod(np.diag(upper))),
            "L[1,0] (=0.5)": float(lower[1, 0]),
            "L[2,1] (=0.6875)": float(lower[2, 1]),
            "U[1,2] (=-0.5)": float(upper[1, 2]),
            "U[2,2] (=2.59375)": float(upper[2, 2]),
        }

    def verdict(quantity: str) -> str:
        value, reported = ours[quantity], STUDY_004[quantity]
        if np.isnan(value):
            return "not run"
        target = dataclasses.replace(STUDY_004_TARGET, reported=reported)
        return "reproduced" if CRITERIA["exact"].holds(target, value, np.nan) else "not reproduced"

    return [
        {
            "study": "study 004",
            "experiment": "Doolittle LU of [[8,2,9],[4,9,4],[6,7,9]]",
            "quantity": quantity,
            "reported": as_printed(reported),
            "study_config": ours[quantity],
            "config": "doolittle",
            "svd": np.nan,
            "ours": np.nan,
            "ours_method": "",
            "verdict": verdict(quantity),
            "criterion": "exact",
            "run": "worked-examples",
            "note": "the study's worked elimination is the textbook Doolittle algorithm",
        }
        for quantity, reported in STUDY_004.items()
    ]


STUDY = Study(
    "worked-examples",
    "the studies' worked examples (studies 000, 003, 004) under every classical LU, QR and "
    "SVD and hybrid-lu-newton: the known answers of the reproduction table",
    grids=(WORKED,),
    quick=(WORKED,),
    known_answers=(study004_rows,),
    answer_cells=(study004_cells,),
)
