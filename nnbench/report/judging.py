"""The verdict: each problem judged at its matched accuracy (the dtype's target, or the
tightest level its rounding floor lets mean something; or left out, with the reason), and
per task the best hybrid and neural methods beside each problem's own fastest classical one,
the median time ratio with its 95% bootstrap interval. Pure functions of the results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbench.report.levels import ACCURACY, budget_points, matched_level, matched_text
from nnbench.report.problems import (
    GROUP_ORDER,
    PROBLEM,
    SOURCE,
    TASK,
    Key,
    by_folder,
    folder_labels,
    per_table,
    problem_key,
    source_shown,
    sourced,
    task_label,
)
from nnbench.report.stats import ratio_interval, ratio_text
from nnbench.report.untimed import untimed_fits, untimed_label


@dataclass(frozen=True)
class Judged:
    """One problem as the verdict sees it: its matched accuracy (`level`), the groups with a
    cell there that was not skipped (`groups`; one that reached nothing is there only), each
    group's fastest point within the level (`fastest`) and the points at that same time, one
    per method (`tied`: a tie names them all), each group's least accuracy on it whether or
    not within the level (`least`); or why it is left out (`left_out`; then `level` is NaN)."""

    problem: dict[str, object]
    level: float
    left_out: str
    groups: frozenset[str]
    fastest: dict[str, pd.Series]
    tied: dict[str, pd.DataFrame]
    least: dict[str, float]


@per_table
def groups_run(results: pd.DataFrame) -> dict[Key, frozenset[str]]:
    """Per problem (`problem_key`), the groups with a cell there that was not skipped: a method that
    failed or diverged ran there; one that declined the input did not."""
    results = sourced(results)
    run = results[results.status != "skipped"].groupby(PROBLEM, dropna=False).group
    return {problem_key(key): frozenset(map(str, groups)) for key, groups in run}


def judge(points: pd.DataFrame, ran: dict[Key, frozenset[str]]) -> list[Judged]:
    """Each problem of `budget_points`, in order (`ran`: `groups_run` of the results)."""
    judged = []
    for key, mine in points.groupby(PROBLEM, dropna=False, sort=True):
        problem = dict(zip(PROBLEM, key, strict=True))
        accuracy = ACCURACY[str(problem["kind"])]
        reason = str(mine.left_out.iloc[0])
        level = (
            np.nan if reason else matched_level(accuracy, str(problem["dtype"]), mine.floor.max())
        )
        within = mine[mine.accuracy <= level].sort_values("time_s", kind="stable")
        fastest, tied = {}, {}
        for group, rows in within.groupby("group"):
            fastest[str(group)] = rows.iloc[0]
            at_best = rows[rows.time_s == rows.time_s.iloc[0]]
            tied[str(group)] = at_best.drop_duplicates("method_base")
        groups = ran.get(problem_key(key), frozenset()) | frozenset(map(str, mine.group))
        least = {str(g): float(a) for g, a in mine.groupby("group").accuracy.min().items()}
        judged.append(Judged(problem, level, reason, groups, fastest, tied, least))
    return judged


@per_table
def judged_problems(results: pd.DataFrame) -> list[Judged]:
    """`judge` of every problem of the results, in order."""
    points = budget_points(results)
    return [] if points.empty else judge(points, groups_run(results))


def _best(
    judged: Judged, group: str, column: str = "method", fits: dict[str, float] | None = None
) -> str:
    """The group's fastest on the problem ("a = b" where methods tie), each with its untimed
    fit where its method has one in `fits` (`untimed_label`), or why there is none."""
    if group in judged.tied:
        tied = judged.tied[group]
        return " = ".join(
            untimed_label(str(name), fits or {}, str(base))
            for name, base in zip(tied[column], tied.method_base, strict=True)
        )
    return "none reached" if group in judged.groups else "not run"


def verdict_by_problem(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem: its matched accuracy, its own fastest classical method there with its
    time (the comparator of every time ratio on it), each other group's fastest method with
    its time and time / the classical one's; or, for a problem the verdict leaves out, why."""
    judged = judged_problems(results)
    if not judged:
        return pd.DataFrame()
    fits = untimed_fits(results)
    groups = [g for g in GROUP_ORDER[1:] if any(g in j.groups for j in judged)]
    columns = ["task", "matrix", "n", "rank", SOURCE, "matched accuracy"]
    columns += ["classical: fastest", "classical: time_s"]
    columns += [f"{g}: {c}" for g in groups for c in ("best", "time_s", "time ratio")]
    rows = []
    for j in judged:
        row: dict[str, object] = {
            "task": task_label(j.problem),
            "matrix": j.problem["matrix"],
            "n": j.problem["n"],
            "rank": j.problem["rank"],
            SOURCE: j.problem[SOURCE],
            "matched accuracy": "" if j.left_out else f"<= {j.level:g}",
        }
        if not j.left_out:
            classical = j.fastest.get("classical")
            reference = np.nan if classical is None else float(classical.time_s)
            row["classical: fastest"] = _best(j, "classical", fits=fits)
            row["classical: time_s"] = reference
            for group in groups:
                own = j.fastest.get(group)
                time_s = np.nan if own is None else float(own.time_s)
                row[f"{group}: best"] = _best(j, group, fits=fits)
                row[f"{group}: time_s"] = time_s
                row[f"{group}: time ratio"] = time_s / reference
        row["reason"] = j.left_out  # last: the page wraps it
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*columns, "reason"])
    table = table.assign(rank=pd.to_numeric(table["rank"]))  # LU's none: NaN, shown blank
    # the problems that compare something first: a page shows the first rows, and a task only
    # classical methods ran filled them ("not run" on every row of its QR and SVD)
    compared = table[[f"{g}: time_s" for g in groups]].notna().any(axis=1)
    table = pd.concat([table[compared], table[~compared]], ignore_index=True)
    return source_shown(table, results)


