"""The source studies' reported numbers, and ours beside them (SPEC.md's reproduction table).

Each `Target` is one number a study printed. Its verdict is one of `VERDICTS`, judged by the
target's criterion; `CRITERIA` states every threshold and the report prints them. Where the
study's configuration is ambiguous (study 002's biases, study 000's optimizer), every
candidate re-run is shown and the evidence picks the one the table calls "study config": the
candidate closest to the study's numbers over all targets that share the candidates (median
|log10(re-run / reported)|; `config_choice` shows the scores). `reproduction_table` is a pure
function of the results."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbench.report.problems import per_table
from nnbench.report.spec import Draws, TableSpec
from nnbench.results import Results

SVD = "scipy-tsvd"
VERDICTS = ("reproduced", "not reproduced", "different matrix", "not run")


def _within(value: float, reported: float, factor: float) -> bool:
    return bool(reported > 0 and value > 0 and 1 / factor <= value / reported <= factor)


def _digits(value: float, reported: float) -> bool:
    return bool(abs(value - reported) <= 5e-5 * max(1.0, abs(reported)))


@dataclass(frozen=True)
class Criterion:
    """When a re-run reproduces a reported number: `holds(target, value, svd)`, given the
    re-run's value of the target's statistic and our truncated SVD's error (NaN for LU)."""

    rule: str  # the threshold as the report states it
    holds: Callable[[Target, float, float], bool]


CRITERIA: dict[str, Criterion] = {
    "factor 2": Criterion(
        "errors and |NN - SVD| differences: the re-run within a factor of 2 of the reported value",
        lambda t, v, s: _within(v, t.reported, 2),
    ),
    "factor 10": Criterion(
        "final training losses: within a factor of 10 (over seeds they spread wider than 2x)",
        lambda t, v, s: _within(v, t.reported, 10),
    ),
    "digits": Criterion(
        "SVD errors (the Eckart-Young optimum of the matrix): equal to the printed digits, "
        "|ours - reported| <= 5e-5 max(1, |reported|); a mismatch means another matrix",
        lambda t, v, s: _digits(v, t.reported),
    ),
    "exact": Criterion(
        "worked examples (exact arithmetic): equal to 1e-12 relative",
        lambda t, v, s: bool(abs(v - t.reported) <= 1e-12 * max(1.0, abs(t.reported))),
    ),
    "excess": Criterion(
        "stand-in images (another picture than the study's): the excess error NN/SVD - 1 "
        "within a factor of 2 of the study's",
        lambda t, v, s: _within(v / s - 1, t.reported / t.svd_reported - 1, 2),
    ),
    "matches svd": Criterion(
        "the stand-in photo at k = 1 (the study: |NN - SVD| = 0.0013, 'very accurately'): "
        "|NN - SVD| at most 1% of the SVD error",
        lambda t, v, s: bool(v <= 0.01 * s),
    ),
    "failed": Criterion(
        "the study's failed rank-10 photo ('a very large error and an unrecognizable image'): "
        "reproduced if the re-run's error is at least twice the SVD's",
        lambda t, v, s: bool(v >= 2 * s),
    ),
}


@dataclass(frozen=True)
class Target:
    """One reported number. `statistic` (a key of `STATISTICS`) computes the same quantity
    from the cells of each of `configs` (the study's configuration, candidates if ambiguous)
    and of `ours` (our best method on the same matrix, "" where no like-for-like number
    exists; `note` then says why). `svd_reported` is the study's SVD error of the matrix:
    where ours differs, the study used another matrix."""

    study: str
    experiment: str
    matrix: str
    n: int
    rank: int | None  # None for LU targets
    statistic: str
    reported: float
    reported_as: str  # what the study's number is: "SVD error", "NN error", "|NN - SVD|"
    configs: tuple[str, ...]
    run: str  # the study that produces the cells
    criterion: str = "factor 2"
    ours: str = ""
    dtype: str = "float64"  # of the configs' cells (study 000 ran torch's float32)
    svd_reported: float = np.nan
    stand_in: bool = False  # the study's picture is not available: another image stands in
    printed: str = ""  # the study's words where it printed no number
    note: str = ""
    explain: Explain | None = None  # more words for the note, from the results


