"""Medians with their 95% bootstrap intervals, spreads and status counts, and their text:
the one place the report and the studies take them from (pure functions, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

RESAMPLES = 2000
SEED = 0  # fixed: the same results give the same intervals


class MedianInterval(NamedTuple):
    """A median with its 95% bootstrap interval (NaN throughout: no finite value)."""

    median: float
    low: float
    high: float


def median_interval(
    values: np.ndarray, *, resamples: int = RESAMPLES, seed: int = SEED
) -> MedianInterval:
    """Median of the finite `values` (shape (k,)) and its 95% percentile-bootstrap interval
    (`resamples` draws with replacement)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return MedianInterval(math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = np.median(rng.choice(values, size=(resamples, values.size)), axis=1)
    low, high = np.percentile(draws, [2.5, 97.5])
    return MedianInterval(float(np.median(values)), float(low), float(high))


def median_interval_text(interval: MedianInterval) -> str:
    """ "0.52 [0.4, 0.61]", "220 [200, 230]" (not "2.2e+02") to two significant digits; "n/a"
    where there is no median."""
    median, low, high = interval
    if not math.isfinite(median):
        return "n/a"
    return f"{number_text(median)} [{number_text(low)}, {number_text(high)}]"


def number_text(x: float) -> str:
    """Two significant digits, positional from 0.001 to 100,000 ("220", "0.0031", a whole
    number below 100 as itself: "1"), else exponential ("4.5e-05")."""
    if not math.isfinite(x) or x == 0 or not 1e-3 <= abs(x) < 1e5:
        return f"{x:.2g}"
    return f"{x:.0f}" if x == round(x) and abs(x) < 100 else two_digits(x)  # a count: "1"


def median_text(values: np.ndarray) -> str:
    """The median of `values` with its 95% bootstrap interval, in text (`median_interval`,
    `median_interval_text`)."""
    return median_interval_text(median_interval(values))


def _resampled_medians(times: Sequence[float], draws: int, rng: np.random.Generator) -> np.ndarray:
    """`draws` medians of `times` drawn with replacement, shape (draws,)."""
    t = np.asarray(times, dtype=float)
    return np.median(t[rng.integers(0, t.size, (draws, t.size))], axis=1)


def ratio_interval(
    times: Sequence[tuple[Sequence[float], Sequence[float]]],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float]:
    """The 95% percentile-bootstrap interval of the median over problems of a group's time /
    the classical time. `times` holds per problem the group's repeated times and the
    classical method's (their medians are the points' `time_s`). Two levels: each resample
    draws the problems with replacement, then for each drawn problem its repeated times,
    each side apart. (NaN, NaN) where nothing can vary: one problem, each side timed once."""
    if not times or (len(times) == 1 and all(len(side) == 1 for side in times[0])):
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    ratios = np.stack(
        [
            _resampled_medians(own, resamples, rng) / _resampled_medians(ref, resamples, rng)
            for own, ref in times
        ]
    )  # (problems, resamples): each problem's ratio under resampled times
    count = len(times)
    drawn = rng.integers(0, count, (resamples, count))
    redrawn = rng.integers(0, resamples, (resamples, count))  # its times, drawn anew each time
    medians = np.median(ratios[drawn, redrawn], axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return float(low), float(high)


def median_ratio(pairs: Sequence[tuple[Sequence[float], Sequence[float]]]) -> MedianInterval:
    """Median over problems of (the median of a side's repeated values / the other side's),
    with `ratio_interval`'s two-level interval (problems, then each one's repeats); NaNs
    where there is no pair."""
    if not pairs:
        return MedianInterval(math.nan, math.nan, math.nan)
    point = float(np.median([np.median(own) / np.median(ref) for own, ref in pairs]))
    return MedianInterval(point, *ratio_interval(pairs))


def two_digits(x: float) -> str:
    """`x` to two significant digits, positional (1200, 78, 7.9, 0.52, 0.0012)."""
    if not np.isfinite(x) or x == 0:
        return f"{x:g}"
    rounded = round(x, 1 - int(np.floor(np.log10(abs(x)))))
    decimals = 1 - int(np.floor(np.log10(abs(rounded))))  # again: 9.96 rounds to 10
    return f"{rounded:.{max(decimals, 0)}f}"


def interval_text(low: float, high: float) -> str:
    """A ratio's interval in brackets, "[4.1, 9.5]", or why there is none."""
    if not np.isfinite(low):
        return "[no interval: one problem, timed once]"
    return f"[{two_digits(low)}, {two_digits(high)}]"


def ratio_text(ratio: float, low: float, high: float) -> str:
    """A time ratio in words with its interval: "7.9× slower [4.1, 9.5]", "0.52× (faster)
    [0.40, 0.61]", "1.2× (not clearly slower or faster) [0.93, 1.4]" where the interval
    holds 1; "" where there is none."""
    if not np.isfinite(ratio):
        return ""
    shown = two_digits(ratio)
    if np.isfinite(low) and low <= 1 <= high:  # the interval holds 1: no clear difference
        return f"{shown}× (not clearly slower or faster) {interval_text(low, high)}"
    way = "slower" if float(shown) > 1 else "(faster)" if float(shown) < 1 else "(as fast)"
    return f"{shown}× {way} {interval_text(low, high)}"


def range_text(times: Sequence[float]) -> str:
    """The range of a point's cell times (its matrix instances and runs), " [low, high]" to
    two significant digits; "" for a single time or where they agree to two digits."""
    low, high = two_digits(float(np.min(times))), two_digits(float(np.max(times)))
    return "" if low == high else f" [{low}, {high}]"


def status_counts(cells: pd.DataFrame, *, total: str = "matrices") -> dict[str, int]:
    """How many `cells` there are (under the name `total`) and how many ended `ok`,
    `diverged` and `skipped`."""
    return {
        total: len(cells),
        "ok": int((cells.status == "ok").sum()),
        "diverged": int((cells.status == "diverged").sum()),
        "skipped": int((cells.status == "skipped").sum()),
    }


def _instances(group: pd.DataFrame) -> dict[str, int]:
    """How many matrices a group of cells holds, and runs of each where there are several
    (its cells count matrices x runs: "matrices 60" was 20 matrices x 3 runs)."""
    seeds = group.matrix_seed.nunique() if "matrix_seed" in group else len(group)
    runs = group.run.nunique() if "run" in group else 1
    return {"matrices": int(seeds), **({"runs": int(runs)} if runs > 1 else {})}


def interval_summary(
    cells: pd.DataFrame,
    by: Sequence[str],
    measured: Mapping[str, str],
    describe: Callable[[dict[str, object], pd.DataFrame], dict[str, object]],
) -> pd.DataFrame:
    """One row per group of `cells` by the columns `by`, in order: the leading columns that
    `describe(key, group)` gives (`key`: the group's value of each `by` column), its matrices
    (and runs), the status counts of its cells (`status_counts`), and for each measured
    column (column -> label) the median [95% bootstrap interval] over the group's `ok` cells
    (`median_text`)."""
    rows = []
    for key, group in cells.groupby(list(by), sort=True):
        ok = group[group.status == "ok"]
        row = {**describe(dict(zip(by, key, strict=True)), group), **_instances(group)}
        row.update(status_counts(group, total="cells"))
        for column, label in measured.items():
            row[label] = median_text(ok[column].to_numpy(float))
        rows.append(row)
    return pd.DataFrame(rows)
