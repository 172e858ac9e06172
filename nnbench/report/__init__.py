"""Report: tables and figures as pure functions of the results, laid out by specs, written by
one function (`build_report`). The report knows no study: studies hand it their sections.

`build_report` and the tables load on first use (PEP 562): a study imports its specs from
here without the figure libraries (matplotlib, seaborn), which a run never draws with."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nnbench.report.spec import FigureSpec, Missing, NoteSpec, TableSpec

if TYPE_CHECKING:
    from nnbench.report.build import build_report
    from nnbench.report.tables import error_table, status_table

_LAZY = {
    "build_report": "nnbench.report.build",
    "error_table": "nnbench.report.tables",
    "status_table": "nnbench.report.tables",
}

__all__ = [
    "FigureSpec",
    "Missing",
    "NoteSpec",
    "TableSpec",
    "build_report",
    "error_table",
    "status_table",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