Explain = Callable[[pd.DataFrame, Target, str, str], str]
"""(results, target, chosen config, verdict) -> words for the target's note ("" for none)."""
KnownAnswers = Callable[[Results], list[dict[str, object]]]
"""Reproduction rows a study checks against the factors its cells kept (worked examples)."""


@per_table
def _ok_by_matrix(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The ok rows of each matrix, split once per results table (a report's reproduction
    sections ask for a matrix's cells about 300 times)."""
    ok = results[results.status == "ok"]
    return {str(matrix): rows for matrix, rows in ok.groupby("matrix", sort=False)}


def _cells(results: pd.DataFrame, target: Target, method: str, dtype: str) -> pd.DataFrame:
    r = _ok_by_matrix(results).get(target.matrix)
    if r is None:
        return results.iloc[:0]
    keep = (r.n == target.n) & (r.method == method) & (r.dtype == dtype)
    if target.rank is not None:
        keep &= r["rank"] == target.rank
    return r[keep]


def _median_of(column: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda cells, svd: float(cells[column].median())


def _diff_to_svd(cells: pd.DataFrame, svd: pd.DataFrame) -> float:
    """Mean over matrix instances of |err_method - err_SVD| (study 002's Figs. 10 and 12)."""
    per_matrix = cells.groupby("matrix_seed").rel_err_2.median()
    paired = pd.concat([per_matrix, svd.groupby("matrix_seed").rel_err_2.first()], axis=1)
    paired = paired.dropna()
    return float((paired.iloc[:, 0] - paired.iloc[:, 1]).abs().mean()) if len(paired) else np.nan


STATISTICS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], float]] = {
    "rel_err_2": _median_of("rel_err_2"),
    "rel_err_fro": _median_of("rel_err_fro"),
    "final_loss": _median_of("final_loss"),
    "diff_to_svd": _diff_to_svd,
}
"""How a target's number is computed from a method's cells (and the SVD's)."""


def statistic(
    results: pd.DataFrame,
    target: Target,
    method: str,
    dtype: str = "float64",
    name: str | None = None,
) -> float:
    """`name` (default: the target's statistic) of `method`'s cells for the target."""
    cells = _cells(results, target, method, dtype)
    if cells.empty:
        return np.nan
    svd = _cells(results, target, SVD, dtype)
    return STATISTICS[name or target.statistic](cells, svd)


def _svd_error(results: pd.DataFrame, target: Target, dtype: str = "float64") -> float:
    """Our truncated SVD's relative 2-norm error on the target's matrix (rank-k targets)."""
    if target.rank is None:
        return np.nan
    return statistic(results, target, SVD, dtype, "rel_err_2")


def _score(values: list[tuple[float, float]]) -> float:
    """Median |log10(re-run / reported)| over (re-run, reported) pairs with both positive."""
    logs = [abs(np.log10(v / r)) for v, r in values if v > 0 and r > 0]
    return float(np.median(logs)) if logs else np.nan


COMPARED: dict[str, Callable[[Target, float, float], tuple[float, float]]] = {
    "factor 2": lambda t, v, s: (v, t.reported),
    "factor 10": lambda t, v, s: (v, t.reported),
    "excess": lambda t, v, s: (v / s - 1, t.reported / t.svd_reported - 1),
}
"""(re-run, reported) in the terms a criterion compares, for the criteria that compare two
numbers (the evidence that chooses between candidate configurations)."""


