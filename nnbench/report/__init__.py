"""`python -m nnbench.report`: tables (and later figures and HTML) from results folders."""

from nnbench.report.build import build_report
from nnbench.report.tables import all_tables, error_table, status_table

__all__ = ["all_tables", "build_report", "error_table", "status_table"]
