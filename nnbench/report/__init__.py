"""Report: tables and figures as pure functions of the results, laid out by specs, written by
one function (`build_report`). The report knows no study: studies hand it their sections."""

from nnbench.report.build import build_report
from nnbench.report.spec import FigureSpec, Missing, NoteSpec, TableSpec
from nnbench.report.tables import error_table, status_table

__all__ = [
    "FigureSpec",
    "Missing",
    "NoteSpec",
    "TableSpec",
    "build_report",
    "error_table",
    "status_table",
]
