"""The names that `report.build`, `report.figures`, `report.fronts` and `report.profiles`
still import from here, where they now live: the fair comparison is split by concern into
`report.problems` (problems, tasks, results folders), `report.levels` (accuracy levels and
points), `report.time_to_accuracy`, `report.judging` (the verdict), `report.outside_verdict`
(methods nnbench does not ship), `report.sentences` (the headline) and `report.stats`
(intervals). New code imports from those modules; this one goes once its importers do."""

from nnbench.report.judging import PAGE_HIDES, RATIO_NUMBERS, judged_problems
from nnbench.report.levels import ACCURACY, budget_points
from nnbench.report.problems import (
    GROUP_ORDER,
    MACHINE,
    PROBLEM,
    SOURCE,
    TASK,
    per_table,
    problem_key,
    task_label,
)
from nnbench.report.sentences import headline
from nnbench.report.stats import ratio_interval, ratio_text

__all__ = [
    "ACCURACY",
    "GROUP_ORDER",
    "MACHINE",
    "PAGE_HIDES",
    "PROBLEM",
    "RATIO_NUMBERS",
    "SOURCE",
    "TASK",
    "budget_points",
    "headline",
    "judged_problems",
    "per_table",
    "problem_key",
    "ratio_interval",
    "ratio_text",
    "task_label",
]
