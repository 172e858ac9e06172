"""The verdict per cost model (SPEC 13c): pure functions of the results.

A *cost model* is a budget of passes over A: one pass, few passes (at most 4) or unlimited
(any number, and the dense factorizations that read A at random, whose `passes` is NaN).
Per budget and problem (matrix family, n, rank, dtype, device), each group's best method
among the rank-k rows that fit it, by its median error over the problem's instances (the
rank-k excess of `levels.ACCURACY`: 0 optimal, 1 no better than the zero matrix; the
fastest among those within the problem's rounding floor of the lowest), with the memory it
held and its time; the group with the lower error wins the problem, and two
errors that differ by less than the problem's rounding floor are a tie. Then, per budget, the
same in words."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbench.report.levels import ACCURACY
from nnbench.report.problems import GROUP_ORDER

PROBLEM = ["matrix", "n", "rank", "dtype", "device"]
STREAMING_NETWORKS = ("neural-gha", "neural-eigengame")
"""The streaming networks (`methods.streaming`, a test checks): a results table without any
of them is not a streaming comparison, and gets no verdict per cost model."""


@dataclass(frozen=True)
class PassBudget:
    """A cost model: at most `passes` passes over A (inf: unlimited)."""

    name: str
    passes: float

    @property
    def rule(self) -> str:
        return "any number of passes" if math.isinf(self.passes) else f"passes <= {self.passes:g}"


BUDGETS = (
    PassBudget("one pass", 1.0),
    PassBudget("few passes", 4.0),
    PassBudget("unlimited", np.inf),
)


def per_method(results: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Per (problem, method): median and worst error over the instances, passes (the most),
    memory held (median floats, and in units of m n), median time and the problem's floor;
    and how many problems the rank-k measure leaves out (k >= the numerical rank)."""
    ok = results[(results.kind == "rank-k") & (results.status == "ok")]
    if ok.empty or not ok.method_base.isin(STREAMING_NETWORKS).any():
        return pd.DataFrame(), 0
    accuracy = ACCURACY["rank-k"]
    scored = ok.assign(
        error=accuracy.measure(ok).clip(lower=0.0),
        floor=accuracy.floor(ok),
        left_out=accuracy.left_out(ok),
        memory_mn=ok.memory_floats / (ok.n_rows * ok.n_cols),
    )
    dropped = scored[scored.left_out != ""]
    kept = scored[scored.left_out == ""]
    left_out = dropped.groupby(PROBLEM, dropna=False).ngroups if not dropped.empty else 0
    if kept.empty:
        return pd.DataFrame(), left_out
    per = kept.groupby([*PROBLEM, "method", "group"], dropna=False, sort=True).agg(
        error=("error", "median"),
        worst=("error", "max"),
        passes=("passes", "max"),
        memory_floats=("memory_floats", "median"),
        memory_mn=("memory_mn", "median"),
        time_s=("time_s", "median"),
        floor=("floor", "max"),
    )
    return per.reset_index(), left_out


def _tolerance(floor: float) -> float:
    return floor if np.isfinite(floor) else 0.0


def _best(methods: pd.DataFrame, floor: float) -> pd.Series:
    """The method with the lowest error, and among those within `floor` of it (rounding
    cannot tell them apart) the fastest."""
    near = methods[methods.error - methods.error.min() <= _tolerance(floor)]
    return near.sort_values(["time_s", "method"]).iloc[0]


@dataclass(frozen=True)
class Winner:
    """Who wins a problem within a budget: the groups whose best error is within the
    problem's rounding floor of the lowest (one wins, several tie; none where no group has a
    method within the budget), and the groups that ran but had none within it."""

    leaders: tuple[str, ...]
    absent: tuple[str, ...] = ()

    @property
    def tie(self) -> bool:
        return len(self.leaders) > 1

    @property
    def named(self) -> str:
        """The leaders ("a" or "a = b"), then the groups with none within the budget."""
        absent = f" ({', '.join(self.absent)}: none fits)" if self.absent else ""
        return " = ".join(self.leaders) + absent

    def __str__(self) -> str:
        if not self.leaders:
            return "none fits"
        return f"tie: {self.named}" if self.tie else self.named


def _winner(best: dict[str, pd.Series], present: list[str], floor: float) -> Winner:
    """The group with the lowest error on a problem, ties (within `floor`) named, and the
    groups that ran but had no method within the budget."""
    if not best:
        return Winner(())
    low = min(float(b.error) for b in best.values())
    tol = _tolerance(floor)
    leaders = [g for g in present if g in best and float(best[g].error) - low <= tol]
    absent = [g for g in present if g not in best]
    return Winner(tuple(leaders), tuple(absent))


def _best_per_group(
    problem: pd.DataFrame, mine: pd.DataFrame, present: list[str]
) -> tuple[dict[str, object], dict[str, pd.Series]]:
    """Each group's best method on one problem within a budget (`mine`: its methods that fit
    it), as the table's columns, and the picks."""
    row: dict[str, object] = {}
    best: dict[str, pd.Series] = {}
    for group in present:
        theirs = mine[mine.group == group]
        if theirs.empty:
            row.update({f"{group}: best": "none fits"})
            continue
        pick = _best(theirs, float(problem.floor.max()))
        best[group] = pick
        row.update(
            {
                f"{group}: best": pick.method,
                f"{group}: excess": pick.error,
                f"{group}: worst": pick.worst,
                f"{group}: passes": pick.passes,
                f"{group}: memory (x mn)": pick.memory_mn,
                f"{group}: time_s": pick.time_s,
            }
        )
    return row, best