Counts = tuple[tuple[str, int], ...]  # names with on how many problems, most often first


def count_names(names: Sequence[str]) -> Counts:
    counts = pd.Series(names, dtype=object).value_counts(sort=False)
    return tuple(sorted(((str(k), int(v)) for k, v in counts.items()), key=lambda c: (-c[1], c[0])))


def names_text(counts: Counts) -> str:
    """The names, with their counts where there are several."""
    if not counts:
        return "none reached"
    if len(counts) == 1:
        return counts[0][0]
    return ", ".join(f"{name} ({count})" for name, count in counts)


@dataclass(frozen=True)
class GroupVerdict:
    """One non-classical group on one task: on how many judged problems it ran and reached
    the matched accuracy, its fastest methods there, and over the `compared` problems where
    it and a classical method both reached it, the median of its time / the classical one's
    with the 95% interval (`ratio_interval`; NaN: none), and the fastest classical methods
    on those same problems (`classical`: the ratio's denominators). `least`: its least
    accuracy on any judged problem, within the level or not (NaN: no point)."""

    group: str
    ran: int
    reached: int
    methods: Counts
    compared: int
    ratio: float
    low: float
    high: float
    classical: Counts = ()
    least: float = np.nan


@dataclass(frozen=True)
class TaskVerdict:
    """One task, dtype and device: its judged problems and how many it leaves out, each
    judged problem's fastest classical method (ties as "a = b"), the groups with a cell
    anywhere on it (`ran`), and a `GroupVerdict` for each non-classical one of those."""

    problem: dict[str, object]  # its first problem: the task, dtype and device
    accuracy: str  # the matched accuracy, in words
    judged: tuple[Judged, ...]
    left_out: int
    classical: Counts
    ran: frozenset[str]
    groups: tuple[GroupVerdict, ...]

    @property
    def not_run(self) -> list[str]:
        """The groups with a method for this task in the suite that did not run here."""
        offered = offered_groups(str(self.problem["kind"]))
        return [g for g in GROUP_ORDER[1:] if g not in self.ran and g in offered]

    @property
    def none_in_suite(self) -> list[str]:
        """The groups the suite has no method of for this task (QR, SVD: classical only)."""
        offered = offered_groups(str(self.problem["kind"]))
        return [g for g in GROUP_ORDER[1:] if g not in self.ran and g not in offered]


OFFERED: dict[str, frozenset[str]] = {
    "lu": frozenset({"classical", "hybrid", "neural", "amortized"}),
    "qr": frozenset({"classical"}),
    "svd": frozenset({"classical"}),
    "rank-k": frozenset({"classical", "hybrid", "neural", "amortized"}),
    "precond": frozenset({"classical", "hybrid", "amortized"}),
}
"""The groups the method registry has for each task (a test keeps it equal to the registry;
the report reads results only and never imports the methods, nor torch)."""


def offered_groups(kind: str) -> frozenset[str]:
    """The groups of the registered methods for a task; all of them for a kind unknown here."""
    return OFFERED.get(kind, frozenset(GROUP_ORDER))


def task_problems(results: pd.DataFrame) -> list[list[Judged]]:
    """The judged problems of each task, dtype and device (and results folder, where the
    folders ran on different machines: `by_folder`), in order."""
    task = [*TASK, SOURCE] if by_folder(results) else TASK
    tasks: dict[Key, list[Judged]] = {}
    for judged in judged_problems(results):  # in PROBLEM's order, which begins with TASK's
        tasks.setdefault(tuple(judged.problem[c] for c in task), []).append(judged)
    return [problems for _, problems in sorted(tasks.items(), key=lambda t: t[0])]


def task_verdicts(results: pd.DataFrame) -> list[TaskVerdict]:
    """One per task, dtype and device with an ok cell (and per results folder, where the
    folders ran on different machines), in order. A method whose fit is untimed is named
    with it (`report.untimed`)."""
    fits = untimed_fits(results)
    return [_task_verdict(problems, fits) for problems in task_problems(results)]


