"""The headline: the verdict in English, one sentence per task and one per method nnbench
does not ship, with each time ratio's 95% interval. A pure function of the results."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nnbench.report.judging import (
    Counts,
    GroupVerdict,
    TaskVerdict,
    judged_sizes,
    task_verdicts,
)
from nnbench.report.levels import ACCURACY
from nnbench.report.outside_verdict import OutsideVerdict, outside_verdicts
from nnbench.report.problems import SOURCE, by_folder, folder_labels
from nnbench.report.stats import interval_text, two_digits

KIND_WORDS = {"lu": "LU", "qr": "QR", "svd": "SVD", "rank-k": "Rank-k"}


def headline(results: pd.DataFrame) -> list[str]:
    """One sentence per task that ran a classical method, in words, from its verdict: where
    the best other group stands against each problem's fastest classical method at matched
    accuracy, with the 95% interval, and which groups did not run. Empty without such a
    task (a report with no fair comparison has no headline)."""
    labels = folder_labels(results) if by_folder(results) else {}
    machines = (
        [
            "These results folders ran on different machines (or thread counts): "
            + "; ".join(labels.values())
            + ". No time is divided by one measured in another folder: each folder has its "
            "own verdict."
        ]
        if labels
        else []
    )
    tasks = task_verdicts(results)
    verdicts = [_headline(task, labels) for task in tasks if "classical" in task.ran]
    if not verdicts:
        return []
    return [*machines, *verdicts, *(_outside_headline(v) for v in outside_verdicts(results))]


def _headline(task: TaskVerdict, labels: dict[int, str]) -> str:
    label = _task_words(task.problem)
    if labels:
        label += f" (results folder {labels[int(str(task.problem[SOURCE]))]})"
    not_run = f" Not run: {', '.join(task.not_run)}." if task.not_run else ""
    if none := task.none_in_suite:
        kind = KIND_WORDS.get(str(task.problem["kind"]), str(task.problem["kind"]))
        not_run += f" The suite has no {_either(none)} {kind} method."
    if not task.judged:
        why = "'Verdict by problem' says why"
        return f"{label}: the verdict leaves out every problem it has ({why}).{not_run}"
    count = len(task.judged)
    scope = f"n = {judged_sizes(task)}, {count} problem{'s' * (count != 1)}"
    if task.left_out:
        scope += f" ({task.left_out} left out)"
    return f"{label}: {_claim(task)}, {scope}.{not_run}"


def _claim(task: TaskVerdict) -> str:
    """What the verdict says of the non-classical groups against the classical ones. Only
    the groups compared on the page are named as faster or slower; one that ran and reached
    the level nowhere a classical method did is said so apart (`_uncompared`). The ratio and
    the classical methods it divides by are counted over one set of problems: those where
    both reach the level, out of those where the group ran, as the verdict table's `reached`
    counts them ("where both reach it, on 57 of the 58 problems where it ran")."""
    accuracy = task.accuracy.replace("<=", "≤")
    reached = sum(count for _, count in task.classical)
    if not reached:
        return f"no classical method reaches {accuracy} on any problem, so nothing is compared"
    if not task.groups:
        classical = _leaders(task.classical, reached)
        return f"only classical methods ran; the fastest at {accuracy}: {classical}"
    compared = [g for g in task.groups if g.compared]
    if not compared:
        return _none_compared(task, accuracy)
    best = min(compared, key=lambda g: g.ratio)
    others = _joined([g.group for g in compared], "or")
    name = best.methods[0][0] if len(best.methods) == 1 else _leaders(best.methods, best.reached)
    ratio = f"{two_digits(best.ratio)}× {interval_text(best.low, best.high)}"
    where = _where(best, len(task.judged))
    classical = _leaders(best.classical, best.compared)
    high = best.high if np.isfinite(best.high) else best.ratio
    low = best.low if np.isfinite(best.low) else best.ratio
    rest = _uncompared(task, accuracy)
    if high < 1:
        return (
            f"the best {best.group}, {name}, is faster than each problem's fastest classical "
            f"method at {accuracy}: it takes {ratio} its time{where} ({classical}){rest}"
        )
    if low > 1:
        return (
            f"no {others} method is faster than the fastest classical one at {accuracy} — the "
            f"best {best.group}, {name}, is slower: it takes {ratio} the time of each "
            f"problem's fastest classical method{where} ({classical}){rest}"
        )
    return (
        f"the best {best.group}, {name}, is neither clearly faster nor slower than each "
        f"problem's fastest classical method at {accuracy}: it takes {ratio} its "
        f"time{where} ({classical}){rest}"
    )


def _where(best: GroupVerdict, judged: int) -> str:
    """On which problems the ratio is taken, out of those where the group ran (the verdict
    table's denominator); "" where that is every judged problem."""
    if best.compared == best.ran:
        return "" if best.ran == judged else f" on the {best.ran} problems where it ran"
    return f" where both reach it, on {best.compared} of the {best.ran} problems where it ran"


def _uncompared(task: TaskVerdict, accuracy: str) -> str:
    """The groups that ran but reached the level on no problem where a classical method did:
    "; no neural method reaches it where a classical one does (its least: 0.011)"."""
    idle = [g for g in task.groups if not g.compared]
    if not idle:
        return ""
    least = _least(idle, task)
    least = f" ({least})" if least else ""
    return f"; no {_joined([g.group for g in idle], 'or')} method reaches {accuracy} where a " + (
        f"classical one does{least}"
    )


def _least(groups: Sequence[GroupVerdict], task: TaskVerdict) -> str:
    """ "the least backward error any of them gets there: 0.011" (on the problems where a
    classical method reached the level), or "" without a point."""
    least = min((g.least for g in groups), default=np.nan)
    if not np.isfinite(least):
        return ""
    short = ACCURACY[str(task.problem["kind"])].short
    shown = two_digits(least) if least >= 1e-3 else f"{least:.2g}"
    return f"the least {short} any of them gets there: {shown}"


def _none_compared(task: TaskVerdict, accuracy: str) -> str:
    """No non-classical group reached the level where a classical one did. Where none reaches
    even the ladder's loosest level below 1 (the zero-information answer's) on any problem,
    the target is not the news: the sentence names that loosest level instead (a level of
    the precision, c n eps, is named as it is: it is the news)."""
    others = _joined([g.group for g in task.groups], "or")
    classical = _leaders(task.classical, sum(count for _, count in task.classical))
    measure = ACCURACY[str(task.problem["kind"])]
    loosest = max(lv for lv in measure.levels if lv < 1)
    least = min((g.least for g in task.groups), default=np.nan)
    count = len(task.judged)
    got = _least(task.groups, task)
    if not measure.scales and not least <= loosest:  # NaN too: no point anywhere
        got = f" ({got})" if got else ""
        return (
            f"no {others} method reaches even the loosest level, {measure.short} ≤ "
            f"{loosest:g}, on {'its one problem' if count == 1 else f'any of the {count} problems'}"
            f"{got}, so no time is compared (the "
            f"fastest classical at {accuracy}: {classical})"
        )
    got += "; " if got else ""
    return (
        f"no {others} method reaches {accuracy} on a problem where a classical one does "
        f"({got}the fastest classical: {classical})"
    )


def _either(groups: Sequence[str]) -> str:
    """ "neural", "hybrid or neural", "hybrid, neural or amortized"."""
    return groups[0] if len(groups) == 1 else f"{', '.join(groups[:-1])} or {groups[-1]}"


def _task_words(problem: dict[str, object]) -> str:
    """ "LU, float64, CPU"; a batched task "LU (stacks of 50), float32, CUDA"."""
    kind = KIND_WORDS.get(str(problem["kind"]), str(problem["kind"]))
    batch = problem["batch"]
    stacks = f" (stacks of {batch})" if isinstance(batch, (int, np.integer)) and batch > 1 else ""
    return f"{kind}{stacks}, {problem['dtype']}, {str(problem['device']).upper()}"


def _leaders(counts: Counts, total: int) -> str:
    """The most often named, every one of them where several tie, on how many of `total`."""
    top = counts[0][1]
    names = [name for name, count in counts if count == top]
    if len(names) > 1:
        return f"{_joined(names, 'and')}, on {top} of {total} problems each"
    if top == total:
        return f"{names[0]} on {'the one problem' if total == 1 else f'all {total} problems'}"
    return f"{names[0]} on {top} of {total} problems"


def _joined(words: Sequence[str], last: str) -> str:
    """ "a", "a or b", "a, b or c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _outside_headline(v: OutsideVerdict) -> str:
    """The verdict for a method nnbench does not ship, in a sentence."""
    label = f"{v.method} (from {v.source}), {_task_words(v.problem)}"
    accuracy = v.accuracy.replace("<=", "≤")
    reached = f"it reaches {accuracy} on {v.reached} of the {v.ran} problems where it ran"
    if not v.compared:
        return f"{label}: {reached}, and no classical method of nnbench's does there beside it."
    ratio = f"{two_digits(v.ratio)}× {interval_text(v.low, v.high)}"
    leaders = _leaders(v.comparators, v.compared)
    return (
        f"{label}: {reached}; where nnbench's classical methods reach it too ({v.compared} "
        f"problems), it takes {ratio} the time of the fastest of them ({leaders})."
    )