def _per_problem(results: pd.DataFrame) -> tuple[pd.DataFrame, list[Winner]]:
    """`by_cost_model`'s table and, row for row, its winners."""
    per, _ = per_method(results)
    if per.empty:
        return pd.DataFrame(), []
    present = [g for g in GROUP_ORDER if g in set(per.group)]
    passes = per.passes.fillna(np.inf)  # NaN: reads A at random, fits no budget of passes
    rows, winners = [], []
    for budget in BUDGETS:
        for key, problem in per.groupby(PROBLEM, dropna=False, sort=True):
            mine = problem[passes[problem.index] <= budget.passes]
            row: dict[str, object] = {"cost model": budget.name, "budget": budget.rule}
            row.update(dict(zip(PROBLEM, key, strict=True)))
            columns, best = _best_per_group(problem, mine, present)
            winner = _winner(best, present, float(problem.floor.max()))
            rows.append({**row, **columns, "winner": str(winner)})
            winners.append(winner)
    return pd.DataFrame(rows), winners


def by_cost_model(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (cost model, problem): each group's best method within the budget, its
    median and worst error, passes, memory held (in units of m n floats) and median time, and
    the winner. Empty without rank-k rows that carry a `passes` column."""
    return _per_problem(results)[0]


def _group_clause(mine: pd.DataFrame, group: str) -> str:
    """A group's best within one budget, over the problems: its medians and usual method."""
    fitted = mine[mine[f"{group}: best"] != "none fits"]
    if fitted.empty:
        return f"no {group} method fits"
    common = fitted[f"{group}: best"].value_counts()
    top = int(common.iloc[0])
    tied = [str(name) for name, count in common.items() if count == top]  # a tie named in full
    usual = tied[0] if len(tied) == 1 else f"{', '.join(tied[:-1])} and {tied[-1]}"
    each = " each" if len(tied) > 1 else ""
    error, memory, seconds = (
        float(fitted[f"{group}: {c}"].median()) for c in ("excess", "memory (x mn)", "time_s")
    )
    return (
        f"{group}'s best (median over {len(fitted)} problems: excess {error:.2g}, "
        f"memory {memory:.2g} m n floats, {seconds:.2g} s) is {usual} on {top} of them{each}"
    )


def _lead(wins: dict[str, int], total: int, ties: list[Winner]) -> str:
    """Which groups win how many of the `total` problems, and the ties."""
    ranked = sorted((g for g in wins if wins[g]), key=lambda g: -wins[g])
    if ranked and wins[ranked[0]] == total:
        lead = f"{ranked[0]} wins on all {total} problems"
    elif ranked:
        lead = ", ".join(f"{g} wins on {wins[g]}" for g in ranked) + f" of {total} problems"
    else:
        lead = f"no group wins any of the {total} problems outright"
    if ties:
        kinds = pd.Series([w.named for w in ties], dtype=object).value_counts()
        named = ", ".join(f"{who} on {count}" for who, count in kinds.items())
        lead += f", tied on {len(ties)} ({named}; 'Streaming per problem' names them)"
    return lead


def cost_model_verdict(results: pd.DataFrame) -> pd.DataFrame:
    """One row per cost model: how many problems each group wins and which are tied, and the
    verdict in one sentence (`headline`): the winner, and per group the median over the
    problems of its best's error, memory and time, with the method that is its best most
    often."""
    table, winners = _per_problem(results)
    if table.empty:
        return pd.DataFrame()
    _, left_out = per_method(results)
    groups = [g for g in GROUP_ORDER if f"{g}: best" in table.columns]
    rows = []
    for budget in BUDGETS:
        where = (table["cost model"] == budget.name).to_numpy()
        mine = table[where]
        theirs = [w for w, here in zip(winners, where, strict=True) if here]
        wins = {g: sum(w.leaders == (g,) for w in theirs) for g in groups}
        ties = [w for w in theirs if w.tie]
        clauses = [_group_clause(mine, group) for group in groups]
        sentence = (
            f"Streaming rank-k, {budget.name} ({budget.rule}): "
            f"{_lead(wins, len(mine), ties)}; " + "; ".join(clauses) + "."
        )
        if left_out:
            sentence += f" Left out: {left_out} problems where k >= the numerical rank of A."
        row: dict[str, object] = {"cost model": budget.name, "budget": budget.rule}
        row.update({f"{g}: wins": wins[g] for g in groups})
        row.update({"ties": len(ties), "problems": len(mine), "headline": sentence})
        rows.append(row)
    return pd.DataFrame(rows)


def cost_model_headline(results: pd.DataFrame) -> list[str]:
    """The verdict per cost model, one sentence each ([] without streaming rows)."""
    verdict = cost_model_verdict(results)
    return [] if verdict.empty else list(verdict.headline)