def config_choice(res: Results, all_targets: Sequence[Target]) -> pd.DataFrame:
    """For each set of candidate configurations, each candidate's distance to the study's
    numbers and whether the evidence chose it (the smallest median |log10 ratio|)."""
    results = res.results
    rows = []
    for configs in dict.fromkeys(t.configs for t in all_targets):
        targets = [t for t in all_targets if t.configs == configs and t.criterion in COMPARED]
        svds = [_svd_error(results, t) for t in targets]
        scored = []
        for config in configs:
            values = [statistic(results, t, config, t.dtype) for t in targets]
            pairs = [
                COMPARED[t.criterion](t, v, s)
                for t, v, s in zip(targets, values, svds, strict=True)
                if not np.isnan(v)
            ]
            judged = [
                CRITERIA[t.criterion].holds(t, v, s)
                for t, v, s in zip(targets, values, svds, strict=True)
                if not np.isnan(v)
            ]
            scored.append(
                {
                    "candidates": " / ".join(configs),
                    "config": config,
                    "targets_run": len(judged),
                    "reproduced": int(sum(judged)),
                    "median_abs_log10_ratio": _score(pairs),
                }
            )
        scores = np.array([s["median_abs_log10_ratio"] for s in scored], dtype=float)
        best = int(np.nanargmin(scores)) if not np.all(np.isnan(scores)) else -1
        rows += [s | {"chosen": i == best} for i, s in enumerate(scored)]
    return pd.DataFrame(rows)


def _chosen(choice: pd.DataFrame, configs: tuple[str, ...]) -> str:
    picked = choice[(choice.candidates == " / ".join(configs)) & choice.chosen]
    return str(picked.config.iloc[0]) if len(picked) else configs[0]


def _verdict(target: Target, value: float, svd: float) -> str:
    """`value`: the re-run's statistic (our SVD's error on an "SVD error" row)."""
    other = not target.stand_in and not np.isnan(target.svd_reported)
    if other and not np.isnan(svd) and not _digits(svd, target.svd_reported):
        return "different matrix"  # whatever the network does on it
    if np.isnan(value):
        return "not run"
    if target.reported_as == "SVD error":
        return "reproduced" if _digits(value, target.reported) else "different matrix"
    if np.isnan(svd) and (other or target.criterion in ("excess", "matches svd", "failed")):
        return "not run"
    return (
        "reproduced" if CRITERIA[target.criterion].holds(target, value, svd) else "not reproduced"
    )


def _note(results: pd.DataFrame, target: Target, chosen: str, svd: float, verdict: str) -> str:
    parts = [target.note] if target.note else []
    if target.reported_as == "SVD error" and verdict == "different matrix":
        why = "a stand-in image" if target.stand_in else "the study's matrix is another one"
        parts.append(f"our SVD gives {svd:.4g}: {why}")
    elif verdict == "different matrix":
        parts.append(
            f"our SVD gives {svd:.4g}, the study's {target.svd_reported}: another matrix "
            "(not scored)"
        )
    if target.criterion == "excess" and not np.isnan(svd):
        value = statistic(results, target, chosen, target.dtype)
        parts.append(
            f"NN/SVD: study {target.reported / target.svd_reported:.3g}, "
            f"study config {value / svd:.3g}"
        )
    if verdict == "not reproduced" and len(target.configs) > 1:
        tried = [f"{c} {statistic(results, target, c, target.dtype):.3g}" for c in target.configs]
        parts.append("tried: " + ", ".join(tried))
    if target.explain is not None:
        parts.append(target.explain(results, target, chosen, verdict))
    return "; ".join(filter(None, parts))


def as_printed(value: float) -> str:
    """A reported number as the study printed it (1.00146, 4.38e-12, 166: none has more than
    6 significant digits), not rounded by a table's float format; '' where it gave none."""
    return "" if np.isnan(value) else f"{value:.6g}"


