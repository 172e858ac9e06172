"""The record a study module fills in: its grids, the numbers it reproduces and its own report
sections. The runner and the report know no study; the command line hands a study's grids to
the runner and every study's sections to the report."""

from __future__ import annotations

from dataclasses import dataclass

from nnbench.report.reproduction import KnownAnswers, Target
from nnbench.report.spec import Draws, FigureSpec, HeadlineSpec, NoteSpec, TableSpec
from nnbench.running.grid import Grid


@dataclass(frozen=True)
class Study:
    """`grids` is the study as published; `quick` the same question on small sizes and
    budgets, for CI and a first look. `targets` are the source studies' reported numbers
    that its cells re-measure (the report's reproduction table), `known_answers` the worked
    examples it checks against factors it kept; `tables`, `figures` and `notes` are its own
    report sections, shown only when its cells are in the results."""

    name: str
    description: str
    grids: tuple[Grid, ...]
    quick: tuple[Grid, ...]
    targets: tuple[Target, ...] = ()
    known_answers: tuple[KnownAnswers, ...] = ()
    answer_cells: tuple[Draws, ...] = ()  # the cells whose kept factors the answers read
    tables: tuple[TableSpec, ...] = ()
    figures: tuple[FigureSpec, ...] = ()
    notes: tuple[NoteSpec, ...] = ()
    headlines: tuple[HeadlineSpec, ...] = ()

    def __post_init__(self) -> None:
        if not self.grids or not self.quick:
            raise ValueError(f"study {self.name!r} needs grids and quick grids")
