"""The source studies' reported numbers, and ours beside them (SPEC.md's reproduction table).

Each `Target` is one number a study printed. Its verdict is one of `VERDICTS`, judged by the
target's criterion; `CRITERIA` states every threshold and the report prints them. Where the
study's configuration is ambiguous (study 002's biases, study 000's optimizer), every
candidate re-run is shown and the evidence picks the one the table calls "study config": the
candidate closest to the study's numbers over all targets that share the candidates (median
|log10(re-run / reported)|; `config_choice` shows the scores). `reproduction_table` is a pure
function of the results."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbench.methods import Method, select_methods
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


LU_CONFIGS = ("neural-lu-study-final", "neural-lu-study-appendix")
LU_LOSS_NOTE = (
    "ours: no like-for-like number (hybrid-lu-newton minimises ||LU - P^T A||_F^2 / n^2 on the "
    "identity batch, not this MSE on U[0,1) rows); the printed-product row compares errors"
)


def _study000() -> list[Target]:
    reported = (
        ("study000-a", "[[10,20],[30,40]]", 4.38e-12),
        ("study000-b", "[[2,10],[8,13]] (study: poor fit)", 1.40e-5),
        ("study000-c", "[[100,3],[60,0.4]]", 3.68e-11),
    )
    targets = [
        Target(
            "000",
            f"neural LU of {label}",
            matrix,
            2,
            None,
            "final_loss",
            value,
            "final loss",
            LU_CONFIGS,
            "study000-reproduce",
            criterion="factor 10",
            dtype="float32",
            note=LU_LOSS_NOTE,
        )
        for matrix, label, value in reported
    ]
    # The study prints its poor product LU = [[2.0130, 9.9969], [7.9938, 13.0008]] for
    # [[2, 10], [8, 13]]; its relative 2-norm error is what our re-runs' errors compare with.
    a = np.array([[2.0, 10.0], [8.0, 13.0]])
    product = np.array([[2.0130, 9.9969], [7.9938, 13.0008]])
    error = float(np.linalg.norm(a - product, 2) / np.linalg.norm(a, 2))
    targets.append(
        Target(
            "000",
            "neural LU of [[2,10],[8,13]]: its printed LU product",
            "study000-b",
            2,
            None,
            "rel_err_2",
            error,
            "rel. 2-norm error",
            LU_CONFIGS,
            "study000-reproduce",
            ours="hybrid-lu-newton[pivot=false]",
            dtype="float32",
            note="ours on the same matrix without row exchanges (pivot=false), same metric",
        )
    )
    return targets


LOWRANK_CONFIGS = ("neural-lowrank-study", "neural-lowrank-study[bias=false]")
IMAGE_CONFIGS = ("neural-lowrank-study-image", "neural-lowrank-study-image[bias=false]")
WHEEL_CONFIGS = ("neural-lowrank-study-wheel", "neural-lowrank-study-wheel[bias=false]")
IDENTITY_NOTE = (
    "in the 2-norm every rank-20 approximation of I, zero included, has error >= 1, so this "
    "row cannot tell a good network from a bad one; the Frobenius errors can: "
)


def _study002() -> list[Target]:
    def t(experiment, matrix, n, rank, statistic, reported, reported_as, **kw):
        kw.setdefault("configs", LOWRANK_CONFIGS)
        return Target(
            "002",
            experiment,
            matrix,
            n,
            rank,
            statistic,
            reported,
            reported_as,
            run="study002-reproduce",
            ours="hybrid-lowrank-als",
            **kw,
        )

    identity = ("identity 50, k=20", "identity", 50, 20, "rel_err_2")
    targets = [
        t(*identity, 1.0, "SVD error", criterion="digits"),
        t(*identity, 1.00146, "NN error", svd_reported=1.0),
    ]
    for matrix, label in (("diagonal-mn0", "diag(0..49)"), ("diagonal-mn", "diag(1..50)")):
        experiment = f"M_50 = {label}, k=20"
        targets += [
            t(experiment, matrix, 50, 20, "rel_err_2", 0.5918, "SVD error", criterion="digits"),
            t(experiment, matrix, 50, 20, "rel_err_2", 0.6417, "NN error", svd_reported=0.5918),
        ]
    random_diffs = (0.0005, 0.0519, 0.0773, 0.0768, 0.0923, 0.0919, 0.1351, 0.1373, 0.1550)
    symmetric_diffs = (0.0199, 0.0478, 0.0646, 0.0658, 0.1128, 0.1238, 0.1439, 0.1279, 0.1596)
    for matrix, diffs in (("random-uniform", random_diffs), ("symmetric", symmetric_diffs)):
        targets += [
            t(f"{matrix} 10x10, k={k}", matrix, 10, k, "diff_to_svd", d, "mean |NN - SVD|")
            for k, d in enumerate(diffs, start=1)
        ]
    image = {"configs": IMAGE_CONFIGS, "stand_in": True}
    targets += [
        t("logo 256x256, k=10", "image-logo", 256, 10, "rel_err_2", 0.02859, "NN error",
          criterion="excess", svd_reported=0.01585, **image),
        t("logo 256x256, k=10", "image-logo", 256, 10, "rel_err_2", 0.01585, "SVD error",
          criterion="digits", **image),
        t("photo 400x400, k=1", "image-camera", 400, 1, "diff_to_svd", 0.0013, "|NN - SVD|",
          criterion="matches svd", **image),
        t("photo 400x400, k=10", "image-camera", 400, 10, "rel_err_2", np.nan, "NN error",
          criterion="failed", printed="failed (unrecognisable)", **image),
        t("colour wheel 10x10, k=5", "colour-wheel", 10, 5, "diff_to_svd", 0.0324, "|NN - SVD|",
          configs=WHEEL_CONFIGS, stand_in=True),
    ]  # fmt: skip
    return targets


TARGETS: tuple[Target, ...] = (*_study000(), *_study002())


@functools.cache
def canonical_method(name: str) -> Method:
    """The method a name (a variant's too) selects."""
    return select_methods(name)[0]


def canonical(name: str) -> str:
    """A method name (a variant's too) as results rows spell it (`[bias=false]` ->
    `[bias=False]`)."""
    return canonical_method(name).name


def _cells(results: pd.DataFrame, target: Target, method: str, dtype: str) -> pd.DataFrame:
    r = results
    keep = (r.matrix == target.matrix) & (r.n == target.n) & (r.method == canonical(method))
    if target.rank is not None:
        keep &= r["rank"] == target.rank
    return r[keep & (r.status == "ok") & (r.dtype == dtype)]


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


def config_choice(res: Results) -> pd.DataFrame:
    """For each set of candidate configurations, each candidate's distance to the study's
    numbers and whether the evidence chose it (the smallest median |log10 ratio|)."""
    results = res.results
    rows = []
    for configs in dict.fromkeys(t.configs for t in TARGETS):
        targets = [t for t in TARGETS if t.configs == configs and t.criterion in COMPARED]
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
                    "candidates": " / ".join(map(canonical, configs)),
                    "config": canonical(config),
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
    picked = choice[(choice.candidates == " / ".join(map(canonical, configs))) & choice.chosen]
    return str(picked.config.iloc[0]) if len(picked) else canonical(configs[0])


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
    if target.matrix == "identity" and target.reported_as == "NN error":
        fro = {
            label: statistic(results, target, method, name="rel_err_fro")
            for label, method in (("study config", chosen), ("SVD", SVD), ("ours", target.ours))
        }
        parts.append(IDENTITY_NOTE + ", ".join(f"{k} {v:.4g}" for k, v in fro.items()))
    if target.criterion == "excess" and not np.isnan(svd):
        value = statistic(results, target, chosen, target.dtype)
        parts.append(
            f"NN/SVD: study {target.reported / target.svd_reported:.3g}, "
            f"study config {value / svd:.3g}"
        )
    if verdict == "not reproduced" and len(target.configs) > 1:
        tried = [
            f"{canonical(c)} {statistic(results, target, c, target.dtype):.3g}"
            for c in target.configs
        ]
        parts.append("tried: " + ", ".join(tried))
    if verdict == "not reproduced" and target.criterion == "failed":
        from nnbench.report.study002 import photo_hypotheses  # it names methods as we do

        tried = photo_hypotheses(results)
        tried = tried[tried.n == target.n]
        if len(tried):
            outcomes = [
                f"{row.change}: NN/SVD {row.nn_over_svd:.3g}"
                + (" (fails like the study)" if row.reproduces_failure else "")
                for row in tried.itertuples()
            ]
            parts.append("hypotheses (study 002 photo table): " + "; ".join(outcomes))
    return "; ".join(parts)


STUDY_004 = {  # study 004's worked Doolittle LU of [[8,2,9],[4,9,4],[6,7,9]], as printed
    "det": 166.0,
    "L[1,0] (=0.5)": 0.5,
    "L[2,1] (=0.6875)": 0.6875,
    "U[1,2] (=-0.5)": -0.5,
    "U[2,2] (=2.59375)": 2.59375,
}
STUDY_004_TARGET = Target(
    "004", "Doolittle LU", "study004-doolittle", 3, None, "", 0.0, "", ("doolittle",),
    "worked-examples", criterion="exact",
)  # fmt: skip


def _study004_rows(res: Results) -> list[dict[str, object]]:
    """Study 004's worked example against the factors our `doolittle` cell kept."""
    r = res.results
    cells = r[(r.matrix == "study004-doolittle") & (r.method == "doolittle") & (r.status == "ok")]
    kept = [res.artifacts[c] for c in cells.cell_id if c in res.artifacts]
    ours = dict.fromkeys(STUDY_004, np.nan)
    if kept:
        lower, upper = kept[0].factors["L"], kept[0].factors["U"]
        ours = {
            "det": float(np.prod(np.diag(lower)) * np.prod(np.diag(upper))),
            "L[1,0] (=0.5)": float(lower[1, 0]),
            "L[2,1] (=0.6875)": float(lower[2, 1]),
            "U[1,2] (=-0.5)": float(upper[1, 2]),
            "U[2,2] (=2.59375)": float(upper[2, 2]),
        }

    def verdict(quantity: str) -> str:
        value, reported = ours[quantity], STUDY_004[quantity]
        if np.isnan(value):
            return "not run"
        target = dataclasses.replace(STUDY_004_TARGET, reported=reported)
        return "reproduced" if CRITERIA["exact"].holds(target, value, np.nan) else "not reproduced"

    return [
        {
            "study": "study 004",
            "experiment": "Doolittle LU of [[8,2,9],[4,9,4],[6,7,9]]",
            "quantity": quantity,
            "reported": as_printed(reported),
            "study_config": ours[quantity],
            "config": "doolittle",
            "svd": np.nan,
            "ours": np.nan,
            "ours_method": "",
            "verdict": verdict(quantity),
            "criterion": "exact",
            "run": "worked-examples",
            "note": "the study's worked elimination is the textbook Doolittle algorithm",
        }
        for quantity, reported in STUDY_004.items()
    ]


def as_printed(value: float) -> str:
    """A reported number as the study printed it (1.00146, 4.38e-12, 166: none has more than
    6 significant digits), not rounded by a table's float format; '' where it gave none."""
    return "" if np.isnan(value) else f"{value:.6g}"


def reproduction_table(res: Results) -> pd.DataFrame:
    """One row per reported number: the study's value (as printed), the chosen re-run of the
    study's configuration, our truncated SVD, our best method on the same matrix and metric,
    a verdict from `VERDICTS` by the target's criterion, and a note on what differs or was
    tried."""
    results = res.results
    choice = config_choice(res)
    rows = []
    for target in TARGETS:
        chosen = _chosen(choice, target.configs)
        svd = _svd_error(results, target)
        svd_row = target.reported_as == "SVD error"  # the verdict judges our SVD's error
        value = np.nan if svd_row else statistic(results, target, chosen, target.dtype)
        fallback = ""
        if np.isnan(value) and not svd_row:  # the evidence's choice did not run on this target
            for config in map(canonical, target.configs):
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
                "ours_method": canonical(target.ours) if target.ours and not svd_row else "",
                "verdict": verdict,
                "criterion": target.criterion,
                "run": target.run,
                "note": "; ".join(
                    filter(None, [fallback, _note(results, target, chosen, svd, verdict)])
                ),
            }
        )
    return pd.DataFrame([*rows, *_study004_rows(res)])
