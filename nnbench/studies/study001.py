"""Study 001's alphabet matrix (900 x 26 letters): its singular values, rank-r reconstructions
of the letter B beside our measures of effective rank, and networks against the SVD."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from nnbench.report.spec import FigureSpec, Missing, NoteSpec
from nnbench.results import Results
from nnbench.results.artifact import picture_scale
from nnbench.running.grid import Grid
from nnbench.studies.competitors import RANK_K, RANK_K_QUICK
from nnbench.studies.study import Study

if TYPE_CHECKING:  # drawn only in a report (a run loads no figure library)
    from matplotlib.figure import Figure


def _ok(res: Results) -> pd.DataFrame:
    return res.results[res.results.status == "ok"]


def _alphabet_cells(res: Results) -> pd.DataFrame:
    """The truncated SVD's cells on the alphabet whose pictures were kept, one per rank."""
    pictures = {k for k, a in res.artifacts.items() if a.approx_picture is not None}
    ok = _ok(res)
    cells = ok[(ok.matrix == "alphabet") & (ok.method == "scipy-tsvd") & ok.cell_id.isin(pictures)]
    return cells[cells["repeat"] == 0].drop_duplicates("rank").sort_values("rank")


def _drawn(res: Results) -> set[tuple[str, str]]:
    from nnbench.report.tables import drawn_spectra

    cells = _alphabet_cells(res).cell_id
    return (
        {(c, "approx_picture") for c in cells}
        | {(c, "picture") for c in cells[:1]}
        | drawn_spectra(res)
    )


def alphabet_ranks(res: Results) -> Figure | Missing:
    """Study 001's 'effective rank close to 5', a visual judgement, beside our quantitative
    measures: the letter B of the truncated SVD at each rank run, with each measure named."""
    import matplotlib.pyplot as plt

    from nnbench.report.figures import picture
    from nnbench.report.tables import effective_rank, spectra

    pictures = res.artifacts
    cells = _alphabet_cells(res)
    sigma = spectra(res).get(("alphabet", 900, 26))
    if cells.empty or sigma is None:
        return Missing(
            "needs scipy-tsvd cells on the alphabet matrix: run --study study001-alphabet"
        )
    measures = effective_rank(sigma, (900, 26))
    first = pictures[cells.cell_id.iloc[0]]
    cols = 1 + len(cells)
    fig, axes = plt.subplots(
        1, cols, figsize=(1.6 * cols, 3.0), squeeze=False, layout="constrained"
    )
    scale = picture_scale(first.picture)  # the original's, for its approximations too
    picture(axes[0, 0], first.picture, "original", vmax=scale)
    for ax, (_, cell) in zip(axes[0, 1:], cells.iterrows(), strict=True):
        approx = pictures[cell.cell_id].approx_picture
        picture(ax, approx, f"r = {int(cell['rank'])}\nrel. err {cell.rel_err_2:.2f}", vmax=scale)
    fig.suptitle(
        "Letter B at rank r (truncated SVD). Study 001 (visual): recognisable at r ~ 5.  Ours: "
        f"entropy effective rank {measures['entropy_effective_rank']:.1f} (Roy & Vetterli), "
        f"{measures['rank_for_90pct_energy']:.0f} / {measures['rank_for_99pct_energy']:.0f} "
        f"singular values hold 90% / 99% of ||A||_F^2, numerical rank {measures['rank']:.0f}",
        fontsize=8,
        wrap=True,
    )
    return fig


ALPHABET_STAND_IN = NoteSpec(
    name="study001_stand_in",
    text="Study 001's handwritten alphabet matrix is not available: its stand-in is the 26 "
    "capitals rendered in DejaVu Sans (matplotlib's font), 30x30 pixels each.",
    applies=lambda res: bool((res.results.matrix == "alphabet").any()),
)

STUDY = Study(
    "study001-alphabet",
    "study 001's alphabet matrix (900x26): singular values, rank-r reconstructions, neural vs SVD",
    grids=(
        Grid(
            matrices=("alphabet",),
            methods=(*RANK_K, "neural-lowrank-study", "hybrid-lowrank-als"),
            ranks=(1, 2, 3, 5, 10, 20, 26),
        ),
    ),
    quick=(
        Grid(matrices=("alphabet",), methods=(*RANK_K_QUICK, "hybrid-lowrank-als"), ranks=(1, 5)),
    ),
    notes=(ALPHABET_STAND_IN,),
    figures=(
        FigureSpec(
            name="alphabet_ranks",
            title="Study 001: the letter B at rank r",
            caption="The study's effective rank (~5) is a visual judgement; the title gives our "
            "quantitative measures and whose each one is.",
            make=alphabet_ranks,
            draws=_drawn,
            optional=True,
        ),
    ),
)
