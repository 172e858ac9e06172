"""What a page's intervals resample, counted from its results: the verdict's time ratios
draw problems, then each problem's cells (its matrix instances × its runs:
`stats.ratio_interval`); a study's medians draw the matrix instances of their row. One run
resamples no timing noise, and the page says so (pure functions, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nnbench.report.judging import Judged, task_problems
from nnbench.report.problems import PROBLEM, Key, problem_key, sourced


@dataclass(frozen=True)
class Resampling:
    """The counts behind a page's intervals: the problems the verdict's ratios draw (in all,
    and the fewest and most of one task: `per_task`), and per problem the matrix instances
    (`repeat`) and runs (`run`) whose cells are redrawn, as (fewest, most); `judged`: the
    problems the verdict judges in the tasks with a ratio (its table's `problems`), of which
    the ratios draw those where a classical method and another group both reach the matched
    accuracy."""

    problems: int
    per_task: tuple[int, int]
    instances: tuple[int, int]
    runs: tuple[int, int]
    judged: int = 0


def resampling(results: pd.DataFrame) -> Resampling:
    """The counts for `results` (one table, or several folders combined). Without a verdict
    ratio (no problem where a classical method and another group both reach the matched
    accuracy) the instances and runs are those of every problem with an ok cell."""
    results = sourced(results)
    judged = task_problems(results)
    tasks = [_compared(problems) for problems in judged]
    compared = [key for task in tasks for key in task]
    counts = results[results.status == "ok"].groupby(PROBLEM, dropna=False)
    per_problem = {problem_key(k): (g.repeat.nunique(), g.run.nunique()) for k, g in counts}
    kept = [per_problem[k] for k in compared if k in per_problem] or list(per_problem.values())
    sizes = [len(task) for task in tasks if task] or [0]
    instances = [i for i, _ in kept] or [1]
    runs = [r for _, r in kept] or [1]
    return Resampling(
        problems=len(compared),
        per_task=(min(sizes), max(sizes)),
        instances=(min(instances), max(instances)),
        runs=(min(runs), max(runs)),
        judged=sum(
            sum(not j.left_out for j in problems)
            for problems, task in zip(judged, tasks, strict=True)
            if task
        ),
    )


def _compared(problems: list[Judged]) -> list[Key]:
    """A task's judged problems where a classical method and another group both reach the
    matched accuracy: those its verdict intervals draw."""
    return [
        problem_key([j.problem[c] for c in PROBLEM])
        for j in problems
        if not j.left_out and "classical" in j.fastest and len(j.fastest) > 1
    ]


def _span(counts: tuple[int, int]) -> str:
    """ "3", or "1–13" where the counts differ."""
    low, high = counts
    return str(low) if low == high else f"{low}–{high}"


def resampling_text(counts: Resampling) -> str:
    """The page's one line on its intervals, e.g. "Intervals: 95% bootstrap over 26 problems
    (4–16 per task) × 2 matrix instances × 3 runs (the runs resample timing noise)."."""
    instances = f"{_span(counts.instances)} matrix instance{'s' * (counts.instances[1] > 1)}"
    if counts.problems:
        several = counts.per_task[0] != counts.problems
        said = [f"{_span(counts.per_task)} per task"] if several else []
        if counts.judged > counts.problems:  # the verdict's table counts them all
            tasks = "those tasks" if several else "that task"
            said.insert(
                0,
                f"of the {counts.judged} the verdict judges in {tasks}, those where both a "
                "classical method and another group's method reach the matched accuracy",
            )
        per_task = f" ({'; '.join(said)})" if said else ""
        plural = "s" * (counts.problems > 1)
        what = f"{counts.problems} problem{plural}{per_task} × {instances}"
    else:
        what = f"each row's {instances} per problem"
    runs = f" × {_span(counts.runs)} runs"
    if counts.runs[0] > 1:
        return f"Intervals: 95% bootstrap over {what}{runs} (the runs resample timing noise)."
    if counts.runs[1] > 1:  # folders with one run beside folders with several
        return (
            f"Intervals: 95% bootstrap over {what}{runs}; on a problem with one run they do "
            "not include run-to-run timing noise."
        )
    return (
        f"Intervals: 95% bootstrap over {what}; this report has one run, so they do not "
        "include run-to-run timing noise."
    )