def reproduction_table(
    res: Results, targets: Sequence[Target], known_answers: Sequence[KnownAnswers] = ()
) -> pd.DataFrame:
    """One row per reported number: the study's value (as printed), the chosen re-run of the
    study's configuration, our truncated SVD, our best method on the same matrix and metric,
    a verdict from `VERDICTS` by the target's criterion, and a note on what differs or was
    tried."""
    results = res.results
    choice = config_choice(res, targets)
    rows = []
    for target in targets:
        chosen = _chosen(choice, target.configs)
        svd = _svd_error(results, target)
        svd_row = target.reported_as == "SVD error"  # the verdict judges our SVD's error
        value = np.nan if svd_row else statistic(results, target, chosen, target.dtype)
        fallback = ""
        if np.isnan(value) and not svd_row:  # the evidence's choice did not run on this target
            for config in target.configs:
                alternative = statistic(results, target, config, target.dtype)
                if not np.isnan(alternative):
                    fallback = f"{chosen} (the evidence's choice) has no cells here"
                    chosen, value = config, alternative
                    break
        ours = statistic(results, target, target.ours) if target.ours and not svd_row else np.nan
        verdict = _verdict(target, svd if svd_row else value, svd)
        rows.append(
            {
                "study": f"study {target.study}",
                "experiment": target.experiment,
                "quantity": target.reported_as,
                "reported": target.printed or as_printed(target.reported),
                "study_config": value,
                "config": "" if svd_row else chosen,
                "svd": svd,
                "ours": ours,
                "ours_method": target.ours if not svd_row else "",
                "verdict": verdict,
                "criterion": target.criterion,
                "run": target.run,
                "note": "; ".join(
                    filter(None, [fallback, _note(results, target, chosen, svd, verdict)])
                ),
            }
        )
    for answers in known_answers:
        rows += answers(res)
    return pd.DataFrame(rows)


def not_run(rows: pd.DataFrame) -> pd.DataFrame:
    """The reproduction rows a run has no cells for, counted by the study that fills them."""
    if rows.empty:
        return pd.DataFrame()
    counts = rows.groupby(["study", "run"], sort=True).size().rename("reported_numbers")
    table = counts.reset_index()
    return table.assign(command="python -m nnbench run --study " + table.run).drop(columns="run")


def reproduction_tables(
    targets: Sequence[Target],
    known_answers: Sequence[KnownAnswers] = (),
    answer_cells: Sequence[Draws] = (),
) -> tuple[TableSpec, ...]:
    """The report's reproduction sections for these targets: the table of the numbers the
    run measured, the evidence for each chosen configuration, and the rows not run.
    `answer_cells` name the cells whose kept factors the known answers read."""

    # the table of the report being built, made once for its two sections (a weak reference:
    # the run's results are not kept alive after its report)
    last: dict[str, tuple[weakref.ref[Results], pd.DataFrame]] = {}

    def reproduced(res: Results) -> pd.DataFrame:
        if "table" not in last or last["table"][0]() is not res:
            last["table"] = (weakref.ref(res), reproduction_table(res, targets, known_answers))
        return last["table"][1].copy()

    def table(res: Results) -> pd.DataFrame:
        full = reproduced(res)
        return full[full.verdict != "not run"] if len(full) else full

    def missing(res: Results) -> pd.DataFrame:
        """Left out where the run measured no reported number (a user's own grid)."""
        full = reproduced(res)
        if not len(full) or (full.verdict == "not run").all():
            return pd.DataFrame()
        return not_run(full[full.verdict == "not run"])

    def configs(res: Results) -> pd.DataFrame:
        return config_choice(res, targets).dropna(subset=["median_abs_log10_ratio"])

    rules = "; ".join(f"{name}: {c.rule}" for name, c in CRITERIA.items())
    return (
        TableSpec(
            name="reproduction",
            title="Reproduction: the studies' numbers beside ours (2-norm relative errors)",
            nav="Reproduction",
            make=table,
            leading=True,
            draws=lambda res: {drawn for cells in answer_cells for drawn in cells(res)},
            digits=6,  # the re-runs sit beside numbers printed with up to 6 (2.59375, 1.00146)
            note="Verdicts: reproduced / not reproduced / different matrix (the study's matrix "
            "is not ours: not scored) / not run. Thresholds, by the row's criterion: "
            f"{rules}. study_config is the chosen re-run of the study's configuration (next "
            "table); ours is our best method on the same matrix and metric (blank where none "
            "is like for like: the note says why).",
        ),
        TableSpec(
            name="reproduction_configs",
            title="Reproduction: which re-run is the study configuration (evidence)",
            nav="Study configs",
            make=configs,
            leading=True,
            note="Where the study's configuration is ambiguous, each candidate was run; the "
            "one closest to the study's numbers (smallest median |log10(re-run / reported)| "
            "over the rows it answers) is the table's study_config.",
        ),
        TableSpec(
            name="reproduction_not_run",
            title="Reproduction rows this run did not measure, and the studies that fill them",
            nav="Not run",
            make=missing,
        ),
    )