def _task_verdict(problems: list[Judged], fits: dict[str, float]) -> TaskVerdict:
    first = problems[0].problem
    kept = [j for j in problems if not j.left_out]
    ran = frozenset[str]().union(*(j.groups for j in problems))
    reached = [_best(j, "classical", "method_base", fits) for j in kept if "classical" in j.fastest]
    return TaskVerdict(
        problem=first,
        accuracy=matched_text(
            ACCURACY[str(first["kind"])], str(first["dtype"]), [j.level for j in kept]
        ),
        judged=tuple(kept),
        left_out=len(problems) - len(kept),
        classical=count_names(reached),
        ran=ran,
        groups=tuple(_group_verdict(kept, g, fits) for g in GROUP_ORDER[1:] if g in ran),
    )


def _group_verdict(kept: list[Judged], group: str, fits: dict[str, float]) -> GroupVerdict:
    own = [j for j in kept if group in j.fastest]
    both = [(j.fastest[group], j.fastest["classical"]) for j in own if "classical" in j.fastest]
    compared = [j for j in own if "classical" in j.fastest]
    # its least accuracy where a classical method reached the level: where it could be compared
    least = [j.least[group] for j in kept if group in j.least and "classical" in j.fastest]
    ratios = [mine.time_s / classical.time_s for mine, classical in both]
    low, high = ratio_interval([(mine.times, classical.times) for mine, classical in both])
    return GroupVerdict(
        group=group,
        ran=sum(group in j.groups for j in kept),
        reached=len(own),
        methods=count_names([_best(j, group, "method_base", fits) for j in own]),
        compared=len(both),
        ratio=float(np.median(ratios)) if ratios else np.nan,
        low=low,
        high=high,
        classical=count_names([_best(j, "classical", "method_base", fits) for j in compared]),
        least=min(least) if least else np.nan,
    )


TASK_COLUMNS = ("task", "n", "matched accuracy", "problems", "left out", "best classical")
RATIO_NUMBERS = ("time ratio", "time ratio low", "time ratio high")
PAGE_HIDES = tuple(f"{g}: {c}" for g in GROUP_ORDER[1:] for c in RATIO_NUMBERS)
"""The verdict's ratios as numbers: its CSV has them, its page the words."""


def verdict(results: pd.DataFrame) -> pd.DataFrame:
    """Per task, dtype and device: its sizes n, the matched accuracy; how many problems it
    judges and how many it leaves out (`verdict_by_problem` says why); the classical methods
    that were each problem's fastest (`best classical`, with on how many problems where they
    differ), and for the other groups their fastest methods, the `time ratio` (median over
    the problems both reached of its time / that problem's fastest classical time) with its
    95% interval (`time ratio low`, `high`; in words in `time ratio [95% CI]`), and on how
    many of the judged problems where it ran the group reached the matched accuracy."""
    labels = folder_labels(results) if by_folder(results) else {}
    rows = [_verdict_row(task, labels) for task in task_verdicts(results)]
    if not rows:
        return pd.DataFrame()
    own = ("best", "time ratio [95% CI]", "reached", *RATIO_NUMBERS)
    every = [TASK_COLUMNS[0], "results folder", *TASK_COLUMNS[1:]]
    every += [f"{g}: {c}" for g in GROUP_ORDER[1:] for c in own]
    return pd.DataFrame(rows, columns=[c for c in every if any(c in row for row in rows)])


def _verdict_row(task: TaskVerdict, labels: dict[int, str]) -> dict[str, object]:
    folder = {"results folder": labels[int(str(task.problem[SOURCE]))]} if labels else {}
    row: dict[str, object] = {
        "task": task_label(task.problem),
        **folder,
        "n": judged_sizes(task),
        "matched accuracy": task.accuracy,
        "problems": len(task.judged),
        "left out": task.left_out,
        "best classical": names_text(task.classical),
    }
    for group in task.not_run:
        row[f"{group}: best"] = "not run"
    for group in task.none_in_suite:
        row[f"{group}: best"] = "none in the suite"
    for own in task.groups:
        g = own.group
        row |= {
            f"{g}: best": names_text(own.methods),
            f"{g}: time ratio [95% CI]": ratio_text(own.ratio, own.low, own.high),
            f"{g}: reached": f"{own.reached}/{own.ran}",
            f"{g}: time ratio": own.ratio,
            f"{g}: time ratio low": own.low,
            f"{g}: time ratio high": own.high,
        }
    return row


def judged_sizes(task: TaskVerdict) -> str:
    """The judged problems' n: "64" or "8..1024"."""
    ns = sorted({int(str(j.problem["n"])) for j in task.judged})
    if not ns:
        return ""
    return str(ns[0]) if len(ns) == 1 else f"{ns[0]}..{ns[-1]}"
