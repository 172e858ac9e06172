"""What a report section is: a table or a figure, as a record that names its content and how
it is shown. The report's own sections and each study's are specs of the same two kinds, so
`build_report` lays out every section one way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from nnbench.results import Results

if TYPE_CHECKING:  # a study's specs load without the figure libraries
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Missing:
    """A figure the results cannot draw, and what data (which study) it needs."""

    reason: str


FigureMaker = Callable[[Results], "Figure | Missing | list[tuple[str, Figure]]"]
Draws = Callable[[Results], set[tuple[str, str]]]
"""What a section draws of the run's artifacts (`artifacts/CELL_ID.npz`), as (cell id, field)
pairs: what a results folder keeps once pruned for committing (`nnbench report --prune`)."""


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    """One table: `make` computes it from the results (empty: the section is left out).
    `leading` tables open the report, before the figures; `collapsed` ones fold their rows
    away; `compact` ones leave to their CSV the columns the page gives in words or needs no
    more (`build.CSV_ONLY`); `digits`: significant digits of floats on the page (the CSV
    keeps them all). On the page, a column that holds one value on every row is a line above
    its table instead (`build._compact`)."""

    name: str  # the CSV file stem and the page anchor
    title: str
    make: Callable[[Results], pd.DataFrame]
    nav: str = ""  # navigation label (default: the name)
    note: str = ""
    leading: bool = False
    collapsed: bool = False
    compact: bool = False
    digits: int = 2
    draws: Draws | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.title:
            raise ValueError("a TableSpec needs a name and a title")


@dataclass(frozen=True, kw_only=True)
class FigureSpec:
    """One figure (or a list of named figures, such as one per image). `optional` figures
    (a study's own) are left out when their data is missing; the others say what is."""

    name: str
    title: str
    caption: str
    make: FigureMaker
    optional: bool = False
    draws: Draws | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.title:
            raise ValueError("a FigureSpec needs a name and a title")


@dataclass(frozen=True, kw_only=True)
class HeadlineSpec:
    """Sentences a study adds to the report's headline (after the verdict's, before
    everything else): `make` returns them from the results ([] where its cells are absent).
    A `summary` (one sentence per method over all its problems) comes before the studies'
    per-problem sentences."""

    name: str
    make: Callable[[Results], list[str]]
    summary: bool = False


@dataclass(frozen=True, kw_only=True)
class NoteSpec:
    """A paragraph under the report's title, shown where `applies` holds for the results
    (a study's note on the stand-in pictures it uses, say)."""

    name: str
    text: str
    applies: Callable[[Results], bool]
