"""Studies: named sets of grids with the numbers they reproduce and their own report sections,
one module per study or family of studies, listed in one registry. The runner and the report
know no study: `nnbench.api.run_study` hands a study's grids to the runner, `report_sections`
hands every study's sections to the report."""

from __future__ import annotations

from collections.abc import Iterable

from nnbench.errors import NNBenchError
from nnbench.report.reproduction import reproduction_tables
from nnbench.report.spec import FigureSpec, HeadlineSpec, NoteSpec, TableSpec
from nnbench.selection import unknown_name_error
from nnbench.studies import (
    amortized,
    fair,
    precond,
    quick,
    scale,
    sketches,
    streaming,
    study000,
    study000_sensitivity,
    study001,
    study002,
    warm_start,
    worked,
)
from nnbench.studies.study import Study
from nnbench.studies.study_file import is_study_file, load_study

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        quick.STUDY,
        quick.SURVEY,
        worked.STUDY,
        fair.FAIR_QUICK,
        fair.FAIR,
        fair.FAIR_GPU,
        scale.GPU_SCALE_STUDY,
        precond.STUDY,
        amortized.AMORTIZED_LU,
        amortized.AMORTIZED_SKETCH,
        amortized.AMORTIZED_PRECOND,
        scale.CLASSICAL_SCALE,
        study002.STUDY,
        study000.STUDY,
        study000_sensitivity.STUDY,
        scale.LU_SCALE,
        study001.STUDY,
        scale.LOWRANK_SCALE,
        streaming.STUDY,
        sketches.STUDY,
        warm_start.STUDY,
    )
}


def get_study(name: str) -> Study:
    """A registered study, or the study a TOML file describes (a name ending in .toml)."""
    if is_study_file(name):
        return load_study(name)
    if name not in STUDIES:
        raise unknown_name_error("study", name, list(STUDIES), "studies")
    return STUDIES[name]


def report_sections(
    studies: Iterable[Study] | None = None,
) -> list[TableSpec | FigureSpec | NoteSpec | HeadlineSpec]:
    """The report sections of `studies` (default: every registered one): the reproduction
    tables of all their targets, then each study's own tables and figures (a section shared
    by several studies once). Each appears in a report only where its cells are."""
    chosen = list(STUDIES.values() if studies is None else studies)
    targets = sorted((t for s in chosen for t in s.targets), key=lambda t: t.study)
    answers = [a for s in chosen for a in s.known_answers]
    answer_cells = [c for s in chosen for c in s.answer_cells]
    sections: list[TableSpec | FigureSpec | NoteSpec | HeadlineSpec] = []
    if targets or answers:
        sections += reproduction_tables(targets, answers, answer_cells)
    for study in chosen:
        sections += [*study.headlines, *study.notes, *study.tables, *study.figures]
    return list(dict.fromkeys(sections))


def check_section_names(studies: Iterable[Study], at: str = "") -> None:
    """Raise NNBenchError when a table or figure of `studies` takes the name of another
    section of the report (the report's own or a registered study's): checked when a
    plug-in registers its studies, not when a report is built. `at`: where they are listed,
    the start of the message."""
    from nnbench.report.figures import FIGURES
    from nnbench.report.tables import HISTORY, TABLES

    shipped = (*TABLES, HISTORY, *FIGURES, *report_sections())
    taken = {s.name: s for s in shipped if isinstance(s, TableSpec | FigureSpec)}
    for study in studies:
        specs: list[TableSpec | FigureSpec] = [*study.tables, *study.figures]
        for spec in specs:
            if taken.setdefault(spec.name, spec) is not spec:
                raise NNBenchError(
                    f"{at}: " * bool(at) + f"study {study.name!r} names a section "
                    f"{spec.name!r}, a name another report section has",
                    "give the study's TableSpec or FigureSpec a name of its own",
                )
